//! The SQL syntax tree graft builds for every statement it sends.
//!
//! Translation produces these types; [`crate::printer`] turns them into text.
//! The tree only covers what a GraphQL-over-Postgres engine emits, and has no
//! variant for raw SQL: every name is quoted by the printer and every value is
//! a bind parameter.

mod expr;
mod names;
mod statement;

pub use expr::{
    Case, Expr, FunctionCall, NullsOrder, Op, OrderByElement, OrderDirection, Quantifier,
};
pub use names::{
    AliasGenerator, ColumnAlias, ColumnName, FunctionName, TableAlias, TableName, TypeName,
};
pub use statement::{
    ConflictAction, ConflictTarget, Cte, Delete, From, FromColumn, Insert, InsertSource,
    InsertValue, Join, OnConflict, Select, SelectList, Statement, Update, With,
};
