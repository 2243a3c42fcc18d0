//! The one error of GraphQL query translation, in Hasura's `{message, extensions: {code, path}}`
//! shape: a request the schema accepted but Hasura refuses (a negative limit, `distinct_on` not
//! matching `order_by`, a missing session variable).

/// A GraphQL request error. `path` is a JSON path into the request, as Hasura writes it:
/// `$.selectionSet.article.args.limit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {path})")]
pub struct GraphqlError {
    pub message: String,
    /// `validation-failed`, `not-found`, `not-supported`, `unexpected`.
    pub code: &'static str,
    pub path: String,
}

impl GraphqlError {
    pub fn new(code: &'static str, message: impl Into<String>, path: impl Into<String>) -> Self {
        GraphqlError {
            message: message.into(),
            code,
            path: path.into(),
        }
    }

    pub fn validation(message: impl Into<String>, path: impl Into<String>) -> Self {
        GraphqlError::new("validation-failed", message, path)
    }

    /// What validation would have said about a field the role may not see.
    pub fn field_not_found(field: &str, type_name: &str, path: impl Into<String>) -> Self {
        GraphqlError::validation(
            format!("field '{field}' not found in type: '{type_name}'"),
            path,
        )
    }

    pub fn not_supported(message: impl Into<String>, path: impl Into<String>) -> Self {
        GraphqlError::new("not-supported", message, path)
    }
}
