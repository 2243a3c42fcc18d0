//! The HTTP routes and the JSON-body edge: bytes in, Hasura-shaped JSON or error out.

use crate::error::ApiError;
use crate::metadata_api::{self, Api};
use crate::session;
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;

/// Bodies larger than this are refused before parsing.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/version", get(version))
        .route(
            "/v1/graphql",
            post(crate::graphql::handler).get(crate::ws::upgrade),
        )
        .route(
            "/v1alpha1/graphql",
            post(crate::graphql::handler_v1alpha1).get(crate::ws::upgrade),
        )
        .route(
            "/v1/graphql/explain",
            post(crate::graphql::explain::handler),
        )
        .route("/v1/metadata", post(v1_metadata))
        .route("/v1/query", post(v1_query))
        .route("/v2/query", post(v2_query))
        .route("/v1alpha1/pg_dump", post(crate::pg_dump::handler))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let cache = state.current();
    if cache.inconsistencies.is_empty() {
        (StatusCode::OK, "OK").into_response()
    } else {
        // Hasura answers 200 with this text when metadata is inconsistent: still serving.
        (StatusCode::OK, "WARN: inconsistent objects in schema").into_response()
    }
}

async fn version() -> Response {
    axum::Json(json!({"version": concat!("v2.48.0-graft.", env!("CARGO_PKG_VERSION"))}))
        .into_response()
}

async fn v1_metadata(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&state, &headers, &body, Api::V1Metadata, "metadata").await
}

async fn v1_query(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Api::V1Query, "metadata").await
}

async fn v2_query(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&state, &headers, &body, Api::V2Query, "metadata").await
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    api: Api,
    api_name: &str,
) -> Response {
    if !state.config.api_enabled(api_name) {
        return ApiError::new("not-found", "resource does not exist")
            .with_status(StatusCode::NOT_FOUND)
            .into_response();
    }
    let result = async {
        let session = session::resolve(state, headers).await?;
        let body = parse_body(body)?;
        metadata_api::handle(state, &session, api, body).await
    }
    .await;
    match result {
        Ok(value) => axum::Json(value).into_response(),
        Err(error) => {
            if error.status.is_server_error() {
                tracing::error!(code = error.code, error = %error.message, "request failed");
            }
            error.into_response()
        }
    }
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::parse_failed(format!("Error in $: {e}")))
}
