//! End-to-end tests of the metadata and query APIs against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::json;

const SCHEMA: &str = "
CREATE TABLE author (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE article (id serial PRIMARY KEY, title text, author_id int REFERENCES author(id));
INSERT INTO author (name) VALUES ('A'), ('B');
";

#[tokio::test]
async fn health_version_and_tracking_survive_a_restart() {
    let (cluster, url) = cluster_with_database("restart").await;
    {
        let server = start_server(config(&url)).await;
        let health = server
            .client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
        let version: serde_json::Value = server
            .client
            .get(format!("{}/v1/version", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(version["version"].as_str().unwrap().starts_with("v2."));
        server.run_sql(SCHEMA).await;
        let (status, body) = server
            .metadata(json!({"type": "pg_track_table", "args": {"table": "author"}}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"message": "success"}));
    }
    // A new server on the same database reads the stored metadata.
    let server = start_server(config(&url)).await;
    let exported = server.export().await;
    assert_eq!(exported["version"], 3);
    assert_eq!(
        exported["sources"][0]["tables"][0]["table"],
        json!({"schema": "public", "name": "author"})
    );
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn tracking_errors_use_hasura_codes() {
    let (cluster, url) = cluster_with_database("codes").await;
    let server = start_server(config(&url)).await;
    server.run_sql(SCHEMA).await;
    let track = json!({"type": "track_table", "args": {"name": "author"}});
    assert_eq!(server.post("/v1/query", &track).await.0, 200);
    let (status, body) = server.post("/v1/query", &track).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "already-tracked");
    assert_eq!(body["path"], "$.args");
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "track_table", "args": {"name": "nope"}}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("not-exists")));
    let (status, body) = server
        .post_with(
            "/v1/query",
            &json!({"type": "track_table", "args": {"name": "article"}}),
            &[("x-hasura-role", "user")],
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("access-denied"))
    );
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn relationships_dependencies_and_run_sql_reconciliation() {
    let (cluster, url) = cluster_with_database("deps").await;
    let server = start_server(config(&url)).await;
    server.run_sql(SCHEMA).await;
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "track_table", "args": {"name": "author"}},
                {"type": "track_table", "args": {"name": "article"}},
                {"type": "create_object_relationship", "args": {"table": "article", "name": "author", "using": {"foreign_key_constraint_on": "author_id"}}},
                {"type": "create_array_relationship", "args": {"table": "author", "name": "articles", "using": {"foreign_key_constraint_on": {"table": "article", "column": "author_id"}}}},
                {"type": "create_select_permission", "args": {"table": "author", "role": "user", "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A relationship on a column without a foreign key is refused.
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "create_object_relationship", "args": {"table": "article", "name": "bad", "using": {"foreign_key_constraint_on": "title"}}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // Untracking a table others depend on needs cascade.
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "untrack_table", "args": {"table": "author"}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("dependency-error")),
        "{body}"
    );
    // Renames made by SQL are followed in the metadata.
    server
        .run_sql("ALTER TABLE author RENAME COLUMN name TO full_name")
        .await;
    let exported = server.export().await;
    let author = &exported["sources"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "author")
        .unwrap()
        .clone();
    assert_eq!(
        author["select_permissions"][0]["permission"]["columns"],
        json!(["id", "full_name"])
    );
    server.run_sql("ALTER TABLE article RENAME TO post").await;
    let exported = server.export().await;
    assert!(exported.to_string().contains("\"post\""));
    // Dropping a table that another table's relationship needs is a dependency error...
    let (status, body) = server
        .post(
            "/v2/query",
            &json!({"type": "run_sql", "args": {"sql": "DROP TABLE post"}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("dependency-error")),
        "{body}"
    );
    // ...and the table is still there, since the transaction was rolled back.
    server.run_sql("SELECT count(*) FROM post").await;
    // With cascade the dependents go too.
    let (status, body) = server
        .post(
            "/v2/query",
            &json!({"type": "run_sql", "args": {"sql": "DROP TABLE post", "cascade": true}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let exported = server.export().await;
    assert!(!exported.to_string().contains("articles"));
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn run_sql_returns_rows_as_text() {
    let (cluster, url) = cluster_with_database("rows").await;
    let server = start_server(config(&url)).await;
    server.run_sql(SCHEMA).await;
    let body = server
        .run_sql("SELECT id, name, NULL::text AS n FROM author ORDER BY id")
        .await;
    assert_eq!(
        body,
        json!({"result_type": "TuplesOk", "result": [["id", "name", "n"], ["1", "A", null], ["2", "B", null]]})
    );
    let (status, body) = server
        .post(
            "/v2/query",
            &json!({"type": "run_sql", "args": {"sql": "SELEC 1"}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("postgres-error"))
    );
    cluster.stop().await.unwrap();
}
