//! JWT mode: find the token (Authorization bearer, a cookie or a custom header), pick the JWT
//! secret it belongs to (by location, then by issuer, as Hasura does with several secrets),
//! verify it, and turn its claims into a session with the requested or default role.
//!
//! Session variables come only from the verified claims: in JWT mode a client's own
//! `X-Hasura-*` headers are ignored, except `X-Hasura-Role`, which may only pick one of the
//! token's allowed roles.

pub mod claims;
pub(crate) mod jwks;
pub(crate) mod keys;

use std::sync::Arc;

use base64::Engine;
use graft_schema::Session;
use http::HeaderMap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::Value;

use crate::config::{AuthConfigError, JwtConfig, JwtKeySource, TokenLocation};
use crate::error::AuthError;
use crate::jwt::jwks::JwkSetCache;
use crate::jwt::keys::{VerificationKey, static_key};
use crate::session::{make_session, requested_role, variables_from_headers};

enum KeySet {
    Static(Arc<Vec<VerificationKey>>),
    Remote(JwkSetCache),
}

/// One configured JWT secret, ready to verify tokens.
pub(crate) struct JwtVerifier {
    config: JwtConfig,
    keys: KeySet,
}

impl JwtVerifier {
    pub(crate) async fn new(
        config: JwtConfig,
        client: reqwest::Client,
    ) -> Result<JwtVerifier, AuthConfigError> {
        let keys = match &config.key {
            JwtKeySource::Key { algorithm, key } => {
                KeySet::Static(Arc::new(vec![static_key(*algorithm, key)?]))
            }
            JwtKeySource::JwkUrl(url) => KeySet::Remote(
                JwkSetCache::fetch(url.clone(), client, config.jwk_min_refetch_interval).await?,
            ),
        };
        Ok(JwtVerifier { config, keys })
    }

    async fn verify(&self, token: &str) -> Result<Value, AuthError> {
        let header = decode_header(token).map_err(|_| {
            AuthError::invalid_jwt(
                "Could not verify JWT: JWSError (CompactDecodeError Invalid token)",
            )
        })?;
        let keys = match &self.keys {
            KeySet::Static(keys) => keys.clone(),
            KeySet::Remote(cache) => cache.keys_for(header.kid.as_deref()).await,
        };
        let with_kid = |key: &&VerificationKey| match &header.kid {
            Some(kid) => key.kid.as_deref() == Some(kid.as_str()),
            None => true,
        };
        let mut candidates: Vec<&VerificationKey> = keys.iter().filter(with_kid).collect();
        if candidates.is_empty() {
            // A `kid` that no key names may still be meant for the keys that name none.
            candidates = keys.iter().filter(|key| key.kid.is_none()).collect();
        }
        candidates.retain(|key| key.algorithms.contains(&header.alg));
        if candidates.is_empty() {
            return Err(AuthError::invalid_jwt(
                "Could not verify JWT: JWSError NoUsableKeys",
            ));
        }
        let validation = self.validation(header.alg);
        let mut last_error = None;
        for key in candidates {
            match decode::<Value>(token, &key.key, &validation) {
                Ok(data) => {
                    check_time_claims(&data.claims)?;
                    return Ok(data.claims);
                }
                // The signature did not match this key: another key of the set may match.
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {
                    last_error = Some(error);
                }
                Err(error) => return Err(jwt_error(error.kind())),
            }
        }
        Err(jwt_error(
            last_error
                .as_ref()
                .map_or(&ErrorKind::InvalidSignature, |e| e.kind()),
        ))
    }

    fn validation(&self, alg: jsonwebtoken::Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        // Hasura (jose) checks `exp`, `nbf`, `aud` and `iss` when present, requires none.
        validation.required_spec_claims.clear();
        validation.leeway = self.config.allowed_skew.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        match &self.config.audience {
            Some(audience) => validation.set_audience(audience),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.config.issuer {
            validation.set_issuer(&[issuer]);
        }
        validation
    }
}

/// jsonwebtoken skips an `exp`/`nbf` it cannot parse; a token must not pass because of that.
fn check_time_claims(claims: &Value) -> Result<(), AuthError> {
    for name in ["exp", "nbf", "iat"] {
        if claims.get(name).is_some_and(|v| !v.is_number()) {
            return Err(AuthError::invalid_jwt(format!(
                "Could not verify JWT: JWTClaimsSetDecodeError \"{name} is not a NumericDate\""
            )));
        }
    }
    Ok(())
}

fn jwt_error(kind: &ErrorKind) -> AuthError {
    let reason = match kind {
        ErrorKind::ExpiredSignature => "JWTExpired",
        ErrorKind::ImmatureSignature => "JWTNotYetValid",
        ErrorKind::InvalidAudience => "JWTNotInAudience",
        ErrorKind::InvalidIssuer => "JWTNotInIssuer",
        ErrorKind::InvalidSignature => "JWSError JWSInvalidSignature",
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "JWSError NoUsableKeys",
        ErrorKind::Json(_) => "JWTClaimsSetDecodeError",
        _ => "JWSError (CompactDecodeError Invalid token)",
    };
    AuthError::invalid_jwt(format!("Could not verify JWT: {reason}"))
}

/// Where a token was found; `Authorization` values still hold the `Bearer ` prefix.
fn find_token<'h>(
    location: &TokenLocation,
    headers: &'h HeaderMap,
) -> Result<Option<&'h str>, AuthError> {
    match location {
        TokenLocation::Authorization => {
            let Some(value) = headers.get(http::header::AUTHORIZATION) else {
                return Ok(None);
            };
            let malformed = || AuthError::invalid_headers("Malformed Authorization header");
            let value = value.to_str().map_err(|_| malformed())?;
            let mut words = value.split_ascii_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => {
                    Ok(Some(token))
                }
                _ => Err(malformed()),
            }
        }
        TokenLocation::Cookie(name) => Ok(headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.split_once('='))
            .find(|(cookie, _)| cookie.trim() == name)
            .map(|(_, value)| value.trim().trim_matches('"'))),
        TokenLocation::CustomHeader(name) => Ok(headers
            .get(name.as_str())
            .and_then(|value| value.to_str().ok())
            .map(str::trim)),
    }
}

/// The `iss` of a token read WITHOUT verification: used only to choose which secret verifies
/// it, never to trust anything.
fn unverified_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

/// JWT mode for one request. `unauthorized_role` applies only when no configured location
/// holds a token.
/// Also returns the token's `exp` (Unix seconds), when it has one.
pub(crate) async fn authenticate(
    verifiers: &[JwtVerifier],
    headers: &HeaderMap,
    unauthorized_role: Option<&str>,
) -> Result<(Session, Option<u64>), AuthError> {
    let mut matching = Vec::new();
    let mut issuer_mismatch = false;
    for verifier in verifiers {
        let Some(token) = find_token(&verifier.config.token_location, headers)? else {
            continue;
        };
        let issuer_matches = match (&verifier.config.issuer, unverified_issuer(token)) {
            (Some(expected), Some(actual)) => *expected == actual,
            _ => true,
        };
        if issuer_matches {
            matching.push((verifier, token));
        } else {
            issuer_mismatch = true;
        }
    }
    let (verifier, token) = match matching.as_slice() {
        [] if issuer_mismatch => {
            return Err(AuthError::invalid_jwt(
                "Could not verify JWT: JWTNotInIssuer",
            ));
        }
        [] => {
            return match unauthorized_role {
                Some(role) => Ok((
                    make_session(role.to_string(), variables_from_headers(headers), false),
                    None,
                )),
                None => Err(AuthError::invalid_headers(
                    "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
                )),
            };
        }
        [one] => *one,
        _ => {
            return Err(AuthError::invalid_headers(
                "Could not verify JWT: Multiple JWTs found",
            ));
        }
    };
    let payload = verifier.verify(token).await?;
    let token_claims = claims::extract(&payload, &verifier.config.claims)?;
    let role = requested_role(headers).unwrap_or_else(|| token_claims.default_role.clone());
    if !token_claims.allowed_roles.contains(&role) {
        return Err(AuthError::access_denied(
            "Your requested role is not in allowed roles",
        ));
    }
    let expires = payload.get("exp").and_then(serde_json::Value::as_u64);
    Ok((make_session(role, token_claims.variables, false), expires))
}
