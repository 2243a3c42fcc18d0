//! The server's side of event and scheduled triggers: what the delivery worker is told for each
//! metadata version, and keeping each source database's capture triggers in step with the
//! metadata (created, replaced after a rename, dropped with their table or trigger).

use crate::error::ApiError;
use crate::state::SchemaCache;
use graft_events::{
    CronDelivery, EventsConfig, EventsError, ScheduledConfig, SourceEvents, TriggerDelivery,
};
use graft_execute::Pool;
use graft_metadata::{EventTrigger, Metadata, QualifiedTable};
use std::collections::HashMap;
use std::sync::Arc;

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
/// changed ones (re)installed. Runs in one transaction of the source database.
pub async fn sync_source(
    pool: &Pool,
    old: &[(QualifiedTable, EventTrigger)],
    new: &[(QualifiedTable, EventTrigger)],
) -> Result<(), EventsError> {
    let unchanged = |entry: &(QualifiedTable, EventTrigger),
                     other: &[(QualifiedTable, EventTrigger)]| {
        other.iter().any(|o| o == entry)
    };
    let removed: Vec<&EventTrigger> = old
        .iter()
        .filter(|(_, t)| !new.iter().any(|(_, n)| n.name == t.name))
        .map(|(_, t)| t)
        .collect();
    let installed: Vec<&(QualifiedTable, EventTrigger)> =
        new.iter().filter(|entry| !unchanged(entry, old)).collect();
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
    for (table, trigger) in installed {
        graft_events::install_capture(&*transaction, table, trigger).await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// Installs every capture trigger of the metadata (at start-up: another instance or a
/// `replace_metadata` elsewhere may have changed the metadata without touching this database).
pub async fn install_all(cache: &SchemaCache) {
    for source in &cache.metadata.sources {
        let Some(pool) = cache.pools.get(&source.name) else {
            continue;
        };
        let triggers = source_triggers(&cache.metadata, &source.name);
        if triggers.is_empty() {
            continue;
        }
        if let Err(error) = sync_source(pool, &[], &triggers).await {
            tracing::warn!(source = %source.name, %error, "could not install event triggers");
        }
    }
}
