//! The storage side of the scheduled-trigger commands: one-off events created, deleted and
//! listed, and a cron trigger's pending occurrences removed when the trigger goes.

use crate::EventsError;
use graft_execute::Pool;
use serde_json::Value;

/// `create_scheduled_event`: stores the event; returns its id. `schedule_at` is an ISO 8601
/// timestamp, checked by Postgres.
pub async fn create_one_off(
    pool: &Pool,
    webhook_conf: &Value,
    schedule_at: &str,
    payload: &Value,
    header_conf: &Value,
    retry_conf: &Value,
    comment: Option<&str>,
) -> Result<String, EventsError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "INSERT INTO hdb_catalog.hdb_scheduled_events \
               (webhook_conf, scheduled_time, payload, header_conf, retry_conf, comment) \
             VALUES ($1::text::json, $2::text::timestamptz, $3::text::json, $4::text::json, \
                     $5::text::json, $6::text) RETURNING id",
            &[
                &webhook_conf.to_string(),
                &schedule_at,
                &payload.to_string(),
                &header_conf.to_string(),
                &retry_conf.to_string(),
                &comment,
            ],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Whether events are cron occurrences or one-off events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledKind {
    Cron,
    OneOff,
}

impl ScheduledKind {
    fn table(self) -> &'static str {
        match self {
            ScheduledKind::Cron => "hdb_cron_events",
            ScheduledKind::OneOff => "hdb_scheduled_events",
        }
    }
}

/// `delete_scheduled_event`: false when no such event exists.
pub async fn delete_event(pool: &Pool, kind: ScheduledKind, id: &str) -> Result<bool, EventsError> {
    let client = pool.get().await?;
    let deleted = client
        .execute(
            &format!("DELETE FROM hdb_catalog.{} WHERE id = $1", kind.table()),
            &[&id],
        )
        .await?;
    Ok(deleted > 0)
}

/// `get_scheduled_events`: events (newest scheduled first), optionally of one cron trigger and
/// with one status, as a JSON array built by Postgres.
pub async fn list_events(
    pool: &Pool,
    kind: ScheduledKind,
    trigger_name: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Value, EventsError> {
    let client = pool.get().await?;
    let trigger_filter = match kind {
        ScheduledKind::Cron => "($1::text IS NULL OR e.trigger_name = $1::text)",
        ScheduledKind::OneOff => "($1::text IS NULL OR true)",
    };
    let sql = format!(
        "SELECT coalesce(json_agg(row_to_json(e) ORDER BY e.scheduled_time DESC), '[]')::text \
         FROM (SELECT * FROM hdb_catalog.{table} e WHERE {trigger_filter} \
               AND ($2::text IS NULL OR e.status = $2::text) \
               ORDER BY e.scheduled_time DESC LIMIT $3::int8 OFFSET $4::int8) e",
        table = kind.table()
    );
    let row = client
        .query_one(&sql, &[&trigger_name, &status, &limit, &offset])
        .await?;
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text).map_err(|e| EventsError::InvalidWebhook(e.to_string()))
}

/// Removes a cron trigger's occurrences that were not delivered yet.
pub async fn delete_pending_cron_events(
    pool: &Pool,
    trigger_name: &str,
) -> Result<(), EventsError> {
    let client = pool.get().await?;
    client
        .execute(
            "DELETE FROM hdb_catalog.hdb_cron_events WHERE trigger_name = $1 AND status = 'scheduled'",
            &[&trigger_name],
        )
        .await?;
    Ok(())
}
