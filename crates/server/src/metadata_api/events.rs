//! Event-trigger commands: `create_event_trigger` (with `replace`), `delete_event_trigger`,
//! `invoke_event_trigger`, `redeliver_event`, `get_event_logs`, `get_event_invocation_logs`,
//! `get_event_by_id`; and keeping each source's capture triggers in step with the metadata when
//! a request commits.
//!
//! Triggers are installed in the source database as soon as they are created (so a `bulk` that
//! creates a trigger and then inserts already captures the insert); everything else (drops,
//! renames followed by `run_sql`, `replace_metadata`) is applied by [`sync_captures`] from the
//! difference between the old and the new metadata, just before the new metadata is stored.

use super::args::{parse_args, source_of, table_of};
use super::{Working, success};
use crate::error::ApiError;
use crate::events::{events_error, source_captures, sync_source};
use graft_catalog::DbCatalog;
use graft_events::event_api::{self, RedeliverOutcome};
use graft_metadata::{
    EventRetryConf, EventTrigger, EventTriggerDefinition, Extra, HeaderConf, Metadata,
    OperationSpec, QualifiedTable,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Deserialize)]
struct CreateArgs {
    name: String,
    #[serde(default)]
    insert: Option<OperationSpec>,
    #[serde(default)]
    update: Option<OperationSpec>,
    #[serde(default)]
    delete: Option<OperationSpec>,
    #[serde(default)]
    enable_manual: bool,
    #[serde(default)]
    webhook: Option<String>,
    #[serde(default)]
    webhook_from_env: Option<String>,
    #[serde(default)]
    headers: Vec<HeaderConf>,
    #[serde(default)]
    retry_conf: EventRetryConf,
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    request_transform: Option<Value>,
    #[serde(default)]
    response_transform: Option<Value>,
    #[serde(default)]
    cleanup_config: Option<Value>,
}

/// Where a trigger of this name is: `(table index, trigger index)` in the source's tables.
fn find_trigger(working: &Working<'_>, source: &str, name: &str) -> Option<(usize, usize)> {
    let source = working.metadata.source(source)?;
    source.tables.iter().enumerate().find_map(|(t, table)| {
        table
            .event_triggers
            .iter()
            .position(|e| e.name == name)
            .map(|e| (t, e))
    })
}

fn trigger_not_found(name: &str) -> ApiError {
    ApiError::new(
        "not-exists",
        format!("event trigger with name \"{name}\" does not exist"),
    )
    .at("$.args.name")
}

pub async fn create(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let table = table_of(args)?;
    let create: CreateArgs = parse_args(args)?;
    if create.insert.is_none()
        && create.update.is_none()
        && create.delete.is_none()
        && !create.enable_manual
    {
        return Err(ApiError::parse_failed(
            "atleast one amongst insert/update/delete/enable_manual spec must be provided",
        ));
    }
    graft_events::validate_trigger_name(&create.name)
        .map_err(|e| events_error(e).at("$.args.name"))?;
    working.table(&source, &table)?;
    check_columns(working, &source, &table, &create)?;
    let existing = find_trigger(working, &source, &create.name);
    if existing.is_some() && !create.replace {
        return Err(ApiError::new(
            "already-exists",
            format!("Event trigger with name \"{}\" already exists", create.name),
        )
        .at("$.args"));
    }
    if existing.is_none() && create.replace {
        return Err(trigger_not_found(&create.name));
    }
    let mut extra = Extra::new();
    for (key, value) in [
        ("response_transform", create.response_transform),
        ("cleanup_config", create.cleanup_config),
    ] {
        if let Some(value) = value {
            extra.insert(key.to_string(), value);
        }
    }
    let trigger = EventTrigger {
        name: create.name.clone(),
        definition: EventTriggerDefinition {
            enable_manual: create.enable_manual,
            insert: create.insert,
            update: create.update,
            delete: create.delete,
        },
        retry_conf: create.retry_conf,
        webhook: create.webhook,
        webhook_from_env: create.webhook_from_env,
        headers: create.headers,
        request_transform: create.request_transform,
        extra,
    };
    // Unresolvable webhooks and headers are refused now rather than failing every delivery.
    graft_events::TriggerDelivery::resolve(&table, &trigger)
        .map_err(|e| events_error(e).at("$.args"))?;
    let pool = working.state.current().pool(&source)?.clone();
    let mut object = pool.get().await.map_err(graft_execute::DbError::from)?;
    let transaction = object
        .transaction()
        .await
        .map_err(graft_execute::DbError::from)?;
    graft_events::install_event_log(&*transaction)
        .await
        .map_err(events_error)?;
    let columns = crate::events::payload_columns(
        working.catalogs.get(&source),
        &table,
        working.state.config.stringify_numeric_types,
    );
    graft_events::install_capture(&*transaction, &table, &trigger, &columns)
        .await
        .map_err(events_error)?;
    transaction
        .commit()
        .await
        .map_err(graft_execute::DbError::from)?;
    if let Some((t, e)) = existing {
        working.source_mut(&source)?.tables[t]
            .event_triggers
            .remove(e);
    }
    working
        .table_mut(&source, &table)?
        .event_triggers
        .push(trigger);
    Ok(success())
}

/// Every column named in `columns` or `payload` must exist on the table.
fn check_columns(
    working: &Working<'_>,
    source: &str,
    table: &QualifiedTable,
    create: &CreateArgs,
) -> Result<(), ApiError> {
    let catalog = working.catalog(source)?;
    let name = graft_catalog::QualifiedName::new(table.schema.clone(), table.name.clone());
    let Some(db_table) = catalog.table(&name) else {
        return Err(super::table_not_tracked(table));
    };
    for (operation, spec) in [
        ("insert", &create.insert),
        ("update", &create.update),
        ("delete", &create.delete),
    ] {
        let Some(spec) = spec else { continue };
        for columns in std::iter::once(&spec.columns).chain(spec.payload.iter()) {
            if let graft_metadata::Columns::List(list) = columns {
                for column in list {
                    if !db_table.columns.iter().any(|c| &c.name == column) {
                        return Err(ApiError::new(
                            "not-exists",
                            format!("column \"{column}\" does not exist on table \"{table}\""),
                        )
                        .at(format!("$.args.{operation}")));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Every column an event trigger names, in its operations' `columns` and `payload` (`*`
/// names none: it follows the table).
fn named_columns(trigger: &EventTrigger) -> impl Iterator<Item = &String> {
    let definition = &trigger.definition;
    [&definition.insert, &definition.update, &definition.delete]
        .into_iter()
        .flatten()
        .flat_map(|spec| std::iter::once(&spec.columns).chain(spec.payload.iter()))
        .flat_map(|columns| match columns {
            graft_metadata::Columns::List(list) => list.as_slice(),
            graft_metadata::Columns::All => &[],
        })
}

/// After `run_sql` (renames already followed): an event trigger naming a column its table no
/// longer has depends on it, as in Hasura: a `dependency-error`, or with `cascade` the
/// trigger is dropped (its capture and pending events go when the request commits). Returns
/// whether the metadata changed.
pub fn check_trigger_columns(
    metadata: &mut Metadata,
    source: &str,
    catalog: &DbCatalog,
    cascade: bool,
) -> Result<bool, ApiError> {
    let Some(meta) = metadata.source_mut(source) else {
        return Ok(false);
    };
    let mut changed = false;
    for entry in &mut meta.tables {
        let name =
            graft_catalog::QualifiedName::new(entry.table.schema.clone(), entry.table.name.clone());
        let Some(db_table) = catalog.table(&name) else {
            continue;
        };
        let broken: Vec<String> = entry
            .event_triggers
            .iter()
            .filter(|t| named_columns(t).any(|c| db_table.column(c).is_none()))
            .map(|t| t.name.clone())
            .collect();
        if broken.is_empty() {
            continue;
        }
        if !cascade {
            let names: Vec<String> = broken
                .iter()
                .map(|t| format!("event-trigger {}.{t} in source \"{source}\"", entry.table))
                .collect();
            return Err(ApiError::new(
                "dependency-error",
                format!(
                    "cannot drop due to the following dependent objects: {}",
                    names.join(", ")
                ),
            )
            .at("$.args"));
        }
        entry.event_triggers.retain(|t| !broken.contains(&t.name));
        changed = true;
    }
    Ok(changed)
}

#[derive(Deserialize)]
struct NameArgs {
    name: String,
}

pub fn delete(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let NameArgs { name } = parse_args(args)?;
    let (t, e) = find_trigger(working, &source, &name).ok_or_else(|| trigger_not_found(&name))?;
    working.source_mut(&source)?.tables[t]
        .event_triggers
        .remove(e);
    Ok(success())
}

#[derive(Deserialize)]
struct InvokeArgs {
    name: String,
    #[serde(default)]
    payload: Value,
}

pub async fn invoke(
    working: &mut Working<'_>,
    session: &graft_schema::Session,
    args: &Value,
) -> Result<Value, ApiError> {
    let source = source_of(args);
    let InvokeArgs { name, payload } = parse_args(args)?;
    let (t, e) = find_trigger(working, &source, &name).ok_or_else(|| trigger_not_found(&name))?;
    let entry = &working.source(&source)?.tables[t];
    let table = entry.table.clone();
    if !entry.event_triggers[e].definition.enable_manual {
        return Err(ApiError::new(
            "not-supported",
            "manual mode is not enabled for event trigger",
        )
        .at("$.args"));
    }
    let client = source_client(working, &source).await?;
    let event_id = event_api::invoke_manual(
        &**client,
        &table.schema,
        &table.name,
        &name,
        &payload,
        &session.variables_json(),
    )
    .await
    .map_err(events_error)?;
    Ok(json!({"event_id": event_id}))
}

async fn source_client(
    working: &Working<'_>,
    source: &str,
) -> Result<deadpool_postgres::Object, ApiError> {
    let pool = working.state.current().pool(source)?.clone();
    Ok(pool.get().await.map_err(graft_execute::DbError::from)?)
}

#[derive(Deserialize)]
struct RedeliverArgs {
    event_id: String,
}

pub async fn redeliver(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let RedeliverArgs { event_id } = parse_args(args)?;
    let client = source_client(working, &source).await?;
    let reclaim = graft_events::WorkerOptions::from_env()
        .reclaim_after
        .as_secs_f64();
    match event_api::redeliver(&**client, &event_id, reclaim)
        .await
        .map_err(events_error)?
    {
        RedeliverOutcome::Queued => Ok(success()),
        RedeliverOutcome::NotFound => Err(ApiError::new(
            "not-exists",
            format!("event with id \"{event_id}\" does not exist"),
        )
        .at("$.args.event_id")),
        RedeliverOutcome::Locked => Err(ApiError::new(
            "event-locked",
            "event is already being processed, try again later",
        )
        .at("$.args")),
    }
}

#[derive(Deserialize)]
struct LogArgs {
    name: String,
    #[serde(default = "all")]
    status: String,
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn all() -> String {
    "all".to_string()
}

fn default_limit() -> i64 {
    100
}

pub async fn event_logs(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let LogArgs {
        name,
        status,
        limit,
        offset,
    } = parse_args(args)?;
    if !matches!(status.as_str(), "pending" | "processed" | "all") {
        return Err(
            ApiError::parse_failed("status must be one of pending, processed, all")
                .at("$.args.status"),
        );
    }
    find_trigger(working, &source, &name).ok_or_else(|| trigger_not_found(&name))?;
    let client = source_client(working, &source).await?;
    event_api::event_logs(&**client, &name, &status, limit, offset)
        .await
        .map_err(events_error)
}

pub async fn invocation_logs(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let LogArgs {
        name,
        limit,
        offset,
        ..
    } = parse_args(args)?;
    find_trigger(working, &source, &name).ok_or_else(|| trigger_not_found(&name))?;
    let client = source_client(working, &source).await?;
    event_api::invocation_logs(&**client, &name, limit, offset)
        .await
        .map_err(events_error)
}

#[derive(Deserialize)]
struct EventByIdArgs {
    event_id: String,
    #[serde(default = "default_limit")]
    invocation_log_limit: i64,
    #[serde(default)]
    invocation_log_offset: i64,
}

pub async fn event_by_id(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let request: EventByIdArgs = parse_args(args)?;
    let client = source_client(working, &source).await?;
    event_api::event_by_id(
        &**client,
        &request.event_id,
        request.invocation_log_limit,
        request.invocation_log_offset,
    )
    .await
    .map_err(events_error)?
    .ok_or_else(|| {
        ApiError::new(
            "not-exists",
            format!("event with id \"{}\" does not exist", request.event_id),
        )
        .at("$.args.event_id")
    })
}

/// Applies the request's event-trigger changes to every source database whose pool exists
/// (a source added in this request gets its triggers when graft next starts or reloads):
/// changed definitions, and changed column types (`run_sql`) that change the payload's form.
pub async fn sync_captures(
    working: &Working<'_>,
    old: &Metadata,
    old_catalogs: &HashMap<String, DbCatalog>,
) -> Result<(), ApiError> {
    let cache = working.state.current();
    let stringify = working.state.config.stringify_numeric_types;
    for source in &working.metadata.sources {
        let Some(pool) = cache.pools.get(&source.name) else {
            continue;
        };
        let before = source_captures(old, old_catalogs, &source.name, stringify);
        let after = source_captures(
            &working.metadata,
            &working.catalogs,
            &source.name,
            stringify,
        );
        sync_source(pool, &before, &after)
            .await
            .map_err(events_error)?;
    }
    Ok(())
}

/// Before a source leaves the metadata (`drop_source`, `clear_metadata`): its capture
/// triggers and event log are dropped, as Hasura drops a source's event catalog.
pub async fn remove_source_catalog(working: &Working<'_>, source: &str) -> Result<(), ApiError> {
    let cache = working.state.current();
    let Some(pool) = cache.pools.get(source) else {
        return Ok(());
    };
    let client = pool.get().await.map_err(graft_execute::DbError::from)?;
    graft_events::remove_event_log(&**client)
        .await
        .map_err(events_error)
}

pub async fn clear_metadata(working: &mut Working<'_>) -> Result<Value, ApiError> {
    let names: Vec<String> = working
        .metadata
        .sources
        .iter()
        .map(|s| s.name.clone())
        .collect();
    for name in names {
        remove_source_catalog(working, &name).await?;
    }
    super::objects::clear_metadata(working)
}

pub async fn drop_source(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    if let Some(name) = args.get("name").and_then(Value::as_str)
        && working.metadata.source(name).is_some()
    {
        remove_source_catalog(working, name).await?;
    }
    super::objects::drop_source(working, args)
}
