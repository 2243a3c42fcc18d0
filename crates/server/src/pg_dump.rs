//! `POST /v1alpha1/pg_dump` (admin only): runs `pg_dump` on a source's database, as Hasura does,
//! for `migrate create --from-server` and seeds. Body: `{"opts": [...], "clean_output": bool,
//! "source": "default"}`; answer: the dump as text.
//!
//! Options that would redirect the dump (a file) or the connection (another host, database or
//! user) are refused: the database is always the source's. The connection URL is passed to
//! `pg_dump` and never appears in an answer. `pg_dump` is `$GRAFT_PG_DUMP` or the one on PATH.

use crate::error::ApiError;
use crate::session;
use crate::state::{AppState, source_url};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct PgDumpArgs {
    opts: Vec<String>,
    #[serde(default)]
    clean_output: bool,
    #[serde(default = "default_source")]
    source: String,
}

fn default_source() -> String {
    graft_metadata::DEFAULT_SOURCE.to_string()
}

/// Prefixes of options that choose the output file or the connection.
const REFUSED: &[&str] = &[
    "-f",
    "--file",
    "-d",
    "--dbname",
    "-h",
    "--host",
    "-p",
    "--port",
    "-U",
    "--username",
    "-W",
    "--password",
];

/// Options whose value is the next argument (`--schema public`).
const TAKES_VALUE: &[&str] = &[
    "-n",
    "--schema",
    "-N",
    "--exclude-schema",
    "-t",
    "--table",
    "-T",
    "--exclude-table",
    "--exclude-table-data",
    "-E",
    "--encoding",
    "-Z",
    "--compress",
    "--section",
    "--lock-wait-timeout",
    "--extra-float-digits",
    "--rows-per-insert",
];

/// The first option that is not allowed: one of `REFUSED`, or a bare word that is not an
/// option's value (pg_dump would take it as the database name).
fn refused_option(opts: &[String]) -> Option<&String> {
    let mut expecting_value = false;
    for opt in opts {
        if expecting_value {
            expecting_value = false;
            continue;
        }
        if !opt.starts_with('-') || REFUSED.iter().any(|r| opt.starts_with(r)) {
            return Some(opt);
        }
        expecting_value = TAKES_VALUE.contains(&opt.as_str());
    }
    None
}

pub async fn handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match dump(&state, &headers, &body).await {
        Ok(text) => ([(header::CONTENT_TYPE, "application/sql")], text).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn dump(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    if !state.config.api_enabled("pgdump") {
        return Err(ApiError::new("not-found", "resource does not exist")
            .with_status(StatusCode::NOT_FOUND));
    }
    let session = session::resolve(state, headers).await?;
    if !session.is_admin() {
        return Err(ApiError::admin_only());
    }
    let args: PgDumpArgs = serde_json::from_slice(body)
        .map_err(|e| ApiError::parse_failed(format!("Error in $: {e}")))?;
    if let Some(bad) = refused_option(&args.opts) {
        return Err(ApiError::new(
            "invalid-params",
            format!("pg_dump option {bad:?} is not allowed: the dump is always of the source's database, to the answer"),
        )
        .at("$.opts"));
    }
    let cache = state.current();
    let source = cache.metadata.source(&args.source).ok_or_else(|| {
        ApiError::not_exists(format!(
            "source with name \"{}\" does not exist",
            args.source
        ))
    })?;
    let url = source_url(&state.config, &source.configuration)
        .ok_or_else(|| ApiError::new("unexpected", "the source's database URL is not set"))?;
    let program = std::env::var("GRAFT_PG_DUMP").unwrap_or_else(|_| "pg_dump".to_string());
    let output = tokio::process::Command::new(&program)
        .args(&args.opts)
        .arg("--dbname")
        .arg(&url)
        .output()
        .await
        .map_err(|e| ApiError::new("unexpected", format!("could not run {program}: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).replace(&url, "<database>");
        return Err(ApiError::new(
            "unexpected",
            format!("pg_dump failed: {}", stderr.trim()),
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    Ok(if args.clean_output {
        clean(&text)
    } else {
        text
    })
}

/// Hasura's `clean_output`: no comments, session settings, blank runs or `public` schema
/// creation, only the DDL.
fn clean(dump: &str) -> String {
    let mut out = String::new();
    for line in dump.lines() {
        let skip = line.starts_with("--")
            || line.starts_with('\\')
            || line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config")
            // Every database has the public schema: a migration must not create it again.
            || line == "CREATE SCHEMA public;"
            || line.starts_with("COMMENT ON SCHEMA public IS")
            || (line.trim().is_empty() && (out.is_empty() || out.ends_with("\n\n")));
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim_end().to_string() + "\n"
}
