use serde::{Deserialize, Serialize};

use super::{PgType, QualifiedName, yes};

/// A table-like relation: anything that can be selected from and has columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: QualifiedName,
    #[serde(default)]
    pub kind: TableKind,
    #[serde(default)]
    pub oid: u32,
    /// Ordered by `attnum`; dropped columns excluded.
    #[serde(default)]
    pub columns: Vec<Column>,
    #[serde(default)]
    pub primary_key: Option<Constraint>,
    /// UNIQUE constraints (not bare unique indexes: `ON CONFLICT ON CONSTRAINT` needs a
    /// constraint), excluding the primary key. Ordered by name.
    #[serde(default)]
    pub unique_constraints: Vec<Constraint>,
    /// Ordered by name.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK constraint names, ordered.
    #[serde(default)]
    pub check_constraints: Vec<String>,
    /// `COMMENT ON TABLE`.
    #[serde(default)]
    pub description: Option<String>,
    /// Views and materialized views: from `pg_relation_is_updatable`. Everything else: true.
    #[serde(default = "yes")]
    pub is_insertable: bool,
    #[serde(default = "yes")]
    pub is_updatable: bool,
    #[serde(default = "yes")]
    pub is_deletable: bool,
    /// User trigger names (not the internal ones behind foreign keys), ordered.
    #[serde(default)]
    pub triggers: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// `relkind` of a table-like relation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    #[default]
    Table,
    View,
    MaterializedView,
    ForeignTable,
    PartitionedTable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `attnum`: 1-based, with gaps where columns were dropped.
    #[serde(default)]
    pub position: i32,
    pub pg_type: PgType,
    #[serde(default = "yes")]
    pub is_nullable: bool,
    /// An insert may leave it out: a DEFAULT, a serial, an identity, or a generated column.
    #[serde(default)]
    pub has_default: bool,
    #[serde(default)]
    pub is_identity: bool,
    /// `GENERATED ALWAYS AS (...) STORED`: never written by inserts or updates.
    #[serde(default)]
    pub is_generated: bool,
    /// `COMMENT ON COLUMN`.
    #[serde(default)]
    pub description: Option<String>,
}

/// A primary key or UNIQUE constraint; columns in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub columns: Vec<String>,
}

/// `columns[i]` references `ref_columns[i]` of `ref_table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: QualifiedName,
    pub ref_columns: Vec<String>,
}
