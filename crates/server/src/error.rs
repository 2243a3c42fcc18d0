//! The wire error of the JSON APIs: `{"path": "$.args", "error": "...", "code": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub path: String,
    /// Details for admins (Hasura's `internal`): the failing statement and Postgres's error.
    pub internal: Option<Box<serde_json::Value>>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            path: "$".to_string(),
            internal: None,
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn parse_failed(message: impl Into<String>) -> Self {
        ApiError::new("parse-failed", message)
    }

    pub fn not_exists(message: impl Into<String>) -> Self {
        ApiError::new("not-exists", message).at("$.args")
    }

    pub fn admin_only() -> Self {
        ApiError::new("access-denied", "restricted access : admin only").at("$.args")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new("unexpected", message).with_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn from_db(error: graft_execute::DbError) -> Self {
        let status = if error.kind == graft_execute::DbErrorKind::Connection {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(error.code(), error.message).with_status(status)
    }

    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({"path": self.path, "error": self.message, "code": self.code});
        if let Some(internal) = &self.internal {
            body["internal"] = (**internal).clone();
        }
        body
    }
}

impl From<graft_execute::DbError> for ApiError {
    fn from(error: graft_execute::DbError) -> Self {
        ApiError::from_db(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
