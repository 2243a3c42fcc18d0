//! The project commands' flags, as clap types the `graft` binary flattens into its own
//! command line: `init`, `migrate`, `metadata`, `seed`, `deploy`, `check`.
//!
//! Connection flags follow the Hasura CLI: `--endpoint` / `HASURA_GRAPHQL_ENDPOINT`,
//! `--admin-secret` / `HASURA_GRAPHQL_ADMIN_SECRET` (its value never shown in `--help`), then
//! `config.yaml`, then `http://localhost:8080`.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Create a project directory (config.yaml, metadata/, migrations/, seeds/).
    Init(InitArgs),
    /// Create, apply, roll back, squash and inspect migrations.
    Migrate(MigrateArgs),
    /// Export, apply, compare and inspect metadata.
    Metadata(MetadataArgs),
    /// Create and apply seed data.
    Seed(SeedArgs),
    /// Apply metadata, every database's migrations, then reload; fails on any inconsistency.
    Deploy(DeployArgs),
    /// Exit non-zero when the project and the server disagree (metadata, migrations, consistency).
    Check(CheckArgs),
    /// Serve the console API: schema changes become migration folders and metadata files.
    Console(ConsoleArgs),
}

#[derive(Args, Debug, Clone)]
pub struct Connection {
    /// URL of the graft (or Hasura) server.
    #[arg(long, env = "HASURA_GRAPHQL_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Admin secret sent as X-Hasura-Admin-Secret.
    #[arg(
        long,
        env = "HASURA_GRAPHQL_ADMIN_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub admin_secret: Option<String>,
    /// The project directory (the one holding config.yaml).
    #[arg(long, global = true, default_value = ".")]
    pub project: PathBuf,
    /// The database (metadata source) a migration or seed command works on.
    #[arg(long, global = true, default_value = "default")]
    pub database_name: String,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Directory to create the project in.
    #[arg(default_value = "hasura")]
    pub directory: PathBuf,
    /// Server URL written into config.yaml.
    #[arg(long)]
    pub endpoint: Option<String>,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Subcommand, Debug)]
pub enum MigrateCommand {
    /// Create a migration folder with up.sql and down.sql.
    Create(MigrateCreateArgs),
    /// Apply pending migrations (or the steps the flags choose).
    Apply(MigrateApplyArgs),
    /// Which migrations are in the project and which the database has applied.
    Status,
    /// Squash the migrations from a version on into one, verified on a throwaway database.
    Squash(MigrateSquashArgs),
    /// Delete migrations from the project and the server's record.
    Delete(MigrateDeleteArgs),
}

#[derive(Args, Debug)]
pub struct MigrateCreateArgs {
    pub name: String,
    /// The up step's SQL.
    #[arg(long)]
    pub up_sql: Option<String>,
    /// The down step's SQL.
    #[arg(long)]
    pub down_sql: Option<String>,
    /// Read the up step's SQL from a file.
    #[arg(long)]
    pub sql_from_file: Option<PathBuf>,
    /// Take the up step from the server's current schema (needs the server's pg_dump API).
    #[arg(long)]
    pub from_server: bool,
    /// Schemas to dump with --from-server.
    #[arg(long, default_value = "public")]
    pub schema: Vec<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepType {
    Up,
    Down,
}

#[derive(Args, Debug)]
pub struct MigrateApplyArgs {
    /// Apply (or roll back, with --type down) only this version.
    #[arg(long)]
    pub version: Option<u64>,
    #[arg(long = "type", value_enum, default_value = "up", requires = "version")]
    pub step_type: StepType,
    /// Roll back this many applied migrations, or "all".
    #[arg(long, conflicts_with_all = ["version", "up", "goto"])]
    pub down: Option<String>,
    /// Apply only this many pending migrations.
    #[arg(long, conflicts_with_all = ["version", "goto"])]
    pub up: Option<usize>,
    /// Migrate up or down until exactly the migrations up to this version are applied.
    #[arg(long, conflicts_with = "version")]
    pub goto: Option<u64>,
    /// Only record the versions as applied (or not), without running SQL.
    #[arg(long)]
    pub skip_execution: bool,
    /// Every database with a migrations folder, not only --database-name.
    #[arg(long)]
    pub all_databases: bool,
}

#[derive(Args, Debug)]
pub struct MigrateSquashArgs {
    /// The first version to squash; it and every later version become one migration.
    #[arg(long)]
    pub from: u64,
    #[arg(long, default_value = "squashed")]
    pub name: String,
    /// Remove the squashed migrations' folders.
    #[arg(long)]
    pub delete_source: bool,
}

#[derive(Args, Debug)]
pub struct MigrateDeleteArgs {
    #[arg(long, required_unless_present = "all")]
    pub version: Option<u64>,
    /// Every migration of the database.
    #[arg(long)]
    pub all: bool,
    /// Only forget the versions on the server; keep the folders.
    #[arg(long)]
    pub server: bool,
}

#[derive(Args, Debug)]
pub struct MetadataArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: MetadataCommand,
}

#[derive(Subcommand, Debug)]
pub enum MetadataCommand {
    /// Write the server's metadata into the metadata directory.
    Export,
    /// Replace the server's metadata with the directory's (checked whole before sending).
    Apply(MetadataApplyArgs),
    /// Show how the directory differs from the server; exits 1 when it does.
    Diff,
    /// Reload the server's metadata (re-reads the databases' schemas).
    Reload,
    /// Remove everything tracked from the server's metadata.
    Clear,
    /// Inconsistent objects on the server.
    #[command(subcommand)]
    Inconsistency(InconsistencyCommand),
}

#[derive(Args, Debug)]
pub struct MetadataApplyArgs {
    /// Refuse (and change nothing) when the metadata does not match the databases.
    #[arg(long)]
    pub disallow_inconsistent_metadata: bool,
}

#[derive(Subcommand, Debug)]
pub enum InconsistencyCommand {
    /// List the inconsistent objects.
    List,
    /// Exit 1 when the metadata is inconsistent.
    Status,
    /// Remove the inconsistent objects from the metadata.
    Drop,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: SeedCommand,
}

#[derive(Subcommand, Debug)]
pub enum SeedCommand {
    /// Create a seed file (empty, or with the current rows of tables).
    Create(SeedCreateArgs),
    /// Run the seed files (all, or those named with --file).
    Apply(SeedApplyArgs),
}

#[derive(Args, Debug)]
pub struct SeedCreateArgs {
    pub name: String,
    /// Tables (`schema.table` or `table`) whose rows the seed inserts.
    #[arg(long)]
    pub from_table: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SeedApplyArgs {
    /// Seed file names to run.
    #[arg(long)]
    pub file: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DeployArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// Also run every database's seed files after the migrations.
    #[arg(long)]
    pub with_seeds: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[arg(long, default_value_t = 9695)]
    pub console_port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
}
