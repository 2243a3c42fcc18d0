//! Claims location and shape, token location, time/audience/issuer checks, role selection.

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::*;

async fn session_for(
    fields: Value,
    claims: &Value,
    extra_headers: &[(&str, &str)],
) -> Result<graft_auth::Session, graft_auth::AuthError> {
    let auth = rsa_jwt_authenticator(fields).await;
    let token = rs256(claims);
    let auth_header = bearer(&token);
    let mut pairs = vec![("Authorization", auth_header.as_str())];
    pairs.extend_from_slice(extra_headers);
    auth.authenticate(&headers(&pairs)).await
}

#[tokio::test]
async fn custom_namespace_and_namespace_path() {
    let namespace = json!({
        "x-hasura-default-role": "user",
        "x-hasura-allowed-roles": ["user"],
        "x-hasura-user-id": "5",
    });
    let session = session_for(
        json!({"claims_namespace": "myapp"}),
        &json!({"exp": now() + 60, "myapp": namespace}),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(variable(&session, "x-hasura-user-id"), Some("5"));

    let session = session_for(
        json!({"claims_namespace_path": "$.hasura['claims']"}),
        &json!({"exp": now() + 60, "hasura": {"claims": namespace}}),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(session.role, "user");

    let missing = session_for(
        json!({"claims_namespace_path": "$.hasura.claims"}),
        &json!({"exp": now() + 60, "hasura": {}}),
        &[],
    )
    .await;
    assert_rejected(
        missing,
        "jwt-invalid-claims",
        "claims not found at claims_namespace_path: '$.hasura.claims'",
    );
}

#[tokio::test]
async fn stringified_claims() {
    let namespace = json!({
        "x-hasura-default-role": "user",
        "x-hasura-allowed-roles": ["user"],
        "x-hasura-org-ids": [1, 2],
    });
    let claims = json!({
        "exp": now() + 60,
        "https://hasura.io/jwt/claims": namespace.to_string(),
    });
    let session = session_for(json!({"claims_format": "stringified_json"}), &claims, &[])
        .await
        .unwrap();
    assert_eq!(variable(&session, "x-hasura-org-ids"), Some("[1,2]"));

    let as_object = session_for(
        json!({"claims_format": "stringified_json"}),
        &hasura_claims("user", &["user"], json!({})),
        &[],
    )
    .await;
    assert_rejected(as_object, "jwt-invalid-claims", "expecting a string");
    let as_string = session_for(json!({}), &claims, &[]).await;
    assert_rejected(as_string, "jwt-invalid-claims", "expecting a json object");
}

#[tokio::test]
async fn claims_map_paths_defaults_and_literals() {
    let fields = json!({"claims_map": {
        "x-hasura-allowed-roles": {"path": "$.roles"},
        "x-hasura-default-role": {"path": "$.roles[0]"},
        "x-hasura-user-id": {"path": "$.user.id"},
        "x-hasura-team": {"path": "$.team", "default": "none"},
        "x-hasura-tenant": "acme",
    }});
    let claims = json!({"exp": now() + 60, "roles": ["editor", "user"], "user": {"id": 99}});
    let session = session_for(fields.clone(), &claims, &[]).await.unwrap();
    assert_eq!(session.role, "editor");
    assert_eq!(variable(&session, "x-hasura-user-id"), Some("99"));
    assert_eq!(variable(&session, "x-hasura-team"), Some("none"));
    assert_eq!(variable(&session, "x-hasura-tenant"), Some("acme"));

    let no_user = session_for(
        fields.clone(),
        &json!({"exp": now() + 60, "roles": ["user"]}),
        &[],
    )
    .await;
    assert_rejected(
        no_user,
        "jwt-invalid-claims",
        "JWT claim from claims_map, x-hasura-user-id not found",
    );
    let no_roles = session_for(fields, &json!({"exp": now() + 60, "user": {"id": 1}}), &[]).await;
    assert_rejected(
        no_roles,
        "jwt-missing-role-claims",
        "x-hasura-allowed-roles",
    );
}

#[tokio::test]
async fn audience_issuer_and_time_checks() {
    let base = |extra: Value| {
        let mut claims = hasura_claims("user", &["user"], json!({}));
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims
    };
    // audience: a string or a list in the config; a string or a list in the token
    for (config_aud, token_aud, ok) in [
        (json!("app-1"), json!("app-1"), true),
        (json!(["app-1", "app-2"]), json!("app-2"), true),
        (json!(["app-1"]), json!(["other", "app-1"]), true),
        (json!("app-1"), json!("app-3"), false),
    ] {
        let result = session_for(
            json!({"audience": config_aud}),
            &base(json!({"aud": token_aud})),
            &[],
        )
        .await;
        if ok {
            result.unwrap();
        } else {
            assert_rejected(result, "invalid-jwt", "JWTNotInAudience");
        }
    }
    let issuer = json!({"issuer": "https://issuer.example"});
    session_for(
        issuer.clone(),
        &base(json!({"iss": "https://issuer.example"})),
        &[],
    )
    .await
    .unwrap();
    let wrong_issuer =
        session_for(issuer, &base(json!({"iss": "https://evil.example"})), &[]).await;
    assert_rejected(wrong_issuer, "invalid-jwt", "JWTNotInIssuer");

    let expired = session_for(json!({}), &base(json!({"exp": now() - 30})), &[]).await;
    assert_rejected(expired, "invalid-jwt", "Could not verify JWT: JWTExpired");
    let future = session_for(json!({}), &base(json!({"nbf": now() + 300})), &[]).await;
    assert_rejected(future, "invalid-jwt", "JWTNotYetValid");
    // allowed_skew tolerates a token that expired 30 s ago
    session_for(
        json!({"allowed_skew": 120}),
        &base(json!({"exp": now() - 30})),
        &[],
    )
    .await
    .unwrap();
    let bad_exp = session_for(json!({}), &base(json!({"exp": "tomorrow"})), &[]).await;
    assert_rejected(bad_exp, "invalid-jwt", "Could not verify JWT");
}

#[tokio::test]
async fn cookie_and_custom_header_locations() {
    let claims = hasura_claims("user", &["user"], json!({}));
    let token = rs256(&claims);

    let cookie_auth =
        rsa_jwt_authenticator(json!({"header": {"type": "Cookie", "name": "jwt"}})).await;
    let cookie = format!("theme=dark; jwt={token}; other=1");
    let session = cookie_auth
        .authenticate(&headers(&[("Cookie", &cookie)]))
        .await
        .unwrap();
    assert_eq!(session.role, "user");
    // A bearer header is not where this secret looks.
    assert_rejected(
        cookie_auth
            .authenticate(&headers(&[
                ("Authorization", &bearer(&token)),
                ("Cookie", "refresh_token=john_doe"),
            ]))
            .await,
        "invalid-headers",
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
    );

    let custom_auth =
        rsa_jwt_authenticator(json!({"header": {"type": "CustomHeader", "name": "X-Auth-Token"}}))
            .await;
    let session = custom_auth
        .authenticate(&headers(&[("x-auth-token", &token)]))
        .await
        .unwrap();
    assert_eq!(session.role, "user");
}

#[tokio::test]
async fn requested_role_must_be_allowed() {
    let claims = hasura_claims(
        "user",
        &["user", "editor"],
        json!({"x-hasura-user-id": "1"}),
    );
    let editor = session_for(json!({}), &claims, &[("X-Hasura-Role", "editor")])
        .await
        .unwrap();
    assert_eq!(editor.role, "editor");
    assert_eq!(variable(&editor, "x-hasura-role"), Some("editor"));
    let denied = session_for(json!({}), &claims, &[("X-Hasura-Role", "admin")]).await;
    let error = assert_rejected(
        denied,
        "access-denied",
        "Your requested role is not in allowed roles",
    );
    assert_eq!(error.status, 400);
    // Client headers never add variables in JWT mode.
    let session = session_for(json!({}), &claims, &[("X-Hasura-User-Id", "999")])
        .await
        .unwrap();
    assert_eq!(variable(&session, "x-hasura-user-id"), Some("1"));
}

#[tokio::test]
async fn missing_and_malformed_tokens() {
    let auth = rsa_jwt_authenticator(json!({})).await;
    assert_rejected(
        auth.authenticate(&headers(&[("X-Hasura-Role", "user")]))
            .await,
        "invalid-headers",
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
    );
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", "Basic dXNlcjpwYXNz")]))
            .await,
        "invalid-headers",
        "Malformed Authorization header",
    );
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", "Bearer not.a.jwt")]))
            .await,
        "invalid-jwt",
        "Could not verify JWT",
    );
    let unsigned = alg_none_token(&hasura_claims("admin", &["admin"], json!({})));
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&unsigned))]))
            .await,
        "invalid-jwt",
        "Could not verify JWT",
    );
    let no_roles = rs256(
        &json!({"exp": now() + 60, "https://hasura.io/jwt/claims": {"x-hasura-user-id": "1"}}),
    );
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&no_roles))]))
            .await,
        "jwt-missing-role-claims",
        "JWT claim does not contain x-hasura-allowed-roles",
    );
}

#[tokio::test]
async fn unauthorized_role_and_admin_secret_in_jwt_mode() {
    let secret = json!({"type": "RS256", "key": key_file("rsa1.pub.pem")}).to_string();
    let auth = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_JWT_SECRET", &secret),
        ("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous"),
    ])
    .await;
    let anonymous = auth
        .authenticate(&headers(&[("X-Hasura-Role", "admin")]))
        .await
        .unwrap();
    assert_eq!(anonymous.role, "anonymous");
    // A token that is present but bad is an error, not anonymous.
    let expired = rs256(&json!({"exp": now() - 100}));
    assert!(
        auth.authenticate(&headers(&[("Authorization", &bearer(&expired))]))
            .await
            .is_err()
    );
    // The admin secret still grants admin, with or without a token.
    let admin = auth
        .authenticate(&headers(&[
            ("X-Hasura-Admin-Secret", ADMIN_SECRET),
            ("Authorization", &bearer(&expired)),
        ]))
        .await
        .unwrap();
    assert_eq!(admin.role, "admin");
    assert!(admin.has_admin_credentials);
}

#[tokio::test]
async fn several_secrets_are_told_apart_by_issuer() {
    let secrets = json!([
        {"type": "RS256", "key": key_file("rsa1.pub.pem"), "issuer": "issuer-one"},
        {"type": "HS256", "key": HMAC_SECRET, "issuer": "issuer-two"},
    ])
    .to_string();
    let auth = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_JWT_SECRETS", &secrets),
    ])
    .await;
    let with_iss = |iss: &str| {
        let mut claims = hasura_claims("user", &["user"], json!({}));
        claims["iss"] = json!(iss);
        claims
    };
    let one = rs256(&with_iss("issuer-one"));
    let two = sign(Algorithm::HS256, HMAC_SECRET, None, &with_iss("issuer-two"));
    for token in [&one, &two] {
        auth.authenticate(&headers(&[("Authorization", &bearer(token))]))
            .await
            .unwrap();
    }
    // Signed by the first secret's key but claiming the second issuer.
    let crossed = rs256(&with_iss("issuer-two"));
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&crossed))]))
            .await,
        "invalid-jwt",
        "Could not verify JWT",
    );
    let unknown = rs256(&with_iss("issuer-three"));
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&unknown))]))
            .await,
        "invalid-jwt",
        "JWTNotInIssuer",
    );
    // No iss: both secrets could claim it.
    let ambiguous = rs256(&hasura_claims("user", &["user"], json!({})));
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&ambiguous))]))
            .await,
        "invalid-headers",
        "Multiple JWTs found",
    );
}
