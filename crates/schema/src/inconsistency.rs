//! Metadata objects that do not match the database, named the way Hasura names them.

use graft_metadata::{QualifiedFunction, QualifiedTable};
use serde_json::{Value, json};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermissionKind {
    Insert,
    Select,
    Update,
    Delete,
}

impl PermissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionKind::Insert => "insert",
            PermissionKind::Select => "select",
            PermissionKind::Update => "update",
            PermissionKind::Delete => "delete",
        }
    }
}

/// Identifies one metadata object, for inconsistency reports and dependency errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectId {
    Source(String),
    Table {
        source: String,
        table: QualifiedTable,
    },
    Relationship {
        source: String,
        table: QualifiedTable,
        name: String,
        is_array: bool,
    },
    ComputedField {
        source: String,
        table: QualifiedTable,
        name: String,
    },
    Permission {
        source: String,
        table: QualifiedTable,
        role: String,
        kind: PermissionKind,
    },
    Function {
        source: String,
        function: QualifiedFunction,
    },
    /// An inherited role that cannot be resolved (its parents form a cycle).
    InheritedRole(String),
    /// An insert/update/delete permission an inherited role cannot inherit because its parents'
    /// permissions differ. Derived, not written in the metadata: it never refuses a command and
    /// is resolved by defining the permission on the inherited role itself.
    InheritedRolePermission {
        source: String,
        table: QualifiedTable,
        role: String,
        kind: PermissionKind,
    },
}

impl ObjectId {
    /// Hasura's `type` of an inconsistent object.
    pub fn type_name(&self) -> &'static str {
        match self {
            ObjectId::Source(_) => "source",
            ObjectId::Table { .. } => "table",
            ObjectId::Relationship {
                is_array: false, ..
            } => "object_relation",
            ObjectId::Relationship { is_array: true, .. } => "array_relation",
            ObjectId::ComputedField { .. } => "computed_field",
            ObjectId::Permission { kind, .. } => match kind {
                PermissionKind::Insert => "insert_permission",
                PermissionKind::Select => "select_permission",
                PermissionKind::Update => "update_permission",
                PermissionKind::Delete => "delete_permission",
            },
            ObjectId::Function { .. } => "function",
            ObjectId::InheritedRole(_) => "inherited_role",
            ObjectId::InheritedRolePermission { .. } => "inherited role permission inconsistency",
        }
    }

    /// Whether a command that introduces this inconsistency is refused. A conflict between an
    /// inherited role's parents is reported but accepted, as Hasura does.
    pub fn refuses_commands(&self) -> bool {
        !matches!(self, ObjectId::InheritedRolePermission { .. })
    }

    pub fn source(&self) -> &str {
        match self {
            ObjectId::Source(source)
            | ObjectId::Table { source, .. }
            | ObjectId::Relationship { source, .. }
            | ObjectId::ComputedField { source, .. }
            | ObjectId::Permission { source, .. }
            | ObjectId::InheritedRolePermission { source, .. }
            | ObjectId::Function { source, .. } => source,
            ObjectId::InheritedRole(_) => "",
        }
    }

    /// The table this object hangs off, if any.
    pub fn table(&self) -> Option<&QualifiedTable> {
        match self {
            ObjectId::Table { table, .. }
            | ObjectId::Relationship { table, .. }
            | ObjectId::ComputedField { table, .. }
            | ObjectId::Permission { table, .. }
            | ObjectId::InheritedRolePermission { table, .. } => Some(table),
            _ => None,
        }
    }
}

/// `relationship article.author in source "default"`, as in Hasura's dependency errors.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectId::Source(name) => write!(f, "source {name}"),
            ObjectId::Table { source, table } => write!(f, "table {table} in source \"{source}\""),
            ObjectId::Relationship {
                source,
                table,
                name,
                ..
            } => write!(f, "relationship {table}.{name} in source \"{source}\""),
            ObjectId::ComputedField {
                source,
                table,
                name,
            } => write!(f, "computed field {table}.{name} in source \"{source}\""),
            ObjectId::Permission {
                source,
                table,
                role,
                kind,
            } => write!(
                f,
                "permission {table}.{role}.{} in source \"{source}\"",
                kind.as_str()
            ),
            ObjectId::Function { source, function } => {
                write!(f, "function {function} in source \"{source}\"")
            }
            ObjectId::InheritedRole(role) => write!(f, "inherited role {role}"),
            ObjectId::InheritedRolePermission {
                source,
                table,
                role,
                kind,
            } => write!(
                f,
                "inherited permission {table}.{role}.{} in source \"{source}\"",
                kind.as_str()
            ),
        }
    }
}

impl ObjectId {
    /// The `name` of an inconsistent object as Hasura reports it.
    pub fn inconsistency_name(&self) -> String {
        match self {
            ObjectId::Source(name) => format!("source {name}"),
            ObjectId::Table { source, table } => format!("table {table} in source {source}"),
            ObjectId::Function { source, function } => {
                format!("function {function} in source {source}")
            }
            ObjectId::Relationship {
                source,
                table,
                name,
                ..
            }
            | ObjectId::ComputedField {
                source,
                table,
                name,
            } => format!(
                "{} {name} in table {table} in source {source}",
                self.type_name()
            ),
            ObjectId::Permission {
                source,
                table,
                role,
                ..
            } => format!(
                "{} {role} in table {table} in source {source}",
                self.type_name()
            ),
            ObjectId::InheritedRole(role) | ObjectId::InheritedRolePermission { role, .. } => {
                role.clone()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inconsistency {
    pub object: ObjectId,
    pub reason: String,
    /// The metadata object as it is written in the metadata document.
    pub definition: Value,
}

impl Inconsistency {
    /// The entry of `get_inconsistent_metadata`'s `inconsistent_objects`.
    pub fn to_json(&self) -> Value {
        if let ObjectId::InheritedRolePermission {
            source,
            table,
            role,
            kind,
        } = &self.object
        {
            // Hasura's shape for this one: an `entity` instead of a `definition`, and the reason
            // without the "Inconsistent object" prefix.
            let table_json = if table.schema == "public" {
                json!(table.name)
            } else {
                json!({"schema": table.schema, "name": table.name})
            };
            return json!({
                "entity": {
                    "permission_type": kind.as_str(),
                    "source": source,
                    "table": table_json,
                },
                "name": role,
                "reason": self.reason,
                "type": self.object.type_name(),
            });
        }
        json!({
            "definition": self.definition,
            "name": self.object.inconsistency_name(),
            "reason": format!("Inconsistent object: {}", self.reason),
            "type": self.object.type_name(),
        })
    }
}
