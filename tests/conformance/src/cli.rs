//! Command-line options.

use crate::transport::Transport;
use clap::Parser;
use std::path::PathBuf;

/// Plays Hasura's YAML conformance cases against graft and reports pass/fail per folder.
#[derive(Debug, Clone, Parser)]
#[command(name = "graft-conformance", version)]
pub struct Args {
    /// Folder holding `queries/` and `manifest.tsv` (and optionally `HARNESS.md`).
    #[arg(long)]
    pub data: PathBuf,

    /// Only cases whose path under `queries/` starts with this prefix (repeatable or
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub filter: Vec<String>,

    /// Only these tiers (manifest column 2), comma-separated; default: every tier.
    #[arg(long, value_delimiter = ',')]
    pub tier: Vec<String>,

    /// Write every case result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Error bodies must match too (default: Hasura-compatible leniency).
    #[arg(long)]
    pub strict: bool,

    /// The graft binary; default: `graft` next to this executable.
    #[arg(long)]
    pub graft_bin: Option<PathBuf>,

    /// Cases known to fail (`case_path<TAB>reason`); only other failures fail the run.
    #[arg(long)]
    pub known_failures: Option<PathBuf>,

    /// Rewrite this known-failures file from the results of this run.
    #[arg(long)]
    pub update_known_failures: Option<PathBuf>,

    /// Folders run in parallel (each with its own database and graft).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,

    /// An existing PostgreSQL superuser URL; default: a throwaway cluster.
    #[arg(long)]
    pub pg_url: Option<String>,

    /// Print the folder plans (style, fixtures, runnable cases) and exit without running.
    #[arg(long)]
    pub list: bool,

    /// Transports each GraphQL case is replayed over, comma-separated: `http`, `websocket`
    /// (legacy `graphql-ws`), `graphql-transport-ws`, `subscription` (the query as a live
    /// subscription). A case runs over a WebSocket transport only when its pytest class lists
    /// it (Appendix A); the subscription step files and protocol checks need one of the first
    /// two. Default: `http`.
    #[arg(long = "transport", value_delimiter = ',', default_value = "http")]
    pub transports: Vec<String>,

    /// How requests authenticate: `default` (each folder as its pytest class configures it) or
    /// `webhook` (HARNESS.md 4.4: only the permission folders, graft behind an admin secret and
    /// an auth webhook the runner serves; role headers travel as a bearer token the webhook
    /// decodes). Results of webhook mode are keyed `path@webhook`.
    #[arg(long = "auth-mode", default_value = "default")]
    pub auth_mode: String,

    /// Where graft logs go; default: `target/conformance-logs` (next to the build directory).
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
}

impl Args {
    /// Filters with surrounding spaces and empty pieces removed.
    pub fn prefixes(&self) -> Vec<String> {
        clean(&self.filter)
    }

    pub fn tiers(&self) -> Vec<String> {
        clean(&self.tier)
    }

    /// The selected transports in the order given, without repeats; an unknown name is an
    /// error that lists the known ones.
    pub fn transports(&self) -> Result<Vec<Transport>, String> {
        let mut selected = Vec::new();
        for name in clean(&self.transports) {
            let transport = Transport::parse(&name).ok_or_else(|| {
                let known: Vec<&str> = Transport::ALL.iter().map(|t| t.name()).collect();
                format!("unknown transport {name:?} (known: {})", known.join(", "))
            })?;
            if !selected.contains(&transport) {
                selected.push(transport);
            }
        }
        if selected.is_empty() {
            return Err("--transport needs at least one transport".into());
        }
        Ok(selected)
    }
}

impl Args {
    /// Whether the run is in webhook mode; an unknown mode is an error.
    pub fn webhook_mode(&self) -> Result<bool, String> {
        match self.auth_mode.trim() {
            "default" => Ok(false),
            "webhook" => Ok(true),
            other => Err(format!(
                "unknown auth mode {other:?} (known: default, webhook)"
            )),
        }
    }
}

fn clean(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_defaults() {
        let args = Args::try_parse_from([
            "graft-conformance",
            "--data",
            "d",
            "--filter",
            "v1/select,graphql_query",
            "--filter",
            "v2",
            "--tier",
            "T1, T2-feature",
        ])
        .unwrap();
        assert_eq!(args.prefixes(), vec!["v1/select", "graphql_query", "v2"]);
        assert_eq!(args.tiers(), vec!["T1", "T2-feature"]);
        assert_eq!(args.jobs, 2);
        assert!(!args.strict);
        assert_eq!(args.transports().unwrap(), vec![Transport::Http]);
        assert!(Args::try_parse_from(["graft-conformance"]).is_err());
        let args = Args::try_parse_from([
            "graft-conformance",
            "--data",
            "d",
            "--transport",
            "http,websocket,graphql-transport-ws,subscription,http",
        ])
        .unwrap();
        assert_eq!(args.transports().unwrap(), Transport::ALL.to_vec());
        assert!(!args.webhook_mode().unwrap());
        let webhook =
            Args::try_parse_from(["graft-conformance", "--data", "d", "--auth-mode", "webhook"])
                .unwrap();
        assert!(webhook.webhook_mode().unwrap());
        let unknown =
            Args::try_parse_from(["graft-conformance", "--data", "d", "--auth-mode", "jwt"])
                .unwrap();
        assert!(unknown.webhook_mode().unwrap_err().contains("webhook"));
        let bad = Args::try_parse_from(["graft-conformance", "--data", "d", "--transport", "ws"])
            .unwrap();
        assert!(bad.transports().unwrap_err().contains("websocket"));
    }
}
