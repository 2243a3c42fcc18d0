//! One subscriber: a WebSocket connection that initialises, starts one subscription and reads
//! its results until told to stop, recording when each writer's token arrives.

use crate::Shared;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect: {0}")]
    Connect(#[from] std::io::Error),
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("bad url or header: {0}")]
    Request(String),
    #[error("server said: {0}")]
    Server(String),
    #[error("the server closed the connection")]
    Closed,
}

/// Which of the two subprotocols a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the `graphql-ws` library).
    TransportWs,
    /// `graphql-ws` (subscriptions-transport-ws, legacy).
    Legacy,
}

impl Protocol {
    pub fn parse(name: &str) -> Option<Protocol> {
        match name {
            "graphql-transport-ws" => Some(Protocol::TransportWs),
            "graphql-ws" => Some(Protocol::Legacy),
            _ => None,
        }
    }

    fn subprotocol(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    fn start_type(self) -> &'static str {
        match self {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        }
    }
}

/// What one subscriber asks for.
pub struct Plan {
    pub url: String,
    pub host_port: String,
    pub protocol: Protocol,
    pub init_payload: Value,
    pub query: Arc<str>,
    pub variables: Value,
    /// false: stop after `connection_ack` (to tell a connection's cost from a subscription's).
    pub subscribe: bool,
    /// Which writes touch this subscriber's row: `None` every write, `Some((r, m))` the writes
    /// whose sequence number is `r` modulo `m`.
    pub writes: Option<(u64, u64)>,
}

impl Plan {
    fn touches(&self, seq: u64) -> bool {
        self.writes
            .is_none_or(|(residue, modulus)| seq % modulus == residue)
    }
}

/// Connects and subscribes, releases `permit` once the first result has arrived, then keeps
/// reading until the connection ends (the process exits at the end of the run).
pub async fn run(plan: Plan, shared: Arc<Shared>, permit: tokio::sync::OwnedSemaphorePermit) {
    let mut permit = Some(permit);
    if let Err(error) = session(&plan, &shared, &mut permit).await {
        shared.record_failure(&error.to_string());
    }
}

async fn session(
    plan: &Plan,
    shared: &Shared,
    permit: &mut Option<tokio::sync::OwnedSemaphorePermit>,
) -> Result<(), ClientError> {
    let mut request = plan
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::Request(e.to_string()))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(plan.protocol.subprotocol()),
    );
    let tcp = TcpStream::connect(&plan.host_port).await?;
    tcp.set_nodelay(true)?;
    // Small buffers: the load generator holds as many sockets as the server does.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (socket, _) =
        tokio_tungstenite::client_async_with_config(request, tcp, Some(config)).await?;
    let (mut sink, mut stream) = socket.split();
    let init = json!({"type": "connection_init", "payload": plan.init_payload});
    sink.send(Message::Text(Utf8Bytes::from(init.to_string())))
        .await?;
    let mut started = false;
    let mut has_data = false;
    let mut last_seq: u64 = 0;
    loop {
        let text = match stream.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                return Err(ClientError::Server(format!("close {frame:?}")));
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => return Err(ClientError::Closed),
        };
        let received = Instant::now();
        let kind = message_type(text.as_str());
        match kind.as_deref() {
            Some("connection_ack") if !started => {
                started = true;
                if !plan.subscribe {
                    has_data = true;
                    shared.with_data.fetch_add(1, Ordering::Relaxed);
                    permit.take();
                    continue;
                }
                let start = json!({
                    "id": "1",
                    "type": plan.protocol.start_type(),
                    "payload": {"query": &*plan.query, "variables": plan.variables},
                });
                sink.send(Message::Text(Utf8Bytes::from(start.to_string())))
                    .await?;
            }
            Some("next" | "data") => {
                if !has_data {
                    has_data = true;
                    shared.with_data.fetch_add(1, Ordering::Relaxed);
                    permit.take();
                    if text.as_str().contains("\"errors\"") {
                        shared.record_failure(&format!("first result has errors: {text}"));
                    }
                }
                shared.data_messages.fetch_add(1, Ordering::Relaxed);
                if let Some(seq) = token(text.as_str()) {
                    if seq > last_seq {
                        // A result carrying write `seq` also shows every earlier write to the
                        // same row that had no message of its own (coalesced in one refetch).
                        let reflected = (last_seq + 1..=seq).filter(|s| plan.touches(*s));
                        shared.record_deliveries(reflected, received);
                        shared.data_with_token.fetch_add(1, Ordering::Relaxed);
                        last_seq = seq;
                    } else {
                        shared.stale_messages.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some("ping") => {
                shared.other_messages.fetch_add(1, Ordering::Relaxed);
                sink.send(Message::Text(Utf8Bytes::from_static(r#"{"type":"pong"}"#)))
                    .await?;
            }
            Some("error" | "connection_error" | "complete") => {
                return Err(ClientError::Server(truncate(text.as_str(), 300)));
            }
            _ => {
                shared.other_messages.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The `type` of a protocol message, without parsing its (possibly large) payload.
fn message_type(text: &str) -> Option<String> {
    let at = text.find("\"type\"")?;
    let rest = &text[at + 6..];
    let open = rest.find('"')?;
    let rest = &rest[open + 1..];
    let close = rest.find('"')?;
    Some(rest[..close].to_string())
}

/// The writer's token (`bench-<seq>`) in a result, if any.
fn token(text: &str) -> Option<u64> {
    let at = text.find("bench-")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_type_and_token() {
        let text = r#"{"id":"1","type":"next","payload":{"data":{"Track":[{"Name":"bench-42"}]}}}"#;
        assert_eq!(message_type(text).as_deref(), Some("next"));
        assert_eq!(token(text), Some(42));
        assert_eq!(token(r#"{"type":"ka"}"#), None);
    }
}
