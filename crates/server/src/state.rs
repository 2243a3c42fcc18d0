//! The server's shared state: pools, and the current schema cache behind an `ArcSwap`, so a
//! request sees the old or the new metadata, never a mix. Metadata writers take `write_lock`,
//! build the next cache off to the side, store the document, then swap.

use crate::catalog_store;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::graphql::schemas::{RoleSchemas, schema_options};
use arc_swap::ArcSwap;
use graft_catalog::DbCatalog;
use graft_execute::{Pool, connect_pool};
use graft_metadata::{DEFAULT_SOURCE, Metadata, Source, default_source_configuration};
use graft_schema::{Inconsistency, Model, ObjectId};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("metadata database: {0}")]
    MetadataDatabase(String),
    #[error("stored metadata is invalid: {0}")]
    InvalidMetadata(String),
    #[error("authentication configuration: {0}")]
    Auth(String),
    #[error("could not listen on {0}")]
    Bind(String),
}

pub struct SchemaCache {
    pub metadata: Metadata,
    pub resource_version: i32,
    pub catalogs: HashMap<String, DbCatalog>,
    pub model: Model,
    pub inconsistencies: Vec<Inconsistency>,
    pub pools: HashMap<String, Pool>,
    /// Each role's GraphQL schema, built on first use from this cache's model.
    pub role_schemas: RoleSchemas,
}

impl SchemaCache {
    pub fn pool(&self, source: &str) -> Result<&Pool, ApiError> {
        self.pools.get(source).ok_or_else(|| {
            ApiError::not_exists(format!("source with name \"{source}\" does not exist"))
        })
    }
}

pub struct AppState {
    pub config: ServerConfig,
    pub authenticator: graft_auth::Authenticator,
    pub metadata_pool: Pool,
    pub cache: ArcSwap<SchemaCache>,
    pub write_lock: Mutex<()>,
    /// Live-query pollers shared by every WebSocket connection.
    pub live: graft_live::Multiplexer,
    /// Streaming-subscription pollers (their own refetch interval and batch size).
    pub streaming: graft_live::Multiplexer,
    /// Bumped whenever a new schema cache is swapped in; running subscriptions re-validate.
    pub cache_changes: tokio::sync::watch::Sender<u64>,
    /// Set once when the server begins to shut down; WebSocket connections close cleanly.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Open WebSocket connections.
    pub websocket_connections: std::sync::atomic::AtomicUsize,
    /// Outgoing HTTP (action handlers): one client, so connections are reused.
    pub http: reqwest::Client,
    /// The event and scheduled-trigger delivery worker (see `graft-events`).
    pub events: graft_events::EventsRuntime,
}

impl AppState {
    pub async fn start(config: ServerConfig) -> Result<AppState, StartError> {
        AppState::start_with_events(config, graft_events::WorkerOptions::from_env()).await
    }

    /// `start` with the event worker's tuning given rather than read from the environment.
    pub async fn start_with_events(
        config: ServerConfig,
        events_options: graft_events::WorkerOptions,
    ) -> Result<AppState, StartError> {
        let authenticator = graft_auth::Authenticator::new(config.auth.clone())
            .await
            .map_err(|e| StartError::Auth(e.to_string()))?;
        let metadata_pool = connect_pool(&config.metadata_database_url, 4)
            .await
            .map_err(|e| StartError::MetadataDatabase(e.to_string()))?;
        catalog_store::bootstrap(&metadata_pool)
            .await
            .map_err(|e| StartError::MetadataDatabase(e.to_string()))?;
        install_scheduled_catalog(&metadata_pool)
            .await
            .map_err(StartError::MetadataDatabase)?;
        let (metadata, version) = match catalog_store::load(&metadata_pool)
            .await
            .map_err(|e| StartError::MetadataDatabase(e.to_string()))?
        {
            Some((json, version)) => (
                Metadata::from_json(json)
                    .map_err(|e| StartError::InvalidMetadata(e.to_string()))?,
                version,
            ),
            None => {
                let metadata = initial_metadata();
                let version = catalog_store::save(&metadata_pool, &metadata, 0)
                    .await
                    .map_err(|e| StartError::MetadataDatabase(e.to_string()))?
                    .unwrap_or(1);
                (metadata, version)
            }
        };
        crate::graphql::async_action::bootstrap(&metadata_pool)
            .await
            .map_err(|e| StartError::MetadataDatabase(e.to_string()))?;
        let cache = build_cache(&config, metadata, version, &HashMap::new()).await;
        let http = reqwest::Client::new();
        crate::graphql::async_action::resume(
            http.clone(),
            metadata_pool.clone(),
            cache.metadata.actions.clone(),
        );
        for inconsistency in &cache.inconsistencies {
            tracing::warn!(object = %inconsistency.object, reason = %inconsistency.reason, "inconsistent metadata");
        }
        crate::events::install_all(&cache, config.stringify_numeric_types).await;
        let events = graft_events::EventsRuntime::start(events_options);
        events.update(crate::events::events_config(&cache, &metadata_pool));
        Ok(AppState {
            authenticator,
            metadata_pool,
            cache: ArcSwap::from_pointee(cache),
            write_lock: Mutex::new(()),
            live: graft_live::Multiplexer::new(config.websocket.live),
            streaming: graft_live::Multiplexer::new(config.websocket.streaming),
            cache_changes: tokio::sync::watch::Sender::new(0),
            shutdown: tokio::sync::watch::Sender::new(false),
            websocket_connections: std::sync::atomic::AtomicUsize::new(0),
            http,
            events,
            config,
        })
    }

    pub fn current(&self) -> Arc<SchemaCache> {
        self.cache.load_full()
    }

    /// Builds the cache for `metadata` (re-reading every catalog), stores the document if the
    /// stored version is still `expected_version`, and swaps it in. Callers hold `write_lock`.
    pub async fn commit(
        &self,
        metadata: Metadata,
        expected_version: i32,
    ) -> Result<Arc<SchemaCache>, ApiError> {
        let current = self.current();
        let mut cache = build_cache(&self.config, metadata, expected_version, &current.pools).await;
        let stored = catalog_store::save(&self.metadata_pool, &cache.metadata, expected_version)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    "conflict",
                    format!(
                        "metadata resource version referenced ({expected_version}) did not match current version"
                    ),
                )
                .with_status(axum::http::StatusCode::CONFLICT)
            })?;
        cache.resource_version = stored;
        let cache = Arc::new(cache);
        self.cache.store(cache.clone());
        self.cache_changes
            .send_modify(|generation| *generation += 1);
        self.events
            .update(crate::events::events_config(&cache, &self.metadata_pool));
        Ok(cache)
    }

    /// Re-reads the database catalogs for the current metadata (reload_metadata, after DDL).
    pub async fn reload(&self) -> Arc<SchemaCache> {
        let current = self.current();
        let cache = Arc::new(
            build_cache(
                &self.config,
                current.metadata.clone(),
                current.resource_version,
                &current.pools,
            )
            .await,
        );
        self.cache.store(cache.clone());
        self.cache_changes
            .send_modify(|generation| *generation += 1);
        self.events
            .update(crate::events::events_config(&cache, &self.metadata_pool));
        cache
    }
}

/// The scheduled-trigger tables live in the metadata database, created with the rest of it.
async fn install_scheduled_catalog(pool: &Pool) -> Result<(), String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    graft_events::install_scheduled_catalog(&**client)
        .await
        .map_err(|e| e.to_string())
}

/// A fresh metadata document: the database given on the command line is the `default` source.
fn initial_metadata() -> Metadata {
    let mut metadata = Metadata::default();
    metadata.sources.push(Source {
        name: DEFAULT_SOURCE.to_string(),
        kind: "postgres".to_string(),
        tables: Vec::new(),
        functions: Vec::new(),
        configuration: default_source_configuration(),
        extra: Default::default(),
    });
    metadata
}

/// Connects (reusing existing pools) and introspects every source, then resolves.
pub async fn build_cache(
    config: &ServerConfig,
    metadata: Metadata,
    resource_version: i32,
    existing: &HashMap<String, Pool>,
) -> SchemaCache {
    let mut pools = HashMap::new();
    let mut catalogs = HashMap::new();
    let mut failures = Vec::new();
    for source in &metadata.sources {
        let pool = match existing.get(&source.name) {
            Some(pool) => Ok(pool.clone()),
            None => match source_url(config, &source.configuration) {
                Some(url) => connect_pool(&url, config.pg_connections)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("the database URL of this source is not set".to_string()),
            },
        };
        let loaded = match pool {
            Ok(pool) => load_catalog(&pool).await.map(|catalog| (pool, catalog)),
            Err(e) => Err(e),
        };
        match loaded {
            Ok((pool, catalog)) => {
                pools.insert(source.name.clone(), pool);
                catalogs.insert(source.name.clone(), catalog);
            }
            Err(reason) => failures.push((source.name.clone(), reason)),
        }
    }
    let output = graft_schema::resolve(&metadata, &catalogs);
    let mut inconsistencies = output.inconsistencies;
    for (source, reason) in failures {
        if let Some(found) = inconsistencies
            .iter_mut()
            .find(|i| i.object == ObjectId::Source(source.clone()))
        {
            found.reason = reason;
        }
    }
    let mut options = schema_options(&output.model, &catalogs, &pools).await;
    options.streaming_subscriptions = config.experimental("streaming_subscriptions");
    options.require_function_permissions = !config.infer_function_permissions;
    options.actions = metadata.actions.clone();
    options.custom_types = metadata.custom_types.clone();
    SchemaCache {
        metadata,
        resource_version,
        catalogs,
        model: output.model,
        inconsistencies,
        pools,
        role_schemas: RoleSchemas::new(options),
    }
}

pub async fn load_catalog(pool: &Pool) -> Result<DbCatalog, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    graft_catalog::load(&client)
        .await
        .map_err(|e| e.to_string())
}

/// A source's URL: a literal, `{"from_env": VAR}`, or `connection_parameters`. The default
/// source's `from_env: HASURA_GRAPHQL_DATABASE_URL` is the URL graft was started with, even when
/// it came from a flag.
pub fn source_url(config: &ServerConfig, configuration: &Value) -> Option<String> {
    let info = configuration.get("connection_info")?;
    match info.get("database_url")? {
        Value::String(url) => Some(url.clone()),
        Value::Object(map) => {
            if let Some(Value::String(var)) = map.get("from_env") {
                return std::env::var(var).ok().or_else(|| {
                    (var == "HASURA_GRAPHQL_DATABASE_URL").then(|| config.database_url.clone())
                });
            }
            let params = map.get("connection_parameters").unwrap_or(&Value::Null);
            let get = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
            let host = get("host")?;
            let port = params
                .get("port")
                .and_then(|p| {
                    p.as_u64()
                        .map(|n| n.to_string())
                        .or(p.as_str().map(str::to_string))
                })
                .unwrap_or_else(|| "5432".to_string());
            let user = get("username").unwrap_or_else(|| "postgres".to_string());
            let password = get("password").map(|p| format!(":{p}")).unwrap_or_default();
            let database = get("database").unwrap_or_else(|| "postgres".to_string());
            Some(format!(
                "postgres://{user}{password}@{host}:{port}/{database}"
            ))
        }
        _ => None,
    }
}
