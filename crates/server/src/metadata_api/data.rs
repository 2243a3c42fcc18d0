//! The v1 data operations (`select`, `count`, `insert`, `update`, `delete`): translated to one
//! SQL statement by `graft-translate`, executed here, and the JSON Postgres built returned.

use super::Working;
use crate::error::ApiError;
use graft_schema::Session;
use graft_translate::{RqlError, RqlOp, translate_rql};
use serde_json::Value;

pub async fn run(
    working: &mut Working<'_>,
    session: &Session,
    op: RqlOp,
    args: &Value,
) -> Result<super::Reply, ApiError> {
    let source = super::args::source_of(args);
    let cache = working.state.current();
    // Data operations see the metadata as changed so far in this request (a bulk may track a
    // table and then insert into it); only then is the model resolved again.
    let changed = working.dirty || working.reload;
    let resolved =
        changed.then(|| graft_schema::resolve(&working.metadata, &working.catalogs).model);
    let model = resolved
        .as_ref()
        .unwrap_or(&cache.model)
        .source(&source)
        .ok_or_else(|| {
            ApiError::not_exists(format!("source with name \"{source}\" does not exist"))
        })?;
    let stringify = working.state.config.stringify_numeric_types;
    let prepared = translate_rql(op, model, session, args, stringify).map_err(rql_error)?;
    let pool = cache.pool(&source)?;
    let object = pool.get().await.map_err(graft_execute::DbError::from)?;
    let client: &deadpool_postgres::ClientWrapper = &object;
    client
        .batch_execute("BEGIN")
        .await
        .map_err(graft_execute::DbError::from)?;
    let outcome = match op {
        RqlOp::Select | RqlOp::Count => execute(client, &prepared).await,
        _ => match graft_execute::set_session_setting(client, &session.variables_json()).await {
            Ok(()) => execute(client, &prepared).await,
            Err(error) => Err(error.into()),
        },
    };
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    client
        .batch_execute(end)
        .await
        .map_err(graft_execute::DbError::from)?;
    outcome
}

/// Runs the statement; a failed permission check becomes `permission-error` (and the caller
/// rolls back).
async fn execute(
    client: &deadpool_postgres::ClientWrapper,
    prepared: &graft_translate::PreparedSql,
) -> Result<super::Reply, ApiError> {
    let text = graft_execute::query_json_cached(client, &prepared.sql, &prepared.params)
        .await
        .map_err(|e| data_error(e, prepared))?;
    let invalid = |e: serde_json::Error| {
        ApiError::internal(format!("the database returned invalid JSON: {e}"))
    };
    if !prepared.has_check {
        return serde_json::value::RawValue::from_string(text)
            .map(super::Reply::Raw)
            .map_err(invalid);
    }
    let checked: graft_translate::CheckedResult = serde_json::from_str(&text)
        .map_err(|e| ApiError::internal(format!("the database returned invalid JSON: {e}")))?;
    if checked.check != Some(true) {
        return Err(ApiError::new(
            "permission-error",
            "check constraint of an insert/update permission has failed",
        )
        .at("$.args"));
    }
    Ok(super::Reply::Raw(checked.data))
}

fn rql_error(error: RqlError) -> ApiError {
    ApiError::new(error.code, error.message).at(error.path)
}

/// Constraint and data errors are the client's (400); anything else means the statement graft
/// built failed, which Hasura reports as a 500 `unexpected` "database query error".
fn data_error(error: graft_execute::DbError, prepared: &graft_translate::PreparedSql) -> ApiError {
    if error.is_client_error() {
        return ApiError::from_db(error).at("$.args");
    }
    let mut api = ApiError::new("unexpected", "database query error")
        .with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    api.internal = Some(Box::new(error.internal(
        &prepared.sql,
        &prepared.params,
        true,
    )));
    api
}
