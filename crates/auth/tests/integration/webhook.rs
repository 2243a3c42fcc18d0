//! Auth webhook in GET and POST modes against a local hook, with caching.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use graft_auth::Authenticator;
use serde_json::{Value, json};

use crate::support::*;

#[derive(Default)]
struct Hook {
    calls: AtomicUsize,
}

/// Answers by the bearer token it receives, like a real hook deciding from credentials.
fn answer(authorization: Option<&str>, seen: Vec<String>, request: Value) -> Response {
    let seen = seen.join(",");
    match authorization {
        Some("Bearer cached-user") => Json(json!({
            "X-Hasura-Role": "user",
            "X-Hasura-User-Id": "1",
            "X-Hasura-Seen-Headers": seen,
            "X-Hasura-Query": request.get("query").cloned().unwrap_or(Value::Null),
            "Cache-Control": "max-age=60",
        })),
        Some("Bearer uncached-user") => {
            Json(json!({"X-Hasura-Role": "user", "X-Hasura-User-Id": 2}))
        }
        Some("Bearer header-cached") => {
            let mut response = Json(json!({"X-Hasura-Role": "editor"})).into_response();
            response
                .headers_mut()
                .insert("cache-control", "max-age=60".parse().unwrap());
            return response;
        }
        Some("Bearer no-role") => Json(json!({"X-Hasura-User-Id": "3"})),
        Some("Bearer broken") => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
        }
        Some("Bearer not-json") => return (StatusCode::OK, "hello").into_response(),
        Some("Bearer anonymous") | None => Json(json!({"X-Hasura-Role": "anonymous"})),
        _ => return (StatusCode::UNAUTHORIZED, "{}").into_response(),
    }
    .into_response()
}

use axum::Json;

async fn get_hook(State(hook): State<Arc<Hook>>, headers: HeaderMap) -> Response {
    hook.calls.fetch_add(1, Ordering::SeqCst);
    let mut seen: Vec<String> = headers.keys().map(|k| k.as_str().to_string()).collect();
    seen.sort();
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        user_agent.starts_with("graft/"),
        "client user-agent must not be forwarded"
    );
    answer(authorization, seen, Value::Null)
}

async fn post_hook(State(hook): State<Arc<Hook>>, Json(body): Json<Value>) -> Response {
    hook.calls.fetch_add(1, Ordering::SeqCst);
    let authorization = body["headers"]["authorization"].as_str();
    let mut seen: Vec<String> = body["headers"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    seen.sort();
    answer(authorization, seen, body["request"].clone())
}

async fn hook_authenticator(mode: &str) -> (Authenticator, Arc<Hook>) {
    let hook = Arc::new(Hook::default());
    let router = Router::new()
        .route("/hook", get(get_hook).post(post_hook))
        .with_state(hook.clone());
    let address = serve(router).await;
    let url = format!("http://{address}/hook");
    let auth = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_AUTH_HOOK", &url),
        ("HASURA_GRAPHQL_AUTH_HOOK_MODE", mode),
    ])
    .await;
    (auth, hook)
}

#[tokio::test]
async fn get_mode_forwards_headers_and_caches_by_max_age() {
    let (auth, hook) = hook_authenticator("GET").await;
    let request = headers(&[
        ("Authorization", "Bearer cached-user"),
        ("X-Hasura-Role", "user"),
        ("Content-Type", "application/json"),
        ("User-Agent", "curl/8"),
        ("Connection", "keep-alive"),
    ]);
    let session = auth.authenticate(&request).await.unwrap();
    assert_eq!(session.role, "user");
    assert!(!session.has_admin_credentials);
    assert_eq!(variable(&session, "x-hasura-user-id"), Some("1"));
    let seen = variable(&session, "x-hasura-seen-headers").unwrap();
    assert!(
        seen.contains("authorization") && seen.contains("x-hasura-role"),
        "{seen}"
    );
    assert!(
        !seen.contains("content-type") && !seen.contains("connection"),
        "{seen}"
    );

    auth.authenticate(&request).await.unwrap();
    assert_eq!(
        hook.calls.load(Ordering::SeqCst),
        1,
        "second call served from the cache"
    );

    // Other credentials are a different cache entry.
    let other = headers(&[("Authorization", "Bearer uncached-user")]);
    let session = auth.authenticate(&other).await.unwrap();
    assert_eq!(variable(&session, "x-hasura-user-id"), Some("2"));
    auth.authenticate(&other).await.unwrap();
    assert_eq!(
        hook.calls.load(Ordering::SeqCst),
        3,
        "no lifetime given: not cached"
    );

    let by_header = headers(&[("Authorization", "Bearer header-cached")]);
    assert_eq!(auth.authenticate(&by_header).await.unwrap().role, "editor");
    auth.authenticate(&by_header).await.unwrap();
    assert_eq!(
        hook.calls.load(Ordering::SeqCst),
        4,
        "HTTP Cache-Control is honoured too"
    );

    let anonymous = auth.authenticate(&headers(&[])).await.unwrap();
    assert_eq!(anonymous.role, "anonymous");
}

#[tokio::test]
async fn post_mode_sends_headers_and_the_request() {
    let (auth, hook) = hook_authenticator("POST").await;
    let request_headers = headers(&[
        ("Authorization", "Bearer cached-user"),
        ("Content-Type", "application/json"),
    ]);
    let body = json!({"query": "{ users { id } }"});
    let session = auth
        .authenticate_request(&request_headers, Some(&body))
        .await
        .unwrap();
    assert_eq!(
        variable(&session, "x-hasura-query"),
        Some("{ users { id } }")
    );
    let seen = variable(&session, "x-hasura-seen-headers").unwrap();
    assert!(
        seen.contains("authorization") && seen.contains("content-type"),
        "{seen}"
    );
    auth.authenticate_request(&request_headers, Some(&body))
        .await
        .unwrap();
    assert_eq!(hook.calls.load(Ordering::SeqCst), 1);
    // Another request body is another question for the hook.
    auth.authenticate_request(&request_headers, Some(&json!({"query": "{ x }"})))
        .await
        .unwrap();
    assert_eq!(hook.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn hook_rejections_and_failures() {
    for mode in ["GET", "POST"] {
        let (auth, _hook) = hook_authenticator(mode).await;
        let call = |token: &str| {
            let value = format!("Bearer {token}");
            let auth = &auth;
            async move {
                auth.authenticate(&headers(&[("Authorization", &value)]))
                    .await
            }
        };
        let denied = assert_rejected(
            call("wrong").await,
            "access-denied",
            "Authentication hook unauthorized this request",
        );
        assert_eq!(denied.status, 401);
        let broken = assert_rejected(
            call("broken").await,
            "unexpected",
            "Invalid response from authorization hook",
        );
        assert_eq!(broken.status, 500);
        assert_rejected(
            call("not-json").await,
            "unexpected",
            "Invalid response from authorization hook",
        );
        assert_rejected(
            call("no-role").await,
            "invalid-params",
            "x-hasura-role not found",
        );
        // The admin secret bypasses the hook.
        let admin = auth
            .authenticate(&headers(&[
                ("X-Hasura-Admin-Secret", ADMIN_SECRET),
                ("Authorization", "Bearer wrong"),
            ]))
            .await
            .unwrap();
        assert_eq!(admin.role, "admin");
    }
}

#[tokio::test]
async fn an_unreachable_hook_is_an_internal_error() {
    let auth = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_AUTH_HOOK", "http://127.0.0.1:1/hook"),
    ])
    .await;
    let error = assert_rejected(
        auth.authenticate(&headers(&[("Authorization", "Bearer x")]))
            .await,
        "unexpected",
        "webhook authentication request failed",
    );
    assert_eq!(error.status, 500);
}
