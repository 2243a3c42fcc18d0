//! graft-cli: the developer workflow of the `graft` command line, on the Hasura CLI's project
//! layout (config v3), so an existing `hasura/` project folder works unchanged.
//!
//! In: a project directory (`config.yaml`, `migrations/`, `metadata/`, `seeds/`) and a running
//! graft (or Hasura) server reached over its HTTP APIs (`/v1/metadata`, `/v2/query`). Out: files
//! in the project (exported metadata, new migrations, seeds) and changes on the server (applied
//! migrations recorded in the catalog state, replaced metadata). It sits beside the server, not
//! in the request pipeline: everything it does to a database goes through the server's APIs.

pub mod metadata_dir;
pub mod yaml_out;
