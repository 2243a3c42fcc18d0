//! A JWK set fetched from `jwk_url` and kept fresh.
//!
//! The set is fetched once at start (a failure stops the server, as in Hasura). After that it
//! is refetched lazily, by the request that finds it stale: when the `Cache-Control`
//! (`max-age`, `s-maxage`, `no-cache`, `no-store`, `must-revalidate`) or `Expires` of the last
//! response says so, or when a token names a `kid` the set does not hold (the issuer rotated
//! its keys). Every refetch, successful or not, waits at least `min_refetch_interval` after the
//! previous attempt, so forged `kid`s cannot turn graft into a request amplifier, and a failed
//! refetch keeps the previous keys.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::config::AuthConfigError;
use crate::jwt::keys::{VerificationKey, jwk_key};

#[derive(Debug, thiserror::Error)]
pub(crate) enum JwksFetchError {
    #[error("request failed: {0}")]
    Request(String),
    #[error("non-2xx response: {0}")]
    Status(u16),
    #[error("response is not a JWK set")]
    NotAJwkSet,
}

struct KeyState {
    keys: Arc<Vec<VerificationKey>>,
    expires_at: Option<Instant>,
    last_attempt: Instant,
}

pub(crate) struct JwkSetCache {
    url: String,
    client: reqwest::Client,
    min_refetch_interval: Duration,
    state: RwLock<KeyState>,
    /// One refetch at a time; the others wait and then read what it stored.
    refetch: tokio::sync::Mutex<()>,
}

impl JwkSetCache {
    pub(crate) async fn fetch(
        url: String,
        client: reqwest::Client,
        min_refetch_interval: Duration,
    ) -> Result<JwkSetCache, AuthConfigError> {
        let (keys, expires_at) =
            fetch_keys(&client, &url)
                .await
                .map_err(|e| AuthConfigError::JwkFetch {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
        Ok(JwkSetCache {
            url,
            client,
            min_refetch_interval,
            state: RwLock::new(KeyState {
                keys: Arc::new(keys),
                expires_at,
                last_attempt: Instant::now(),
            }),
            refetch: tokio::sync::Mutex::new(()),
        })
    }

    /// The keys to try for a token with this `kid`, refetching first when the set is stale
    /// or does not know the `kid`.
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> Arc<Vec<VerificationKey>> {
        if self.needs_refetch(kid).is_some() {
            let _guard = self.refetch.lock().await;
            // Another request may have refetched while this one waited.
            if self.needs_refetch(kid).is_some() {
                self.refetch_now().await;
            }
        }
        self.read_keys()
    }

    fn read_keys(&self) -> Arc<Vec<VerificationKey>> {
        match self.state.read() {
            Ok(state) => state.keys.clone(),
            Err(poisoned) => poisoned.into_inner().keys.clone(),
        }
    }

    fn needs_refetch(&self, kid: Option<&str>) -> Option<()> {
        let state = match self.state.read() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        if now.duration_since(state.last_attempt) < self.min_refetch_interval {
            return None;
        }
        let stale = state.expires_at.is_some_and(|at| at <= now);
        let unknown_kid =
            kid.is_some_and(|kid| !state.keys.iter().any(|k| k.kid.as_deref() == Some(kid)));
        (stale || unknown_kid).then_some(())
    }

    async fn refetch_now(&self) {
        let result = fetch_keys(&self.client, &self.url).await;
        let mut state = match self.state.write() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.last_attempt = Instant::now();
        match result {
            Ok((keys, expires_at)) => {
                tracing::info!(url = %self.url, keys = keys.len(), "refreshed JWK set");
                state.keys = Arc::new(keys);
                state.expires_at = expires_at;
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "JWK set refresh failed; keeping the previous keys");
            }
        }
    }
}

async fn fetch_keys(
    client: &reqwest::Client,
    url: &str,
) -> Result<(Vec<VerificationKey>, Option<Instant>), JwksFetchError> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| JwksFetchError::Request(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(JwksFetchError::Status(status.as_u16()));
    }
    let expires_at = expiry_from_headers(response.headers(), Instant::now(), SystemTime::now());
    let body: Value = response
        .json()
        .await
        .map_err(|_| JwksFetchError::NotAJwkSet)?;
    let keys = body
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwksFetchError::NotAJwkSet)?;
    Ok((keys.iter().filter_map(jwk_key).collect(), expires_at))
}

/// When a response stops being fresh, from `Cache-Control` first, then `Expires`; `None` when
/// neither says (the set is then kept until an unknown `kid` asks for a refetch).
pub(crate) fn expiry_from_headers(
    headers: &http::HeaderMap,
    now: Instant,
    wall_now: SystemTime,
) -> Option<Instant> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(expiry) =
        text("cache-control").and_then(|value| expiry_from_cache_control(value, now))
    {
        return Some(expiry);
    }
    let expires = httpdate::parse_http_date(text("expires")?).ok()?;
    Some(now + expires.duration_since(wall_now).unwrap_or(Duration::ZERO))
}

/// `max-age`/`s-maxage` give the lifetime; `no-cache`/`no-store` (without `must-revalidate`
/// and a max-age) mean "already stale".
pub(crate) fn expiry_from_cache_control(value: &str, now: Instant) -> Option<Instant> {
    let mut max_age = None;
    let mut no_cache = false;
    let mut must_revalidate = false;
    for directive in value.split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (
                name.trim().to_string(),
                Some(argument.trim().trim_matches('"').to_string()),
            ),
            None => (directive.clone(), None),
        };
        match (name.as_str(), argument) {
            ("max-age" | "s-maxage", Some(seconds)) => {
                if let Ok(seconds) = seconds.parse::<u64>() {
                    max_age = Some(seconds);
                }
            }
            ("no-cache" | "no-store", _) => no_cache = true,
            ("must-revalidate", _) => must_revalidate = true,
            _ => {}
        }
    }
    let max_age_expiry = max_age.map(|seconds| now + Duration::from_secs(seconds));
    if must_revalidate {
        return Some(max_age_expiry.unwrap_or(now));
    }
    if no_cache {
        return Some(now);
    }
    max_age_expiry
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_directives() {
        let now = Instant::now();
        let at = |v: &str| expiry_from_cache_control(v, now).map(|t| t.duration_since(now));
        assert_eq!(at("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(at("s-maxage=5"), Some(Duration::from_secs(5)));
        assert_eq!(at("no-store"), Some(Duration::ZERO));
        assert_eq!(at("no-cache, max-age=60"), Some(Duration::ZERO));
        assert_eq!(
            at("max-age=60, must-revalidate"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(at("public"), None);
    }

    #[test]
    fn expires_header_is_used_without_cache_control() {
        let now = Instant::now();
        let wall = SystemTime::now();
        let mut headers = http::HeaderMap::new();
        let later = httpdate::fmt_http_date(wall + Duration::from_secs(120));
        headers.insert("expires", later.parse().unwrap());
        let expiry = expiry_from_headers(&headers, now, wall).unwrap();
        let lifetime = expiry.duration_since(now).as_secs();
        assert!((118..=120).contains(&lifetime), "{lifetime}");
        headers.insert("expires", "not a date".parse().unwrap());
        assert_eq!(expiry_from_headers(&headers, now, wall), None);
    }
}
