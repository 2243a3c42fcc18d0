//! `update_<t>(where, _set, _inc, _append, _prepend, _delete_key, _delete_elem,
//! _delete_at_path)`, `update_<t>_by_pk(pk_columns, ...)` and `update_<t>_many(updates)`.
//!
//! The rows updated are those matching the client's condition AND the update permission's
//! filter; the permission's presets are set too, and its check is evaluated on the new rows.
//! `update_<t>_many` is one statement per update, run in order, so each sees the rows the
//! previous one wrote (two updates of one row in one statement would conflict).

use super::insert::{Preset, preset_list};
use super::output::{self, RootRows, returning_list};
use super::query_parts::filter;
use super::{MutationContext, StatementBuilder, session_variables_of};
use crate::PreparedSql;
use crate::boolexp::{self, Scope, cast, column, table_name, type_name};
use crate::graphql::GraphqlError;
use crate::ir;
use crate::value::ParamFormat;
use graft_gql::{Field, MutationFieldKind};
use graft_schema::{BoolExp, ColumnInfo, ColumnOp, ComparisonOp, Operand, TableModel};
use graft_sql::ast::{ColumnName, Expr, Op, Statement, TypeName, Update};
use graft_sql::helpers::builtin;
use serde_json::{Map, Value};

/// The update operators, in the order their columns are set.
const OPERATORS: [&str; 7] = [
    "_set",
    "_inc",
    "_append",
    "_prepend",
    "_delete_key",
    "_delete_elem",
    "_delete_at_path",
];

pub(super) fn update_field(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    field: &Field,
    kind: MutationFieldKind,
    path: &str,
) -> Result<PreparedSql, GraphqlError> {
    let arguments: Map<String, Value> = field
        .arguments
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let single = kind == MutationFieldKind::UpdateByPk;
    let args_path = format!("{path}.args");
    let condition = if single {
        let pk = arguments.get("pk_columns").unwrap_or(&Value::Null);
        primary_key_condition(table, pk, &format!("{args_path}.pk_columns"))?
    } else {
        client_where(ctx, table, arguments.get("where"), &args_path)?
    };
    one_update(
        ctx, table, field, &arguments, condition, single, &args_path, path,
    )
}

/// One statement per entry of `updates`, in order.
pub(super) fn update_many(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    field: &Field,
    path: &str,
) -> Result<Vec<PreparedSql>, GraphqlError> {
    let updates: Vec<&Map<String, Value>> = match field.arguments.get("updates") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(update)) => vec![update],
        _ => Vec::new(),
    };
    let mut statements = Vec::with_capacity(updates.len());
    for (i, update) in updates.into_iter().enumerate() {
        let args_path = format!("{path}.args.updates[{i}]");
        let condition = client_where(ctx, table, update.get("where"), &args_path)?;
        statements.push(one_update(
            ctx, table, field, update, condition, false, &args_path, path,
        )?);
    }
    Ok(statements)
}

#[allow(clippy::too_many_arguments)]
fn one_update(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    field: &Field,
    arguments: &Map<String, Value>,
    condition: BoolExp,
    single: bool,
    args_path: &str,
    path: &str,
) -> Result<PreparedSql, GraphqlError> {
    let permission = ctx.update_permission(table, path)?;
    let mut builder = StatementBuilder::new(ctx.session());
    let alias = builder.sql.aliases.next_alias();
    let mut set = operator_values(table, arguments, &alias, &mut builder, args_path)?;
    let mut session_variables = Vec::new();
    let mut filter = condition;
    let mut check = None;
    if let Some(permission) = permission {
        for (name, preset) in preset_list(&permission.set) {
            let Some(column) = table.column(&name) else {
                continue;
            };
            let value = match preset {
                Preset::Literal(value) => builder.sql.column_literal(&value, &column.pg_type),
                Preset::Session(variable) => {
                    let value = cast(
                        builder.sql.session_variable(&variable),
                        type_name(&column.pg_type),
                    );
                    session_variables.push(variable);
                    value
                }
            };
            set.retain(|(c, _)| c.as_str() != name);
            set.push((ColumnName::new(&name), value));
        }
        session_variables_of(&permission.filter, &mut session_variables);
        filter = ir::and(vec![filter, permission.filter.clone()]);
        if let Some(permission_check) = &permission.check {
            session_variables_of(permission_check, &mut session_variables);
            check = Some(permission_check.clone());
        }
    }
    // Hasura answers an update that sets nothing, not even a preset, without touching the
    // table; presets alone are an update (the role's `set` is always applied).
    if set.is_empty() {
        return builder.finish(output::empty_response(field, single));
    }
    ctx.require_session_variables(&session_variables)?;
    let scope = Scope::root(&alias);
    let where_ = boolexp::where_clause(&filter, &scope, &mut builder.sql);
    let check = check.map(|c| boolexp::translate(&c, &scope, &mut builder.sql));
    let checked = check.is_some();
    let update = Update {
        with: None,
        table: table_name(&table.name),
        alias,
        set,
        from: None,
        where_,
        returning: Some(returning_list(check)),
    };
    let cte = builder.sql.aliases.next_prefixed("upd");
    builder.push_write(
        cte.clone(),
        Statement::Update(Box::new(update)),
        &table.name,
        true,
        checked,
    );
    let rows = RootRows {
        table,
        ctes: vec![cte],
        see_written: false,
    };
    let value = if single {
        output::single_row(ctx, &mut builder, field, &rows, path)?
    } else {
        output::mutation_response(ctx, &mut builder, field, &rows, path)?
    };
    builder.finish(value)
}

/// `SET` pairs of every operator argument, in operator order.
fn operator_values(
    table: &TableModel,
    arguments: &Map<String, Value>,
    alias: &graft_sql::ast::TableAlias,
    builder: &mut StatementBuilder,
    args_path: &str,
) -> Result<Vec<(ColumnName, Expr)>, GraphqlError> {
    let mut set = Vec::new();
    for operator in OPERATORS {
        let Some(Value::Object(columns)) = arguments.get(operator) else {
            continue;
        };
        for (name, value) in columns {
            let column = graphql_column(table, name).ok_or_else(|| {
                GraphqlError::validation(
                    format!("field '{name}' not found"),
                    format!("{args_path}.{operator}.{name}"),
                )
            })?;
            let current = column_expr(alias, column);
            let sql = &mut builder.sql;
            let new_value = match operator {
                "_set" => sql.column_literal(value, &column.pg_type),
                "_inc" => binary(
                    current,
                    Op::Plus,
                    sql.column_literal(value, &column.pg_type),
                ),
                "_append" => binary(
                    current,
                    Op::Concat,
                    sql.column_literal(value, &column.pg_type),
                ),
                "_prepend" => binary(
                    sql.column_literal(value, &column.pg_type),
                    Op::Concat,
                    current,
                ),
                "_delete_key" => binary(
                    current,
                    Op::Minus,
                    sql.literal(value, TypeName::new("text"), ParamFormat::Text),
                ),
                "_delete_elem" => binary(
                    current,
                    Op::Minus,
                    sql.literal(value, TypeName::new("int4"), ParamFormat::Text),
                ),
                _ => builtin(
                    "jsonb_delete_path",
                    vec![
                        current,
                        sql.literal(value, TypeName::new("text").array(), ParamFormat::Array),
                    ],
                ),
            };
            set.push((ColumnName::new(&column.name), new_value));
        }
    }
    Ok(set)
}

fn column_expr(alias: &graft_sql::ast::TableAlias, column_info: &ColumnInfo) -> Expr {
    column(alias, &column_info.name)
}

fn binary(left: Expr, op: Op, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// The client's `where` on `table`, parsed like a query's.
pub(super) fn client_where(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    value: Option<&Value>,
    args_path: &str,
) -> Result<BoolExp, GraphqlError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(BoolExp::always_true());
    };
    let path = format!("{args_path}.where");
    let access = ctx
        .query
        .access(table)
        .ok_or_else(|| GraphqlError::validation("field 'where' not found", &path))?;
    filter::parse(&ctx.query, table, access, value, &path)
}

/// `pk1 = v1 AND pk2 = v2` from an object keyed by the primary key's GraphQL names.
pub(super) fn primary_key_condition(
    table: &TableModel,
    values: &Value,
    path: &str,
) -> Result<BoolExp, GraphqlError> {
    let mut conditions = Vec::with_capacity(table.primary_key.len());
    for name in &table.primary_key {
        let column = table
            .column(name)
            .ok_or_else(|| GraphqlError::validation(format!("no column \"{name}\""), path))?;
        let value = values
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
    Ok(ir::and(conditions))
}

fn graphql_column<'t>(table: &'t TableModel, name: &str) -> Option<&'t ColumnInfo> {
    table.columns.values().find(|c| c.graphql_name == name)
}
