//! Delivery of event-trigger events: claim a batch, call the webhooks, record the outcomes.
//!
//! Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`, so
//! several graft instances on one database each take different events. A claim is the
//! timestamp in `locked`; the outcomes (delivered, retry later, or dead after the last retry) and
//! the invocation log rows are written by one statement that also clears the locks. A worker
//! that dies between the two leaves a lock behind, which any worker reclaims after
//! `reclaim_after`: the event is then delivered again (at least once, never lost). The payload's
//! `id` lets a receiver drop such duplicates.
//!
//! Recording is grouped: the calls of a batch run concurrently, and each finished call goes to
//! a recorder that writes whatever has finished since its last write in one statement (up to
//! [`RECORD_GROUP`] at a time). A slow webhook therefore never holds back the record of a fast
//! one, and a burst of fast calls costs one round trip instead of one per event. Both
//! statements are prepared once per connection. Per-event statements were the bottleneck:
//! PostgreSQL parsed and planned one `UPDATE` per delivered event.

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
WITH outcome AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::bool[],
                       $7::bool[], $8::float8[])
    AS o(id, trigger_name, status, request, response, delivered, dead, retry_in)
), invocation AS (
  INSERT INTO hdb_catalog.event_invocation_logs (event_id, trigger_name, status, request, response)
  SELECT id, trigger_name, status, request::json, response::json FROM outcome
)
UPDATE hdb_catalog.event_log l
SET tries = l.tries + 1,
    delivered = o.delivered,
    error = o.dead,
    next_retry_at = CASE WHEN o.retry_in IS NULL THEN NULL
                         ELSE now() + make_interval(secs => o.retry_in) END,
    locked = NULL
FROM outcome o
WHERE l.id = o.id
"#;

/// At most this many outcomes are written by one statement.
pub const RECORD_GROUP: usize = 500;

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
    let statement = client.prepare_cached(CLAIM_SQL).await?;
    let rows = client
        .query(
            &statement,
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

/// A finished call, waiting to be recorded.
#[derive(Debug)]
pub struct DeliveryOutcome {
    pub event_id: String,
    pub trigger_name: String,
    pub status: i32,
    pub request: String,
    pub response: String,
    pub delivered: bool,
    /// No retry is left: the event is marked `error`.
    pub dead: bool,
    /// Seconds until the next try.
    pub retry_in: Option<f64>,
}

/// Calls the webhook for one claimed event; `None` for an event of a trigger this worker does
/// not deliver (it stays claimed and is reclaimed later, perhaps by an instance that does).
pub async fn deliver(
    source: &SourceEvents,
    http: &reqwest::Client,
    event: ClaimedEvent,
) -> Option<DeliveryOutcome> {
    let trigger = source.triggers.get(&event.trigger_name)?;
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
    if !delivered {
        tracing::debug!(event_id = %event.id, trigger = %trigger.name, status = outcome.status(), "webhook call failed");
    }
    Some(DeliveryOutcome {
        event_id: event.id,
        trigger_name: trigger.name.clone(),
        status: outcome.status(),
        request: request_log.to_string(),
        response: outcome.log_json().to_string(),
        delivered,
        dead: !delivered && retry_in.is_none(),
        retry_in,
    })
}

/// Writes a group of outcomes (invocation logs and event states) in one statement.
pub async fn record(
    source: &SourceEvents,
    outcomes: &[DeliveryOutcome],
) -> Result<(), EventsError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&DeliveryOutcome) -> &String| -> Vec<&str> {
        outcomes.iter().map(|o| f(o).as_str()).collect()
    };
    let ids = column(|o| &o.event_id);
    let triggers = column(|o| &o.trigger_name);
    let requests = column(|o| &o.request);
    let responses = column(|o| &o.response);
    let statuses: Vec<i32> = outcomes.iter().map(|o| o.status).collect();
    let delivered: Vec<bool> = outcomes.iter().map(|o| o.delivered).collect();
    let dead: Vec<bool> = outcomes.iter().map(|o| o.dead).collect();
    let retry_in: Vec<Option<f64>> = outcomes.iter().map(|o| o.retry_in).collect();
    let client = source.pool.get().await?;
    let statement = client.prepare_cached(RECORD_SQL).await?;
    client
        .execute(
            &statement,
            &[
                &ids, &triggers, &statuses, &requests, &responses, &delivered, &dead, &retry_in,
            ],
        )
        .await?;
    Ok(())
}

/// Claims and delivers one batch, recording outcomes in groups as calls finish; returns how
/// many events were claimed. Returns once every call of the batch is recorded (or its record
/// failed: those events stay locked and are reclaimed later, delivered again, never lost).
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
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let calls = async move {
        futures_util::stream::iter(events)
            .map(|event| deliver(source, http, event))
            .buffer_unordered(options.http_concurrency.max(1))
            .for_each(|outcome| {
                if let Some(outcome) = outcome {
                    // The receiver lives until this stream ends and the sender drops.
                    let _ = sender.send(outcome);
                }
                std::future::ready(())
            })
            .await;
    };
    let records = async {
        let mut group = Vec::with_capacity(RECORD_GROUP);
        while receiver.recv_many(&mut group, RECORD_GROUP).await > 0 {
            if let Err(error) = record(source, &group).await {
                tracing::warn!(source = %source.source, %error, events = group.len(), "could not record event deliveries");
            }
            group.clear();
        }
    };
    tokio::join!(calls, records);
    Ok(count)
}
