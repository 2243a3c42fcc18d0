//! A tracked table or view and everything attached to it.

use crate::permission::{
    DeletePermission, InsertPermission, PermissionEntry, SelectPermission, UpdatePermission,
};
use crate::relationship::{ArrayRelationshipUsing, ObjectRelationshipUsing, Relationship};
use crate::{Extra, QualifiedFunction, QualifiedTable};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    pub table: QualifiedTable,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_enum: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<TableConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_relationships: Vec<Relationship<ObjectRelationshipUsing>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub array_relationships: Vec<Relationship<ArrayRelationshipUsing>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub computed_fields: Vec<ComputedField>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_relationships: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insert_permissions: Vec<PermissionEntry<InsertPermission>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select_permissions: Vec<PermissionEntry<SelectPermission>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_permissions: Vec<PermissionEntry<UpdatePermission>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_permissions: Vec<PermissionEntry<DeletePermission>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_triggers: Vec<crate::EventTrigger>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl TableEntry {
    pub fn new(table: QualifiedTable) -> Self {
        TableEntry {
            table,
            is_enum: false,
            configuration: None,
            object_relationships: Vec::new(),
            array_relationships: Vec::new(),
            computed_fields: Vec::new(),
            remote_relationships: Vec::new(),
            insert_permissions: Vec::new(),
            select_permissions: Vec::new(),
            update_permissions: Vec::new(),
            delete_permissions: Vec::new(),
            event_triggers: Vec::new(),
            extra: Extra::new(),
        }
    }

    /// The names of all relationships and computed fields, which share one namespace with the
    /// table's columns in the GraphQL schema.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.object_relationships
            .iter()
            .map(|r| r.name.as_str())
            .chain(self.array_relationships.iter().map(|r| r.name.as_str()))
            .chain(self.computed_fields.iter().map(|c| c.name.as_str()))
    }
}

pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// `configuration` of a table: custom GraphQL names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_name: Option<String>,
    #[serde(default)]
    pub custom_root_fields: CustomRootFields,
    #[serde(default)]
    pub column_config: IndexMap<String, ColumnConfig>,
    /// Deprecated by Hasura in favour of `column_config`; still accepted and folded into it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub custom_column_names: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl TableConfiguration {
    /// The GraphQL name of a column, when it has a custom one.
    pub fn column_custom_name(&self, column: &str) -> Option<&str> {
        self.column_config
            .get(column)
            .and_then(|c| c.custom_name.as_deref())
            .or_else(|| self.custom_column_names.get(column).map(String::as_str))
    }
}

/// `custom_root_fields`: each value is a name or `{"name": ..., "comment": ...}`.
pub type CustomRootFields = IndexMap<String, Value>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputedField {
    pub name: String,
    pub definition: ComputedFieldDefinition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputedFieldDefinition {
    pub function: QualifiedFunction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_argument: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_argument: Option<String>,
}
