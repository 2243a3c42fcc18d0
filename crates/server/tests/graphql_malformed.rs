//! Thousands of malformed GraphQL requests: every one gets GraphQL errors in Hasura's shape
//! (`errors[].extensions.code` and `.path`) with HTTP 200, never a panic or a 500, and the
//! server still answers a valid query afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const VALID: &str = "query Q($id: Int!, $n: String) { author(where: {id: {_eq: $id}, name: {_ilike: $n}}, order_by: {id: asc}, limit: 5) { id name articles(limit: 2) { id title author { name } } articles_aggregate { aggregate { count max { id } } } } }";

/// A valid query with a few characters deleted, duplicated or replaced: mostly parse errors,
/// some unknown fields or arguments.
fn mutate(rng: &mut Rng) -> String {
    let mut chars: Vec<char> = VALID.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len());
        match rng.below(3) {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(
                at,
                ['{', '}', '(', ')', '$', ':', '!', '"', '@', 'x'][rng.below(10)],
            ),
            _ => chars[at] = ['{', '}', '(', ')', '$', '#', ' ', '1'][rng.below(8)],
        }
    }
    chars.into_iter().collect()
}

fn bad_request(rng: &mut Rng, i: usize) -> Value {
    match i % 8 {
        0..=2 => json!({"query": mutate(rng), "variables": {"id": 1, "n": "%"}}),
        3 => {
            let id = ["not", "an", "int"][rng.below(3)];
            json!({"query": VALID, "variables": {"id": id, "n": 5}})
        }
        4 => {
            let fields = ["nope", "id name secret", "articles", "__typename x"][rng.below(4)];
            json!({"query": format!("{{ author {{ {fields} }} }}")})
        }
        5 => {
            // Deep nesting through relationships, far beyond any sensible depth limit.
            let depth = 20 + rng.below(200);
            let mut q = String::from("id");
            for level in 0..depth {
                q = if level % 2 == 0 {
                    format!("author {{ {q} }}")
                } else {
                    format!("articles {{ {q} }}")
                };
            }
            json!({"query": format!("{{ author {{ wrong_field {q} }} }}")})
        }
        6 => {
            json!({"query": VALID, "variables": {"id": 1, "n": "x".repeat(rng.below(2_000_000))}, "operationName": "Other"})
        }
        _ => json!({"query": [1, 2, 3], "variables": "nope"}),
    }
}

#[tokio::test]
async fn malformed_graphql_gets_errors_never_a_crash() {
    let (cluster, url) = cluster_with_database("gqlfuzz").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE author (id serial PRIMARY KEY, name text);
             CREATE TABLE article (id serial PRIMARY KEY, title text, author_id int REFERENCES author(id));
             INSERT INTO author (name) VALUES ('A'), ('B');
             INSERT INTO article (title, author_id) VALUES ('x', 1), ('y', 1);",
        )
        .await;
    let (status, body) = server
        .post(
            "/v1/query",
            &json!({"type": "bulk", "args": [
                {"type": "track_table", "args": {"name": "author"}},
                {"type": "track_table", "args": {"name": "article"}},
                {"type": "create_object_relationship", "args": {"table": "article", "name": "author", "using": {"foreign_key_constraint_on": "author_id"}}},
                {"type": "create_array_relationship", "args": {"table": "author", "name": "articles", "using": {"foreign_key_constraint_on": {"table": "article", "column": "author_id"}}}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": VALID, "variables": {"id": 1, "n": "%"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["author"][0]["articles_aggregate"]["aggregate"]["count"], 2,
        "{body}"
    );

    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut errors = 0;
    for i in 0..2000 {
        let request = bad_request(&mut rng, i);
        let (status, body) = server.post("/v1/graphql", &request).await;
        assert_eq!(status, 200, "request {i}: {request} → {status} {body}");
        if let Some(list) = body["errors"].as_array() {
            let first = &list[0];
            assert!(first["message"].is_string(), "{body}");
            assert!(first["extensions"]["code"].is_string(), "{body}");
            assert!(first["extensions"]["path"].is_string(), "{body}");
            errors += 1;
        } else {
            // A mutation that left the query valid must still produce data.
            assert!(body["data"].is_object(), "request {i}: {body}");
        }
    }
    assert!(
        errors > 1500,
        "only {errors} of 2000 bad requests were refused"
    );
    let (status, body) = server
        .post(
            "/v1/graphql",
            &json!({"query": "{ author(order_by: {id: asc}) { name } }"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"data": {"author": [{"name": "A"}, {"name": "B"}]}})
        )
    );
    cluster.stop().await.unwrap();
}
