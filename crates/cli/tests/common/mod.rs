//! A real PostgreSQL (graft-pgtemp) and graft servers started in-process on free ports.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use graft_pgtemp::{Cluster, PgBinaries};
use graft_server::{AppState, AuthConfig, ServerConfig, router};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub endpoint: String,
    pub database_url: String,
    handle: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

pub async fn start_server(database_url: &str, admin_secret: Option<&str>) -> TestServer {
    let mut auth = AuthConfig::default();
    if let Some(secret) = admin_secret {
        auth = AuthConfig::from_env(&|name| {
            (name == "HASURA_GRAPHQL_ADMIN_SECRET").then(|| secret.to_string())
        })
        .unwrap();
    }
    let config = ServerConfig {
        database_url: database_url.to_string(),
        metadata_database_url: database_url.to_string(),
        host: "127.0.0.1".to_string(),
        port: 0,
        auth,
        stringify_numeric_types: false,
        infer_function_permissions: true,
        enable_console: false,
        dev_mode: false,
        pg_connections: 4,
        enabled_apis: Vec::new(),
        websocket: graft_server::WebsocketConfig::default(),
        experimental_features: Vec::new(),
    };
    let state = Arc::new(AppState::start(config).await.expect("server state"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    TestServer {
        endpoint: format!("http://127.0.0.1:{port}"),
        database_url: database_url.to_string(),
        handle,
    }
}

pub async fn cluster_with(databases: &[&str]) -> Cluster {
    let cluster = Cluster::temporary().await.expect("postgres cluster");
    for name in databases {
        cluster
            .create_database(name)
            .await
            .expect("create database");
    }
    cluster
}

/// `pg_dump --schema-only` of the given schema, without comments and settings.
pub fn schema_dump(url: &str, schema: &str) -> String {
    let pg_dump = graft_cli::squash::find_pg_dump(PgBinaries::find().unwrap().bindir());
    let output = std::process::Command::new(pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--schema",
            schema,
        ])
        .arg("--dbname")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with("--") && !l.starts_with('\\') && !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Runs SQL through the server and returns the rows (without the header row).
pub async fn query(
    client: &graft_cli::client::ServerClient,
    source: &str,
    sql: &str,
) -> Vec<Value> {
    let answer = client.run_sql(source, sql).await.unwrap();
    let rows = answer["result"].as_array().cloned().unwrap_or_default();
    rows.into_iter().skip(1).collect()
}

pub async fn metadata(client: &graft_cli::client::ServerClient, kind: &str, args: Value) -> Value {
    client
        .metadata(kind, args)
        .await
        .unwrap_or_else(|e| panic!("{kind} failed: {e}"))
}

pub fn track(table: &str) -> Value {
    json!({"source": "default", "table": {"schema": "public", "name": table}})
}

/// Copies a directory tree (a fixture the test will modify).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, relative path → contents.
pub fn read_tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    fn walk(
        base: &std::path::Path,
        dir: &std::path::Path,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}
