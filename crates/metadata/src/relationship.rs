//! Object and array relationships: through a foreign key or a manual column mapping.

use crate::QualifiedTable;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship<Using> {
    pub name: String,
    pub using: Using,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// How an object relationship finds its one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectRelationshipUsing {
    /// A column (or columns) of this table with a foreign key, or `{table, column(s)}` naming a
    /// column of the other table whose foreign key points here (a one-to-one relationship).
    ForeignKeyConstraintOn(ForeignKeyOn),
    ManualConfiguration(ManualConfiguration),
}

/// How an array relationship finds its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayRelationshipUsing {
    /// Always `{table, column(s)}`: the other table's foreign key that points here.
    ForeignKeyConstraintOn(ForeignKeyOn),
    ManualConfiguration(ManualConfiguration),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ForeignKeyOn {
    Column(String),
    Columns(Vec<String>),
    Spec(ForeignKeySpec),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Fields in Hasura v2's export order (`column`/`columns` before `table`).
pub struct ForeignKeySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_or_many"
    )]
    pub columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<QualifiedTable>,
}

/// `columns` may be one name or a list of names.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    }))
}

impl ForeignKeyOn {
    /// The table the columns belong to (None: this table) and the columns themselves.
    pub fn parts(&self) -> (Option<&QualifiedTable>, Vec<String>) {
        match self {
            ForeignKeyOn::Column(c) => (None, vec![c.clone()]),
            ForeignKeyOn::Columns(cs) => (None, cs.clone()),
            ForeignKeyOn::Spec(spec) => {
                let columns = match (&spec.column, &spec.columns) {
                    (_, Some(cs)) => cs.clone(),
                    (Some(c), None) => vec![c.clone()],
                    (None, None) => Vec::new(),
                };
                (spec.table.as_ref(), columns)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManualConfiguration {
    pub remote_table: QualifiedTable,
    /// This table's column → the remote table's column.
    pub column_mapping: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insertion_order: Option<String>,
}
