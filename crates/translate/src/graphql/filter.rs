//! A GraphQL `<table>_bool_exp` argument (`where`) → `BoolExp`.
//!
//! GraphQL names (custom column names, relationship names) are mapped back to Postgres names;
//! every value is a literal (a client never names a session variable). Conditions through a
//! relationship carry the target's select filter, so a role cannot probe rows it may not read.
//! A `null` in place of an expression (`where: null`, `_and: null`, `{id: null}`) imposes
//! nothing; a `null` operand is compared as SQL NULL (`{_eq: null}` matches no row), as in
//! Hasura v2 (which dropped v1's "null collapse").

use super::context::{Access, GqlContext, readable_column};
use super::error::GraphqlError;
use super::select::related;
use crate::ir;
use graft_metadata::QualifiedTable;
use graft_schema::{
    BoolExp, ColumnInfo, ColumnOp, ComparisonOp, ComputedCall, ComputedResult, Operand, TableModel,
};
use serde_json::Value;

pub(crate) fn parse(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    value: &Value,
    path: &str,
) -> Result<BoolExp, GraphqlError> {
    let map = match value {
        Value::Null => return Ok(BoolExp::always_true()),
        Value::Object(map) => map,
        _ => {
            return Err(GraphqlError::validation(
                "expected an object for a boolean expression",
                path,
            ));
        }
    };
    let mut items = Vec::with_capacity(map.len());
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let here = format!("{path}.{key}");
        items.push(parse_key(ctx, table, access, key, value, &here)?);
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        BoolExp::And(items)
    })
}

fn parse_key(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    key: &str,
    value: &Value,
    path: &str,
) -> Result<BoolExp, GraphqlError> {
    match key {
        "_and" => Ok(BoolExp::And(parse_list(ctx, table, access, value, path)?)),
        "_or" => Ok(BoolExp::Or(parse_list(ctx, table, access, value, path)?)),
        "_not" => Ok(BoolExp::Not(Box::new(parse(
            ctx, table, access, value, path,
        )?))),
        "_exists" => parse_exists(ctx, value, path),
        _ => {
            if let Some(column) = readable_column(table, &access, key) {
                return parse_column(table, access, column, value, path);
            }
            if let Some((relationship, target, target_access)) = related(ctx, table, key) {
                let predicate = parse(ctx, target, target_access, value, path)?;
                return Ok(BoolExp::Relationship {
                    target: target.name.clone(),
                    mapping: relationship.mapping.clone(),
                    predicate: Box::new(ir::and(vec![predicate, target_access.filter()])),
                });
            }
            if let Some(computed) = table.computed_fields.get(key) {
                return parse_computed(ctx, computed, access, value, path);
            }
            if key.ends_with("_aggregate") {
                return Err(GraphqlError::not_supported(
                    "aggregate predicates in boolean expressions are not supported yet",
                    path,
                ));
            }
            Err(GraphqlError::validation(
                format!("field '{key}' not found in boolean expression"),
                path,
            ))
        }
    }
}

fn parse_list(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    value: &Value,
    path: &str,
) -> Result<Vec<BoolExp>, GraphqlError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse(ctx, table, access, item, &format!("{path}[{i}]")))
            .collect(),
        // GraphQL input coercion accepts one object where a list is expected.
        other => Ok(vec![parse(ctx, table, access, other, path)?]),
    }
}

/// `_exists: {_table: {schema, name}, _where: {...}}`: some row of another table matches.
fn parse_exists(ctx: &GqlContext<'_>, value: &Value, path: &str) -> Result<BoolExp, GraphqlError> {
    let name: QualifiedTable = value
        .get("_table")
        .cloned()
        .and_then(|t| serde_json::from_value(t).ok())
        .ok_or_else(|| GraphqlError::validation("expected a table in \"_table\"", path))?;
    let (table, access) = ctx
        .source
        .table(&name)
        .and_then(|t| Some((t, ctx.access(t)?)))
        .ok_or_else(|| GraphqlError::validation(format!("table \"{name}\" not found"), path))?;
    let where_ = value.get("_where").unwrap_or(&Value::Null);
    let predicate = parse(ctx, table, access, where_, &format!("{path}._where"))?;
    Ok(BoolExp::Exists {
        table: name,
        predicate: Box::new(ir::and(vec![predicate, access.filter()])),
    })
}

/// `{_eq: 1, _lt: 5}`: the comparisons on one column, ANDed.
fn parse_column(
    table: &TableModel,
    access: Access<'_>,
    column: &ColumnInfo,
    value: &Value,
    path: &str,
) -> Result<BoolExp, GraphqlError> {
    let Value::Object(ops) = value else {
        return Err(GraphqlError::validation(
            "expected an object for a comparison expression",
            path,
        ));
    };
    let mut items = Vec::with_capacity(ops.len());
    for (key, operand) in ops {
        let here = format!("{path}.{key}");
        if key == "_cast" {
            return Err(GraphqlError::not_supported(
                "\"_cast\" is not supported yet",
                here,
            ));
        }
        let (op, is_column) = ComparisonOp::from_key(key)
            .filter(|_| key.starts_with('_'))
            .ok_or_else(|| {
                GraphqlError::validation(format!("unexpected operator \"{key}\""), &here)
            })?;
        let mut hidden_when = Vec::new();
        let value = if is_column {
            let name = operand.as_str().unwrap_or_default();
            let other = readable_column(table, &access, name).ok_or_else(|| {
                GraphqlError::validation(format!("unexpected column \"{name}\""), &here)
            })?;
            hidden_when.extend(access.redaction(&other.name).map(|c| *c));
            Operand::Column {
                column: other.name.clone(),
                root: false,
            }
        } else {
            Operand::Literal(operand.clone())
        };
        hidden_when.extend(access.redaction(&column.name).map(|c| *c));
        let comparison = BoolExp::Column {
            column: column.name.clone(),
            pg_type: column.pg_type.clone(),
            op: ColumnOp { op, value },
        };
        items.push(redacted_comparison(comparison, hidden_when, op, operand));
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        BoolExp::And(items)
    })
}

/// A comparison on columns an inherited role sees only in some rows: in the other rows the
/// columns read as null, so the comparison never looks at their values there. It holds where
/// every column is visible and the comparison holds, and, for `_is_null: true` alone, in the
/// rows where some column is hidden (its value is null for the role).
fn redacted_comparison(
    comparison: BoolExp,
    visible: Vec<BoolExp>,
    op: ComparisonOp,
    operand: &Value,
) -> BoolExp {
    if visible.is_empty() {
        return comparison;
    }
    let mut shown = visible.clone();
    shown.push(comparison);
    let shown = BoolExp::And(shown);
    if op == ComparisonOp::IsNull && operand == &Value::Bool(true) {
        BoolExp::Or(vec![shown, BoolExp::Not(Box::new(BoolExp::And(visible)))])
    } else {
        shown
    }
}

/// A computed field in a filter: comparisons on a scalar one's value, or (for one returning
/// rows) some returned row matching, with the returned table's select filter.
fn parse_computed(
    ctx: &GqlContext<'_>,
    computed: &graft_schema::ComputedFieldInfo,
    access: Access<'_>,
    value: &Value,
    path: &str,
) -> Result<BoolExp, GraphqlError> {
    let function = &computed.function;
    let not_found = || {
        GraphqlError::validation(
            format!("field '{}' not found in boolean expression", computed.name),
            path,
        )
    };
    let call = ComputedCall {
        function: graft_metadata::QualifiedFunction::new(
            &function.name.schema,
            &function.name.name,
        ),
        table_argument: computed.table_argument,
        session_argument: computed.session_argument,
        argument_count: computed
            .table_argument
            .max(computed.session_argument.unwrap_or(0))
            + 1,
    };
    if let Some(returned) = &function.return_table {
        let target_name = QualifiedTable::new(&returned.schema, &returned.name);
        let (target, target_access) = ctx
            .source
            .table(&target_name)
            .and_then(|t| Some((t, ctx.access(t)?)))
            .ok_or_else(not_found)?;
        let predicate = parse(ctx, target, target_access, value, path)?;
        return Ok(BoolExp::ComputedField {
            call,
            result: ComputedResult::Rows {
                target: target_name,
                predicate: Box::new(ir::and(vec![predicate, target_access.filter()])),
            },
        });
    }
    if !access.allows_computed_field(&computed.name) {
        return Err(not_found());
    }
    let Value::Object(ops) = value else {
        return Err(GraphqlError::validation(
            "expected an object for a comparison expression",
            path,
        ));
    };
    let mut items = Vec::with_capacity(ops.len());
    for (key, operand) in ops {
        let here = format!("{path}.{key}");
        let (op, is_column) = ComparisonOp::from_key(key)
            .filter(|_| key.starts_with('_'))
            .ok_or_else(|| {
                GraphqlError::validation(format!("unexpected operator \"{key}\""), &here)
            })?;
        if is_column {
            return Err(GraphqlError::not_supported(
                "column comparisons on computed fields are not supported",
                here,
            ));
        }
        items.push(BoolExp::ComputedField {
            call: call.clone(),
            result: ComputedResult::Scalar {
                pg_type: function.return_type.clone(),
                op: ColumnOp {
                    op,
                    value: Operand::Literal(operand.clone()),
                },
            },
        });
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        BoolExp::And(items)
    })
}
