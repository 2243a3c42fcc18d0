//! Running the catalog query and decoding its one JSON value.

use thiserror::Error;
use tokio_postgres::SimpleQueryMessage;

use crate::db_catalog::DbCatalog;

/// The SQL text of the catalog query: no parameters, one row, one `json` column.
pub const CATALOG_QUERY: &str = include_str!("catalog.sql");

/// Sent ahead of the query in the same implicit transaction. The planner's row guesses for
/// the catalog CTEs are loose, and past roughly 250 tables their cost crosses
/// `jit_above_cost`: JIT compilation then takes seconds for a query that runs in
/// milliseconds. `SET LOCAL` ends with the implicit transaction, or, if the caller has a
/// transaction open on this client, with that transaction (JIT off is harmless there).
const BEFORE_QUERY: &str = "SET LOCAL jit = off;\n";

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("catalog query failed: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("catalog query returned no row")]
    NoRow,
    #[error("catalog query returned JSON that does not match the catalog types: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Introspects the database `client` is connected to. One statement, so one snapshot: the
/// result is consistent even while DDL runs elsewhere.
pub async fn load(client: &tokio_postgres::Client) -> Result<DbCatalog, CatalogError> {
    let started = std::time::Instant::now();
    // The simple protocol, because only it runs two statements in one round trip and one
    // implicit transaction; the result arrives as the JSON text serde wants anyway.
    let messages = client
        .simple_query(&format!("{BEFORE_QUERY}{CATALOG_QUERY}"))
        .await?;
    let json = messages
        .iter()
        .find_map(|message| match message {
            SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        })
        .ok_or(CatalogError::NoRow)?;
    let catalog: DbCatalog = serde_json::from_str(json)?;
    tracing::debug!(
        tables = catalog.tables.len(),
        functions = catalog.functions.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "loaded database catalog"
    );
    Ok(catalog)
}
