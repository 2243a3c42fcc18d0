//! Translation of requests into SQL: IR (what to read or write, permissions already applied) →
//! one SQL statement (a `graft-sql` AST, printed) whose single column is the final JSON.
//!
//! In: for the v1 data API (`select`, `count`, `insert`, `update`, `delete` of `POST /v1/query`),
//! the request's `args`, the session and the resolved source model ([`translate_rql`]); for
//! GraphQL queries, a validated `graft_gql::ValidOperation` instead
//! ([`graphql::translate_graphql_query`], whose statement yields the `data` object). Out: a
//! [`PreparedSql`]: SQL text and its parameters, every one sent as text (`$1` is always the
//! session variables as one JSON document). Postgres builds the response JSON
//! (`json_build_object`, `json_agg`, `LEFT JOIN LATERAL`), and the server passes it through.
//!
//! Sits after `graft-schema` (the model) and before `graft-execute` (which runs the statement).
//! The IR → SQL modules ([`select`], [`aggregate`], [`mutation`], [`boolexp`]) know nothing of
//! the API that built the IR: [`rql`] is the v1 IR builder, [`graphql`] the GraphQL one.

pub mod aggregate;
pub mod boolexp;
mod error;
pub mod graphql;
pub mod graphql_mutation;
pub mod ir;
pub mod mutation;
pub mod rql;
pub mod select;
mod value;

pub use error::RqlError;

use boolexp::SqlContext;
use graft_schema::{Session, SourceModel};
use graft_sql::ast::Statement;
use ir::SessionVariables;
use rql::RqlContext;

/// A statement ready to run with `graft_execute::query_json(client, &sql, &params)`.
///
/// Its single row and column is JSON. When `has_check` is false that JSON is the response. When
/// `has_check` is true (a mutation by a role whose permission has a `check`) it is
/// `{"data": <response>, "check": <bool>}`: run it inside a transaction, and when `check` is
/// false roll back and answer `permission-error` "check constraint of an insert/update
/// permission has failed" (path `$.args`); otherwise commit and answer `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSql {
    pub sql: String,
    pub params: Vec<Option<String>>,
    pub has_check: bool,
}

/// The data operations of `POST /v1/query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RqlOp {
    Select,
    Count,
    Insert,
    Update,
    Delete,
}

impl RqlOp {
    /// The operation for a request `type`: `"select"`, `"count"`, `"insert"`, `"update"`, `"delete"`.
    pub fn from_type(t: &str) -> Option<RqlOp> {
        match t {
            "select" => Some(RqlOp::Select),
            "count" => Some(RqlOp::Count),
            "insert" => Some(RqlOp::Insert),
            "update" => Some(RqlOp::Update),
            "delete" => Some(RqlOp::Delete),
            _ => None,
        }
    }
}

/// Translates one v1 data operation. `args` is the request's `args`; `stringify_numeric` outputs
/// bigint, numeric, float8 and money columns as JSON strings. The result executes to the
/// response JSON of that operation (see [`PreparedSql`] for mutations with a check).
pub fn translate_rql(
    op: RqlOp,
    source: &SourceModel,
    session: &Session,
    args: &serde_json::Value,
    stringify_numeric: bool,
) -> Result<PreparedSql, RqlError> {
    let rql = RqlContext {
        source,
        session,
        stringify_numeric,
    };
    let mut sql = SqlContext::new(session.variables_json());
    let (statement, has_check) = match op {
        RqlOp::Select => {
            let ir = rql::select_ir(&rql, &rql::args::parse_select(args)?)?;
            require_session_variables(&ir, session)?;
            (select::select_statement(&ir, &mut sql), false)
        }
        RqlOp::Count => {
            let ir = rql::count_ir(&rql, &rql::args::parse_count(args)?)?;
            require_session_variables(&ir, session)?;
            (select::count_statement(&ir, &mut sql), false)
        }
        RqlOp::Insert => {
            let ir = rql::insert_ir(&rql, &rql::args::parse_insert(args)?)?;
            require_session_variables(&ir, session)?;
            let m = mutation::insert_statement(&ir, &mut sql);
            (m.statement, m.has_check)
        }
        RqlOp::Update => {
            let ir = rql::update_ir(&rql, &rql::args::parse_update(args)?)?;
            require_session_variables(&ir, session)?;
            let m = mutation::update_statement(&ir, &mut sql)
                .map_err(|e| RqlError::not_supported(e.to_string(), "$.args.$default"))?;
            (m.statement, m.has_check)
        }
        RqlOp::Delete => {
            let ir = rql::delete_ir(&rql, &rql::args::parse_delete(args)?)?;
            require_session_variables(&ir, session)?;
            let m = mutation::delete_statement(&ir, &mut sql);
            (m.statement, m.has_check)
        }
    };
    prepare(&statement, sql, has_check)
}

/// Hasura refuses a request whose permissions read a session variable it does not carry.
fn require_session_variables(ir: &dyn SessionVariables, session: &Session) -> Result<(), RqlError> {
    match ir.missing_session_variable(&|name| session.variable(name).is_some()) {
        None => Ok(()),
        Some(name) => Err(RqlError::new(
            "not-found",
            format!("missing session variable: \"{name}\""),
            "$",
        )),
    }
}

/// Prints a statement built with `ctx`.
pub fn prepare(
    statement: &Statement,
    ctx: SqlContext,
    has_check: bool,
) -> Result<PreparedSql, RqlError> {
    let sql = graft_sql::print(statement).map_err(|e| RqlError::internal(e.to_string()))?;
    Ok(PreparedSql {
        sql,
        params: ctx.params.into_values(),
        has_check,
    })
}

/// The result of a statement with `has_check`: the response, kept as raw JSON text so numbers
/// keep their exact digits, and the permission check.
#[derive(serde::Deserialize)]
pub struct CheckedResult {
    pub data: Box<serde_json::value::RawValue>,
    pub check: Option<bool>,
}
