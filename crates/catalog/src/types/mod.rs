//! The catalog's data types: what graft knows about one database's tables, functions and types.
//!
//! Field names are also the JSON keys `catalog.sql` emits, so these types are the query's
//! output contract. Optional fields default on deserialization so hand-written catalogs in
//! tests of other crates can stay short.

mod function;
mod names;
mod pg_type;
mod table;

pub use function::{Function, FunctionArgument, Volatility};
pub use names::QualifiedName;
pub use pg_type::{CompositeField, PgType, PgTypeKind};
pub use table::{Column, Constraint, ForeignKey, Table, TableKind};

pub(crate) fn yes() -> bool {
    true
}
