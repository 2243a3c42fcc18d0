//! Rows of tables related to values that did not come from the database (an action's output
//! objects): every fetch of one response becomes one root of ONE statement, so all of an
//! action's relationships cost one round trip.
//!
//! Each fetch selects the rows of `table` whose columns equal the given values (the
//! relationship's field mapping), with the role's filter, and the client's own arguments for
//! array relationships (`where`, `order_by`, `limit`, ...).

use super::context::GqlContext;
use super::error::GraphqlError;
use super::{GraphqlOptions, GraphqlStatement, select};
use crate::boolexp::SqlContext;
use crate::{ir, prepare};
use graft_gql::Field;
use graft_metadata::QualifiedTable;
use graft_schema::{BoolExp, ColumnOp, ComparisonOp, Operand, Session, SourceModel};
use graft_sql::ast::{Expr, Statement, TypeName};
use graft_sql::helpers::select_json_root;
use serde_json::Value;

/// One relationship of one object.
#[derive(Debug, Clone)]
pub struct RelatedFetch {
    /// The key of this fetch in the statement's JSON object.
    pub key: String,
    pub table: QualifiedTable,
    /// An object relationship (one row or null) or an array one (a list).
    pub object: bool,
    /// Column → the value it must equal.
    pub mapping: Vec<(String, Value)>,
    /// The relationship field as the client selected it (arguments and sub-selection).
    pub field: Field,
}

/// The statement answering every fetch: `{key: row-or-null | [rows]}`. A fetch of a table the
/// role cannot read answers null (object) or `[]` (array).
pub fn translate_related(
    fetches: &[RelatedFetch],
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<GraphqlStatement, GraphqlError> {
    let ctx = GqlContext::new(source, session, options);
    let mut sql = SqlContext::new(session.variables_json());
    let mut pairs = Vec::with_capacity(fetches.len());
    for fetch in fetches {
        let path = format!("$.selectionSet.{}", fetch.field.alias);
        let access = source
            .table(&fetch.table)
            .and_then(|t| Some((t, ctx.access(t)?)));
        let Some((table, access)) = access else {
            let empty = if fetch.object {
                Expr::Null
            } else {
                Expr::Cast {
                    expr: Box::new(Expr::StringLiteral("[]".into())),
                    ty: TypeName::new("json"),
                }
            };
            pairs.push((fetch.key.clone(), empty));
            continue;
        };
        let mut conditions = Vec::with_capacity(fetch.mapping.len() + 1);
        for (column_name, value) in &fetch.mapping {
            let column = table.column(column_name).ok_or_else(|| {
                GraphqlError::validation(format!("no column \"{column_name}\""), &path)
            })?;
            conditions.push(BoolExp::Column {
                column: column.name.clone(),
                pg_type: column.pg_type.clone(),
                op: ColumnOp {
                    op: ComparisonOp::Eq,
                    value: Operand::Literal(value.clone()),
                },
            });
        }
        let mut field = fetch.field.clone();
        if fetch.object {
            field.arguments.clear();
        }
        let mut rows = select::list_select(&ctx, table, access, &field, &path)?;
        conditions.push(rows.filter);
        rows.filter = ir::and(conditions);
        let select = if fetch.object {
            rows.limit = Some(1);
            crate::select::object_select(&rows, None, &mut sql)
        } else {
            crate::select::array_select(&rows, None, &mut sql)
        };
        pairs.push((fetch.key.clone(), Expr::ScalarSubquery(Box::new(select))));
    }
    let statement = Statement::Select(Box::new(select_json_root(pairs)));
    let prepared = prepare(&statement, sql, false)
        .map_err(|e| GraphqlError::new("unexpected", e.message, "$"))?;
    Ok(GraphqlStatement {
        prepared,
        db_fields: fetches.iter().map(|f| f.key.clone()).collect(),
    })
}
