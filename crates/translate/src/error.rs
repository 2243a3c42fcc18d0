//! The one error of the v1 data API: Hasura's `{code, error, path}` triple.

/// An error answered to the client with status 400. `path` is a JSON path into the request, as
/// Hasura writes it (`$.args.columns[0]`; parse errors use paths relative to `args`, `$.limit`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RqlError {
    pub code: &'static str,
    pub message: String,
    pub path: String,
}

impl RqlError {
    pub fn new(code: &'static str, message: impl Into<String>, path: impl Into<String>) -> Self {
        RqlError {
            code,
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn parse_failed(message: impl Into<String>, path: impl Into<String>) -> Self {
        RqlError::new("parse-failed", message, path)
    }

    pub fn permission_denied(message: impl Into<String>, path: impl Into<String>) -> Self {
        RqlError::new("permission-denied", message, path)
    }

    pub fn not_exists(message: impl Into<String>, path: impl Into<String>) -> Self {
        RqlError::new("not-exists", message, path)
    }

    pub fn not_supported(message: impl Into<String>, path: impl Into<String>) -> Self {
        RqlError::new("not-supported", message, path)
    }

    /// A statement that the translator itself could not print (an identifier with NUL, ...).
    pub fn internal(message: impl Into<String>) -> Self {
        RqlError::new("unexpected", message, "$")
    }
}
