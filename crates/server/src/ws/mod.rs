//! GraphQL over WebSocket on `/v1/graphql` (and `/v1alpha1/graphql`): the upgrade, the
//! subprotocol choice, and one task per connection ([`connection`]) that speaks it.
//!
//! In: a WebSocket upgrade request. Out: a connection that authenticates from
//! `connection_init.payload.headers` (over the upgrade request's own headers), runs queries and
//! mutations once, and keeps subscriptions alive through the live-query multiplexer
//! (`graft-live`), which pushes a new result whenever one changes.

mod connection;
mod protocol;

use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::{Protocol, SUBPROTOCOLS};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Read buffer per connection. Client messages are small (init, start, stop); a larger message
/// still arrives whole, the buffer only sets how much is read at a time. The default (128 KiB)
/// would cost more than everything else a subscriber holds.
const READ_BUFFER_BYTES: usize = 1024;
/// The largest message a client may send, as for HTTP bodies.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !state.config.api_enabled("graphql") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let limit = state.config.websocket.max_connections;
    if limit > 0 && state.websocket_connections.load(Ordering::Relaxed) >= limit {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many WebSocket connections",
        )
            .into_response();
    }
    let upgrade = upgrade
        .protocols(SUBPROTOCOLS)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE_BYTES);
    let protocol = Protocol::from_subprotocol(
        upgrade
            .selected_protocol()
            .and_then(|value| value.to_str().ok()),
    );
    let headers = owned(&headers);
    upgrade.on_upgrade(move |socket| connection::run(state, headers, protocol, socket))
}

/// A copy of the upgrade request's headers that owns its bytes. The parsed values are slices of
/// hyper's whole read buffer: kept as they are, they would keep that buffer (about 16 KiB) alive
/// for as long as the socket is open.
fn owned(headers: &HeaderMap) -> HeaderMap {
    headers
        .iter()
        .map(|(name, value)| {
            let copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
            (name.clone(), copy)
        })
        .collect()
}
