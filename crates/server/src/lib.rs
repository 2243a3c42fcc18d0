//! graft's HTTP edge: the axum router for `/v1/metadata`, `/v1/query`, `/v2/query`,
//! `/v1/version` and `/healthz`, the metadata store in `hdb_catalog`, and the mapping of every
//! error to Hasura's wire shape (`{"code", "error", "path"}` with HTTP 400).
//!
//! In: a `ServerConfig` (built by the `graft` binary from flags and `HASURA_GRAPHQL_*` variables).
//! Out: a running server. Requests flow: HTTP → session (auth) → the API's parser → metadata
//! commands (checked against the catalog, then the schema is rebuilt and swapped atomically) or
//! data operations (translated to one SQL statement by `graft-translate`, run by `graft-execute`).

mod catalog_store;
mod config;
mod error;
mod events;
mod graphql;
mod metadata_api;
mod pg_dump;
mod routes;
mod session;
mod state;
mod ws;

pub use config::{ServerConfig, WebsocketConfig};
pub use error::ApiError;
pub use graft_auth::AuthConfig;
pub use graft_events::WorkerOptions as EventWorkerOptions;
pub use graft_live::LiveConfig;
pub use routes::router;
pub use state::{AppState, StartError};

use std::future::Future;
use std::sync::Arc;

/// Starts the server and runs until `shutdown` completes.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let address = (config.host.clone(), config.port);
    let state = Arc::new(AppState::start(config).await?);
    let listener = tokio::net::TcpListener::bind(address.clone())
        .await
        .map_err(|e| StartError::Bind(format!("{}:{}: {e}", address.0, address.1)))?;
    tracing::info!(host = %address.0, port = address.1, "graft is serving");
    let closing = state.clone();
    let shutdown = async move {
        shutdown.await;
        // WebSocket connections are not tracked by axum's graceful shutdown: tell them.
        closing.shutdown.send_replace(true);
    };
    let served = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| StartError::Bind(e.to_string()));
    // Deliveries in flight finish and are recorded before the process exits.
    state.events.shutdown().await;
    served
}
