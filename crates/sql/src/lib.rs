//! graft-sql: the SQL syntax tree, its one printer, and builders for common shapes.
//!
//! Translation (`graft-translate`, the v1 data API, event trigger DDL) builds
//! a [`Statement`] from the [`ast`] types, pushing every value into a
//! [`Params`] list; [`print`] turns the tree into SQL text with `$n`
//! placeholders; the executor prepares that text (every parameter typed
//! `text`) and binds `Params::values`. This crate is a leaf: it knows nothing
//! of GraphQL, metadata or roles.
//!
//! The guarantees the rest of graft relies on:
//! - values never appear in SQL text, only as parameters;
//! - every identifier is quoted, with `"` doubled, NUL refused, and names over
//!   63 bytes replaced by a deterministic hashed short form (Postgres would
//!   otherwise cut them silently);
//! - the same tree always prints the same text, and aliases come from a
//!   counter ([`AliasGenerator`]), so a request's statement is stable and its
//!   prepared statement is reused.

pub mod ast;
pub mod helpers;
mod params;
pub mod printer;

pub use ast::*;
pub use params::{ParamIndex, Params};
pub use printer::identifier::{IdentifierError, quote_identifier, shorten_identifier};
pub use printer::{MultiplexedShape, PrintError, inline_params, print, print_multiplexed};
