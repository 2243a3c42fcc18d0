//! A case step replayed over a WebSocket, as `validate.py` (`validate_gql_ws_q`) does: a fresh
//! socket on the step's endpoint, `connection_init` carrying the request headers in
//! `payload.headers`, one operation with id `hge_test`, its first result compared with the
//! expected `response`, then `complete` from the server (websocket transports; after an `error`
//! frame too, as Hasura sends it) or `stop` from us (the subscription transport). Status codes and response headers do not exist on a socket
//! and are not checked, as in the harness.
//!
//! Which steps go over the socket ([`ws_eligible`]): GraphQL requests (`url` ending in
//! `/graphql` or `/relay`) that are a single operation (not a batch), carry a `response`, and
//! are not mutations (the Python tests run mutation and batched cases over HTTP only). The
//! subscription transport also needs the query text to start with `query `, which its rewrite
//! ([`to_subscription`]) relies on. Other steps of a case go over HTTP.

use crate::case_file::Step;
use crate::transport::{Reply, Transport};
use crate::ws::{WsConnection, WsProtocol, frame_type};
use apollo_parser::{Parser, cst};
use serde_json::Value;
use std::time::Duration;

const OPERATION_ID: &str = "hge_test";

/// How long `complete` is awaited after an `error` frame.
const COMPLETE_AFTER_ERROR: Duration = Duration::from_secs(3);

/// The socket protocol of a WebSocket transport (`None` for HTTP).
pub fn protocol_of(transport: Transport) -> Option<WsProtocol> {
    match transport {
        Transport::Http => None,
        Transport::Websocket | Transport::Subscription => Some(WsProtocol::Legacy),
        Transport::GraphqlTransportWs => Some(WsProtocol::TransportWs),
    }
}

/// Whether `step` goes over `transport` (HTTP takes every step).
pub fn ws_eligible(step: &Step, transport: Transport) -> bool {
    if transport == Transport::Http {
        return true;
    }
    let path = step.url.split('?').next().unwrap_or_default();
    if !(path.ends_with("/graphql") || path.ends_with("/relay")) {
        return false;
    }
    if step.method.is_some() || step.response.is_none() {
        return false;
    }
    let Some(text) = step.query.get("query").and_then(Value::as_str) else {
        return false;
    };
    let operation_name = step.query.get("operationName").and_then(Value::as_str);
    if is_mutation(text, operation_name) {
        return false;
    }
    transport != Transport::Subscription || text.starts_with("query ")
}

/// Whether the operation a request runs is a mutation (`operationName`, else the first).
fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let tree = Parser::new(query).parse();
    let operations: Vec<cst::OperationDefinition> = tree
        .document()
        .definitions()
        .filter_map(|d| match d {
            cst::Definition::OperationDefinition(op) => Some(op),
            _ => None,
        })
        .collect();
    let chosen = match operation_name {
        Some(wanted) => operations
            .iter()
            .find(|op| op.name().is_some_and(|name| name.text().as_str() == wanted)),
        None => operations.first(),
    };
    chosen
        .and_then(|op| op.operation_type())
        .is_some_and(|kind| kind.mutation_token().is_some())
}

/// `query ...{` → `subscription ... @_multiple_top_level_fields {`, byte for byte like
/// `validate.py`: the leading keyword swapped, the directive put before the first `{`.
pub fn to_subscription(query: &str) -> Option<String> {
    let rest = query.strip_prefix("query")?;
    if !query.starts_with("query ") || !rest.contains('{') {
        return None;
    }
    Some(format!(
        "subscription{}",
        rest.replacen('{', " @_multiple_top_level_fields {", 1)
    ))
}

/// The step as the socket comparison sees it: only `response` counts.
pub fn socket_expectation(step: &Step) -> Step {
    let mut step = step.clone();
    step.resp_headers.clear();
    step.allowed_responses.clear();
    step
}

/// Sends one eligible step over a WebSocket transport; the reply's status is the expected one
/// (a socket has none) and its body the first result's payload.
pub async fn send_step(
    base_url: &str,
    step: &Step,
    headers: &[(String, String)],
    transport: Transport,
    timeout: Duration,
) -> Result<Reply, String> {
    let Some(protocol) = protocol_of(transport) else {
        return Err("HTTP is not a WebSocket transport".into());
    };
    let mut payload = step.query.clone();
    if transport == Transport::Subscription {
        let text = payload
            .get("query")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let rewritten = to_subscription(text)
            .ok_or_else(|| format!("cannot turn into a subscription: {text}"))?;
        payload["query"] = Value::String(rewritten);
    }
    let mut socket = WsConnection::connect(base_url, &step.url, protocol, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let outcome = exchange(
        &mut socket,
        protocol,
        &payload,
        step,
        headers,
        transport,
        timeout,
    )
    .await;
    socket.close().await;
    outcome
}

async fn exchange(
    socket: &mut WsConnection,
    protocol: WsProtocol,
    payload: &Value,
    step: &Step,
    headers: &[(String, String)],
    transport: Transport,
    timeout: Duration,
) -> Result<Reply, String> {
    socket
        .init(headers, timeout)
        .await
        .map_err(|e| format!("connection_init: {e}"))?;
    socket
        .send(&protocol.start_frame(OPERATION_ID, payload))
        .await
        .map_err(|e| e.to_string())?;
    let first = socket
        .next_for(OPERATION_ID, timeout)
        .await
        .map_err(|e| format!("waiting for the result: {e}"))?;
    let kind = frame_type(&first);
    let expects_errors = step
        .response
        .as_ref()
        .is_some_and(|r| r.get("errors").is_some() || r.get("error").is_some());
    let allowed = kind == protocol.data_type() || (expects_errors && kind == "error");
    if !allowed {
        return Err(format!("unexpected first frame {first}"));
    }
    let body = protocol
        .payload_as_body(&first)
        .ok_or_else(|| format!("{kind} frame without payload: {first}"))?;
    if transport == Transport::Subscription {
        socket
            .send(&protocol.stop_frame(OPERATION_ID))
            .await
            .map_err(|e| e.to_string())?;
    } else {
        // Hasura follows the result with `complete`, after an `error` too (in both protocols,
        // though `graphql-transport-ws` itself does not ask for it), and validate.py checks it.
        // It is written right behind the error, so a missing one is not waited for long.
        let wait = if kind == "error" {
            timeout.min(COMPLETE_AFTER_ERROR)
        } else {
            timeout
        };
        let done = socket
            .next_for(OPERATION_ID, wait)
            .await
            .map_err(|e| format!("waiting for complete: {e}"))?;
        if frame_type(&done) != "complete" {
            return Err(format!("expected complete after the result, got {done}"));
        }
    }
    Ok(Reply {
        status: step.status,
        headers: Vec::new(),
        body,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::case_file::{CaseFile, case_from_value, parse_yaml};

    fn step(yaml: &str) -> Step {
        match case_from_value(&parse_yaml(yaml).unwrap()) {
            CaseFile::Steps(mut steps) => steps.remove(0),
            CaseFile::NotRunnable(r) => panic!("{r}"),
        }
    }

    #[test]
    fn subscription_rewrite_is_validate_py() {
        assert_eq!(
            to_subscription("query {\n  a { b }\n}").as_deref(),
            Some("subscription  @_multiple_top_level_fields {\n  a { b }\n}")
        );
        assert_eq!(
            to_subscription("query Q($x: Int) { a(x: $x) { b } }").as_deref(),
            Some("subscription Q($x: Int)  @_multiple_top_level_fields { a(x: $x) { b } }")
        );
        assert_eq!(to_subscription("{ a }"), None);
        assert_eq!(to_subscription("query_x { a }"), None);
    }

    #[test]
    fn which_steps_go_over_a_socket() {
        let query = step(
            "url: /v1/graphql\nstatus: 200\nresponse: {data: {a: 1}}\nquery: {query: 'query { a }'}\n",
        );
        for transport in Transport::ALL {
            assert!(ws_eligible(&query, transport), "{transport:?}");
        }
        let shorthand = step(
            "url: /v1/graphql\nstatus: 200\nresponse: {data: {a: 1}}\nquery: {query: '{ a }'}\n",
        );
        assert!(ws_eligible(&shorthand, Transport::Websocket));
        assert!(!ws_eligible(&shorthand, Transport::Subscription));
        let mutation = step(
            "url: /v1/graphql\nstatus: 200\nresponse: {data: {a: 1}}\nquery: {query: 'mutation { a }'}\n",
        );
        assert!(!ws_eligible(&mutation, Transport::Websocket));
        assert!(ws_eligible(&mutation, Transport::Http));
        let named = step(
            "url: /v1/graphql\nstatus: 200\nresponse: {data: {a: 1}}\nquery: {operationName: M, query: 'query Q { a } mutation M { b }'}\n",
        );
        assert!(!ws_eligible(&named, Transport::Websocket));
        let batch = step(
            "url: /v1/graphql\nstatus: 200\nresponse: [{data: {a: 1}}]\nquery: [{query: 'query { a }'}]\n",
        );
        assert!(!ws_eligible(&batch, Transport::Websocket));
        let no_response = step("url: /v1/graphql\nstatus: 200\nquery: {query: 'query { a }'}\n");
        assert!(!ws_eligible(&no_response, Transport::Websocket));
        let rql = step("url: /v1/query\nstatus: 200\nresponse: {}\nquery: {type: run_sql}\n");
        assert!(!ws_eligible(&rql, Transport::Websocket));
        let relay = step(
            "url: /v1beta1/relay\nstatus: 200\nresponse: {data: {a: 1}}\nquery: {query: 'query { a }'}\n",
        );
        assert!(ws_eligible(&relay, Transport::GraphqlTransportWs));
    }

    #[test]
    fn socket_expectation_ignores_headers() {
        let with_headers = step(
            "url: /v1/graphql\nstatus: 200\nresp_headers: {x: y}\nresponse: {data: {a: 1}}\nquery: {query: 'query { a }'}\n",
        );
        let expectation = socket_expectation(&with_headers);
        assert!(expectation.resp_headers.is_empty());
        assert_eq!(expectation.response, with_headers.response);
    }
}
