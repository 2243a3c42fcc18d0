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
    pub enable_console: bool,
    pub dev_mode: bool,
    pub pg_connections: usize,
    /// `metadata`, `graphql`, `pgdump`, `config`, ...; empty means all.
    pub enabled_apis: Vec<String>,
}

impl ServerConfig {
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
