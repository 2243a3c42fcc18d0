//! graft's own state in the metadata database, in Hasura v2's `hdb_catalog` layout, so a
//! database Hasura used works under graft unchanged, and back.
//!
//! The metadata is one JSON document in `hdb_catalog.hdb_metadata` (row id 1) with a
//! `resource_version` that every write bumps; writers check it to refuse lost updates.

use graft_execute::{DbError, Pool};
use graft_metadata::Metadata;
use serde_json::Value;

/// The catalog version Hasura v2.x writes into `hdb_version`; the tables below match it.
pub const CATALOG_VERSION: &str = "48";

/// Idempotent: creates what is missing and leaves existing rows alone. Hasura's own layout,
/// including the tables the event and scheduled-trigger workers will use.
const BOOTSTRAP_SQL: &str = r#"
CREATE SCHEMA IF NOT EXISTS hdb_catalog;
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_version (
  hasura_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version text NOT NULL,
  upgraded_on timestamptz NOT NULL,
  cli_state jsonb NOT NULL DEFAULT '{}'::jsonb,
  console_state jsonb NOT NULL DEFAULT '{}'::jsonb,
  ee_client_id text,
  ee_client_secret text
);
CREATE UNIQUE INDEX IF NOT EXISTS hdb_version_one_row ON hdb_catalog.hdb_version((version IS NOT NULL));
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_metadata (
  id integer PRIMARY KEY,
  metadata json NOT NULL,
  resource_version integer NOT NULL DEFAULT 1 UNIQUE
);
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_schema_notifications (
  id integer PRIMARY KEY CHECK (id = 1),
  notification json NOT NULL,
  resource_version integer NOT NULL DEFAULT 1,
  instance_id uuid NOT NULL,
  updated_at timestamptz DEFAULT now()
);
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_source_catalog_version (
  version text NOT NULL,
  upgraded_on timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS hdb_source_catalog_version_one_row
  ON hdb_catalog.hdb_source_catalog_version((version IS NOT NULL));
"#;

/// Creates or upgrades `hdb_catalog`. Serialized with an advisory lock so several graft
/// instances starting together do not race on `CREATE TABLE`.
pub async fn bootstrap(pool: &Pool) -> Result<(), DbError> {
    let client = pool.get().await?;
    client
        .batch_execute("SELECT pg_advisory_lock(4747001)")
        .await?;
    let result = async {
        client.batch_execute(BOOTSTRAP_SQL).await?;
        client
            .execute(
                "INSERT INTO hdb_catalog.hdb_version (version, upgraded_on) VALUES ($1, now())
                 ON CONFLICT ((version IS NOT NULL)) DO NOTHING",
                &[&CATALOG_VERSION],
            )
            .await
    }
    .await;
    client
        .batch_execute("SELECT pg_advisory_unlock(4747001)")
        .await?;
    result?;
    Ok(())
}

/// The stored metadata and its resource version; `None` when nothing was stored yet.
pub async fn load(pool: &Pool) -> Result<Option<(Value, i32)>, DbError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT metadata::text, resource_version FROM hdb_catalog.hdb_metadata WHERE id = 1",
            &[],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let text: String = row.try_get(0)?;
    let version: i32 = row.try_get(1)?;
    let value = serde_json::from_str(&text)
        .map_err(|e| DbError::connection(format!("stored metadata is not valid JSON: {e}")))?;
    Ok(Some((value, version)))
}

/// Stores the metadata if the stored version is still `expected`; returns the new version,
/// or `None` when another writer got there first.
pub async fn save(pool: &Pool, metadata: &Metadata, expected: i32) -> Result<Option<i32>, DbError> {
    let client = pool.get().await?;
    let text = metadata.to_json().to_string();
    let row = client
        .query_opt(
            "INSERT INTO hdb_catalog.hdb_metadata (id, metadata, resource_version)
             VALUES (1, $1::text::json, 1)
             ON CONFLICT (id) DO UPDATE
               SET metadata = EXCLUDED.metadata,
                   resource_version = hdb_catalog.hdb_metadata.resource_version + 1
               WHERE hdb_catalog.hdb_metadata.resource_version = $2
             RETURNING resource_version",
            &[&text, &expected],
        )
        .await?;
    match row {
        Some(row) => Ok(Some(row.try_get(0)?)),
        None => Ok(None),
    }
}

/// `get_catalog_state`: the CLI's and console's free-form state.
pub async fn catalog_state(pool: &Pool) -> Result<Value, DbError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT json_build_object('id', hasura_uuid::text, 'cli_state', cli_state, 'console_state', console_state)::text FROM hdb_catalog.hdb_version",
            &[],
        )
        .await?;
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text).map_err(|e| DbError::connection(e.to_string()))
}

/// `set_catalog_state`: `kind` is `cli` or `console`.
pub async fn set_catalog_state(pool: &Pool, kind: &str, state: &Value) -> Result<(), DbError> {
    let client = pool.get().await?;
    let sql = match kind {
        "cli" => "UPDATE hdb_catalog.hdb_version SET cli_state = $1::text::jsonb",
        _ => "UPDATE hdb_catalog.hdb_version SET console_state = $1::text::jsonb",
    };
    client.execute(sql, &[&state.to_string()]).await?;
    Ok(())
}
