//! Checks on a data directory before a server is started on it: is it new, a cluster we may
//! reuse, or something we must not touch; and is a server already running on it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::error::PgTempError;
use crate::run_as::RunAs;

/// What a data directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataDirState {
    /// Missing (now created) or empty: needs `initdb`.
    Empty,
    /// Holds a cluster (has `PG_VERSION`): reuse it.
    Cluster,
}

/// Creates `data_dir` if missing and says what it holds.
pub(crate) fn inspect(data_dir: &Path) -> Result<DataDirState, PgTempError> {
    if !data_dir.exists() {
        tracing::debug!(data_dir = %data_dir.display(), "creating data directory");
        std::fs::create_dir_all(data_dir)
            .map_err(|source| PgTempError::io("could not create", data_dir, source))?;
        return Ok(DataDirState::Empty);
    }
    if data_dir.join("PG_VERSION").is_file() {
        return Ok(DataDirState::Cluster);
    }
    let mut entries = std::fs::read_dir(data_dir)
        .map_err(|source| PgTempError::io("could not read", data_dir, source))?;
    if entries.next().is_none() {
        Ok(DataDirState::Empty)
    } else {
        Err(PgTempError::NotAClusterDir {
            path: data_dir.to_path_buf(),
        })
    }
}

/// PostgreSQL only starts on a data directory owned by the user it runs as.
pub(crate) fn check_owner(data_dir: &Path, run_as: &RunAs) -> Result<(), PgTempError> {
    let meta = std::fs::metadata(data_dir)
        .map_err(|source| PgTempError::io("could not inspect", data_dir, source))?;
    if meta.uid() == run_as.uid() {
        Ok(())
    } else {
        Err(PgTempError::WrongOwner {
            path: data_dir.to_path_buf(),
            owner: meta.uid(),
            expected: run_as.uid(),
        })
    }
}

/// The major version that created the cluster (`PG_VERSION`, e.g. `15` or `9.6`).
pub(crate) fn cluster_major_version(data_dir: &Path) -> Result<String, PgTempError> {
    let file = data_dir.join("PG_VERSION");
    let text = std::fs::read_to_string(&file)
        .map_err(|source| PgTempError::io("could not read", &file, source))?;
    Ok(text.trim().to_owned())
}

/// The major version in `postgres --version` output (`postgres (PostgreSQL) 15.8 (Debian…)`):
/// one number since 10, two before (`9.6`), as `PG_VERSION` writes it.
pub(crate) fn major_from_version_output(output: &str) -> Option<String> {
    let version = output
        .split("(PostgreSQL)")
        .nth(1)?
        .split_whitespace()
        .next()?;
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let first: u32 = parts.next()?.parse().ok()?;
    if first >= 10 {
        Some(first.to_string())
    } else {
        let second: u32 = parts.next()?.parse().ok()?;
        Some(format!("{first}.{second}"))
    }
}

/// Refuses a data directory whose `postmaster.pid` names a live server, and removes a stale one.
///
/// PostgreSQL removes a lock file whose pid is dead by itself, but if that pid has since been
/// reused by an unrelated process it refuses to start ("lock file already exists"); a dev
/// cluster left behind by a crash and a reboot hits exactly that, so we clear it here.
pub(crate) fn check_not_running(data_dir: &Path) -> Result<(), PgTempError> {
    let pid_file = data_dir.join("postmaster.pid");
    let text = match std::fs::read_to_string(&pid_file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(PgTempError::io("could not read", &pid_file, source)),
    };
    let pid = text
        .lines()
        .next()
        .and_then(|line| line.trim().parse::<i32>().ok())
        .filter(|pid| *pid > 0);
    if let Some(pid) = pid
        && is_live_postgres(pid)
    {
        return Err(PgTempError::AlreadyRunning {
            path: data_dir.to_path_buf(),
            pid,
        });
    }
    tracing::info!(pid_file = %pid_file.display(), ?pid, "removing stale postmaster.pid");
    std::fs::remove_file(&pid_file)
        .map_err(|source| PgTempError::io("could not remove stale", &pid_file, source))
}

/// Last resort when `pg_ctl stop` failed on a throwaway cluster: SIGKILL the postmaster (its
/// children exit when they notice it is gone), so deleting the directory leaves no server behind.
pub(crate) fn kill_postmaster(data_dir: &Path) {
    let pid = std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok())
        .filter(|pid| *pid > 0);
    if let Some(pid) = pid {
        tracing::warn!(pid, "killing postmaster");
        if let Err(err) = kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL) {
            tracing::warn!(pid, error = %err, "could not kill postmaster");
        }
    }
}

fn is_live_postgres(pid: i32) -> bool {
    let alive = match kill(Pid::from_raw(pid), None) {
        Ok(()) => true,
        // The process exists but belongs to someone else.
        Err(Errno::EPERM) => true,
        Err(_) => false,
    };
    if !alive {
        return false;
    }
    // Where /proc exists, a live pid that is not a postgres process is a reused pid.
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => matches!(comm.trim(), "postgres" | "postmaster"),
        Err(_) => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn major_version_from_postgres_output() {
        assert_eq!(
            major_from_version_output("postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)\n"),
            Some("15".to_owned())
        );
        assert_eq!(
            major_from_version_output("postgres (PostgreSQL) 17beta1"),
            Some("17".to_owned())
        );
        assert_eq!(
            major_from_version_output("postgres (PostgreSQL) 9.6.24"),
            Some("9.6".to_owned())
        );
        assert_eq!(major_from_version_output("something else"), None);
    }

    #[test]
    fn missing_dir_is_created_and_empty() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/pgdata");
        assert_eq!(inspect(&dir).unwrap(), DataDirState::Empty);
        assert!(dir.is_dir());
        assert_eq!(inspect(&dir).unwrap(), DataDirState::Empty);
    }

    #[test]
    fn foreign_files_are_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            inspect(root.path()),
            Err(PgTempError::NotAClusterDir { .. })
        ));
        std::fs::write(root.path().join("PG_VERSION"), "15\n").unwrap();
        assert_eq!(inspect(root.path()).unwrap(), DataDirState::Cluster);
        assert_eq!(cluster_major_version(root.path()).unwrap(), "15");
    }

    #[test]
    fn stale_pid_file_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let pid_file = root.path().join("postmaster.pid");
        // A pid above the kernel's pid_max cannot be alive.
        std::fs::write(&pid_file, "99999999\n/some/dir\n").unwrap();
        check_not_running(root.path()).unwrap();
        assert!(!pid_file.exists());
    }

    #[test]
    fn pid_of_another_program_counts_as_stale() {
        let root = tempfile::tempdir().unwrap();
        let pid_file = root.path().join("postmaster.pid");
        // Our own pid is alive, but it is a test binary, not a postmaster.
        std::fs::write(&pid_file, format!("{}\n", std::process::id())).unwrap();
        check_not_running(root.path()).unwrap();
        assert!(!pid_file.exists());
    }
}
