//! Flags and environment variables, with Hasura's names and defaults. Secret values are never
//! shown: `hide_env_values` keeps them out of `--help`, and `ServerConfig`'s Debug redacts them.

use clap::{Args, Parser, Subcommand};
use graft_server::{AdminSecrets, ServerConfig};
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
}

impl ServeArgs {
    pub fn into_server_config(self, database_url: String) -> ServerConfig {
        let mut secrets: Vec<String> = self.admin_secret.into_iter().collect();
        if let Some(list) = self.admin_secrets {
            match serde_json::from_str::<Vec<String>>(&list) {
                Ok(parsed) => secrets.extend(parsed),
                Err(_) => secrets.extend(list.split(',').map(|s| s.trim().to_string())),
            }
        }
        ServerConfig {
            metadata_database_url: self
                .metadata_database_url
                .unwrap_or_else(|| database_url.clone()),
            database_url,
            host: self.server_host,
            port: self.server_port,
            admin_secrets: AdminSecrets::new(secrets),
            unauthorized_role: self.unauthorized_role,
            stringify_numeric_types: self.stringify_numeric_types,
            enable_console: self.enable_console,
            dev_mode: self.dev_mode,
            pg_connections: self.pg_connections,
            enabled_apis: self.enabled_apis,
        }
    }
}
