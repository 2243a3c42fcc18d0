//! Auth webhook mode: ask the configured hook who the request is.
//!
//! GET forwards the client's headers (minus hop-by-hop and the request-describing headers
//! Hasura drops); POST sends `{"headers": {...}, "request": <the GraphQL request or null>}`.
//! A 200 answer's `X-Hasura-*` values are the session (`X-Hasura-Role` required); 401 means
//! "unauthorized"; anything else is a broken hook. Answers are cached when the hook gives a
//! lifetime (`Cache-Control: max-age` or `Expires`, in the JSON body as Hasura reads them, or
//! as HTTP response headers), keyed by exactly what was sent to the hook.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use graft_schema::Session;
use http::HeaderMap;
use indexmap::IndexMap;
use serde_json::Value;

use crate::config::{WebhookConfig, WebhookMode};
use crate::error::AuthError;
use crate::jwt::jwks::expiry_from_headers;
use crate::session::{ROLE_HEADER, make_session};

/// Client headers never forwarded to a webhook (the auth hook's GET mode, actions'
/// `forward_client_headers`): they describe the client's request, not the client.
pub const IGNORED_HEADERS: &[&str] = &[
    "content-length",
    "content-md5",
    "user-agent",
    "host",
    "origin",
    "referer",
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-datetime",
    "cache-control",
    "connection",
    "dnt",
    "content-type",
    // hop-by-hop
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Beyond this many cached answers, expired ones are dropped, then all if still too many.
const MAX_CACHED_ANSWERS: usize = 10_000;

struct CachedAnswer {
    session: Session,
    expires_at: Instant,
}

pub(crate) struct WebhookClient {
    config: WebhookConfig,
    client: reqwest::Client,
    /// Keys hold forwarded credentials: the cache is never logged or printed.
    cache: Mutex<HashMap<String, CachedAnswer>>,
}

impl fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WebhookClient {
    pub(crate) fn new(config: WebhookConfig, client: reqwest::Client) -> WebhookClient {
        WebhookClient {
            config,
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        request: Option<&Value>,
    ) -> Result<Session, AuthError> {
        let outgoing = self.outgoing(headers, request);
        let cache_key = outgoing.cache_key();
        if let Some(session) = self.cached(&cache_key) {
            return Ok(session);
        }
        let builder = match &outgoing {
            Outgoing::Get(forwarded) => forwarded
                .iter()
                .fold(self.client.get(&self.config.url), |b, (name, value)| {
                    b.header(name.as_str(), value.as_str())
                }),
            Outgoing::Post(body) => self.client.post(&self.config.url).json(body),
        };
        let response = builder.send().await.map_err(|error| {
            tracing::error!(url = %self.config.url, error = %error.without_url(), "auth webhook request failed");
            AuthError::unexpected("webhook authentication request failed")
        })?;
        let status = response.status().as_u16();
        let http_expiry =
            expiry_from_headers(response.headers(), Instant::now(), SystemTime::now());
        match status {
            200 => {}
            401 => {
                return Err(AuthError::unauthorized(
                    "Authentication hook unauthorized this request",
                ));
            }
            _ => {
                tracing::error!(url = %self.config.url, status, "auth webhook answered an unexpected status");
                return Err(AuthError::unexpected(
                    "Invalid response from authorization hook",
                ));
            }
        }
        let body: Value = response.json().await.map_err(|_| {
            AuthError::unexpected("Invalid response from authorization hook: not JSON")
        })?;
        let Value::Object(body) = body else {
            return Err(AuthError::unexpected(
                "Invalid response from authorization hook: expected a JSON object",
            ));
        };
        let (session, body_expiry) = session_from_answer(&body)?;
        if let Some(expires_at) = body_expiry.or(http_expiry) {
            self.store(cache_key, session.clone(), expires_at);
        }
        Ok(session)
    }

    fn outgoing(&self, headers: &HeaderMap, request: Option<&Value>) -> Outgoing {
        match self.config.mode {
            WebhookMode::Get => {
                let mut forwarded: Vec<(String, String)> = headers
                    .keys()
                    .filter(|name| !IGNORED_HEADERS.contains(&name.as_str()))
                    .flat_map(|name| {
                        headers.get_all(name).iter().filter_map(move |value| {
                            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
                        })
                    })
                    .collect();
                forwarded.sort();
                Outgoing::Get(forwarded)
            }
            WebhookMode::Post => {
                let header_object: serde_json::Map<String, Value> = headers
                    .keys()
                    .filter_map(|name| {
                        let value = headers.get(name)?.to_str().ok()?;
                        Some((name.as_str().to_string(), Value::String(value.to_string())))
                    })
                    .collect();
                Outgoing::Post(serde_json::json!({
                    "headers": header_object,
                    "request": request.cloned().unwrap_or(Value::Null),
                }))
            }
        }
    }

    fn cached(&self, key: &str) -> Option<Session> {
        let cache = self.cache.lock().ok()?;
        let answer = cache.get(key)?;
        (answer.expires_at > Instant::now()).then(|| answer.session.clone())
    }

    fn store(&self, key: String, session: Session, expires_at: Instant) {
        let now = Instant::now();
        if expires_at <= now {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= MAX_CACHED_ANSWERS {
            cache.retain(|_, answer| answer.expires_at > now);
            if cache.len() >= MAX_CACHED_ANSWERS {
                cache.clear();
            }
        }
        cache.insert(
            key,
            CachedAnswer {
                session,
                expires_at,
            },
        );
    }
}

enum Outgoing {
    /// Sorted (name, value) pairs, so equal header sets share a cache entry.
    Get(Vec<(String, String)>),
    Post(Value),
}

impl Outgoing {
    fn cache_key(&self) -> String {
        match self {
            Outgoing::Get(pairs) => {
                let mut key = String::from("GET\n");
                for (name, value) in pairs {
                    key.push_str(name);
                    key.push(':');
                    key.push_str(value);
                    key.push('\n');
                }
                key
            }
            Outgoing::Post(body) => format!("POST\n{body}"),
        }
    }
}

/// The session in a 200 answer, and the answer's own lifetime if it states one.
fn session_from_answer(
    body: &serde_json::Map<String, Value>,
) -> Result<(Session, Option<Instant>), AuthError> {
    let mut variables = IndexMap::new();
    let mut lifetime_headers = HeaderMap::new();
    for (name, value) in body {
        let lower = name.to_ascii_lowercase();
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        if lower.starts_with("x-hasura-") {
            variables.insert(lower, text);
        } else if let ("cache-control" | "expires", Ok(name), Ok(value)) = (
            lower.as_str(),
            http::HeaderName::try_from(lower.as_str()),
            http::HeaderValue::try_from(text.as_str()),
        ) {
            lifetime_headers.insert(name, value);
        }
    }
    let role = variables
        .get(ROLE_HEADER)
        .filter(|role| !role.is_empty())
        .cloned()
        .ok_or_else(|| AuthError::invalid_params("x-hasura-role not found in session variables"))?;
    let expiry = expiry_from_headers(&lifetime_headers, Instant::now(), SystemTime::now());
    Ok((make_session(role, variables, false), expiry))
}
