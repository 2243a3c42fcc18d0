//! A webhook receiver for event tests (axum on 127.0.0.1:0) and a graft state started with a
//! fast event worker.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use graft_server::{AppState, EventWorkerOptions, ServerConfig, router};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How the receiver answers.
#[derive(Clone, Copy)]
pub enum Answer {
    Ok,
    /// The first `n` calls get a 500, with `Retry-After` when given.
    FailFirst(u64, Option<u64>),
    /// Each call fails with probability one half (a fixed pseudo-random sequence).
    FailHalf,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub status: u16,
}

pub struct Receiver {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    handle: JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

struct ReceiverState {
    answer: Answer,
    count: AtomicU64,
    calls: Arc<Mutex<Vec<Call>>>,
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let n = state.count.fetch_add(1, Ordering::SeqCst);
    let (status, retry_after) = match state.answer {
        Answer::Ok => (StatusCode::OK, None),
        Answer::FailFirst(first, retry_after) if n < first => {
            (StatusCode::INTERNAL_SERVER_ERROR, retry_after)
        }
        Answer::FailFirst(..) => (StatusCode::OK, None),
        Answer::FailHalf => {
            // splitmix64 of the call number: deterministic, evenly spread
            let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            if z & 1 == 0 {
                (StatusCode::OK, None)
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
        }
    };
    state.calls.lock().unwrap().push(Call {
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
        status: status.as_u16(),
    });
    let mut response_headers = HeaderMap::new();
    if let Some(seconds) = retry_after {
        response_headers.insert("retry-after", seconds.to_string().parse().unwrap());
    }
    (status, response_headers, "ok")
}

impl Receiver {
    pub async fn start(answer: Answer) -> Receiver {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(ReceiverState {
            answer,
            count: AtomicU64::new(0),
            calls: calls.clone(),
        });
        let app = axum::Router::new().fallback(receive).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}"),
            calls,
            handle,
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Calls answered with 2xx.
    pub fn delivered(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.status < 300)
            .collect()
    }

    /// Waits (up to two minutes, then panics) until `done` holds for the calls so far.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        for _ in 0..1200 {
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "timed out waiting for {what}; calls so far: {:#?}",
            self.calls()
        );
    }
}

/// Worker settings for tests: polls often; a crashed worker's locks are reclaimed after 3 s.
pub fn fast_worker() -> EventWorkerOptions {
    EventWorkerOptions {
        fetch_interval: Duration::from_millis(50),
        batch_size: 100,
        http_concurrency: 50,
        reclaim_after: Duration::from_secs(3),
    }
}

/// A graft (HTTP API + event worker) in this process.
pub struct Graft {
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Graft {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

impl Graft {
    pub async fn start(config: ServerConfig, options: EventWorkerOptions) -> Graft {
        let state = Arc::new(
            AppState::start_with_events(config, options)
                .await
                .expect("server state"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = state.clone();
        let handle = tokio::spawn(async move {
            axum::serve(listener, router(served)).await.unwrap();
        });
        Graft {
            state,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            handle: Some(handle),
        }
    }

    /// Kills this graft as a crash would: no graceful shutdown, claimed events stay locked.
    pub async fn crash(mut self) {
        self.state.events.abort();
        if let Some(handle) = self.handle.take() {
            handle.abort();
            let _ = handle.await;
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn metadata(&self, body: Value) -> (u16, Value) {
        self.post("/v1/metadata", &body).await
    }

    pub async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, &body).await;
        assert_eq!(status, 200, "{body} -> {answer}");
        answer
    }

    pub async fn run_sql(&self, sql: &str) -> Value {
        self.ok(
            "/v2/query",
            serde_json::json!({"type": "run_sql", "args": {"sql": sql}}),
        )
        .await
    }
}
