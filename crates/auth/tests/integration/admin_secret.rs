//! Open mode, admin secret(s), the unauthorized role, and Hasura's start-up rules.

use graft_auth::{AuthConfig, Authenticator};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn without_a_secret_headers_are_trusted_and_role_defaults_to_admin() {
    let auth = authenticator(&[]).await;
    let admin = auth.authenticate(&headers(&[])).await.unwrap();
    assert_eq!(admin.role, "admin");
    assert!(admin.has_admin_credentials);

    let user = auth
        .authenticate(&headers(&[
            ("X-Hasura-Role", "user"),
            ("X-Hasura-User-Id", "42"),
        ]))
        .await
        .unwrap();
    assert_eq!(user.role, "user");
    assert_eq!(variable(&user, "x-hasura-user-id"), Some("42"));
    assert_eq!(variable(&user, "x-hasura-role"), Some("user"));
}

#[tokio::test]
async fn the_right_secret_is_admin_or_acts_as_the_requested_role() {
    let auth = authenticator(&[("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET)]).await;
    let admin = auth
        .authenticate(&headers(&[("X-Hasura-Admin-Secret", ADMIN_SECRET)]))
        .await
        .unwrap();
    assert_eq!(admin.role, "admin");
    assert!(admin.has_admin_credentials);
    assert!(!admin.variables.contains_key("x-hasura-admin-secret"));

    let as_user = auth
        .authenticate(&headers(&[
            ("x-hasura-admin-secret", ADMIN_SECRET),
            ("X-Hasura-Role", "user"),
            ("X-Hasura-User-Id", "7"),
        ]))
        .await
        .unwrap();
    assert_eq!(as_user.role, "user");
    assert!(as_user.has_admin_credentials);
    assert_eq!(variable(&as_user, "x-hasura-user-id"), Some("7"));
    assert!(!as_user.variables.contains_key("x-hasura-admin-secret"));

    let legacy = auth
        .authenticate(&headers(&[("X-Hasura-Access-Key", ADMIN_SECRET)]))
        .await
        .unwrap();
    assert_eq!(legacy.role, "admin");
}

#[tokio::test]
async fn wrong_or_missing_secrets_are_refused_with_401() {
    let auth = authenticator(&[("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET)]).await;
    let wrong = assert_rejected(
        auth.authenticate(&headers(&[("X-Hasura-Admin-Secret", "guess")]))
            .await,
        "access-denied",
        "invalid x-hasura-admin-secret/x-hasura-access-key",
    );
    assert_eq!(wrong.status, 401);
    assert!(!wrong.to_string().contains("guess"));
    let empty = auth
        .authenticate(&headers(&[("X-Hasura-Admin-Secret", "")]))
        .await;
    assert_rejected(empty, "access-denied", "invalid x-hasura-admin-secret");
    let missing = assert_rejected(
        auth.authenticate(&headers(&[("X-Hasura-Role", "user")]))
            .await,
        "access-denied",
        "x-hasura-admin-secret/x-hasura-access-key required, but not found",
    );
    assert_eq!(missing.status, 401);
}

#[tokio::test]
async fn unauthorized_role_applies_only_when_no_secret_is_sent() {
    let auth = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous"),
    ])
    .await;
    let anonymous = auth
        .authenticate(&headers(&[
            ("X-Hasura-Role", "admin"),
            ("X-Hasura-User-Id", "3"),
        ]))
        .await
        .unwrap();
    assert_eq!(anonymous.role, "anonymous");
    assert!(!anonymous.has_admin_credentials);
    assert_eq!(variable(&anonymous, "x-hasura-role"), Some("anonymous"));
    assert_rejected(
        auth.authenticate(&headers(&[("X-Hasura-Admin-Secret", "wrong")]))
            .await,
        "access-denied",
        "invalid x-hasura-admin-secret",
    );
}

#[tokio::test]
async fn every_secret_of_a_list_is_accepted() {
    let auth = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", "first-secret"),
        (
            "HASURA_GRAPHQL_ADMIN_SECRETS",
            r#"["second-secret", "third-secret"]"#,
        ),
    ])
    .await;
    for secret in ["first-secret", "second-secret", "third-secret"] {
        let session = auth
            .authenticate(&headers(&[("X-Hasura-Admin-Secret", secret)]))
            .await
            .unwrap();
        assert_eq!(session.role, "admin");
    }
    assert!(
        auth.authenticate(&headers(&[("X-Hasura-Admin-Secret", "fourth-secret")]))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn hasura_start_up_rules_are_enforced() {
    let jwt = json!({"type": "HS256", "key": HMAC_SECRET}).to_string();
    let cases: &[&[(&str, &str)]] = &[
        &[("HASURA_GRAPHQL_JWT_SECRET", &jwt)],
        &[("HASURA_GRAPHQL_AUTH_HOOK", "http://127.0.0.1:1/hook")],
        &[("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous")],
        &[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            ("HASURA_GRAPHQL_JWT_SECRET", &jwt),
            ("HASURA_GRAPHQL_AUTH_HOOK", "http://127.0.0.1:1/hook"),
        ],
        &[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            ("HASURA_GRAPHQL_AUTH_HOOK", "http://127.0.0.1:1/hook"),
            ("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous"),
        ],
        &[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            ("HASURA_GRAPHQL_AUTH_HOOK", "http://127.0.0.1:1/hook"),
            ("HASURA_GRAPHQL_AUTH_HOOK_MODE", "PUT"),
        ],
        &[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            (
                "HASURA_GRAPHQL_JWT_SECRET",
                r#"{"type": "HS256", "key": "short"}"#,
            ),
        ],
        &[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            (
                "HASURA_GRAPHQL_JWT_SECRET",
                r#"{"type": "RS256", "key": "not a pem"}"#,
            ),
        ],
        &[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            (
                "HASURA_GRAPHQL_JWT_SECRET",
                r#"{"type": "XS256", "key": "whatever"}"#,
            ),
        ],
    ];
    for vars in cases {
        let result = AuthConfig::from_env(&|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        });
        let error = result.expect_err(&format!("{vars:?} should be refused"));
        let text = error.to_string();
        assert!(
            !text.contains(ADMIN_SECRET) && !text.contains(HMAC_SECRET),
            "{text}"
        );
    }
    // A config built by hand goes through the same checks.
    let by_hand = AuthConfig {
        unauthorized_role: Some("anonymous".into()),
        ..AuthConfig::default()
    };
    assert!(Authenticator::new(by_hand).await.is_err());
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let jwt = json!({"type": "HS256", "key": HMAC_SECRET}).to_string();
    let config = config(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_JWT_SECRET", &jwt),
    ]);
    let config_text = format!("{config:?}");
    let auth = Authenticator::new(config).await.unwrap();
    let auth_text = format!("{auth:?}");
    for text in [config_text, auth_text] {
        assert!(!text.contains(ADMIN_SECRET), "{text}");
        assert!(!text.contains(HMAC_SECRET), "{text}");
    }
}
