//! `jwk_url`: a local JWKS server, key rotation by `kid`, Cache-Control expiry, the refetch
//! rate limit, and start-up failure.

use std::time::Duration;

use graft_auth::{AuthConfig, Authenticator};
use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::support::*;

async fn jwk_authenticator(
    url: &str,
    min_refetch: Duration,
) -> Result<Authenticator, graft_auth::AuthConfigError> {
    let secret = json!({"jwk_url": url}).to_string();
    let mut config: AuthConfig = config(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_JWT_SECRET", &secret),
    ]);
    config.jwt[0].jwk_min_refetch_interval = min_refetch;
    Authenticator::new(config).await
}

fn token(key: &str, kid: Option<&str>) -> String {
    let claims = hasura_claims("user", &["user"], json!({"x-hasura-user-id": "8"}));
    sign(Algorithm::RS256, &key_file(key), kid, &claims)
}

async fn verifies(auth: &Authenticator, token: &str) -> bool {
    auth.authenticate(&headers(&[("Authorization", &bearer(token))]))
        .await
        .is_ok()
}

#[tokio::test]
async fn keys_of_every_type_are_used_from_the_set() {
    let (url, state) = jwks_server(vec![jwk("rsa1"), jwk("p256"), jwk("ed25519")], None).await;
    let auth = jwk_authenticator(&url, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(state.fetches(), 1);
    let claims = hasura_claims("user", &["user"], json!({}));
    assert!(verifies(&auth, &token("rsa1.key.pem", Some("rsa1"))).await);
    assert!(verifies(&auth, &token("rsa1.key.pem", None)).await);
    assert!(
        verifies(
            &auth,
            &sign(
                Algorithm::ES256,
                &key_file("p256.key.pem"),
                Some("p256"),
                &claims
            )
        )
        .await
    );
    assert!(
        verifies(
            &auth,
            &sign(
                Algorithm::EdDSA,
                &key_file("ed25519.key.pem"),
                None,
                &claims
            )
        )
        .await
    );
    // A kid naming one key but signed by another is refused.
    assert!(!verifies(&auth, &token("rsa2.key.pem", Some("rsa1"))).await);
}

#[tokio::test]
async fn an_unknown_kid_triggers_a_refetch_after_rotation() {
    let (url, state) = jwks_server(vec![jwk("rsa1")], None).await;
    let auth = jwk_authenticator(&url, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(verifies(&auth, &token("rsa1.key.pem", Some("rsa1"))).await);
    assert_eq!(state.fetches(), 1, "a known kid needs no fetch");

    state.set_keys(vec![jwk("rsa2")]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(verifies(&auth, &token("rsa2.key.pem", Some("rsa2"))).await);
    assert_eq!(state.fetches(), 2);
    // The old key is gone from the set now.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let old = auth
        .authenticate(&headers(&[(
            "Authorization",
            &bearer(&token("rsa1.key.pem", Some("rsa1"))),
        )]))
        .await;
    assert_rejected(old, "invalid-jwt", "NoUsableKeys");
}

#[tokio::test]
async fn forged_kids_cannot_flood_the_issuer() {
    let (url, state) = jwks_server(vec![jwk("rsa1")], None).await;
    let auth = jwk_authenticator(&url, Duration::from_secs(30))
        .await
        .unwrap();
    for n in 0..50 {
        let kid = format!("forged-{n}");
        assert!(!verifies(&auth, &token("rsa1.key.pem", Some(&kid))).await);
    }
    assert_eq!(state.fetches(), 1, "refetches are rate limited");
}

#[tokio::test]
async fn cache_control_max_age_expires_the_set() {
    let (url, state) = jwks_server(vec![jwk("rsa1")], Some("public, max-age=1")).await;
    let auth = jwk_authenticator(&url, Duration::from_millis(50))
        .await
        .unwrap();
    // No kid: nothing asks for a refetch except the set's age.
    assert!(verifies(&auth, &token("rsa1.key.pem", None)).await);
    state.set_keys(vec![jwk("rsa2")]);
    assert!(!verifies(&auth, &token("rsa2.key.pem", None)).await);
    assert_eq!(state.fetches(), 1, "still fresh: no refetch");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(verifies(&auth, &token("rsa2.key.pem", None)).await);
    assert_eq!(state.fetches(), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_previous_keys() {
    let (url, state) = jwks_server(vec![jwk("rsa1")], Some("no-store")).await;
    let auth = jwk_authenticator(&url, Duration::from_millis(10))
        .await
        .unwrap();
    *state.status.lock().unwrap() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(verifies(&auth, &token("rsa1.key.pem", None)).await);
    assert!(state.fetches() >= 2, "a refresh was attempted");
}

#[tokio::test]
async fn a_declared_alg_restricts_the_key() {
    let mut restricted = jwk("rsa1");
    restricted["alg"] = json!("RS256");
    let (url, _state) = jwks_server(vec![restricted], None).await;
    let auth = jwk_authenticator(&url, Duration::from_secs(30))
        .await
        .unwrap();
    let claims = hasura_claims("user", &["user"], json!({}));
    assert!(
        verifies(
            &auth,
            &sign(Algorithm::RS256, &key_file("rsa1.key.pem"), None, &claims)
        )
        .await
    );
    assert!(
        !verifies(
            &auth,
            &sign(Algorithm::RS512, &key_file("rsa1.key.pem"), None, &claims)
        )
        .await
    );
}

#[tokio::test]
async fn start_up_fails_when_the_set_cannot_be_fetched() {
    let (url, state) = jwks_server(vec![], None).await;
    *state.status.lock().unwrap() = axum::http::StatusCode::NOT_FOUND;
    let error = jwk_authenticator(&url, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
    assert!(
        jwk_authenticator("http://127.0.0.1:1/jwks", Duration::from_secs(1))
            .await
            .is_err()
    );
}
