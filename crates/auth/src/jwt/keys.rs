//! Verification keys: a configured `type` + `key` (HMAC secret or PEM), or one JWK of a fetched
//! set. Each key carries the exact algorithms it may verify, so a token cannot pick a weaker
//! or different family (`alg: none`, HMAC keyed with an RSA public key, ...).

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::config::{AuthConfigError, JwtAlgorithm};

pub(crate) struct VerificationKey {
    pub kid: Option<String>,
    pub key: DecodingKey,
    pub algorithms: Vec<Algorithm>,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// Builds the key of a `type` + `key` secret. Errors never quote the key.
pub(crate) fn static_key(
    algorithm: JwtAlgorithm,
    key: &str,
) -> Result<VerificationKey, AuthConfigError> {
    let invalid = |what: &str| {
        AuthConfigError::InvalidJwtSecret(format!("Invalid JWK: {what} for type {algorithm:?}"))
    };
    let (decoding_key, alg) = match algorithm {
        JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512 => {
            let (alg, bits) = match algorithm {
                JwtAlgorithm::HS256 => (Algorithm::HS256, 256),
                JwtAlgorithm::HS384 => (Algorithm::HS384, 384),
                _ => (Algorithm::HS512, 512),
            };
            if key.len() < bits / 8 {
                return Err(AuthConfigError::InvalidJwtSecret(format!(
                    "Invalid JWK: Key size too small; should be atleast {} characters",
                    bits / 8
                )));
            }
            (DecodingKey::from_secret(key.as_bytes()), alg)
        }
        JwtAlgorithm::RS256 | JwtAlgorithm::RS384 | JwtAlgorithm::RS512 => {
            let alg = match algorithm {
                JwtAlgorithm::RS256 => Algorithm::RS256,
                JwtAlgorithm::RS384 => Algorithm::RS384,
                _ => Algorithm::RS512,
            };
            let decoding_key = DecodingKey::from_rsa_pem(key.as_bytes())
                .map_err(|_| invalid("not a PEM RSA public key or certificate"))?;
            (decoding_key, alg)
        }
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => {
            let alg = if algorithm == JwtAlgorithm::ES256 {
                Algorithm::ES256
            } else {
                Algorithm::ES384
            };
            let decoding_key = DecodingKey::from_ec_pem(key.as_bytes())
                .map_err(|_| invalid("not a PEM EC public key or certificate"))?;
            (decoding_key, alg)
        }
        JwtAlgorithm::Ed25519 => {
            let decoding_key = DecodingKey::from_ed_pem(key.as_bytes())
                .map_err(|_| invalid("not a PEM Ed25519 public key"))?;
            (decoding_key, Algorithm::EdDSA)
        }
    };
    Ok(VerificationKey {
        kid: None,
        key: decoding_key,
        algorithms: vec![alg],
    })
}

const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// One JWK of a fetched set, or `None` when graft cannot or must not use it (encryption keys,
/// symmetric keys published at a URL, unknown curves, malformed members).
pub(crate) fn jwk_key(jwk: &Value) -> Option<VerificationKey> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|usage| usage != "sig") {
        return None;
    }
    let declared_alg = match text("alg") {
        None => None,
        Some(name) => Some(parse_algorithm(name)?),
    };
    let (key, family): (DecodingKey, Vec<Algorithm>) = match text("kty")? {
        "RSA" => (
            DecodingKey::from_rsa_components(text("n")?, text("e")?).ok()?,
            RSA_ALGORITHMS.to_vec(),
        ),
        "EC" => {
            let alg = match text("crv")? {
                "P-256" => Algorithm::ES256,
                "P-384" => Algorithm::ES384,
                _ => return None,
            };
            (
                DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?,
                vec![alg],
            )
        }
        "OKP" if text("crv")? == "Ed25519" => (
            DecodingKey::from_ed_components(text("x")?).ok()?,
            vec![Algorithm::EdDSA],
        ),
        _ => return None,
    };
    let algorithms = match declared_alg {
        Some(alg) if family.contains(&alg) => vec![alg],
        Some(_) => return None,
        None => family,
    };
    Some(VerificationKey {
        kid: text("kid").map(str::to_string),
        key,
        algorithms,
    })
}

fn parse_algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}
