//! The server's settings, already parsed from flags and environment by the binary.

use std::fmt;

#[derive(Clone)]
pub struct ServerConfig {
    pub database_url: String,
    pub metadata_database_url: String,
    pub host: String,
    pub port: u16,
    pub admin_secrets: AdminSecrets,
    pub unauthorized_role: Option<String>,
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

/// Admin secrets; never printed (Debug shows only how many there are).
#[derive(Clone, Default)]
pub struct AdminSecrets(Vec<String>);

impl AdminSecrets {
    pub fn new(secrets: Vec<String>) -> Self {
        AdminSecrets(secrets.into_iter().filter(|s| !s.is_empty()).collect())
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// Constant-time per secret, so response timing does not reveal a matching prefix.
    pub fn matches(&self, candidate: &str) -> bool {
        self.0
            .iter()
            .any(|secret| constant_time_eq(secret.as_bytes(), candidate.as_bytes()))
    }
}

impl fmt::Debug for AdminSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminSecrets({} set)", self.0.len())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("admin_secrets", &self.admin_secrets)
            .field("unauthorized_role", &self.unauthorized_role)
            .field("stringify_numeric_types", &self.stringify_numeric_types)
            .field("pg_connections", &self.pg_connections)
            .finish_non_exhaustive()
    }
}
