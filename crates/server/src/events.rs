//! The server's side of event and scheduled triggers: what the delivery worker is told for each
//! metadata version, and keeping each source database's capture triggers in step with the
//! metadata (created, replaced after a rename, dropped with their table or trigger).

use crate::error::ApiError;
use crate::state::SchemaCache;
use graft_catalog::{DbCatalog, QualifiedName};
use graft_events::{
    CronDelivery, EventsConfig, EventsError, PayloadColumns, ScheduledConfig, SourceEvents,
    TriggerDelivery,
};
use graft_execute::Pool;
use graft_metadata::{EventTrigger, Metadata, QualifiedTable};
use std::collections::HashMap;
use std::sync::Arc;

/// An event trigger as its capture is installed: its table, definition, and the columns its
/// payload sends in another form than `row_to_json` (from the table's column types).
pub type Capture = (QualifiedTable, EventTrigger, PayloadColumns);

/// Which columns of a table the capture sends as text (big numbers, when the server stringifies
/// them) or as GeoJSON (PostGIS types), as Hasura's payload has them.
pub fn payload_columns(
    catalog: Option<&DbCatalog>,
    table: &QualifiedTable,
    stringify_numeric: bool,
) -> PayloadColumns {
    let name = QualifiedName::new(table.schema.clone(), table.name.clone());
    let mut columns = PayloadColumns::default();
    let Some(db_table) = catalog.and_then(|c| c.table(&name)) else {
        return columns;
    };
    for column in &db_table.columns {
        if graft_translate::boolexp::is_postgis(&column.pg_type) {
            columns.geojson.push(column.name.clone());
        } else if stringify_numeric && graft_translate::rql::is_big_number(&column.pg_type) {
            columns.as_text.push(column.name.clone());
        }
    }
    columns
}

/// Every event trigger of a source with what its capture needs.
pub fn source_captures(
    metadata: &Metadata,
    catalogs: &HashMap<String, DbCatalog>,
    source: &str,
    stringify_numeric: bool,
) -> Vec<Capture> {
    let catalog = catalogs.get(source);
    source_triggers(metadata, source)
        .into_iter()
        .map(|(table, trigger)| {
            let columns = payload_columns(catalog, &table, stringify_numeric);
            (table, trigger, columns)
        })
        .collect()
}

/// Every event trigger of a source with its table.
pub fn source_triggers(metadata: &Metadata, source: &str) -> Vec<(QualifiedTable, EventTrigger)> {
    metadata
        .source(source)
        .map(|s| {
            s.tables
                .iter()
                .flat_map(|t| {
                    t.event_triggers
                        .iter()
                        .map(|e| (t.table.clone(), e.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The worker's view of a schema cache. A trigger whose webhook cannot be resolved (a missing
/// environment variable) is left out and logged; its events wait in the log.
pub fn events_config(cache: &SchemaCache, metadata_pool: &Pool) -> EventsConfig {
    let mut sources = Vec::new();
    for source in &cache.metadata.sources {
        let Some(pool) = cache.pools.get(&source.name) else {
            continue;
        };
        let mut triggers = HashMap::new();
        for (table, trigger) in source_triggers(&cache.metadata, &source.name) {
            match TriggerDelivery::resolve(&table, &trigger) {
                Ok(delivery) => {
                    triggers.insert(trigger.name.clone(), Arc::new(delivery));
                }
                Err(error) => {
                    tracing::warn!(trigger = %trigger.name, %error, "event trigger not delivered")
                }
            }
        }
        if !triggers.is_empty() {
            sources.push(SourceEvents {
                source: source.name.clone(),
                pool: pool.clone(),
                triggers,
            });
        }
    }
    let mut cron = HashMap::new();
    match cache.metadata.cron_triggers() {
        Ok(triggers) => {
            for trigger in triggers {
                match CronDelivery::resolve(&trigger) {
                    Ok(delivery) => {
                        cron.insert(trigger.name.clone(), Arc::new(delivery));
                    }
                    Err(error) => {
                        tracing::warn!(trigger = %trigger.name, %error, "cron trigger not scheduled")
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "invalid cron_triggers in metadata"),
    }
    EventsConfig {
        sources,
        scheduled: Some(ScheduledConfig {
            pool: metadata_pool.clone(),
            cron,
        }),
    }
}

pub fn events_error(error: EventsError) -> ApiError {
    match error {
        EventsError::Database(db) => ApiError::from_db(db),
        EventsError::InvalidName(_) | EventsError::InvalidSchedule { .. } => {
            ApiError::parse_failed(error.to_string())
        }
        other => ApiError::new("invalid-configuration", other.to_string()),
    }
}

/// Makes a source's capture triggers match `new` where they differ from `old`: triggers that
/// left (or moved to another table) are dropped and their pending events archived; new or
/// changed ones (including a change of their columns' types) (re)installed. Runs in one
/// transaction of the source database.
pub async fn sync_source(pool: &Pool, old: &[Capture], new: &[Capture]) -> Result<(), EventsError> {
    let removed: Vec<&EventTrigger> = old
        .iter()
        .filter(|(_, t, _)| !new.iter().any(|(_, n, _)| n.name == t.name))
        .map(|(_, t, _)| t)
        .collect();
    let installed: Vec<&Capture> = new.iter().filter(|entry| !old.contains(entry)).collect();
    if removed.is_empty() && installed.is_empty() {
        return Ok(());
    }
    let mut object = pool.get().await?;
    let transaction = object.transaction().await?;
    let has_log = graft_events::has_event_log(&*transaction).await?;
    for trigger in &removed {
        graft_events::remove_capture(&*transaction, &trigger.name).await?;
        if has_log {
            graft_events::event_api::archive_events(&*transaction, &trigger.name).await?;
        }
    }
    if !installed.is_empty() {
        graft_events::install_event_log(&*transaction).await?;
    }
    for (table, trigger, columns) in installed {
        graft_events::install_capture(&*transaction, table, trigger, columns).await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// Installs every capture trigger of the metadata that is not installed as it should be (at
/// start-up: another instance or a `replace_metadata` elsewhere may have changed the metadata
/// without touching this database, or the column types may have changed). Captures already
/// current are left alone, so a restart takes no lock on their tables.
pub async fn install_all(cache: &SchemaCache, stringify_numeric: bool) {
    for source in &cache.metadata.sources {
        let Some(pool) = cache.pools.get(&source.name) else {
            continue;
        };
        let captures = source_captures(
            &cache.metadata,
            &cache.catalogs,
            &source.name,
            stringify_numeric,
        );
        if captures.is_empty() {
            continue;
        }
        let outcome = async {
            let current = current_captures(pool, &captures).await?;
            sync_source(pool, &current, &captures).await
        };
        if let Err(error) = outcome.await {
            tracing::warn!(source = %source.name, %error, "could not install event triggers");
        }
    }
}

/// The captures already installed exactly as they should be.
async fn current_captures(pool: &Pool, captures: &[Capture]) -> Result<Vec<Capture>, EventsError> {
    let client = pool.get().await?;
    if !graft_events::has_event_log(&**client).await? {
        return Ok(Vec::new());
    }
    let mut current = Vec::new();
    for capture in captures {
        let (table, trigger, columns) = capture;
        if graft_events::capture_is_current(&**client, table, trigger, columns).await? {
            current.push(capture.clone());
        }
    }
    Ok(current)
}
