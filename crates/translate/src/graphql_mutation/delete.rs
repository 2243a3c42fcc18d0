//! `delete_<t>(where)` and `delete_<t>_by_pk(<pk columns>)`: the rows matching the client's
//! condition AND the delete permission's filter.

use super::output::{self, RootRows};
use super::update::{client_where, primary_key_condition};
use super::{MutationContext, StatementBuilder, session_variables_of};
use crate::PreparedSql;
use crate::boolexp::{self, Scope, table_name};
use crate::graphql::GraphqlError;
use crate::ir;
use graft_gql::{Field, MutationFieldKind};
use graft_schema::TableModel;
use graft_sql::ast::{Delete, SelectList, Statement};
use serde_json::Value;

pub(super) fn delete_field(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    field: &Field,
    kind: MutationFieldKind,
    path: &str,
) -> Result<PreparedSql, GraphqlError> {
    let permission = ctx.delete_permission(table, path)?;
    let args_path = format!("{path}.args");
    let single = kind == MutationFieldKind::DeleteByPk;
    let condition = if single {
        let pk: serde_json::Map<String, Value> = field
            .arguments
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        primary_key_condition(table, &Value::Object(pk), &args_path)?
    } else {
        client_where(ctx, table, field.arguments.get("where"), &args_path)?
    };
    let mut session_variables = Vec::new();
    let filter = match permission {
        Some(permission) => {
            session_variables_of(&permission.filter, &mut session_variables);
            ir::and(vec![condition, permission.filter.clone()])
        }
        None => condition,
    };
    ctx.require_session_variables(&session_variables)?;
    let mut builder = StatementBuilder::new(ctx.session());
    let alias = builder.sql.aliases.next_alias();
    let where_ = boolexp::where_clause(&filter, &Scope::root(&alias), &mut builder.sql);
    let delete = Delete {
        with: None,
        table: table_name(&table.name),
        alias,
        where_,
        returning: Some(SelectList::Star),
    };
    let cte = builder.sql.aliases.next_prefixed("del");
    builder.push_write(
        cte.clone(),
        Statement::Delete(Box::new(delete)),
        &table.name,
        true,
        false,
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
