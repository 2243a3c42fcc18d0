//! Applying migrations to a server and reporting their status.
//!
//! Each migration step is one `run_sql` (its own transaction on the server), bracketed by the
//! catalog state: the version is recorded dirty before the SQL runs and clean after it
//! committed. When the server answers with an error the SQL was rolled back, so the dirty mark
//! is taken away again and the migration is not recorded; only a lost connection (outcome
//! unknown) leaves a dirty version behind, which every later apply refuses to pass, as the
//! Hasura CLI does.

use crate::client::{ClientError, ServerClient};
use crate::migrations::{self, Migration, MigrationsError, Step};
use crate::state::{CliState, StateError};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Migrations(#[from] MigrationsError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("migration {version}_{name} ({direction}) failed and was not recorded: {source}")]
    Failed {
        version: u64,
        name: String,
        direction: &'static str,
        source: ClientError,
    },
    #[error(
        "database \"{database}\" is dirty at version {version}: a migration's outcome is unknown; check the database, then mark it with `graft migrate apply --version {version} --type up --skip-execution` (or `--type down`)"
    )]
    Dirty { database: String, version: u64 },
    #[error("could not dump the server's schema: {source}")]
    Dump { source: ClientError },
    #[error("migration {0} has no {1} step")]
    MissingStep(u64, &'static str),
    #[error("version {version} is {state} on database \"{database}\"")]
    WrongState {
        database: String,
        version: u64,
        state: &'static str,
    },
    #[error(
        "squashed migration {version} replaces versions of which only some are applied on \"{database}\" ({applied:?}); apply or roll back the rest first"
    )]
    PartialSquash {
        database: String,
        version: u64,
        applied: Vec<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// What `migrate apply` should do (the default: every pending migration, in order).
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// `--version V --type up|down`.
    pub version: Option<(u64, Direction)>,
    /// `--down N` (`None` inside means all).
    pub down: Option<Option<usize>>,
    /// `--up N`.
    pub up: Option<usize>,
    /// `--goto V`.
    pub goto: Option<u64>,
    pub skip_execution: bool,
}

/// One executed (or recorded) step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: u64,
    pub name: String,
    pub direction: Direction,
    pub executed: bool,
}

/// One row of `migrate status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    pub version: u64,
    pub name: String,
    pub in_source: bool,
    pub in_database: bool,
    pub dirty: bool,
}

pub async fn status(
    client: &ServerClient,
    migrations_dir: &Path,
    database: &str,
) -> Result<Vec<StatusRow>, MigrateError> {
    let local = migrations::list(migrations_dir, database)?;
    let state = CliState::load(client).await?;
    let applied = state.versions(database)?;
    let mut rows: BTreeMap<u64, StatusRow> = BTreeMap::new();
    for migration in &local {
        rows.insert(
            migration.version,
            StatusRow {
                version: migration.version,
                name: migration.name.clone(),
                in_source: true,
                in_database: applied.contains_key(&migration.version),
                dirty: applied.get(&migration.version).copied().unwrap_or(false),
            },
        );
    }
    for (version, dirty) in applied {
        rows.entry(version).or_insert(StatusRow {
            version,
            name: String::new(),
            in_source: false,
            in_database: true,
            dirty,
        });
    }
    Ok(rows.into_values().collect())
}

/// Runs `migrate apply` on one database; returns what was done, in order.
pub async fn apply(
    client: &ServerClient,
    migrations_dir: &Path,
    database: &str,
    options: &ApplyOptions,
) -> Result<Vec<Applied>, MigrateError> {
    let local = migrations::list(migrations_dir, database)?;
    let mut state = CliState::load(client).await?;
    let applied = state.versions(database)?;
    if let Some((&version, _)) = applied.iter().find(|(_, dirty)| **dirty) {
        // Marking a dirty version is how one gets out of that state.
        let is_the_fix =
            options.skip_execution && options.version.is_some_and(|(v, _)| v == version);
        if !is_the_fix {
            return Err(MigrateError::Dirty {
                database: database.to_string(),
                version,
            });
        }
    }
    let plan = plan(&local, &applied, database, options)?;
    let mut done = Vec::new();
    for (migration, direction) in plan {
        let executed =
            run_step(client, &mut state, database, &migration, direction, options).await?;
        done.push(Applied {
            version: migration.version,
            name: migration.name.clone(),
            direction,
            executed,
        });
    }
    Ok(done)
}

fn plan(
    local: &[Migration],
    applied: &BTreeMap<u64, bool>,
    database: &str,
    options: &ApplyOptions,
) -> Result<Vec<(Migration, Direction)>, MigrateError> {
    let is_applied = |m: &Migration| applied.contains_key(&m.version);
    if let Some((version, direction)) = options.version {
        let migration =
            local
                .iter()
                .find(|m| m.version == version)
                .ok_or(MigrationsError::NotFound {
                    database: database.to_string(),
                    version,
                })?;
        let dirty = applied.get(&version).copied().unwrap_or(false);
        let wrong = match direction {
            Direction::Up if is_applied(migration) && !dirty => Some("already applied"),
            Direction::Down if !is_applied(migration) => Some("not applied"),
            _ => None,
        };
        if let Some(state) = wrong {
            return Err(MigrateError::WrongState {
                database: database.to_string(),
                version,
                state,
            });
        }
        return Ok(vec![(migration.clone(), direction)]);
    }
    let applied_desc = || local.iter().rev().filter(|m| is_applied(m));
    if let Some(count) = options.down {
        let steps = applied_desc().take(count.unwrap_or(usize::MAX));
        return Ok(steps.map(|m| (m.clone(), Direction::Down)).collect());
    }
    if let Some(target) = options.goto {
        if !local.iter().any(|m| m.version == target) {
            return Err(MigrationsError::NotFound {
                database: database.to_string(),
                version: target,
            }
            .into());
        }
        let mut steps: Vec<_> = applied_desc()
            .filter(|m| m.version > target)
            .map(|m| (m.clone(), Direction::Down))
            .collect();
        steps.extend(
            local
                .iter()
                .filter(|m| m.version <= target && !is_applied(m))
                .map(|m| (m.clone(), Direction::Up)),
        );
        return Ok(steps);
    }
    let pending = local.iter().filter(|m| !is_applied(m));
    let pending: Vec<_> = match options.up {
        Some(n) => pending.take(n).collect(),
        None => pending.collect(),
    };
    Ok(pending
        .into_iter()
        .map(|m| (m.clone(), Direction::Up))
        .collect())
}

/// Returns whether SQL was executed (false: only recorded).
async fn run_step(
    client: &ServerClient,
    state: &mut CliState,
    database: &str,
    migration: &Migration,
    direction: Direction,
    options: &ApplyOptions,
) -> Result<bool, MigrateError> {
    let version = migration.version;
    let mut skip = options.skip_execution;
    if direction == Direction::Up && !migration.squashed.is_empty() {
        // A squash of versions this database already ran: record it, do not run it again.
        let applied = state.versions(database)?;
        let done: Vec<u64> = migration
            .squashed
            .iter()
            .copied()
            .filter(|v| applied.contains_key(v))
            .collect();
        if done.len() == migration.squashed.len() {
            skip = true;
        } else if !done.is_empty() {
            return Err(MigrateError::PartialSquash {
                database: database.to_string(),
                version,
                applied: done,
            });
        }
    }
    let step = match direction {
        Direction::Up => migration.up.as_ref(),
        Direction::Down => migration.down.as_ref(),
    };
    let step = match (step, skip) {
        (Some(step), false) if !step.is_empty() => Some(step),
        (None, false) if direction == Direction::Down => {
            return Err(MigrateError::MissingStep(version, "down"));
        }
        _ => None,
    };
    let record_done = |state: &mut CliState| match direction {
        Direction::Up => state.set(database, version, false),
        Direction::Down => state.unset(database, version),
    };
    let Some(step) = step else {
        record_done(state);
        state.save(client).await?;
        return Ok(false);
    };
    let was_applied = state.versions(database)?.contains_key(&version);
    state.set(database, version, true);
    state.save(client).await?;
    let outcome = match step {
        Step::Sql(sql) => client.run_sql(database, sql).await,
        Step::Commands(commands) => client.v1_bulk(commands).await,
    };
    match outcome {
        Ok(_) => {
            record_done(state);
            state.save(client).await?;
            Ok(true)
        }
        Err(source) => {
            if source.is_answer() {
                // Rolled back on the server: the record goes back to what it was.
                if was_applied {
                    state.set(database, version, false);
                } else {
                    state.unset(database, version);
                }
                state.save(client).await?;
            }
            Err(MigrateError::Failed {
                version,
                name: migration.name.clone(),
                direction: direction.name(),
                source,
            })
        }
    }
}

/// `migrate create NAME --from-server`: the server's current schema (`pg_dump --schema-only` of
/// the given schemas, through its pg_dump API) becomes the up step, and since that server
/// already has it, the new version is recorded there as applied.
pub async fn create_from_server(
    client: &ServerClient,
    migrations_dir: &Path,
    database: &str,
    name: &str,
    schemas: &[String],
) -> Result<Migration, MigrateError> {
    let mut opts = vec!["-O", "-x", "--schema-only"];
    for schema in schemas {
        opts.push("--schema");
        opts.push(schema);
    }
    let up = client
        .pg_dump(database, &opts)
        .await
        .map_err(|source| MigrateError::Dump { source })?;
    let migration = migrations::create(migrations_dir, database, name, &up, "", &[])?;
    let mut state = CliState::load(client).await?;
    state.set(database, migration.version, false);
    state.save(client).await?;
    Ok(migration)
}

/// Runs one migration's up step now and records it (the console's changes).
pub async fn apply_migration(
    client: &ServerClient,
    database: &str,
    migration: &Migration,
) -> Result<(), MigrateError> {
    let mut state = CliState::load(client).await?;
    run_step(
        client,
        &mut state,
        database,
        migration,
        Direction::Up,
        &ApplyOptions::default(),
    )
    .await?;
    Ok(())
}

/// `migrate delete --version V | --all [--server]`: forgets the versions on the server and,
/// unless `server_only`, removes their folders (the record goes first: a folder is never
/// removed while the server still lists it). Returns the versions deleted.
pub async fn delete(
    client: &ServerClient,
    migrations_dir: &Path,
    database: &str,
    version: Option<u64>,
    server_only: bool,
) -> Result<Vec<u64>, MigrateError> {
    let targets: Vec<Migration> = match version {
        Some(version) => match migrations::find(migrations_dir, database, version) {
            Ok(migration) => vec![migration],
            // A version only the server knows can still be forgotten there.
            Err(MigrationsError::NotFound { .. }) if server_only => Vec::new(),
            Err(error) => return Err(error.into()),
        },
        None => migrations::list(migrations_dir, database)?,
    };
    let versions: Vec<u64> = match version {
        Some(v) => vec![v],
        None => targets.iter().map(|m| m.version).collect(),
    };
    let mut state = CliState::load(client).await?;
    for v in &versions {
        state.unset(database, *v);
    }
    state.save(client).await?;
    if !server_only {
        for migration in &targets {
            migrations::delete(migration)?;
        }
    }
    Ok(versions)
}
