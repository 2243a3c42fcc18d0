//! Runs one project command: resolves the project and the server connection, calls the module
//! that does the work and prints what happened. Returns the process exit code: 0, or 1 when a
//! check found drift or inconsistency (errors are returned, and the binary prints them).

use crate::client::ServerClient;
use crate::commands::*;
use crate::metadata_dir::MetadataDirError;
use crate::metadata_ops::{self, MetadataOpsError};
use crate::migrate::{self, ApplyOptions, Direction, MigrateError};
use crate::migrations::{self, MigrationsError};
use crate::project::{Project, ProjectError};
use crate::seeds::{self, SeedError};
use crate::squash::{self, SquashError, SquashRequest};
use crate::workflow::{self, WorkflowError};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    MetadataDir(#[from] MetadataDirError),
    #[error(transparent)]
    Metadata(#[from] MetadataOpsError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Migrations(#[from] MigrationsError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Squash(#[from] SquashError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("{0}")]
    Usage(String),
    #[error("could not read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The project and server a command works on.
pub struct Context {
    pub project: Project,
    pub client: ServerClient,
    pub database: String,
}

impl Context {
    pub fn open(connection: &Connection) -> Result<Context, CliError> {
        let project = Project::open(&connection.project)?;
        let endpoint = connection
            .endpoint
            .clone()
            .or_else(|| project.config.endpoint.clone())
            .unwrap_or_else(|| "http://localhost:8080".to_string());
        let secret = connection
            .admin_secret
            .clone()
            .or_else(|| project.config.admin_secret.clone());
        Ok(Context {
            client: ServerClient::new(&endpoint, secret),
            database: connection.database_name.clone(),
            project,
        })
    }
}

pub async fn run(command: ProjectCommand) -> Result<u8, CliError> {
    match command {
        ProjectCommand::Init(args) => {
            let project = Project::init(&args.directory, args.endpoint.as_deref())?;
            println!("project created in {}", project.root.display());
            Ok(0)
        }
        ProjectCommand::Migrate(args) => {
            migrate_command(&Context::open(&args.connection)?, args.command).await
        }
        ProjectCommand::Metadata(args) => {
            metadata_command(&Context::open(&args.connection)?, args.command).await
        }
        ProjectCommand::Seed(args) => {
            seed_command(&Context::open(&args.connection)?, args.command).await
        }
        ProjectCommand::Deploy(args) => {
            let context = Context::open(&args.connection)?;
            let outcome =
                workflow::deploy(&context.client, &context.project, args.with_seeds).await?;
            for (database, applied) in &outcome.migrations {
                println!("{database}: {} migration step(s) applied", applied.len());
            }
            for (database, files) in &outcome.seeds {
                println!("{database}: {} seed file(s) applied", files.len());
            }
            if outcome.inconsistent_objects.is_empty() {
                println!("deployed; metadata is consistent");
                Ok(0)
            } else {
                eprintln!("deploy finished with inconsistent metadata:");
                for object in &outcome.inconsistent_objects {
                    eprintln!("  {}", metadata_ops::describe(object));
                }
                Ok(1)
            }
        }
        ProjectCommand::Console(args) => {
            let context = Context::open(&args.connection)?;
            let address = format!("{}:{}", args.address, args.console_port);
            let listener = tokio::net::TcpListener::bind(&address)
                .await
                .map_err(|e| CliError::Usage(format!("could not listen on {address}: {e}")))?;
            println!(
                "console API on http://{address}/apis/migrate (changes become migrations in {})",
                context.project.root.display()
            );
            let state = crate::console::ConsoleState::new(context.client, context.project);
            crate::console::serve(listener, state)
                .await
                .map_err(|e| CliError::Usage(format!("console server stopped: {e}")))?;
            Ok(0)
        }
        ProjectCommand::Check(args) => {
            let context = Context::open(&args.connection)?;
            let report = workflow::check(&context.client, &context.project).await?;
            if report.problems.is_empty() {
                println!("the project and the server agree");
                return Ok(0);
            }
            for problem in &report.problems {
                println!("drift: {problem}");
            }
            print!("{}", report.metadata_diff);
            Ok(1)
        }
    }
}

async fn migrate_command(context: &Context, command: MigrateCommand) -> Result<u8, CliError> {
    let migrations_dir = context.project.migrations_dir();
    let database = context.database.as_str();
    match command {
        MigrateCommand::Create(args) => {
            if args.from_server {
                let migration = crate::migrate::create_from_server(
                    &context.client,
                    &migrations_dir,
                    database,
                    &args.name,
                    &args.schema,
                )
                .await?;
                println!(
                    "created migration {} from the server's schema",
                    migration.dir.display()
                );
                println!(
                    "version: {} (marked as applied on the server it came from)",
                    migration.version
                );
                return Ok(0);
            }
            let up = match (&args.sql_from_file, &args.up_sql) {
                (Some(path), _) => {
                    std::fs::read_to_string(path).map_err(|source| CliError::Read {
                        path: path.clone(),
                        source,
                    })?
                }
                (None, Some(sql)) => sql.clone(),
                (None, None) => String::new(),
            };
            let down = args.down_sql.clone().unwrap_or_default();
            let migration =
                migrations::create(&migrations_dir, database, &args.name, &up, &down, &[])?;
            println!("created migration {}", migration.dir.display());
            println!("version: {}", migration.version);
            Ok(0)
        }
        MigrateCommand::Apply(args) => {
            let options = apply_options(&args)?;
            let databases = if args.all_databases {
                migrations::databases(&migrations_dir)?
            } else {
                vec![database.to_string()]
            };
            for db in databases {
                let applied =
                    migrate::apply(&context.client, &migrations_dir, &db, &options).await?;
                if applied.is_empty() {
                    println!("{db}: nothing to apply");
                }
                for step in applied {
                    let how = if step.executed { "applied" } else { "recorded" };
                    let direction = match step.direction {
                        Direction::Up => "up",
                        Direction::Down => "down",
                    };
                    println!("{db}: {how} {}_{} ({direction})", step.version, step.name);
                }
            }
            Ok(0)
        }
        MigrateCommand::Status => {
            let rows = migrate::status(&context.client, &migrations_dir, database).await?;
            println!(
                "{:<16} {:<32} {:<14} {:<16}",
                "VERSION", "NAME", "SOURCE STATUS", "DATABASE STATUS"
            );
            for row in rows {
                let source = if row.in_source {
                    "Present"
                } else {
                    "Not Present"
                };
                let db = match (row.in_database, row.dirty) {
                    (true, true) => "Dirty",
                    (true, false) => "Present",
                    (false, _) => "Not Present",
                };
                println!(
                    "{:<16} {:<32} {:<14} {:<16}",
                    row.version, row.name, source, db
                );
            }
            Ok(0)
        }
        MigrateCommand::Squash(args) => {
            let outcome = squash::squash(
                Some(&context.client),
                &SquashRequest {
                    migrations_dir: &migrations_dir,
                    database,
                    from: args.from,
                    name: &args.name,
                    delete_source: args.delete_source,
                },
            )
            .await?;
            println!(
                "squashed {} migration(s) into {} (verified on a throwaway database)",
                outcome.squashed.len(),
                outcome.migration.dir.display()
            );
            if outcome.marked_applied {
                println!(
                    "marked version {} as applied on the server",
                    outcome.migration.version
                );
            }
            Ok(0)
        }
        MigrateCommand::Delete(args) => {
            let version = if args.all { None } else { args.version };
            let deleted = migrate::delete(
                &context.client,
                &migrations_dir,
                database,
                version,
                args.server,
            )
            .await?;
            println!("deleted {} migration(s)", deleted.len());
            Ok(0)
        }
    }
}

fn apply_options(args: &MigrateApplyArgs) -> Result<ApplyOptions, CliError> {
    let down = match args.down.as_deref() {
        None => None,
        Some("all") => Some(None),
        Some(n) => Some(Some(n.parse::<usize>().map_err(|_| {
            CliError::Usage(format!("--down takes a number or \"all\", not {n:?}"))
        })?)),
    };
    Ok(ApplyOptions {
        version: args.version.map(|v| {
            let direction = match args.step_type {
                StepType::Up => Direction::Up,
                StepType::Down => Direction::Down,
            };
            (v, direction)
        }),
        down,
        up: args.up,
        goto: args.goto,
        skip_execution: args.skip_execution,
    })
}

async fn metadata_command(context: &Context, command: MetadataCommand) -> Result<u8, CliError> {
    let client = &context.client;
    let dir = context.project.metadata_dir();
    match command {
        MetadataCommand::Export => {
            let count = metadata_ops::export(client, &dir).await?;
            println!(
                "exported the server's metadata into {} ({count} files)",
                dir.display()
            );
            Ok(0)
        }
        MetadataCommand::Apply(args) => {
            let outcome =
                metadata_ops::apply(client, &dir, !args.disallow_inconsistent_metadata).await?;
            println!("metadata applied");
            if !outcome.inconsistent_objects.is_empty() {
                eprintln!("warning: the metadata is inconsistent:");
                for object in &outcome.inconsistent_objects {
                    eprintln!("  {}", metadata_ops::describe(object));
                }
            }
            Ok(0)
        }
        MetadataCommand::Diff => {
            let diff = metadata_ops::diff(client, &dir).await?;
            if diff.is_empty() {
                println!("no difference between the project's metadata and the server's");
                Ok(0)
            } else {
                print!("{diff}");
                Ok(1)
            }
        }
        MetadataCommand::Reload => {
            let inconsistent = metadata_ops::reload(client).await?;
            println!("metadata reloaded");
            report_inconsistencies(&inconsistent)
        }
        MetadataCommand::Clear => {
            metadata_ops::clear(client).await?;
            println!("metadata cleared");
            Ok(0)
        }
        MetadataCommand::Inconsistency(InconsistencyCommand::List) => {
            let inconsistent = metadata_ops::inconsistencies(client).await?;
            for object in &inconsistent {
                println!("{}", metadata_ops::describe(object));
            }
            if inconsistent.is_empty() {
                println!("metadata is consistent");
            }
            Ok(0)
        }
        MetadataCommand::Inconsistency(InconsistencyCommand::Status) => {
            report_inconsistencies(&metadata_ops::inconsistencies(client).await?)
        }
        MetadataCommand::Inconsistency(InconsistencyCommand::Drop) => {
            metadata_ops::drop_inconsistent(client).await?;
            println!("inconsistent objects dropped");
            Ok(0)
        }
    }
}

fn report_inconsistencies(objects: &[serde_json::Value]) -> Result<u8, CliError> {
    if objects.is_empty() {
        println!("metadata is consistent");
        return Ok(0);
    }
    eprintln!("metadata is inconsistent:");
    for object in objects {
        eprintln!("  {}", metadata_ops::describe(object));
    }
    Ok(1)
}

async fn seed_command(context: &Context, command: SeedCommand) -> Result<u8, CliError> {
    let seeds_dir = context.project.seeds_dir();
    let database = context.database.as_str();
    match command {
        SeedCommand::Create(args) => {
            let mut sql = String::new();
            for table in &args.from_table {
                sql.push_str(&seeds::table_rows_sql(&context.client, database, table).await?);
            }
            let path = seeds::create(&seeds_dir, database, &args.name, &sql)?;
            println!("created seed {}", path.display());
            Ok(0)
        }
        SeedCommand::Apply(args) => {
            let applied = seeds::apply(&context.client, &seeds_dir, database, &args.file).await?;
            println!("{database}: {} seed file(s) applied", applied.len());
            Ok(0)
        }
    }
}
