//! A database source: its connection configuration and what is tracked in it.

use crate::{Extra, QualifiedFunction, TableEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    #[serde(default = "postgres")]
    pub kind: String,
    #[serde(default)]
    pub tables: Vec<TableEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionEntry>,
    #[serde(default)]
    pub configuration: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

fn postgres() -> String {
    "postgres".to_string()
}

impl Source {
    pub fn table(&self, name: &crate::QualifiedTable) -> Option<&TableEntry> {
        self.tables.iter().find(|t| &t.table == name)
    }

    pub fn table_mut(&mut self, name: &crate::QualifiedTable) -> Option<&mut TableEntry> {
        self.tables.iter_mut().find(|t| &t.table == name)
    }

    pub fn function(&self, name: &QualifiedFunction) -> Option<&FunctionEntry> {
        self.functions.iter().find(|f| &f.function == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "FunctionEntryRepr")]
pub struct FunctionEntry {
    pub function: QualifiedFunction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<FunctionPermission>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionPermission {
    pub role: String,
}

impl FunctionEntry {
    /// The typed `configuration` (all of it optional), or why it is malformed.
    pub fn configuration(&self) -> Result<FunctionConfiguration, serde_json::Error> {
        match &self.configuration {
            None | Some(Value::Null) => Ok(FunctionConfiguration::default()),
            Some(value) => serde_json::from_value(value.clone()),
        }
    }
}

/// A tracked function's `configuration` (`pg_track_function` v2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionConfiguration {
    /// The root field's name instead of the function's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_root_fields: Option<FunctionRootFields>,
    /// The argument (of type `json`) that receives the session variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_argument: Option<String>,
    /// Query or mutation root; by default VOLATILE functions are mutations, others queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_as: Option<ExposedAs>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionRootFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_aggregate: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExposedAs {
    Query,
    Mutation,
}

/// Metadata v1 lists tracked functions by name alone.
#[derive(Deserialize)]
#[serde(untagged)]
enum FunctionEntryRepr {
    Full {
        function: QualifiedFunction,
        #[serde(default)]
        configuration: Option<Value>,
        #[serde(default)]
        permissions: Vec<FunctionPermission>,
        #[serde(flatten)]
        extra: Extra,
    },
    Name(QualifiedFunction),
}

impl From<FunctionEntryRepr> for FunctionEntry {
    fn from(repr: FunctionEntryRepr) -> Self {
        match repr {
            FunctionEntryRepr::Name(function) => FunctionEntry {
                function,
                configuration: None,
                permissions: Vec::new(),
                extra: Extra::new(),
            },
            FunctionEntryRepr::Full {
                function,
                configuration,
                permissions,
                extra,
            } => FunctionEntry {
                function,
                configuration,
                permissions,
                extra,
            },
        }
    }
}
