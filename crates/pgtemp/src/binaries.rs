//! Finding the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`) on this machine.
//!
//! Distributions disagree on where they live: Debian keeps them out of PATH in
//! `/usr/lib/postgresql/<major>/bin`, Homebrew in `opt/postgresql@<major>/bin`, source builds in
//! `/usr/local/pgsql/bin`. The search order is: `$GRAFT_PG_BINDIR` (an explicit choice, so a
//! wrong value is an error rather than a silent fallback), PATH, `pg_config --bindir`, then the
//! usual locations, newest major version first.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::PgTempError;

/// The programs a cluster needs; all must sit in the same directory.
const REQUIRED: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// A directory that holds `initdb`, `pg_ctl` and `postgres`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgBinaries {
    bindir: PathBuf,
}

impl PgBinaries {
    /// Finds initdb/pg_ctl/postgres: `$GRAFT_PG_BINDIR` if set, then PATH, then
    /// `pg_config --bindir`, then the usual locations (`/usr/lib/postgresql/<highest>/bin`,
    /// `/usr/local/pgsql/bin`, Homebrew's `postgresql@*/bin`, `/opt/homebrew/bin`).
    pub fn find() -> Result<PgBinaries, PgTempError> {
        let override_dir = std::env::var_os("GRAFT_PG_BINDIR");
        let path = std::env::var_os("PATH");
        Self::find_with(override_dir.as_deref(), path.as_deref())
    }

    /// [`PgBinaries::find`] with the values of `$GRAFT_PG_BINDIR` and `$PATH` passed in, so
    /// callers (and tests) need not touch the process environment.
    pub fn find_with(
        graft_pg_bindir: Option<&OsStr>,
        path: Option<&OsStr>,
    ) -> Result<PgBinaries, PgTempError> {
        if let Some(dir) = graft_pg_bindir.filter(|dir| !dir.is_empty()) {
            let dir = Path::new(dir);
            tracing::debug!(bindir = %dir.display(), "using GRAFT_PG_BINDIR");
            return Self::from_bindir(dir).map_err(|missing| PgTempError::BinariesNotFound {
                searched: format!(
                    "in GRAFT_PG_BINDIR={} (missing: {})",
                    dir.display(),
                    missing.join(", ")
                ),
            });
        }
        let path_dirs: Vec<PathBuf> = path
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default();
        let found = path_dirs
            .iter()
            .find_map(|dir| Self::from_bindir(dir).ok())
            .or_else(|| pg_config_bindir(&path_dirs).and_then(|dir| Self::from_bindir(&dir).ok()))
            .or_else(|| {
                well_known_dirs()
                    .iter()
                    .find_map(|dir| Self::from_bindir(dir).ok())
            });
        match found {
            Some(binaries) => {
                tracing::debug!(bindir = %binaries.bindir.display(), "found PostgreSQL binaries");
                Ok(binaries)
            }
            None => Err(PgTempError::BinariesNotFound {
                searched: "on PATH, in `pg_config --bindir` or in /usr/lib/postgresql/*/bin, \
                           /usr/local/pgsql/bin, /opt/homebrew/opt/postgresql@*/bin, \
                           /usr/local/opt/postgresql@*/bin, /opt/homebrew/bin"
                    .to_owned(),
            }),
        }
    }

    /// Uses `bindir` if it holds all three programs; otherwise returns the missing names.
    fn from_bindir(bindir: &Path) -> Result<PgBinaries, Vec<&'static str>> {
        let missing: Vec<&'static str> = REQUIRED
            .into_iter()
            .filter(|name| !is_executable(&bindir.join(name)))
            .collect();
        if missing.is_empty() {
            Ok(PgBinaries {
                bindir: bindir.to_path_buf(),
            })
        } else {
            Err(missing)
        }
    }

    /// The directory holding the binaries.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub(crate) fn initdb(&self) -> PathBuf {
        self.bindir.join("initdb")
    }

    pub(crate) fn pg_ctl(&self) -> PathBuf {
        self.bindir.join("pg_ctl")
    }

    pub(crate) fn postgres(&self) -> PathBuf {
        self.bindir.join("postgres")
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Asks the first `pg_config` on the given PATH where the server binaries are.
fn pg_config_bindir(path_dirs: &[PathBuf]) -> Option<PathBuf> {
    let pg_config = path_dirs
        .iter()
        .map(|dir| dir.join("pg_config"))
        .find(|candidate| is_executable(candidate))?;
    let output = Command::new(&pg_config).arg("--bindir").output().ok()?;
    if !output.status.success() {
        tracing::debug!(pg_config = %pg_config.display(), "pg_config --bindir failed");
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let dir = text.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The usual install locations, in the order they are tried.
fn well_known_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = versioned_subdirs(Path::new("/usr/lib/postgresql"), "")
        .into_iter()
        .map(|dir| dir.join("bin"))
        .collect();
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    for opt in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(
            versioned_subdirs(Path::new(opt), "postgresql@")
                .into_iter()
                .map(|dir| dir.join("bin")),
        );
    }
    dirs.push(PathBuf::from("/opt/homebrew/bin"));
    dirs
}

/// Subdirectories of `root` named `<prefix><version>` (version like `16` or `9.6`), highest
/// version first. A missing `root` yields nothing.
pub(crate) fn versioned_subdirs(root: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versioned: Vec<(Vec<u64>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = parse_version(name.to_str()?.strip_prefix(prefix)?)?;
            Some((version, entry.path()))
        })
        .collect();
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    versioned.into_iter().map(|(_, path)| path).collect()
}

/// `"9.6"` → `[9, 6]`; anything that is not dot-separated numbers → `None`.
fn parse_version(text: &str) -> Option<Vec<u64>> {
    text.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn fake_bindir(dir: &Path, names: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        for name in names {
            let file = dir.join(name);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn graft_pg_bindir_without_binaries_gives_the_install_hint() {
        let empty = tempfile::tempdir().unwrap();
        let err = PgBinaries::find_with(Some(empty.path().as_os_str()), Some(OsStr::new("")))
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, PgTempError::BinariesNotFound { .. }));
        assert!(message.contains("GRAFT_PG_BINDIR"), "{message}");
        assert!(
            message.contains("missing: initdb, pg_ctl, postgres"),
            "{message}"
        );
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("brew install postgresql@16"), "{message}");
        assert!(message.contains("--database-url"), "{message}");
    }

    #[test]
    fn graft_pg_bindir_wins_over_path() {
        let chosen = tempfile::tempdir().unwrap();
        let on_path = tempfile::tempdir().unwrap();
        fake_bindir(chosen.path(), &REQUIRED);
        fake_bindir(on_path.path(), &REQUIRED);
        let found = PgBinaries::find_with(
            Some(chosen.path().as_os_str()),
            Some(on_path.path().as_os_str()),
        )
        .unwrap();
        assert_eq!(found.bindir(), chosen.path());
    }

    #[test]
    fn path_dir_needs_all_three_programs() {
        let partial = tempfile::tempdir().unwrap();
        let complete = tempfile::tempdir().unwrap();
        fake_bindir(partial.path(), &["pg_ctl", "postgres"]);
        fake_bindir(complete.path(), &REQUIRED);
        let path = std::env::join_paths([partial.path(), complete.path()]).unwrap();
        let found = PgBinaries::find_with(None, Some(&path)).unwrap();
        assert_eq!(found.bindir(), complete.path());
    }

    #[test]
    fn not_executable_files_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        fake_bindir(dir.path(), &REQUIRED);
        std::fs::set_permissions(
            dir.path().join("initdb"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(PgBinaries::from_bindir(dir.path()), Err(vec!["initdb"]));
    }

    #[test]
    fn finds_the_real_binaries_of_this_machine() {
        let path = std::env::var_os("PATH");
        let found = PgBinaries::find_with(None, path.as_deref()).unwrap();
        assert!(found.postgres().exists());
    }

    #[test]
    fn versioned_dirs_are_newest_first_by_number() {
        let root = tempfile::tempdir().unwrap();
        for name in ["9.6", "15", "16", "10", "common", "postgresql@17"] {
            std::fs::create_dir(root.path().join(name)).unwrap();
        }
        let names: Vec<String> = versioned_subdirs(root.path(), "")
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["16", "15", "10", "9.6"]);
        let brew = versioned_subdirs(root.path(), "postgresql@");
        assert_eq!(brew, [root.path().join("postgresql@17")]);
    }
}
