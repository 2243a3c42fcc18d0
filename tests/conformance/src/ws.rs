//! A small client for the two GraphQL-over-WebSocket protocols Hasura (and graft) serve, the
//! way `GQLWsClient` / `GraphQLWSClient` of Hasura's `context.py` use them.
//!
//! - `graphql-ws` ([`WsProtocol::Legacy`], Apollo's subscriptions-transport-ws):
//!   `connection_init` → `connection_ack` (and `ka` keep-alives), `start` → `data` / `error` →
//!   `complete`, `stop`, `connection_error`, `connection_terminate`.
//! - `graphql-transport-ws` ([`WsProtocol::TransportWs`], the `graphql-ws` npm library):
//!   `connection_init` → `connection_ack`, `subscribe` → `next` / `error` (payload: a list of
//!   GraphQL errors) → `complete`, `ping`/`pong`, protocol errors close the socket (4400, …).
//!
//! Frames that carry an `id` are kept per id until asked for, like the Python per-query queues,
//! so several operations can share one socket. Keep-alives and `ping`s never reach the caller.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsLibError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Errors on a GraphQL WebSocket.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error("cannot open {url}: {message}")]
    Connect { url: String, message: String },
    #[error("cannot send a frame: {0}")]
    Send(String),
    #[error("the server closed the socket ({})", close_text(*.code, .reason))]
    Closed { code: Option<u16>, reason: String },
    #[error("no {what} within {} s", .after.as_secs_f32())]
    Timeout { what: String, after: Duration },
    #[error("the server sent a frame that is not a JSON object: {0}")]
    NotJson(String),
    #[error("{0}")]
    Protocol(String),
}

fn close_text(code: Option<u16>, reason: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), true) => format!("code {code}"),
        (Some(code), false) => format!("code {code}: {reason}"),
        (None, _) => "no close frame".to_string(),
    }
}

/// Which subprotocol a socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsProtocol {
    /// `graphql-ws` (subscriptions-transport-ws).
    Legacy,
    /// `graphql-transport-ws` (the `graphql-ws` library).
    TransportWs,
}

impl WsProtocol {
    /// The `Sec-WebSocket-Protocol` value.
    pub fn subprotocol(self) -> &'static str {
        match self {
            WsProtocol::Legacy => "graphql-ws",
            WsProtocol::TransportWs => "graphql-transport-ws",
        }
    }

    /// The frame type that carries a result.
    pub fn data_type(self) -> &'static str {
        match self {
            WsProtocol::Legacy => "data",
            WsProtocol::TransportWs => "next",
        }
    }

    /// Starts an operation.
    pub fn start_frame(self, id: &str, payload: &Value) -> Value {
        let kind = match self {
            WsProtocol::Legacy => "start",
            WsProtocol::TransportWs => "subscribe",
        };
        json!({"id": id, "type": kind, "payload": payload})
    }

    /// Stops an operation.
    pub fn stop_frame(self, id: &str) -> Value {
        let kind = match self {
            WsProtocol::Legacy => "stop",
            WsProtocol::TransportWs => "complete",
        };
        json!({"id": id, "type": kind})
    }

    /// The payload of a result or error frame as an HTTP-style body: `graphql-transport-ws`
    /// errors are a bare list, which the Python harness wraps as `{"errors": [...]}`.
    pub fn payload_as_body(self, frame: &Value) -> Option<Value> {
        let payload = frame.get("payload")?.clone();
        Some(match (self, frame_type(frame), payload) {
            (WsProtocol::TransportWs, "error", Value::Array(errors)) => json!({"errors": errors}),
            (_, _, payload) => payload,
        })
    }
}

/// `connection_init` with the request headers in `payload.headers` (an empty payload when
/// there are none), as `GQLWsClient.init` sends it.
pub fn init_frame(headers: &[(String, String)]) -> Value {
    let mut payload = Map::new();
    if !headers.is_empty() {
        let headers: Map<String, Value> = headers
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect();
        payload.insert("headers".into(), Value::Object(headers));
    }
    json!({"type": "connection_init", "payload": payload})
}

/// The `type` of a frame (empty when missing).
pub fn frame_type(frame: &Value) -> &str {
    frame
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `ws://host:port/path` for an `http://host:port` engine URL; any query string is dropped.
pub fn ws_url(base_url: &str, path: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    let path = path.split('?').next().unwrap_or_default();
    format!("{base}{path}")
}

/// What the socket delivered.
#[derive(Debug, Clone, PartialEq)]
pub enum WsEvent {
    Frame(Value),
    Closed { code: Option<u16>, reason: String },
}

/// One open GraphQL WebSocket.
pub struct WsConnection {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protocol: WsProtocol,
    /// Frames read while waiting for something else, oldest first.
    pending: VecDeque<Value>,
    closed: Option<(Option<u16>, String)>,
}

impl WsConnection {
    /// Opens `path` on the engine with the protocol's subprotocol; the server must accept it.
    pub async fn connect(
        base_url: &str,
        path: &str,
        protocol: WsProtocol,
        timeout: Duration,
    ) -> Result<WsConnection, WsError> {
        let url = ws_url(base_url, path);
        let failed = |message: String| WsError::Connect {
            url: url.clone(),
            message,
        };
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| failed(e.to_string()))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(protocol.subprotocol()),
        );
        let (stream, response) =
            tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request))
                .await
                .map_err(|_| failed(format!("no handshake within {} s", timeout.as_secs())))?
                .map_err(|e| failed(e.to_string()))?;
        let chosen = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if chosen != protocol.subprotocol() {
            return Err(failed(format!(
                "the server chose subprotocol {chosen:?}, not {:?}",
                protocol.subprotocol()
            )));
        }
        Ok(WsConnection {
            stream,
            protocol,
            pending: VecDeque::new(),
            closed: None,
        })
    }

    pub async fn send(&mut self, frame: &Value) -> Result<(), WsError> {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .map_err(|e| WsError::Send(e.to_string()))
    }

    /// `connection_init` with `headers`, then waits for `connection_ack`.
    pub async fn init(
        &mut self,
        headers: &[(String, String)],
        timeout: Duration,
    ) -> Result<(), WsError> {
        self.send(&init_frame(headers)).await?;
        match self.next_general(timeout).await? {
            Some(WsEvent::Frame(frame)) if frame_type(&frame) == "connection_ack" => Ok(()),
            Some(WsEvent::Frame(frame)) => Err(WsError::Protocol(format!(
                "expected connection_ack, got {frame}"
            ))),
            Some(WsEvent::Closed { code, reason }) => Err(WsError::Closed { code, reason }),
            None => Err(WsError::Timeout {
                what: "connection_ack".into(),
                after: timeout,
            }),
        }
    }

    /// The next frame for operation `id`; frames of other operations wait in the buffer.
    pub async fn next_for(&mut self, id: &str, timeout: Duration) -> Result<Value, WsError> {
        if let Some(at) = self.pending.iter().position(|f| frame_id(f) == Some(id))
            && let Some(frame) = self.pending.remove(at)
        {
            return Ok(frame);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.read(deadline).await? {
                Some(WsEvent::Frame(frame)) if frame_id(&frame) == Some(id) => return Ok(frame),
                Some(WsEvent::Frame(frame)) => self.pending.push_back(frame),
                Some(WsEvent::Closed { code, reason }) => {
                    return Err(WsError::Closed { code, reason });
                }
                None => {
                    return Err(WsError::Timeout {
                        what: format!("frame for operation {id}"),
                        after: timeout,
                    });
                }
            }
        }
    }

    /// The next frame without an `id` (connection-level), or the close; `None` on timeout.
    pub async fn next_general(&mut self, timeout: Duration) -> Result<Option<WsEvent>, WsError> {
        if let Some(at) = self.pending.iter().position(|f| frame_id(f).is_none())
            && let Some(frame) = self.pending.remove(at)
        {
            return Ok(Some(WsEvent::Frame(frame)));
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.read(deadline).await? {
                Some(WsEvent::Frame(frame)) if frame_id(&frame).is_some() => {
                    self.pending.push_back(frame)
                }
                other => return Ok(other),
            }
        }
    }

    /// Whether the server closes the socket within `timeout` (frames before the close are
    /// kept); the close code when it does.
    pub async fn wait_closed(&mut self, timeout: Duration) -> Result<Option<Option<u16>>, WsError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.read(deadline).await? {
                Some(WsEvent::Frame(frame)) => self.pending.push_back(frame),
                Some(WsEvent::Closed { code, .. }) => return Ok(Some(code)),
                None => return Ok(None),
            }
        }
    }

    /// Reads one event before `deadline` (`None` when it passes); answers `ping` and drops `ka`.
    async fn read(&mut self, deadline: Instant) -> Result<Option<WsEvent>, WsError> {
        loop {
            if let Some((code, reason)) = &self.closed {
                return Ok(Some(WsEvent::Closed {
                    code: *code,
                    reason: reason.clone(),
                }));
            }
            let message = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Ok(None),
                Ok(message) => message,
            };
            let text = match message {
                None | Some(Err(WsLibError::ConnectionClosed | WsLibError::AlreadyClosed)) => {
                    self.closed = Some((None, String::new()));
                    continue;
                }
                Some(Err(WsLibError::Protocol(e))) => {
                    // A peer that drops the TCP connection without a close frame.
                    self.closed = Some((None, e.to_string()));
                    continue;
                }
                Some(Err(WsLibError::Io(e))) => {
                    self.closed = Some((None, e.to_string()));
                    continue;
                }
                Some(Err(e)) => return Err(WsError::Protocol(e.to_string())),
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(match frame {
                        Some(frame) => (Some(u16::from(frame.code)), frame.reason.to_string()),
                        None => (None, String::new()),
                    });
                    continue;
                }
                Some(Ok(Message::Text(text))) => text.to_string(),
                Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                Some(Ok(_)) => continue,
            };
            let frame: Value =
                serde_json::from_str(&text).map_err(|_| WsError::NotJson(text.clone()))?;
            if !frame.is_object() {
                return Err(WsError::NotJson(text));
            }
            match (self.protocol, frame_type(&frame)) {
                (WsProtocol::Legacy, "ka") => continue,
                (WsProtocol::TransportWs, "ping") => {
                    self.send(&json!({"type": "pong"})).await?;
                    continue;
                }
                (WsProtocol::TransportWs, "pong") => continue,
                _ => return Ok(Some(WsEvent::Frame(frame))),
            }
        }
    }

    /// Closes the socket politely; errors do not matter any more at this point.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.close(None)).await;
    }
}

fn frame_id(frame: &Value) -> Option<&str> {
    frame.get("id").and_then(Value::as_str)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    type ServerSocket = WebSocketStream<TcpStream>;

    /// A one-connection server that accepts `subprotocol` and plays `script`; its base URL.
    #[allow(clippy::result_large_err)]
    async fn serve_once<F, Fut>(subprotocol: &'static str, script: F) -> String
    where
        F: FnOnce(ServerSocket) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let accept = |_: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
                response.headers_mut().insert(
                    "sec-websocket-protocol",
                    HeaderValue::from_static(subprotocol),
                );
                Ok(response)
            };
            let socket = tokio_tungstenite::accept_hdr_async(tcp, accept)
                .await
                .unwrap();
            script(socket).await;
        });
        format!("http://{address}")
    }

    async fn receive(socket: &mut ServerSocket) -> Value {
        loop {
            match socket.next().await.unwrap().unwrap() {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                _ => continue,
            }
        }
    }

    async fn push(socket: &mut ServerSocket, frame: Value) {
        socket.send(Message::text(frame.to_string())).await.unwrap();
    }

    const WAIT: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn legacy_frames_are_sorted_by_operation() {
        let base = serve_once("graphql-ws", |mut socket| async move {
            let init = receive(&mut socket).await;
            assert_eq!(init["payload"]["headers"]["X-Hasura-Role"], "user");
            push(&mut socket, json!({"type": "ka"})).await;
            push(&mut socket, json!({"type": "connection_ack"})).await;
            let start = receive(&mut socket).await;
            assert_eq!(start["type"], "start");
            push(
                &mut socket,
                json!({"id": "other", "type": "data", "payload": {"data": 2}}),
            )
            .await;
            push(&mut socket, json!({"type": "ka"})).await;
            push(
                &mut socket,
                json!({"id": "1", "type": "data", "payload": {"data": 1}}),
            )
            .await;
            push(&mut socket, json!({"id": "1", "type": "complete"})).await;
            let _ = receive(&mut socket).await;
        })
        .await;
        let mut socket = WsConnection::connect(&base, "/v1/graphql", WsProtocol::Legacy, WAIT)
            .await
            .unwrap();
        socket
            .init(&[("X-Hasura-Role".into(), "user".into())], WAIT)
            .await
            .unwrap();
        socket
            .send(&WsProtocol::Legacy.start_frame("1", &json!({"query": "{a}"})))
            .await
            .unwrap();
        let first = socket.next_for("1", WAIT).await.unwrap();
        assert_eq!(first["payload"]["data"], 1);
        assert_eq!(
            frame_type(&socket.next_for("1", WAIT).await.unwrap()),
            "complete"
        );
        assert_eq!(
            socket.next_for("other", WAIT).await.unwrap()["payload"]["data"],
            2
        );
        assert!(
            socket
                .next_general(Duration::from_millis(50))
                .await
                .unwrap()
                .is_none()
        );
        socket.close().await;
    }

    #[tokio::test]
    async fn transport_ws_pings_are_answered_and_closes_reported() {
        let base = serve_once("graphql-transport-ws", |mut socket| async move {
            let _init = receive(&mut socket).await;
            push(&mut socket, json!({"type": "ping"})).await;
            assert_eq!(receive(&mut socket).await["type"], "pong");
            push(&mut socket, json!({"type": "connection_ack"})).await;
            let _bad = receive(&mut socket).await;
            let close = CloseFrame {
                code: 4400.into(),
                reason: "Invalid message".into(),
            };
            socket.close(Some(close)).await.unwrap();
        })
        .await;
        let mut socket = WsConnection::connect(&base, "/v1/graphql", WsProtocol::TransportWs, WAIT)
            .await
            .unwrap();
        socket.init(&[], WAIT).await.unwrap();
        socket.send(&json!({"type": "test"})).await.unwrap();
        assert_eq!(socket.wait_closed(WAIT).await.unwrap(), Some(Some(4400)));
        let err = socket.next_for("1", WAIT).await.unwrap_err();
        assert!(err.to_string().contains("4400: Invalid message"), "{err}");
    }

    #[tokio::test]
    async fn a_refused_subprotocol_is_an_error() {
        let base = serve_once("graphql-ws", |_| async {}).await;
        let err = WsConnection::connect(&base, "/v1/graphql", WsProtocol::TransportWs, WAIT)
            .await
            .err()
            .unwrap();
        assert!(
            err.to_string().to_lowercase().contains("subprotocol"),
            "{err}"
        );
    }

    #[test]
    fn urls_and_frames() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080/", "/v1/graphql?x=1"),
            "ws://127.0.0.1:8080/v1/graphql"
        );
        assert_eq!(ws_url("https://h", "/v1/graphql"), "wss://h/v1/graphql");
        assert_eq!(
            init_frame(&[]),
            json!({"type": "connection_init", "payload": {}})
        );
        assert_eq!(
            init_frame(&[("X-Hasura-Role".into(), "user".into())]),
            json!({"type": "connection_init", "payload": {"headers": {"X-Hasura-Role": "user"}}})
        );
        let payload = json!({"query": "{a}"});
        assert_eq!(
            WsProtocol::Legacy.start_frame("1", &payload),
            json!({"id": "1", "type": "start", "payload": {"query": "{a}"}})
        );
        assert_eq!(
            WsProtocol::TransportWs.start_frame("1", &payload)["type"],
            "subscribe"
        );
        assert_eq!(WsProtocol::Legacy.stop_frame("1")["type"], "stop");
        assert_eq!(WsProtocol::TransportWs.stop_frame("1")["type"], "complete");
    }

    #[test]
    fn error_payloads_become_bodies() {
        let errors = json!([{"message": "x"}]);
        let frame = json!({"id": "1", "type": "error", "payload": errors});
        assert_eq!(
            WsProtocol::TransportWs.payload_as_body(&frame),
            Some(json!({"errors": [{"message": "x"}]}))
        );
        let legacy = json!({"id": "1", "type": "error", "payload": {"errors": errors}});
        assert_eq!(
            WsProtocol::Legacy.payload_as_body(&legacy),
            Some(json!({"errors": [{"message": "x"}]}))
        );
        let data = json!({"id": "1", "type": "next", "payload": {"data": {"a": 1}}});
        assert_eq!(
            WsProtocol::TransportWs.payload_as_body(&data),
            Some(json!({"data": {"a": 1}}))
        );
        assert_eq!(
            WsProtocol::Legacy.payload_as_body(&json!({"type": "complete"})),
            None
        );
    }
}
