//! The request-time authentication error, shaped like Hasura's `QErr`: an HTTP status, a
//! machine code (`access-denied`, `invalid-jwt`, ...) and a message. Messages never carry a
//! secret, a key or a token: they name what was wrong, not what was sent.

/// Why a request could not be authenticated. `status` is the status Hasura attaches to the
/// error (400 or 401, 500 for a broken webhook); the server decides the wire status (on
/// `/v1/graphql` Hasura answers 200 with an `errors` array).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AuthError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl AuthError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> AuthError {
        AuthError {
            status,
            code,
            message: message.into(),
        }
    }

    /// Hasura's `throw401`: a missing/wrong admin secret, a webhook that said 401.
    pub(crate) fn unauthorized(message: impl Into<String>) -> AuthError {
        AuthError::new(401, "access-denied", message)
    }

    /// Hasura's `throw400 AccessDenied`: the requested role is not allowed.
    pub(crate) fn access_denied(message: impl Into<String>) -> AuthError {
        AuthError::new(400, "access-denied", message)
    }

    pub(crate) fn invalid_headers(message: impl Into<String>) -> AuthError {
        AuthError::new(400, "invalid-headers", message)
    }

    pub(crate) fn invalid_jwt(message: impl Into<String>) -> AuthError {
        AuthError::new(400, "invalid-jwt", message)
    }

    pub(crate) fn invalid_claims(message: impl Into<String>) -> AuthError {
        AuthError::new(400, "jwt-invalid-claims", message)
    }

    pub(crate) fn missing_role_claims(message: impl Into<String>) -> AuthError {
        AuthError::new(400, "jwt-missing-role-claims", message)
    }

    pub(crate) fn invalid_params(message: impl Into<String>) -> AuthError {
        AuthError::new(400, "invalid-params", message)
    }

    /// Hasura's `throw500`: the webhook failed or answered something unusable.
    pub(crate) fn unexpected(message: impl Into<String>) -> AuthError {
        AuthError::new(500, "unexpected", message)
    }
}
