//! At-least-once on the real binary: 10,000 row changes (a fifth of them in rolled-back
//! transactions) while the webhook fails half the calls, and `graft` is SIGKILLed twice while
//! it has events claimed. Afterwards every committed change was delivered, no rolled-back one
//! was, every duplicate is an event the killed process had claimed, and no event is left
//! locked. (`crates/server/tests/events_fault.rs` is the in-process twin: it aborts the
//! worker task instead of killing a process.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::extract::State;
use axum::http::StatusCode;
use common::free_port;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TRANSACTIONS: i64 = 1_000;
const PER_TRANSACTION: i64 = 10;
const BATCH_SIZE: usize = 100;
/// Claims older than this are taken back by the next process.
const RECLAIM_SECONDS: u64 = 3;

/// (row id, HTTP status) of every webhook call.
type Calls = Arc<Mutex<Vec<(i64, u16)>>>;

struct Receiver {
    count: AtomicU64,
    calls: Calls,
}

/// Answers 200 or 503 by a fixed pseudo-random sequence (splitmix64 of the call number).
async fn receive(State(receiver): State<Arc<Receiver>>, body: String) -> StatusCode {
    let n = receiver.count.fetch_add(1, Ordering::SeqCst);
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let status = if z & 1 == 0 {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let id = body["event"]["data"]["new"]["id"].as_i64().unwrap_or(-1);
    receiver.calls.lock().unwrap().push((id, status.as_u16()));
    status
}

async fn start_receiver() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let state = Arc::new(Receiver {
        count: AtomicU64::new(0),
        calls: calls.clone(),
    });
    let app = axum::Router::new().fallback(receive).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

/// A `graft serve` process on `database_url` with a fast event worker.
struct Graft {
    child: Child,
    base: String,
}

impl Graft {
    async fn start(database_url: &str, log: &std::path::Path) -> Graft {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_graft"))
            .args(["serve", "--server-host", "127.0.0.1", "--server-port"])
            .arg(port.to_string())
            .arg("--database-url")
            .arg(database_url)
            .env_remove("HASURA_GRAPHQL_ADMIN_SECRET")
            .env("HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL", "50")
            .env(
                "HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE",
                BATCH_SIZE.to_string(),
            )
            .env("HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE", "50")
            .env(
                "GRAFT_EVENTS_LOCK_RECLAIM_SECONDS",
                RECLAIM_SECONDS.to_string(),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let graft = Graft {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", graft.base)).send().await
                && r.status().is_success()
            {
                return graft;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "graft did not become healthy"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown code runs, claimed events stay locked.
    fn kill(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        self.child.wait().unwrap();
    }

    async fn ok(&self, path: &str, body: Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
    }
}

impl Drop for Graft {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

/// Commits (or rolls back) one transaction inserting ids `first..first + n`.
async fn write(client: &tokio_postgres::Client, first: i64, n: i64, commit: bool) {
    client.batch_execute("BEGIN").await.unwrap();
    client
        .execute(
            "INSERT INTO items (id, note) SELECT g, 'change' FROM generate_series($1::int8, $2::int8) g",
            &[&first, &(first + n - 1)],
        )
        .await
        .unwrap();
    let end = if commit { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await.unwrap();
}

/// Waits until the running graft has events claimed, kills it, and returns the row ids of the
/// events it left locked: the only ones this crash may repeat.
async fn kill_mid_delivery(graft: Graft, client: &tokio_postgres::Client) -> HashSet<i64> {
    let started = Instant::now();
    while count(
        client,
        "SELECT count(*) FROM hdb_catalog.event_log WHERE locked IS NOT NULL",
    )
    .await
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "graft never had an event claimed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    graft.kill();
    client
        .query(
            "SELECT (payload->'data'->'new'->>'id')::int8 FROM hdb_catalog.event_log WHERE locked IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_graft_loses_no_event_and_repeats_only_claimed_ones() {
    let cluster = graft_pgtemp::Cluster::temporary().await.unwrap();
    cluster.create_database("events_kill").await.unwrap();
    let url = cluster.url("events_kill");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("graft.log");
    let (webhook, calls) = start_receiver().await;

    let mut graft = Graft::start(&url, &log).await;
    graft
        .ok(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": "CREATE TABLE items (id int8 PRIMARY KEY, note text)"}}),
        )
        .await;
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_track_table", "args": {"table": "items"}}),
        )
        .await;
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_create_event_trigger", "args": {
                "name": "items_all", "table": "items", "webhook": webhook,
                "insert": {"columns": "*"},
                "retry_conf": {"num_retries": 10_000, "interval_sec": 0, "timeout_sec": 2}
            }}),
        )
        .await;

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut committed = HashSet::new();
    let mut rolled_back = HashSet::new();
    let mut claimed_at_crash = HashSet::new();
    for t in 0..TRANSACTIONS {
        if t == TRANSACTIONS / 3 || t == 2 * TRANSACTIONS / 3 {
            claimed_at_crash.extend(kill_mid_delivery(graft, &client).await);
            graft = Graft::start(&url, &log).await;
        }
        let first = t * PER_TRANSACTION;
        let commit = t % 5 != 4;
        write(&client, first, PER_TRANSACTION, commit).await;
        let ids = first..first + PER_TRANSACTION;
        if commit {
            committed.extend(ids);
        } else {
            rolled_back.extend(ids);
        }
    }

    let started = Instant::now();
    loop {
        let logged = count(&client, "SELECT count(*) FROM hdb_catalog.event_log").await;
        let pending = count(
            &client,
            "SELECT count(*) FROM hdb_catalog.event_log WHERE NOT delivered",
        )
        .await;
        if logged == committed.len() as i64 && pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{pending} of {logged} events still undelivered after two minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let calls = calls.lock().unwrap().clone();
    let mut delivered: HashMap<i64, usize> = HashMap::new();
    for (id, status) in &calls {
        assert!(!rolled_back.contains(id), "rolled-back row {id} was sent");
        assert!(committed.contains(id), "unknown row {id} was sent");
        if *status == 200 {
            *delivered.entry(*id).or_default() += 1;
        }
    }
    let missing = committed
        .iter()
        .filter(|id| !delivered.contains_key(id))
        .count();
    assert_eq!(
        missing, 0,
        "{missing} committed changes were never delivered"
    );
    let unexplained: Vec<i64> = delivered
        .iter()
        .filter(|(id, n)| **n > 1 && !claimed_at_crash.contains(id))
        .map(|(id, _)| *id)
        .collect();
    assert!(
        unexplained.is_empty(),
        "delivered more than once without having been claimed by a killed graft: {unexplained:?}"
    );
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    eprintln!(
        "{} committed, {} calls, {} claimed by the killed processes, {duplicates} duplicate deliveries",
        committed.len(),
        calls.len(),
        claimed_at_crash.len()
    );
    assert!(
        !claimed_at_crash.is_empty(),
        "no kill happened mid-delivery"
    );
    assert!(claimed_at_crash.len() <= 2 * BATCH_SIZE);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM hdb_catalog.event_log WHERE locked IS NOT NULL OR error"
        )
        .await,
        0,
        "events left locked or failed"
    );
    // The receiver did fail about half the calls: retries really happened.
    assert!(calls.len() > committed.len() + committed.len() / 4);
    drop(graft);
}
