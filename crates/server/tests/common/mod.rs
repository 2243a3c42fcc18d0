//! Starts a real PostgreSQL and a graft server in-process on a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use graft_pgtemp::Cluster;
use graft_server::{AppState, AuthConfig, ServerConfig, router};
use serde_json::Value;
use std::sync::Arc;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub base: String,
    pub database_url: String,
    pub client: reqwest::Client,
    handle: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

pub fn config(database_url: &str) -> ServerConfig {
    ServerConfig {
        database_url: database_url.to_string(),
        metadata_database_url: database_url.to_string(),
        host: "127.0.0.1".to_string(),
        port: 0,
        auth: AuthConfig::default(),
        stringify_numeric_types: false,
        infer_function_permissions: true,
        enable_console: false,
        dev_mode: false,
        pg_connections: 8,
        enabled_apis: Vec::new(),
        websocket: graft_server::WebsocketConfig::default(),
        experimental_features: Vec::new(),
    }
}

pub async fn start_server(config: ServerConfig) -> TestServer {
    let database_url = config.database_url.clone();
    let state = Arc::new(AppState::start(config).await.expect("server state"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    TestServer {
        base: format!("http://127.0.0.1:{port}"),
        database_url,
        client: reqwest::Client::new(),
        handle,
    }
}

pub async fn cluster_with_database(name: &str) -> (Cluster, String) {
    let cluster = Cluster::temporary().await.expect("postgres cluster");
    cluster
        .create_database(name)
        .await
        .expect("create database");
    let url = cluster.url(name);
    (cluster, url)
}

impl TestServer {
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_with(path, body, &[]).await
    }

    pub async fn post_with(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn run_sql(&self, sql: &str) -> Value {
        let (status, body) = self
            .post(
                "/v2/query",
                &serde_json::json!({"type": "run_sql", "args": {"sql": sql}}),
            )
            .await;
        assert_eq!(status, 200, "run_sql failed: {body}");
        body
    }

    pub async fn metadata(&self, body: Value) -> (u16, Value) {
        self.post("/v1/metadata", &body).await
    }

    pub async fn export(&self) -> Value {
        let (status, body) = self
            .metadata(serde_json::json!({"type": "export_metadata", "args": {}}))
            .await;
        assert_eq!(status, 200);
        body
    }
}
