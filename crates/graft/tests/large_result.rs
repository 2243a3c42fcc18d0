//! A query whose result is over 100 MB, on the real binary: it is answered in full, and graft's
//! peak memory grows by about one copy of the result, not two or three. The database's JSON goes
//! from the driver's receive buffer to the socket without being copied into a string or wrapped
//! by `format!` (`graft_execute::query_json_bytes_cached`, the server's `JsonBody`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 100_000;
const PAYLOAD_CHARS: i64 = 1_000;

struct Graft(Child);

impl Drop for Graft {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Peak resident memory of a process so far (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test]
async fn a_result_over_100_mb_is_held_once() {
    let cluster = graft_pgtemp::Cluster::temporary().await.unwrap();
    cluster.create_database("large").await.unwrap();
    let url = cluster.url("large");
    let port = common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(["serve", "--server-host", "127.0.0.1", "--server-port"])
        .arg(port.to_string())
        .arg("--database-url")
        .arg(&url)
        .env_remove("HASURA_GRAPHQL_ADMIN_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _graft = Graft(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "graft did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let post = |path: &'static str, body: serde_json::Value| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let response = client
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap()
        }
    };
    post(
        "/v2/query",
        json!({"type": "run_sql", "args": {"sql": format!(
            "CREATE TABLE big AS SELECT g AS id, repeat(chr(97 + g % 26), {PAYLOAD_CHARS}) AS payload
             FROM generate_series(1, {ROWS}) g"
        )}}),
    )
    .await;
    post(
        "/v1/metadata",
        json!({"type": "pg_track_table", "args": {"table": "big"}}),
    )
    .await;
    // A small query first, so the baseline includes warmed-up pools and caches.
    post("/v1/graphql", json!({"query": "{ big(limit: 1) { id } }"})).await;
    let before = peak_rss(pid);

    let body = post(
        "/v1/graphql",
        json!({"query": "{ big(order_by: {id: asc}) { id payload } }"}),
    )
    .await;
    let grown = peak_rss(pid).saturating_sub(before);
    let size = body.len() as u64;
    assert!(size > 100_000_000, "the result is {size} bytes");

    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let rows = answer["data"]["big"].as_array().unwrap();
    assert_eq!(rows.len() as i64, ROWS);
    assert_eq!(rows[ROWS as usize - 1]["id"], ROWS);
    assert_eq!(
        rows[0]["payload"].as_str().unwrap(),
        "b".repeat(PAYLOAD_CHARS as usize)
    );

    // One copy is the driver's buffer; a second (a String of it, or `{"data":...}` built by
    // format!) would take the growth past 2x.
    assert!(
        grown < size * 3 / 2,
        "peak memory grew by {grown} bytes for a {size}-byte result"
    );
    eprintln!("result {size} bytes, peak memory grew by {grown} bytes");
}
