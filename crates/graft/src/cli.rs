//! Flags and environment variables, with Hasura's names and defaults. Secret values are never
//! shown: `hide_env_values` keeps them out of `--help`, and `ServerConfig`'s Debug redacts them.

use clap::{Args, Parser, Subcommand};
use graft_server::{AuthConfig, LiveConfig, ServerConfig, WebsocketConfig};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "graft",
    version,
    about = "An instant GraphQL API over PostgreSQL, compatible with Hasura GraphQL Engine v2"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the GraphQL server (with an embedded dev database when no database URL is given).
    Serve(Box<ServeArgs>),
    /// Print graft's version.
    Version,
    #[command(flatten)]
    Project(Box<graft_cli::ProjectCommand>),
}

#[derive(Args)]
pub struct ServeArgs {
    /// Postgres database URL of the default source. Without it, graft starts its own dev database.
    #[arg(long, env = "HASURA_GRAPHQL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database that stores graft's metadata (hdb_catalog); defaults to the database URL.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_METADATA_DATABASE_URL",
        hide_env_values = true
    )]
    pub metadata_database_url: Option<String>,
    #[arg(long, env = "HASURA_GRAPHQL_SERVER_PORT", default_value_t = 8080)]
    pub server_port: u16,
    #[arg(long, env = "HASURA_GRAPHQL_SERVER_HOST", default_value = "0.0.0.0")]
    pub server_host: String,
    /// Admin secret: requests must carry it in X-Hasura-Admin-Secret.
    #[arg(long, env = "HASURA_GRAPHQL_ADMIN_SECRET", hide_env_values = true)]
    pub admin_secret: Option<String>,
    /// Several admin secrets, as a JSON list or comma-separated.
    #[arg(long, env = "HASURA_GRAPHQL_ADMIN_SECRETS", hide_env_values = true)]
    pub admin_secrets: Option<String>,
    /// JWT secret (JSON: type and key, or jwk_url, claims settings).
    #[arg(long, env = "HASURA_GRAPHQL_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Authentication webhook URL.
    #[arg(long, env = "HASURA_GRAPHQL_AUTH_HOOK", hide_env_values = true)]
    pub auth_hook: Option<String>,
    /// GET or POST.
    #[arg(long, env = "HASURA_GRAPHQL_AUTH_HOOK_MODE")]
    pub auth_hook_mode: Option<String>,
    /// Role for requests that carry no credentials.
    #[arg(long, env = "HASURA_GRAPHQL_UNAUTHORIZED_ROLE")]
    pub unauthorized_role: Option<String>,
    /// Return bigint, numeric and double precision values as strings.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES",
        default_value_t = false
    )]
    pub stringify_numeric_types: bool,
    /// false: a role may call a query function only with a function permission (mutation
    /// functions always need one).
    #[arg(
        long,
        env = "HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub infer_function_permissions: bool,
    #[arg(long, env = "HASURA_GRAPHQL_ENABLE_CONSOLE", default_value_t = false)]
    pub enable_console: bool,
    #[arg(long, env = "HASURA_GRAPHQL_DEV_MODE", default_value_t = false)]
    pub dev_mode: bool,
    #[arg(long, env = "HASURA_GRAPHQL_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Maximum connections per database pool.
    #[arg(long, env = "HASURA_GRAPHQL_PG_CONNECTIONS", default_value_t = 50)]
    pub pg_connections: usize,
    /// Comma-separated APIs to enable: metadata, graphql, pgdump, config (default: all).
    #[arg(long, env = "HASURA_GRAPHQL_ENABLED_APIS", value_delimiter = ',')]
    pub enabled_apis: Vec<String>,
    /// Accepted for compatibility with Hasura's command line; graft sends no telemetry.
    #[arg(long, env = "HASURA_GRAPHQL_ENABLE_TELEMETRY")]
    pub enable_telemetry: Option<bool>,
    /// Data directory of the embedded dev database.
    #[arg(long, env = "GRAFT_DEV_DATA_DIR", default_value = ".graft/pgdata")]
    pub dev_data_dir: PathBuf,
    /// Port of the embedded dev database (default: a free port).
    #[arg(long, env = "GRAFT_DEV_DATABASE_PORT")]
    pub dev_database_port: Option<u16>,
    #[command(flatten)]
    pub subscriptions: SubscriptionArgs,
}

/// Subscriptions, the WebSocket transport, experimental features.
#[derive(Args)]
pub struct SubscriptionArgs {
    /// Live queries: milliseconds between refetches.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL",
        default_value_t = 1000
    )]
    pub live_queries_multiplexed_refetch_interval: u64,
    /// Live queries: cohorts answered by one SQL statement.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_BATCH_SIZE",
        default_value_t = 100
    )]
    pub live_queries_multiplexed_batch_size: usize,
    /// Streaming subscriptions: milliseconds between refetches.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_STREAMING_QUERIES_MULTIPLEXED_REFETCH_INTERVAL",
        default_value_t = 1000
    )]
    pub streaming_queries_multiplexed_refetch_interval: u64,
    /// Streaming subscriptions: cohorts answered by one SQL statement.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_STREAMING_QUERIES_MULTIPLEXED_BATCH_SIZE",
        default_value_t = 100
    )]
    pub streaming_queries_multiplexed_batch_size: usize,
    /// Seconds between keep-alive messages on WebSocket connections.
    #[arg(long, env = "HASURA_GRAPHQL_WEBSOCKET_KEEPALIVE", default_value_t = 5)]
    pub websocket_keepalive: u64,
    /// Seconds a new WebSocket connection has to send connection_init.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_WEBSOCKET_CONNECTION_INIT_TIMEOUT",
        default_value_t = 3
    )]
    pub websocket_connection_init_timeout: u64,
    /// Most operations one WebSocket connection may run at once (0: no limit).
    #[arg(long, env = "GRAFT_WEBSOCKET_MAX_OPERATIONS", default_value_t = 0)]
    pub websocket_max_operations: usize,
    /// Most open WebSocket connections (0: no limit).
    #[arg(long, env = "GRAFT_WEBSOCKET_MAX_CONNECTIONS", default_value_t = 0)]
    pub websocket_max_connections: usize,
    /// Comma-separated experimental features (streaming_subscriptions, ...).
    #[arg(
        long,
        env = "HASURA_GRAPHQL_EXPERIMENTAL_FEATURES",
        value_delimiter = ','
    )]
    pub experimental_features: Vec<String>,
}

impl SubscriptionArgs {
    fn websocket_config(&self) -> WebsocketConfig {
        use std::time::Duration;
        WebsocketConfig {
            live: LiveConfig {
                refetch_interval: Duration::from_millis(
                    self.live_queries_multiplexed_refetch_interval,
                ),
                batch_size: self.live_queries_multiplexed_batch_size,
            },
            streaming: LiveConfig {
                refetch_interval: Duration::from_millis(
                    self.streaming_queries_multiplexed_refetch_interval,
                ),
                batch_size: self.streaming_queries_multiplexed_batch_size,
            },
            keepalive: Duration::from_secs(self.websocket_keepalive.max(1)),
            init_timeout: Duration::from_secs(self.websocket_connection_init_timeout),
            max_operations_per_connection: self.websocket_max_operations,
            max_connections: self.websocket_max_connections,
        }
    }
}

impl ServeArgs {
    /// The flags win over the environment (clap already merged each flag with its variable);
    /// variables without a flag (`HASURA_GRAPHQL_JWT_SECRETS`, claims settings) are read as is.
    pub fn auth_config(&self) -> Result<AuthConfig, graft_auth::AuthConfigError> {
        let flag = |name: &str| -> Option<Option<String>> {
            match name {
                "HASURA_GRAPHQL_ADMIN_SECRET" => Some(self.admin_secret.clone()),
                "HASURA_GRAPHQL_ADMIN_SECRETS" => Some(self.admin_secrets.clone()),
                "HASURA_GRAPHQL_JWT_SECRET" => Some(self.jwt_secret.clone()),
                "HASURA_GRAPHQL_AUTH_HOOK" => Some(self.auth_hook.clone()),
                "HASURA_GRAPHQL_AUTH_HOOK_MODE" => Some(self.auth_hook_mode.clone()),
                "HASURA_GRAPHQL_UNAUTHORIZED_ROLE" => Some(self.unauthorized_role.clone()),
                _ => None,
            }
        };
        AuthConfig::from_env(&|name| flag(name).unwrap_or_else(|| std::env::var(name).ok()))
    }

    pub fn into_server_config(self, database_url: String, auth: AuthConfig) -> ServerConfig {
        ServerConfig {
            metadata_database_url: self
                .metadata_database_url
                .unwrap_or_else(|| database_url.clone()),
            database_url,
            host: self.server_host,
            port: self.server_port,
            auth,
            stringify_numeric_types: self.stringify_numeric_types,
            infer_function_permissions: self.infer_function_permissions,
            enable_console: self.enable_console,
            dev_mode: self.dev_mode,
            pg_connections: self.pg_connections,
            enabled_apis: self.enabled_apis,
            websocket: self.subscriptions.websocket_config(),
            experimental_features: self
                .subscriptions
                .experimental_features
                .iter()
                .map(|f| f.trim().to_string())
                .collect(),
        }
    }
}
