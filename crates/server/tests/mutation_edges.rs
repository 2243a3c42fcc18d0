//! Mutation details Hasura's conformance data pins down: a failed request on the legacy
//! `/v1alpha1/graphql` gets its error's HTTP status (200 on `/v1/graphql`); an update whose only
//! change is the role's preset still updates; a checked insert's `returning` may call a computed
//! field on the written row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::json;

#[tokio::test]
async fn legacy_status_presets_and_computed_fields() {
    let (_cluster, url) = cluster_with_database("mutation_edges").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE resident (id int PRIMARY KEY, name text, city text);
             INSERT INTO resident VALUES (1, 'clarke', 'sydney');
             CREATE FUNCTION shout(r resident) RETURNS text LANGUAGE sql STABLE AS
               $$ SELECT upper(r.name) $$;",
        )
        .await;
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "track_table", "args": {"name": "resident"}},
                {"type": "add_computed_field", "args": {"table": "resident", "name": "shout",
                    "definition": {"function": "shout"}}},
                {"type": "create_select_permission", "args": {"table": "resident", "role": "user",
                    "permission": {"columns": "*", "filter": {}, "computed_fields": ["shout"]}}},
                {"type": "create_update_permission", "args": {"table": "resident", "role": "user",
                    "permission": {"columns": "*", "filter": {}, "set": {"city": "melbourne"}}}},
                {"type": "create_insert_permission", "args": {"table": "resident", "role": "user",
                    "permission": {"columns": "*", "check": {"name": {"_ne": "bad"}}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let user = [("x-hasura-role", "user")];

    // No operator, only the preset: the row is updated.
    let (status, body) = server
        .post_with(
            "/v1/graphql",
            &json!({"query": "mutation { update_resident(where: {id: {_eq: 1}}) { affected_rows returning { city } } }"}),
            &user,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"data": {"update_resident": {"affected_rows": 1, "returning": [{"city": "melbourne"}]}}})
        )
    );

    // A checked insert answers a computed field of the inserted row.
    let (status, body) = server
        .post_with(
            "/v1/graphql",
            &json!({"query": "mutation { insert_resident_one(object: {id: 2, name: \"bellamy\"}) { id shout } }"}),
            &user,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"data": {"insert_resident_one": {"id": 2, "shout": "BELLAMY"}}})
        )
    );

    // A failed check: 200 on /v1/graphql, 400 on /v1alpha1/graphql, the same body.
    let failing = json!({"query": "mutation { insert_resident(objects: [{id: 3, name: \"bad\"}]) { affected_rows } }"});
    let (status, current) = server.post_with("/v1/graphql", &failing, &user).await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(
        current["errors"][0]["extensions"]["code"],
        "permission-error"
    );
    let (status, legacy) = server.post_with("/v1alpha1/graphql", &failing, &user).await;
    assert_eq!((status, &legacy), (400, &current));
    // Success on /v1alpha1/graphql is still 200.
    let (status, body) = server
        .post_with(
            "/v1alpha1/graphql",
            &json!({"query": "{ resident(order_by: {id: asc}) { id } }"}),
            &user,
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"data": {"resident": [{"id": 1}, {"id": 2}]}}))
    );
}
