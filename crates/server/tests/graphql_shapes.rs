//! Shapes that break naive engines: a table with 400 columns (more than Postgres's 100-argument
//! limit on `json_build_object`) and a query nested 10 relationships deep.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::json;

#[tokio::test]
async fn four_hundred_columns_and_ten_levels_of_nesting() {
    let (cluster, url) = cluster_with_database("shapes").await;
    let server = start_server(config(&url)).await;
    let columns: Vec<String> = (0..400).map(|i| format!("c{i} int DEFAULT {i}")).collect();
    server
        .run_sql(&format!(
            "CREATE TABLE wide (id serial PRIMARY KEY, {});
             INSERT INTO wide DEFAULT VALUES;
             CREATE TABLE node (id int PRIMARY KEY, parent_id int REFERENCES node(id));
             INSERT INTO node SELECT g, NULLIF(g - 1, 0) FROM generate_series(1, 12) g;",
            columns.join(", ")
        ))
        .await;
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "track_table", "args": {"name": "wide"}},
                {"type": "track_table", "args": {"name": "node"}},
                {"type": "create_object_relationship", "args": {"table": "node", "name": "parent", "using": {"foreign_key_constraint_on": "parent_id"}}},
                {"type": "create_array_relationship", "args": {"table": "node", "name": "children", "using": {"foreign_key_constraint_on": {"table": "node", "column": "parent_id"}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let fields: Vec<String> = (0..400).map(|i| format!("c{i}")).collect();
    let (status, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": format!("{{ wide {{ id {} }} }}", fields.join(" "))}),
        )
        .await;
    assert_eq!(status, 200);
    let row = body["data"]["wide"][0]
        .as_object()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(row.len(), 401);
    // Key order follows the selection set, as GraphQL requires.
    let keys: Vec<&String> = row.keys().collect();
    assert_eq!(keys[0], "id");
    assert_eq!(keys[400], "c399");
    assert_eq!(row["c399"], 399);

    let mut selection = String::from("id");
    for _ in 0..10 {
        selection = format!("id children {{ {selection} }}");
    }
    let (status, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": format!("{{ node(where: {{id: {{_eq: 1}}}}) {{ {selection} }} }}")}),
        )
        .await;
    assert_eq!(status, 200);
    let mut level = &body["data"]["node"][0];
    for depth in 1..=10 {
        level = &level["children"][0];
        assert_eq!(level["id"], depth + 1, "at depth {depth}: {body}");
    }
    let mut up = String::from("id");
    for _ in 0..10 {
        up = format!("id parent {{ {up} }}");
    }
    let (status, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": format!("{{ node_by_pk(id: 12) {{ {up} }} }}")}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["node_by_pk"]["parent"]["parent"]["parent"]["parent"]["parent"]["parent"]["parent"]
            ["parent"]["parent"]["parent"]["id"],
        2,
        "{body}"
    );
    cluster.stop().await.unwrap();
}
