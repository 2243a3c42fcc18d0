//! Scheduled-trigger commands: cron triggers in the metadata (`create_cron_trigger`,
//! `delete_cron_trigger`, `get_cron_triggers`) and one-off events in the metadata database
//! (`create_scheduled_event`, `delete_scheduled_event`, `get_scheduled_events`).

use super::args::parse_args;
use super::{Working, success};
use crate::error::ApiError;
use crate::events::events_error;
use graft_events::scheduled_api::{self, ScheduledKind};
use graft_metadata::{CronTrigger, HeaderConf, ScheduledRetryConf};
use serde::Deserialize;
use serde_json::{Value, json};

fn invalid_metadata(error: graft_metadata::MetadataError) -> ApiError {
    ApiError::internal(format!("invalid cron_triggers in metadata: {error}"))
}

pub fn create_cron(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let mut trigger: CronTrigger = parse_args(args)?;
    let replace = trigger
        .extra
        .shift_remove("replace")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    graft_events::CronDelivery::resolve(&trigger).map_err(|e| events_error(e).at("$.args"))?;
    let mut triggers = working.metadata.cron_triggers().map_err(invalid_metadata)?;
    let existing = triggers.iter().position(|t| t.name == trigger.name);
    match (existing, replace) {
        (Some(_), false) => {
            return Err(ApiError::new(
                "already-exists",
                format!("cron trigger with name: {} already exists", trigger.name),
            )
            .at("$.args"));
        }
        (Some(index), true) => triggers[index] = trigger,
        (None, _) => {
            trigger.extra.shift_remove("replace");
            triggers.push(trigger);
        }
    }
    working.metadata.set_cron_triggers(&triggers);
    working.dirty = true;
    Ok(success())
}

#[derive(Deserialize)]
struct NameArgs {
    name: String,
}

pub async fn delete_cron(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let NameArgs { name } = parse_args(args)?;
    let mut triggers = working.metadata.cron_triggers().map_err(invalid_metadata)?;
    let before = triggers.len();
    triggers.retain(|t| t.name != name);
    if triggers.len() == before {
        return Err(ApiError::new(
            "not-exists",
            format!("cron trigger with name: {name} does not exist"),
        )
        .at("$.args.name"));
    }
    scheduled_api::delete_pending_cron_events(&working.state.metadata_pool, &name)
        .await
        .map_err(events_error)?;
    working.metadata.set_cron_triggers(&triggers);
    working.dirty = true;
    Ok(success())
}

pub fn get_cron(working: &Working<'_>) -> Result<Value, ApiError> {
    let triggers = working.metadata.cron_triggers().map_err(invalid_metadata)?;
    Ok(json!({"cron_triggers": triggers}))
}

#[derive(Deserialize)]
struct CreateEventArgs {
    webhook: Value,
    schedule_at: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    headers: Vec<HeaderConf>,
    #[serde(default)]
    retry_conf: Option<ScheduledRetryConf>,
    #[serde(default)]
    comment: Option<String>,
}

pub async fn create_event(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let event: CreateEventArgs = parse_args(args)?;
    let retry = serde_json::to_value(event.retry_conf.unwrap_or_default())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let headers =
        serde_json::to_value(&event.headers).map_err(|e| ApiError::internal(e.to_string()))?;
    let id = scheduled_api::create_one_off(
        &working.state.metadata_pool,
        &event.webhook,
        &event.schedule_at,
        &event.payload,
        &headers,
        &retry,
        event.comment.as_deref(),
    )
    .await
    .map_err(|e| events_error(e).at("$.args"))?;
    working.state.events.wake_scheduled();
    Ok(json!({"message": "success", "event_id": id}))
}

fn kind_of(text: &str) -> Result<ScheduledKind, ApiError> {
    match text {
        "cron" => Ok(ScheduledKind::Cron),
        "one_off" => Ok(ScheduledKind::OneOff),
        other => Err(ApiError::parse_failed(format!(
            "expected \"cron\" or \"one_off\", found \"{other}\""
        ))
        .at("$.args.type")),
    }
}

#[derive(Deserialize)]
struct DeleteEventArgs {
    #[serde(rename = "type")]
    kind: String,
    event_id: String,
}

pub async fn delete_event(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let DeleteEventArgs { kind, event_id } = parse_args(args)?;
    let kind = kind_of(&kind)?;
    let deleted = scheduled_api::delete_event(&working.state.metadata_pool, kind, &event_id)
        .await
        .map_err(events_error)?;
    if !deleted {
        return Err(ApiError::new(
            "not-exists",
            format!("scheduled event with id \"{event_id}\" does not exist"),
        )
        .at("$.args.event_id"));
    }
    Ok(success())
}

#[derive(Deserialize)]
struct GetEventsArgs {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    trigger_name: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    100
}

pub async fn get_events(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let request: GetEventsArgs = parse_args(args)?;
    let kind = kind_of(&request.kind)?;
    let events = scheduled_api::list_events(
        &working.state.metadata_pool,
        kind,
        request.trigger_name.as_deref(),
        request.status.as_deref(),
        request.limit,
        request.offset,
    )
    .await
    .map_err(events_error)?;
    Ok(json!({"events": events}))
}
