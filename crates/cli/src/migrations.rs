//! Migration folders on disk: `migrations/<database>/<version>_<name>/` holding `up.sql` and
//! `down.sql` (or the older `up.yaml`/`down.yaml`, a list of v1 query commands). The version is
//! a millisecond timestamp, as the Hasura CLI makes them, so versions sort by creation time.
//!
//! A squashed migration also holds `squash.yaml` listing the versions it replaces, so a
//! database that already ran those is not made to run the squash again.

use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MigrationsError {
    #[error("could not read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: expected a list of commands")]
    YamlShape(PathBuf),
    #[error(
        "migration name {0:?} is not allowed: use letters, digits, '_' and '-' (it becomes a folder name)"
    )]
    BadName(String),
    #[error("no migration with version {version} for database \"{database}\"")]
    NotFound { database: String, version: u64 },
}

/// One direction of a migration.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Sql(String),
    /// v1 query commands (`run_sql`, `track_table`, ...) from `up.yaml`/`down.yaml`.
    Commands(Vec<Value>),
}

impl Step {
    pub fn is_empty(&self) -> bool {
        match self {
            Step::Sql(sql) => sql.trim().is_empty(),
            Step::Commands(commands) => commands.is_empty(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub version: u64,
    pub name: String,
    pub dir: PathBuf,
    pub up: Option<Step>,
    pub down: Option<Step>,
    /// Versions this migration replaced (`migrate squash`).
    pub squashed: Vec<u64>,
}

/// The databases that have a migrations folder.
pub fn databases(migrations_dir: &Path) -> Result<Vec<String>, MigrationsError> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(migrations_dir) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        if entry.path().is_dir() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The database's migrations in version order. Entries that are not `<digits>_<name>` folders
/// (a `.gitkeep`, a README) are not migrations and are skipped, as the Hasura CLI does.
pub fn list(migrations_dir: &Path, database: &str) -> Result<Vec<Migration>, MigrationsError> {
    let dir = migrations_dir.join(database);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((version, name)) = parse_dir_name(&file_name) else {
            continue;
        };
        out.push(read(&path, version, name)?);
    }
    out.sort_by_key(|m| m.version);
    Ok(out)
}

fn parse_dir_name(name: &str) -> Option<(u64, String)> {
    let (digits, rest) = name.split_once('_').unwrap_or((name, ""));
    let version = digits.parse().ok()?;
    Some((version, rest.to_string()))
}

fn read(dir: &Path, version: u64, name: String) -> Result<Migration, MigrationsError> {
    let squashed = match read_text(&dir.join("squash.yaml"))? {
        Some(text) => {
            let value: Value =
                serde_yaml_ng::from_str(&text).map_err(|e| MigrationsError::Read {
                    path: dir.join("squash.yaml"),
                    message: e.to_string(),
                })?;
            value
                .get("squashed_versions")
                .and_then(Value::as_array)
                .map(|versions| versions.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    Ok(Migration {
        version,
        name,
        up: read_step(dir, "up")?,
        down: read_step(dir, "down")?,
        dir: dir.to_path_buf(),
        squashed,
    })
}

fn read_step(dir: &Path, direction: &str) -> Result<Option<Step>, MigrationsError> {
    if let Some(sql) = read_text(&dir.join(format!("{direction}.sql")))? {
        return Ok(Some(Step::Sql(sql)));
    }
    let path = dir.join(format!("{direction}.yaml"));
    let Some(text) = read_text(&path)? else {
        return Ok(None);
    };
    if text.trim().is_empty() {
        return Ok(Some(Step::Commands(Vec::new())));
    }
    let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| MigrationsError::Read {
        path: path.clone(),
        message: e.to_string(),
    })?;
    match value {
        Value::Array(commands) => Ok(Some(Step::Commands(commands))),
        Value::Null => Ok(Some(Step::Commands(Vec::new()))),
        _ => Err(MigrationsError::YamlShape(path)),
    }
}

fn read_text(path: &Path) -> Result<Option<String>, MigrationsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(MigrationsError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// A new version: now in milliseconds, past every existing one (two creates in the same
/// millisecond still get distinct, ordered versions).
pub fn next_version(existing: &[Migration]) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let last = existing.iter().map(|m| m.version).max().unwrap_or(0);
    now.max(last + 1)
}

pub fn check_name(name: &str) -> Result<(), MigrationsError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(MigrationsError::BadName(name.to_string()))
    }
}

/// Writes `<version>_<name>/up.sql` and `down.sql` (and `squash.yaml` when given), into a
/// staging folder first so a failure leaves no half-written migration behind.
pub fn create(
    migrations_dir: &Path,
    database: &str,
    name: &str,
    up_sql: &str,
    down_sql: &str,
    squashed: &[u64],
) -> Result<Migration, MigrationsError> {
    stage(migrations_dir, database, name, up_sql, down_sql, squashed)?.commit()
}

/// A migration written to a hidden staging folder (`.<version>_<name>.new`, which `list`
/// ignores): [`Staged::commit`] renames it into place, [`Staged::discard`] removes it.
#[derive(Debug)]
pub struct Staged {
    pub migration: Migration,
    final_dir: PathBuf,
}

impl Staged {
    pub fn commit(self) -> Result<Migration, MigrationsError> {
        std::fs::rename(&self.migration.dir, &self.final_dir).map_err(|source| {
            let _ = std::fs::remove_dir_all(&self.migration.dir);
            MigrationsError::Write {
                path: self.final_dir.clone(),
                source,
            }
        })?;
        Ok(Migration {
            dir: self.final_dir,
            ..self.migration
        })
    }

    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.migration.dir);
    }
}

pub fn stage(
    migrations_dir: &Path,
    database: &str,
    name: &str,
    up_sql: &str,
    down_sql: &str,
    squashed: &[u64],
) -> Result<Staged, MigrationsError> {
    check_name(name)?;
    let existing = list(migrations_dir, database)?;
    let version = next_version(&existing);
    let db_dir = migrations_dir.join(database);
    let final_dir = db_dir.join(format!("{version}_{name}"));
    let staging = db_dir.join(format!(".{version}_{name}.new"));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MigrationsError::Write { path, source }
    };
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(write_err(&staging))?;
    let result = (|| {
        std::fs::write(staging.join("up.sql"), up_sql).map_err(write_err(&staging))?;
        std::fs::write(staging.join("down.sql"), down_sql).map_err(write_err(&staging))?;
        if !squashed.is_empty() {
            let list: Vec<String> = squashed.iter().map(|v| format!("  - {v}\n")).collect();
            std::fs::write(
                staging.join("squash.yaml"),
                format!("squashed_versions:\n{}", list.concat()),
            )
            .map_err(write_err(&staging))?;
        }
        read(&staging, version, name.to_string())
    })();
    match result {
        Ok(migration) => Ok(Staged {
            migration,
            final_dir,
        }),
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

/// Removes a migration's folder.
pub fn delete(migration: &Migration) -> Result<(), MigrationsError> {
    std::fs::remove_dir_all(&migration.dir).map_err(|source| MigrationsError::Write {
        path: migration.dir.clone(),
        source,
    })
}

pub fn find(
    migrations_dir: &Path,
    database: &str,
    version: u64,
) -> Result<Migration, MigrationsError> {
    list(migrations_dir, database)?
        .into_iter()
        .find(|m| m.version == version)
        .ok_or(MigrationsError::NotFound {
            database: database.to_string(),
            version,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_listed_in_version_order_and_others_skipped() {
        let temp = tempfile::tempdir().unwrap();
        let db = temp.path().join("default");
        for (folder, file, text) in [
            ("1700000000002_b", "up.sql", "SELECT 2;"),
            (
                "1700000000001_a",
                "up.yaml",
                "- type: run_sql\n  args:\n    sql: SELECT 1\n",
            ),
            ("not_a_migration", "up.sql", "SELECT 0;"),
            (".1700000000003_staged.new", "up.sql", "SELECT 3;"),
        ] {
            std::fs::create_dir_all(db.join(folder)).unwrap();
            std::fs::write(db.join(folder).join(file), text).unwrap();
        }
        std::fs::write(db.join(".gitkeep"), "").unwrap();
        let list = list(temp.path(), "default").unwrap();
        let versions: Vec<u64> = list.iter().map(|m| m.version).collect();
        assert_eq!(versions, vec![1700000000001, 1700000000002]);
        assert_eq!(list[0].name, "a");
        assert!(matches!(&list[0].up, Some(Step::Commands(c)) if c.len() == 1));
        assert_eq!(list[1].up, Some(Step::Sql("SELECT 2;".to_string())));
        assert_eq!(list[1].down, None);
    }

    #[test]
    fn create_never_reuses_a_version_and_checks_the_name() {
        let temp = tempfile::tempdir().unwrap();
        let first = create(temp.path(), "default", "one", "SELECT 1;", "", &[]).unwrap();
        let second = create(temp.path(), "default", "two", "SELECT 2;", "", &[]).unwrap();
        assert!(second.version > first.version);
        assert!(matches!(
            create(temp.path(), "default", "../escape", "", "", &[]),
            Err(MigrationsError::BadName(_))
        ));
        let squash = create(temp.path(), "default", "sq", "", "", &[first.version]).unwrap();
        assert_eq!(squash.squashed, vec![first.version]);
    }
}
