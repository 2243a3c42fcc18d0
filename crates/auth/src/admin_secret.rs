//! Admin secret checks. Only SHA-512 digests of the configured secrets are kept, and a sent
//! secret is compared digest to digest in constant time, so neither the comparison's timing
//! nor a stray `Debug` can reveal a secret (the same reasons Hasura hashes its copy).

use std::fmt;

use http::HeaderMap;
use ring::digest::{SHA512, digest};

use crate::session::{ACCESS_KEY_HEADER, ADMIN_SECRET_HEADER};

/// What the request carried in `X-Hasura-Admin-Secret` (or the legacy `X-Hasura-Access-Key`).
pub(crate) enum SentSecret<'h> {
    None,
    Sent(&'h [u8]),
}

#[derive(Clone)]
pub(crate) struct AdminSecrets {
    digests: Vec<Vec<u8>>,
}

impl fmt::Debug for AdminSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminSecrets(<{} redacted>)", self.digests.len())
    }
}

impl AdminSecrets {
    pub(crate) fn new(secrets: &[String]) -> AdminSecrets {
        AdminSecrets {
            digests: secrets
                .iter()
                .map(|secret| digest(&SHA512, secret.as_bytes()).as_ref().to_vec())
                .collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    pub(crate) fn sent(headers: &HeaderMap) -> SentSecret<'_> {
        match headers
            .get(ADMIN_SECRET_HEADER)
            .or_else(|| headers.get(ACCESS_KEY_HEADER))
        {
            Some(value) => SentSecret::Sent(value.as_bytes()),
            None => SentSecret::None,
        }
    }

    /// True when `sent` is one of the configured secrets. Every configured digest is compared
    /// (no early exit), each comparison in constant time.
    pub(crate) fn accepts(&self, sent: &[u8]) -> bool {
        let sent_digest = digest(&SHA512, sent);
        self.digests.iter().fold(false, |found, configured| {
            found | constant_time_eq(configured, sent_digest.as_ref())
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_configured_secret_only() {
        let secrets = AdminSecrets::new(&["alpha-secret".into(), "beta-secret".into()]);
        assert!(secrets.accepts(b"alpha-secret"));
        assert!(secrets.accepts(b"beta-secret"));
        assert!(!secrets.accepts(b"alpha-secre"));
        assert!(!secrets.accepts(b""));
        assert!(!format!("{secrets:?}").contains("alpha"));
    }
}
