//! Bulk inserts: objects that all give the same columns arrive as one array per column
//! (`unnest`), so a request may write more rows than Postgres's 65,535 bind parameters would
//! allow one value each, and the statement text does not depend on the row count. These tests
//! check that the array form writes exactly what one value per parameter wrote: the awkward
//! values (quotes, backslashes, braces, commas, NULL, JSON null, unicode), presets and the
//! role's check, parent links of nested children, upserts, and objects with different columns
//! (which still take `VALUES` with `DEFAULT`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, cluster_with_database, config, start_server};
use serde_json::{Value, json};

const SCHEMA: &str = "
CREATE TYPE mood AS ENUM ('calm', 'tense');
CREATE TABLE station (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE reading (
  id serial PRIMARY KEY,
  station_id int REFERENCES station (id),
  sensor text NOT NULL,
  value numeric,
  tags jsonb,
  mood mood,
  note text NOT NULL DEFAULT 'none',
  owner text
);";

async fn setup(name: &str) -> (graft_pgtemp::Cluster, TestServer) {
    let (cluster, url) = cluster_with_database(name).await;
    let server = start_server(config(&url)).await;
    server.run_sql(SCHEMA).await;
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "track_table", "args": {"name": "station"}},
                {"type": "track_table", "args": {"name": "reading"}},
                {"type": "create_array_relationship", "args": {"table": "station", "name": "readings",
                    "using": {"foreign_key_constraint_on": {"table": "reading", "column": "station_id"}}}},
                {"type": "create_insert_permission", "args": {"table": "reading", "role": "user",
                    "permission": {"columns": ["sensor", "value"], "check": {"sensor": {"_like": "s%"}},
                        "set": {"owner": "x-hasura-user-id"}}}},
                {"type": "create_select_permission", "args": {"table": "reading", "role": "user",
                    "permission": {"columns": ["id", "sensor", "value", "owner"], "filter": {}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (cluster, server)
}

async fn graphql(server: &TestServer, query: &str, variables: Value) -> Value {
    let (status, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": query, "variables": variables}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn rows(server: &TestServer, sql: &str) -> Vec<Value> {
    let body = server.run_sql(sql).await;
    body["result"].as_array().unwrap()[1..].to_vec()
}

const INSERT_READINGS: &str = "mutation ($objects: [reading_insert_input!]!) {
  insert_reading(objects: $objects) { affected_rows returning { id sensor } }
}";

#[tokio::test]
async fn more_rows_than_bind_parameters_in_one_request() {
    let (_cluster, server) = setup("bulk_many").await;
    // 20,000 objects x 4 columns = 80,000 values: one parameter each would be refused.
    let objects: Vec<Value> = (0..20_000)
        .map(|i| json!({"sensor": format!("s{i}"), "value": i, "tags": {"i": i}, "mood": "calm"}))
        .collect();
    let body = graphql(&server, INSERT_READINGS, json!({"objects": objects})).await;
    let inserted = &body["data"]["insert_reading"];
    assert_eq!(inserted["affected_rows"], 20_000, "{body}");
    let returning = inserted["returning"].as_array().unwrap();
    assert_eq!(returning.len(), 20_000);
    // In the order given.
    for (i, row) in returning.iter().enumerate().step_by(997) {
        assert_eq!(row["sensor"], format!("s{i}"));
    }
    let summary = rows(
        &server,
        "SELECT count(*), sum(value), count(DISTINCT tags), min(note) FROM reading",
    )
    .await;
    assert_eq!(summary[0], json!(["20000", "199990000", "20000", "none"]));
}

#[tokio::test]
async fn awkward_values_are_written_as_given() {
    let (_cluster, server) = setup("bulk_values").await;
    let objects = json!([
        {"sensor": "quote \" and \\ backslash", "value": "1.50", "tags": null, "mood": "tense"},
        {"sensor": "{braces}, commas, NULL", "value": null, "tags": {"k": "v \"q\""}, "mood": null},
        {"sensor": "NULL", "value": -0.25, "tags": [1, "two", null], "mood": "calm"},
        {"sensor": "ünïcødé ✓ ", "value": 12, "tags": "a JSON string", "mood": "calm"}
    ]);
    let body = graphql(&server, INSERT_READINGS, json!({"objects": objects})).await;
    assert_eq!(body["data"]["insert_reading"]["affected_rows"], 4, "{body}");
    let written = rows(
        &server,
        "SELECT sensor, value::text, tags::text, mood::text, tags IS NULL FROM reading ORDER BY id",
    )
    .await;
    assert_eq!(
        written,
        vec![
            json!(["quote \" and \\ backslash", "1.50", null, "tense", "t"]),
            json!([
                "{braces}, commas, NULL",
                null,
                "{\"k\": \"v \\\"q\\\"\"}",
                null,
                "f"
            ]),
            json!(["NULL", "-0.25", "[1, \"two\", null]", "calm", "f"]),
            json!(["ünïcødé ✓ ", "12", "\"a JSON string\"", "calm", "f"]),
        ]
    );
}

#[tokio::test]
async fn presets_and_checks_apply_to_every_row() {
    let (_cluster, server) = setup("bulk_role").await;
    let as_user = [("x-hasura-role", "user"), ("x-hasura-user-id", "u7")];
    let query = json!({"query": INSERT_READINGS, "variables": {"objects": [
        {"sensor": "s1", "value": 1}, {"sensor": "s2", "value": 2}
    ]}});
    let (status, body) = server.post_with("/v1/graphql", &query, &as_user).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["insert_reading"]["affected_rows"], 2, "{body}");
    assert_eq!(
        rows(&server, "SELECT sensor, owner FROM reading ORDER BY id").await,
        vec![json!(["s1", "u7"]), json!(["s2", "u7"])]
    );

    // One row of many breaks the check: nothing of the request is written.
    let query = json!({"query": INSERT_READINGS, "variables": {"objects": [
        {"sensor": "s3", "value": 3}, {"sensor": "bad", "value": 4}, {"sensor": "s5", "value": 5}
    ]}});
    let (status, body) = server.post_with("/v1/graphql", &query, &as_user).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "permission-error",
        "{body}"
    );
    assert_eq!(
        rows(&server, "SELECT count(*) FROM reading").await,
        vec![json!(["2"])]
    );
}

#[tokio::test]
async fn nested_children_upserts_and_mixed_columns() {
    let (_cluster, server) = setup("bulk_shapes").await;
    // Children of one parent share the link to it.
    let body = graphql(
        &server,
        "mutation { insert_station_one(object: {name: \"north\", readings: {data: [
            {sensor: \"a\", value: 1}, {sensor: \"b\", value: 2}, {sensor: \"c\", value: 3}]}}) {
            id readings(order_by: {id: asc}) { sensor } } }",
        json!({}),
    )
    .await;
    let station = &body["data"]["insert_station_one"];
    assert_eq!(
        station["readings"],
        json!([{"sensor": "a"}, {"sensor": "b"}, {"sensor": "c"}]),
        "{body}"
    );
    assert_eq!(
        rows(
            &server,
            "SELECT count(*) FROM reading WHERE station_id = (SELECT id FROM station WHERE name = 'north')"
        )
        .await,
        vec![json!(["3"])]
    );

    // An upsert of many rows: existing ones are updated, new ones inserted.
    let body = graphql(
        &server,
        "mutation { insert_station(objects: [{name: \"north\"}, {name: \"south\"}, {name: \"east\"}],
            on_conflict: {constraint: station_name_key, update_columns: [name]}) { affected_rows } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["insert_station"]["affected_rows"], 3, "{body}");
    assert_eq!(
        rows(&server, "SELECT name FROM station ORDER BY id").await,
        vec![json!(["north"]), json!(["south"]), json!(["east"])]
    );

    // Objects with different columns: the ones left out take their default.
    let body = graphql(
        &server,
        INSERT_READINGS,
        json!({"objects": [{"sensor": "x"}, {"sensor": "y", "note": "given"}]}),
    )
    .await;
    assert_eq!(body["data"]["insert_reading"]["affected_rows"], 2, "{body}");
    assert_eq!(
        rows(
            &server,
            "SELECT sensor, note FROM reading WHERE sensor IN ('x', 'y') ORDER BY id"
        )
        .await,
        vec![json!(["x", "none"]), json!(["y", "given"])]
    );
}
