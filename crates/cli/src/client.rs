//! The server's HTTP APIs as the CLI uses them: `/v1/metadata` for metadata and catalog state,
//! `/v2/query` for `run_sql`, `/v1/query` for the v1 commands of older `up.yaml` migrations.
//!
//! The admin secret travels only in the `X-Hasura-Admin-Secret` header; errors carry the URL
//! and the server's message, never the secret.

use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not reach the server at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("{0}")]
    Api(Box<ApiFailure>),
    #[error("the server's answer to {url} is not JSON: {message}")]
    BadAnswer { url: String, message: String },
}

/// The server's error answer (Hasura's `{"code", "error", "path", "internal"}`).
#[derive(Debug, thiserror::Error)]
#[error("the server answered {url} with {status}: {error} (code \"{code}\"{path}){detail}")]
pub struct ApiFailure {
    pub url: String,
    pub status: u16,
    pub code: String,
    pub error: String,
    pub path: String,
    pub detail: String,
}

impl ClientError {
    /// True when the server answered: whatever it ran was rolled back or never started, as
    /// opposed to a lost connection, where the outcome is unknown.
    pub fn is_answer(&self) -> bool {
        matches!(self, ClientError::Api(_))
    }
}

#[derive(Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    endpoint: String,
    admin_secret: Option<String>,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl ServerClient {
    pub fn new(endpoint: &str, admin_secret: Option<String>) -> ServerClient {
        ServerClient {
            http: reqwest::Client::new(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            admin_secret,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn send(&self, path: &str, body: &Value) -> Result<(String, u16, String), ClientError> {
        let url = format!("{}{path}", self.endpoint);
        let mut request = self.http.post(&url).json(body);
        if let Some(secret) = &self.admin_secret {
            request = request.header("x-hasura-admin-secret", secret);
        }
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: url.clone(),
            message: e.without_url().to_string(),
        })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: url.clone(),
                message: e.without_url().to_string(),
            })?;
        Ok((url, status, text))
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        let (url, status, text) = self.send(path, body).await?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ClientError::BadAnswer {
            url: url.clone(),
            message: format!("{e}: {}", text.chars().take(200).collect::<String>()),
        })?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        Err(api_failure(url, status, &value))
    }

    /// `/v1alpha1/pg_dump`: the dump of a source's database, as text.
    pub async fn pg_dump(&self, source: &str, opts: &[&str]) -> Result<String, ClientError> {
        let body = json!({"opts": opts, "clean_output": true, "source": source});
        let (url, status, text) = self.send("/v1alpha1/pg_dump", &body).await?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Err(api_failure(url, status, &value))
    }

    pub async fn metadata(&self, kind: &str, args: Value) -> Result<Value, ClientError> {
        self.post("/v1/metadata", &json!({"type": kind, "args": args}))
            .await
    }

    pub async fn export_metadata(&self) -> Result<Value, ClientError> {
        self.metadata("export_metadata", json!({})).await
    }

    pub async fn replace_metadata(
        &self,
        metadata: &Value,
        allow_inconsistent: bool,
    ) -> Result<Value, ClientError> {
        self.metadata(
            "replace_metadata",
            json!({"allow_inconsistent_metadata": allow_inconsistent, "metadata": metadata}),
        )
        .await
    }

    pub async fn run_sql(&self, source: &str, sql: &str) -> Result<Value, ClientError> {
        self.post(
            "/v2/query",
            &json!({"type": "run_sql", "args": {"source": source, "sql": sql}}),
        )
        .await
    }

    /// The commands of an `up.yaml`/`down.yaml` migration, as one v1 `bulk`.
    pub async fn v1_bulk(&self, commands: &[Value]) -> Result<Value, ClientError> {
        self.post("/v1/query", &json!({"type": "bulk", "args": commands}))
            .await
    }
}

fn api_failure(url: String, status: u16, value: &Value) -> ClientError {
    let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or("");
    let path = match text("path") {
        "" => String::new(),
        p => format!(" at {p}"),
    };
    ClientError::Api(Box::new(ApiFailure {
        url,
        status,
        code: text("code").to_string(),
        error: text("error").to_string(),
        path,
        detail: database_detail(value),
    }))
}

/// Postgres's own message for a failed statement, from Hasura's `internal` field.
fn database_detail(value: &Value) -> String {
    let internal = value.get("internal").unwrap_or(&Value::Null);
    let error = internal.get("error").unwrap_or(internal);
    let message = error.get("message").and_then(Value::as_str);
    let status = error.get("status_code").and_then(Value::as_str);
    match (message, status) {
        (Some(message), Some(code)) => format!(": {message} (SQLSTATE {code})"),
        (Some(message), None) => format!(": {message}"),
        _ => String::new(),
    }
}
