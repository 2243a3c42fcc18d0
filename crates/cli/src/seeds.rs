//! Seed data: `seeds/<database>/<timestamp>_<name>.sql`, applied in file-name order, each file
//! as one `run_sql` (one transaction: a failing seed file leaves no partial rows).
//!
//! `seed create --from-table` writes the table's current rows as a single statement,
//! `INSERT INTO t SELECT * FROM json_populate_recordset(NULL::t, '<rows as JSON>')`, which
//! keeps every column's exact value without a per-type printer.

use crate::client::{ClientError, ServerClient};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("seed {file} failed (nothing of it was applied): {source}")]
    Failed { file: String, source: ClientError },
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("no seed file named {0:?}")]
    NotFound(String),
    #[error("table name {0:?} is not valid: {1}")]
    BadTable(String, String),
    #[error(
        "seed name {0:?} is not allowed: use letters, digits, '_' and '-' (it becomes a file name)"
    )]
    BadName(String),
    #[error("the server's answer to the table read has an unexpected shape")]
    Shape,
}

/// Seed files of a database, sorted by file name.
pub fn list(seeds_dir: &Path, database: &str) -> Result<Vec<PathBuf>, SeedError> {
    let dir = seeds_dir.join(database);
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(files);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Writes a new seed file; returns its path.
pub fn create(
    seeds_dir: &Path,
    database: &str,
    name: &str,
    sql: &str,
) -> Result<PathBuf, SeedError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(SeedError::BadName(name.to_string()));
    }
    let dir = seeds_dir.join(database);
    std::fs::create_dir_all(&dir).map_err(|source| SeedError::Write {
        path: dir.clone(),
        source,
    })?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let path = dir.join(format!("{millis}_{name}.sql"));
    std::fs::write(&path, sql).map_err(|source| SeedError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The SQL that re-inserts the current rows of `schema.table` (an empty string when it has none).
pub async fn table_rows_sql(
    client: &ServerClient,
    database: &str,
    table: &str,
) -> Result<String, SeedError> {
    let (schema, name) = table.split_once('.').unwrap_or(("public", table));
    let bad = |e: graft_sql::IdentifierError| SeedError::BadTable(table.to_string(), e.to_string());
    let qualified = format!(
        "{}.{}",
        graft_sql::quote_identifier(schema).map_err(bad)?,
        graft_sql::quote_identifier(name).map_err(bad)?
    );
    let answer = client
        .run_sql(
            database,
            &format!("SELECT coalesce(json_agg(t), '[]')::text FROM {qualified} t"),
        )
        .await?;
    let rows = answer
        .get("result")
        .and_then(|r| r.get(1))
        .and_then(|row| row.get(0))
        .and_then(Value::as_str)
        .ok_or(SeedError::Shape)?;
    if rows == "[]" {
        return Ok(String::new());
    }
    Ok(format!(
        "INSERT INTO {qualified} SELECT * FROM json_populate_recordset(NULL::{qualified}, {});\n",
        sql_string_literal(rows)
    ))
}

/// A standard SQL string literal (quotes doubled); used only to write a seed file.
fn sql_string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Applies the database's seed files (or only `only`, by file name); returns the files run.
pub async fn apply(
    client: &ServerClient,
    seeds_dir: &Path,
    database: &str,
    only: &[String],
) -> Result<Vec<String>, SeedError> {
    let files = list(seeds_dir, database)?;
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    for wanted in only {
        if !files.iter().any(|f| &name_of(f) == wanted) {
            return Err(SeedError::NotFound(wanted.clone()));
        }
    }
    let mut applied = Vec::new();
    for file in files {
        let name = name_of(&file);
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let sql = std::fs::read_to_string(&file).map_err(|source| SeedError::Read {
            path: file.clone(),
            source,
        })?;
        client
            .run_sql(database, &sql)
            .await
            .map_err(|source| SeedError::Failed {
                file: name.clone(),
                source,
            })?;
        applied.push(name);
    }
    Ok(applied)
}
