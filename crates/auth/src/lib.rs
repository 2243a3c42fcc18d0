//! graft-auth: the first stage of every request. HTTP headers in, a [`Session`] (role,
//! session variables, whether admin credentials were sent) or an [`AuthError`] out, exactly
//! as Hasura GraphQL Engine v2 authenticates:
//!
//! - no admin secret configured: every request is trusted; `X-Hasura-Role` (default `admin`)
//!   and the other `X-Hasura-*` headers are the session;
//! - admin secret(s): a matching `X-Hasura-Admin-Secret` (or legacy `X-Hasura-Access-Key`)
//!   makes the request admin, or lets it act as the `X-Hasura-Role` it names; a wrong secret
//!   is refused; without a secret the request goes to JWT or webhook mode when configured,
//!   else to the unauthorized role, else it is refused;
//! - JWT ([`jwt`]): a verified token's claims are the session;
//! - auth webhook ([`webhook`]): the hook's answer is the session.
//!
//! Built once at start by [`Authenticator::new`] from an [`AuthConfig`] (usually
//! [`AuthConfig::from_env`]), shared by all requests. The server calls
//! [`Authenticator::authenticate`] before parsing anything and maps [`AuthError`] to the wire.
//! Secrets, keys and tokens never reach logs, errors or `Debug` output.

mod admin_secret;
pub mod config;
mod error;
pub mod jwt;
mod session;
pub mod webhook;

use std::fmt;
use std::time::Duration;

pub use config::{
    AuthConfig, AuthConfigError, ClaimValue, ClaimsFormat, ClaimsMap, ClaimsSource, JwtAlgorithm,
    JwtConfig, JwtKeySource, TokenLocation, WebhookConfig, WebhookMode,
};
pub use error::AuthError;
pub use graft_schema::Session;
pub use webhook::IGNORED_HEADERS;

use admin_secret::{AdminSecrets, SentSecret};
use http::HeaderMap;
use jwt::JwtVerifier;
use session::{ADMIN_ROLE, make_session, requested_role, variables_from_headers};
use webhook::WebhookClient;

enum Mode {
    /// No admin secret: everything is trusted.
    Open,
    AdminSecretOnly,
    Jwt(Vec<JwtVerifier>),
    Webhook(WebhookClient),
}

/// Authenticates requests; cheap to share behind an `Arc`.
pub struct Authenticator {
    mode: Mode,
    admin_secrets: AdminSecrets,
    unauthorized_role: Option<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::Open => "open",
            Mode::AdminSecretOnly => "admin-secret",
            Mode::Jwt(_) => "jwt",
            Mode::Webhook(_) => "webhook",
        };
        f.debug_struct("Authenticator")
            .field("mode", &mode)
            .field("admin_secrets", &self.admin_secrets)
            .field("unauthorized_role", &self.unauthorized_role)
            .finish()
    }
}

impl Authenticator {
    /// Checks the configuration and fetches every `jwk_url` once (a failure is an error: the
    /// server must not start unable to verify tokens).
    pub async fn new(config: AuthConfig) -> Result<Authenticator, AuthConfigError> {
        config.validate()?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("graft/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| AuthConfigError::HttpClient(e.to_string()))?;
        let admin_secrets = AdminSecrets::new(&config.admin_secrets);
        let mode = if let Some(webhook) = config.webhook {
            Mode::Webhook(WebhookClient::new(webhook, client))
        } else if !config.jwt.is_empty() {
            let mut verifiers = Vec::with_capacity(config.jwt.len());
            for jwt_config in config.jwt {
                verifiers.push(JwtVerifier::new(jwt_config, client.clone()).await?);
            }
            Mode::Jwt(verifiers)
        } else if admin_secrets.is_empty() {
            Mode::Open
        } else {
            Mode::AdminSecretOnly
        };
        Ok(Authenticator {
            mode,
            admin_secrets,
            unauthorized_role: config.unauthorized_role,
        })
    }

    /// The session of a request, from its headers alone (a POST webhook gets `"request": null`).
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Session, AuthError> {
        self.authenticate_request(headers, None).await
    }

    /// As [`Authenticator::authenticate`], with the GraphQL request body that a POST-mode
    /// webhook receives as `request`.
    #[tracing::instrument(name = "auth", skip_all)]
    pub async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        request: Option<&serde_json::Value>,
    ) -> Result<Session, AuthError> {
        self.authenticate_until(headers, request)
            .await
            .map(|(session, _)| session)
    }

    /// As [`Authenticator::authenticate_request`], with the moment the credentials stop being
    /// valid (a JWT's `exp`), for connections that outlive one request.
    pub async fn authenticate_until(
        &self,
        headers: &HeaderMap,
        request: Option<&serde_json::Value>,
    ) -> Result<(Session, Option<std::time::SystemTime>), AuthError> {
        let result = self.resolve(headers, request).await;
        if let Err(error) = &result {
            tracing::debug!(
                code = error.code,
                status = error.status,
                "request not authenticated"
            );
        }
        result.map(|(session, expires)| {
            let expires =
                expires.map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
            (session, expires)
        })
    }

    async fn resolve(
        &self,
        headers: &HeaderMap,
        request: Option<&serde_json::Value>,
    ) -> Result<(Session, Option<u64>), AuthError> {
        let admin_session = || {
            make_session(
                requested_role(headers).unwrap_or_else(|| ADMIN_ROLE.to_string()),
                variables_from_headers(headers),
                true,
            )
        };
        if let Mode::Open = self.mode {
            return Ok((admin_session(), None));
        }
        if let SentSecret::Sent(secret) = AdminSecrets::sent(headers) {
            return if self.admin_secrets.accepts(secret) {
                Ok((admin_session(), None))
            } else {
                Err(AuthError::unauthorized(
                    "invalid x-hasura-admin-secret/x-hasura-access-key",
                ))
            };
        }
        match &self.mode {
            Mode::Webhook(hook) => hook
                .authenticate(headers, request)
                .await
                .map(|session| (session, None)),
            Mode::Jwt(verifiers) => {
                jwt::authenticate(verifiers, headers, self.unauthorized_role.as_deref()).await
            }
            Mode::Open | Mode::AdminSecretOnly => match &self.unauthorized_role {
                Some(role) => Ok((
                    make_session(role.clone(), variables_from_headers(headers), false),
                    None,
                )),
                None => Err(AuthError::unauthorized(
                    "x-hasura-admin-secret/x-hasura-access-key required, but not found",
                )),
            },
        }
    }
}
