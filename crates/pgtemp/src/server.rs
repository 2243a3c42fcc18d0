//! Running the PostgreSQL programs: `initdb`, `pg_ctl start`/`stop`, and the first connection
//! that proves a server is really up. Also the small helpers these need (a free port, the tail
//! of the server log, shell quoting for `pg_ctl -o`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

use crate::binaries::PgBinaries;
use crate::error::PgTempError;
use crate::run_as::RunAs;

/// How long `pg_ctl` may wait for the server to start or stop.
const PG_CTL_TIMEOUT_SECS: &str = "60";
/// How long to keep trying the first connection after `pg_ctl start` returned.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of the server log quoted in start errors.
const LOG_TAIL_LINES: usize = 30;

/// Everything needed to start one server process.
#[derive(Debug)]
pub(crate) struct ServerSpec<'a> {
    pub(crate) binaries: &'a PgBinaries,
    pub(crate) run_as: RunAs,
    pub(crate) data_dir: &'a Path,
    pub(crate) socket_dir: &'a Path,
    pub(crate) log_file: &'a Path,
    pub(crate) port: u16,
    /// Durability settings are off for throwaway clusters (fast), on for persistent ones.
    pub(crate) throwaway: bool,
}

/// Why `pg_ctl start` failed; `port_taken` lets the caller retry on another port.
#[derive(Debug)]
pub(crate) struct StartFailure {
    pub(crate) reason: String,
    pub(crate) port_taken: bool,
}

/// `pg_ctl stop -m <mode>`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StopMode {
    /// Disconnect clients, checkpoint, exit: the data is clean.
    Fast,
    /// Exit at once; the next start runs crash recovery. Fine for throwaway clusters.
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

/// Runs `command` to completion without blocking the runtime.
async fn run(command: Command) -> Result<Output, PgTempError> {
    let program = PathBuf::from(command.get_program());
    let mut command = tokio::process::Command::from(command);
    command.stdin(Stdio::null());
    command
        .output()
        .await
        .map_err(|err| PgTempError::CommandFailed {
            program,
            detail: format!("could not run it: {err}"),
        })
}

fn describe_output(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    format!(
        "{}\n{}\n{}",
        output.status,
        stderr.trim_end(),
        stdout.trim_end()
    )
    .trim_end()
    .to_owned()
}

/// Creates a new cluster in `data_dir` (which must be missing or empty and owned by `run_as`).
pub(crate) async fn initdb(
    binaries: &PgBinaries,
    run_as: RunAs,
    data_dir: &Path,
    throwaway: bool,
) -> Result<(), PgTempError> {
    let mut command = run_as.command(&binaries.initdb());
    command.arg("-D").arg(data_dir).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    if throwaway {
        command.arg("--no-sync");
    }
    tracing::info!(data_dir = %data_dir.display(), "initdb: creating a PostgreSQL cluster");
    let output = run(command).await?;
    if output.status.success() {
        Ok(())
    } else {
        Err(PgTempError::CommandFailed {
            program: binaries.initdb(),
            detail: describe_output(&output),
        })
    }
}

/// The major version of the binaries, as `PG_VERSION` spells it (`15`, `9.6`).
pub(crate) async fn binaries_major_version(binaries: &PgBinaries) -> Result<String, PgTempError> {
    let mut command = Command::new(binaries.postgres());
    command.arg("--version");
    let output = run(command).await?;
    let text = String::from_utf8_lossy(&output.stdout);
    crate::data_dir::major_from_version_output(&text).ok_or_else(|| PgTempError::CommandFailed {
        program: binaries.postgres(),
        detail: format!("unexpected `--version` output: {}", text.trim()),
    })
}

/// The `postgres` options passed through `pg_ctl -o`, which hands them to `/bin/sh`.
pub(crate) fn server_options(port: u16, socket_dir: &Path, throwaway: bool) -> String {
    let mut options = vec![
        "-c listen_addresses=127.0.0.1".to_owned(),
        format!("-p {port}"),
        format!(
            "-c unix_socket_directories={}",
            shell_quote(&socket_dir.to_string_lossy())
        ),
        "-c max_connections=200".to_owned(),
    ];
    if throwaway {
        options.extend(
            [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ]
            .map(|setting| format!("-c {setting}")),
        );
    }
    options.join(" ")
}

/// Quotes `text` as one word for `/bin/sh`.
pub(crate) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `pg_ctl start -w`: returns once the postmaster reports it accepts connections.
pub(crate) async fn pg_ctl_start(spec: &ServerSpec<'_>) -> Result<(), StartFailure> {
    let mut command = spec.run_as.command(&spec.binaries.pg_ctl());
    command
        .args(["start", "-w", "-t", PG_CTL_TIMEOUT_SECS, "-D"])
        .arg(spec.data_dir)
        .arg("-l")
        .arg(spec.log_file)
        .arg("-o")
        .arg(server_options(spec.port, spec.socket_dir, spec.throwaway));
    tracing::info!(
        data_dir = %spec.data_dir.display(),
        port = spec.port,
        log_file = %spec.log_file.display(),
        "pg_ctl start"
    );
    let output = run(command).await.map_err(|err| StartFailure {
        reason: err.to_string(),
        port_taken: false,
    })?;
    if output.status.success() {
        return Ok(());
    }
    let log = std::fs::read_to_string(spec.log_file).unwrap_or_default();
    Err(StartFailure {
        reason: format!("pg_ctl start failed: {}", describe_output(&output)),
        port_taken: log_says_port_taken(&log),
    })
}

fn log_says_port_taken(log: &str) -> bool {
    log.contains("Address already in use")
        || log.contains("could not bind IPv4 address")
        || log.contains("could not create any TCP/IP sockets")
}

/// `pg_ctl stop -w` from async code.
pub(crate) async fn pg_ctl_stop(
    binaries: &PgBinaries,
    run_as: RunAs,
    data_dir: &Path,
    mode: StopMode,
) -> Result<(), PgTempError> {
    tracing::info!(data_dir = %data_dir.display(), mode = mode.as_arg(), "pg_ctl stop");
    let output = run(stop_command(
        binaries,
        run_as,
        data_dir,
        mode,
        PG_CTL_TIMEOUT_SECS,
    ))
    .await?;
    check_stop(binaries, &output)
}

/// `pg_ctl stop -w` for `Drop`, where nothing may be awaited; bounded by a short timeout.
pub(crate) fn pg_ctl_stop_blocking(
    binaries: &PgBinaries,
    run_as: RunAs,
    data_dir: &Path,
    mode: StopMode,
) -> Result<(), PgTempError> {
    tracing::info!(data_dir = %data_dir.display(), mode = mode.as_arg(), "pg_ctl stop (on drop)");
    let mut command = stop_command(binaries, run_as, data_dir, mode, "15");
    command.stdin(Stdio::null());
    let output = command.output().map_err(|err| PgTempError::CommandFailed {
        program: binaries.pg_ctl(),
        detail: format!("could not run it: {err}"),
    })?;
    check_stop(binaries, &output)
}

fn stop_command(
    binaries: &PgBinaries,
    run_as: RunAs,
    data_dir: &Path,
    mode: StopMode,
    timeout_secs: &str,
) -> Command {
    let mut command = run_as.command(&binaries.pg_ctl());
    command
        .args(["stop", "-w", "-t", timeout_secs, "-m", mode.as_arg(), "-D"])
        .arg(data_dir);
    command
}

fn check_stop(binaries: &PgBinaries, output: &Output) -> Result<(), PgTempError> {
    if output.status.success() {
        Ok(())
    } else {
        Err(PgTempError::CommandFailed {
            program: binaries.pg_ctl(),
            detail: describe_output(output),
        })
    }
}

/// Opens a connection as `postgres` over TCP; the connection task runs on the current runtime.
pub(crate) async fn connect(port: u16, database: &str) -> Result<Client, PgTempError> {
    let (client, connection) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname(database)
        .application_name("graft-pgtemp")
        .connect_timeout(Duration::from_secs(2))
        .connect(NoTls)
        .await
        .map_err(|source| PgTempError::connect(port, source))?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "pgtemp admin connection ended with an error");
        }
    });
    Ok(client)
}

/// Retries a real connection until it works: `pg_ctl -w` trusts the postmaster's own status,
/// which says nothing about the TCP listener our callers use.
pub(crate) async fn wait_ready(port: u16) -> Result<(), PgTempError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match connect(port, "postgres").await {
            Ok(_client) => {
                tracing::debug!(port, "PostgreSQL accepts connections");
                return Ok(());
            }
            Err(err) if Instant::now() >= deadline => return Err(err),
            Err(err) => {
                tracing::debug!(port, error = %err, "PostgreSQL not ready yet");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The last lines of the server log, for error messages.
pub(crate) fn log_tail(log_file: &Path) -> String {
    match std::fs::read(log_file) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
        }
        Err(err) => format!("(could not read the log: {err})"),
    }
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
pub(crate) fn free_port() -> Result<u16, PgTempError> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(PgTempError::NoFreePort)?;
    let port = listener
        .local_addr()
        .map_err(PgTempError::NoFreePort)?
        .port();
    Ok(port)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn options_quote_the_socket_dir_and_keep_durability_for_persistent_clusters() {
        let persistent = server_options(5555, Path::new("/tmp/it's here"), false);
        assert_eq!(
            persistent,
            "-c listen_addresses=127.0.0.1 -p 5555 -c unix_socket_directories='/tmp/it'\\''s here' \
             -c max_connections=200"
        );
        assert!(!persistent.contains("fsync"));
        let throwaway = server_options(5555, Path::new("/tmp/s"), true);
        assert!(
            throwaway.ends_with("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        );
    }

    #[test]
    fn port_conflicts_are_recognised_in_the_log() {
        assert!(log_says_port_taken(
            "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use"
        ));
        assert!(!log_says_port_taken(
            "FATAL:  data directory has wrong ownership"
        ));
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text).unwrap();
        let tail = log_tail(&log);
        assert!(tail.starts_with("line 70\n"));
        assert!(tail.ends_with("line 99"));
    }
}
