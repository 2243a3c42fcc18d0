//! Event triggers and scheduled triggers: graft's calls to other services' webhooks.
//!
//! In: the metadata's event triggers (per table) and cron triggers, and the database. Out:
//! Postgres triggers that capture row changes into Hasura's `hdb_catalog.event_log` in the same
//! transaction as the change ([`capture`], [`catalog`]), and a background worker
//! ([`EventsRuntime`]) that claims due events with `FOR UPDATE SKIP LOCKED`, POSTs Hasura's
//! payload, retries, and records every call. Delivery is at least once: a worker that dies
//! leaves a timestamped lock that another worker reclaims.
//!
//! Where it sits: beside the request pipeline. The server's metadata commands call
//! [`install_capture`] / [`remove_capture`] and hand each new metadata version's
//! [`EventsConfig`] to the runtime; nothing in GraphQL execution knows about events except the
//! `hasura.user` setting mutations set, which the capture reads as `session_variables`.

pub mod capture;
pub mod catalog;
pub mod config;
pub mod cron;
pub mod delivery;
mod error;
pub mod event_api;
pub mod event_worker;
pub mod runtime;
pub mod scheduled;
pub mod scheduled_api;
pub mod transform;
pub mod webhook;

pub use capture::{
    PayloadColumns, capture_is_current, install_capture, remove_capture, validate_trigger_name,
};
pub use catalog::{has_event_log, install_event_log, remove_event_log};
pub use config::{EventsConfig, SourceEvents, TriggerDelivery, WorkerOptions};
pub use error::EventsError;
pub use runtime::EventsRuntime;
pub use scheduled::{CronDelivery, ScheduledConfig, install_scheduled_catalog};
