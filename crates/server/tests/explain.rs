//! `POST /v1/graphql/explain`: the SQL and Postgres's plan for a query (one entry per root field)
//! or a subscription (the multiplexed statement, its values apart), as a given role; admin only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::{Value, json};

async fn server_with_articles() -> (graft_pgtemp::Cluster, common::TestServer) {
    let (cluster, url) = cluster_with_database("explain").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE articles (id serial PRIMARY KEY, user_id int, title text,
                                    is_public bool DEFAULT false);
             INSERT INTO articles (user_id, title, is_public)
               VALUES (1, 'one', true), (2, 'it''s two', false);",
        )
        .await;
    let (status, body) = server
        .metadata(json!({"type": "bulk", "args": [
            {"type": "pg_track_table", "args": {"table": "articles"}},
            {"type": "pg_create_select_permission", "args": {"table": "articles", "role": "public",
              "permission": {"columns": ["id", "title"], "filter": {"is_public": {"_eq": true}}}}},
            {"type": "pg_create_select_permission", "args": {"table": "articles", "role": "user",
              "permission": {"columns": ["id", "title"],
                             "filter": {"user_id": {"_eq": "X-Hasura-User-Id"}}}}}
        ]}))
        .await;
    assert_eq!(status, 200, "{body}");
    (cluster, server)
}

async fn explain(server: &common::TestServer, request: Value) -> (u16, Value) {
    server.post("/v1/graphql/explain", &request).await
}

#[tokio::test]
async fn a_query_gets_one_plan_per_root_field_with_its_values_written_in() {
    let (_cluster, server) = server_with_articles().await;
    let (status, body) = explain(
        &server,
        json!({"query": {
            "query": "query ($t: String) { a: articles(where: {title: {_eq: $t}}) { id } articles_by_pk(id: 1) { title } }",
            "variables": {"t": "it's two"}
        }}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let entries = body.as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(entries.len(), 2, "{body}");
    assert_eq!(entries[0]["field"], "a");
    assert_eq!(entries[1]["field"], "articles_by_pk");
    let sql = entries[0]["sql"].as_str().unwrap();
    assert!(
        sql.contains("'it''s two'"),
        "the value is written in: {sql}"
    );
    assert!(!sql.contains("$2"), "no placeholder is left: {sql}");
    let plan = entries[0]["plan"].as_array().unwrap();
    assert!(
        plan.iter()
            .any(|line| line.as_str().unwrap().contains("articles")),
        "{plan:?}"
    );

    // The SQL shown runs as it is and answers what the query answers.
    let rows = server.run_sql(&format!("SELECT ({sql})::text")).await;
    let answer: Value = serde_json::from_str(rows["result"][1][0].as_str().unwrap()).unwrap();
    assert_eq!(answer, json!([{"id": 2}]));
}

#[tokio::test]
async fn a_subscription_shows_its_multiplexed_statement_and_only_the_session_it_reads() {
    let (_cluster, server) = server_with_articles().await;
    let query = "subscription ($id: Int!) { articles(where: {id: {_eq: $id}}) { title } }";
    let sql_for = |vars: Value, user: Value| {
        let server = &server;
        async move {
            let (status, body) = explain(
                server,
                json!({"query": {"query": query, "variables": vars}, "user": user}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let public = sql_for(
        json!({"id": 1}),
        json!({"x-hasura-role": "public", "x-hasura-user-id": "1"}),
    )
    .await;
    assert_eq!(public["variables"]["session"], json!({}), "{public}");
    assert_eq!(public["variables"]["query"], json!({"id": 1}));
    assert!(!public["plan"].as_array().unwrap().is_empty());

    let user = sql_for(
        json!({"id": 2}),
        json!({"x-hasura-role": "user", "x-hasura-user-id": "1", "x-hasura-allowed-ids": "{1,3}"}),
    )
    .await;
    assert_eq!(
        user["variables"]["session"],
        json!({"x-hasura-user-id": "1"}),
        "{user}"
    );

    // Only the values differ between these two, so they share a poller's statement.
    let other_value = sql_for(json!({"id": 7}), json!({"x-hasura-role": "public"})).await;
    assert_eq!(public["sql"], other_value["sql"]);
    let other_shape = sql_for(
        json!({"id": 7}),
        json!({"x-hasura-role": "user", "x-hasura-user-id": "1"}),
    )
    .await;
    assert_ne!(public["sql"], other_shape["sql"]);
}

#[tokio::test]
async fn only_admins_may_explain_and_bad_requests_get_errors() {
    let (_cluster, server) = server_with_articles().await;
    let request = json!({"query": {"query": "{ articles { id } }"}});
    let (status, body) = server
        .post_with(
            "/v1/graphql/explain",
            &request,
            &[("x-hasura-role", "user")],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "access-denied");

    let (status, body) = explain(
        &server,
        json!({"query": {"query": "{ articles { nope } }"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "validation-failed");

    let (status, body) = explain(
        &server,
        json!({"query": {"query": "mutation { delete_articles(where: {}) { affected_rows } }"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, rows) = server
        .post(
            "/v1/graphql",
            &json!({"query": "{ articles_aggregate { aggregate { count } } }"}),
        )
        .await;
    assert_eq!(
        rows["data"]["articles_aggregate"]["aggregate"]["count"], 2,
        "nothing was run"
    );

    // A role's hidden column is as unknown to explain as to the role itself.
    let (status, body) = explain(
        &server,
        json!({"query": {"query": "{ articles { user_id } }"}, "user": {"x-hasura-role": "public"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}
