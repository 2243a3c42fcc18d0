//! `graft-conformance`: plays Hasura v2's own integration cases (the YAML files of
//! `../shared/hasura-conformance/queries`, described by its `HARNESS.md`) against graft.
//!
//! In: a data folder (`queries/`, `manifest.tsv`, optionally `HARNESS.md`), a graft binary and
//! a PostgreSQL server (a throwaway cluster by default). For every selected folder it creates a
//! fresh database, starts one graft on it, replays the fixture life-cycle of the original pytest
//! class around the case files, and compares each reply with the expectation the way Hasura's
//! harness did. Out: a table per folder, a summary table, and as the very last line
//! `N passed, N failed`; optionally a JSON file of every case and a known-failures check.
//!
//! It sits outside the request pipeline: it only talks to `graft serve` over HTTP and
//! WebSockets, so it is the end-to-end measure of compatibility. `--transport` replays GraphQL
//! cases over `graphql-ws`, `graphql-transport-ws` and as live subscriptions too (see
//! [`transport::Transport`], [`ws_step`], [`scenarios`]). Beside each engine run the suite's
//! action handler ([`action_handler`]) and event webhook ([`event_webhook`]); the event-trigger
//! tests that Python drove are re-implemented in [`event_scenarios`]. `--auth-mode webhook`
//! replays the permission folders through an auth webhook ([`auth_webhook`]).

mod action_handler;
mod appendix;
mod auth_webhook;
mod case_file;
mod cli;
mod compare;
mod database;
mod discovery;
mod engine;
mod event_scenarios;
mod event_webhook;
mod fixtures;
mod known_failures;
mod manifest;
mod method_files;
mod report;
mod runner;
mod scenarios;
mod selset;
mod style;
mod transport;
mod ws;
mod ws_step;

use anyhow::{Context, bail};
use clap::Parser;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("graft-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: cli::Args) -> anyhow::Result<ExitCode> {
    let queries_dir = args.data.join("queries");
    if !queries_dir.is_dir() {
        bail!("{} has no queries/ folder", args.data.display());
    }
    let rows = manifest::read_manifest(&args.data.join("manifest.tsv"))?;
    let classes = match std::fs::read_to_string(args.data.join("HARNESS.md")) {
        Ok(text) => appendix::parse_class_tables(&text),
        Err(_) => HashMap::new(),
    };
    let selection = manifest::Selection {
        prefixes: args.prefixes(),
        tiers: args.tiers(),
    };
    let transports = args.transports().map_err(anyhow::Error::msg)?;
    let webhook = args.webhook_mode().map_err(anyhow::Error::msg)?;
    if webhook && transports != [transport::Transport::Http] {
        bail!("--auth-mode webhook replays over HTTP only: drop --transport");
    }
    let mut plans = discovery::discover(&queries_dir, &rows, &selection, &classes);
    if webhook {
        plans.retain(|plan| auth_webhook::covers(&plan.folder));
    }
    let python_only = scenarios::python_only_folders(&transports);
    if !webhook && !python_only.is_empty() {
        let extra = discovery::python_only_plans(
            &queries_dir,
            &python_only,
            &rows,
            &selection,
            &classes,
            &plans,
        );
        plans.extend(extra);
        plans.sort_by(|a, b| a.folder.cmp(&b.folder));
    }
    for plan in &mut plans {
        event_scenarios::adjust_fixtures(&plan.folder, &mut plan.fixtures);
    }
    if args.list {
        for plan in &plans {
            print!("{}", discovery::describe(plan));
        }
        println!("{} folders", plans.len());
        return Ok(ExitCode::SUCCESS);
    }

    let known = match args
        .known_failures
        .as_ref()
        .or(args.update_known_failures.as_ref())
    {
        Some(path) if path.exists() || args.known_failures.is_some() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(known_failures::KnownFailures::parse(&text)?)
        }
        _ => None,
    };

    let results = if plans.is_empty() {
        Vec::new()
    } else {
        run_plans(&args, plans, transports, webhook).await?
    };

    let all_cases: Vec<report::CaseResult> = results.iter().flat_map(|r| r.cases.clone()).collect();
    if let Some(path) = &args.json {
        report::write_json(path, &results)?;
    }
    let verdict = known_failures::judge(&all_cases, known.as_ref());
    if known.is_some() {
        for path in &verdict.now_passing {
            println!("now passing, remove from known failures: {path}");
        }
        for path in &verdict.new_failures {
            println!("new failure (not in known failures): {path}");
        }
    }
    if let Some(path) = &args.update_known_failures {
        std::fs::write(path, known_failures::updated(&all_cases, known.as_ref()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("known failures written to {}", path.display());
    }
    println!("{}", report::summary(&results));
    Ok(if verdict.exit_code() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_plans(
    args: &cli::Args,
    plans: Vec<discovery::FolderPlan>,
    transports: Vec<transport::Transport>,
    webhook: bool,
) -> anyhow::Result<Vec<report::FolderResult>> {
    let graft_bin = match &args.graft_bin {
        Some(path) => path.clone(),
        None => engine::default_binary().context("cannot locate the runner's own executable")?,
    };
    if !graft_bin.is_file() {
        bail!(
            "graft binary not found at {}: build it with cargo build --release -p graft (or pass --graft-bin)",
            graft_bin.display()
        );
    }
    let log_dir = args.log_dir.clone().unwrap_or_else(default_log_dir);
    std::fs::create_dir_all(&log_dir)
        .with_context(|| format!("cannot create {}", log_dir.display()))?;
    let db = database::DbServer::start(args.pg_url.as_deref()).await?;
    db.prepare_template().await?;
    let context = Arc::new(runner::RunContext {
        db,
        graft_bin,
        log_dir,
        compare: compare::CompareOptions {
            strict: args.strict,
        },
        request_timeout: Duration::from_secs(60),
        health_timeout: Duration::from_secs(30),
        transports,
        frame_timeout: Duration::from_secs(15),
        webhook,
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(args.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, plan) in plans.into_iter().enumerate() {
        let context = Arc::clone(&context);
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            runner::run_folder(&context, &plan, index).await
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            // A folder with nothing to replay over the selected transports says nothing.
            Ok(result) if result.cases.is_empty() && result.notes.is_empty() => {}
            Ok(result) => {
                print!("{}", report::folder_table(&result));
                results.push(result);
            }
            Err(e) => eprintln!("a folder task failed: {e}"),
        }
    }
    match Arc::try_unwrap(context) {
        Ok(context) => {
            if let Err(e) = context.db.stop().await {
                eprintln!("warning: {e}");
            }
        }
        Err(_) => eprintln!("warning: the database server is still shared; not stopped"),
    }
    Ok(results)
}

/// `target/conformance-logs`: the runner lives in `target/<profile>/`.
fn default_log_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("conformance-logs")))
        .unwrap_or_else(|| PathBuf::from("target/conformance-logs"))
}
