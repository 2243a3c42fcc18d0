//! What the workers deliver, resolved from metadata: each source's event triggers with their
//! URL, headers, retry settings and transform. Rebuilt by the server for every metadata version
//! and handed to the running worker.

use crate::EventsError;
use crate::transform::RequestTransform;
use crate::webhook::{resolve_headers, resolve_url};
use graft_execute::Pool;
use graft_metadata::{EventRetryConf, EventTrigger, QualifiedTable};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One event trigger, ready to deliver.
#[derive(Debug, Clone)]
pub struct TriggerDelivery {
    pub name: String,
    pub table: QualifiedTable,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub retry: EventRetryConf,
    pub transform: Option<RequestTransform>,
}

impl TriggerDelivery {
    /// Resolves the webhook and headers from the environment; errors name what is missing.
    pub fn resolve(table: &QualifiedTable, trigger: &EventTrigger) -> Result<Self, EventsError> {
        let url = resolve_url(
            trigger.webhook.as_deref(),
            trigger.webhook_from_env.as_deref(),
        )?;
        let headers = resolve_headers(&trigger.headers)?;
        let transform = trigger
            .request_transform
            .as_ref()
            .map(|value| serde_json::from_value(value.clone()))
            .transpose()
            .map_err(|e| EventsError::InvalidWebhook(format!("request_transform: {e}")))?;
        Ok(TriggerDelivery {
            name: trigger.name.clone(),
            table: table.clone(),
            url,
            headers,
            retry: trigger.retry_conf.clone(),
            transform,
        })
    }
}

/// The event triggers of one source database.
#[derive(Clone)]
pub struct SourceEvents {
    pub source: String,
    pub pool: Pool,
    pub triggers: HashMap<String, Arc<TriggerDelivery>>,
}

/// Everything the workers deliver; `scheduled` is the metadata database, where cron and
/// one-off events live (absent: no scheduled-event worker).
#[derive(Clone, Default)]
pub struct EventsConfig {
    pub sources: Vec<SourceEvents>,
    pub scheduled: Option<crate::scheduled::ScheduledConfig>,
}

/// Tuning of the workers, from Hasura's variables where it has one.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL` (milliseconds): pause between polls of an idle log.
    pub fetch_interval: Duration,
    /// `HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE`: events claimed at once.
    pub batch_size: i64,
    /// `HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE`: webhook calls in flight at once.
    pub http_concurrency: usize,
    /// `GRAFT_EVENTS_LOCK_RECLAIM_SECONDS`: a claimed event whose worker has not answered for
    /// this long (it crashed, or lost its database connection) may be claimed again. Must be
    /// longer than the slowest webhook's `timeout_sec`, or a slow call is duplicated.
    pub reclaim_after: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            fetch_interval: Duration::from_millis(1000),
            batch_size: 100,
            http_concurrency: 100,
            reclaim_after: Duration::from_secs(600),
        }
    }
}

impl WorkerOptions {
    pub fn from_env() -> Self {
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let defaults = WorkerOptions::default();
        WorkerOptions {
            fetch_interval: number("HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL")
                .map(Duration::from_millis)
                .unwrap_or(defaults.fetch_interval),
            batch_size: number("HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE")
                .and_then(|n| i64::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(defaults.batch_size),
            http_concurrency: number("HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE")
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(defaults.http_concurrency),
            reclaim_after: number("GRAFT_EVENTS_LOCK_RECLAIM_SECONDS")
                .map(Duration::from_secs)
                .unwrap_or(defaults.reclaim_after),
        }
    }
}
