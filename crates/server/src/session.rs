//! Resolves a request's session from its headers with `graft-auth` (admin secret, JWT, auth
//! webhook, unauthorized role, or trusted headers when no secret is configured), mapping its
//! errors to the wire shape.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderMap, StatusCode};
use graft_schema::Session;

pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Session, ApiError> {
    state
        .authenticator
        .authenticate(headers)
        .await
        .map_err(|error| {
            let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            ApiError::new(error.code, error.message).with_status(status)
        })
}
