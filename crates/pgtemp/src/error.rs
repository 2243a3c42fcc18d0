//! The one error type of this crate: every failure to find, prepare, start, query or stop a
//! cluster. Messages are written for the person running `graft serve`, so they say what to do.

use std::path::PathBuf;

/// Why a PostgreSQL cluster could not be found, started, used or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PgTempError {
    /// No directory holds all of `initdb`, `pg_ctl` and `postgres`.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found {searched}; install them \
         (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16), point \
         GRAFT_PG_BINDIR at their directory, or pass --database-url"
    )]
    BinariesNotFound {
        /// Where the search looked, as a phrase ("on PATH, in ...").
        searched: String,
    },

    /// PostgreSQL refuses to run as root and there is nobody else to run it as.
    #[error(
        "running as root, but there is no `postgres` system user to run PostgreSQL as \
         (PostgreSQL refuses to run as root); create one (e.g. `useradd --system postgres`), \
         run graft as an unprivileged user, or pass --database-url"
    )]
    NoPostgresUser,

    /// The user database could not be read.
    #[error("could not look up the `postgres` system user: {0}")]
    UserLookup(#[source] nix::Error),

    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("could not create", "could not read", ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Changing the owner of a file to the `postgres` user failed.
    #[error("could not give {path} to the `postgres` user: {source}")]
    Chown {
        /// The file or directory concerned.
        path: PathBuf,
        #[source]
        source: nix::Error,
    },

    /// A parent of the data directory is closed to the `postgres` user.
    #[error(
        "the `postgres` user cannot reach {path}: the directory {blocked} is not searchable by it; \
         choose a data directory elsewhere or allow access (`chmod o+x {blocked}`)"
    )]
    DirNotReachable {
        /// The directory PostgreSQL needs.
        path: PathBuf,
        /// The ancestor that blocks it.
        blocked: PathBuf,
    },

    /// The data directory has files but no cluster in it: refuse to touch it.
    #[error(
        "data directory {path} is not empty and does not hold a PostgreSQL cluster (no PG_VERSION \
         file); use an empty or missing directory"
    )]
    NotAClusterDir {
        /// The data directory.
        path: PathBuf,
    },

    /// The cluster belongs to another user than the one PostgreSQL runs as.
    #[error(
        "data directory {path} is owned by uid {owner}, but PostgreSQL runs as uid {expected}; \
         change its owner (`chown -R {expected} {path}`) or use another directory"
    )]
    WrongOwner {
        /// The data directory.
        path: PathBuf,
        /// Its current owner.
        owner: u32,
        /// The uid PostgreSQL runs as.
        expected: u32,
    },

    /// The cluster was made by another PostgreSQL major version than the binaries.
    #[error(
        "data directory {path} was created by PostgreSQL {data_version}, but the binaries in \
         {bindir} are PostgreSQL {binary_version}; use matching binaries (GRAFT_PG_BINDIR) or \
         another data directory"
    )]
    VersionMismatch {
        /// The data directory.
        path: PathBuf,
        /// The major version in its PG_VERSION file.
        data_version: String,
        /// The major version of the binaries.
        binary_version: String,
        /// Where the binaries are.
        bindir: PathBuf,
    },

    /// A live postmaster owns the data directory.
    #[error(
        "a PostgreSQL server is already running on this data directory ({path}, pid {pid}); \
         stop it (`pg_ctl stop -D {path}`) or use another data directory"
    )]
    AlreadyRunning {
        /// The data directory.
        path: PathBuf,
        /// The pid in its postmaster.pid.
        pid: i32,
    },

    /// A helper program could not be run, or exited with an error.
    #[error("{program} failed: {detail}")]
    CommandFailed {
        /// The program (path) that was run.
        program: PathBuf,
        /// Exit status and output, or the spawn error.
        detail: String,
    },

    /// The server did not come up.
    #[error(
        "PostgreSQL did not start on port {port}: {reason}\n--- server log {log_file} (tail) ---\n{log_tail}"
    )]
    StartFailed {
        /// The port it was told to listen on.
        port: u16,
        /// What failed.
        reason: String,
        /// The server log file.
        log_file: PathBuf,
        /// Its last lines.
        log_tail: String,
    },

    /// No local port could be reserved.
    #[error("could not find a free port on 127.0.0.1: {0}")]
    NoFreePort(#[source] std::io::Error),

    /// A database name that cannot be used.
    #[error("invalid database name {name:?}: {reason}")]
    InvalidDatabaseName {
        /// The name given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// Connecting to the running cluster failed.
    #[error("could not connect to PostgreSQL on 127.0.0.1:{port}: {detail}")]
    Connect {
        /// The cluster's port.
        port: u16,
        /// The driver's error with its causes (its own `Display` omits the server's message).
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },

    /// A statement sent to the cluster failed.
    #[error("{statement} failed: {detail}")]
    Query {
        /// The statement, for the message.
        statement: String,
        /// The server's message with its SQLSTATE, or the driver's error.
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl PgTempError {
    pub(crate) fn connect(port: u16, source: tokio_postgres::Error) -> Self {
        PgTempError::Connect {
            port,
            detail: describe_postgres_error(&source),
            source,
        }
    }

    pub(crate) fn query(statement: String, source: tokio_postgres::Error) -> Self {
        PgTempError::Query {
            statement,
            detail: describe_postgres_error(&source),
            source,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        PgTempError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// `tokio_postgres::Error` displays as just "db error"; spell out the server's message or the
/// chain of causes so the reader sees what happened.
fn describe_postgres_error(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
