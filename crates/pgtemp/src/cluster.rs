//! A PostgreSQL cluster this process started and owns: persistent (the dev database of
//! `graft serve`, kept in the project) or throwaway (tests, the conformance runner).
//!
//! Start: find the binaries, make or reuse the data directory (`initdb` if new), pick a port,
//! `pg_ctl start`, then prove it with a real connection. Stop: `pg_ctl stop -m fast`, explicitly
//! with [`Cluster::stop`] or, as a fallback, on drop (bounded, never panics). The Unix socket
//! lives in a temp dir of its own, never `/var/run/postgresql` (often not writable for us).

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::binaries::PgBinaries;
use crate::data_dir::{self, DataDirState};
use crate::error::PgTempError;
use crate::run_as::RunAs;
use crate::server::{self, ServerSpec, StopMode};

/// How many ports to try when a freshly picked port is taken before the server binds it.
const PORT_ATTEMPTS: u32 = 5;
/// The server log of a persistent cluster, inside its data directory (restarted on each start).
const PERSISTENT_LOG_NAME: &str = "graft-postgres.log";
/// Longest identifier PostgreSQL keeps; longer names are silently truncated by the server.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Where and how to start a persistent cluster.
#[derive(Debug)]
pub struct ClusterOptions {
    /// Created and `initdb`'d if missing or empty; reused if it already holds a cluster.
    pub data_dir: PathBuf,
    /// `None`: pick a free local port.
    pub port: Option<u16>,
    /// `None`: [`PgBinaries::find`].
    pub binaries: Option<PgBinaries>,
}

/// A running PostgreSQL server on 127.0.0.1 with superuser `postgres` and trust auth.
#[derive(Debug)]
pub struct Cluster {
    binaries: PgBinaries,
    run_as: RunAs,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    throwaway: bool,
    /// Removed after the server stops: the whole cluster when throwaway, else the socket dir.
    owned_dir: Option<TempDir>,
    running: bool,
}

/// What `launch` needs beyond the options; differs between persistent and throwaway clusters.
struct Launch {
    binaries: PgBinaries,
    run_as: RunAs,
    data_dir: PathBuf,
    owned_dir: TempDir,
    socket_dir: PathBuf,
    log_file: PathBuf,
    fixed_port: Option<u16>,
    throwaway: bool,
}

impl Cluster {
    /// Persistent cluster in `options.data_dir` (the data survives stop/start).
    pub async fn start(options: ClusterOptions) -> Result<Cluster, PgTempError> {
        let binaries = match options.binaries {
            Some(binaries) => binaries,
            None => PgBinaries::find()?,
        };
        let run_as = RunAs::detect()?;
        let data_dir = std::path::absolute(&options.data_dir)
            .map_err(|source| PgTempError::io("could not resolve", &options.data_dir, source))?;
        let socket_dir = owned_temp_dir("graft-pgsock-", run_as)?;
        Self::launch(Launch {
            binaries,
            run_as,
            log_file: data_dir.join(PERSISTENT_LOG_NAME),
            data_dir,
            socket_dir: socket_dir.path().to_path_buf(),
            owned_dir: socket_dir,
            fixed_port: options.port,
            throwaway: false,
        })
        .await
    }

    /// Throwaway cluster in a fresh temp dir, removed when the Cluster is stopped or dropped.
    pub async fn temporary() -> Result<Cluster, PgTempError> {
        let binaries = PgBinaries::find()?;
        let run_as = RunAs::detect()?;
        let root = owned_temp_dir("graft-pgtemp-", run_as)?;
        Self::launch(Launch {
            binaries,
            run_as,
            data_dir: root.path().join("data"),
            socket_dir: root.path().to_path_buf(),
            log_file: root.path().join("server.log"),
            owned_dir: root,
            fixed_port: None,
            throwaway: true,
        })
        .await
    }

    async fn launch(launch: Launch) -> Result<Cluster, PgTempError> {
        let Launch {
            binaries,
            run_as,
            data_dir,
            owned_dir,
            socket_dir,
            log_file,
            fixed_port,
            throwaway,
        } = launch;
        prepare_data_dir(&binaries, run_as, &data_dir, throwaway).await?;

        let attempts = if fixed_port.is_some() {
            1
        } else {
            PORT_ATTEMPTS
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = match fixed_port {
                Some(port) => port,
                None => server::free_port()?,
            };
            restart_log(&log_file, run_as)?;
            let spec = ServerSpec {
                binaries: &binaries,
                run_as,
                data_dir: &data_dir,
                socket_dir: &socket_dir,
                log_file: &log_file,
                port,
                throwaway,
            };
            if let Err(failure) = server::pg_ctl_start(&spec).await {
                if failure.port_taken && attempt < attempts {
                    tracing::warn!(
                        port,
                        attempt,
                        "port taken before PostgreSQL bound it; retrying"
                    );
                    continue;
                }
                return Err(PgTempError::StartFailed {
                    port,
                    reason: failure.reason,
                    log_tail: server::log_tail(&log_file),
                    log_file,
                });
            }
            // From here on the server runs: dropping `cluster` stops it on any error.
            let cluster = Cluster {
                binaries,
                run_as,
                data_dir,
                socket_dir,
                log_file,
                port,
                throwaway,
                owned_dir: Some(owned_dir),
                running: true,
            };
            if let Err(err) = server::wait_ready(port).await {
                return Err(PgTempError::StartFailed {
                    port,
                    reason: format!("no connection succeeded within 30 s: {err}"),
                    log_tail: server::log_tail(&cluster.log_file),
                    log_file: cluster.log_file.clone(),
                });
            }
            tracing::info!(
                port,
                data_dir = %cluster.data_dir.display(),
                throwaway,
                "PostgreSQL cluster started"
            );
            return Ok(cluster);
        }
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE` (superuser `postgres`, trust auth).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            self.port,
            percent_encode(database)
        )
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server log (started afresh on each start).
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The binaries this cluster runs on.
    pub fn binaries(&self) -> &PgBinaries {
        &self.binaries
    }

    /// `CREATE DATABASE "name"`; an error if it exists.
    pub async fn create_database(&self, name: &str) -> Result<(), PgTempError> {
        self.admin_statement(format!("CREATE DATABASE {}", quote_identifier(name)?))
            .await
    }

    /// `DROP DATABASE IF EXISTS "name" WITH (FORCE)` (disconnects its sessions first).
    pub async fn drop_database(&self, name: &str) -> Result<(), PgTempError> {
        self.admin_statement(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(name)?
        ))
        .await
    }

    async fn admin_statement(&self, statement: String) -> Result<(), PgTempError> {
        tracing::debug!(port = self.port, %statement, "running admin statement");
        let client = server::connect(self.port, "postgres").await?;
        client
            .batch_execute(&statement)
            .await
            .map_err(|source| PgTempError::query(statement, source))
    }

    /// `pg_ctl stop -m fast`, waiting for the server to exit; a throwaway cluster's directory is
    /// removed too. On error the drop fallback still tries to stop the server.
    pub async fn stop(mut self) -> Result<(), PgTempError> {
        server::pg_ctl_stop(&self.binaries, self.run_as, &self.data_dir, StopMode::Fast).await?;
        self.running = false;
        if let Some(dir) = self.owned_dir.take() {
            let path = dir.path().to_path_buf();
            dir.close()
                .map_err(|source| PgTempError::io("could not remove", path, source))?;
        }
        tracing::info!(port = self.port, data_dir = %self.data_dir.display(), "PostgreSQL cluster stopped");
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        // A throwaway cluster's data is about to be deleted: no need for a clean shutdown.
        let mode = if self.throwaway {
            StopMode::Immediate
        } else {
            StopMode::Fast
        };
        if let Err(err) =
            server::pg_ctl_stop_blocking(&self.binaries, self.run_as, &self.data_dir, mode)
        {
            tracing::warn!(error = %err, data_dir = %self.data_dir.display(), "could not stop PostgreSQL on drop");
            if self.throwaway {
                data_dir::kill_postmaster(&self.data_dir);
            }
        }
        // `owned_dir` is removed when the fields drop, after the server is gone.
    }
}

/// Makes `data_dir` hold a cluster we may start: `initdb` when new; owner, version and
/// "not already running" checks when reused.
async fn prepare_data_dir(
    binaries: &PgBinaries,
    run_as: RunAs,
    data_dir: &Path,
    throwaway: bool,
) -> Result<(), PgTempError> {
    let state = data_dir::inspect(data_dir)?;
    run_as.check_reachable(data_dir)?;
    match state {
        DataDirState::Empty => {
            run_as.give(data_dir)?;
            server::initdb(binaries, run_as, data_dir, throwaway).await
        }
        DataDirState::Cluster => {
            tracing::info!(data_dir = %data_dir.display(), "reusing existing PostgreSQL cluster");
            data_dir::check_owner(data_dir, &run_as)?;
            let data_version = data_dir::cluster_major_version(data_dir)?;
            let binary_version = server::binaries_major_version(binaries).await?;
            if data_version != binary_version {
                return Err(PgTempError::VersionMismatch {
                    path: data_dir.to_path_buf(),
                    data_version,
                    binary_version,
                    bindir: binaries.bindir().to_path_buf(),
                });
            }
            data_dir::check_not_running(data_dir)
        }
    }
}

/// A fresh temp dir handed to the user PostgreSQL runs as.
fn owned_temp_dir(prefix: &str, run_as: RunAs) -> Result<TempDir, PgTempError> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|source| PgTempError::io("could not create", std::env::temp_dir(), source))?;
    run_as.give(dir.path())?;
    run_as.check_reachable(dir.path())?;
    Ok(dir)
}

/// Empties the log file so error messages quote only this start.
fn restart_log(log_file: &Path, run_as: RunAs) -> Result<(), PgTempError> {
    std::fs::File::create(log_file)
        .map_err(|source| PgTempError::io("could not create", log_file, source))?;
    run_as.give(log_file)
}

/// `"name"` with embedded quotes doubled; refuses what PostgreSQL would reject or truncate.
fn quote_identifier(name: &str) -> Result<String, PgTempError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.contains('\0') {
        Some("it contains a NUL character")
    } else if name.len() > MAX_IDENTIFIER_BYTES {
        Some("it is longer than 63 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PgTempError::InvalidDatabaseName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(format!("\"{}\"", name.replace('"', "\"\""))),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for the URL path).
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_checked() {
        assert_eq!(quote_identifier("app").unwrap(), "\"app\"");
        assert_eq!(quote_identifier("a\"b").unwrap(), "\"a\"\"b\"");
        assert!(quote_identifier("").is_err());
        assert!(quote_identifier("a\0b").is_err());
        assert!(quote_identifier(&"x".repeat(64)).is_err());
        assert!(quote_identifier(&"x".repeat(63)).is_ok());
    }

    #[test]
    fn database_names_are_percent_encoded_in_urls() {
        assert_eq!(percent_encode("app_test-1"), "app_test-1");
        assert_eq!(percent_encode("my db/é"), "my%20db%2F%C3%A9");
    }
}
