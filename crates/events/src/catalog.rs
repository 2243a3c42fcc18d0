//! The durable event log in a source database, in Hasura v2's layout: `hdb_catalog.event_log`
//! (one row per captured change or manual invocation) and `hdb_catalog.event_invocation_logs`
//! (one row per webhook call), plus `insert_event_log`, the function every capture trigger calls.
//!
//! The layout is Hasura's so that a database moves between Hasura and graft with its pending
//! events. `locked` is a timestamp, not a flag: a lock older than the reclaim age belongs to a
//! worker that died, and another worker may take the event again.

use crate::EventsError;
use tokio_postgres::GenericClient;

/// Idempotent. Serialized by an advisory lock: several graft instances may start together.
const INSTALL_SQL: &str = r#"
CREATE SCHEMA IF NOT EXISTS hdb_catalog;
CREATE OR REPLACE FUNCTION hdb_catalog.gen_hasura_uuid() RETURNS uuid
  LANGUAGE sql AS 'SELECT gen_random_uuid()';
CREATE TABLE IF NOT EXISTS hdb_catalog.event_log (
  id TEXT DEFAULT hdb_catalog.gen_hasura_uuid() PRIMARY KEY,
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  trigger_name TEXT NOT NULL,
  payload JSONB NOT NULL,
  delivered BOOLEAN NOT NULL DEFAULT FALSE,
  error BOOLEAN NOT NULL DEFAULT FALSE,
  tries INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMP DEFAULT NOW(),
  locked TIMESTAMPTZ,
  next_retry_at TIMESTAMP,
  archived BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS event_log_fetch_events
  ON hdb_catalog.event_log (locked NULLS FIRST, next_retry_at NULLS FIRST, created_at)
  WHERE delivered = 'f' AND error = 'f' AND archived = 'f';
CREATE INDEX IF NOT EXISTS event_log_trigger_name ON hdb_catalog.event_log (trigger_name);
CREATE TABLE IF NOT EXISTS hdb_catalog.event_invocation_logs (
  id TEXT DEFAULT hdb_catalog.gen_hasura_uuid() PRIMARY KEY,
  trigger_name TEXT,
  event_id TEXT,
  status INTEGER,
  request JSON,
  response JSON,
  created_at TIMESTAMP DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS event_invocation_logs_event_id
  ON hdb_catalog.event_invocation_logs (event_id);
CREATE OR REPLACE FUNCTION hdb_catalog.insert_event_log(
  schema_name text, table_name text, trigger_name text, op text, row_data json)
RETURNS text LANGUAGE plpgsql AS $$
  DECLARE
    id text;
    payload json;
    session_variables json;
    trace_context json;
  BEGIN
    id := gen_random_uuid();
    -- after a transaction-local set_config the setting reads as '' rather than NULL
    session_variables := NULLIF(current_setting('hasura.user', 't'), '');
    trace_context := NULLIF(current_setting('hasura.tracecontext', 't'), '');
    payload := json_build_object(
      'op', op,
      'data', row_data,
      'session_variables', session_variables,
      'trace_context', trace_context
    );
    INSERT INTO hdb_catalog.event_log (id, schema_name, table_name, trigger_name, payload)
    VALUES (id, schema_name, table_name, trigger_name, payload);
    RETURN id;
  END;
$$;
"#;

/// Removes every capture trigger on any table first (they call `insert_event_log`), then the
/// functions and the two tables. Used when the source leaves the metadata (`clear_metadata`,
/// `drop_source`), as Hasura drops a source's event catalog then.
const REMOVE_SQL: &str = r#"
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT tg.tgname, tg.tgrelid::regclass AS rel
    FROM pg_trigger tg
    JOIN pg_proc p ON p.oid = tg.tgfoid
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'hdb_catalog' AND p.proname LIKE 'notify\_hasura\_%' AND NOT tg.tgisinternal
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, t.rel);
  END LOOP;
  FOR t IN
    SELECT p.oid::regprocedure AS fn
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'hdb_catalog' AND p.proname LIKE 'notify\_hasura\_%'
  LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s', t.fn);
  END LOOP;
END $$;
DROP FUNCTION IF EXISTS hdb_catalog.insert_event_log(text, text, text, text, json);
DROP TABLE IF EXISTS hdb_catalog.event_invocation_logs;
DROP TABLE IF EXISTS hdb_catalog.event_log;
"#;

const INSTALL_LOCK: i64 = 4_747_002;

/// Creates the event log tables and `insert_event_log` in a source database if missing.
pub async fn install_event_log<C: GenericClient + Sync>(client: &C) -> Result<(), EventsError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&INSTALL_LOCK])
        .await?;
    let result = client.batch_execute(INSTALL_SQL).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&INSTALL_LOCK])
        .await?;
    result?;
    Ok(())
}

/// Drops every capture trigger and the event log of a source database.
pub async fn remove_event_log<C: GenericClient + Sync>(client: &C) -> Result<(), EventsError> {
    client.batch_execute(REMOVE_SQL).await?;
    Ok(())
}

/// Whether the source database has an event log (it may have been dropped by hand).
pub async fn has_event_log<C: GenericClient + Sync>(client: &C) -> Result<bool, EventsError> {
    let row = client
        .query_one(
            "SELECT to_regclass('hdb_catalog.event_log') IS NOT NULL",
            &[],
        )
        .await?;
    Ok(row.try_get(0)?)
}
