//! Validated documents are kept per (document, role, operation name) and reused: the reuse must
//! never carry one request's variables, role or operation into another, and a metadata change
//! must validate again against the new schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::json;

const BY_ID: &str = "query ById($id: Int!) { item_by_pk(id: $id) { id secret } }
query Names { item(order_by: {id: asc}) { id } }";

#[tokio::test]
async fn reused_documents_keep_requests_apart() {
    let (_cluster, url) = cluster_with_database("document_cache").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE item (id int PRIMARY KEY, secret text);
             INSERT INTO item VALUES (1, 'one'), (2, 'two');",
        )
        .await;
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "track_table", "args": {"name": "item"}},
                {"type": "create_select_permission", "args": {"table": "item", "role": "reader",
                    "permission": {"columns": ["id"], "filter": {}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let single = "query ($id: Int!) { item_by_pk(id: $id) { id secret } }";

    // The same document, new variables each time.
    for id in [1, 2, 1] {
        let (_, body) = server
            .post(
                "/v1/graphql",
                &json!({"query": single, "variables": {"id": id}}),
            )
            .await;
        let expected = if id == 1 { "one" } else { "two" };
        assert_eq!(body["data"]["item_by_pk"]["secret"], expected, "{body}");
    }
    // Bad variables are still refused after the document was kept.
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": single, "variables": {"id": "x"}}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "validation-failed",
        "{body}"
    );

    // Admin validated it first; a role that may not read `secret` is still refused.
    let reader = [("x-hasura-role", "reader")];
    let (_, body) = server
        .post_with(
            "/v1/graphql",
            &json!({"query": single, "variables": {"id": 1}}),
            &reader,
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "validation-failed",
        "{body}"
    );

    // One document, two operations: the name picks, each time.
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": BY_ID, "operationName": "Names"}),
        )
        .await;
    assert_eq!(
        body["data"]["item"],
        json!([{"id": 1}, {"id": 2}]),
        "{body}"
    );
    let (_, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": BY_ID, "operationName": "Nope"}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "validation-failed",
        "{body}"
    );

    // The reader may read `secret` once its permission says so: the new schema validates again.
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "drop_select_permission", "args": {"table": "item", "role": "reader"}},
                {"type": "create_select_permission", "args": {"table": "item", "role": "reader",
                    "permission": {"columns": ["id", "secret"], "filter": {}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server
        .post_with(
            "/v1/graphql",
            &json!({"query": single, "variables": {"id": 2}}),
            &reader,
        )
        .await;
    assert_eq!(body["data"]["item_by_pk"]["secret"], "two", "{body}");
}
