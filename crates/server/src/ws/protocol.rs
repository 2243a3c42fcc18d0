//! The two GraphQL-over-WebSocket subprotocols, as messages.
//!
//! - `graphql-transport-ws` (the `graphql-ws` library): `connection_init` → `connection_ack`,
//!   `subscribe` → `next`* → `complete` | `error`, `ping`/`pong`; protocol violations close the
//!   socket with a 44xx code.
//! - `graphql-ws` (Apollo's subscriptions-transport-ws, the legacy default): `connection_init` →
//!   `connection_ack` + `ka`, `start` → `data`* → `complete` | `error`, `stop`,
//!   `connection_terminate`; a bad message is answered with `connection_error`.

use serde_json::Value;

/// The subprotocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    TransportWs,
    Legacy,
}

/// The `Sec-WebSocket-Protocol` names, the preferred one first.
pub const SUBPROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];

impl Protocol {
    /// The protocol for the negotiated subprotocol; Hasura speaks the legacy one when the client
    /// names none.
    pub fn from_subprotocol(name: Option<&str>) -> Protocol {
        match name {
            Some("graphql-transport-ws") => Protocol::TransportWs,
            _ => Protocol::Legacy,
        }
    }
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    ConnectionInit {
        payload: Option<Value>,
    },
    /// `subscribe` / `start`: run an operation.
    Start {
        id: String,
        payload: Value,
    },
    /// `complete` / `stop`: stop an operation.
    Stop {
        id: String,
    },
    Ping {
        payload: Option<Value>,
    },
    Pong,
    /// `connection_terminate` (legacy).
    Terminate,
}

/// Why a client message was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("invalid message: {0}")]
    Invalid(String),
}

impl ClientMessage {
    pub fn parse(protocol: Protocol, text: &str) -> Result<ClientMessage, ProtocolError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ProtocolError::Invalid(e.to_string()))?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| ProtocolError::Invalid("the key 'type' was not present".into()))?;
        let id = || {
            value
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ProtocolError::Invalid(format!("'{kind}' needs an 'id'")))
        };
        let payload = value.get("payload").filter(|p| !p.is_null()).cloned();
        let (start, stop) = match protocol {
            Protocol::TransportWs => ("subscribe", "complete"),
            Protocol::Legacy => ("start", "stop"),
        };
        Ok(match kind {
            "connection_init" => ClientMessage::ConnectionInit { payload },
            k if k == start => ClientMessage::Start {
                id: id()?,
                payload: payload
                    .ok_or_else(|| ProtocolError::Invalid(format!("'{kind}' needs a 'payload'")))?,
            },
            k if k == stop => ClientMessage::Stop { id: id()? },
            "ping" if protocol == Protocol::TransportWs => ClientMessage::Ping { payload },
            "pong" if protocol == Protocol::TransportWs => ClientMessage::Pong,
            "connection_terminate" if protocol == Protocol::Legacy => ClientMessage::Terminate,
            other => {
                return Err(ProtocolError::Invalid(format!(
                    "unknown message type '{other}'"
                )));
            }
        })
    }
}

/// Server messages, rendered as text. Payloads arrive already serialized (the database built
/// them) and are spliced in unparsed.
pub struct ServerMessages(pub Protocol);

impl ServerMessages {
    pub fn ack(&self) -> String {
        r#"{"type":"connection_ack"}"#.to_string()
    }

    pub fn keep_alive(&self) -> Option<String> {
        (self.0 == Protocol::Legacy).then(|| r#"{"type":"ka"}"#.to_string())
    }

    pub fn pong(&self, payload: Option<&Value>) -> String {
        match payload {
            Some(payload) => format!(r#"{{"type":"pong","payload":{payload}}}"#),
            None => r#"{"type":"pong"}"#.to_string(),
        }
    }

    /// Legacy only: a connection-level error (the socket stays open).
    pub fn connection_error(&self, message: &str) -> String {
        format!(
            r#"{{"type":"connection_error","payload":{}}}"#,
            json_string(message)
        )
    }

    /// A result: `payload` is a whole GraphQL response (`{"data":...}` or `{"errors":[...]}`).
    pub fn data(&self, id: &str, payload: &str) -> String {
        let kind = match self.0 {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        };
        format!(
            r#"{{"type":"{kind}","id":{},"payload":{payload}}}"#,
            json_string(id)
        )
    }

    /// An operation that failed before producing results: `errors` is the JSON array of
    /// GraphQL errors. The new protocol sends the array, the legacy one `{"errors": [...]}`.
    pub fn error(&self, id: &str, errors: &str) -> String {
        let id = json_string(id);
        match self.0 {
            Protocol::TransportWs => format!(r#"{{"type":"error","id":{id},"payload":{errors}}}"#),
            Protocol::Legacy => {
                format!(r#"{{"type":"error","id":{id},"payload":{{"errors":{errors}}}}}"#)
            }
        }
    }

    pub fn complete(&self, id: &str) -> String {
        format!(r#"{{"type":"complete","id":{}}}"#, json_string(id))
    }
}

fn json_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_protocol_names_its_own_messages() {
        let start = r#"{"type":"start","id":"1","payload":{"query":"{a}"}}"#;
        assert_eq!(
            ClientMessage::parse(Protocol::Legacy, start).unwrap(),
            ClientMessage::Start {
                id: "1".into(),
                payload: json!({"query": "{a}"})
            }
        );
        assert!(ClientMessage::parse(Protocol::TransportWs, start).is_err());
        let complete = r#"{"type":"complete","id":"1"}"#;
        assert_eq!(
            ClientMessage::parse(Protocol::TransportWs, complete).unwrap(),
            ClientMessage::Stop { id: "1".into() }
        );
        assert!(ClientMessage::parse(Protocol::Legacy, r#"{"type":"stop"}"#).is_err());
        assert!(ClientMessage::parse(Protocol::Legacy, r#"{"type":"test"}"#).is_err());
        assert!(ClientMessage::parse(Protocol::Legacy, "not json").is_err());
    }

    #[test]
    fn results_are_framed_per_protocol() {
        let legacy = ServerMessages(Protocol::Legacy);
        let modern = ServerMessages(Protocol::TransportWs);
        assert_eq!(
            legacy.data("a\"b", r#"{"data":1}"#),
            r#"{"type":"data","id":"a\"b","payload":{"data":1}}"#
        );
        assert_eq!(
            modern.data("1", r#"{"data":1}"#),
            r#"{"type":"next","id":"1","payload":{"data":1}}"#
        );
        assert_eq!(
            legacy.error("1", "[]"),
            r#"{"type":"error","id":"1","payload":{"errors":[]}}"#
        );
        assert_eq!(
            modern.error("1", "[]"),
            r#"{"type":"error","id":"1","payload":[]}"#
        );
        assert_eq!(modern.keep_alive(), None);
    }
}
