//! GraphQL selections of tables → `SelectIr` / `AggregateIr`: list and by-primary-key root
//! fields, aggregate fields, and the nested object, array and aggregate relationships of a
//! selection set, with the role's filter and limit applied at every table reached.

use super::context::{Access, GqlContext, require_column};
use super::error::GraphqlError;
use super::{filter, order_by};
use crate::ir::{
    self, AggregateColumn, AggregateFunction, AggregateIr, AggregateOutput, AggregateValue,
    FieldIr, FunctionSource, OrderByIr, OrderByTarget, RelationshipAggregateField,
    RelationshipField, SelectIr,
};
use graft_gql::Field;
use graft_schema::{BoolExp, ColumnOp, ComparisonOp, Operand, RelationshipKind, TableModel};
use indexmap::IndexMap;
use serde_json::Value;

/// `article(where, order_by, limit, offset, distinct_on) { ... }`: a list of objects.
pub(crate) fn list_select(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    field: &Field,
    path: &str,
) -> Result<SelectIr, GraphqlError> {
    let mut select = rows(ctx, table, access, &field.arguments, path)?;
    select.fields = fields(ctx, table, access, &field.selection, path)?;
    Ok(select)
}

/// `article_by_pk(id: 1) { ... }`: the row with that primary key, if the role may see it.
pub(crate) fn by_pk_select(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    field: &Field,
    path: &str,
) -> Result<SelectIr, GraphqlError> {
    let mut conditions = Vec::with_capacity(table.primary_key.len() + 1);
    for name in &table.primary_key {
        let column = table
            .column(name)
            .ok_or_else(|| GraphqlError::validation(format!("no column \"{name}\""), path))?;
        let value = field
            .arguments
            .get(&column.graphql_name)
            .cloned()
            .unwrap_or(Value::Null);
        conditions.push(BoolExp::Column {
            column: column.name.clone(),
            pg_type: column.pg_type.clone(),
            op: ColumnOp {
                op: ComparisonOp::Eq,
                value: Operand::Literal(value),
            },
        });
    }
    conditions.push(access.filter());
    Ok(SelectIr {
        table: table.name.clone(),
        fields: fields(ctx, table, access, &field.selection, path)?,
        filter: ir::and(conditions),
        order_by: Vec::new(),
        limit: None,
        offset: None,
        distinct_on: Vec::new(),
        from_function: None,
    })
}

/// `article_aggregate(...) { aggregate { count sum { .. } } nodes { .. } }`.
pub(crate) fn aggregate_select(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    field: &Field,
    path: &str,
) -> Result<AggregateIr, GraphqlError> {
    let has_aggregates = field.selection.iter().any(|f| f.name == "aggregate");
    // Aggregates see every row the filter allows; only `nodes` obey the permission's limit.
    let row_access = if has_aggregates {
        access.without_limit()
    } else {
        access
    };
    let rows = rows(ctx, table, row_access, &field.arguments, path)?;
    let mut output = Vec::with_capacity(field.selection.len());
    for sub in &field.selection {
        let here = format!("{path}.selectionSet.{}", sub.alias);
        let value = match sub.name.as_str() {
            "__typename" => AggregateOutput::Typename(sub.parent_type.clone()),
            "nodes" => AggregateOutput::Nodes(fields(ctx, table, access, &sub.selection, &here)?),
            "aggregate" => {
                AggregateOutput::Aggregate(aggregate_values(ctx, table, access, sub, &here)?)
            }
            other => return Err(GraphqlError::field_not_found(other, &sub.parent_type, here)),
        };
        output.push((sub.alias.clone(), value));
    }
    Ok(AggregateIr {
        rows,
        output,
        nodes_limit: access.limit().filter(|_| has_aggregates),
        redacted: access.redactions(),
    })
}

fn aggregate_values(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    field: &Field,
    path: &str,
) -> Result<Vec<(String, AggregateValue)>, GraphqlError> {
    let mut values = Vec::with_capacity(field.selection.len());
    for sub in &field.selection {
        let here = format!("{path}.selectionSet.{}", sub.alias);
        let value = match sub.name.as_str() {
            "__typename" => AggregateValue::Typename(sub.parent_type.clone()),
            "count" => {
                let columns = match sub.arguments.get("columns") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items.iter().collect(),
                    Some(single) => vec![single],
                };
                let columns = columns
                    .into_iter()
                    .map(|c| {
                        let name = c.as_str().unwrap_or_default();
                        let column = require_column(table, &access, name, &sub.parent_type, &here)?;
                        Ok(column.name.clone())
                    })
                    .collect::<Result<Vec<_>, GraphqlError>>()?;
                let distinct = sub.arguments.get("distinct") == Some(&Value::Bool(true));
                AggregateValue::Count { columns, distinct }
            }
            name => {
                let function = AggregateFunction::from_name(name)
                    .ok_or_else(|| GraphqlError::field_not_found(name, &sub.parent_type, &here))?;
                let mut columns = Vec::with_capacity(sub.selection.len());
                for column in &sub.selection {
                    let value = if column.name == "__typename" {
                        AggregateColumn::Typename(column.parent_type.clone())
                    } else {
                        let info = require_column(
                            table,
                            &access,
                            &column.name,
                            &column.parent_type,
                            &format!("{here}.selectionSet.{}", column.alias),
                        )?;
                        AggregateColumn::Column(ctx.column_value(info))
                    };
                    columns.push((column.alias.clone(), value));
                }
                AggregateValue::Function { function, columns }
            }
        };
        values.push((sub.alias.clone(), value));
    }
    Ok(values)
}

/// The output fields of a selection set on `table`.
fn fields(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    selection: &[Field],
    path: &str,
) -> Result<Vec<(String, FieldIr)>, GraphqlError> {
    let mut out = Vec::with_capacity(selection.len());
    for field in selection {
        let here = format!("{path}.selectionSet.{}", field.alias);
        let value = field_ir(ctx, table, access, field, &here)?;
        out.push((field.alias.clone(), value));
    }
    Ok(out)
}

fn field_ir(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    field: &Field,
    path: &str,
) -> Result<FieldIr, GraphqlError> {
    let name = field.name.as_str();
    if name == "__typename" {
        return Ok(FieldIr::Typename(field.parent_type.clone()));
    }
    if let Some(column) = super::context::readable_column(table, &access, name) {
        let mut value = ctx.column_value(column);
        value.redaction = access.redaction(&column.name);
        if let Some(Value::String(json_path)) = field.arguments.get("path") {
            let steps = super::json_path::parse(json_path).map_err(|message| {
                GraphqlError::validation(
                    format!("parse json path error: {message}"),
                    format!("{path}.args.path"),
                )
            })?;
            value.json_path = Some(steps);
        }
        return Ok(FieldIr::Column(value));
    }
    let not_found = || GraphqlError::field_not_found(name, &field.parent_type, path);
    if let Some(computed) = table
        .computed_fields
        .get(name)
        .filter(|c| graft_gql::is_scalar_computed(c) && access.allows_computed_field(name))
    {
        let mut value = super::function::computed_scalar(ctx, computed, &field.arguments, path)?;
        value.redaction = access.redaction(name);
        return Ok(FieldIr::Computed(value));
    }
    if let Some((computed, target, target_access)) =
        super::function::computed_rows(ctx, table, name)
    {
        let mut select = list_select(ctx, target, target_access, field, path)?;
        select.from_function = Some(FunctionSource {
            function: super::function::qualified_function(&computed.function),
            arguments: super::function::computed_arguments(computed, &field.arguments, path)?,
        });
        let kind = if computed.function.returns_set {
            RelationshipKind::Array
        } else {
            RelationshipKind::Object
        };
        return Ok(FieldIr::Relationship(RelationshipField {
            kind,
            mapping: Vec::new(),
            select: Box::new(select),
        }));
    }
    if let Some((relationship, target, target_access)) = related(ctx, table, name) {
        return Ok(FieldIr::Relationship(RelationshipField {
            kind: relationship.kind,
            mapping: relationship.mapping.clone(),
            select: Box::new(match relationship.kind {
                RelationshipKind::Object => SelectIr {
                    table: target.name.clone(),
                    fields: fields(ctx, target, target_access, &field.selection, path)?,
                    filter: target_access.filter(),
                    order_by: Vec::new(),
                    limit: None,
                    offset: None,
                    distinct_on: Vec::new(),
                    from_function: None,
                },
                RelationshipKind::Array => list_select(ctx, target, target_access, field, path)?,
            }),
        }));
    }
    let aggregated = name
        .strip_suffix("_aggregate")
        .and_then(|r| related(ctx, table, r));
    match aggregated {
        Some((relationship, target, target_access))
            if relationship.kind == RelationshipKind::Array
                && target_access.allows_aggregations() =>
        {
            let aggregate = aggregate_select(ctx, target, target_access, field, path)?;
            Ok(FieldIr::RelationshipAggregate(RelationshipAggregateField {
                mapping: relationship.mapping.clone(),
                aggregate: Box::new(aggregate),
            }))
        }
        _ => Err(not_found()),
    }
}

/// The relationship `name` of `table`, when the role may select from its target.
pub(crate) fn related<'a>(
    ctx: &GqlContext<'a>,
    table: &'a TableModel,
    name: &str,
) -> Option<(&'a graft_schema::Relationship, &'a TableModel, Access<'a>)> {
    let relationship = table.relationship(name)?;
    let target = ctx.table(relationship)?;
    let access = ctx.access(target)?;
    Some((relationship, target, access))
}

/// The rows a list or aggregate selects: the arguments `where`, `order_by`, `distinct_on`,
/// `limit`, `offset`, with the role's filter and limit applied. No output fields yet.
fn rows(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    args: &IndexMap<String, Value>,
    path: &str,
) -> Result<SelectIr, GraphqlError> {
    let args_path = format!("{path}.args");
    let client = match args.get("where") {
        Some(value) => filter::parse(ctx, table, access, value, &format!("{args_path}.where"))?,
        None => BoolExp::always_true(),
    };
    let mut order_by = match args.get("order_by") {
        Some(value) => {
            order_by::parse(ctx, table, access, value, &format!("{args_path}.order_by"))?
        }
        None => Vec::new(),
    };
    let distinct_on = distinct_on(table, access, args.get("distinct_on"), &args_path)?;
    if !distinct_on.is_empty() {
        if order_by.is_empty() {
            order_by = distinct_on
                .iter()
                .map(|c| OrderByIr {
                    path: Vec::new(),
                    target: OrderByTarget::Column(c.clone()),
                    direction: ir::OrderDirection::Asc,
                    nulls: None,
                    redaction: access.redaction(c),
                })
                .collect();
        } else if !distinct_matches_order(&distinct_on, &order_by) {
            return Err(GraphqlError::validation(
                "\"distinct_on\" columns must match initial \"order_by\" columns",
                &args_path,
            ));
        }
    }
    let limit = non_negative(args.get("limit"), &format!("{args_path}.limit"))?;
    let limit = match (limit, access.limit()) {
        (Some(asked), Some(cap)) => Some(asked.min(cap)),
        (asked, cap) => asked.or(cap),
    };
    Ok(SelectIr {
        table: table.name.clone(),
        fields: Vec::new(),
        filter: ir::and(vec![client, access.filter()]),
        order_by,
        limit,
        offset: non_negative(args.get("offset"), &format!("{args_path}.offset"))?,
        distinct_on,
        from_function: None,
    })
}

fn distinct_on(
    table: &TableModel,
    access: Access<'_>,
    value: Option<&Value>,
    args_path: &str,
) -> Result<Vec<String>, GraphqlError> {
    let names: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    };
    let path = format!("{args_path}.distinct_on");
    names
        .into_iter()
        .map(|name| {
            let name = name.as_str().unwrap_or_default();
            let column =
                super::context::readable_column(table, &access, name).ok_or_else(|| {
                    GraphqlError::validation(format!("unexpected value \"{name}\""), &path)
                })?;
            Ok(column.name.clone())
        })
        .collect()
}

/// Hasura's rule: the first `distinct_on.len()` order_by items are plain columns, and every
/// distinct column is among them.
fn distinct_matches_order(distinct_on: &[String], order_by: &[OrderByIr]) -> bool {
    let initial = &order_by[..distinct_on.len().min(order_by.len())];
    let columns: Vec<&String> = initial
        .iter()
        .filter_map(|item| match (&item.target, item.path.is_empty()) {
            (OrderByTarget::Column(c), true) => Some(c),
            _ => None,
        })
        .collect();
    columns.len() == initial.len() && distinct_on.iter().all(|d| columns.contains(&d))
}

fn non_negative(value: Option<&Value>, path: &str) -> Result<Option<u64>, GraphqlError> {
    let expected = |found: &str| {
        GraphqlError::validation(
            format!("expected a non-negative 32-bit integer for type 'Int', but found {found}"),
            path,
        )
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n.unsigned_abs())),
            Some(_) => Err(expected("an integer")),
            None => Err(expected("a number")),
        },
        Some(Value::String(_)) => Err(expected("a string")),
        Some(_) => Err(expected("another value")),
    }
}
