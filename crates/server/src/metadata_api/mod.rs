//! The JSON command APIs: `/v1/metadata` (`pg_*` names), `/v1/query` (the v1 names, `run_sql`, and
//! the data operations) and `/v2/query` (`run_sql`, `bulk`).
//!
//! A request is one command or a `bulk` of them. Commands edit a working copy of the metadata,
//! checked against the database catalog as they go; only when the whole request succeeded is the
//! new metadata stored and the schema swapped, so a failed `bulk` leaves the metadata as it was.
//! (SQL run by `run_sql` inside a failed bulk is not undone: each `run_sql` commits on its own.)

mod actions;
mod args;
mod conflicts;
mod data;
mod events;
mod functions;
mod objects;
mod permissions;
mod reconcile;
mod relationships;
mod run_sql;
mod scheduled;
mod tables;

use crate::error::ApiError;
use crate::state::{AppState, load_catalog};
use graft_catalog::DbCatalog;
use graft_metadata::{Metadata, QualifiedTable, Source, TableEntry};
use graft_schema::{Inconsistency, Session};
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V1Metadata,
    V1Query,
    V2Query,
}

/// The metadata and catalogs a request works on; committed once at the end.
pub struct Working<'a> {
    pub state: &'a AppState,
    pub metadata: Metadata,
    pub catalogs: HashMap<String, DbCatalog>,
    pub base_version: i32,
    pub dirty: bool,
    /// Set by commands that ask for a plain reload of the catalogs after commit.
    pub reload: bool,
}

impl<'a> Working<'a> {
    pub fn source(&self, name: &str) -> Result<&Source, ApiError> {
        self.metadata.source(name).ok_or_else(|| {
            ApiError::not_exists(format!("source with name \"{name}\" does not exist"))
        })
    }

    pub fn source_mut(&mut self, name: &str) -> Result<&mut Source, ApiError> {
        self.dirty = true;
        self.metadata.source_mut(name).ok_or_else(|| {
            ApiError::not_exists(format!("source with name \"{name}\" does not exist"))
        })
    }

    pub fn catalog(&self, source: &str) -> Result<&DbCatalog, ApiError> {
        self.catalogs.get(source).ok_or_else(|| {
            ApiError::new(
                "unexpected",
                format!("the database of source \"{source}\" is not reachable"),
            )
        })
    }

    /// The tracked table, or `not-exists` at `$.args.table`.
    pub fn table_mut(
        &mut self,
        source: &str,
        table: &QualifiedTable,
    ) -> Result<&mut TableEntry, ApiError> {
        self.source_mut(source)?
            .table_mut(table)
            .ok_or_else(|| table_not_tracked(table))
    }

    pub fn table(&self, source: &str, table: &QualifiedTable) -> Result<&TableEntry, ApiError> {
        self.source(source)?
            .table(table)
            .ok_or_else(|| table_not_tracked(table))
    }

    /// Inconsistencies of the working metadata against the working catalogs.
    pub fn inconsistencies(&self) -> Vec<Inconsistency> {
        graft_schema::resolve(&self.metadata, &self.catalogs).inconsistencies
    }

    /// Rejects a change that made metadata inconsistent, naming the first new problem, as Hasura
    /// refuses any command that would leave an inconsistent object behind.
    pub fn check_consistent(&self, before: &[Inconsistency]) -> Result<(), ApiError> {
        match self
            .inconsistencies()
            .into_iter()
            .filter(|i| i.object.refuses_commands())
            .find(|i| !before.iter().any(|b| b.object == i.object))
        {
            Some(new) => Err(ApiError::new(
                "invalid-configuration",
                format!("Inconsistent object: {}", new.reason),
            )
            .at("$.args")),
            None => Ok(()),
        }
    }

    pub async fn refresh_catalog(&mut self, source: &str) -> Result<(), ApiError> {
        let cache = self.state.current();
        let pool = cache.pool(source)?;
        let catalog = load_catalog(pool).await.map_err(ApiError::internal)?;
        self.catalogs.insert(source.to_string(), catalog);
        Ok(())
    }
}

pub fn table_not_tracked(table: &QualifiedTable) -> ApiError {
    ApiError::new("not-exists", format!("table \"{table}\" does not exist")).at("$.args.table")
}

/// A command's answer: JSON built here, the raw JSON text Postgres built for a data operation
/// (passed through unparsed, so numbers keep their exact digits), or a bulk's list of answers.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Reply {
    Value(Value),
    Raw(Box<serde_json::value::RawValue>),
    List(Vec<Reply>),
}

pub fn success() -> Value {
    json!({"message": "success"})
}

pub async fn handle(
    state: &AppState,
    session: &Session,
    api: Api,
    body: Value,
) -> Result<Reply, ApiError> {
    let _guard = state.write_lock.lock().await;
    let cache = state.current();
    let mut working = Working {
        state,
        metadata: cache.metadata.clone(),
        catalogs: cache.catalogs.clone(),
        base_version: cache.resource_version,
        dirty: false,
        reload: false,
    };
    let result = dispatch(&mut working, session, api, &body).await?;
    if working.dirty || working.reload {
        events::sync_captures(&working, &cache.metadata, &cache.catalogs).await?;
    }
    if working.dirty {
        working
            .state
            .commit(working.metadata, working.base_version)
            .await?;
    } else if working.reload {
        state.reload().await;
    }
    Ok(result)
}

/// One command: `{"type": ..., "args": ..., "version"?, "resource_version"?}`.
fn dispatch<'w, 'a>(
    working: &'w mut Working<'a>,
    session: &'w Session,
    api: Api,
    body: &'w Value,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply, ApiError>> + Send + 'w>>
where
    'a: 'w,
{
    Box::pin(async move {
        let Value::Object(map) = body else {
            return Err(ApiError::parse_failed(format!(
                "parsing Object failed, expected Object, but encountered {}",
                args::json_type_name(body)
            )));
        };
        let command = match map.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(_) => {
                return Err(ApiError::parse_failed("expected a string for \"type\"").at("$.type"));
            }
            None => return Err(ApiError::parse_failed("key \"type\" not found")),
        };
        let args = map.get("args").cloned().unwrap_or(Value::Null);
        if let Some(version) = map.get("resource_version") {
            let expected = version.as_i64().ok_or_else(|| {
                ApiError::parse_failed("expected an integer").at("$.resource_version")
            })?;
            if expected != i64::from(working.base_version) {
                return Err(ApiError::new(
                    "conflict",
                    format!(
                        "metadata resource version referenced ({expected}) did not match current version"
                    ),
                )
                .with_status(axum::http::StatusCode::CONFLICT));
            }
        }
        if let Some(version) = map.get("version")
            && !matches!(version.as_u64(), Some(1 | 2))
        {
            return Err(
                ApiError::parse_failed(format!("expected 1 or 2, encountered {version}"))
                    .at("$.version"),
            );
        }
        if command == "bulk" || command == "bulk_keep_going" || command == "concurrent_bulk" {
            return bulk(working, session, api, &args, command == "bulk_keep_going").await;
        }
        let name = normalize(api, command).ok_or_else(|| unknown_command(api, command))?;
        if let Some(op) = graft_translate::RqlOp::from_type(name) {
            if api == Api::V1Metadata {
                return Err(unknown_command(api, command));
            }
            return data::run(working, session, op, &args).await;
        }
        if !session.is_admin() {
            return Err(ApiError::admin_only());
        }
        let version = map.get("version").and_then(Value::as_u64).unwrap_or(1);
        let outcome = if name == "invoke_event_trigger" {
            // the one command that records the caller's session (in the event it logs)
            events::invoke(working, session, &args).await
        } else {
            run_command(working, name, &args, version).await
        };
        outcome
            .map(Reply::Value)
            .map_err(|e| if e.path == "$" { e.at("$.args") } else { e })
    })
}

async fn bulk(
    working: &mut Working<'_>,
    session: &Session,
    api: Api,
    args: &Value,
    keep_going: bool,
) -> Result<Reply, ApiError> {
    let Value::Array(commands) = args else {
        return Err(ApiError::parse_failed("expected an array of queries").at("$.args"));
    };
    let mut results = Vec::with_capacity(commands.len());
    for (index, command) in commands.iter().enumerate() {
        match dispatch(working, session, api, command).await {
            Ok(result) => results.push(result),
            Err(error) if keep_going => results.push(Reply::Value(error.body())),
            Err(error) => {
                let path = error.path.replacen('$', &format!("$.args[{index}]"), 1);
                return Err(error.at(path));
            }
        }
    }
    Ok(Reply::List(results))
}

/// The command name without the backend prefix (`pg_track_table` → `track_table`), if the API
/// knows it.
fn normalize(api: Api, command: &str) -> Option<&str> {
    match api {
        Api::V1Metadata => Some(command.strip_prefix("pg_").unwrap_or(command)),
        Api::V1Query => Some(command),
        Api::V2Query => match command {
            "run_sql" | "pg_run_sql" => Some("run_sql"),
            "select" | "insert" | "update" | "delete" | "count" => Some(command),
            _ => None,
        },
    }
}

fn unknown_command(api: Api, command: &str) -> ApiError {
    let known = match api {
        Api::V2Query => "run_sql, bulk, select, insert, update, delete, count",
        _ => "the documented Hasura v2 commands",
    };
    ApiError::parse_failed(format!(
        "unknown command \"{command}\" for this API; expected one of: {known}"
    ))
    .at("$.type")
}

async fn run_command(
    working: &mut Working<'_>,
    name: &str,
    args: &Value,
    version: u64,
) -> Result<Value, ApiError> {
    match name {
        "run_sql" => run_sql::run(working, args).await,
        "track_table" | "add_existing_table_or_view" => tables::track(working, args).await,
        "untrack_table" => tables::untrack(working, args),
        "set_table_customization" => tables::set_customization(working, args),
        "set_table_custom_fields" => tables::set_custom_fields(working, args, version),
        "set_table_is_enum" => tables::set_is_enum(working, args),
        "create_object_relationship" => relationships::create(working, args, false),
        "create_array_relationship" => relationships::create(working, args, true),
        "drop_relationship" => relationships::drop(working, args),
        "rename_relationship" => relationships::rename(working, args),
        "set_relationship_comment" => relationships::set_comment(working, args),
        "create_select_permission"
        | "create_insert_permission"
        | "create_update_permission"
        | "create_delete_permission" => permissions::create(working, name, args),
        "drop_select_permission"
        | "drop_insert_permission"
        | "drop_update_permission"
        | "drop_delete_permission" => permissions::drop(working, name, args),
        "set_permission_comment" => permissions::set_comment(working, args),
        "track_function" | "add_function" => functions::track(working, args),
        "untrack_function" => functions::untrack(working, args),
        "set_function_customization" => functions::set_customization(working, args),
        "create_function_permission" => functions::create_permission(working, args),
        "drop_function_permission" => functions::drop_permission(working, args),
        "add_computed_field" => objects::add_computed_field(working, args),
        "drop_computed_field" => objects::drop_computed_field(working, args),
        "add_inherited_role" => objects::add_inherited_role(working, args),
        "drop_inherited_role" => objects::drop_inherited_role(working, args),
        "add_source" => objects::add_source(working, args).await,
        "drop_source" => events::drop_source(working, args).await,
        "export_metadata" => Ok(working.metadata.to_json()),
        "replace_metadata" => objects::replace_metadata(working, args).await,
        "reload_metadata" => objects::reload_metadata(working, args).await,
        "clear_metadata" => events::clear_metadata(working).await,
        "get_inconsistent_metadata" => Ok(objects::inconsistent_metadata(working)),
        "drop_inconsistent_metadata" => objects::drop_inconsistent_metadata(working),
        "get_catalog_state" => objects::get_catalog_state(working).await,
        "set_custom_types" => actions::set_custom_types(working, args).await,
        "create_action" => actions::create_action(working, args).await,
        "update_action" => actions::update_action(working, args).await,
        "drop_action" => actions::drop_action(working, args),
        "create_action_permission" => actions::create_action_permission(working, args),
        "drop_action_permission" => actions::drop_action_permission(working, args),
        "set_catalog_state" => objects::set_catalog_state(working, args).await,
        "create_event_trigger" => events::create(working, args).await,
        "delete_event_trigger" => events::delete(working, args),
        "redeliver_event" => events::redeliver(working, args).await,
        "get_event_logs" => events::event_logs(working, args).await,
        "get_event_invocation_logs" => events::invocation_logs(working, args).await,
        "get_event_by_id" => events::event_by_id(working, args).await,
        "create_cron_trigger" => scheduled::create_cron(working, args),
        "delete_cron_trigger" => scheduled::delete_cron(working, args).await,
        "get_cron_triggers" => scheduled::get_cron(working),
        "create_scheduled_event" => scheduled::create_event(working, args).await,
        "delete_scheduled_event" => scheduled::delete_event(working, args).await,
        "get_scheduled_events" => scheduled::get_events(working, args).await,
        other => Err(ApiError::new(
            "not-supported",
            format!("the command \"{other}\" is not supported by graft yet"),
        )
        .at("$.type")),
    }
}
