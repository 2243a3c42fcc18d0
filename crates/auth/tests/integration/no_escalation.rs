//! Property-style: no mix of headers an attacker can send yields admin, or a role the
//! request was not granted, and no error repeats what was sent.
//!
//! A seeded generator (reproducible, no extra dependency) combines random `X-Hasura-*`
//! headers, wrong admin secrets and hostile tokens: tampered payloads, `alg: none`, HMAC keyed
//! with the RSA public key (algorithm confusion), foreign keys, expired tokens, garbage.

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::*;

/// xorshift64*: small, deterministic, good enough to explore combinations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const ROLES: &[&str] = &[
    "admin",
    "user",
    "editor",
    "root",
    "anonymous",
    "Admin",
    "",
    "user,admin",
];

fn wrong_secrets() -> Vec<String> {
    vec![
        String::new(),
        "correct-admin-secret ".into(),
        "correct-admin-secre".into(),
        "CORRECT-ADMIN-SECRET".into(),
        "correct-admin-secret\t".into(),
        "x".repeat(300),
        "guess".into(),
    ]
}

/// The only token a request may legitimately hold: roles user/editor, user id 77.
fn granted_claims() -> Value {
    hasura_claims(
        "user",
        &["user", "editor"],
        json!({"x-hasura-user-id": "77"}),
    )
}

fn hostile_tokens() -> Vec<String> {
    let admin_claims = hasura_claims(
        "admin",
        &["admin", "user"],
        json!({"x-hasura-user-id": "1"}),
    );
    let valid = rs256(&granted_claims());
    let rsa_public = key_file("rsa1.pub.pem");
    let mut expired_admin = admin_claims.clone();
    expired_admin["exp"] = json!(now() - 3600);
    vec![
        with_payload(&valid, &admin_claims),
        alg_none_token(&admin_claims),
        sign(Algorithm::HS256, &rsa_public, None, &admin_claims),
        sign(Algorithm::HS512, &rsa_public, None, &admin_claims),
        sign(
            Algorithm::RS256,
            &key_file("rsa2.key.pem"),
            None,
            &admin_claims,
        ),
        sign(
            Algorithm::ES256,
            &key_file("p256.key.pem"),
            None,
            &admin_claims,
        ),
        sign(
            Algorithm::RS256,
            &key_file("rsa1.key.pem"),
            None,
            &expired_admin,
        ),
        format!("{valid}x"),
        valid.replace('.', ""),
        "a.b.c".into(),
        String::new(),
    ]
}

#[tokio::test]
async fn no_header_combination_escalates() {
    let secret = json!({"type": "RS256", "key": key_file("rsa1.pub.pem")}).to_string();
    let with_unauthorized = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_JWT_SECRET", &secret),
        ("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous"),
    ])
    .await;
    let without_unauthorized = rsa_jwt_authenticator(json!({})).await;
    let secret_only = authenticator(&[
        ("HASURA_GRAPHQL_ADMIN_SECRET", ADMIN_SECRET),
        ("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous"),
    ])
    .await;
    let valid = rs256(&granted_claims());
    let hostile = hostile_tokens();
    let wrong = wrong_secrets();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let mut accepted = 0;
    for case in 0..600 {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for _ in 0..rng.below(4) {
            let name = *rng.pick(&[
                "X-Hasura-Role",
                "x-hasura-user-id",
                "X-Hasura-Allowed-Roles",
                "x-hasura-default-role",
                "X-Hasura-Org-Id",
            ]);
            let value = if name.to_ascii_lowercase().contains("role") {
                rng.pick(ROLES).to_string()
            } else {
                rng.below(1000).to_string()
            };
            pairs.push((name.to_string(), value));
        }
        if rng.below(3) == 0 {
            let name = *rng.pick(&["X-Hasura-Admin-Secret", "X-Hasura-Access-Key"]);
            pairs.push((name.to_string(), rng.pick(&wrong).clone()));
        }
        let holds_valid_token = match rng.below(4) {
            0 => false,
            1 => {
                pairs.push(("Authorization".into(), bearer(&valid)));
                true
            }
            _ => {
                let token = rng.pick(&hostile).clone();
                let location = *rng.pick(&["Authorization", "Cookie", "X-Auth-Token"]);
                let value = match location {
                    "Authorization" => bearer(&token),
                    "Cookie" => format!("jwt={token}"),
                    _ => token,
                };
                pairs.push((location.to_string(), value));
                false
            }
        };
        let header_refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = headers(&header_refs);
        let auths = [&with_unauthorized, &without_unauthorized, &secret_only];
        let auth = auths[case % auths.len()];
        match auth.authenticate(&request).await {
            Ok(session) => {
                accepted += 1;
                assert!(!session.has_admin_credentials, "case {case}: {pairs:?}");
                assert_ne!(
                    session.role.to_ascii_lowercase(),
                    "admin",
                    "case {case}: {pairs:?}"
                );
                let granted: &[&str] = if holds_valid_token && case % auths.len() != 2 {
                    &["user", "editor"]
                } else {
                    &["anonymous"]
                };
                assert!(
                    granted.contains(&session.role.as_str()),
                    "case {case}: role {} not granted; {pairs:?}",
                    session.role
                );
                if granted.contains(&"user") {
                    assert_eq!(
                        variable(&session, "x-hasura-user-id"),
                        Some("77"),
                        "case {case}"
                    );
                }
            }
            Err(error) => {
                let text = error.to_string();
                for (_, value) in &pairs {
                    if value.len() > 8 {
                        assert!(
                            !text.contains(value.as_str()),
                            "case {case}: error echoes input: {text}"
                        );
                    }
                }
                assert!(!text.contains(ADMIN_SECRET));
            }
        }
    }
    assert!(
        accepted > 50,
        "the generator should also produce accepted requests ({accepted})"
    );
}
