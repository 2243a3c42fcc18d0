//! Keys, token signing, header maps and the local JWKS / webhook servers the tests talk to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use graft_auth::{AuthConfig, AuthError, Authenticator, Session};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub const ADMIN_SECRET: &str = "correct-admin-secret";
pub const HMAC_SECRET: &str = "an-hmac-secret-of-at-least-64-characters-0123456789abcdefghijklm";

pub fn key_file(name: &str) -> String {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A public JWK from `tests/keys/jwks_parts.json` (rsa1, rsa2, p256, ed25519).
pub fn jwk(name: &str) -> Value {
    let parts: Value = serde_json::from_str(&key_file("jwks_parts.json")).unwrap();
    parts[name].clone()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A claims set with the Hasura namespace and a one-hour lifetime.
pub fn hasura_claims(default_role: &str, allowed: &[&str], extra: Value) -> Value {
    let mut namespace = json!({
        "x-hasura-default-role": default_role,
        "x-hasura-allowed-roles": allowed,
    });
    if let Value::Object(extra) = extra {
        namespace.as_object_mut().unwrap().extend(extra);
    }
    json!({
        "sub": "1234",
        "iat": now(),
        "exp": now() + 3600,
        "https://hasura.io/jwt/claims": namespace,
    })
}

pub fn encoding_key(alg: Algorithm, key: &str) -> EncodingKey {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            EncodingKey::from_secret(key.as_bytes())
        }
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(key.as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(key.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(key.as_bytes()).unwrap(),
    }
}

/// Signs `claims` with `alg`; `key` is the HMAC secret or the private key PEM.
pub fn sign(alg: Algorithm, key: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    encode(&header, claims, &encoding_key(alg, key)).unwrap()
}

pub fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, &key_file("rsa1.key.pem"), None, claims)
}

pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            axum::http::HeaderName::try_from(*name).unwrap(),
            value.parse().unwrap(),
        );
    }
    map
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn config(vars: &[(&str, &str)]) -> AuthConfig {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    AuthConfig::from_env(&|name| vars.get(name).cloned()).unwrap()
}

pub async fn authenticator(vars: &[(&str, &str)]) -> Authenticator {
    Authenticator::new(config(vars)).await.unwrap()
}

/// An RS256 JWT-mode authenticator keyed with `rsa1`, with the admin secret.
pub async fn rsa_jwt_authenticator(extra_secret_fields: Value) -> Authenticator {
    let mut secret = json!({"type": "RS256", "key": key_file("rsa1.pub.pem")});
    if let Value::Object(extra) = extra_secret_fields {
        secret.as_object_mut().unwrap().extend(extra);
    }
    authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_JWT_SECRET", &secret.to_string()),
    ])
    .await
}

#[track_caller]
pub fn assert_rejected(result: Result<Session, AuthError>, code: &str, message: &str) -> AuthError {
    let error = result.expect_err("expected a rejection");
    assert_eq!(error.code, code, "{error:?}");
    assert!(
        error.message.contains(message),
        "message {:?} should contain {message:?}",
        error.message
    );
    error
}

pub fn variable<'s>(session: &'s Session, name: &str) -> Option<&'s str> {
    session.variables.get(name).map(String::as_str)
}

/// Serves on 127.0.0.1 on a free port until the test's runtime ends.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

/// What the JWKS server answers; changed by tests to rotate keys.
pub struct JwksState {
    pub keys: Mutex<Vec<Value>>,
    pub cache_control: Mutex<Option<String>>,
    pub status: Mutex<StatusCode>,
    pub fetches: AtomicUsize,
}

impl JwksState {
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = keys;
    }
}

pub async fn jwks_server(
    keys: Vec<Value>,
    cache_control: Option<&str>,
) -> (String, Arc<JwksState>) {
    let state = Arc::new(JwksState {
        keys: Mutex::new(keys),
        cache_control: Mutex::new(cache_control.map(str::to_string)),
        status: Mutex::new(StatusCode::OK),
        fetches: AtomicUsize::new(0),
    });
    async fn handler(State(state): State<Arc<JwksState>>) -> Response {
        state.fetches.fetch_add(1, Ordering::SeqCst);
        let status = *state.status.lock().unwrap();
        let body = json!({"keys": *state.keys.lock().unwrap()}).to_string();
        let mut response = (status, body).into_response();
        if let Some(value) = state.cache_control.lock().unwrap().clone() {
            response
                .headers_mut()
                .insert("cache-control", value.parse().unwrap());
        }
        response
    }
    let router = Router::new()
        .route("/jwks", get(handler))
        .with_state(state.clone());
    let address = serve(router).await;
    (format!("http://{address}/jwks"), state)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An unsigned token (`alg: none`) carrying `claims`.
pub fn alg_none_token(claims: &Value) -> String {
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{}.", b64(claims.to_string().as_bytes()))
}

/// `token` with its payload swapped for `claims`, the original signature kept.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    )
}
