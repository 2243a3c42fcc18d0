//! One WebSocket connection: its session, its running operations, and the loop that reads the
//! client, forwards live results, sends keep-alives and closes cleanly on shutdown.

use super::protocol::{ClientMessage, Protocol, ServerMessages};
use crate::graphql::{self, GraphqlError, Outcome};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures_util::{SinkExt, StreamExt};
use graft_gql::ValidOperation;
use graft_live::{LiveEvent, LiveResult, Sink, Subscription};
use graft_metadata::DEFAULT_SOURCE;
use graft_schema::Session;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

/// What the connection sends next.
enum Outgoing {
    Text(String),
    Close(u16, String),
}

/// A subscription ready to join its poller.
struct LiveStatement {
    sql: Arc<str>,
    params: Vec<Option<String>>,
    /// For a streaming subscription, where its cursor sits in `params`.
    cursor_params: Option<Vec<usize>>,
    pool: deadpool_postgres::Pool,
}

/// A running subscription: what it was asked, and its place in the multiplexer.
struct LiveOperation {
    request: Value,
    sql: Arc<str>,
    params: Vec<Option<String>>,
    _subscription: Subscription,
}

struct Connection {
    state: Arc<AppState>,
    protocol: Protocol,
    messages: ServerMessages,
    upgrade_headers: HeaderMap,
    session: Option<Session>,
    /// The headers the session came from (forwarded to action handlers that ask for them).
    headers: HeaderMap,
    /// When the session's credentials expire (a JWT's `exp`): the connection closes then.
    expires_at: Option<tokio::time::Instant>,
    operations: HashMap<String, LiveOperation>,
    events: mpsc::UnboundedSender<Box<LiveEvent>>,
}

pub(super) async fn run(
    state: Arc<AppState>,
    upgrade_headers: HeaderMap,
    protocol: Protocol,
    socket: WebSocket,
) {
    state.websocket_connections.fetch_add(1, Ordering::Relaxed);
    let (events, mut live_results) = mpsc::unbounded_channel();
    let mut shutdown = state.shutdown.subscribe();
    let mut cache_changes = state.cache_changes.subscribe();
    let config = state.config.websocket;
    let mut connection = Connection {
        state: state.clone(),
        protocol,
        messages: ServerMessages(protocol),
        upgrade_headers,
        session: None,
        headers: HeaderMap::new(),
        expires_at: None,
        operations: HashMap::new(),
        events,
    };
    // The futures of message handling (validation, execution) are boxed where they are awaited:
    // inline, their largest state would be reserved in every idle connection's task.
    let (mut sender, mut receiver) = socket.split();
    let init_deadline = tokio::time::sleep(config.init_timeout);
    tokio::pin!(init_deadline);
    let mut keep_alive = tokio::time::interval(config.keepalive);
    keep_alive.tick().await;
    loop {
        let out: Vec<Outgoing> = tokio::select! {
            message = receiver.next() => match message {
                Some(Ok(Message::Text(text))) => Box::pin(connection.on_message(text.as_str())).await,
                Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                    Ok(text) => Box::pin(connection.on_message(text)).await,
                    Err(_) => vec![connection.invalid("binary message is not UTF-8")],
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Vec::new(),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            Some(event) = live_results.recv() => connection.on_live_result(*event),
            // Only the legacy protocol has keep-alives; the new one would wake for nothing.
            _ = keep_alive.tick(), if connection.session.is_some() && protocol == Protocol::Legacy => {
                connection.messages.keep_alive().map(Outgoing::Text).into_iter().collect()
            }
            () = &mut init_deadline, if connection.session.is_none() => {
                vec![Outgoing::Close(4408, "Connection initialisation timeout".into())]
            }
            Ok(()) = cache_changes.changed() => Box::pin(connection.revalidate()).await,
            () = until(connection.expires_at) => connection.expired(),
            _ = shutdown.changed() => {
                vec![Outgoing::Close(1001, "server is shutting down".into())]
            }
        };
        if !send_all(&mut sender, out).await {
            break;
        }
    }
    // Dropping the connection drops its subscriptions, which leave their pollers.
    drop(connection);
    state.websocket_connections.fetch_sub(1, Ordering::Relaxed);
}

/// Sends `out` in order; false when the connection is done (closed by us or broken).
async fn send_all(
    sender: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    out: Vec<Outgoing>,
) -> bool {
    for item in out {
        match item {
            Outgoing::Text(text) => {
                if sender.send(Message::Text(text.into())).await.is_err() {
                    return false;
                }
            }
            Outgoing::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = sender.send(Message::Close(Some(frame))).await;
                let _ = sender.close().await;
                return false;
            }
        }
    }
    true
}

impl Connection {
    async fn on_message(&mut self, text: &str) -> Vec<Outgoing> {
        let message = match ClientMessage::parse(self.protocol, text) {
            Ok(message) => message,
            Err(e) => return vec![self.invalid(&e.to_string())],
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload.as_ref()).await,
            ClientMessage::Start { id, payload } => self.start(id, payload).await,
            ClientMessage::Stop { id } => {
                self.operations.remove(&id);
                Vec::new()
            }
            ClientMessage::Ping { payload } => {
                vec![Outgoing::Text(self.messages.pong(payload.as_ref()))]
            }
            ClientMessage::Pong => Vec::new(),
            ClientMessage::Terminate => vec![Outgoing::Close(1000, String::new())],
        }
    }

    /// A message the protocol does not allow: the new protocol closes, the legacy one reports.
    fn invalid(&self, reason: &str) -> Outgoing {
        match self.protocol {
            Protocol::TransportWs => Outgoing::Close(4400, reason.to_string()),
            Protocol::Legacy => Outgoing::Text(self.messages.connection_error(reason)),
        }
    }

    async fn init(&mut self, payload: Option<&Value>) -> Vec<Outgoing> {
        // The legacy protocol lets a client re-initialise to change its headers.
        if self.protocol == Protocol::TransportWs && self.session.is_some() {
            return vec![Outgoing::Close(
                4429,
                "Too many initialisation requests".into(),
            )];
        }
        let headers = init_headers(&self.upgrade_headers, payload);
        match self
            .state
            .authenticator
            .authenticate_until(&headers, None)
            .await
        {
            Ok((session, expires)) => {
                self.session = Some(session);
                self.headers = headers;
                if self.protocol == Protocol::TransportWs {
                    // Only the legacy protocol may initialise again (and need them again).
                    self.upgrade_headers = HeaderMap::new();
                }
                self.expires_at = expires.map(|at| {
                    let left = at
                        .duration_since(std::time::SystemTime::now())
                        .unwrap_or_default();
                    tokio::time::Instant::now() + left
                });
                let mut out = vec![Outgoing::Text(self.messages.ack())];
                out.extend(self.messages.keep_alive().map(Outgoing::Text));
                out
            }
            Err(error) => match self.protocol {
                Protocol::TransportWs => vec![Outgoing::Close(4403, "Forbidden".into())],
                Protocol::Legacy => vec![
                    Outgoing::Text(self.messages.connection_error(&error.message)),
                    Outgoing::Close(1000, String::new()),
                ],
            },
        }
    }

    /// The credentials expired: the connection ends, as Hasura ends it.
    fn expired(&mut self) -> Vec<Outgoing> {
        self.operations.clear();
        match self.protocol {
            Protocol::TransportWs => vec![Outgoing::Close(4403, "Forbidden: JWT expired".into())],
            Protocol::Legacy => vec![
                Outgoing::Text(
                    self.messages
                        .connection_error("Could not verify JWT: JWTExpired"),
                ),
                Outgoing::Close(1000, String::new()),
            ],
        }
    }

    async fn start(&mut self, id: String, request: Value) -> Vec<Outgoing> {
        let Some(session) = self.session.clone() else {
            return vec![Outgoing::Close(4401, "Unauthorized".into())];
        };
        if self.operations.contains_key(&id) {
            return match self.protocol {
                Protocol::TransportWs => vec![Outgoing::Close(
                    4409,
                    format!("Subscriber for {id} already exists"),
                )],
                Protocol::Legacy => vec![self.error(
                    &id,
                    &GraphqlError::new(
                        "start-failed",
                        "$",
                        "an operation already exists with this id",
                    ),
                )],
            };
        }
        let limit = self.state.config.websocket.max_operations_per_connection;
        if limit > 0 && self.operations.len() >= limit {
            let error = GraphqlError::new(
                "too-many-operations",
                "$",
                format!("a connection may run at most {limit} operations at once"),
            );
            return self.failed(&id, &error);
        }
        let cache = self.state.current();
        match graphql::execute(
            &self.state,
            &cache,
            &session,
            &self.headers,
            request.clone(),
            true,
        )
        .await
        {
            Ok(Outcome::Body(body)) => self.once(&id, &body.into_string()),
            Ok(Outcome::Subscription(operation)) => match self.translate(&session, &operation) {
                Ok(statement) => {
                    let live = self.join(&id, request, statement);
                    self.operations.insert(id, live);
                    Vec::new()
                }
                Err(error) => self.failed(&id, &error),
            },
            Err(error) => self.failed(&id, &error),
        }
    }

    /// A query or mutation: its one result, then `complete`.
    fn once(&self, id: &str, body: &str) -> Vec<Outgoing> {
        vec![
            Outgoing::Text(self.messages.data(id, body)),
            Outgoing::Text(self.messages.complete(id)),
        ]
    }

    fn error(&self, id: &str, error: &GraphqlError) -> Outgoing {
        Outgoing::Text(self.messages.error(id, &error.errors().to_string()))
    }

    /// An operation that failed: its `error`, then `complete`, as Hasura sends in both protocols.
    fn failed(&self, id: &str, error: &GraphqlError) -> Vec<Outgoing> {
        vec![
            self.error(id, error),
            Outgoing::Text(self.messages.complete(id)),
        ]
    }

    /// Translates a subscription (live query or stream) to its multiplexed statement.
    fn translate(
        &self,
        session: &Session,
        operation: &ValidOperation,
    ) -> Result<LiveStatement, GraphqlError> {
        let cache = self.state.current();
        let source = graphql::default_source(&cache)?;
        let options = graphql::options(&self.state);
        let pool = cache
            .pool(DEFAULT_SOURCE)
            .map_err(|e| GraphqlError::new(e.code, "$", e.message))?
            .clone();
        let translate_error = |e: graft_translate::graphql::GraphqlError| {
            GraphqlError::new(e.code, e.path, e.message)
        };
        let stream =
            graft_translate::graphql::translate_stream_query(operation, source, session, &options)
                .map_err(translate_error)?;
        if let Some(stream) = stream {
            return Ok(LiveStatement {
                sql: Arc::from(stream.sql),
                params: stream.params,
                cursor_params: Some(stream.cursor_params),
                pool,
            });
        }
        let live =
            graft_translate::graphql::translate_live_query(operation, source, session, &options)
                .map_err(translate_error)?;
        Ok(LiveStatement {
            sql: Arc::from(live.sql),
            params: live.params,
            cursor_params: None,
            pool,
        })
    }

    /// Joins the statement's poller as operation `id`.
    fn join(&self, id: &str, request: Value, statement: LiveStatement) -> LiveOperation {
        let sink = Sink {
            sender: self.events.clone(),
            tag: Arc::from(id),
        };
        let (sql, params) = (statement.sql.clone(), statement.params.clone());
        let subscription = match statement.cursor_params {
            Some(cursor_params) => self.state.streaming.subscribe_stream(
                DEFAULT_SOURCE,
                statement.pool,
                sql,
                params,
                cursor_params,
                sink,
            ),
            None => self
                .state
                .live
                .subscribe(DEFAULT_SOURCE, statement.pool, sql, params, sink),
        };
        LiveOperation {
            request,
            sql: statement.sql,
            params: statement.params,
            _subscription: subscription,
        }
    }

    fn on_live_result(&self, event: LiveEvent) -> Vec<Outgoing> {
        let Some(operation) = self.operations.get(event.tag.as_ref()) else {
            return Vec::new();
        };
        let payload = match event.result {
            LiveResult::Data(payload) => payload.to_string(),
            LiveResult::Error(error) => {
                let session = self.session.clone().unwrap_or_else(Session::admin);
                graphql::statement_error(
                    &self.state,
                    &session,
                    &operation.sql,
                    &operation.params,
                    &error,
                )
                .body()
            }
        };
        vec![Outgoing::Text(self.messages.data(&event.tag, &payload))]
    }

    /// The metadata changed: every subscription is validated and translated again. Those that
    /// no longer validate end with an error; those whose statement changed move to its poller.
    async fn revalidate(&mut self) -> Vec<Outgoing> {
        let Some(session) = self.session.clone() else {
            return Vec::new();
        };
        let cache = self.state.current();
        let mut out = Vec::new();
        let ids: Vec<String> = self.operations.keys().cloned().collect();
        for id in ids {
            let Some(request) = self.operations.get(&id).map(|op| op.request.clone()) else {
                continue;
            };
            let outcome = graphql::execute(
                &self.state,
                &cache,
                &session,
                &self.headers,
                request.clone(),
                true,
            )
            .await;
            let renewed = match outcome {
                Ok(Outcome::Subscription(operation)) => {
                    self.translate(&session, &operation).map(Some)
                }
                Ok(Outcome::Body(_)) => Ok(None),
                Err(error) => Err(error),
            };
            match renewed {
                Ok(Some(statement)) => {
                    let unchanged = self.operations.get(&id).is_some_and(|old| {
                        old.sql == statement.sql && old.params == statement.params
                    });
                    if !unchanged {
                        let live = self.join(&id, request, statement);
                        self.operations.insert(id, live);
                    }
                }
                Ok(None) => {
                    self.operations.remove(&id);
                    out.push(Outgoing::Text(self.messages.complete(&id)));
                }
                Err(error) => {
                    self.operations.remove(&id);
                    out.extend(self.failed(&id, &error));
                }
            }
        }
        out
    }
}

/// Completes at `at`, or never.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The headers a connection authenticates with: the upgrade request's, overridden by
/// `connection_init.payload.headers` (values that are not strings are sent as their JSON text).
fn init_headers(upgrade: &HeaderMap, payload: Option<&Value>) -> HeaderMap {
    let mut headers = upgrade.clone();
    let sent = payload
        .and_then(|p| p.get("headers"))
        .and_then(Value::as_object);
    for (name, value) in sent.into_iter().flatten() {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}
