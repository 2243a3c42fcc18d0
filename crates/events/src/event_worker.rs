//! Delivery of event-trigger events: claim a batch, call the webhooks, record each outcome.
//!
//! Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`, so
//! several graft instances on one database each take different events. A claim is the
//! timestamp in `locked`; the outcome (delivered, retry later, or dead after the last retry) and
//! the invocation log row are written in one statement that also clears the lock. A worker that
//! dies between the two leaves a lock behind, which any worker reclaims after
//! `reclaim_after`: the event is then delivered again (at least once, never lost). The payload's
//! `id` lets a receiver drop such duplicates.

use crate::EventsError;
use crate::config::{SourceEvents, TriggerDelivery, WorkerOptions};
use crate::delivery::{CallOutcome, WebhookCall, next_retry_delay};
use crate::transform::TemplateContext;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

const CLAIM_SQL: &str = r#"
UPDATE hdb_catalog.event_log SET locked = now()
WHERE id IN (
  SELECT l.id FROM hdb_catalog.event_log l
  WHERE l.delivered = 'f' AND l.error = 'f' AND l.archived = 'f'
    AND (l.locked IS NULL OR l.locked < now() - make_interval(secs => $3::float8))
    AND (l.next_retry_at IS NULL OR l.next_retry_at <= now())
    AND l.trigger_name = ANY($1::text[])
  ORDER BY l.locked NULLS FIRST, l.next_retry_at NULLS FIRST, l.created_at
  LIMIT $2::int8
  FOR UPDATE SKIP LOCKED)
RETURNING id, trigger_name, payload::text, tries,
  to_char(created_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
"#;

const RECORD_SQL: &str = r#"
WITH invocation AS (
  INSERT INTO hdb_catalog.event_invocation_logs (event_id, trigger_name, status, request, response)
  VALUES ($1::text, $2::text, $3::int4, $4::text::json, $5::text::json)
)
UPDATE hdb_catalog.event_log
SET tries = tries + 1,
    delivered = $6::bool,
    error = $7::bool,
    next_retry_at = CASE WHEN $8::float8 IS NULL THEN NULL
                         ELSE now() + make_interval(secs => $8::float8) END,
    locked = NULL
WHERE id = $1::text
"#;

/// An event as claimed from the log.
#[derive(Debug)]
pub struct ClaimedEvent {
    pub id: String,
    pub trigger_name: String,
    pub payload: Value,
    pub tries: i32,
    pub created_at: String,
}

/// Claims up to `batch_size` due events of this source's triggers.
pub async fn claim(
    source: &SourceEvents,
    options: &WorkerOptions,
) -> Result<Vec<ClaimedEvent>, EventsError> {
    let names: Vec<&str> = source.triggers.keys().map(String::as_str).collect();
    let client = source.pool.get().await?;
    let rows = client
        .query(
            CLAIM_SQL,
            &[
                &names,
                &options.batch_size,
                &options.reclaim_after.as_secs_f64(),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get(2)?;
            Ok(ClaimedEvent {
                id: row.try_get(0)?,
                trigger_name: row.try_get(1)?,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                tries: row.try_get(3)?,
                created_at: row.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Hasura's webhook body for an event.
pub fn event_body(event: &ClaimedEvent, trigger: &TriggerDelivery) -> Value {
    json!({
        "event": event.payload,
        "created_at": event.created_at,
        "id": event.id,
        "delivery_info": {
            "max_retries": trigger.retry.num_retries,
            "current_retry": event.tries,
        },
        "trigger": {"name": trigger.name},
        "table": {"schema": trigger.table.schema, "name": trigger.table.name},
    })
}

/// The HTTP call for an event, after the trigger's request transform.
pub fn build_call(body: Value, trigger: &TriggerDelivery) -> Result<WebhookCall, String> {
    let timeout = Duration::from_secs(u64::from(trigger.retry.timeout_sec.max(1)));
    let mut call = WebhookCall {
        url: trigger.url.clone(),
        method: reqwest::Method::POST,
        headers: trigger.headers.clone(),
        body: body.to_string().into_bytes(),
        timeout,
        logged_payload: body,
    };
    if let Some(transform) = &trigger.transform {
        let session = call
            .logged_payload
            .pointer("/event/session_variables")
            .cloned()
            .unwrap_or(Value::Null);
        let context = TemplateContext {
            body: &call.logged_payload,
            base_url: &trigger.url,
            session_variables: &session,
        };
        let out = transform
            .apply(&context, &call.headers)
            .map_err(|e| e.to_string())?;
        call.url = out.url;
        call.headers = out.headers;
        if let Some(body) = out.body {
            call.body = body;
        }
        if let Some(method) = out.method {
            call.method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(call)
}

/// Delivers one claimed event and records the outcome.
pub async fn deliver(
    source: &SourceEvents,
    http: &reqwest::Client,
    event: ClaimedEvent,
) -> Result<bool, EventsError> {
    let Some(trigger) = source.triggers.get(&event.trigger_name) else {
        return Ok(false);
    };
    let body = event_body(&event, trigger);
    let (request_log, outcome) = match build_call(body.clone(), trigger) {
        Ok(call) => (call.log_json(), call.send(http).await),
        Err(message) => (
            json!({"payload": body, "headers": [], "version": "2"}),
            CallOutcome::NoAnswer {
                message: format!("request transform failed: {message}"),
            },
        ),
    };
    let delivered = outcome.is_delivered();
    let retry_in = next_retry_delay(
        event.tries,
        trigger.retry.num_retries,
        trigger.retry.interval_sec,
        &outcome,
    );
    let dead = !delivered && retry_in.is_none();
    if !delivered {
        tracing::debug!(event_id = %event.id, trigger = %trigger.name, status = outcome.status(), "webhook call failed");
    }
    let client = source.pool.get().await?;
    client
        .execute(
            RECORD_SQL,
            &[
                &event.id,
                &trigger.name,
                &outcome.status(),
                &request_log.to_string(),
                &outcome.log_json().to_string(),
                &delivered,
                &dead,
                &retry_in,
            ],
        )
        .await?;
    Ok(delivered)
}

/// Claims and delivers one batch; returns how many events were claimed.
pub async fn process_batch(
    source: &SourceEvents,
    options: &WorkerOptions,
    http: &reqwest::Client,
) -> Result<usize, EventsError> {
    if source.triggers.is_empty() {
        return Ok(0);
    }
    let events = claim(source, options).await?;
    let count = events.len();
    let results: Vec<Result<bool, EventsError>> = futures_util::stream::iter(events)
        .map(|event| deliver(source, http, event))
        .buffer_unordered(options.http_concurrency.max(1))
        .collect()
        .await;
    for result in results {
        if let Err(error) = result {
            // The event stays locked and is reclaimed later: delivered again, never lost.
            tracing::warn!(source = %source.source, %error, "could not record an event delivery");
        }
    }
    Ok(count)
}
