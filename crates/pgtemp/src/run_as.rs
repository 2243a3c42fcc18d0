//! Which operating-system user the PostgreSQL programs run as.
//!
//! PostgreSQL refuses to run as root. When graft itself runs as root (containers, CI), every
//! `initdb`/`pg_ctl`/`postgres` is started as the unprivileged `postgres` system user, and the
//! files those programs must write (data dir, socket dir, log file) are handed to that user
//! first. Otherwise everything runs as the current user and nothing changes hands.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::{Gid, Uid, User};

use crate::error::PgTempError;

/// The user the PostgreSQL programs run as.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunAs {
    uid: Uid,
    gid: Gid,
    /// True when that user differs from ours (we are root), so commands must switch to it.
    switch_user: bool,
}

impl RunAs {
    /// `postgres` when we are root, ourselves otherwise.
    pub(crate) fn detect() -> Result<RunAs, PgTempError> {
        let euid = Uid::effective();
        if !euid.is_root() {
            return Ok(RunAs {
                uid: euid,
                gid: Gid::effective(),
                switch_user: false,
            });
        }
        let user = User::from_name("postgres")
            .map_err(PgTempError::UserLookup)?
            .ok_or(PgTempError::NoPostgresUser)?;
        tracing::debug!(
            uid = user.uid.as_raw(),
            "running as root: PostgreSQL will run as `postgres`"
        );
        Ok(RunAs {
            uid: user.uid,
            gid: user.gid,
            switch_user: true,
        })
    }

    pub(crate) fn uid(&self) -> u32 {
        self.uid.as_raw()
    }

    /// A command for `program` that runs as this user. The working directory is `/` because our
    /// own may be closed to the `postgres` user; every path passed to it is absolute.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir("/");
        if self.switch_user {
            command.uid(self.uid.as_raw()).gid(self.gid.as_raw());
        }
        command
    }

    /// Hands `path` to this user (no-op when no switch is needed).
    pub(crate) fn give(&self, path: &Path) -> Result<(), PgTempError> {
        if !self.switch_user {
            return Ok(());
        }
        nix::unistd::chown(path, Some(self.uid), Some(self.gid)).map_err(|source| {
            PgTempError::Chown {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Checks that this user may search every ancestor of `path`; a root-owned 0700 parent
    /// (e.g. a fresh temp dir) would otherwise fail deep inside `initdb` with a vague message.
    pub(crate) fn check_reachable(&self, path: &Path) -> Result<(), PgTempError> {
        if !self.switch_user {
            return Ok(());
        }
        for ancestor in path.ancestors().skip(1) {
            let meta = std::fs::metadata(ancestor)
                .map_err(|source| PgTempError::io("could not inspect", ancestor, source))?;
            let mode = meta.permissions().mode();
            let search_bit = if meta.uid() == self.uid.as_raw() {
                0o100
            } else if meta.gid() == self.gid.as_raw() {
                0o010
            } else {
                0o001
            };
            if mode & search_bit == 0 {
                return Err(PgTempError::DirNotReachable {
                    path: path.to_path_buf(),
                    blocked: ancestor.to_path_buf(),
                });
            }
        }
        Ok(())
    }
}
