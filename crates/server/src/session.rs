//! Resolves a request's session from its headers: admin secret, trusted `X-Hasura-*` headers when
//! no secret is configured, or the unauthorized role. (JWT and webhook modes come with the auth
//! crate.)

use crate::config::ServerConfig;
use crate::error::ApiError;
use axum::http::{HeaderMap, StatusCode};
use graft_schema::{ADMIN_ROLE, Session};
use indexmap::IndexMap;

pub fn resolve(config: &ServerConfig, headers: &HeaderMap) -> Result<Session, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut variables: IndexMap<String, String> = IndexMap::new();
    for (name, value) in headers {
        let name = name.as_str().to_ascii_lowercase();
        if name.starts_with("x-hasura-")
            && name != "x-hasura-admin-secret"
            && name != "x-hasura-access-key"
            && let Ok(value) = value.to_str()
        {
            variables.insert(name, value.to_string());
        }
    }
    let requested_role = header("x-hasura-role").map(str::to_string);
    let has_admin_credentials = if config.admin_secrets.is_set() {
        match header("x-hasura-admin-secret").or_else(|| header("x-hasura-access-key")) {
            Some(secret) if config.admin_secrets.matches(secret) => true,
            Some(_) => {
                return Err(ApiError::new(
                    "access-denied",
                    "invalid x-hasura-admin-secret/x-hasura-access-key",
                )
                .with_status(StatusCode::UNAUTHORIZED));
            }
            None => match &config.unauthorized_role {
                Some(role) => {
                    variables.insert("x-hasura-role".to_string(), role.clone());
                    return Ok(Session {
                        role: role.clone(),
                        variables,
                        has_admin_credentials: false,
                    });
                }
                None => {
                    return Err(ApiError::new(
                        "access-denied",
                        "x-hasura-admin-secret/x-hasura-access-key required, but not found",
                    )
                    .with_status(StatusCode::UNAUTHORIZED));
                }
            },
        }
    } else {
        true
    };
    let role = requested_role.unwrap_or_else(|| ADMIN_ROLE.to_string());
    variables.insert("x-hasura-role".to_string(), role.clone());
    Ok(Session {
        role,
        variables,
        has_admin_credentials,
    })
}
