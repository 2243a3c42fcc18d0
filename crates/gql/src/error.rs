//! Errors of this crate: building a role's schema (an internal fault: the generated SDL did not
//! validate) and request errors in Hasura's wire shape.

use serde_json::{Value, json};

/// Building a role's GraphQL schema failed. This means graft generated an invalid schema (for
/// example two tables whose custom names collide); the message carries apollo-compiler's report.
#[derive(Debug, thiserror::Error)]
pub enum GqlSchemaError {
    #[error("the generated GraphQL schema is invalid: {0}")]
    Invalid(String),
    #[error("source \"{0}\" is not in the model")]
    UnknownSource(String),
}

/// A request error as Hasura reports it: `{"message": ..., "extensions": {"code": ..., "path": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GqlError {
    pub message: String,
    /// `validation-failed`, `parse-failed`, `bad-request`, ...
    pub code: String,
    /// A JSON path into the request: `$.selectionSet.article.args.limit`.
    pub path: String,
}

impl GqlError {
    pub fn validation(path: impl Into<String>, message: impl Into<String>) -> Self {
        GqlError {
            message: message.into(),
            code: "validation-failed".to_string(),
            path: path.into(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "message": self.message,
            "extensions": {"path": self.path, "code": self.code},
        })
    }
}

impl std::fmt::Display for GqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})", self.message, self.path)
    }
}
