//! The README's promise, end to end on the real binary: `graft serve` with no database URL starts
//! its own PostgreSQL, answers `/healthz`, stops cleanly on SIGTERM, and after a restart the
//! tracked tables and their rows are still there. Also: secrets never reach `--help` or logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::free_port;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "s3cr3t-never-printed-42";

fn start(data_dir: &std::path::Path, port: u16, log: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_graft"))
        .args([
            "serve",
            "--server-host",
            "127.0.0.1",
            "--server-port",
            &port.to_string(),
        ])
        .arg("--dev-data-dir")
        .arg(data_dir)
        .env_remove("HASURA_GRAPHQL_DATABASE_URL")
        .env("HASURA_GRAPHQL_ADMIN_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

async fn wait_healthy(client: &reqwest::Client, port: u16) {
    common::wait_healthy(
        client,
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(90),
        Duration::from_millis(200),
    )
    .await;
}

async fn post(client: &reqwest::Client, port: u16, path: &str, body: Value) -> (u16, Value) {
    let r = client
        .post(format!("http://127.0.0.1:{port}{path}"))
        .header("x-hasura-admin-secret", SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn stop(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graft exited with {status}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "graft did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn dev_database_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("pgdata");
    let log = dir.path().join("graft.log");
    let client = reqwest::Client::new();

    let port = free_port();
    let child = start(&data_dir, port, &log);
    wait_healthy(&client, port).await;
    let (status, body) = post(&client, port, "/v2/query", json!({"type": "run_sql", "args": {"sql":
        "CREATE TABLE note (id serial PRIMARY KEY, body text); INSERT INTO note (body) VALUES ('kept')"}})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &client,
        port,
        "/v1/metadata",
        json!({"type": "pg_track_table", "args": {"table": "note"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Without the secret nothing is allowed.
    let r = client
        .post(format!("http://127.0.0.1:{port}/v1/metadata"))
        .json(&json!({"type": "export_metadata", "args": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    stop(child);

    let port = free_port();
    let child = start(&data_dir, port, &log);
    wait_healthy(&client, port).await;
    let (_, exported) = post(
        &client,
        port,
        "/v1/metadata",
        json!({"type": "export_metadata", "args": {}}),
    )
    .await;
    assert_eq!(exported["sources"][0]["tables"][0]["table"]["name"], "note");
    let (status, rows) = post(
        &client,
        port,
        "/v1/query",
        json!({"type": "select", "args": {"table": "note", "columns": ["body"]}}),
    )
    .await;
    assert_eq!((status, rows), (200, json!([{"body": "kept"}])));
    stop(child);

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        !logs.contains(SECRET),
        "the admin secret appeared in the logs"
    );
}

#[test]
fn help_never_shows_secret_values() {
    let output = Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(["serve", "--help"])
        .env("HASURA_GRAPHQL_ADMIN_SECRET", SECRET)
        .env(
            "HASURA_GRAPHQL_DATABASE_URL",
            "postgres://u:dbpassword42@h/db",
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("--admin-secret"));
    assert!(!text.contains(SECRET));
    assert!(!text.contains("dbpassword42"));
}
