//! The `graft` binary: an instant GraphQL API over PostgreSQL, a drop-in replacement for Hasura
//! GraphQL Engine v2.
//!
//! In: command-line flags and `HASURA_GRAPHQL_*` environment variables (Hasura's names and
//! defaults). Out: a running server (`graft serve`). With no database URL, `serve` starts and owns
//! a PostgreSQL cluster in `./.graft/pgdata` (the embedded dev database) and stops it on exit.

mod cli;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, ServeArgs};
use graft_pgtemp::{Cluster, ClusterOptions};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::Version => {
            println!("graft {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Project(command) => match runtime.block_on(graft_cli::run(*command)) {
            Ok(0) => Ok(()),
            Ok(code) => std::process::exit(i32::from(code)),
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
        },
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{level},tower_http=warn,tokio_postgres=warn"
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_level);
    // Checked before the dev database starts: a bad secret configuration fails fast.
    let auth = args
        .auth_config()
        .context("invalid authentication configuration")?;
    // The embedded dev database: only when no database URL was given.
    let (database_url, cluster) = match args.database_url.clone() {
        Some(url) => (url, None),
        None => {
            let data_dir = args.dev_data_dir.clone();
            tracing::info!(data_dir = %data_dir.display(), "no database URL given: starting the embedded dev database");
            let cluster = Cluster::start(ClusterOptions {
                data_dir,
                port: args.dev_database_port,
                binaries: None,
            })
            .await
            .context("could not start the embedded dev database")?;
            (cluster.url("postgres"), Some(cluster))
        }
    };
    let config = args.into_server_config(database_url, auth);
    let result = graft_server::serve(config, shutdown_signal()).await;
    if let Some(cluster) = cluster {
        tracing::info!("stopping the embedded dev database");
        if let Err(error) = cluster.stop().await {
            tracing::error!(%error, "could not stop the embedded dev database cleanly");
        }
    }
    result.map_err(anyhow::Error::from)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
