//! Actions and custom types: GraphQL fields answered by an HTTP handler, and the types they
//! take and return (`create_action`, `set_custom_types`, `actions.yaml`/`actions.graphql`).

use crate::{Extra, HeaderConf, QualifiedTable};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionEntry {
    pub name: String,
    pub definition: ActionDefinition,
    /// Before `comment`, as the Hasura CLI writes `actions.yaml`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<ActionPermission>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    #[default]
    Synchronous,
    Asynchronous,
}

/// Whether the action is a query or a mutation root field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionType {
    Query,
    #[default]
    Mutation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionDefinition {
    /// Absent for queries, which are always synchronous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ActionKind>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<ActionType>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arguments: Vec<ActionArgument>,
    pub output_type: String,
    /// A URL, or a template such as `{{ACTION_BASE_URL}}/path` read from the environment.
    pub handler: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderConf>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub forward_client_headers: bool,
    /// Seconds to wait for the handler (Hasura's default: 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_transform: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_transform: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ActionDefinition {
    pub fn action_type(&self) -> ActionType {
        self.action_type.unwrap_or_default()
    }
    pub fn kind(&self) -> ActionKind {
        self.kind.unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionArgument {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionPermission {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `set_custom_types`: the types actions use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomTypes {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_objects: Vec<CustomObjectType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<CustomObjectType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scalars: Vec<CustomScalar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<CustomEnum>,
}

impl CustomTypes {
    pub fn is_empty(&self) -> bool {
        self.input_objects.is_empty()
            && self.objects.is_empty()
            && self.scalars.is_empty()
            && self.enums.is_empty()
    }
}

/// An object or input object type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomObjectType {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub fields: Vec<CustomField>,
    /// Objects only: relationships to tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<TypeRelationship>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeRelationshipKind {
    Object,
    Array,
}

/// An output object's relationship to a table: its fields map to the table's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeRelationship {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: TypeRelationshipKind,
    #[serde(default = "default_source")]
    pub source: String,
    pub remote_table: QualifiedTable,
    pub field_mapping: IndexMap<String, String>,
}

fn default_source() -> String {
    crate::DEFAULT_SOURCE.to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomScalar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomEnum {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub values: Vec<CustomEnumValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomEnumValue {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_deprecated: bool,
}

/// `arguments:` with nothing after it (YAML null) means no arguments, as in Hasura.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

fn is_false(value: &bool) -> bool {
    !*value
}
