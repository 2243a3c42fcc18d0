//! `POST /v1/graphql`: the GraphQL edge. A request (or a batch, a JSON array of them) is
//! authenticated, validated against the role's schema, and either answered from the schema
//! (introspection) or translated to ONE SQL statement whose JSON result is spliced, unparsed,
//! into `{"data": ...}`. Errors are GraphQL errors with Hasura's `extensions.code` and `path`,
//! returned with HTTP 200 as Hasura does. The legacy `POST /v1alpha1/graphql` answers the same,
//! except that a request which failed as a whole gets its error's HTTP status (400, or 500 for
//! `unexpected`), as Hasura's v1alpha1 API does.

mod action;
pub(crate) mod async_action;
mod body;
pub mod explain;
mod mutation;
pub mod schemas;

use crate::session;
use crate::state::{AppState, SchemaCache};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub(crate) use body::JsonBody;
use graft_gql::{OperationKind, ValidOperation};
use graft_metadata::DEFAULT_SOURCE;
use graft_schema::Session;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
pub(crate) struct GraphqlRequest {
    pub(crate) query: Option<String>,
    #[serde(default)]
    pub(crate) variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    pub(crate) operation_name: Option<String>,
}

/// A GraphQL error in Hasura's shape.
#[derive(Debug)]
pub(crate) struct GraphqlError {
    pub(crate) message: String,
    pub(crate) code: String,
    path: String,
    pub(crate) internal: Option<Box<Value>>,
    /// Extensions given by someone else (an action handler), sent instead of `{path, code}`.
    extensions: Option<Box<Value>>,
}

impl GraphqlError {
    pub(crate) fn new(
        code: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        GraphqlError {
            message: message.into(),
            code: code.into(),
            path: path.into(),
            internal: None,
            extensions: None,
        }
    }

    /// An error whose `extensions` are given verbatim (an action handler's).
    pub(crate) fn with_extensions(message: impl Into<String>, extensions: Value) -> Self {
        let code = extensions
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("unexpected")
            .to_string();
        GraphqlError {
            extensions: Some(Box::new(extensions)),
            ..GraphqlError::new(code, "$", message)
        }
    }

    /// The response body: `{"errors": [...]}`.
    pub(crate) fn body(&self) -> String {
        json!({"errors": self.errors()}).to_string()
    }

    /// The `errors` array alone.
    pub(crate) fn errors(&self) -> Value {
        if let Some(extensions) = &self.extensions {
            return json!([{"extensions": extensions, "message": self.message}]);
        }
        let mut extensions = json!({"path": self.path, "code": self.code});
        if let Some(internal) = &self.internal {
            extensions["internal"] = (**internal).clone();
        }
        json!([{"extensions": extensions, "message": self.message}])
    }
}

pub async fn handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(state, headers, body, false).await
}

/// `POST /v1alpha1/graphql`.
pub async fn handler_v1alpha1(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(state, headers, body, true).await
}

impl GraphqlError {
    /// The HTTP status of this error on `/v1alpha1/graphql`.
    fn legacy_status(&self) -> StatusCode {
        if self.code == "unexpected" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        }
    }
}

async fn respond(state: Arc<AppState>, headers: HeaderMap, body: Bytes, legacy: bool) -> Response {
    let failed = |error: GraphqlError| {
        let status = if legacy {
            error.legacy_status()
        } else {
            StatusCode::OK
        };
        json_response(status, error.body())
    };
    if !state.config.api_enabled("graphql") {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    let session = match session::resolve(&state, &headers).await {
        Ok(session) => session,
        Err(error) => {
            // Hasura answers /v1/graphql with 200 even when authentication fails;
            // /v1alpha1/graphql with the authentication error's status (401).
            let status = if legacy { error.status } else { StatusCode::OK };
            return json_response(
                status,
                GraphqlError::new(error.code, "$", error.message).body(),
            );
        }
    };
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return failed(GraphqlError::new(
                "invalid-json",
                "$",
                format!("Error in $: {e}"),
            ));
        }
    };
    let cache = state.current();
    let body = match parsed {
        Value::Array(requests) => {
            let mut parts = Vec::with_capacity(requests.len());
            for request in requests {
                parts.push(answer(&state, &cache, &session, &headers, request).await);
            }
            JsonBody::array(parts)
        }
        request if legacy => {
            match execute(&state, &cache, &session, &headers, request, false).await {
                Ok(Outcome::Body(body)) => body,
                Ok(Outcome::Subscription(_)) => {
                    return failed(GraphqlError::new("unexpected", "$", "subscription"));
                }
                Err(error) => return failed(error),
            }
        }
        request => answer(&state, &cache, &session, &headers, request).await,
    };
    json_response(StatusCode::OK, body)
}

fn json_response(status: StatusCode, body: impl Into<JsonBody>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        axum::body::Body::new(body.into()),
    )
        .into_response()
}

/// The response body of one GraphQL request. Over HTTP a subscription is answered once, as the
/// query it is.
async fn answer(
    state: &AppState,
    cache: &SchemaCache,
    session: &Session,
    headers: &HeaderMap,
    request: Value,
) -> JsonBody {
    match execute(state, cache, session, headers, request, false).await {
        Ok(Outcome::Body(body)) => body,
        Ok(Outcome::Subscription(_)) => GraphqlError::new("unexpected", "$", "subscription")
            .body()
            .into(),
        Err(error) => error.body().into(),
    }
}

/// What a request led to.
pub(crate) enum Outcome {
    /// The whole response body (`{"data": ...}`; errors come as `Err`).
    Body(JsonBody),
    /// A valid subscription, for the caller to keep alive (WebSocket only).
    Subscription(Box<ValidOperation>),
}

/// Validates and runs one request. With `subscribe`, a subscription operation that reads only
/// the database is returned validated instead of run.
pub(crate) async fn execute(
    state: &AppState,
    cache: &SchemaCache,
    session: &Session,
    headers: &HeaderMap,
    request: Value,
    subscribe: bool,
) -> Result<Outcome, GraphqlError> {
    let request: GraphqlRequest = serde_json::from_value(request)
        .map_err(|e| GraphqlError::new("parse-failed", "$", e.to_string()))?;
    let query = request
        .query
        .ok_or_else(|| GraphqlError::new("parse-failed", "$", "the key 'query' was not present"))?;
    let schema = schemas::for_session(cache, session).map_err(|e| {
        tracing::error!(role = %session.role, error = %e, "could not build the role's GraphQL schema");
        GraphqlError::new("unexpected", "$", "could not build the GraphQL schema")
    })?;
    let variables = match request.variables {
        Some(Value::Null) | None => None,
        Some(v) => Some(v),
    };
    let operation = schemas::prepared_document(
        cache,
        session,
        &schema,
        &query,
        request.operation_name.as_deref(),
    )
    .and_then(|prepared| graft_gql::bind_variables(&schema, &prepared, variables.as_ref()))
    .map_err(|errors| match errors.into_iter().next() {
        Some(e) => GraphqlError::new(e.code, e.path, e.message),
        None => GraphqlError::new("validation-failed", "$", "invalid request"),
    })?;
    // The operation holds the coerced values now; a bulk insert's objects need not stay twice.
    let has_variables = variables.is_some();
    drop(variables);
    if operation.kind == OperationKind::Subscription {
        check_subscription_roots(&operation)?;
        // One with introspection fields is answered once, like the query it is: they do not
        // change while the schema stays, and a schema change re-validates anyway.
        let has_meta_fields = operation
            .root_fields
            .iter()
            .any(|f| f.name.starts_with("__"));
        if subscribe && !has_meta_fields {
            return Ok(Outcome::Subscription(Box::new(operation)));
        }
    }
    if graft_gql::is_introspection_only(&operation) {
        if has_variables {
            return Ok(Outcome::Body(
                graft_gql::introspect(&schema, &operation)
                    .to_string()
                    .into(),
            ));
        }
        let role_key = format!(
            "{}{}",
            session.role,
            if schemas::sees_backend_only(session) {
                "\u{0}backend"
            } else {
                ""
            }
        );
        let key = (role_key, query.clone(), request.operation_name.clone());
        if let Some(answer) = schemas::cached_introspection(cache, &key) {
            return Ok(Outcome::Body(answer.into()));
        }
        let answer = Bytes::from(graft_gql::introspect(&schema, &operation).to_string());
        schemas::store_introspection(cache, key, answer.clone());
        return Ok(Outcome::Body(answer.into()));
    }
    if operation
        .root_fields
        .iter()
        .any(|f| action::is_action_field(cache, f))
    {
        let call = action::ActionCall {
            state,
            cache,
            session,
            query: &query,
            client_headers: headers,
        };
        return action::execute_with_actions(&call, &schema, &operation)
            .await
            .map(|body| Outcome::Body(body.into()));
    }
    let data = if operation.kind == OperationKind::Mutation {
        Bytes::from(mutation::run(state, cache, session, &operation).await?)
    } else {
        run_query(state, cache, session, &operation).await?
    };
    if operation
        .root_fields
        .iter()
        .all(|f| !f.name.starts_with("__"))
    {
        return Ok(Outcome::Body(JsonBody::data(data)));
    }
    merge_introspection(&schema, &operation, &data).map(|body| Outcome::Body(body.into()))
}

/// Hasura's rule: a subscription selects one root field, unless it opts in with
/// `@_multiple_top_level_fields`.
fn check_subscription_roots(operation: &ValidOperation) -> Result<(), GraphqlError> {
    if operation.root_fields.len() > 1 && !operation.has_directive("_multiple_top_level_fields") {
        return Err(GraphqlError::new(
            "validation-failed",
            "$",
            "subscriptions must select one top level field",
        ));
    }
    Ok(())
}

/// The model of the source GraphQL serves.
pub(crate) fn default_source(
    cache: &SchemaCache,
) -> Result<&graft_schema::SourceModel, GraphqlError> {
    cache
        .model
        .source(DEFAULT_SOURCE)
        .ok_or_else(|| GraphqlError::new("unexpected", "$", "the default source is not available"))
}

pub(crate) fn options(state: &AppState) -> graft_translate::graphql::GraphqlOptions {
    graft_translate::graphql::GraphqlOptions {
        stringify_numeric: state.config.stringify_numeric_types,
        require_function_permissions: !state.config.infer_function_permissions,
    }
}

/// A pooled connection to the default source.
pub(crate) async fn connection(
    cache: &SchemaCache,
) -> Result<deadpool_postgres::Object, GraphqlError> {
    let pool = cache
        .pool(DEFAULT_SOURCE)
        .map_err(|e| GraphqlError::new(e.code, "$", e.message))?;
    pool.get().await.map_err(|e| {
        GraphqlError::new(
            "unexpected",
            "$",
            format!("could not get a database connection: {e}"),
        )
    })
}

/// Translates the operation's database fields to one statement and runs it. The result is the
/// database's JSON, uncopied.
pub(crate) async fn run_query(
    state: &AppState,
    cache: &SchemaCache,
    session: &Session,
    operation: &ValidOperation,
) -> Result<Bytes, GraphqlError> {
    let statement = graft_translate::graphql::translate_graphql_query(
        operation,
        default_source(cache)?,
        session,
        &options(state),
    )
    .map_err(|e| GraphqlError::new(e.code, e.path, e.message))?;
    let client = connection(cache).await?;
    let prepared = &statement.prepared;
    graft_execute::query_json_bytes_cached(&client, &prepared.sql, &prepared.params)
        .await
        .map_err(|e| database_error(state, session, prepared, e))
}

/// A failed statement: constraint and data errors keep Postgres's message and class (the
/// client caused them); anything else is "database query error", with details for admins.
pub(crate) fn database_error(
    state: &AppState,
    session: &Session,
    prepared: &graft_translate::PreparedSql,
    e: graft_execute::DbError,
) -> GraphqlError {
    statement_error(state, session, &prepared.sql, &prepared.params, &e)
}

/// As [`database_error`], for any statement text and parameters (a live query's multiplexed
/// statement, say).
pub(crate) fn statement_error(
    state: &AppState,
    session: &Session,
    sql: &str,
    params: &[Option<String>],
    e: &graft_execute::DbError,
) -> GraphqlError {
    let mut error = GraphqlError::new("unexpected", "$", "database query error");
    if session.is_admin() || state.config.dev_mode {
        error.internal = Some(Box::new(e.internal(sql, params, true)));
    }
    if e.is_client_error() {
        error.code = e.code().to_string();
        error.message = e.message.clone();
    }
    error
}

/// A query mixing `__schema`/`__type`/`__typename` with tables: both parts, merged in the
/// order the root fields were written. Only here is the database's JSON parsed.
fn merge_introspection(
    schema: &graft_gql::apollo_compiler::validation::Valid<graft_gql::apollo_compiler::Schema>,
    operation: &ValidOperation,
    data: &[u8],
) -> Result<String, GraphqlError> {
    let database: serde_json::Map<String, Value> = serde_json::from_slice(data).map_err(|e| {
        GraphqlError::new(
            "unexpected",
            "$",
            format!("invalid JSON from the database: {e}"),
        )
    })?;
    let introspection = graft_gql::introspect(schema, operation);
    let meta = introspection
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut merged = serde_json::Map::new();
    for field in &operation.root_fields {
        let key = field.alias.clone();
        let value = database
            .get(&key)
            .or_else(|| meta.get(&key))
            .cloned()
            .unwrap_or(Value::Null);
        merged.insert(key, value);
    }
    Ok(json!({"data": merged}).to_string())
}
