//! GraphQL over WebSocket against a real server and Postgres: both subprotocols, live queries
//! pushed on change, permissions per connection, protocol errors, metadata changes, shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, cluster_with_database, config, start_server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    socket: Socket,
}

impl Client {
    async fn connect(server: &TestServer, subprotocol: &str) -> Client {
        let url = format!("{}/v1/graphql", server.base.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", subprotocol.parse().unwrap());
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            subprotocol,
            "the server speaks the protocol asked for"
        );
        Client { socket }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next JSON message, skipping keep-alives.
    async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message within 10 s")
                .expect("socket open")
                .unwrap();
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] != "ka" {
                    return value;
                }
            }
        }
    }

    /// The close code the server ends with.
    async fn close_code(&mut self) -> u16 {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a close within 10 s");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    async fn init(&mut self, headers: Value) {
        self.send(json!({"type": "connection_init", "payload": {"headers": headers}}))
            .await;
        assert_eq!(self.next().await["type"], "connection_ack");
    }

    async fn nothing_for(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout_at(deadline, self.socket.next()).await
        {
            if let Message::Text(text) = &message {
                let value: Value = serde_json::from_str(text).unwrap();
                assert_eq!(value["type"], "ka", "unexpected message {value}");
            }
        }
    }
}

async fn server() -> (graft_pgtemp::Cluster, TestServer) {
    let (cluster, url) = cluster_with_database("ws").await;
    let mut config = config(&url);
    config.websocket.live.refetch_interval = Duration::from_millis(100);
    config.websocket.streaming.refetch_interval = Duration::from_millis(100);
    config.experimental_features = vec!["streaming_subscriptions".to_string()];
    let server = start_server(config).await;
    let setup = json!({"type": "bulk", "args": [
        {"type": "run_sql", "args": {"sql":
            "CREATE TABLE item (id int PRIMARY KEY, owner text NOT NULL, name text);"}},
        {"type": "pg_track_table", "args": {"table": "item"}},
        {"type": "pg_create_select_permission", "args": {"table": "item", "role": "user",
            "permission": {"columns": ["id", "name"],
                           "filter": {"owner": {"_eq": "X-Hasura-User-Id"}}}}},
    ]});
    let (status, body) = server.post("/v1/metadata", &setup).await;
    assert_eq!(status, 200, "{body}");
    (cluster, server)
}

const LIVE: &str = "subscription { item(order_by: {id: asc}) { id name } }";

fn insert(id: i64, owner: &str) -> Value {
    json!({"query": format!(
        "mutation {{ insert_item_one(object: {{id: {id}, owner: \"{owner}\", name: \"n{id}\"}}) {{ id }} }}"
    )})
}

#[tokio::test]
async fn legacy_protocol_pushes_live_results_and_runs_mutations() {
    let (_cluster, server) = server().await;
    let mut client = Client::connect(&server, "graphql-ws").await;
    client.init(json!({})).await;
    client
        .send(json!({"type": "start", "id": "live", "payload": {"query": LIVE}}))
        .await;
    assert_eq!(
        client.next().await,
        json!({"type": "data", "id": "live", "payload": {"data": {"item": []}}})
    );

    client
        .send(json!({"type": "start", "id": "m1", "payload": insert(1, "alice")}))
        .await;
    let mut seen = vec![
        client.next().await,
        client.next().await,
        client.next().await,
    ];
    seen.sort_by_key(|m| m.to_string());
    assert!(
        seen.contains(&json!({"type": "complete", "id": "m1"})),
        "{seen:?}"
    );
    assert!(seen.contains(&json!({"type": "data", "id": "m1",
        "payload": {"data": {"insert_item_one": {"id": 1}}}})));
    assert!(seen.contains(&json!({"type": "data", "id": "live",
        "payload": {"data": {"item": [{"id": 1, "name": "n1"}]}}})));

    // Nothing changed: nothing is sent.
    client.nothing_for(Duration::from_millis(500)).await;

    // A stopped subscription hears nothing more.
    client.send(json!({"type": "stop", "id": "live"})).await;
    let (status, _) = server.post("/v1/graphql", &insert(2, "alice")).await;
    assert_eq!(status, 200);
    client.nothing_for(Duration::from_millis(500)).await;

    // A bad message is reported, not fatal.
    client.send(json!({"type": "test"})).await;
    assert_eq!(client.next().await["type"], "connection_error");
    client
        .send(json!({"type": "start", "id": "q", "payload": {"query": "query { item { id } }"}}))
        .await;
    assert_eq!(client.next().await["type"], "data");
    assert_eq!(client.next().await, json!({"type": "complete", "id": "q"}));
}

#[tokio::test]
async fn graphql_transport_ws_with_permissions_per_connection() {
    let (_cluster, server) = server().await;
    for (id, owner) in [(1, "alice"), (2, "bob"), (3, "alice")] {
        let (status, body) = server.post("/v1/graphql", &insert(id, owner)).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut alice = Client::connect(&server, "graphql-transport-ws").await;
    alice
        .init(json!({"X-Hasura-Role": "user", "X-Hasura-User-Id": "alice"}))
        .await;
    let mut bob = Client::connect(&server, "graphql-transport-ws").await;
    bob.init(json!({"X-Hasura-Role": "user", "X-Hasura-User-Id": "bob"}))
        .await;
    for client in [&mut alice, &mut bob] {
        client
            .send(json!({"type": "subscribe", "id": "1", "payload": {"query": LIVE}}))
            .await;
    }
    assert_eq!(
        alice.next().await,
        json!({"type": "next", "id": "1", "payload": {"data": {"item": [
            {"id": 1, "name": "n1"}, {"id": 3, "name": "n3"}]}}})
    );
    assert_eq!(
        bob.next().await,
        json!({"type": "next", "id": "1", "payload": {"data": {"item": [{"id": 2, "name": "n2"}]}}})
    );
    // Only bob's result changes, so only bob hears of it.
    let (status, _) = server.post("/v1/graphql", &insert(4, "bob")).await;
    assert_eq!(status, 200);
    assert_eq!(
        bob.next().await["payload"]["data"]["item"],
        json!([{"id": 2, "name": "n2"}, {"id": 4, "name": "n4"}])
    );
    alice.nothing_for(Duration::from_millis(400)).await;

    // ping/pong, then a second operation with the same id closes the socket (4409).
    alice.send(json!({"type": "ping"})).await;
    assert_eq!(alice.next().await, json!({"type": "pong"}));
    alice
        .send(json!({"type": "subscribe", "id": "1", "payload": {"query": LIVE}}))
        .await;
    assert_eq!(alice.close_code().await, 4409);
}

#[tokio::test]
async fn protocol_violations_close_with_their_codes() {
    let (_cluster, server) = server().await;
    let mut early = Client::connect(&server, "graphql-transport-ws").await;
    early
        .send(json!({"type": "subscribe", "id": "1", "payload": {"query": LIVE}}))
        .await;
    assert_eq!(early.close_code().await, 4401, "subscribe before init");

    let mut twice = Client::connect(&server, "graphql-transport-ws").await;
    twice.init(json!({})).await;
    twice
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(twice.close_code().await, 4429, "second connection_init");

    let mut garbage = Client::connect(&server, "graphql-transport-ws").await;
    garbage.init(json!({})).await;
    garbage.send(json!({"type": "start"})).await;
    assert_eq!(garbage.close_code().await, 4400, "unknown message");

    let mut silent = Client::connect(&server, "graphql-transport-ws").await;
    assert_eq!(
        silent.close_code().await,
        4408,
        "no connection_init in time"
    );
}

#[tokio::test]
async fn validation_errors_and_metadata_changes_end_subscriptions() {
    let (_cluster, server) = server().await;
    let mut client = Client::connect(&server, "graphql-transport-ws").await;
    client.init(json!({})).await;
    client
        .send(
            json!({"type": "subscribe", "id": "two", "payload": {"query":
            "subscription { a: item { id } b: item { id } }"}}),
        )
        .await;
    let error = client.next().await;
    assert_eq!(error["type"], "error");
    assert_eq!(
        error["payload"][0]["message"],
        "subscriptions must select one top level field"
    );
    client
        .send(json!({"type": "subscribe", "id": "both", "payload": {"query":
            "subscription @_multiple_top_level_fields { a: item { id } b: item_aggregate { aggregate { count } } }"}}))
        .await;
    assert_eq!(
        client.next().await["payload"],
        json!({"data": {"a": [], "b": {"aggregate": {"count": 0}}}})
    );

    let (status, body) = server
        .post(
            "/v1/metadata",
            &json!({"type": "pg_untrack_table", "args": {"table": "item"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ended = client.next().await;
    assert_eq!(ended["type"], "error", "{ended}");
    assert_eq!(ended["id"], "both");
}

#[tokio::test]
async fn streaming_subscriptions_send_each_batch_once() {
    let (_cluster, server) = server().await;
    for id in 1..=5 {
        let (status, body) = server.post("/v1/graphql", &insert(id, "alice")).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut client = Client::connect(&server, "graphql-ws").await;
    client
        .init(json!({"X-Hasura-Role": "user", "X-Hasura-User-Id": "alice"}))
        .await;
    let stream = "subscription ($size: Int!) { s: item_stream(batch_size: $size, \
        cursor: {initial_value: {id: 0}, ordering: ASC}) { id } }";
    client
        .send(
            json!({"type": "start", "id": "s", "payload": {"query": stream,
            "variables": {"size": 2}}}),
        )
        .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let message = client.next().await;
        assert_eq!(message["type"], "data", "{message}");
        ids.push(message["payload"]["data"]["s"].clone());
    }
    assert_eq!(
        ids,
        vec![
            json!([{"id": 1}, {"id": 2}]),
            json!([{"id": 3}, {"id": 4}]),
            json!([{"id": 5}])
        ]
    );
    // No new rows, no message; a new row comes alone.
    client.nothing_for(Duration::from_millis(400)).await;
    let (status, _) = server.post("/v1/graphql", &insert(6, "alice")).await;
    assert_eq!(status, 200);
    let (status, _) = server.post("/v1/graphql", &insert(7, "bob")).await;
    assert_eq!(status, 200);
    assert_eq!(
        client.next().await["payload"]["data"]["s"],
        json!([{"id": 6}]),
        "bob's row is not alice's to see"
    );
    client.nothing_for(Duration::from_millis(400)).await;
}

#[tokio::test]
async fn an_expired_jwt_ends_the_connection() {
    let (_cluster, url) = cluster_with_database("ws").await;
    let mut config = config(&url);
    let key = "a-test-key-that-is-at-least-32-bytes-long";
    config.auth = graft_server::AuthConfig::from_env(&|name| match name {
        "HASURA_GRAPHQL_ADMIN_SECRET" => Some("admin-secret".to_string()),
        "HASURA_GRAPHQL_JWT_SECRET" => Some(json!({"type": "HS256", "key": key}).to_string()),
        _ => None,
    })
    .unwrap();
    let server = start_server(config).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "sub": "alice",
        "exp": now + 2,
        "https://hasura.io/jwt/claims": {
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user"],
            "x-hasura-user-id": "alice"
        }
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap();
    let mut modern = Client::connect(&server, "graphql-transport-ws").await;
    modern
        .init(json!({"Authorization": format!("Bearer {token}")}))
        .await;
    let mut legacy = Client::connect(&server, "graphql-ws").await;
    legacy
        .init(json!({"Authorization": format!("Bearer {token}")}))
        .await;
    assert_eq!(modern.close_code().await, 4403);
    let error = legacy.next().await;
    assert_eq!(error["type"], "connection_error", "{error}");

    let mut wrong = Client::connect(&server, "graphql-transport-ws").await;
    wrong
        .send(json!({"type": "connection_init", "payload": {"headers": {"Authorization": "Bearer nope"}}}))
        .await;
    assert_eq!(
        wrong.close_code().await,
        4403,
        "bad credentials are refused"
    );
}

#[tokio::test]
async fn shutdown_closes_every_socket() {
    let (_cluster, url) = cluster_with_database("ws").await;
    let mut config = config(&url);
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    config.port = port;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(graft_server::serve(config, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("ws://127.0.0.1:{port}/v1/graphql");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-ws".parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut client = Client { socket };
    client.init(json!({})).await;
    stop.send(()).unwrap();
    assert_eq!(client.close_code().await, 1001);
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
