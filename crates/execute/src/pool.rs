//! Connection pools (deadpool-postgres), one per database.

use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod, Runtime};
use std::str::FromStr;
use tokio_postgres::NoTls;

pub type Pool = deadpool_postgres::Pool;

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The URL is not shown: it may hold a password.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("could not create the connection pool: {0}")]
    Build(String),
    #[error("could not connect to the database: {0}")]
    Connect(String),
}

/// Builds a pool and checks that one connection can be made.
pub async fn connect_pool(url: &str, max_size: usize) -> Result<Pool, PoolError> {
    let config = tokio_postgres::Config::from_str(url)
        .map_err(|e| PoolError::InvalidUrl(redact(&e.to_string(), url)))?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(max_size.max(1))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| PoolError::Build(e.to_string()))?;
    let client = pool
        .get()
        .await
        .map_err(|e| PoolError::Connect(redact(&e.to_string(), url)))?;
    drop(client);
    Ok(pool)
}

/// Errors from the driver may echo the URL; never let it reach a log.
fn redact(message: &str, url: &str) -> String {
    message.replace(url, "<database url>")
}
