//! Webhook mode (HARNESS.md 4.4): the auth webhook Hasura's suite runs beside the engine
//! (`server/tests-py/webhook.py`, `HASURA_GRAPHQL_AUTH_HOOK`), and how a case's role headers
//! become a bearer token it understands.
//!
//! A step with headers is sent with only `Authorization: Bearer <base64 of the headers as JSON,
//! plus X-Hasura-Auth-Mode: webhook>`; the webhook decodes the token and answers the headers as
//! the session. Any other token (the random one sent first, which must be refused) gets 401.
//! Steps without headers are admin steps and carry the admin secret. The engine's hook mode is
//! GET (the default): the client's headers arrive as the webhook request's headers; a POST with
//! `{"headers": {...}}` is understood too.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use tokio::task::JoinHandle;

/// The folders replayed in webhook mode: the permission folders, where the session matters.
pub const FOLDERS: &[&str] = &[
    "graphql_query/permissions",
    "graphql_query/agg_perm",
    "v1/select/permissions",
    "v1/insert/permissions",
    "v1/permissions",
    "graphql_mutation/insert/permissions",
    "graphql_mutation/update/permissions",
    "graphql_mutation/delete/permissions",
];

/// Whether `folder` is replayed in webhook mode (a permission folder or one below it).
pub fn covers(folder: &str) -> bool {
    FOLDERS
        .iter()
        .any(|f| folder == *f || folder.starts_with(&format!("{f}/")))
}

/// The `Authorization` value carrying a case's headers to the webhook.
pub fn bearer_for(headers: &[(String, String)]) -> String {
    let mut session = Map::new();
    for (name, value) in headers {
        session.insert(name.clone(), Value::String(value.clone()));
    }
    session.insert(
        "X-Hasura-Auth-Mode".to_string(),
        Value::String("webhook".to_string()),
    );
    let json = Value::Object(session).to_string();
    format!("Bearer {}", STANDARD.encode(json))
}

/// A token the webhook refuses: base64 of base64 of random bytes, as the suite sends.
pub fn random_bearer() -> String {
    let random = crate::engine::random_secret();
    format!(
        "Bearer {}",
        STANDARD.encode(STANDARD.encode(random.as_bytes()))
    )
}

/// A running webhook; dropping it stops it.
pub struct AuthWebhook {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for AuthWebhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start() -> std::io::Result<AuthWebhook> {
    let app = Router::new().route("/", get(on_get).post(on_post));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://127.0.0.1:{}/", listener.local_addr()?.port());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(AuthWebhook { url, task })
}

async fn on_get(headers: HeaderMap) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    answer(authorization)
}

async fn on_post(body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = body["headers"]
        .as_object()
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, value)| value.as_str())
        })
        .unwrap_or_default();
    answer(authorization)
}

fn answer(authorization: &str) -> Response {
    match session_of(authorization) {
        Some(session) => axum::Json(session).into_response(),
        None => (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({}))).into_response(),
    }
}

/// The session a token carries: the JSON object it encodes, string values only.
fn session_of(authorization: &str) -> Option<Value> {
    let token = authorization.strip_prefix("Bearer ")?;
    let bytes = STANDARD.decode(token.trim()).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let object = value.as_object()?;
    object.values().all(Value::is_string).then(|| value.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_random_ones_are_refused() {
        let headers = vec![
            ("X-Hasura-Role".to_string(), "user".to_string()),
            ("X-Hasura-User-Id".to_string(), "1".to_string()),
        ];
        let session = session_of(&bearer_for(&headers)).unwrap();
        assert_eq!(session["X-Hasura-Role"], "user");
        assert_eq!(session["X-Hasura-User-Id"], "1");
        assert_eq!(session["X-Hasura-Auth-Mode"], "webhook");
        assert!(session_of(&random_bearer()).is_none());
        assert!(session_of("Basic abc").is_none());
    }

    #[test]
    fn covers_permission_folders_only() {
        assert!(covers("graphql_query/permissions"));
        assert!(covers("graphql_query/permissions/roles_inheritance"));
        assert!(covers("graphql_mutation/insert/permissions"));
        assert!(!covers("graphql_query/permissions_x"));
        assert!(!covers("graphql_query/basic"));
    }

    #[tokio::test]
    async fn the_server_answers_sessions_and_refusals() {
        let hook = start().await.unwrap();
        let client = reqwest::Client::new();
        let good = bearer_for(&[("X-Hasura-Role".to_string(), "user".to_string())]);
        let reply = client
            .get(&hook.url)
            .header("authorization", &good)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 200);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["X-Hasura-Role"], "user");
        let reply = client
            .post(&hook.url)
            .json(&serde_json::json!({"headers": {"Authorization": random_bearer()}}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 401);
    }
}
