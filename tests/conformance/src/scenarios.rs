//! The subscription tests that `test_subscriptions.py` drives in Python, re-implemented:
//! the live-query and streaming step files (mutations sent over the socket, every open
//! subscription must then push the expected rows) and the protocol checks of
//! `subscriptions/basic` (init, connection errors, start, stop, complete), in both protocols.
//!
//! Each one is a [`Scenario`] run on fresh sockets against the folder's engine; a failure is
//! the first broken expectation, in words. "Nothing arrives" checks wait [`QUIET`] (the Python
//! tests wait 3 s for the same).

use crate::case_file::read_yaml;
use crate::compare::compact;
use crate::transport::{HttpClient, Request, RequestBody, Transport};
use crate::ws::{WsConnection, WsEvent, WsProtocol, frame_type};
use crate::ws_step::protocol_of;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Folders with fixtures but no case file, whose tests are all Python (run only as scenarios
/// over a WebSocket transport).
pub const PYTHON_ONLY_FOLDERS: &[&str] = &["subscriptions/udf_session_args"];

/// The Python-only folders with a scenario over one of `transports`: the subscription ones
/// need a socket, the event-trigger ones run over HTTP.
pub fn python_only_folders(transports: &[Transport]) -> Vec<&'static str> {
    let mut folders = Vec::new();
    if transports.iter().any(|t| *t != Transport::Http) {
        folders.extend_from_slice(PYTHON_ONLY_FOLDERS);
    }
    if transports.contains(&Transport::Http) {
        folders.extend_from_slice(crate::event_scenarios::PYTHON_ONLY_FOLDERS);
    }
    folders
}

/// How long "no further frame" is watched for.
pub const QUIET: Duration = Duration::from_secs(1);

/// Everything a scenario needs from the folder run.
pub struct ScenarioContext<'a> {
    pub client: &'a HttpClient,
    pub admin_secret: Option<&'a str>,
    /// The folder of the scenario (for `steps.yaml`).
    pub dir: &'a Path,
    /// Per expected frame, like the Python `timeout=15`.
    pub timeout: Duration,
    /// The engine's event webhook (`EVENT_WEBHOOK_HANDLER`), for the event-trigger tests.
    pub events: Option<&'a crate::event_webhook::EventWebhook>,
}

/// The protocol checks of `TestSubscriptionBasic` / `TestSubscriptionBasicGraphQLWS` and the
/// connection tests around them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicCheck {
    Init,
    ConnectionError,
    Start,
    StopWithoutId,
    Stop,
    StartAfterStop,
    Complete,
    ConnectionTerminate,
    ClosedWithoutAuth,
}

/// One Python-driven subscription test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `subscriptions/live_queries/steps.yaml`: three live queries (limits 1, 2, 2).
    LiveQueries,
    /// `subscriptions/streaming/steps.yaml`: one stream on `created_at` while rows arrive.
    StreamingSteps,
    /// Ten existing articles streamed in batches of two.
    StreamingStaticData,
    /// A stream whose cursor column has a custom name (`userId`).
    StreamingCustomCursor,
    /// A live query on a tracked function that takes the whole session as an argument.
    SessionArgumentFunction,
    Basic(BasicCheck),
    /// An event-trigger test of `test_events.py`, over HTTP.
    Event(crate::event_scenarios::EventTest),
}

/// A scenario as planned for a folder: its result path, and the transports it runs over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedScenario {
    pub path: String,
    pub scenario: Scenario,
    pub transports: Vec<Transport>,
}

const BOTH: [Transport; 2] = [Transport::Websocket, Transport::GraphqlTransportWs];

/// The scenario that replaces a step file the YAML runner cannot play.
pub fn for_case_file(path: &str) -> Option<PlannedScenario> {
    let (scenario, transports) = match path {
        "subscriptions/live_queries/steps.yaml" => (Scenario::LiveQueries, BOTH.to_vec()),
        "subscriptions/streaming/steps.yaml" => {
            (Scenario::StreamingSteps, vec![Transport::Websocket])
        }
        _ => (
            Scenario::Event(crate::event_scenarios::for_case_file(path)?),
            vec![Transport::Http],
        ),
    };
    Some(PlannedScenario {
        path: path.to_string(),
        scenario,
        transports,
    })
}

/// Python-only tests of a folder (no case file of their own), named `<folder>/<test name>`.
pub fn for_folder(folder: &str, admin_secret: bool) -> Vec<PlannedScenario> {
    let planned = |name: &str, scenario, transports: &[Transport]| PlannedScenario {
        path: format!("{folder}/{name}"),
        scenario,
        transports: transports.to_vec(),
    };
    match folder {
        "subscriptions/basic" => {
            let mut checks = vec![
                planned("test_init", Scenario::Basic(BasicCheck::Init), &BOTH),
                planned(
                    "test_connection_error",
                    Scenario::Basic(BasicCheck::ConnectionError),
                    &BOTH,
                ),
                planned("test_start", Scenario::Basic(BasicCheck::Start), &BOTH),
                planned(
                    "test_stop_without_id",
                    Scenario::Basic(BasicCheck::StopWithoutId),
                    &BOTH,
                ),
                planned("test_stop", Scenario::Basic(BasicCheck::Stop), &BOTH),
                planned(
                    "test_start_after_stop",
                    Scenario::Basic(BasicCheck::StartAfterStop),
                    &BOTH,
                ),
                planned(
                    "test_complete",
                    Scenario::Basic(BasicCheck::Complete),
                    &BOTH,
                ),
                planned(
                    "test_connection_terminate",
                    Scenario::Basic(BasicCheck::ConnectionTerminate),
                    &[Transport::Websocket],
                ),
            ];
            if admin_secret {
                checks.push(planned(
                    "test_closed_connection_without_auth",
                    Scenario::Basic(BasicCheck::ClosedWithoutAuth),
                    &BOTH,
                ));
            }
            checks
        }
        "subscriptions/streaming" => vec![
            planned(
                "test_basic_streaming_subscription_existing_static_data",
                Scenario::StreamingStaticData,
                &[Transport::Websocket],
            ),
            planned(
                "test_streaming_subscription_with_custom_name_set_for_cursor",
                Scenario::StreamingCustomCursor,
                &[Transport::Websocket],
            ),
        ],
        "subscriptions/udf_session_args" => vec![planned(
            "test_user_defined_function_with_session_argument",
            Scenario::SessionArgumentFunction,
            &BOTH,
        )],
        _ => crate::event_scenarios::for_folder(folder)
            .into_iter()
            .map(|(name, test)| planned(name, Scenario::Event(test), &[Transport::Http]))
            .collect(),
    }
}

impl Scenario {
    pub async fn run(self, ctx: &ScenarioContext<'_>, transport: Transport) -> Result<(), String> {
        if let Scenario::Event(test) = self {
            return crate::event_scenarios::run(test, ctx).await;
        }
        let protocol = protocol_of(transport).ok_or("not a WebSocket transport")?;
        match self {
            Scenario::LiveQueries => live_queries(ctx, protocol).await,
            Scenario::StreamingSteps => streaming_steps(ctx, protocol).await,
            Scenario::StreamingStaticData => streaming_static_data(ctx, protocol).await,
            Scenario::StreamingCustomCursor => streaming_custom_cursor(ctx, protocol).await,
            Scenario::SessionArgumentFunction => session_argument_function(ctx, protocol).await,
            Scenario::Basic(check) => basic(ctx, protocol, check).await,
            Scenario::Event(_) => Err("an event test runs over HTTP".into()),
        }
    }
}

fn admin_headers(ctx: &ScenarioContext<'_>) -> Vec<(String, String)> {
    ctx.admin_secret
        .map(|secret| vec![("X-Hasura-Admin-Secret".to_string(), secret.to_string())])
        .unwrap_or_default()
}

/// A socket on `/v1/graphql` that has been acknowledged as admin.
async fn admin_socket(
    ctx: &ScenarioContext<'_>,
    protocol: WsProtocol,
) -> Result<WsConnection, String> {
    let mut socket =
        WsConnection::connect(ctx.client.base_url(), "/v1/graphql", protocol, ctx.timeout)
            .await
            .map_err(|e| e.to_string())?;
    socket
        .init(&admin_headers(ctx), ctx.timeout)
        .await
        .map_err(|e| format!("connection_init: {e}"))?;
    Ok(socket)
}

async fn send(socket: &mut WsConnection, frame: &Value) -> Result<(), String> {
    socket.send(frame).await.map_err(|e| e.to_string())
}

/// The next frame of operation `id`, which must be a result; its `payload.data`.
async fn next_data(
    socket: &mut WsConnection,
    id: &str,
    timeout: Duration,
) -> Result<Value, String> {
    let frame = socket
        .next_for(id, timeout)
        .await
        .map_err(|e| format!("{id}: {e}"))?;
    if frame_type(&frame) != socket.protocol.data_type() {
        return Err(format!(
            "{id}: expected {}, got {}",
            socket.protocol.data_type(),
            compact(&frame, 300)
        ));
    }
    Ok(frame["payload"]["data"].clone())
}

async fn expect_complete(
    socket: &mut WsConnection,
    id: &str,
    timeout: Duration,
) -> Result<(), String> {
    let frame = socket
        .next_for(id, timeout)
        .await
        .map_err(|e| format!("{id}: {e}"))?;
    if frame_type(&frame) == "complete" {
        Ok(())
    } else {
        Err(format!(
            "{id}: expected complete, got {}",
            compact(&frame, 300)
        ))
    }
}

fn expect_equal(what: &str, actual: &Value, expected: &Value) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {}, got {}",
            compact(expected, 300),
            compact(actual, 300)
        ))
    }
}

/// Nothing connection-level arrives and the socket stays open for [`QUIET`].
async fn expect_quiet(socket: &mut WsConnection, after: &str) -> Result<(), String> {
    match socket
        .next_general(QUIET)
        .await
        .map_err(|e| e.to_string())?
    {
        None => Ok(()),
        Some(WsEvent::Frame(frame)) => Err(format!(
            "after {after}: unexpected {}",
            compact(&frame, 300)
        )),
        Some(WsEvent::Closed { code, reason }) => Err(format!(
            "after {after}: the server closed the socket ({code:?} {reason})"
        )),
    }
}

/// One step of a `steps.yaml`: a mutation with its expected data and pushed rows.
struct MutationStep {
    name: String,
    payload: Value,
    response: Value,
    live_response: Option<Value>,
    stream_response: Option<Value>,
}

/// Reads `steps.yaml`, whose `variables`, `response`, `live_response` and `stream_response`
/// are JSON texts.
fn read_steps(dir: &Path) -> Result<Vec<MutationStep>, String> {
    let value = read_yaml(&dir.join("steps.yaml")).map_err(|e| e.to_string())?;
    let Value::Array(items) = value else {
        return Err("steps.yaml is not a list".into());
    };
    let json_text = |item: &Value, key: &str| -> Result<Option<Value>, String> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("steps.yaml `{key}` is not JSON: {e}")),
            Some(other) => Ok(Some(other.clone())),
        }
    };
    items
        .iter()
        .map(|item| {
            let query = item
                .get("query")
                .and_then(Value::as_str)
                .ok_or("steps.yaml step without `query`")?;
            let mut payload = json!({"query": query});
            if let Some(variables) = json_text(item, "variables")? {
                payload["variables"] = variables;
            }
            Ok(MutationStep {
                name: item
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                payload,
                response: json_text(item, "response")?
                    .ok_or("steps.yaml step without `response`")?,
                live_response: json_text(item, "live_response")?,
                stream_response: json_text(item, "stream_response")?,
            })
        })
        .collect()
}

/// Sends a mutation over the socket: one result equal to the step's response, then complete.
async fn run_mutation(
    socket: &mut WsConnection,
    index: usize,
    step: &MutationStep,
    timeout: Duration,
) -> Result<(), String> {
    let id = format!("mutation_{index}");
    send(socket, &socket.protocol.start_frame(&id, &step.payload)).await?;
    let data = next_data(socket, &id, timeout).await?;
    expect_equal(&id, &data, &step.response)?;
    expect_complete(socket, &id, timeout).await
}

/// `TestSubscriptionLiveQueries` / `...ForGraphQLWS`.
async fn live_queries(ctx: &ScenarioContext<'_>, protocol: WsProtocol) -> Result<(), String> {
    let steps = read_steps(ctx.dir)?;
    let mut socket = admin_socket(ctx, protocol).await?;
    let queries: [(usize, usize); 3] = [(0, 1), (1, 2), (2, 2)];
    for (i, limit) in queries {
        let query = format!(
            "subscription ($result_limit: Int!) {{\n  hge_tests_live_query_{i}: hge_tests_test_t2(order_by: {{c1: asc}}, limit: $result_limit) {{\n    c1,\n    c2\n  }}\n}}\n"
        );
        let id = format!("live_{i}");
        let payload = json!({"query": query, "variables": {"result_limit": limit}});
        send(&mut socket, &protocol.start_frame(&id, &payload)).await?;
        let data = next_data(&mut socket, &id, ctx.timeout).await?;
        expect_equal(
            &id,
            &data,
            &json!({format!("hge_tests_live_query_{i}"): []}),
        )?;
    }
    for (index, step) in steps.iter().enumerate() {
        run_mutation(&mut socket, index, step, ctx.timeout).await?;
        let rows = match &step.live_response {
            Some(rows) => rows.clone(),
            None => step.response[&step.name]
                .get("returning")
                .cloned()
                .unwrap_or(json!([])),
        };
        let rows = rows.as_array().cloned().unwrap_or_default();
        for (i, limit) in queries {
            let id = format!("live_{i}");
            let data = next_data(&mut socket, &id, ctx.timeout).await?;
            let expected: Vec<Value> = rows.iter().take(limit).cloned().collect();
            expect_equal(
                &format!("{id} after step {}", index + 1),
                &data,
                &json!({format!("hge_tests_live_query_{i}"): expected}),
            )?;
        }
    }
    for (i, _) in queries {
        send(&mut socket, &protocol.stop_frame(&format!("live_{i}"))).await?;
    }
    let outcome = expect_quiet(&mut socket, "stopping the live queries").await;
    socket.close().await;
    outcome
}

const STREAM_ID: &str = "stream_1";

/// `test_streaming_subscriptions_with_concurrent_data_inserts`.
async fn streaming_steps(ctx: &ScenarioContext<'_>, protocol: WsProtocol) -> Result<(), String> {
    let steps = read_steps(ctx.dir)?;
    let mut socket = admin_socket(ctx, protocol).await?;
    let query = "subscription ($batch_size: Int!, $initial_created_at: timestamptz!) {\n  hge_tests_stream_query: hge_tests_test_t2_stream(cursor: [{initial_value: {created_at: $initial_created_at}, ordering: ASC}], batch_size: $batch_size) {\n     c1\n     c2\n  }\n}\n";
    let payload =
        json!({"query": query, "variables": {"batch_size": 2, "initial_created_at": "2020-01-01"}});
    send(&mut socket, &protocol.start_frame(STREAM_ID, &payload)).await?;
    for (index, step) in steps.iter().enumerate() {
        run_mutation(&mut socket, index, step, ctx.timeout).await?;
        let expected = step
            .stream_response
            .clone()
            .ok_or("steps.yaml step without `stream_response`")?;
        let data = next_data(&mut socket, STREAM_ID, ctx.timeout).await?;
        expect_equal(
            &format!("stream after step {}", index + 1),
            &data,
            &json!({"hge_tests_stream_query": expected}),
        )?;
    }
    stop_stream(socket, protocol).await
}

async fn stop_stream(mut socket: WsConnection, protocol: WsProtocol) -> Result<(), String> {
    send(&mut socket, &protocol.stop_frame(STREAM_ID)).await?;
    let outcome = expect_quiet(&mut socket, "stopping the stream").await;
    socket.close().await;
    outcome
}

/// `test_basic_streaming_subscription_existing_static_data`.
async fn streaming_static_data(
    ctx: &ScenarioContext<'_>,
    protocol: WsProtocol,
) -> Result<(), String> {
    let values: Vec<String> = (1..=10)
        .map(|i| format!("({i}, 'Article title {i}')"))
        .collect();
    run_sql(
        ctx,
        &format!(
            "insert into hge_tests.articles (id, title) values {}",
            values.join(", ")
        ),
    )
    .await?;
    let mut socket = admin_socket(ctx, protocol).await?;
    let query = "subscription ($batch_size: Int!) {\n  hge_tests_stream_query: hge_tests_articles_stream(cursor: {initial_value: {id: 0}}, batch_size: $batch_size) {\n     id\n     title\n  }\n}\n";
    let payload = json!({"query": query, "variables": {"batch_size": 2}});
    send(&mut socket, &protocol.start_frame(STREAM_ID, &payload)).await?;
    for batch in 0..5 {
        let expected: Vec<Value> = [2 * batch + 1, 2 * batch + 2]
            .iter()
            .map(|id| json!({"id": id, "title": format!("Article title {id}")}))
            .collect();
        let data = next_data(&mut socket, STREAM_ID, ctx.timeout).await?;
        expect_equal(
            &format!("batch {}", batch + 1),
            &data,
            &json!({"hge_tests_stream_query": expected}),
        )?;
    }
    stop_stream(socket, protocol).await
}

/// `test_streaming_subscription_with_custom_name_set_for_cursor`.
async fn streaming_custom_cursor(
    ctx: &ScenarioContext<'_>,
    protocol: WsProtocol,
) -> Result<(), String> {
    let mut socket = admin_socket(ctx, protocol).await?;
    let query = "subscription ($batch_size: Int!) {\n  hge_tests_stream_query: hge_tests_users_stream(cursor: {initial_value: {userId: 0}}, batch_size: $batch_size) {\n     userId\n     name\n  }\n}\n";
    let payload = json!({"query": query, "variables": {"batch_size": 1}});
    send(&mut socket, &protocol.start_frame(STREAM_ID, &payload)).await?;
    for user in 1..=2 {
        let data = next_data(&mut socket, STREAM_ID, ctx.timeout).await?;
        expect_equal(
            &format!("batch {user}"),
            &data,
            &json!({"hge_tests_stream_query": [{"userId": user, "name": format!("Name {user}")}]}),
        )?;
    }
    stop_stream(socket, protocol).await
}

/// `TestSubscriptionUDFWithSessionArg`: the role and user id come from `connection_init`.
async fn session_argument_function(
    ctx: &ScenarioContext<'_>,
    protocol: WsProtocol,
) -> Result<(), String> {
    let mut headers = admin_headers(ctx);
    headers.push(("x-hasura-role".into(), "user".into()));
    headers.push(("x-hasura-user-id".into(), "42".into()));
    let mut socket =
        WsConnection::connect(ctx.client.base_url(), "/v1/graphql", protocol, ctx.timeout)
            .await
            .map_err(|e| e.to_string())?;
    socket
        .init(&headers, ctx.timeout)
        .await
        .map_err(|e| format!("connection_init: {e}"))?;
    let payload =
        json!({"query": "\n  subscription {\n    me {\n      id\n      name\n    }\n  }\n"});
    send(&mut socket, &protocol.start_frame("1", &payload)).await?;
    let outcome = match next_data(&mut socket, "1", ctx.timeout).await {
        Ok(data) => expect_equal(
            "me",
            &data,
            &json!({"me": [{"id": "42", "name": "Charlie"}]}),
        ),
        Err(e) => Err(e),
    };
    socket.close().await;
    outcome
}

async fn run_sql(ctx: &ScenarioContext<'_>, sql: &str) -> Result<(), String> {
    let mut request = Request {
        method: "POST".into(),
        path: "/v1/query".into(),
        headers: Vec::new(),
        body: RequestBody::Json(json!({"type": "run_sql", "args": {"sql": sql}})),
    };
    if let Some(secret) = ctx.admin_secret {
        request.set_header("X-Hasura-Admin-Secret", secret);
    }
    let reply = ctx.client.send(&request).await.map_err(|e| e.to_string())?;
    if reply.status == 200 {
        Ok(())
    } else {
        Err(format!(
            "run_sql: {} {}",
            reply.status,
            compact(&reply.body, 300)
        ))
    }
}

const T1_SUBSCRIPTION: &str = "\nsubscription {\nhge_tests_test_t1(order_by: {c1: desc}, limit: 1) {\n    c1,\n    c2\n  }\n}\n";
const T1_QUERY: &str =
    "\nquery {\n  hge_tests_test_t1(order_by: {c1: desc}, limit: 1) {\n    c1,\n    c2\n  }\n}\n";

async fn basic(
    ctx: &ScenarioContext<'_>,
    protocol: WsProtocol,
    check: BasicCheck,
) -> Result<(), String> {
    if check == BasicCheck::ClosedWithoutAuth {
        // Without the admin secret the server must refuse the connection.
        let mut socket =
            WsConnection::connect(ctx.client.base_url(), "/v1/graphql", protocol, ctx.timeout)
                .await
                .map_err(|e| e.to_string())?;
        send(
            &mut socket,
            &json!({"type": "connection_init", "payload": {"headers": {}}}),
        )
        .await?;
        let closed = socket
            .wait_closed(ctx.timeout)
            .await
            .map_err(|e| e.to_string())?;
        return match closed {
            Some(_) => Ok(()),
            None => Err("connection_init without credentials: the socket stayed open".into()),
        };
    }
    let mut socket = admin_socket(ctx, protocol).await?;
    let outcome = basic_on(&mut socket, ctx.timeout, check).await;
    socket.close().await;
    outcome
}

async fn basic_on(
    socket: &mut WsConnection,
    timeout: Duration,
    check: BasicCheck,
) -> Result<(), String> {
    let protocol = socket.protocol;
    match check {
        BasicCheck::Init | BasicCheck::ClosedWithoutAuth => Ok(()),
        BasicCheck::ConnectionError => {
            send(socket, &json!({"type": "test"})).await?;
            expect_protocol_error(socket, timeout, "an unknown message type").await
        }
        BasicCheck::StopWithoutId => {
            let kind = match protocol {
                WsProtocol::Legacy => "stop",
                WsProtocol::TransportWs => "complete",
            };
            send(socket, &json!({"type": kind})).await?;
            expect_protocol_error(socket, timeout, &format!("{kind} without an id")).await
        }
        BasicCheck::Start => start(socket, timeout).await,
        BasicCheck::Stop => {
            send(socket, &protocol.stop_frame("1")).await?;
            expect_quiet(socket, "stopping operation 1").await
        }
        BasicCheck::StartAfterStop => {
            start(socket, timeout).await?;
            send(socket, &protocol.stop_frame("1")).await?;
            expect_quiet(socket, "stopping operation 1").await
        }
        BasicCheck::Complete => {
            send(
                socket,
                &protocol.start_frame("2", &json!({"query": T1_QUERY})),
            )
            .await?;
            next_data(socket, "2", timeout).await?;
            expect_complete(socket, "2", timeout).await
        }
        BasicCheck::ConnectionTerminate => {
            send(socket, &json!({"type": "connection_terminate"})).await?;
            match socket
                .next_general(QUIET)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(WsEvent::Frame(frame)) => Err(format!(
                    "after connection_terminate: unexpected {}",
                    compact(&frame, 300)
                )),
                None | Some(WsEvent::Closed { .. }) => Ok(()),
            }
        }
    }
}

async fn start(socket: &mut WsConnection, timeout: Duration) -> Result<(), String> {
    let frame = socket
        .protocol
        .start_frame("1", &json!({"query": T1_SUBSCRIPTION}));
    send(socket, &frame).await?;
    next_data(socket, "1", timeout).await.map(|_| ())
}

/// Legacy: a `connection_error` frame; `graphql-transport-ws`: the socket is closed.
async fn expect_protocol_error(
    socket: &mut WsConnection,
    timeout: Duration,
    what: &str,
) -> Result<(), String> {
    match socket.protocol {
        WsProtocol::Legacy => match socket
            .next_general(timeout)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(WsEvent::Frame(frame)) if frame_type(&frame) == "connection_error" => Ok(()),
            Some(WsEvent::Frame(frame)) => Err(format!(
                "after {what}: expected connection_error, got {}",
                compact(&frame, 300)
            )),
            Some(WsEvent::Closed { code, reason }) => Err(format!(
                "after {what}: expected connection_error, the socket closed ({code:?} {reason})"
            )),
            None => Err(format!("after {what}: no connection_error")),
        },
        WsProtocol::TransportWs => match socket
            .wait_closed(timeout)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(_) => Ok(()),
            None => Err(format!("after {what}: the socket stayed open")),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn plans_by_path_and_folder() {
        let live = for_case_file("subscriptions/live_queries/steps.yaml").unwrap();
        assert_eq!(live.scenario, Scenario::LiveQueries);
        assert_eq!(live.transports, BOTH.to_vec());
        assert_eq!(
            for_case_file("subscriptions/streaming/steps.yaml")
                .unwrap()
                .transports,
            vec![Transport::Websocket]
        );
        assert!(for_case_file("subscriptions/basic/negative_test.yaml").is_none());
        let basic = for_folder("subscriptions/basic", false);
        assert_eq!(basic.len(), 8);
        assert_eq!(basic[0].path, "subscriptions/basic/test_init");
        assert_eq!(for_folder("subscriptions/basic", true).len(), 9);
        assert_eq!(for_folder("subscriptions/streaming", false).len(), 2);
        assert!(for_folder("graphql_query/basic", true).is_empty());
        for folder in PYTHON_ONLY_FOLDERS {
            assert!(!for_folder(folder, true).is_empty(), "{folder}");
        }
    }

    #[test]
    fn steps_files_are_read_with_json_texts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("steps.yaml"),
            "- name: insert_t\n  query: 'mutation { insert_t { affected_rows } }'\n  variables: '{\"a\": 1}'\n  response: '{\"insert_t\": {\"returning\": []}}'\n  live_response: '[{\"c1\": 1}]'\n- name: delete_t\n  query: 'mutation { delete_t { affected_rows } }'\n  variables: null\n  response: '{\"delete_t\": {\"affected_rows\": 2}}'\n",
        )
        .unwrap();
        let steps = read_steps(dir.path()).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].payload["variables"], json!({"a": 1}));
        assert_eq!(steps[0].live_response, Some(json!([{"c1": 1}])));
        assert!(steps[1].payload.get("variables").is_none());
        assert_eq!(steps[1].response["delete_t"]["affected_rows"], 2);
        std::fs::write(
            dir.path().join("steps.yaml"),
            "- name: x\n  query: q\n  response: 'not json'\n",
        )
        .unwrap();
        assert!(read_steps(dir.path()).is_err());
    }
}
