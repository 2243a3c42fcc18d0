//! Thousands of malformed or mutated request bodies: every one must get a 4xx in Hasura's error
//! shape, the server must stay up, and the stored metadata must not change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cluster_with_database, config, start_server};
use serde_json::{Value, json};

/// A small deterministic generator, so a failure reproduces.
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
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const COMMANDS: &[&str] = &[
    "track_table",
    "pg_track_table",
    "untrack_table",
    "pg_untrack_table",
    "create_object_relationship",
    "pg_create_array_relationship",
    "drop_relationship",
    "create_select_permission",
    "pg_create_insert_permission",
    "drop_update_permission",
    "set_table_custom_fields",
    "pg_set_table_customization",
    "set_table_is_enum",
    "track_function",
    "add_computed_field",
    "add_source",
    "rename_relationship",
    "add_inherited_role",
    "insert",
    "select",
    "count",
    "update",
    "delete",
];

const NASTY: &[&str] = &[
    "author\"; DROP TABLE author; --",
    "'; SELECT pg_sleep(10); --",
    "",
    "\u{0}",
    "\"",
    "a\u{0}b",
    "робот",
    "🦀🦀",
    "public\".\"author",
    "pg_catalog",
    "hdb_catalog",
    "$1",
    "x-hasura-role",
];

fn garbage(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 2 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.next().is_multiple_of(2)),
        2 => json!(rng.next() as i64),
        3 => json!(f64::from(rng.below(1000) as u32) / 7.0),
        4 => json!(rng.pick(NASTY)),
        5 => json!("x".repeat(rng.below(200_000))),
        6 => Value::Array((0..rng.below(4)).map(|_| garbage(rng, depth + 1)).collect()),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                let key = (*rng.pick(&[
                    "table",
                    "name",
                    "schema",
                    "using",
                    "role",
                    "permission",
                    "columns",
                    "objects",
                    "where",
                    "source",
                    "args",
                    "type",
                    "sql",
                ]))
                .to_string();
                map.insert(key, garbage(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// A body that must be refused: broken JSON, a non-object, an unknown command, or a known
/// command about objects that do not exist or with arguments of the wrong shape.
fn bad_body(rng: &mut Rng) -> (Vec<u8>, bool) {
    match rng.below(6) {
        0 => {
            let mut text = json!({"type": rng.pick(COMMANDS), "args": garbage(rng, 0)})
                .to_string()
                .into_bytes();
            let cut = rng.below(text.len().max(1));
            text.truncate(cut);
            text.push(b'{');
            (text, false)
        }
        1 => (garbage(rng, 3).to_string().into_bytes(), false),
        2 => (
            json!({"type": format!("no_such_{}", rng.next()), "args": {}})
                .to_string()
                .into_bytes(),
            false,
        ),
        3 => {
            let table = json!({"schema": rng.pick(NASTY), "name": rng.pick(NASTY)});
            (json!({"type": rng.pick(COMMANDS), "args": {"table": table, "name": rng.pick(NASTY), "role": "r", "permission": {"columns": "*", "filter": {}}, "using": {"foreign_key_constraint_on": rng.pick(NASTY)}}}).to_string().into_bytes(), false)
        }
        4 => (
            json!({"type": rng.pick(COMMANDS), "args": garbage(rng, 1)})
                .to_string()
                .into_bytes(),
            true,
        ),
        _ => (
            json!({"type": "run_sql", "args": {"sql": "DROP TABLE author"}})
                .to_string()
                .into_bytes(),
            false,
        ),
    }
}

#[tokio::test]
async fn malformed_bodies_get_4xx_in_hasura_shape_and_change_nothing() {
    let (cluster, url) = cluster_with_database("fuzz").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql("CREATE TABLE author (id serial PRIMARY KEY, name text); INSERT INTO author (name) VALUES ('a');")
        .await;
    let (status, _) = server
        .metadata(json!({"type": "pg_track_table", "args": {"table": "author"}}))
        .await;
    assert_eq!(status, 200);
    let before = server.export().await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let endpoints = ["/v1/metadata", "/v1/query", "/v2/query"];
    let mut checked = 0;
    for i in 0..3000 {
        let (body, may_succeed) = bad_body(&mut rng);
        let endpoint = *rng.pick(&endpoints);
        // Requests as a non-admin role must never change anything either.
        let headers: &[(&str, &str)] = if i % 3 == 0 {
            &[("x-hasura-role", "user")]
        } else {
            &[]
        };
        let is_run_sql = String::from_utf8_lossy(&body).contains("run_sql");
        let headers = if is_run_sql {
            &[("x-hasura-role", "user")][..]
        } else {
            headers
        };
        let (status, response) = server.post_raw(endpoint, body.clone(), headers).await;
        if status == 200 && may_succeed {
            // Garbage that happens to be a valid read-only command (e.g. a select with
            // empty columns) is fine; it must still not have changed the metadata.
        } else {
            assert!(
                (400..500).contains(&status),
                "expected a 4xx for {} on {endpoint}, got {status}: {response}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
            assert!(response["code"].is_string(), "no code in {response}");
            assert!(response["error"].is_string(), "no error in {response}");
            assert!(response["path"].is_string(), "no path in {response}");
        }
        if i % 50 == 0 {
            assert_eq!(
                server.export().await,
                before,
                "metadata changed after request {i}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3000);
    assert_eq!(server.export().await, before);
    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    cluster.stop().await.unwrap();
}
