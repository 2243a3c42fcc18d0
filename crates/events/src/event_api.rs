//! The storage side of the event-trigger commands: manual invocation, redelivery, archiving a
//! dropped trigger's events, and reading the logs back (`get_event_logs` and friends). Every
//! listing is built as JSON by Postgres.

use crate::EventsError;
use serde_json::Value;
use tokio_postgres::GenericClient;

/// `invoke_event_trigger`: a `MANUAL` event with `data.new` = the payload and the invoker's
/// session variables (`session_json`, as `hasura.user` holds them); returns its id.
pub async fn invoke_manual<C: GenericClient + Sync>(
    client: &C,
    schema: &str,
    table: &str,
    trigger: &str,
    payload: &Value,
    session_json: &str,
) -> Result<String, EventsError> {
    // The setting is transaction-local and the statement is its own transaction; the FROM
    // item is evaluated before the select list, so insert_event_log reads it.
    let row = client
        .query_one(
            "SELECT hdb_catalog.insert_event_log($1::text, $2::text, $3::text, 'MANUAL', \
               json_build_object('old', NULL, 'new', $4::text::json)) \
             FROM (SELECT set_config('hasura.user', $5::text, true)) AS session",
            &[
                &schema,
                &table,
                &trigger,
                &payload.to_string(),
                &session_json,
            ],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Where an event stands, for `redeliver_event`.
pub enum RedeliverOutcome {
    Queued,
    NotFound,
    /// A worker holds the event right now.
    Locked,
}

/// `redeliver_event`: the event is due again with a fresh retry budget.
pub async fn redeliver<C: GenericClient + Sync>(
    client: &C,
    event_id: &str,
    reclaim_after_secs: f64,
) -> Result<RedeliverOutcome, EventsError> {
    let row = client
        .query_opt(
            "SELECT locked IS NOT NULL AND locked >= now() - make_interval(secs => $2::float8) \
             FROM hdb_catalog.event_log WHERE id = $1::text",
            &[&event_id, &reclaim_after_secs],
        )
        .await?;
    let Some(row) = row else {
        return Ok(RedeliverOutcome::NotFound);
    };
    if row.try_get::<_, bool>(0)? {
        return Ok(RedeliverOutcome::Locked);
    }
    client
        .execute(
            "UPDATE hdb_catalog.event_log SET delivered = 'f', error = 'f', tries = 0, \
               archived = 'f', locked = NULL, next_retry_at = NULL WHERE id = $1::text",
            &[&event_id],
        )
        .await?;
    Ok(RedeliverOutcome::Queued)
}

/// A dropped trigger's pending events are archived, not deleted, as Hasura does.
pub async fn archive_events<C: GenericClient + Sync>(
    client: &C,
    trigger: &str,
) -> Result<(), EventsError> {
    client
        .execute(
            "UPDATE hdb_catalog.event_log SET archived = 't' WHERE trigger_name = $1::text",
            &[&trigger],
        )
        .await?;
    Ok(())
}

const EVENT_COLUMNS: &str = "id, schema_name, table_name, trigger_name, payload, delivered, \
    error, tries, created_at, locked, next_retry_at, archived";

async fn json_query<C: GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Value, EventsError> {
    let row = client.query_one(sql, params).await?;
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text).map_err(|e| EventsError::InvalidWebhook(e.to_string()))
}

/// `get_event_logs`: `status` is `pending`, `processed` or `all`.
pub async fn event_logs<C: GenericClient + Sync>(
    client: &C,
    trigger: &str,
    status: &str,
    limit: i64,
    offset: i64,
) -> Result<Value, EventsError> {
    let sql = format!(
        "SELECT coalesce(json_agg(row_to_json(e) ORDER BY e.created_at DESC), '[]')::text FROM ( \
           SELECT {EVENT_COLUMNS} FROM hdb_catalog.event_log \
           WHERE trigger_name = $1::text AND ( \
             $2::text = 'all' \
             OR ($2::text = 'pending' AND NOT delivered AND NOT error AND NOT archived) \
             OR ($2::text = 'processed' AND (delivered OR error))) \
           ORDER BY created_at DESC LIMIT $3::int8 OFFSET $4::int8) e"
    );
    json_query(client, &sql, &[&trigger, &status, &limit, &offset]).await
}

/// `get_event_invocation_logs` of one trigger.
pub async fn invocation_logs<C: GenericClient + Sync>(
    client: &C,
    trigger: &str,
    limit: i64,
    offset: i64,
) -> Result<Value, EventsError> {
    json_query(
        client,
        "SELECT coalesce(json_agg(row_to_json(i) ORDER BY i.created_at DESC), '[]')::text FROM ( \
           SELECT id, trigger_name, event_id, status, request, response, created_at \
           FROM hdb_catalog.event_invocation_logs WHERE trigger_name = $1::text \
           ORDER BY created_at DESC LIMIT $2::int8 OFFSET $3::int8) i",
        &[&trigger, &limit, &offset],
    )
    .await
}

/// `get_event_by_id`: `{"event": ..., "invocations": [...]}`, or `None`.
pub async fn event_by_id<C: GenericClient + Sync>(
    client: &C,
    event_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Option<Value>, EventsError> {
    let sql = format!(
        "SELECT json_build_object( \
           'event', (SELECT row_to_json(e) FROM (SELECT {EVENT_COLUMNS} FROM hdb_catalog.event_log \
                     WHERE id = $1::text) e), \
           'invocations', (SELECT coalesce(json_agg(row_to_json(i) ORDER BY i.created_at DESC), '[]') \
             FROM (SELECT id, trigger_name, event_id, status, request, response, created_at \
                   FROM hdb_catalog.event_invocation_logs WHERE event_id = $1::text \
                   ORDER BY created_at DESC LIMIT $2::int8 OFFSET $3::int8) i))::text"
    );
    let value = json_query(client, &sql, &[&event_id, &limit, &offset]).await?;
    Ok(if value.get("event").is_none_or(Value::is_null) {
        None
    } else {
        Some(value)
    })
}
