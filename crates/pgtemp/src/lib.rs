//! graft-pgtemp: finds the machine's PostgreSQL server binaries and starts, owns and stops a
//! PostgreSQL cluster.
//!
//! Two users: `graft serve` without a database URL gets a persistent dev cluster
//! ([`Cluster::start`] on `./.graft/pgdata`, kept across restarts), and tests / the conformance
//! runner get throwaway clusters ([`Cluster::temporary`], deleted when stopped or dropped).
//! In: optionally a data directory, a port and a binaries directory. Out: a running server on
//! 127.0.0.1 with superuser `postgres` and trust auth, reachable through [`Cluster::url`].
//! It sits before the whole request pipeline: it only provides the database the rest connects to.
//!
//! When the process runs as root, PostgreSQL (which refuses root) runs as the `postgres`
//! system user; see the `run_as` module.

mod binaries;
mod cluster;
mod data_dir;
mod error;
mod run_as;
mod server;

pub use binaries::PgBinaries;
pub use cluster::{Cluster, ClusterOptions};
pub use error::PgTempError;
