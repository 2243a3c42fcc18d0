//! Shared by the tests that run the real `graft` binary: a free port, and waiting until the
//! started process answers `/healthz`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `<base>/healthz` every `every` until it answers 2xx; panics after `limit`.
pub async fn wait_healthy(client: &reqwest::Client, base: &str, limit: Duration, every: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(every).await;
    }
    panic!("graft did not become healthy");
}
