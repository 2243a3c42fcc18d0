//! Running the catalog query and decoding its one JSON value.

use std::error::Error as StdError;

use thiserror::Error;
use tokio_postgres::types::{FromSql, Type};

use crate::db_catalog::DbCatalog;

/// The SQL text of the catalog query: no parameters, one row, one `json` column.
pub const CATALOG_QUERY: &str = include_str!("catalog.sql");

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("catalog query failed: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("catalog query returned JSON that does not match the catalog types: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Introspects the database `client` is connected to. One statement, so one snapshot: the
/// result is consistent even while DDL runs elsewhere.
pub async fn load(client: &tokio_postgres::Client) -> Result<DbCatalog, CatalogError> {
    let started = std::time::Instant::now();
    let row = client.query_one(CATALOG_QUERY, &[]).await?;
    let json: JsonBytes<'_> = row.try_get(0)?;
    let catalog: DbCatalog = serde_json::from_slice(json.0)?;
    tracing::debug!(
        tables = catalog.tables.len(),
        functions = catalog.functions.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "loaded database catalog"
    );
    Ok(catalog)
}

/// The raw text of a `json` value: decoded by serde straight from the wire buffer, without
/// an intermediate `serde_json::Value`, and with decode errors kept apart from driver errors.
struct JsonBytes<'a>(&'a [u8]);

impl<'a> FromSql<'a> for JsonBytes<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Self(raw))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON
    }
}
