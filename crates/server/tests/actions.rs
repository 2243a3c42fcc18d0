//! Actions against a real server, Postgres and an in-test HTTP handler: payload, output
//! projection, relationships to tables read in one statement, permissions, handler errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use common::{cluster_with_database, config, start_server};
use serde_json::{Value, json};

/// The handler: `/echo-user` answers `{"id": input.id}`, `/whoami` the session's role, `/fail`
/// an error with extensions, `/null` null.
async fn start_handler() -> String {
    let app = axum::Router::new()
        .route(
            "/echo-user",
            post(|Json(body): Json<Value>| async move {
                Json(json!({"id": body["input"]["id"], "extra": "ignored"}))
            }),
        )
        .route(
            "/whoami",
            post(|Json(body): Json<Value>| async move {
                Json(json!({
                    "role": body["session_variables"]["x-hasura-role"],
                    "action": body["action"]["name"],
                    "query": body["request_query"],
                }))
            }),
        )
        .route(
            "/fail",
            post(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"message": "no such user", "extensions": {"code": "not-found", "x": 1}})),
                )
            }),
        )
        .route("/null", post(|| async { Json(Value::Null) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn actions_call_their_handler_and_join_tables() {
    let (_cluster, url) = cluster_with_database("actions").await;
    let server = start_server(config(&url)).await;
    let handler = start_handler().await;
    let setup = json!({"type": "bulk", "args": [
        {"type": "run_sql", "args": {"sql": "
            CREATE TABLE \"user\" (id serial PRIMARY KEY, name text NOT NULL);
            CREATE TABLE article (id serial PRIMARY KEY, title text, user_id int);
            INSERT INTO \"user\" (name) VALUES ('Ada'), ('Brian');
            INSERT INTO article (title, user_id) VALUES ('a', 1), ('b', 1), ('c', 2);"}},
        {"type": "pg_track_table", "args": {"table": "user"}},
        {"type": "pg_track_table", "args": {"table": "article"}},
        {"type": "set_custom_types", "args": {"objects": [
            {"name": "UserId", "fields": [{"name": "id", "type": "Int!"}],
             "relationships": [
                {"name": "user", "type": "object", "remote_table": "user",
                 "field_mapping": {"id": "id"}},
                {"name": "articles", "type": "array", "remote_table": "article",
                 "field_mapping": {"id": "user_id"}}]},
            {"name": "Who", "fields": [
                {"name": "role", "type": "String"},
                {"name": "action", "type": "String!"},
                {"name": "query", "type": "String"}]}
        ]}},
        {"type": "create_action", "args": {"name": "user_by_id", "definition": {
            "type": "query", "arguments": [{"name": "id", "type": "Int!"}],
            "output_type": "UserId", "handler": format!("{handler}/echo-user")}}},
        {"type": "create_action", "args": {"name": "users_by_id", "definition": {
            "type": "query", "arguments": [{"name": "id", "type": "Int!"}],
            "output_type": "[UserId!]", "handler": format!("{handler}/echo-user")}}},
        {"type": "create_action", "args": {"name": "whoami", "definition": {
            "output_type": "Who!", "handler": format!("{handler}/whoami")}}},
        {"type": "create_action", "args": {"name": "failing", "definition": {
            "type": "query", "output_type": "Who", "handler": format!("{handler}/fail")}}},
        {"type": "create_action", "args": {"name": "nothing", "definition": {
            "type": "query", "output_type": "Who!", "handler": format!("{handler}/null")}}},
    ]});
    let (status, body) = server.post("/v1/metadata", &setup).await;
    assert_eq!(status, 200, "{body}");

    // Output cut to the selection, relationships read from the tables, mixed with a table field.
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": "query { user_by_id(id: 1) { __typename id user { name } articles(order_by: {id: asc}) { title } } user_aggregate { aggregate { count } } }"}),
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {
            "user_by_id": {"__typename": "UserId", "id": 1, "user": {"name": "Ada"},
                           "articles": [{"title": "a"}, {"title": "b"}]},
            "user_aggregate": {"aggregate": {"count": 2}}}})
    );

    // A mutation action gets the session and the query text.
    let query = "mutation { whoami { role action } }";
    let (_, body) = server.post("/v1/graphql", &json!({"query": query})).await;
    assert_eq!(
        body,
        json!({"data": {"whoami": {"role": "admin", "action": "whoami"}}})
    );

    // The handler's error, with its extensions.
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": "query { failing { role } }"}),
        )
        .await;
    assert_eq!(
        body,
        json!({"errors": [{"extensions": {"code": "not-found", "x": 1}, "message": "no such user"}]})
    );
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": "query { nothing { role } }"}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "got null for the action webhook response"
    );

    // Roles see only the actions they are permitted, and relationships through their own
    // permissions.
    let headers = [("x-hasura-role", "reader")];
    let query = json!({"query": "query { user_by_id(id: 2) { id user { name } } }"});
    let (_, body) = server.post_with("/v1/graphql", &query, &headers).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "validation-failed",
        "{body}"
    );
    let grant = json!({"type": "bulk", "args": [
        {"type": "create_action_permission", "args": {"action": "user_by_id", "role": "reader"}},
        {"type": "pg_create_select_permission", "args": {"table": "user", "role": "reader",
            "permission": {"columns": ["name"], "filter": {"id": {"_eq": 1}}}}},
    ]});
    let (status, body) = server.post("/v1/metadata", &grant).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.post_with("/v1/graphql", &query, &headers).await;
    assert_eq!(
        body,
        json!({"data": {"user_by_id": {"id": 2, "user": null}}}),
        "user 2 is outside reader's filter"
    );

    // Bad definitions are refused.
    let (status, body) = server
        .post(
            "/v1/metadata",
            &json!({"type": "create_action", "args": {"name": "bad", "definition": {
                "output_type": "Missing", "handler": "http://127.0.0.1:1/x"}}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = server
        .post(
            "/v1/metadata",
            &json!({"type": "set_custom_types", "args": {"objects": [
                {"name": "T", "fields": [{"name": "f", "type": "no_such_type"}]}]}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid-configuration");

    // An asynchronous action answers its id at once; the result is read back by id, by its own
    // role only.
    let (status, body) = server
        .post(
            "/v1/metadata",
            &json!({"type": "create_action", "args": {"name": "make_user", "definition": {
                "kind": "asynchronous", "arguments": [{"name": "id", "type": "Int!"}],
                "output_type": "UserId", "handler": format!("{handler}/echo-user")}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": "mutation { make_user(id: 1) }"}),
        )
        .await;
    let id = body["data"]["make_user"]
        .as_str()
        .expect("an action id")
        .to_string();
    let read = json!({"query": "query ($id: uuid!) { make_user(id: $id) { id errors output { id user { name } } } }",
                      "variables": {"id": id}});
    let mut result = Value::Null;
    for _ in 0..50 {
        let (_, body) = server.post("/v1/graphql", &read).await;
        result = body["data"]["make_user"].clone();
        if !result["output"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        result,
        json!({"id": id, "errors": null, "output": {"id": 1, "user": {"name": "Ada"}}})
    );
    let (_, body) = server
        .post_with("/v1/graphql", &read, &[("x-hasura-role", "reader")])
        .await;
    assert!(
        body["errors"].is_array() || body["data"]["make_user"].is_null(),
        "{body}"
    );

    // Actions survive export and replace.
    let (_, exported) = server
        .post(
            "/v1/metadata",
            &json!({"type": "export_metadata", "args": {}}),
        )
        .await;
    assert_eq!(exported["actions"].as_array().unwrap().len(), 6);
    assert_eq!(exported["custom_types"]["objects"][0]["name"], "UserId");
}
