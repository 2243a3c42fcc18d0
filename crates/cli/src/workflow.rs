//! The two CI commands: `deploy` (metadata, then every database's migrations, then a reload;
//! refused loudly on any inconsistency) and `check` (does the project agree with the server?).

use crate::client::ServerClient;
use crate::metadata_ops::{self, MetadataOpsError};
use crate::migrate::{self, Applied, ApplyOptions, MigrateError};
use crate::migrations::{self, MigrationsError};
use crate::project::Project;
use crate::seeds::{self, SeedError};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Metadata(#[from] MetadataOpsError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Migrations(#[from] MigrationsError),
    #[error(transparent)]
    Seed(#[from] SeedError),
}

#[derive(Debug, Default)]
pub struct DeployOutcome {
    /// Per database, the migrations run.
    pub migrations: Vec<(String, Vec<Applied>)>,
    pub seeds: Vec<(String, Vec<String>)>,
    /// After the final reload; a non-empty list fails the deploy.
    pub inconsistent_objects: Vec<Value>,
}

/// Metadata first (so every database is known to the server; objects whose tables the
/// migrations have yet to create are accepted as inconsistent for the moment), then the
/// migrations of every database, optionally the seeds, then a reload that must come out
/// consistent.
pub async fn deploy(
    client: &ServerClient,
    project: &Project,
    with_seeds: bool,
) -> Result<DeployOutcome, WorkflowError> {
    let mut outcome = DeployOutcome::default();
    metadata_ops::apply(client, &project.metadata_dir(), true).await?;
    let migrations_dir = project.migrations_dir();
    for database in migrations::databases(&migrations_dir)? {
        let applied =
            migrate::apply(client, &migrations_dir, &database, &ApplyOptions::default()).await?;
        outcome.migrations.push((database, applied));
    }
    if with_seeds {
        let seeds_dir = project.seeds_dir();
        for database in migrations::databases(&seeds_dir)? {
            let applied = seeds::apply(client, &seeds_dir, &database, &[]).await?;
            outcome.seeds.push((database, applied));
        }
    }
    outcome.inconsistent_objects = metadata_ops::reload(client).await?;
    Ok(outcome)
}

/// Every disagreement `check` found; empty means none.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<String>,
    pub metadata_diff: String,
}

pub async fn check(client: &ServerClient, project: &Project) -> Result<CheckReport, WorkflowError> {
    let mut report = CheckReport::default();
    let diff = metadata_ops::diff(client, &project.metadata_dir()).await?;
    if !diff.is_empty() {
        report
            .problems
            .push("the metadata files and the server's metadata differ".to_string());
        report.metadata_diff = diff;
    }
    for object in metadata_ops::inconsistencies(client).await? {
        report.problems.push(format!(
            "inconsistent on the server: {}",
            metadata_ops::describe(&object)
        ));
    }
    let migrations_dir = project.migrations_dir();
    for database in migrations::databases(&migrations_dir)? {
        let local = migrations::list(&migrations_dir, &database)?;
        let replaced: Vec<u64> = local.iter().flat_map(|m| m.squashed.clone()).collect();
        for row in migrate::status(client, &migrations_dir, &database).await? {
            let label = format!("{}_{} on \"{database}\"", row.version, row.name);
            if row.dirty {
                report.problems.push(format!("migration {label} is dirty"));
            } else if row.in_source && !row.in_database {
                report
                    .problems
                    .push(format!("migration {label} is not applied"));
            } else if !row.in_source && !replaced.contains(&row.version) {
                report.problems.push(format!(
                    "version {} is applied on \"{database}\" but has no migration folder",
                    row.version
                ));
            }
        }
    }
    Ok(report)
}
