//! graft-catalog: PostgreSQL introspection.
//!
//! In: a connection to a database. Out: a [`DbCatalog`] describing its tables, views,
//! columns and their types, keys, foreign keys, triggers, functions, ENUM and composite
//! types, and comments. The schema stage joins it with the Hasura metadata to decide what
//! the GraphQL API exposes; it is reloaded whenever metadata reloads or DDL runs.
//!
//! The whole catalog comes from ONE query ([`CATALOG_QUERY`], in `catalog.sql`) in which
//! Postgres builds a single JSON value that serde decodes into these types: one round trip,
//! one consistent snapshot. Left out, as Hasura does: system schemas (`pg_*`,
//! `information_schema`), graft's own `hdb_catalog`, and functions and types that belong
//! to an extension (so `citext` or `ltree` helpers do not flood the API; their types still
//! describe the columns that use them).

mod db_catalog;
mod load;
mod types;

pub use db_catalog::DbCatalog;
pub use load::{CATALOG_QUERY, CatalogError, load};
pub use types::{
    Column, CompositeField, Constraint, ForeignKey, Function, FunctionArgument, PgType, PgTypeKind,
    QualifiedName, Table, TableKind, Volatility,
};

#[cfg(test)]
mod serde_shape_tests;
