//! Sending a case request to the engine and reading the reply.
//!
//! HTTP lives here; the WebSocket transports (HARNESS 4.1: a GraphQL case replayed over a
//! socket, or turned into a live subscription) are in [`crate::ws_step`], and answer with the
//! same [`Reply`] so one comparison serves all of them.

use crate::case_file::{Step, python_str};
use serde_json::Value;
use std::time::Duration;

/// Errors while talking to the engine.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("unsupported method {0}")]
    Method(String),
    #[error("request {method} {url} failed: {source}")]
    Request {
        method: String,
        url: String,
        source: reqwest::Error,
    },
}

/// How a request reaches the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Http,
    /// The legacy `graphql-ws` protocol: `start`, first `data`/`error`, then `complete`.
    Websocket,
    /// The same over `graphql-transport-ws`: `subscribe`, first `next`/`error`, `complete`.
    GraphqlTransportWs,
    /// The query turned into `subscription @_multiple_top_level_fields {...}` over `graphql-ws`:
    /// the first pushed result is the answer, then `stop`.
    Subscription,
}

impl Transport {
    pub const ALL: [Transport; 4] = [
        Transport::Http,
        Transport::Websocket,
        Transport::GraphqlTransportWs,
        Transport::Subscription,
    ];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Websocket => "websocket",
            Transport::GraphqlTransportWs => "graphql-transport-ws",
            Transport::Subscription => "subscription",
        }
    }

    pub fn parse(name: &str) -> Option<Transport> {
        Transport::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The Appendix-A transport a class must list for a case to run over this one: the
    /// `graphql-transport-ws` replay follows the classes that list `websocket`.
    pub fn appendix_name(self) -> &'static str {
        match self {
            Transport::GraphqlTransportWs => "websocket",
            other => other.name(),
        }
    }

    /// The key of a case result in reports and the known-failures list: the case path for
    /// HTTP, `path@transport` otherwise.
    pub fn result_key(self, path: &str) -> String {
        match self {
            Transport::Http => path.to_string(),
            other => format!("{path}@{}", other.name()),
        }
    }
}

/// What the engine answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; a body that is not JSON is kept as a JSON string, an empty one
    /// is `null`.
    pub body: Value,
}

/// The body a request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: RequestBody,
}

impl Request {
    /// The request python-requests made for a case step (`HGECtx.anyq`): `GET`/`DELETE` carry
    /// no body, `POSTJSON` sends `body` as JSON, `POST`/`PUT`/`PATCH` send `body`
    /// form-encoded; anything else (including those without a `body`) POSTs `query` as JSON.
    pub fn from_step(step: &Step) -> Request {
        let method = step.method.as_deref();
        let (method, body) = match (method, &step.body) {
            (Some("GET"), _) => ("GET", RequestBody::None),
            (Some("DELETE"), _) => ("DELETE", RequestBody::None),
            (Some("POSTJSON"), Some(body)) => ("POST", RequestBody::Json(body.clone())),
            (Some(m @ ("POST" | "PUT" | "PATCH")), Some(body)) => {
                (m, RequestBody::Form(form_pairs(body)))
            }
            _ if step.query.is_null() => ("POST", RequestBody::None),
            _ => ("POST", RequestBody::Json(step.query.clone())),
        };
        Request {
            method: method.to_string(),
            path: step.url.clone(),
            headers: step.headers.clone(),
            body,
        }
    }

    /// Sets a header, replacing one of the same name (case-insensitive).
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
    }
}

/// `data=dict` of python-requests: one pair per key, list values repeat the key.
fn form_pairs(body: &Value) -> Vec<(String, String)> {
    match body {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| (key.clone(), python_str(item)))
                    .collect::<Vec<_>>(),
                other => vec![(key.clone(), python_str(other))],
            })
            .collect(),
        Value::String(s) => vec![(s.clone(), String::new())],
        _ => Vec::new(),
    }
}

fn form_encode(pairs: &[(String, String)]) -> String {
    fn encode(text: &str) -> String {
        let mut out = String::new();
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(byte as char)
                }
                b' ' => out.push('+'),
                other => out.push_str(&format!("%{other:02X}")),
            }
        }
        out
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An HTTP client bound to one engine.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base_url: String,
}

impl HttpClient {
    /// Every request gets `timeout` (60 s in the runner) so nothing hangs forever.
    pub fn new(base_url: &str, timeout: Duration) -> Result<HttpClient, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(TransportError::Client)?;
        Ok(HttpClient {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    pub async fn send(&self, request: &Request) -> Result<Reply, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| TransportError::Method(request.method.clone()))?;
        let url = format!("{}{}", self.base_url, request.path);
        let mut builder = self.client.request(method, &url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let has_content_type = request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        builder = match &request.body {
            RequestBody::None => builder,
            RequestBody::Json(value) => {
                let builder = builder.body(value.to_string());
                if has_content_type {
                    builder
                } else {
                    builder.header("content-type", "application/json")
                }
            }
            RequestBody::Form(pairs) => {
                let builder = builder.body(form_encode(pairs));
                if has_content_type {
                    builder
                } else {
                    builder.header("content-type", "application/x-www-form-urlencoded")
                }
            }
        };
        let failed = |source| TransportError::Request {
            method: request.method.clone(),
            url: url.clone(),
            source,
        };
        let response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = response.bytes().await.map_err(failed)?;
        Ok(Reply {
            status,
            headers,
            body: parse_body(&bytes),
        })
    }

    /// The engine's base URL (`http://127.0.0.1:port`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::case_file::{CaseFile, case_from_value, parse_yaml};
    use serde_json::json;

    fn step(yaml: &str) -> Step {
        match case_from_value(&parse_yaml(yaml).unwrap()) {
            CaseFile::Steps(mut steps) => steps.remove(0),
            CaseFile::NotRunnable(r) => panic!("{r}"),
        }
    }

    #[test]
    fn request_shapes_follow_python_requests() {
        let get = Request::from_step(&step(
            "url: /api/rest/x?a=1\nmethod: GET\nstatus: 200\nquery:\n",
        ));
        assert_eq!(
            (get.method.as_str(), &get.body),
            ("GET", &RequestBody::None)
        );
        let form = Request::from_step(&step(
            "url: /api/rest/x\nmethod: POST\nbody: {first_name: Foo, n: [1, 2]}\nstatus: 200\n",
        ));
        assert_eq!(
            form.body,
            RequestBody::Form(vec![
                ("first_name".into(), "Foo".into()),
                ("n".into(), "1".into()),
                ("n".into(), "2".into())
            ])
        );
        let json_body = Request::from_step(&step(
            "url: /api/rest/x\nmethod: POSTJSON\nbody: {ids: [a]}\nstatus: 200\n",
        ));
        assert_eq!(json_body.body, RequestBody::Json(json!({"ids": ["a"]})));
        let plain = Request::from_step(&step("url: /v1/graphql\nstatus: 200\nquery: '{ a }'\n"));
        assert_eq!(plain.body, RequestBody::Json(json!("{ a }")));
        let put_without_body =
            Request::from_step(&step("url: /x\nmethod: PUT\nstatus: 200\nquery: {a: 1}\n"));
        assert_eq!(put_without_body.method, "POST");
    }

    #[test]
    fn form_encoding_and_body_parsing() {
        assert_eq!(
            form_encode(&[("a b".into(), "x&y=é".into())]),
            "a+b=x%26y%3D%C3%A9"
        );
        assert_eq!(parse_body(b""), Value::Null);
        assert_eq!(parse_body(b"{\"a\":1}"), json!({"a": 1}));
        assert_eq!(parse_body(b"oops"), json!("oops"));
    }

    #[test]
    fn transport_names_and_keys() {
        for transport in Transport::ALL {
            assert_eq!(Transport::parse(transport.name()), Some(transport));
        }
        assert_eq!(Transport::parse(" WebSocket"), Some(Transport::Websocket));
        assert_eq!(Transport::parse("grpc"), None);
        assert_eq!(Transport::Http.result_key("a/b.yaml"), "a/b.yaml");
        assert_eq!(
            Transport::GraphqlTransportWs.result_key("a/b.yaml"),
            "a/b.yaml@graphql-transport-ws"
        );
        assert_eq!(Transport::GraphqlTransportWs.appendix_name(), "websocket");
    }

    #[test]
    fn set_header_replaces_case_insensitively() {
        let mut request = Request::from_step(&step(
            "url: /x\nstatus: 200\nheaders: {x-hasura-admin-secret: a}\nquery: {}\n",
        ));
        request.set_header("X-Hasura-Admin-Secret", "b");
        assert_eq!(
            request.headers,
            vec![("X-Hasura-Admin-Secret".to_string(), "b".to_string())]
        );
    }
}
