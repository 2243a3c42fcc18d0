//! Hasura v2 metadata as Rust types: the document graft stores in `hdb_catalog.hdb_metadata`,
//! answers to `export_metadata` and accepts in `replace_metadata`.
//!
//! In: JSON in the v3 metadata format (`{"version": 3, "sources": [...]}`; the older v2 shape with
//! top-level `tables`/`functions` is upgraded on read). Out: the same JSON, with Hasura's key order
//! and with defaults and empty lists left out, so an export round-trips byte-compatible.
//!
//! This crate has no logic beyond (de)serialization: checking metadata against the database is
//! `graft-schema`'s job, and the commands that edit it live in `graft-server`'s metadata API.
//! Every object keeps fields it does not know in `extra`, so nothing a newer Hasura wrote is lost
//! on a round trip through graft.

mod action;
mod event_trigger;
mod names;
mod permission;
mod relationship;
mod source;
mod table;

pub use action::{
    ActionArgument, ActionDefinition, ActionEntry, ActionKind, ActionPermission, ActionType,
    CustomEnum, CustomEnumValue, CustomField, CustomObjectType, CustomScalar, CustomTypes,
    TypeRelationship, TypeRelationshipKind,
};
pub use event_trigger::{
    CronTrigger, EventRetryConf, EventTrigger, EventTriggerDefinition, HeaderConf, OperationSpec,
    ScheduledRetryConf,
};
pub use names::{QualifiedFunction, QualifiedTable};
pub use permission::{
    Columns, DeletePermission, InsertPermission, PermissionEntry, SelectPermission,
    UpdatePermission,
};
pub use relationship::{
    ArrayRelationshipUsing, ForeignKeyOn, ForeignKeySpec, ManualConfiguration,
    ObjectRelationshipUsing, Relationship,
};
pub use source::{
    ExposedAs, FunctionConfiguration, FunctionEntry, FunctionPermission, FunctionRootFields, Source,
};
pub use table::{
    ColumnConfig, ComputedField, ComputedFieldDefinition, CustomRootFields, TableConfiguration,
    TableEntry,
};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Extra, unknown keys of a metadata object, kept verbatim.
pub type Extra = IndexMap<String, Value>;

/// The whole metadata document (format version 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub version: u32,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited_roles: Vec<InheritedRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionEntry>,
    #[serde(default, skip_serializing_if = "CustomTypes::is_empty")]
    pub custom_types: CustomTypes,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            version: 3,
            sources: Vec::new(),
            inherited_roles: Vec::new(),
            actions: Vec::new(),
            custom_types: CustomTypes::default(),
            extra: Extra::new(),
        }
    }
}

/// `add_inherited_role`: a role whose select permissions are the union of its parents'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InheritedRole {
    pub role_name: String,
    pub role_set: Vec<String>,
}

/// Errors reading a metadata document.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("{0}")]
    Parse(#[from] serde_json::Error),
    #[error("unsupported metadata version {0}; expected 1, 2 or 3")]
    UnsupportedVersion(u64),
    #[error("key \"{0}\" not found")]
    MissingKey(&'static str),
}

impl Metadata {
    /// Reads a metadata document of version 1, 2 or 3. Versions 1 and 2 (a single source with
    /// top-level `tables` and `functions`) become a v3 document with that source named
    /// `default`, as Hasura's own upgrade does.
    pub fn from_json(value: Value) -> Result<Metadata, MetadataError> {
        let version = value.get("version").and_then(Value::as_u64).unwrap_or(1);
        let required = if version == 3 { "sources" } else { "tables" };
        if value.get(required).is_none() && version <= 3 {
            return Err(MetadataError::MissingKey(required));
        }
        match version {
            3 => Ok(serde_json::from_value(value)?),
            1 | 2 => {
                let Value::Object(mut map) = value else {
                    return Ok(serde_json::from_value(value)?);
                };
                let tables = map.remove("tables").unwrap_or(Value::Array(vec![]));
                let functions = map.remove("functions").unwrap_or(Value::Array(vec![]));
                map.remove("version");
                let source = Source {
                    name: DEFAULT_SOURCE.to_string(),
                    kind: "postgres".to_string(),
                    tables: serde_json::from_value(tables)?,
                    functions: serde_json::from_value(functions)?,
                    configuration: default_source_configuration(),
                    extra: Extra::new(),
                };
                // What is left (actions, custom types, remote schemas, ...) keeps its v3 shape.
                map.insert("version".into(), Value::from(3));
                map.insert("sources".into(), Value::Array(Vec::new()));
                let mut rest: Metadata = serde_json::from_value(Value::Object(map))?;
                rest.sources = vec![source];
                Ok(rest)
            }
            other => Err(MetadataError::UnsupportedVersion(other)),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name == name)
    }

    pub fn source_mut(&mut self, name: &str) -> Option<&mut Source> {
        self.sources.iter_mut().find(|s| s.name == name)
    }
}

/// The name of the source a database URL given on the command line becomes.
pub const DEFAULT_SOURCE: &str = "default";

/// The connection configuration of the default source: its URL comes from the environment, as
/// Hasura writes it when started with `HASURA_GRAPHQL_DATABASE_URL`.
pub fn default_source_configuration() -> Value {
    serde_json::json!({
        "connection_info": {
            "database_url": {"from_env": "HASURA_GRAPHQL_DATABASE_URL"},
            "isolation_level": "read-committed",
            "pool_settings": {
                "connection_lifetime": 600,
                "idle_timeout": 180,
                "max_connections": 50,
                "retries": 1
            },
            "use_prepared_statements": true
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
