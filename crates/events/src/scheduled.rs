//! Scheduled triggers: cron triggers (from metadata) and one-off scheduled events (created by
//! `create_scheduled_event`), in Hasura's tables of the metadata database
//! (`hdb_catalog.hdb_cron_events`, `hdb_scheduled_events` and their invocation logs).
//!
//! Cron occurrences are written ahead as rows (up to an hour ahead), starting from the last
//! one written or, after downtime, from `now() - tolerance_seconds`: missed runs inside the
//! tolerance are still delivered late, older ones are not created. A due event older than its
//! tolerance is marked `dead` instead of being sent. Claiming sets `status = 'locked'` and uses
//! `next_retry_at` as the lock's expiry, so a crashed worker's events are claimed again once it
//! passes (at least once; no column is added to Hasura's layout).

use crate::EventsError;
use crate::config::WorkerOptions;
use crate::cron::CronSchedule;
use crate::delivery::{CallOutcome, WebhookCall, next_retry_delay};
use crate::webhook::{resolve_headers, resolve_url};
use futures_util::StreamExt;
use graft_execute::Pool;
use graft_metadata::{CronTrigger, HeaderConf, ScheduledRetryConf};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::GenericClient;

const INSTALL_SQL: &str = r#"
CREATE SCHEMA IF NOT EXISTS hdb_catalog;
CREATE OR REPLACE FUNCTION hdb_catalog.gen_hasura_uuid() RETURNS uuid
  LANGUAGE sql AS 'SELECT gen_random_uuid()';
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_cron_events (
  id TEXT DEFAULT hdb_catalog.gen_hasura_uuid() PRIMARY KEY,
  trigger_name TEXT NOT NULL,
  scheduled_time TIMESTAMPTZ NOT NULL,
  status TEXT NOT NULL DEFAULT 'scheduled',
  tries INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  next_retry_at TIMESTAMPTZ,
  CONSTRAINT valid_status CHECK (status IN ('scheduled','locked','delivered','error','dead'))
);
CREATE UNIQUE INDEX IF NOT EXISTS hdb_cron_events_unique_scheduled
  ON hdb_catalog.hdb_cron_events (trigger_name, scheduled_time) WHERE status = 'scheduled';
CREATE INDEX IF NOT EXISTS hdb_cron_event_status ON hdb_catalog.hdb_cron_events (status);
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_cron_event_invocation_logs (
  id TEXT DEFAULT hdb_catalog.gen_hasura_uuid() PRIMARY KEY,
  event_id TEXT,
  status INTEGER,
  request JSON,
  response JSON,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  FOREIGN KEY (event_id) REFERENCES hdb_catalog.hdb_cron_events (id)
    ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_scheduled_events (
  id TEXT DEFAULT hdb_catalog.gen_hasura_uuid() PRIMARY KEY,
  webhook_conf JSON NOT NULL,
  scheduled_time TIMESTAMPTZ NOT NULL,
  retry_conf JSON,
  payload JSON,
  header_conf JSON,
  status TEXT NOT NULL DEFAULT 'scheduled',
  tries INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  next_retry_at TIMESTAMPTZ,
  comment TEXT,
  CONSTRAINT valid_status CHECK (status IN ('scheduled','locked','delivered','error','dead'))
);
CREATE INDEX IF NOT EXISTS hdb_scheduled_event_status ON hdb_catalog.hdb_scheduled_events (status);
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_scheduled_event_invocation_logs (
  id TEXT DEFAULT hdb_catalog.gen_hasura_uuid() PRIMARY KEY,
  event_id TEXT,
  status INTEGER,
  request JSON,
  response JSON,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  FOREIGN KEY (event_id) REFERENCES hdb_catalog.hdb_scheduled_events (id)
    ON DELETE CASCADE ON UPDATE CASCADE
);
"#;

/// Creates the scheduled-event tables in the metadata database if missing.
pub async fn install_scheduled_catalog<C: GenericClient + Sync>(
    client: &C,
) -> Result<(), EventsError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&4_747_003_i64])
        .await?;
    let result = client.batch_execute(INSTALL_SQL).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&4_747_003_i64])
        .await?;
    result?;
    Ok(())
}

/// A cron trigger, ready to deliver.
#[derive(Debug, Clone)]
pub struct CronDelivery {
    pub name: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub retry: ScheduledRetryConf,
    pub payload: Option<Value>,
    pub comment: Option<String>,
    pub schedule: CronSchedule,
}

impl CronDelivery {
    pub fn resolve(trigger: &CronTrigger) -> Result<CronDelivery, EventsError> {
        Ok(CronDelivery {
            name: trigger.name.clone(),
            url: resolve_url(Some(&trigger.webhook), None)?,
            headers: resolve_headers(&trigger.headers)?,
            retry: trigger.retry_conf.clone().unwrap_or_default(),
            payload: trigger.payload.clone(),
            comment: trigger.comment.clone(),
            schedule: CronSchedule::parse(&trigger.schedule)?,
        })
    }
}

/// The metadata database and the cron triggers to schedule.
#[derive(Clone)]
pub struct ScheduledConfig {
    pub pool: Pool,
    pub cron: HashMap<String, Arc<CronDelivery>>,
}

/// Writes the cron occurrences not yet written, from the last one (or the tolerance window)
/// up to an hour ahead.
const GENERATE_SQL: &str = r#"
WITH bounds AS (
  SELECT greatest(
           coalesce((SELECT max(scheduled_time) FROM hdb_catalog.hdb_cron_events WHERE trigger_name = $1::text), now()),
           now() - make_interval(secs => $8::float8)) AS from_time
)
INSERT INTO hdb_catalog.hdb_cron_events (trigger_name, scheduled_time)
SELECT $1::text, ts
FROM bounds,
     generate_series(date_trunc('minute', bounds.from_time) + interval '1 minute',
                     now() + interval '1 hour', interval '1 minute') AS ts
WHERE extract(minute FROM ts AT TIME ZONE 'UTC')::int = ANY($2::int4[])
  AND extract(hour FROM ts AT TIME ZONE 'UTC')::int = ANY($3::int4[])
  AND extract(month FROM ts AT TIME ZONE 'UTC')::int = ANY($5::int4[])
  AND CASE WHEN $7::bool
        THEN extract(day FROM ts AT TIME ZONE 'UTC')::int = ANY($4::int4[])
             AND extract(dow FROM ts AT TIME ZONE 'UTC')::int = ANY($6::int4[])
        ELSE extract(day FROM ts AT TIME ZONE 'UTC')::int = ANY($4::int4[])
             OR extract(dow FROM ts AT TIME ZONE 'UTC')::int = ANY($6::int4[])
      END
ON CONFLICT DO NOTHING
"#;

/// Claims due events of one table; `next_retry_at` becomes the lock's expiry.
fn claim_sql(table: &str, extra_filter: &str) -> String {
    format!(
        "UPDATE hdb_catalog.{table} SET status = 'locked', \
           next_retry_at = now() + make_interval(secs => $2::float8) \
         WHERE id IN ( \
           SELECT e.id FROM hdb_catalog.{table} e \
           WHERE ((e.status = 'scheduled' AND e.scheduled_time <= now() \
                   AND (e.next_retry_at IS NULL OR e.next_retry_at <= now())) \
               OR (e.status = 'locked' AND e.next_retry_at < now())) {extra_filter} \
           ORDER BY e.scheduled_time LIMIT $1::int8 FOR UPDATE SKIP LOCKED) \
         RETURNING id, tries, scheduled_time, \
           to_char(scheduled_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
           extract(epoch FROM now() - scheduled_time)::float8"
    )
}

fn record_sql(table: &str, log_table: &str) -> String {
    format!(
        "WITH invocation AS ( \
           INSERT INTO hdb_catalog.{log_table} (event_id, status, request, response) \
           VALUES ($1::text, $2::int4, $3::text::json, $4::text::json)) \
         UPDATE hdb_catalog.{table} SET tries = tries + 1, status = $5::text, \
           next_retry_at = CASE WHEN $6::float8 IS NULL THEN NULL \
                                ELSE now() + make_interval(secs => $6::float8) END \
         WHERE id = $1::text"
    )
}

/// When the next pending cron or one-off event falls due (its time, its retry, or its lock's
/// expiry), in seconds from now; NULL when nothing is pending.
const NEXT_DUE_SQL: &str = r#"
SELECT extract(epoch FROM min(due) - now())::float8 FROM (
  SELECT CASE WHEN status = 'locked' THEN next_retry_at
              ELSE greatest(scheduled_time, coalesce(next_retry_at, scheduled_time)) END AS due
  FROM hdb_catalog.hdb_scheduled_events WHERE status IN ('scheduled', 'locked')
  UNION ALL
  SELECT CASE WHEN status = 'locked' THEN next_retry_at
              ELSE greatest(scheduled_time, coalesce(next_retry_at, scheduled_time)) END
  FROM hdb_catalog.hdb_cron_events
  WHERE status IN ('scheduled', 'locked') AND trigger_name = ANY($1::text[])
) pending
"#;

/// What a pass did.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    /// Events claimed (and delivered).
    pub claimed: usize,
    /// Seconds until the next pending event is due, when fewer than a batch were claimed
    /// (`None`: nothing pending, or a full batch was claimed and the worker goes on at once).
    pub next_due: Option<f64>,
}

/// One pass: write cron occurrences, then deliver due cron and one-off events. `config_changed`
/// also drops the pending occurrences of cron triggers no longer in the metadata.
pub async fn tick(
    config: &ScheduledConfig,
    options: &WorkerOptions,
    http: &reqwest::Client,
    config_changed: bool,
) -> Result<Tick, EventsError> {
    let client = config.pool.get().await?;
    // Occurrences of cron triggers that left the metadata are not delivered.
    let known: Vec<&str> = config.cron.keys().map(String::as_str).collect();
    if config_changed {
        client
            .execute(
                "DELETE FROM hdb_catalog.hdb_cron_events \
                 WHERE status = 'scheduled' AND trigger_name <> ALL($1::text[])",
                &[&known],
            )
            .await?;
    }
    for cron in config.cron.values() {
        let s = &cron.schedule;
        client
            .execute(
                GENERATE_SQL,
                &[
                    &cron.name,
                    &s.minutes,
                    &s.hours,
                    &s.days_of_month,
                    &s.months,
                    &s.days_of_week,
                    &(s.day_of_month_any || s.day_of_week_any),
                    &f64::from(cron.retry.tolerance_seconds),
                ],
            )
            .await?;
    }
    let reclaim = options.reclaim_after.as_secs_f64();
    let mut claimed = 0;
    if !config.cron.is_empty() {
        let names: Vec<&str> = config.cron.keys().map(String::as_str).collect();
        let rows = client
            .query(
                &format!(
                    "{}, trigger_name",
                    claim_sql("hdb_cron_events", "AND e.trigger_name = ANY($3::text[])")
                ),
                &[&options.batch_size, &reclaim, &names],
            )
            .await?;
        let mut events = Vec::new();
        for row in &rows {
            let name: String = row.try_get(6)?;
            if let Some(cron) = config.cron.get(&name) {
                events.push((ScheduledRow::read(row)?, Target::from_cron(cron)));
            }
        }
        claimed += events.len();
        deliver_all(config, options, http, events, "hdb_cron_events").await;
    }
    let rows = client
        .query(
            &format!(
                "{} , webhook_conf::text, retry_conf::text, payload::text, header_conf::text, comment",
                claim_sql("hdb_scheduled_events", "")
            ),
            &[&options.batch_size, &reclaim],
        )
        .await?;
    let mut events = Vec::new();
    for row in &rows {
        let event = ScheduledRow::read(row)?;
        let target = Target::from_one_off(row);
        events.push((event, target));
    }
    claimed += events.len();
    deliver_all(config, options, http, events, "hdb_scheduled_events").await;
    let next_due = if (claimed as i64) < options.batch_size {
        let row = client.query_one(NEXT_DUE_SQL, &[&known]).await?;
        row.try_get::<_, Option<f64>>(0)?
    } else {
        None
    };
    Ok(Tick { claimed, next_due })
}

struct ScheduledRow {
    id: String,
    tries: i32,
    scheduled_time: String,
    created_at: String,
    late_by_seconds: f64,
}

impl ScheduledRow {
    fn read(row: &tokio_postgres::Row) -> Result<ScheduledRow, EventsError> {
        Ok(ScheduledRow {
            id: row.try_get(0)?,
            tries: row.try_get(1)?,
            scheduled_time: row.try_get(3)?,
            created_at: row.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            late_by_seconds: row.try_get(5)?,
        })
    }
}

/// Where a scheduled event goes: from its cron trigger, or stored with a one-off event.
struct Target {
    name: Option<String>,
    url: Result<String, String>,
    headers: Vec<(String, String)>,
    retry: ScheduledRetryConf,
    payload: Value,
    comment: Option<String>,
}

impl Target {
    fn from_cron(cron: &CronDelivery) -> Target {
        Target {
            name: Some(cron.name.clone()),
            url: Ok(cron.url.clone()),
            headers: cron.headers.clone(),
            retry: cron.retry.clone(),
            payload: cron.payload.clone().unwrap_or(Value::Null),
            comment: cron.comment.clone(),
        }
    }

    /// Columns 6..: webhook_conf, retry_conf, payload, header_conf, comment (stored JSON).
    fn from_one_off(row: &tokio_postgres::Row) -> Target {
        let json = |index: usize| -> Value {
            row.try_get::<_, Option<String>>(index)
                .ok()
                .flatten()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null)
        };
        let webhook = json(6);
        let url = match &webhook {
            Value::String(url) => resolve_url(Some(url), None),
            Value::Object(map) => resolve_url(
                map.get("url").and_then(Value::as_str),
                map.get("from_env").and_then(Value::as_str),
            ),
            _ => resolve_url(None, None),
        }
        .map_err(|e| e.to_string());
        let headers: Vec<HeaderConf> = serde_json::from_value(json(9)).unwrap_or_default();
        Target {
            name: None,
            url,
            headers: resolve_headers(&headers).unwrap_or_default(),
            retry: serde_json::from_value(json(7)).unwrap_or_default(),
            payload: json(8),
            comment: row.try_get::<_, Option<String>>(10).ok().flatten(),
        }
    }
}

async fn deliver_all(
    config: &ScheduledConfig,
    options: &WorkerOptions,
    http: &reqwest::Client,
    events: Vec<(ScheduledRow, Target)>,
    table: &str,
) {
    let log_table = if table == "hdb_cron_events" {
        "hdb_cron_event_invocation_logs"
    } else {
        "hdb_scheduled_event_invocation_logs"
    };
    let record = record_sql(table, log_table);
    let results: Vec<Result<(), EventsError>> = futures_util::stream::iter(events)
        .map(|(event, target)| deliver_one(config, http, event, target, &record))
        .buffer_unordered(options.http_concurrency.max(1))
        .collect()
        .await;
    for error in results.into_iter().filter_map(Result::err) {
        tracing::warn!(%error, "could not record a scheduled event delivery");
    }
}

async fn deliver_one(
    config: &ScheduledConfig,
    http: &reqwest::Client,
    event: ScheduledRow,
    target: Target,
    record: &str,
) -> Result<(), EventsError> {
    let client = config.pool.get().await?;
    // A first attempt later than the tolerance is dropped, as Hasura does after downtime.
    if event.tries == 0 && event.late_by_seconds > f64::from(target.retry.tolerance_seconds) {
        let outcome = CallOutcome::NoAnswer {
            message: "the event was not delivered within its tolerance".to_string(),
        };
        let request = json!({"payload": Value::Null, "headers": [], "version": "2"});
        let none: Option<f64> = None;
        client
            .execute(
                record,
                &[
                    &event.id,
                    &outcome.status(),
                    &request.to_string(),
                    &outcome.log_json().to_string(),
                    &"dead",
                    &none,
                ],
            )
            .await?;
        return Ok(());
    }
    let mut body = json!({
        "scheduled_time": event.scheduled_time,
        "payload": target.payload,
        "id": event.id,
        "created_at": event.created_at,
        "comment": target.comment,
    });
    if let Some(name) = &target.name {
        body["name"] = Value::String(name.clone());
    }
    let outcome = match &target.url {
        Ok(url) => {
            let call = WebhookCall {
                url: url.clone(),
                method: reqwest::Method::POST,
                headers: target.headers.clone(),
                body: body.to_string().into_bytes(),
                timeout: Duration::from_secs(u64::from(target.retry.timeout_seconds.max(1))),
                logged_payload: body.clone(),
            };
            (call.log_json(), call.send(http).await)
        }
        Err(message) => (
            json!({"payload": body, "headers": [], "version": "2"}),
            CallOutcome::NoAnswer {
                message: message.clone(),
            },
        ),
    };
    let (request_log, outcome) = outcome;
    let retry_in = next_retry_delay(
        event.tries,
        target.retry.num_retries,
        target.retry.retry_interval_seconds,
        &outcome,
    );
    let status = if outcome.is_delivered() {
        "delivered"
    } else if retry_in.is_some() {
        "scheduled"
    } else {
        "error"
    };
    client
        .execute(
            record,
            &[
                &event.id,
                &outcome.status(),
                &request_log.to_string(),
                &outcome.log_json().to_string(),
                &status,
                &retry_in,
            ],
        )
        .await?;
    Ok(())
}
