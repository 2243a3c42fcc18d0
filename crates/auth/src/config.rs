//! Auth configuration: the `HASURA_GRAPHQL_*` values (admin secrets, JWT secrets as JSON,
//! auth webhook, unauthorized role) parsed and checked the way Hasura v2 checks them at start.
//!
//! Secrets live here as plain strings, so every type holding one has a hand-written `Debug`
//! that prints `<redacted>` instead.

use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::jwt::claims::{JsonPath, JsonPathError};

/// Hasura's default place for the session claims inside a token.
pub const DEFAULT_CLAIMS_NAMESPACE: &str = "https://hasura.io/jwt/claims";

/// How long an unknown `kid` must wait after the previous JWKS fetch before it may trigger
/// another one: a flood of forged `kid`s must not become a flood of requests to the issuer.
pub const DEFAULT_JWK_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("{var} is not valid JSON of the expected shape: {reason}")]
    InvalidJson { var: &'static str, reason: String },
    #[error("invalid JWT secret: {0}")]
    InvalidJwtSecret(String),
    #[error("Fatal Error: {0}")]
    Conflict(String),
    #[error("invalid {var}: {reason}")]
    InvalidValue { var: &'static str, reason: String },
    #[error("could not fetch the JWK set from {url}: {reason}")]
    JwkFetch { url: String, reason: String },
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

/// Everything that decides how a request becomes a session.
#[derive(Clone, Default)]
pub struct AuthConfig {
    pub admin_secrets: Vec<String>,
    pub jwt: Vec<JwtConfig>,
    pub webhook: Option<WebhookConfig>,
    pub unauthorized_role: Option<String>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "admin_secrets",
                &format_args!("<{} redacted>", self.admin_secrets.len()),
            )
            .field("jwt", &self.jwt)
            .field("webhook", &self.webhook)
            .field("unauthorized_role", &self.unauthorized_role)
            .finish()
    }
}

/// The JWT signing algorithms graft verifies (`type` in the JWT secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    ES256,
    ES384,
    Ed25519,
}

impl JwtAlgorithm {
    fn parse(name: &str) -> Result<JwtAlgorithm, AuthConfigError> {
        Ok(match name {
            "HS256" => JwtAlgorithm::HS256,
            "HS384" => JwtAlgorithm::HS384,
            "HS512" => JwtAlgorithm::HS512,
            "RS256" => JwtAlgorithm::RS256,
            "RS384" => JwtAlgorithm::RS384,
            "RS512" => JwtAlgorithm::RS512,
            "ES256" => JwtAlgorithm::ES256,
            "ES384" => JwtAlgorithm::ES384,
            "Ed25519" | "EdDSA" => JwtAlgorithm::Ed25519,
            other => {
                return Err(AuthConfigError::InvalidJwtSecret(format!(
                    "Invalid JWK: Key type: {other} is not supported"
                )));
            }
        })
    }
}

/// Where the verification keys come from.
#[derive(Clone)]
pub enum JwtKeySource {
    /// `type` + `key`: an HMAC secret or a PEM public key / certificate.
    Key {
        algorithm: JwtAlgorithm,
        key: String,
    },
    /// `jwk_url`: a JWK set fetched at start and refreshed.
    JwkUrl(String),
}

impl fmt::Debug for JwtKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtKeySource::Key { algorithm, .. } => f
                .debug_struct("Key")
                .field("algorithm", algorithm)
                .field("key", &"<redacted>")
                .finish(),
            JwtKeySource::JwkUrl(url) => f.debug_tuple("JwkUrl").field(url).finish(),
        }
    }
}

/// `claims_format`: the namespace value is an object, or a string holding JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimsFormat {
    Json,
    StringifiedJson,
}

/// Where the `x-hasura-*` claims are found in a token.
#[derive(Debug, Clone)]
pub enum ClaimsSource {
    /// Under one key (`claims_namespace`) of the payload.
    Namespace { key: String, format: ClaimsFormat },
    /// At a JSON path (`claims_namespace_path`) of the payload.
    NamespacePath {
        path: JsonPath,
        format: ClaimsFormat,
    },
    /// `claims_map`: each session variable from its own path (or a literal).
    Map(Box<ClaimsMap>),
}

#[derive(Debug, Clone)]
pub struct ClaimsMap {
    pub default_role: ClaimValue,
    pub allowed_roles: ClaimValue,
    /// Other session variables, names lower-cased.
    pub others: IndexMap<String, ClaimValue>,
}

#[derive(Debug, Clone)]
pub enum ClaimValue {
    Path {
        path: JsonPath,
        default: Option<serde_json::Value>,
    },
    Literal(serde_json::Value),
}

/// Which request header carries the token (`header` in the JWT secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// `Authorization: Bearer <token>` (the default).
    Authorization,
    /// A cookie of this name in the `Cookie` header.
    Cookie(String),
    /// The whole value of this header (name lower-cased).
    CustomHeader(String),
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub key: JwtKeySource,
    pub claims: ClaimsSource,
    pub audience: Option<Vec<String>>,
    pub issuer: Option<String>,
    pub allowed_skew: Duration,
    pub token_location: TokenLocation,
    /// Not a Hasura setting: see [`DEFAULT_JWK_MIN_REFETCH_INTERVAL`].
    pub jwk_min_refetch_interval: Duration,
}

/// Unknown fields are ignored, as Hasura ignores them.
#[derive(Deserialize)]
struct RawJwtConfig {
    #[serde(rename = "type")]
    key_type: Option<String>,
    key: Option<String>,
    jwk_url: Option<String>,
    claims_namespace: Option<String>,
    claims_namespace_path: Option<String>,
    claims_format: Option<ClaimsFormat>,
    claims_map: Option<serde_json::Map<String, serde_json::Value>>,
    audience: Option<StringOrList>,
    issuer: Option<String>,
    allowed_skew: Option<f64>,
    header: Option<RawHeader>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawHeader {
    #[serde(rename = "type")]
    header_type: String,
    name: Option<String>,
}

impl JwtConfig {
    /// Parses one JWT secret object, as in `HASURA_GRAPHQL_JWT_SECRET`.
    pub fn from_json(text: &str) -> Result<JwtConfig, AuthConfigError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AuthConfigError::InvalidJson {
                var: "HASURA_GRAPHQL_JWT_SECRET",
                reason: e.to_string(),
            })?;
        JwtConfig::from_value(value)
    }

    pub fn from_value(value: serde_json::Value) -> Result<JwtConfig, AuthConfigError> {
        let raw: RawJwtConfig =
            serde_json::from_value(value).map_err(|e| AuthConfigError::InvalidJson {
                var: "HASURA_GRAPHQL_JWT_SECRET",
                reason: e.to_string(),
            })?;
        let bad = |msg: &str| AuthConfigError::InvalidJwtSecret(msg.to_string());
        let key = match (raw.key, raw.jwk_url) {
            (None, None) => return Err(bad("key and jwk_url both cannot be empty")),
            (Some(_), Some(_)) => return Err(bad("key, jwk_url both cannot be present")),
            (Some(key), None) => {
                let key_type = raw
                    .key_type
                    .ok_or_else(|| bad("\"type\" is required with \"key\""))?;
                let algorithm = JwtAlgorithm::parse(&key_type)?;
                // Fail at start, not on the first request, when the key is unusable.
                crate::jwt::keys::static_key(algorithm, &key)?;
                JwtKeySource::Key { algorithm, key }
            }
            (None, Some(url)) => JwtKeySource::JwkUrl(url),
        };
        let format = raw.claims_format.unwrap_or(ClaimsFormat::Json);
        let claims = match (
            raw.claims_map,
            raw.claims_namespace,
            raw.claims_namespace_path,
        ) {
            (Some(map), _, _) => ClaimsSource::Map(Box::new(parse_claims_map(map)?)),
            (None, Some(_), Some(_)) => {
                return Err(bad(
                    "claims_namespace and claims_namespace_path both cannot be set",
                ));
            }
            (None, None, Some(path)) => ClaimsSource::NamespacePath {
                path: JsonPath::parse(&path).map_err(|e| {
                    bad(&format!(
                        "invalid JSON path claims_namespace_path error: {e}"
                    ))
                })?,
                format,
            },
            (None, key, None) => ClaimsSource::Namespace {
                key: key.unwrap_or_else(|| DEFAULT_CLAIMS_NAMESPACE.to_string()),
                format,
            },
        };
        let token_location = match raw.header {
            None => TokenLocation::Authorization,
            Some(header) => match (
                header.header_type.to_ascii_lowercase().as_str(),
                header.name,
            ) {
                ("authorization", _) => TokenLocation::Authorization,
                ("cookie", Some(name)) => TokenLocation::Cookie(name),
                ("customheader", Some(name)) => {
                    TokenLocation::CustomHeader(name.to_ascii_lowercase())
                }
                _ => {
                    return Err(bad(
                        "expected 'type' is 'Authorization' or 'Cookie' or 'CustomHeader' (the last two with a 'name')",
                    ));
                }
            },
        };
        let allowed_skew = match raw.allowed_skew {
            None => Duration::ZERO,
            Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
            Some(_) => return Err(bad("allowed_skew must be a non-negative number of seconds")),
        };
        Ok(JwtConfig {
            key,
            claims,
            audience: raw.audience.map(|a| match a {
                StringOrList::One(one) => vec![one],
                StringOrList::Many(many) => many,
            }),
            issuer: raw.issuer,
            allowed_skew,
            token_location,
            jwk_min_refetch_interval: DEFAULT_JWK_MIN_REFETCH_INTERVAL,
        })
    }
}

const ALLOWED_ROLES: &str = "x-hasura-allowed-roles";
const DEFAULT_ROLE: &str = "x-hasura-default-role";

fn parse_claims_map(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<ClaimsMap, AuthConfigError> {
    let mut others = IndexMap::new();
    let mut default_role = None;
    let mut allowed_roles = None;
    for (name, value) in map {
        let name = name.to_ascii_lowercase();
        let value = parse_claim_value(&name, value)?;
        match name.as_str() {
            DEFAULT_ROLE => default_role = Some(value),
            ALLOWED_ROLES => allowed_roles = Some(value),
            _ => {
                others.insert(name, value);
            }
        }
    }
    let missing =
        |name: &str| AuthConfigError::InvalidJwtSecret(format!("{name} is expected but not found"));
    Ok(ClaimsMap {
        allowed_roles: allowed_roles.ok_or_else(|| missing(ALLOWED_ROLES))?,
        default_role: default_role.ok_or_else(|| missing(DEFAULT_ROLE))?,
        others,
    })
}

fn parse_claim_value(name: &str, value: serde_json::Value) -> Result<ClaimValue, AuthConfigError> {
    let serde_json::Value::Object(mut object) = value else {
        return Ok(ClaimValue::Literal(value));
    };
    let path = match object.remove("path") {
        Some(serde_json::Value::String(path)) => path,
        _ => {
            return Err(AuthConfigError::InvalidJwtSecret(format!(
                "claims_map.{name}: expected a literal value or an object with a string \"path\""
            )));
        }
    };
    let path = JsonPath::parse(&path).map_err(|e: JsonPathError| {
        AuthConfigError::InvalidJwtSecret(format!("claims_map.{name}: {e}"))
    })?;
    Ok(ClaimValue::Path {
        path,
        default: object.remove("default"),
    })
}

/// `HASURA_GRAPHQL_AUTH_HOOK_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookMode {
    Get,
    Post,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub mode: WebhookMode,
}

impl AuthConfig {
    /// Reads the `HASURA_GRAPHQL_*` auth variables through `env` (so tests and the CLI can
    /// supply their own source) and checks the combination as Hasura does at start.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<AuthConfig, AuthConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut admin_secrets = Vec::new();
        if let Some(secret) =
            get("HASURA_GRAPHQL_ADMIN_SECRET").or_else(|| get("HASURA_GRAPHQL_ACCESS_KEY"))
        {
            admin_secrets.push(secret);
        }
        if let Some(list) = get("HASURA_GRAPHQL_ADMIN_SECRETS") {
            let secrets: Vec<String> =
                serde_json::from_str(&list).map_err(|_| AuthConfigError::InvalidJson {
                    var: "HASURA_GRAPHQL_ADMIN_SECRETS",
                    // The serde message could quote part of a secret: say only what is expected.
                    reason: "expected a JSON array of strings".to_string(),
                })?;
            admin_secrets.extend(secrets.into_iter().filter(|s| !s.is_empty()));
        }

        let mut jwt = Vec::new();
        if let Some(text) = get("HASURA_GRAPHQL_JWT_SECRET") {
            jwt.push(JwtConfig::from_json(&text)?);
        }
        if let Some(text) = get("HASURA_GRAPHQL_JWT_SECRETS") {
            let list: Vec<serde_json::Value> =
                serde_json::from_str(&text).map_err(|e| AuthConfigError::InvalidJson {
                    var: "HASURA_GRAPHQL_JWT_SECRETS",
                    reason: e.to_string(),
                })?;
            for value in list {
                jwt.push(JwtConfig::from_value(value)?);
            }
        }

        let webhook = match get("HASURA_GRAPHQL_AUTH_HOOK") {
            None => None,
            Some(url) => {
                let mode = match get("HASURA_GRAPHQL_AUTH_HOOK_MODE")
                    .map(|m| m.trim().to_ascii_uppercase())
                    .as_deref()
                {
                    None | Some("GET") => WebhookMode::Get,
                    Some("POST") => WebhookMode::Post,
                    Some(_) => {
                        return Err(AuthConfigError::InvalidValue {
                            var: "HASURA_GRAPHQL_AUTH_HOOK_MODE",
                            reason: "expected GET or POST".to_string(),
                        });
                    }
                };
                Some(WebhookConfig { url, mode })
            }
        };

        let config = AuthConfig {
            admin_secrets,
            jwt,
            webhook,
            unauthorized_role: get("HASURA_GRAPHQL_UNAUTHORIZED_ROLE"),
        };
        config.validate()?;
        Ok(config)
    }

    /// Hasura's start-up rules: JWT and webhook modes need an admin secret, cannot be combined,
    /// and the unauthorized role does not apply to the webhook (the hook decides anonymous).
    pub fn validate(&self) -> Result<(), AuthConfigError> {
        let conflict = |msg: &str| Err(AuthConfigError::Conflict(msg.to_string()));
        const NEEDS_SECRET: &str =
            " requires --admin-secret (HASURA_GRAPHQL_ADMIN_SECRET) to be set";
        if !self.jwt.is_empty() && self.webhook.is_some() {
            return conflict("Both webhook and JWT mode cannot be enabled at the same time");
        }
        if self.admin_secrets.is_empty() {
            if self.webhook.is_some() {
                return conflict(&format!(
                    "--auth-hook (HASURA_GRAPHQL_AUTH_HOOK){NEEDS_SECRET}"
                ));
            }
            if !self.jwt.is_empty() {
                return conflict(&format!(
                    "--jwt-secret (HASURA_GRAPHQL_JWT_SECRET){NEEDS_SECRET}"
                ));
            }
        }
        if self.unauthorized_role.is_some()
            && (self.admin_secrets.is_empty() || self.webhook.is_some())
        {
            return conflict(&format!(
                "--unauthorized-role (HASURA_GRAPHQL_UNAUTHORIZED_ROLE){NEEDS_SECRET} and is not allowed when --auth-hook (HASURA_GRAPHQL_AUTH_HOOK) is set"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn from_pairs(pairs: &[(&str, &str)]) -> Result<AuthConfig, AuthConfigError> {
        AuthConfig::from_env(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    const HS_KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_and_legacy_names() {
        let config = from_pairs(&[
            ("HASURA_GRAPHQL_ACCESS_KEY", "legacy"),
            ("HASURA_GRAPHQL_AUTH_HOOK", "http://hook"),
        ])
        .unwrap();
        assert_eq!(config.admin_secrets, vec!["legacy"]);
        assert_eq!(config.webhook.unwrap().mode, WebhookMode::Get);

        let secret = format!(r#"{{"type": "HS256", "key": "{HS_KEY}", "future_field": 1}}"#);
        let config = from_pairs(&[
            ("HASURA_GRAPHQL_ADMIN_SECRET", "s"),
            ("HASURA_GRAPHQL_JWT_SECRET", &secret),
        ])
        .unwrap();
        let jwt = &config.jwt[0];
        assert_eq!(jwt.token_location, TokenLocation::Authorization);
        assert_eq!(jwt.allowed_skew, Duration::ZERO);
        assert!(matches!(
            &jwt.claims,
            ClaimsSource::Namespace { key, format: ClaimsFormat::Json } if key == DEFAULT_CLAIMS_NAMESPACE
        ));
    }

    #[test]
    fn invalid_jwt_secrets_are_refused() {
        for secret in [
            r#"{"type": "HS256"}"#.to_string(),
            format!(r#"{{"type": "HS256", "key": "{HS_KEY}", "jwk_url": "http://x"}}"#),
            format!(
                r#"{{"type": "HS256", "key": "{HS_KEY}", "claims_namespace": "a", "claims_namespace_path": "$.a"}}"#
            ),
            format!(
                r#"{{"type": "HS256", "key": "{HS_KEY}", "claims_map": {{"x-hasura-default-role": "user"}}}}"#
            ),
            format!(r#"{{"type": "HS256", "key": "{HS_KEY}", "header": {{"type": "Cookie"}}}}"#),
            format!(r#"{{"type": "HS256", "key": "{HS_KEY}", "allowed_skew": -1}}"#),
            format!(r#"{{"type": "HS512", "key": "{HS_KEY}"}}"#),
            r#"{"jwk_url": "http://x", "claims_namespace_path": "$."}"#.to_string(),
        ] {
            let error = JwtConfig::from_json(&secret).expect_err(&secret);
            assert!(!error.to_string().contains(HS_KEY), "{error}");
        }
    }
}
