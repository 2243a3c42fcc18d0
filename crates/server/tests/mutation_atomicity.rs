//! All or nothing per request, under faults and under contention.
//!
//! - The database connection is killed (`pg_terminate_backend`) while a two-field mutation is in
//!   its second, slow root field, after the first one has inserted rows: the client gets a
//!   Hasura-shaped error at once (no hang), nothing of the request is in the table, and the pool
//!   serves the next request on a fresh connection.
//! - 50 clients upsert the same keys at once, and 50 more `_inc` the same rows: the final table is
//!   what some serial order of the requests gives, and no request fails.
//! - Two requests that lock the same rows in opposite orders deadlock; Postgres aborts one, and the
//!   client gets Hasura's `concurrent-update` error (not a 500, not a hang) while the other commits.
//!   Like Hasura, graft does not retry: the caller decides.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, cluster_with_database, config, start_server};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Every graft connection carries this name, so the test can find graft's backends.
const APPLICATION: &str = "graft_under_test";

async fn observer(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

async fn track(server: &TestServer, table: &str) {
    let (status, body) = server
        .metadata(json!({"type": "pg_track_table", "args": {"table": table}}))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn graphql(server: &TestServer, query: &str) -> (u16, Value) {
    server.post("/v1/graphql", &json!({"query": query})).await
}

async fn count(client: &tokio_postgres::Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

/// The pid of graft's backend once it sleeps inside the `slow` trigger.
async fn sleeping_backend(client: &tokio_postgres::Client) -> i32 {
    for _ in 0..200 {
        let rows = client
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'PgSleep'",
                &[&APPLICATION],
            )
            .await
            .unwrap();
        if let Some(row) = rows.first() {
            return row.get(0);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("graft's backend never reached the slow trigger");
}

#[tokio::test]
async fn killed_connection_mid_mutation_writes_nothing() {
    let (_cluster, url) = cluster_with_database("atomic_kill").await;
    let url = format!("{url}?application_name={APPLICATION}");
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE ledger (id int PRIMARY KEY, note text);
             CREATE TABLE slow (id int PRIMARY KEY);
             CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$;
             CREATE TRIGGER slow_down BEFORE INSERT ON slow
               FOR EACH ROW EXECUTE FUNCTION slow_down();",
        )
        .await;
    track(&server, "ledger").await;
    track(&server, "slow").await;
    let watcher = observer(&url).await;

    let request = {
        let client = server.client.clone();
        let endpoint = format!("{}/v1/graphql", server.base);
        tokio::spawn(async move {
            let response = client
                .post(endpoint)
                .json(&json!({"query": "mutation {
                    first: insert_ledger(objects: [{id: 1, note: \"a\"}, {id: 2, note: \"b\"}]) { affected_rows }
                    second: insert_slow(objects: [{id: 1}]) { affected_rows }
                }"}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        })
    };

    let pid = sleeping_backend(&watcher).await;
    // The first root field has run: its transaction holds the insert lock on `ledger`.
    let wrote: bool = watcher
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1
               AND relation = 'ledger'::regclass AND mode = 'RowExclusiveLock')",
            &[&pid],
        )
        .await
        .unwrap()
        .get(0);
    assert!(wrote, "the first root field had not inserted yet");
    let killed: bool = watcher
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);

    // The trigger would sleep a minute: an answer within seconds means graft noticed the loss.
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("the client hung after its connection was killed")
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "unexpected",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"], "database query error",
        "{body}"
    );
    assert_eq!(count(&watcher, "ledger").await, 0);
    assert_eq!(count(&watcher, "slow").await, 0);

    // The dead connection left the pool: the same rows go in on the next request.
    let (status, body) = graphql(
        &server,
        "mutation { insert_ledger(objects: [{id: 1, note: \"a\"}, {id: 2, note: \"b\"}]) { affected_rows } }",
    )
    .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"data": {"insert_ledger": {"affected_rows": 2}}})
        )
    );
    assert_eq!(count(&watcher, "ledger").await, 2);
}

const CLIENTS: usize = 50;
const KEYS: [&str; 5] = ["k1", "k2", "k3", "k4", "k5"];

#[tokio::test]
async fn concurrent_conflicting_upserts_serialize() {
    let (_cluster, url) = cluster_with_database("atomic_upsert").await;
    let mut settings = config(&url);
    settings.pg_connections = 20;
    let server = start_server(settings).await;
    server
        .run_sql(
            "CREATE TABLE slot (key text PRIMARY KEY, writer int NOT NULL, hits int NOT NULL DEFAULT 0)",
        )
        .await;
    track(&server, "slot").await;
    let watcher = observer(&url).await;

    // Each client upserts every key, in the same order, naming itself the writer; a serial order
    // of these requests leaves every key written by the client that ran last.
    let upserts = (0..CLIENTS).map(|client| {
        let server_client = server.client.clone();
        let endpoint = format!("{}/v1/graphql", server.base);
        let objects: Vec<String> = KEYS
            .iter()
            .map(|key| format!("{{key: \"{key}\", writer: {client}}}"))
            .collect();
        let query = format!(
            "mutation {{ insert_slot(objects: [{}], on_conflict: {{constraint: slot_pkey, update_columns: [writer]}}) {{ affected_rows returning {{ key writer }} }} }}",
            objects.join(", ")
        );
        tokio::spawn(async move {
            let response = server_client
                .post(endpoint)
                .json(&json!({"query": query}))
                .send()
                .await
                .unwrap();
            (
                client,
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        })
    });
    let mut answers = Vec::new();
    for task in upserts.collect::<Vec<_>>() {
        answers.push(task.await.unwrap());
    }
    for (client, status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        let result = &body["data"]["insert_slot"];
        assert_eq!(
            result["affected_rows"],
            KEYS.len(),
            "client {client}: {body}"
        );
        // Each statement sees its own writes: every returned row names this client.
        for row in result["returning"].as_array().unwrap() {
            assert_eq!(row["writer"], *client, "{body}");
        }
    }
    let rows = watcher
        .query("SELECT key, writer FROM slot ORDER BY key", &[])
        .await
        .unwrap();
    let keys: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(keys, KEYS, "every key exactly once");
    let writers: BTreeSet<i32> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(
        writers.len(),
        1,
        "one request was last for every key, as in a serial order: {writers:?}"
    );
    let last = *writers.first().unwrap();
    assert!((0..CLIENTS as i32).contains(&last));

    // Increments: each client adds its own amount to every row, in two root fields of one
    // request (all of them or none). The serial outcome is the sum over all clients.
    let increments = (0..CLIENTS).map(|client| {
        let server_client = server.client.clone();
        let endpoint = format!("{}/v1/graphql", server.base);
        let amount = client + 1;
        let query = format!(
            "mutation {{
               low: update_slot(where: {{key: {{_in: [\"k1\", \"k2\"]}}}}, _inc: {{hits: {amount}}}) {{ affected_rows }}
               high: update_slot(where: {{key: {{_in: [\"k3\", \"k4\", \"k5\"]}}}}, _inc: {{hits: {amount}}}) {{ affected_rows }}
             }}"
        );
        tokio::spawn(async move {
            let response = server_client
                .post(endpoint)
                .json(&json!({"query": query}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        })
    });
    for task in increments.collect::<Vec<_>>() {
        let (status, body) = task.await.unwrap();
        assert_eq!(
            (status, body.clone()),
            (
                200,
                json!({"data": {"low": {"affected_rows": 2}, "high": {"affected_rows": 3}}})
            ),
            "{body}"
        );
    }
    let expected: i32 = (1..=CLIENTS as i32).sum();
    let hits: BTreeMap<String, i32> = watcher
        .query("SELECT key, hits FROM slot", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        hits,
        KEYS.iter().map(|k| (k.to_string(), expected)).collect()
    );
}

/// Two requests take the same two row locks in opposite orders, each holding its first lock
/// until the other has taken its own (a trigger waits for that), so a deadlock is certain.
#[tokio::test]
async fn deadlocked_request_gets_concurrent_update_error() {
    let (_cluster, url) = cluster_with_database("atomic_deadlock").await;
    let url = format!("{url}?application_name={APPLICATION}");
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE account (id int PRIMARY KEY, balance int NOT NULL);
             INSERT INTO account VALUES (1, 100), (2, 100);
             CREATE TABLE pause (id int PRIMARY KEY);
             -- Waits until two graft transactions hold row locks on account, then lets go.
             CREATE FUNCTION wait_for_both() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               FOR i IN 1..200 LOOP
                 EXIT WHEN (SELECT count(DISTINCT pid) FROM pg_locks
                            WHERE relation = 'account'::regclass AND mode = 'RowExclusiveLock') >= 2;
                 PERFORM pg_sleep(0.05);
               END LOOP;
               RETURN NEW;
             END $$;
             CREATE TRIGGER wait_for_both BEFORE INSERT ON pause
               FOR EACH ROW EXECUTE FUNCTION wait_for_both();",
        )
        .await;
    track(&server, "account").await;
    track(&server, "pause").await;
    let watcher = observer(&url).await;

    let transfer = |from: i32, to: i32, pause: i32| {
        let client = server.client.clone();
        let endpoint = format!("{}/v1/graphql", server.base);
        let query = format!(
            "mutation {{
               take: update_account(where: {{id: {{_eq: {from}}}}}, _inc: {{balance: -10}}) {{ affected_rows }}
               pause: insert_pause(objects: [{{id: {pause}}}]) {{ affected_rows }}
               give: update_account(where: {{id: {{_eq: {to}}}}}, _inc: {{balance: 10}}) {{ affected_rows }}
             }}"
        );
        tokio::spawn(async move {
            let response = client
                .post(endpoint)
                .json(&json!({"query": query}))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        })
    };
    let one = transfer(1, 2, 1);
    let two = transfer(2, 1, 2);
    let (one, two) = tokio::time::timeout(Duration::from_secs(30), async {
        (one.await.unwrap(), two.await.unwrap())
    })
    .await
    .expect("deadlocked requests hung");

    let mut committed = 0;
    for (status, body) in [&one, &two] {
        assert_eq!(*status, 200, "{body}");
        if body.get("errors").is_some() {
            assert!(body.get("data").is_none(), "{body}");
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], "concurrent-update", "{body}");
            assert_eq!(error["message"], "deadlock detected", "{body}");
        } else {
            committed += 1;
        }
    }
    assert_eq!(
        committed, 1,
        "exactly one transfer commits: {one:?} {two:?}"
    );
    // The winner moved 10 one way; the loser's first update was rolled back with it.
    let balances: Vec<i32> = watcher
        .query("SELECT balance FROM account ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        balances == [90, 110] || balances == [110, 90],
        "{balances:?}"
    );
    assert_eq!(count(&watcher, "pause").await, 1);
}
