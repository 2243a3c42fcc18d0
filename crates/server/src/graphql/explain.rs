//! `POST /v1/graphql/explain` (admin only): the SQL graft generates for a GraphQL query and
//! Postgres's plan for it, as a given role would run it (Hasura's Explain API).
//!
//! A query answers one entry per root field (`field`, `sql`, `plan`), each root field's own
//! statement with its values written in as literals so it can be pasted into psql; graft itself
//! runs all root fields as one statement. A subscription answers the multiplexed statement its
//! poller runs, as text that does not change with the values (subscribers with equal text share
//! a poller), and the values apart: `variables.session` holds only the session variables the
//! statement reads, `variables.query` the GraphQL variables, `variables.synthetic` the other
//! parameters.

use super::{GraphqlRequest, connection, default_source, options, schemas};
use crate::error::ApiError;
use crate::session;
use crate::state::{AppState, SchemaCache};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use graft_gql::{OperationKind, ValidOperation};
use graft_schema::{ADMIN_ROLE, Session};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
struct ExplainRequest {
    query: GraphqlRequest,
    /// The role and session variables to explain as (`x-hasura-role` absent: admin).
    #[serde(default)]
    user: IndexMap<String, Value>,
}

pub async fn handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match explain(&state, &headers, &body).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn explain(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    if !state.config.api_enabled("graphql") {
        return Err(ApiError::new("not-found", "resource does not exist")
            .with_status(axum::http::StatusCode::NOT_FOUND));
    }
    let caller = session::resolve(state, headers).await?;
    if !caller.is_admin() {
        return Err(ApiError::admin_only().at("$"));
    }
    let request: ExplainRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::parse_failed(format!("Error in $: {e}")))?;
    let session = session_of(&request.user)?;
    let cache = state.current();
    let variables = request.query.variables.clone().filter(|v| !v.is_null());
    let operation = validate(&cache, &session, &request.query, variables.as_ref())?;
    if operation
        .root_fields
        .iter()
        .any(|f| !f.name.starts_with("__") && super::action::is_action_field(&cache, f))
    {
        return Err(ApiError::new(
            "invalid-params",
            "only hasura queries can be explained",
        ));
    }
    match operation.kind {
        OperationKind::Query => explain_query(state, &cache, &session, &operation).await,
        OperationKind::Subscription => {
            explain_subscription(state, &cache, &session, &operation, variables).await
        }
        OperationKind::Mutation => Err(ApiError::new(
            "invalid-params",
            "only queries and subscriptions can be explained",
        )),
    }
}

/// The session the `user` object describes. Values that are not strings are taken as their JSON
/// text, as headers would carry them.
fn session_of(user: &IndexMap<String, Value>) -> Result<Session, ApiError> {
    let mut variables = IndexMap::new();
    for (name, value) in user {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        variables.insert(name.to_ascii_lowercase(), text);
    }
    let role = variables
        .get("x-hasura-role")
        .cloned()
        .unwrap_or_else(|| ADMIN_ROLE.to_string());
    variables.insert("x-hasura-role".to_string(), role.clone());
    Ok(Session {
        role,
        variables,
        has_admin_credentials: true,
    })
}

fn validate(
    cache: &SchemaCache,
    session: &Session,
    request: &GraphqlRequest,
    variables: Option<&Value>,
) -> Result<ValidOperation, ApiError> {
    let query = request
        .query
        .as_deref()
        .ok_or_else(|| ApiError::parse_failed("the key 'query' was not present"))?;
    let schema = schemas::for_session(cache, session)
        .map_err(|e| ApiError::internal(format!("could not build the GraphQL schema: {e}")))?;
    graft_gql::parse_and_validate(&schema, query, request.operation_name.as_deref(), variables)
        .map_err(|errors| match errors.into_iter().next() {
            Some(e) => ApiError::new(static_code(&e.code), e.message).at(e.path),
            None => ApiError::new("validation-failed", "invalid request"),
        })
}

/// A GraphQL error code as the JSON APIs' error carries it.
fn static_code(code: &str) -> &'static str {
    match code {
        "parse-failed" => "parse-failed",
        "not-supported" => "not-supported",
        "not-found" => "not-found",
        "permission-error" => "permission-error",
        _ => "validation-failed",
    }
}

async fn explain_query(
    state: &AppState,
    cache: &SchemaCache,
    session: &Session,
    operation: &ValidOperation,
) -> Result<Value, ApiError> {
    let statements = graft_translate::graphql::translate_root_fields_separately(
        operation,
        default_source(cache).map_err(graphql_to_api)?,
        session,
        &options(state),
    )
    .map_err(translate_error)?;
    let client = connection(cache).await.map_err(graphql_to_api)?;
    let mut answer = Vec::with_capacity(statements.len());
    for (field, prepared) in statements {
        let plan = graft_execute::explain(&**client, &prepared.sql, &prepared.params).await?;
        answer.push(json!({
            "field": field,
            "sql": graft_sql::inline_params(&prepared.sql, &prepared.params),
            "plan": plan,
        }));
    }
    Ok(Value::Array(answer))
}

async fn explain_subscription(
    state: &AppState,
    cache: &SchemaCache,
    session: &Session,
    operation: &ValidOperation,
    variables: Option<Value>,
) -> Result<Value, ApiError> {
    let source = default_source(cache).map_err(graphql_to_api)?;
    let stream = graft_translate::graphql::translate_stream_query(
        operation,
        source,
        session,
        &options(state),
    )
    .map_err(translate_error)?;
    let (sql, params) = match stream {
        Some(stream) => (stream.sql, stream.params),
        None => {
            let live = graft_translate::graphql::translate_live_query(
                operation,
                source,
                session,
                &options(state),
            )
            .map_err(translate_error)?;
            (live.sql, live.params)
        }
    };
    let cohorts = serde_json::to_string(&[&params])
        .map_err(|e| ApiError::internal(format!("cannot encode the cohort: {e}")))?;
    let client = connection(cache).await.map_err(graphql_to_api)?;
    let plan = graft_execute::explain(&**client, &sql, &[Some(cohorts)]).await?;
    let session_read: Value = params
        .first()
        .cloned()
        .flatten()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| json!({}));
    Ok(json!({
        "sql": sql,
        "plan": plan,
        "variables": {
            "session": session_read,
            "query": variables.unwrap_or_else(|| json!({})),
            "synthetic": params.iter().skip(1).collect::<Vec<_>>(),
        },
    }))
}

fn translate_error(error: graft_translate::graphql::GraphqlError) -> ApiError {
    ApiError::new(error.code, error.message).at(error.path)
}

fn graphql_to_api(error: super::GraphqlError) -> ApiError {
    ApiError::new(static_code(&error.code), error.message)
}
