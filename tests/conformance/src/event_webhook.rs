//! The event webhook Hasura's suite runs beside the engine (`EVENT_WEBHOOK_HANDLER`, the
//! `EvtsWebhookServer` of `test_events.py`): every POST is answered and then recorded (path
//! with its query string, headers, JSON body) in a queue the event scenarios read.
//!
//! Paths as the original answers them: `/fail` → 500, `/sleep_2s` → 204 after 2 s, `/block` →
//! 204 once [`EventWebhook::unblock`] is called (at most 60 s), anything else → 204. A request
//! is recorded after its answer is decided, so a `/sleep_2s` call the engine gave up on is still
//! recorded 2 s later (the retry tests count on that); the recording runs in its own task so a
//! client that hangs up cannot cancel it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

/// How long `/block` waits for [`EventWebhook::unblock`] at most (the original's 60 s).
const BLOCK_LIMIT: Duration = Duration::from_secs(60);

/// One recorded webhook call.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Path and query string, e.g. `/` or `/?foo=bar`.
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (a body that is not JSON is kept as a string).
    pub body: Value,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

struct Shared {
    sender: mpsc::UnboundedSender<Delivery>,
    unblocked: watch::Sender<bool>,
    blocked: AtomicUsize,
}

/// A running receiver; dropping it stops it.
pub struct EventWebhook {
    pub url: String,
    shared: Arc<Shared>,
    received: Mutex<mpsc::UnboundedReceiver<Delivery>>,
    task: JoinHandle<()>,
}

impl Drop for EventWebhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the receiver on a free port; `/block` starts blocked.
pub async fn start() -> std::io::Result<EventWebhook> {
    let (sender, received) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        sender,
        unblocked: watch::channel(false).0,
        blocked: AtomicUsize::new(0),
    });
    let app = Router::new()
        .fallback(receive)
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(EventWebhook {
        url,
        shared,
        received: Mutex::new(received),
        task,
    })
}

impl EventWebhook {
    /// The next recorded call, or `None` after `timeout` (Python's `get_event(timeout)`).
    pub async fn next(&self, timeout: Duration) -> Option<Delivery> {
        let mut received = self.received.lock().await;
        tokio::time::timeout(timeout, received.recv())
            .await
            .ok()
            .flatten()
    }

    /// Forgets every call recorded so far; returns how many there were.
    pub async fn drain(&self) -> usize {
        let mut received = self.received.lock().await;
        let mut count = 0;
        while received.try_recv().is_ok() {
            count += 1;
        }
        count
    }

    /// Lets the `/block` calls (waiting and future) answer.
    pub fn unblock(&self) {
        self.shared.unblocked.send_replace(true);
    }

    /// Makes `/block` calls wait again.
    pub fn block(&self) {
        self.shared.unblocked.send_replace(false);
    }

    /// How many `/block` calls are waiting now.
    pub fn blocked_count(&self) -> usize {
        self.shared.blocked.load(Ordering::SeqCst)
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let delivery = Delivery {
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
    };
    let route = uri.path().to_string();
    let task = tokio::spawn(async move {
        let status = match route.as_str() {
            "/fail" => StatusCode::INTERNAL_SERVER_ERROR,
            "/sleep_2s" => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                StatusCode::NO_CONTENT
            }
            "/block" => {
                let mut unblocked = shared.unblocked.subscribe();
                if !*unblocked.borrow() {
                    shared.blocked.fetch_add(1, Ordering::SeqCst);
                    let _ = tokio::time::timeout(BLOCK_LIMIT, unblocked.wait_for(|u| *u)).await;
                    shared.blocked.fetch_sub(1, Ordering::SeqCst);
                }
                StatusCode::NO_CONTENT
            }
            _ => StatusCode::NO_CONTENT,
        };
        let _ = shared.sender.send(delivery);
        status
    });
    task.await.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
