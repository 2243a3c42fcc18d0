//! GraphQL queries → ONE SQL statement whose single column is the JSON of `data`.
//!
//! In: a `graft_gql::ValidOperation` (validated against the role's schema: fragments inlined,
//! variables substituted), the source model and the session. Out: a [`GraphqlStatement`]: the
//! prepared SQL and the response keys of the root fields it answers. Root fields that need no
//! database (`__typename`, `__schema`, `__type`) are left to the caller, which merges them in.
//!
//! ```sql
//! SELECT json_build_object('article', (SELECT coalesce(json_agg(...), '[]') FROM (...) AS "_s1"),
//!                          'author_by_pk', (SELECT json_build_object(...) AS "json" FROM ... LIMIT 1)) AS "data"
//! ```
//!
//! Each root field becomes IR (`SelectIr`, `AggregateIr`) with the role's permissions folded in
//! (filter ANDed at every table reached, limit capped), then SQL through the same
//! [`crate::select`] / [`crate::aggregate`] / [`crate::boolexp`] code the v1 API uses. Postgres
//! builds the JSON with `json` (not `jsonb`), so keys keep the selection's order.

pub(crate) mod context;
mod error;
pub(crate) mod filter;
pub(crate) mod function;
pub(crate) mod json_path;
pub(crate) mod order_by;
mod related;
pub(crate) mod select;
mod stream;

pub use error::GraphqlError;
pub use related::{RelatedFetch, translate_related};
pub use stream::{StreamStatement, translate_stream_query};

use crate::boolexp::SqlContext;
use crate::ir::SessionVariables;
use crate::{PreparedSql, aggregate, prepare};
use context::GqlContext;
use graft_gql::{OperationKind, RootFieldKind, ValidOperation};
use graft_schema::{Session, SourceModel};
use graft_sql::ast::{Expr, Statement};
use graft_sql::helpers::select_json_root;

/// Server settings that change how the GraphQL API answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphqlOptions {
    /// bigint, numeric, float8 and money as JSON strings (`HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES`).
    pub stringify_numeric: bool,
    /// `HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS=false`: query functions too need a function
    /// permission (`FunctionModel::permits`).
    pub require_function_permissions: bool,
}

/// The statement for an operation's database root fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphqlStatement {
    /// Executes to one JSON object: response key → value, for `db_fields` in selection order.
    pub prepared: PreparedSql,
    /// The response keys (aliases) the statement answers; the operation's other root fields
    /// (`__typename`, `__schema`, `__type`) are the caller's.
    pub db_fields: Vec<String>,
}

/// Translates the root fields of a query (or a live-query subscription) that read tables.
pub fn translate_graphql_query(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<GraphqlStatement, GraphqlError> {
    let (statement, sql, db_fields) = query_statement(op, source, session, options)?;
    let prepared = prepare(&statement, sql, false)
        .map_err(|e| GraphqlError::new("unexpected", e.message, "$"))?;
    Ok(GraphqlStatement {
        prepared,
        db_fields,
    })
}

/// A live query in its multiplexed form (see `graft_sql::print_multiplexed`): subscribers whose
/// `sql` is equal share one poller, and those whose `params` are also equal share one cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveQueryStatement {
    /// The multiplexed statement; its only parameter is the JSON array of cohorts' `params`.
    pub sql: String,
    /// This subscriber's parameter values (the session variables first).
    pub params: Vec<Option<String>>,
    /// The response keys the statement answers.
    pub db_fields: Vec<String>,
}

/// Translates a live-query subscription to its multiplexed statement.
pub fn translate_live_query(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<LiveQueryStatement, GraphqlError> {
    let (statement, sql, db_fields) = query_statement(op, source, session, options)?;
    let text = graft_sql::print_multiplexed(&statement, graft_sql::MultiplexedShape::Live)
        .map_err(|e| GraphqlError::new("unexpected", e.to_string(), "$"))?;
    Ok(LiveQueryStatement {
        sql: text,
        params: sql.params.into_values(),
        db_fields,
    })
}

/// One statement per database root field of a query or subscription, for `/v1/graphql/explain`:
/// the root field's response key and its statement (a single column, the field's value).
pub fn translate_root_fields_separately(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<Vec<(String, PreparedSql)>, GraphqlError> {
    database_roots(op, source, session, options)?
        .iter()
        .map(|(key, root)| Ok((key.clone(), root_statement(root, session)?)))
        .collect()
}

/// The statement answering the database root fields of `op`, its parameters, and the response
/// keys it answers.
fn query_statement(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<(Statement, SqlContext, Vec<String>), GraphqlError> {
    let roots = database_roots(op, source, session, options)?;
    let mut sql = SqlContext::new(session.variables_json());
    let mut pairs = Vec::with_capacity(roots.len());
    for (key, root) in &roots {
        let select = match root {
            Root::List(ir) => crate::select::array_select(ir, None, &mut sql),
            Root::ByPk(ir) => crate::select::object_select(ir, None, &mut sql),
            Root::Aggregate(ir) => aggregate::aggregate_select(ir, None, &mut sql),
        };
        pairs.push((key.clone(), Expr::ScalarSubquery(Box::new(select))));
    }
    sql.keep_only_read_session_variables(session);
    let statement = Statement::Select(Box::new(select_json_root(pairs)));
    Ok((
        statement,
        sql,
        roots.into_iter().map(|(key, _)| key).collect(),
    ))
}

/// The IR of each root field of `op` that reads the database, under the session's permissions,
/// by response key; `__schema`, `__type` and `__typename` are the caller's.
fn database_roots(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<Vec<(String, Root)>, GraphqlError> {
    if op.kind == OperationKind::Mutation {
        return Err(GraphqlError::not_supported(
            "mutations are not translated by translate_graphql_query",
            "$",
        ));
    }
    let ctx = GqlContext::new(source, session, options);
    let mut roots = Vec::with_capacity(op.root_fields.len());
    for field in &op.root_fields {
        if field.name.starts_with("__") {
            continue;
        }
        let path = format!("$.selectionSet.{}", field.alias);
        let not_found =
            || GraphqlError::field_not_found(&field.name, &field.parent_type, path.as_str());
        if let Some(root) = function::function_root(&ctx, field, &path)? {
            roots.push((field.alias.clone(), root));
            continue;
        }
        let (table, kind) = ctx.root(&field.name).ok_or_else(not_found)?;
        let access = ctx.access(table).ok_or_else(not_found)?;
        let root = match kind {
            RootFieldKind::Select => {
                Root::List(select::list_select(&ctx, table, access, field, &path)?)
            }
            RootFieldKind::SelectByPk => {
                Root::ByPk(select::by_pk_select(&ctx, table, access, field, &path)?)
            }
            RootFieldKind::SelectStream => {
                return Err(GraphqlError::validation(
                    "streaming fields are served only to subscriptions",
                    &path,
                ));
            }
            RootFieldKind::SelectAggregate => {
                if !access.allows_aggregations() {
                    return Err(not_found());
                }
                Root::Aggregate(select::aggregate_select(&ctx, table, access, field, &path)?)
            }
        };
        roots.push((field.alias.clone(), root));
    }
    for (_, root) in &roots {
        let ir: &dyn SessionVariables = match root {
            Root::List(ir) | Root::ByPk(ir) => ir,
            Root::Aggregate(ir) => ir,
        };
        if let Some(name) = ir.missing_session_variable(&|name| session.variable(name).is_some()) {
            return Err(GraphqlError::new(
                "not-found",
                format!("missing session variable: \"{name}\""),
                "$",
            ));
        }
    }
    Ok(roots)
}

pub(crate) enum Root {
    List(crate::ir::SelectIr),
    ByPk(crate::ir::SelectIr),
    Aggregate(crate::ir::AggregateIr),
}

/// The statement for one root field alone, its single column the field's value.
pub(crate) fn root_statement(root: &Root, session: &Session) -> Result<PreparedSql, GraphqlError> {
    let mut sql = SqlContext::new(session.variables_json());
    let select = match root {
        Root::List(ir) => crate::select::array_select(ir, None, &mut sql),
        Root::ByPk(ir) => crate::select::object_select(ir, None, &mut sql),
        Root::Aggregate(ir) => aggregate::aggregate_select(ir, None, &mut sql),
    };
    // Always exactly one row, even when an object's select finds none.
    let wrapped = graft_sql::ast::Select::new(vec![(
        Expr::ScalarSubquery(Box::new(select)),
        graft_sql::ast::ColumnAlias::new("json"),
    )]);
    sql.keep_only_read_session_variables(session);
    let statement = Statement::Select(Box::new(wrapped));
    prepare(&statement, sql, false).map_err(|e| GraphqlError::new("unexpected", e.message, "$"))
}
