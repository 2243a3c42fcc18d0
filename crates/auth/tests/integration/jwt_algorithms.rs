//! Every supported algorithm family, with real keys and real signatures.

use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::support::*;

/// (config `type`, signing algorithm, signing key, configured verification key)
fn families() -> Vec<(&'static str, Algorithm, String, String)> {
    let hmac = HMAC_SECRET.to_string();
    vec![
        ("HS256", Algorithm::HS256, hmac.clone(), hmac.clone()),
        ("HS384", Algorithm::HS384, hmac.clone(), hmac.clone()),
        ("HS512", Algorithm::HS512, hmac.clone(), hmac),
        (
            "RS256",
            Algorithm::RS256,
            key_file("rsa1.key.pem"),
            key_file("rsa1.pub.pem"),
        ),
        (
            "RS384",
            Algorithm::RS384,
            key_file("rsa1.key.pem"),
            key_file("rsa1.pub.pem"),
        ),
        (
            "RS512",
            Algorithm::RS512,
            key_file("rsa1.key.pem"),
            key_file("rsa1.pub.pem"),
        ),
        (
            "ES256",
            Algorithm::ES256,
            key_file("p256.key.pem"),
            key_file("p256.pub.pem"),
        ),
        (
            "ES384",
            Algorithm::ES384,
            key_file("p384.key.pem"),
            key_file("p384.pub.pem"),
        ),
        (
            "Ed25519",
            Algorithm::EdDSA,
            key_file("ed25519.key.pem"),
            key_file("ed25519.pub.pem"),
        ),
    ]
}

#[tokio::test]
async fn every_algorithm_family_verifies_a_real_token() {
    for (key_type, alg, signing_key, verification_key) in families() {
        let secret = json!({"type": key_type, "key": verification_key}).to_string();
        let auth = authenticator(&[
            ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
            ("HASURA_GRAPHQL_JWT_SECRET", &secret),
        ])
        .await;
        let claims = hasura_claims("user", &["user"], json!({"x-hasura-user-id": "17"}));
        let token = sign(alg, &signing_key, None, &claims);
        let session = auth
            .authenticate(&headers(&[("Authorization", &bearer(&token))]))
            .await
            .unwrap_or_else(|e| panic!("{key_type}: {e}"));
        assert_eq!(session.role, "user", "{key_type}");
        assert!(!session.has_admin_credentials);
        assert_eq!(
            variable(&session, "x-hasura-user-id"),
            Some("17"),
            "{key_type}"
        );

        // The same claims with the signature broken by one character.
        // (A middle character: the last one may hold only base64 padding bits.)
        let signature_start = token.rfind('.').unwrap() + 1;
        let middle = signature_start + (token.len() - signature_start) / 2;
        let mut tampered = token.clone().into_bytes();
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let result = auth
            .authenticate(&headers(&[("Authorization", &bearer(&tampered))]))
            .await;
        assert_rejected(result, "invalid-jwt", "JWSInvalidSignature");
    }
}

#[tokio::test]
async fn a_token_from_another_key_or_algorithm_is_rejected() {
    let auth = rsa_jwt_authenticator(json!({})).await;
    let claims = hasura_claims("user", &["user"], json!({}));
    let other_key = sign(Algorithm::RS256, &key_file("rsa2.key.pem"), None, &claims);
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&other_key))]))
            .await,
        "invalid-jwt",
        "JWSInvalidSignature",
    );
    // Same key, but an algorithm other than the configured one.
    let other_alg = sign(Algorithm::RS512, &key_file("rsa1.key.pem"), None, &claims);
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&other_alg))]))
            .await,
        "invalid-jwt",
        "NoUsableKeys",
    );
    // HMAC keyed with the RSA public key (algorithm confusion).
    let confused = sign(Algorithm::HS256, &key_file("rsa1.pub.pem"), None, &claims);
    assert_rejected(
        auth.authenticate(&headers(&[("Authorization", &bearer(&confused))]))
            .await,
        "invalid-jwt",
        "Could not verify JWT",
    );
}
