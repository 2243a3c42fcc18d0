//! Console mode, the server side: the local API a schema editor calls (as Hasura's console
//! calls the one `hasura console` serves), so every schema change made through it becomes a
//! migration folder in the project and the metadata files follow.
//!
//! `POST /apis/migrate` with `{"name", "datasource", "up": [run_sql...], "down": [run_sql...]}`
//! (`down` optional: generated from the up SQL when left out):
//!
//! 1. the migration is written to a hidden staging folder;
//! 2. its SQL runs on the server as one `run_sql` (one transaction) and is recorded in the
//!    catalog state, exactly as `migrate apply` does;
//! 3. the folder is renamed into place and the metadata directory re-exported (itself written
//!    aside and swapped in).
//!
//! If the SQL fails, the staging folder is removed and nothing is recorded: no half-written
//! migration. Changes are handled one at a time.

use crate::client::ServerClient;
use crate::migrate::{self, MigrateError};
use crate::migrations::{self, MigrationsError};
use crate::project::Project;
use crate::{down_sql, metadata_ops};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Migrations(#[from] MigrationsError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error("the migration was applied, but exporting the metadata failed: {0}")]
    Export(#[from] metadata_ops::MetadataOpsError),
}

impl ConsoleError {
    /// Hasura's wire shape, only here at the HTTP edge.
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ConsoleError::BadRequest(_) | ConsoleError::Migrations(_) => {
                (StatusCode::BAD_REQUEST, "bad-request")
            }
            ConsoleError::Migrate(_) => (StatusCode::BAD_REQUEST, "migration-failed"),
            ConsoleError::Export(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unexpected"),
        };
        let body = json!({"code": code, "error": self.to_string(), "path": "$"});
        (status, Json(body)).into_response()
    }
}

pub struct ConsoleState {
    pub client: ServerClient,
    pub project: Project,
    /// One change at a time: versions and the metadata export must not interleave.
    lock: tokio::sync::Mutex<()>,
}

impl ConsoleState {
    pub fn new(client: ServerClient, project: Project) -> Arc<ConsoleState> {
        Arc::new(ConsoleState {
            client,
            project,
            lock: tokio::sync::Mutex::new(()),
        })
    }
}

pub fn router(state: Arc<ConsoleState>) -> Router {
    Router::new()
        .route("/apis/migrate", post(migrate_handler))
        .route("/apis/health", get(|| async { "OK" }))
        .with_state(state)
}

#[derive(Deserialize)]
struct MigrateRequest {
    name: String,
    #[serde(default = "default_source")]
    datasource: String,
    up: Vec<Value>,
    #[serde(default)]
    down: Option<Vec<Value>>,
}

fn default_source() -> String {
    "default".to_string()
}

async fn migrate_handler(
    State(state): State<Arc<ConsoleState>>,
    body: axum::body::Bytes,
) -> Response {
    let request: MigrateRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return ConsoleError::BadRequest(format!("invalid request: {e}")).into_response(),
    };
    match record_change(&state, request).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn record_change(
    state: &ConsoleState,
    request: MigrateRequest,
) -> Result<Value, ConsoleError> {
    let up = joined_sql(&request.up, "up")?;
    if up.trim().is_empty() {
        return Err(ConsoleError::BadRequest(
            "the up step has no SQL".to_string(),
        ));
    }
    let down = match &request.down {
        Some(commands) if !commands.is_empty() => joined_sql(commands, "down")?,
        _ => down_sql::generate(&up),
    };
    let _guard = state.lock.lock().await;
    let migrations_dir = state.project.migrations_dir();
    let staged = migrations::stage(
        &migrations_dir,
        &request.datasource,
        &request.name,
        &up,
        &down,
        &[],
    )?;
    if let Err(error) =
        migrate::apply_migration(&state.client, &request.datasource, &staged.migration).await
    {
        staged.discard();
        return Err(error.into());
    }
    let migration = staged.commit()?;
    metadata_ops::export(&state.client, &state.project.metadata_dir()).await?;
    Ok(json!({
        "name": format!("{}_{}", migration.version, migration.name),
        "version": migration.version,
    }))
}

/// The SQL of a list of `run_sql` commands, one after the other.
fn joined_sql(commands: &[Value], step: &str) -> Result<String, ConsoleError> {
    let mut sql = String::new();
    for (i, command) in commands.iter().enumerate() {
        let kind = command.get("type").and_then(Value::as_str).unwrap_or("");
        let text = command
            .get("args")
            .and_then(|a| a.get("sql"))
            .and_then(Value::as_str);
        match (kind, text) {
            ("run_sql" | "pg_run_sql", Some(text)) => {
                sql.push_str(text.trim_end());
                if !text.trim_end().ends_with(';') {
                    sql.push(';');
                }
                sql.push('\n');
            }
            _ => {
                return Err(ConsoleError::BadRequest(format!(
                    "{step}[{i}]: only run_sql commands become migrations; metadata changes go through /v1/metadata and are exported with the next change"
                )));
            }
        }
    }
    Ok(sql)
}

/// Serves the console API until the listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ConsoleState>,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}
