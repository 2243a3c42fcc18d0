//! graft-cli: the developer workflow of the `graft` command line, on the Hasura CLI's project
//! layout (config v3), so an existing `hasura/` project folder works unchanged.
//!
//! In: a project directory (`config.yaml`, `migrations/`, `metadata/`, `seeds/`) and a running
//! graft (or Hasura) server reached over its HTTP APIs (`/v1/metadata`, `/v2/query`). Out: files
//! in the project (exported metadata, new migrations, seeds) and changes on the server (applied
//! migrations recorded in the catalog state, replaced metadata). It sits beside the server, not
//! in the request pipeline: everything it does to a database goes through the server's APIs
//! (only `migrate squash` starts its own throwaway PostgreSQL, to verify the squash).
//!
//! Modules, one concept each: [`project`] (config.yaml), [`metadata_dir`] (the v3 metadata
//! directory, written with [`yaml_out`]), [`migrations`] (folders on disk), [`state`] (what a
//! server has applied), [`client`] (HTTP), [`migrate`], [`metadata_ops`], [`seeds`],
//! [`squash`], [`workflow`] (deploy, check), [`console`] (the local API a schema editor
//! calls, with [`down_sql`]), and [`commands`] + [`run`] (the command line).

pub mod client;
pub mod commands;
pub mod console;
pub mod down_sql;
pub mod metadata_dir;
pub mod metadata_ops;
pub mod migrate;
pub mod migrations;
pub mod project;
pub mod run;
pub mod seeds;
pub mod squash;
pub mod state;
pub mod workflow;
pub mod yaml_out;

pub use commands::ProjectCommand;
pub use run::{CliError, run};
