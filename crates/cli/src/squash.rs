//! `migrate squash --from V`: many migrations become one, and only when it provably builds the
//! same schema.
//!
//! The squashed `up.sql` is the up steps from V on, concatenated; `down.sql` the down steps in
//! reverse. Before anything is written, both are checked on a throwaway PostgreSQL cluster
//! (graft-pgtemp): one fresh database runs the migrations before V and then the original
//! sequence, another runs the same prefix and then the squashed `up.sql`; their
//! `pg_dump --schema-only` outputs must be identical, or the squash is refused with the diff.
//!
//! The new migration records the versions it replaces (`squash.yaml`): `migrate apply` marks
//! it applied without running it on a database that already ran them all. On the current
//! server, where they are all applied, it is marked applied right away.

use crate::client::ServerClient;
use crate::migrations::{self, Migration, MigrationsError, Step};
use crate::state::{CliState, StateError};
use graft_pgtemp::{Cluster, PgTempError};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SquashError {
    #[error(transparent)]
    Migrations(#[from] MigrationsError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("no migration of database \"{database}\" has version {version}")]
    NoSuchVersion { database: String, version: u64 },
    #[error(
        "migration {0} holds metadata commands (up.yaml) that are not run_sql; squash only SQL migrations"
    )]
    NotSql(u64),
    #[error("could not start the throwaway database for the check: {0}")]
    Cluster(#[from] PgTempError),
    #[error("the check on the throwaway database failed at {step}: {message}")]
    Verify { step: String, message: String },
    #[error(
        "refused: the squashed up.sql does not build the same schema as migrations {from}..={to}:\n{diff}"
    )]
    SchemaDiffers { from: u64, to: u64, diff: String },
}

#[derive(Debug)]
pub struct SquashOutcome {
    pub migration: Migration,
    pub squashed: Vec<u64>,
    pub marked_applied: bool,
    pub deleted_sources: bool,
}

pub struct SquashRequest<'a> {
    pub migrations_dir: &'a Path,
    pub database: &'a str,
    pub from: u64,
    pub name: &'a str,
    pub delete_source: bool,
}

pub async fn squash(
    client: Option<&ServerClient>,
    request: &SquashRequest<'_>,
) -> Result<SquashOutcome, SquashError> {
    migrations::check_name(request.name)?;
    let all = migrations::list(request.migrations_dir, request.database)?;
    if !all.iter().any(|m| m.version == request.from) {
        return Err(SquashError::NoSuchVersion {
            database: request.database.to_string(),
            version: request.from,
        });
    }
    let (before, range): (Vec<Migration>, Vec<Migration>) =
        all.into_iter().partition(|m| m.version < request.from);
    let mut up = String::new();
    for migration in &range {
        let sql = step_sql(migration.version, migration.up.as_ref())?;
        up.push_str(&format!("-- {}_{}\n", migration.version, migration.name));
        up.push_str(sql.trim_end());
        up.push_str("\n\n");
    }
    let mut down = String::new();
    for migration in range.iter().rev() {
        let sql = step_sql(migration.version, migration.down.as_ref())?;
        down.push_str(&format!("-- {}_{}\n", migration.version, migration.name));
        down.push_str(sql.trim_end());
        down.push_str("\n\n");
    }
    verify(&before, &range, &up).await?;
    let squashed: Vec<u64> = range.iter().map(|m| m.version).collect();
    let migration = migrations::create(
        request.migrations_dir,
        request.database,
        request.name,
        &up,
        &down,
        &squashed,
    )?;
    let mut marked_applied = false;
    if let Some(client) = client {
        let mut state = CliState::load(client).await?;
        let applied = state.versions(request.database)?;
        if squashed
            .iter()
            .all(|v| applied.get(v).is_some_and(|dirty| !dirty))
        {
            state.set(request.database, migration.version, false);
            if request.delete_source {
                for version in &squashed {
                    state.unset(request.database, *version);
                }
            }
            state.save(client).await?;
            marked_applied = true;
        }
    }
    if request.delete_source {
        for old in &range {
            migrations::delete(old)?;
        }
    }
    Ok(SquashOutcome {
        migration,
        squashed,
        marked_applied,
        deleted_sources: request.delete_source,
    })
}

/// The SQL of a step: `up.sql`, or the `run_sql` commands of an `up.yaml`.
fn step_sql(version: u64, step: Option<&Step>) -> Result<String, SquashError> {
    match step {
        None => Ok(String::new()),
        Some(Step::Sql(sql)) => Ok(sql.clone()),
        Some(Step::Commands(commands)) => {
            let mut out = String::new();
            for command in commands {
                let kind = command.get("type").and_then(Value::as_str);
                let sql = command
                    .get("args")
                    .and_then(|a| a.get("sql"))
                    .and_then(Value::as_str);
                match (kind, sql) {
                    (Some("run_sql"), Some(sql)) => {
                        out.push_str(sql.trim_end());
                        out.push_str(";\n");
                    }
                    _ => return Err(SquashError::NotSql(version)),
                }
            }
            Ok(out)
        }
    }
}

async fn verify(
    before: &[Migration],
    range: &[Migration],
    squashed_up: &str,
) -> Result<(), SquashError> {
    let cluster = Cluster::temporary().await?;
    let result = async {
        for database in ["squash_original", "squash_squashed"] {
            cluster.create_database(database).await?;
        }
        // Each original migration runs in a session of its own, as each `run_sql` does on a
        // server; the squash runs in one. Session settings a migration leaves behind (a
        // `SET search_path`) then show up as a schema difference instead of passing unseen.
        for migration in before {
            let sql = step_sql(migration.version, migration.up.as_ref())?;
            for database in ["squash_original", "squash_squashed"] {
                run(&connect(&cluster, database).await?, &sql, migration).await?;
            }
        }
        for migration in range {
            let sql = step_sql(migration.version, migration.up.as_ref())?;
            run(
                &connect(&cluster, "squash_original").await?,
                &sql,
                migration,
            )
            .await?;
        }
        let squashed = connect(&cluster, "squash_squashed").await?;
        squashed
            .batch_execute(squashed_up)
            .await
            .map_err(|e| SquashError::Verify {
                step: "the squashed up.sql".to_string(),
                message: db_message(&e),
            })?;
        let left = schema_dump(&cluster, "squash_original").await?;
        let right = schema_dump(&cluster, "squash_squashed").await?;
        if left != right {
            let diff = similar::TextDiff::from_lines(&left, &right)
                .unified_diff()
                .header("original sequence", "squashed")
                .to_string();
            return Err(SquashError::SchemaDiffers {
                from: range.first().map_or(0, |m| m.version),
                to: range.last().map_or(0, |m| m.version),
                diff,
            });
        }
        Ok(())
    }
    .await;
    let stopped = cluster.stop().await;
    result?;
    stopped?;
    Ok(())
}

async fn connect(cluster: &Cluster, database: &str) -> Result<tokio_postgres::Client, SquashError> {
    let (client, connection) =
        tokio_postgres::connect(&cluster.url(database), tokio_postgres::NoTls)
            .await
            .map_err(|e| SquashError::Verify {
                step: format!("connecting to {database}"),
                message: e.to_string(),
            })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn run(
    client: &tokio_postgres::Client,
    sql: &str,
    migration: &Migration,
) -> Result<(), SquashError> {
    client
        .batch_execute(sql)
        .await
        .map_err(|e| SquashError::Verify {
            step: format!("migration {}_{}", migration.version, migration.name),
            message: db_message(&e),
        })
}

fn db_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

/// The `pg_dump` of the same PostgreSQL installation as the server binaries: beside them, or
/// beside what they link to (a bin directory of symlinks), else the one on PATH.
pub fn find_pg_dump(bindir: &Path) -> std::path::PathBuf {
    let beside = bindir.join("pg_dump");
    if beside.is_file() {
        return beside;
    }
    if let Some(real) = std::fs::canonicalize(bindir.join("initdb"))
        .ok()
        .and_then(|initdb| initdb.parent().map(|dir| dir.join("pg_dump")))
        .filter(|p| p.is_file())
    {
        return real;
    }
    std::path::PathBuf::from("pg_dump")
}

/// `pg_dump --schema-only` without comments and session settings (and the random
/// `\restrict` keys newer pg_dump versions print), so equal schemas give equal text.
async fn schema_dump(cluster: &Cluster, database: &str) -> Result<String, SquashError> {
    let pg_dump = find_pg_dump(cluster.binaries().bindir());
    let output = tokio::process::Command::new(&pg_dump)
        .arg("--schema-only")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--dbname")
        .arg(cluster.url(database))
        .output()
        .await
        .map_err(|e| SquashError::Verify {
            step: format!("running {}", pg_dump.display()),
            message: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(SquashError::Verify {
            step: format!("pg_dump of {database}"),
            message: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .filter(|line| {
            !line.starts_with("--")
                && !line.starts_with('\\')
                && !line.starts_with("SET ")
                && !line.starts_with("SELECT pg_catalog.set_config")
                && !line.trim().is_empty()
        })
        .map(|line| format!("{line}\n"))
        .collect())
}
