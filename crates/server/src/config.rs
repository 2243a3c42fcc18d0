//! The server's settings, already parsed from flags and environment by the binary.

use std::fmt;

#[derive(Clone)]
pub struct ServerConfig {
    pub database_url: String,
    pub metadata_database_url: String,
    pub host: String,
    pub port: u16,
    /// Admin secret(s), JWT, auth webhook, unauthorized role (its Debug redacts secrets).
    pub auth: graft_auth::AuthConfig,
    pub stringify_numeric_types: bool,
    /// `HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS` (true): query functions are open to every
    /// role that may select what they return.
    pub infer_function_permissions: bool,
    pub enable_console: bool,
    pub dev_mode: bool,
    pub pg_connections: usize,
    /// `metadata`, `graphql`, `pgdump`, `config`, ...; empty means all.
    pub enabled_apis: Vec<String>,
    /// Subscriptions and the WebSocket transport.
    pub websocket: WebsocketConfig,
    /// `HASURA_GRAPHQL_EXPERIMENTAL_FEATURES` (e.g. `streaming_subscriptions`).
    pub experimental_features: Vec<String>,
}

/// Settings of the WebSocket transport and of the live-query pollers behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebsocketConfig {
    /// Live queries: refetch interval and cohorts per statement.
    pub live: graft_live::LiveConfig,
    /// Streaming subscriptions: refetch interval and cohorts per statement.
    pub streaming: graft_live::LiveConfig,
    /// `HASURA_GRAPHQL_WEBSOCKET_KEEPALIVE`: how often `ka` is sent (legacy protocol).
    pub keepalive: std::time::Duration,
    /// `HASURA_GRAPHQL_WEBSOCKET_CONNECTION_INIT_TIMEOUT`: a socket without `connection_init`
    /// by then is closed (4408).
    pub init_timeout: std::time::Duration,
    /// Most operations one connection may run at once (0: no limit); beyond it, 4429.
    pub max_operations_per_connection: usize,
    /// Most open WebSocket connections (0: no limit); beyond it, new ones are refused (503).
    pub max_connections: usize,
}

impl Default for WebsocketConfig {
    fn default() -> Self {
        WebsocketConfig {
            live: graft_live::LiveConfig::default(),
            streaming: graft_live::LiveConfig::default(),
            keepalive: std::time::Duration::from_secs(5),
            init_timeout: std::time::Duration::from_secs(3),
            max_operations_per_connection: 0,
            max_connections: 0,
        }
    }
}

impl ServerConfig {
    pub fn experimental(&self, feature: &str) -> bool {
        self.experimental_features.iter().any(|f| f == feature)
    }

    pub fn api_enabled(&self, api: &str) -> bool {
        self.enabled_apis.is_empty() || self.enabled_apis.iter().any(|a| a == api)
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("auth", &self.auth)
            .field("stringify_numeric_types", &self.stringify_numeric_types)
            .field("pg_connections", &self.pg_connections)
            .finish_non_exhaustive()
    }
}
