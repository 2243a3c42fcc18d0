//! `run_sql`: raw SQL from an admin, in a transaction with the metadata reconciliation, as in
//! Hasura: after the SQL ran, the catalog is re-read inside the same transaction; renamed tables
//! and columns are followed in the metadata, dropped tables leave it, and if anything else in
//! the metadata now points at a dropped object the transaction is rolled back with a
//! `dependency-error` (unless `cascade`, which removes those objects too).

use super::args::{parse_args, source_of};
use super::objects::remove_dependents;
use super::{Working, reconcile};
use crate::error::ApiError;
use graft_catalog::{DbCatalog, QualifiedName};
use graft_execute::{DbError, RawResult, run_raw_sql};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct RunSqlArgs {
    sql: String,
    #[serde(default)]
    cascade: bool,
    #[serde(default)]
    check_metadata_consistency: Option<bool>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    no_transaction: bool,
}

pub async fn run(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let RunSqlArgs {
        sql,
        cascade,
        check_metadata_consistency,
        read_only,
        no_transaction,
    } = parse_args(args)?;
    let cache = working.state.current();
    let pool = cache.pool(&source)?.clone();
    let client = pool.get().await.map_err(DbError::from)?;
    let reconcile = !read_only && check_metadata_consistency.unwrap_or(true);
    if no_transaction {
        let result = run_raw_sql(&client, &sql)
            .await
            .map_err(|e| sql_error(e, &sql))?;
        if reconcile {
            let catalog = graft_catalog::load(&client)
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
            apply_catalog_change(working, &source, catalog, true)?;
        }
        return Ok(result_json(result));
    }
    let begin = if read_only {
        "BEGIN READ ONLY"
    } else {
        "BEGIN"
    };
    client.batch_execute(begin).await.map_err(DbError::from)?;
    let outcome = async {
        let result = run_raw_sql(&client, &sql)
            .await
            .map_err(|e| sql_error(e, &sql))?;
        if reconcile {
            let catalog = graft_catalog::load(&client)
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
            apply_catalog_change(working, &source, catalog, cascade)?;
        }
        Ok::<_, ApiError>(result)
    }
    .await;
    match outcome {
        Ok(result) => {
            client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| sql_error(DbError::from(e), &sql))?;
            Ok(result_json(result))
        }
        Err(error) => {
            // The connection may be broken; the pool discards it if so.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(error)
        }
    }
}

fn result_json(result: RawResult) -> Value {
    match result {
        RawResult::Command => json!({"result_type": "CommandOk", "result": null}),
        RawResult::Tuples { columns, rows } => {
            let mut out = vec![json!(columns)];
            out.extend(rows.into_iter().map(|r| json!(r)));
            json!({"result_type": "TuplesOk", "result": out})
        }
    }
}

fn sql_error(error: DbError, sql: &str) -> ApiError {
    let mut api = ApiError::new("postgres-error", "query execution failed").at("$.args");
    api.internal = Some(Box::new(error.internal(sql, &[], false)));
    api
}

/// Follows renames, drops removed tables, and enforces dependencies; then installs the new
/// catalog in the working state.
fn apply_catalog_change(
    working: &mut Working<'_>,
    source: &str,
    new: DbCatalog,
    cascade: bool,
) -> Result<(), ApiError> {
    let before = working.inconsistencies();
    let old = working.catalogs.get(source).cloned().unwrap_or_default();
    let model_before = graft_schema::resolve(&working.metadata, &working.catalogs).model;
    let changes = reconcile::diff(&old, &new);
    reconcile::check_type_changes(&working.metadata, source, &changes)?;
    let mut changed =
        reconcile::check_dropped_functions(&mut working.metadata, source, &changes, cascade)?;
    changed |= reconcile::follow_renames(&mut working.metadata, &model_before, source, &changes);
    if let Some(meta) = working.metadata.source_mut(source) {
        let count = meta.tables.len();
        meta.tables.retain(|t| {
            let name = QualifiedName {
                schema: t.table.schema.clone(),
                name: t.table.name.clone(),
            };
            new.table(&name).is_some() || old.table(&name).is_none()
        });
        changed |= meta.tables.len() != count;
    }
    changed |= super::events::check_trigger_columns(&mut working.metadata, source, &new, cascade)?;
    if old != new {
        // Even when the metadata is unchanged, the schema must be rebuilt from the new catalog.
        working.reload = true;
    }
    working.catalogs.insert(source.to_string(), new);
    if changed {
        working.dirty = true;
    }
    remove_dependents(working, &before, cascade)?;
    // Anything already inconsistent before stays as it was; objects the SQL broke are errors.
    Ok(())
}
