//! Role permissions on a table. Boolean expressions (`filter`, `check`) stay JSON here: they are
//! parsed against the table's columns and relationships when the schema is resolved.

use crate::Extra;
use crate::table::is_false;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionEntry<P> {
    pub role: String,
    pub permission: P,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `"*"` or a list of column names.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Columns {
    #[default]
    All,
    List(Vec<String>),
}

impl Columns {
    pub fn allows(&self, column: &str) -> bool {
        match self {
            Columns::All => true,
            Columns::List(list) => list.iter().any(|c| c == column),
        }
    }
}

impl Serialize for Columns {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Columns::All => serializer.serialize_str("*"),
            Columns::List(list) => list.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Columns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) if s == "*" => Ok(Columns::All),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(serde::de::Error::custom("expected a column name")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Columns::List),
            _ => Err(serde::de::Error::custom(
                "expected \"*\" or a list of column names",
            )),
        }
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectPermission {
    pub columns: Columns,
    #[serde(default = "empty_object")]
    pub filter: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_aggregations: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub computed_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_root_fields: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_root_fields: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsertPermission {
    #[serde(default = "empty_object")]
    pub check: Value,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Columns>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub backend_only: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdatePermission {
    pub columns: Columns,
    #[serde(default = "empty_object")]
    pub filter: Value,
    /// Hasura writes `check: null` when there is none.
    #[serde(default)]
    pub check: Option<Value>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, Value>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub backend_only: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletePermission {
    #[serde(default = "empty_object")]
    pub filter: Value,
    #[serde(default, skip_serializing_if = "is_false")]
    pub backend_only: bool,
    #[serde(flatten)]
    pub extra: Extra,
}
