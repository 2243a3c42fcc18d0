//! One webhook call and what is recorded about it; shared by event triggers and scheduled
//! events. The request and response are kept in Hasura's invocation-log shape (`version: "2"`).

use serde_json::{Value, json};
use std::time::Duration;

/// At most this much of a webhook's answer is kept in the invocation log.
const MAX_LOGGED_BODY_BYTES: usize = 1 << 20;

/// The status Hasura records when no HTTP answer came back (timeout, refused connection).
pub const CLIENT_ERROR_STATUS: i32 = 1000;

/// A POST to a webhook, ready to send.
#[derive(Debug, Clone)]
pub struct WebhookCall {
    pub url: String,
    pub method: reqwest::Method,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
    /// The payload before any request transform, as the invocation log shows it.
    pub logged_payload: Value,
}

#[derive(Debug)]
pub enum CallOutcome {
    /// A 2xx answer.
    Delivered { status: u16, body: String },
    /// An answer with another status; `retry_after` from the `Retry-After` header (seconds).
    Failed {
        status: u16,
        body: String,
        retry_after: Option<u64>,
    },
    /// No answer: connection refused, timeout, invalid URL.
    NoAnswer { message: String },
}

impl CallOutcome {
    pub fn is_delivered(&self) -> bool {
        matches!(self, CallOutcome::Delivered { .. })
    }

    pub fn status(&self) -> i32 {
        match self {
            CallOutcome::Delivered { status, .. } | CallOutcome::Failed { status, .. } => {
                i32::from(*status)
            }
            CallOutcome::NoAnswer { .. } => CLIENT_ERROR_STATUS,
        }
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            CallOutcome::Failed { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The `response` column of an invocation log.
    pub fn log_json(&self) -> Value {
        match self {
            CallOutcome::Delivered { status, body } | CallOutcome::Failed { status, body, .. } => {
                json!({
                    "type": "webhook_response",
                    "data": {"status": status, "body": body, "headers": []},
                    "version": "2"
                })
            }
            CallOutcome::NoAnswer { message } => json!({
                "type": "client_error",
                "data": {"message": message},
                "version": "2"
            }),
        }
    }
}

impl WebhookCall {
    /// The `request` column of an invocation log.
    pub fn log_json(&self) -> Value {
        let headers: Vec<Value> = self
            .headers
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        json!({"payload": self.logged_payload, "headers": headers, "version": "2"})
    }

    pub async fn send(&self, client: &reqwest::Client) -> CallOutcome {
        let mut request = client
            .request(self.method.clone(), &self.url)
            .timeout(self.timeout)
            .body(self.body.clone());
        let mut has_content_type = false;
        for (name, value) in &self.headers {
            has_content_type |= name.eq_ignore_ascii_case("content-type");
            request = request.header(name.as_str(), value.as_str());
        }
        if !has_content_type {
            request = request.header("Content-Type", "application/json");
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return CallOutcome::NoAnswer {
                    message: describe(error),
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = match response.bytes().await {
            Ok(bytes) => {
                let cut = bytes.len().min(MAX_LOGGED_BODY_BYTES);
                String::from_utf8_lossy(&bytes[..cut]).into_owned()
            }
            Err(error) => {
                return CallOutcome::NoAnswer {
                    message: describe(error),
                };
            }
        };
        if status.is_success() {
            CallOutcome::Delivered {
                status: status.as_u16(),
                body,
            }
        } else {
            CallOutcome::Failed {
                status: status.as_u16(),
                body,
                retry_after,
            }
        }
    }
}

/// The error without the URL: a URL may carry credentials in its query string.
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_builder() {
        "invalid request"
    } else {
        "http error"
    };
    let detail = error.without_url().to_string();
    format!("{kind}: {detail}")
}

/// When a failed call is tried again: `None` once `num_retries` retries were spent. A
/// `Retry-After` answer overrides the interval.
pub fn next_retry_delay(
    current_retry: i32,
    num_retries: u32,
    interval_sec: u32,
    outcome: &CallOutcome,
) -> Option<f64> {
    if outcome.is_delivered() || i64::from(current_retry) >= i64::from(num_retries) {
        return None;
    }
    let seconds = outcome.retry_after().unwrap_or(u64::from(interval_sec));
    Some(seconds as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_until_the_budget_is_spent_and_honours_retry_after() {
        let failed = CallOutcome::Failed {
            status: 500,
            body: String::new(),
            retry_after: None,
        };
        assert_eq!(next_retry_delay(0, 2, 5, &failed), Some(5.0));
        assert_eq!(next_retry_delay(1, 2, 5, &failed), Some(5.0));
        assert_eq!(next_retry_delay(2, 2, 5, &failed), None);
        let later = CallOutcome::Failed {
            status: 503,
            body: String::new(),
            retry_after: Some(7),
        };
        assert_eq!(next_retry_delay(0, 1, 5, &later), Some(7.0));
        let ok = CallOutcome::Delivered {
            status: 200,
            body: String::new(),
        };
        assert_eq!(next_retry_delay(0, 3, 5, &ok), None);
    }
}
