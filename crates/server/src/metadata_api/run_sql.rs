//! `run_sql`: raw SQL from an admin, in a transaction with the metadata reconciliation, as in
//! Hasura: after the SQL ran, the catalog is re-read inside the same transaction; renamed tables
//! and columns are followed in the metadata, dropped tables leave it, and if anything else in
//! the metadata now points at a dropped object the transaction is rolled back with a
//! `dependency-error` (unless `cascade`, which removes those objects too).

use super::args::{parse_args, source_of};
use super::objects::remove_dependents;
use super::Working;
use crate::error::ApiError;
use graft_catalog::{DbCatalog, QualifiedName};
use graft_execute::{DbError, RawResult, run_raw_sql};
use graft_metadata::{Metadata, ObjectRelationshipUsing, QualifiedTable, ForeignKeyOn};
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
    let RunSqlArgs { sql, cascade, check_metadata_consistency, read_only, no_transaction } =
        parse_args(args)?;
    let cache = working.state.current();
    let pool = cache.pool(&source)?.clone();
    let client = pool.get().await.map_err(DbError::from)?;
    let reconcile = !read_only && check_metadata_consistency.unwrap_or(true);
    if no_transaction {
        let result = run_raw_sql(&client, &sql).await.map_err(|e| sql_error(e, &sql))?;
        if reconcile {
            let catalog = graft_catalog::load(&client).await.map_err(|e| ApiError::internal(e.to_string()))?;
            apply_catalog_change(working, &source, catalog, true)?;
        }
        return Ok(result_json(result));
    }
    let begin = if read_only { "BEGIN READ ONLY" } else { "BEGIN" };
    client.batch_execute(begin).await.map_err(DbError::from)?;
    let outcome = async {
        let result = run_raw_sql(&client, &sql).await.map_err(|e| sql_error(e, &sql))?;
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
            client.batch_execute("COMMIT").await.map_err(|e| sql_error(DbError::from(e), &sql))?;
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
    api.internal = Some(json!({
        "arguments": [],
        "error": {
            "description": error.detail,
            "exec_status": "FatalError",
            "hint": error.hint,
            "message": error.message,
            "status_code": error.sqlstate,
        },
        "prepared": false,
        "statement": sql,
    }));
    api
}

/// Follows renames, drops removed tables, and enforces dependencies; then installs the new
/// catalog in the working state.
fn apply_catalog_change(working: &mut Working<'_>, source: &str, new: DbCatalog, cascade: bool) -> Result<(), ApiError> {
    let before = working.inconsistencies();
    let old = working.catalogs.get(source).cloned().unwrap_or_default();
    let mut changed = follow_renames(&mut working.metadata, source, &old, &new);
    if let Some(meta) = working.metadata.source_mut(source) {
        let count = meta.tables.len();
        meta.tables.retain(|t| {
            let name = QualifiedName { schema: t.table.schema.clone(), name: t.table.name.clone() };
            new.table(&name).is_some() || old.table(&name).is_none()
        });
        changed |= meta.tables.len() != count;
    }
    working.catalogs.insert(source.to_string(), new);
    if changed {
        working.dirty = true;
    }
    remove_dependents(working, &before, cascade)?;
    // Anything already inconsistent before stays as it was; objects the SQL broke are errors.
    Ok(())
}

/// Renames tables (same oid, new name) and columns (same table, same position, new name)
/// everywhere the metadata names them. Returns whether anything changed.
fn follow_renames(metadata: &mut Metadata, source: &str, old: &DbCatalog, new: &DbCatalog) -> bool {
    let mut table_renames: Vec<(QualifiedTable, QualifiedTable)> = Vec::new();
    let mut column_renames: Vec<(QualifiedTable, String, String)> = Vec::new();
    for (old_name, old_table) in &old.tables {
        let Some((new_name, new_table)) = new.tables.iter().find(|(_, t)| t.oid == old_table.oid) else {
            continue;
        };
        let old_q = QualifiedTable::new(&old_name.schema, &old_name.name);
        let new_q = QualifiedTable::new(&new_name.schema, &new_name.name);
        if old_q != new_q {
            table_renames.push((old_q.clone(), new_q.clone()));
        }
        for column in &old_table.columns {
            if let Some(renamed) = new_table
                .columns
                .iter()
                .find(|c| c.position == column.position && c.name != column.name)
            {
                if !old_table.columns.iter().any(|c| c.name == renamed.name) {
                    column_renames.push((new_q.clone(), column.name.clone(), renamed.name.clone()));
                }
            }
        }
    }
    if table_renames.is_empty() && column_renames.is_empty() {
        return false;
    }
    let Some(meta) = metadata.source_mut(source) else {
        return false;
    };
    for (from, to) in &table_renames {
        let rename = |t: &mut QualifiedTable| {
            if t == from {
                *t = to.clone();
            }
        };
        for entry in &mut meta.tables {
            rename(&mut entry.table);
            for rel in &mut entry.object_relationships {
                match &mut rel.using {
                    ObjectRelationshipUsing::ManualConfiguration(m) => rename(&mut m.remote_table),
                    ObjectRelationshipUsing::ForeignKeyConstraintOn(ForeignKeyOn::Spec(s)) => {
                        if let Some(t) = &mut s.table {
                            rename(t)
                        }
                    }
                    _ => {}
                }
            }
            for rel in &mut entry.array_relationships {
                match &mut rel.using {
                    graft_metadata::ArrayRelationshipUsing::ManualConfiguration(m) => rename(&mut m.remote_table),
                    graft_metadata::ArrayRelationshipUsing::ForeignKeyConstraintOn(ForeignKeyOn::Spec(s)) => {
                        if let Some(t) = &mut s.table {
                            rename(t)
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for (table, from, to) in &column_renames {
        if let Some(entry) = meta.table_mut(table) {
            rename_column_in_table(entry, from, to);
        }
    }
    true
}

fn rename_column_in_table(entry: &mut graft_metadata::TableEntry, from: &str, to: &str) {
    use graft_metadata::Columns;
    let rename_list = |columns: &mut Columns| {
        if let Columns::List(list) = columns {
            for c in list.iter_mut() {
                if c == from {
                    *c = to.to_string();
                }
            }
        }
    };
    for p in &mut entry.select_permissions {
        rename_list(&mut p.permission.columns);
        rename_key(&mut p.permission.filter, from, to);
    }
    for p in &mut entry.insert_permissions {
        if let Some(c) = &mut p.permission.columns {
            rename_list(c);
        }
        rename_key(&mut p.permission.check, from, to);
    }
    for p in &mut entry.update_permissions {
        rename_list(&mut p.permission.columns);
        rename_key(&mut p.permission.filter, from, to);
        if let Some(check) = &mut p.permission.check {
            rename_key(check, from, to);
        }
    }
    for p in &mut entry.delete_permissions {
        rename_key(&mut p.permission.filter, from, to);
    }
    if let Some(configuration) = &mut entry.configuration {
        if let Some(config) = configuration.column_config.shift_remove(from) {
            configuration.column_config.insert(to.to_string(), config);
        }
        if let Some(name) = configuration.custom_column_names.shift_remove(from) {
            configuration.custom_column_names.insert(to.to_string(), name);
        }
    }
    for rel in &mut entry.object_relationships {
        match &mut rel.using {
            ObjectRelationshipUsing::ForeignKeyConstraintOn(ForeignKeyOn::Column(c)) if c == from => {
                *c = to.to_string()
            }
            ObjectRelationshipUsing::ManualConfiguration(m) => {
                if let Some(remote) = m.column_mapping.shift_remove(from) {
                    m.column_mapping.insert(to.to_string(), remote);
                }
            }
            _ => {}
        }
    }
}

/// Renames a column key in a boolean expression of the same table (through `_and/_or/_not`).
fn rename_key(expression: &mut Value, from: &str, to: &str) {
    let Value::Object(map) = expression else {
        return;
    };
    if let Some(value) = map.remove(from) {
        map.insert(to.to_string(), value);
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "_and" | "_or" => {
                if let Value::Array(items) = value {
                    items.iter_mut().for_each(|i| rename_key(i, from, to));
                }
            }
            "_not" => rename_key(value, from, to),
            _ => {}
        }
    }
}
