//! The resolved model: what requests are planned from. Owned data, cheap to share behind an Arc.

use crate::boolexp::BoolExp;
use graft_catalog::PgType;
use graft_metadata::{QualifiedFunction, QualifiedTable, TableConfiguration};
use indexmap::IndexMap;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub sources: IndexMap<String, SourceModel>,
}

impl Model {
    pub fn source(&self, name: &str) -> Option<&SourceModel> {
        self.sources.get(name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SourceModel {
    pub name: String,
    pub tables: IndexMap<QualifiedTable, TableModel>,
    pub functions: IndexMap<QualifiedFunction, FunctionModel>,
}

/// A tracked SQL function with its configuration resolved against the catalog.
#[derive(Debug, Clone)]
pub struct FunctionModel {
    pub function: graft_catalog::Function,
    /// Which input argument receives the session variables as JSON, if any.
    pub session_argument: Option<usize>,
    /// A mutation root field (VOLATILE functions by default) rather than a query one.
    pub is_mutation: bool,
    /// The root field's name (`custom_root_fields.function`, `custom_name`, or the default).
    pub field_name: String,
    /// The aggregate root field's name.
    pub aggregate_field_name: String,
    /// Roles granted the function by `pg_create_function_permission`.
    pub permitted_roles: Vec<String>,
}

impl FunctionModel {
    /// Whether `role` may call the function. Query functions are open to every role that may
    /// select from the returned table unless `require_permissions`
    /// (`HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS=false`); mutation functions always need a
    /// function permission, since they may write.
    pub fn permits(&self, role: &str, require_permissions: bool) -> bool {
        role == crate::session::ADMIN_ROLE
            || self.permitted_roles.iter().any(|r| r == role)
            || (!self.is_mutation && !require_permissions)
    }
}

impl SourceModel {
    pub fn table(&self, name: &QualifiedTable) -> Option<&TableModel> {
        self.tables.get(name)
    }
}

#[derive(Debug, Clone)]
pub struct TableModel {
    pub name: QualifiedTable,
    pub kind: graft_catalog::TableKind,
    pub columns: IndexMap<String, ColumnInfo>,
    pub primary_key: Vec<String>,
    pub unique_constraints: Vec<graft_catalog::Constraint>,
    pub primary_key_name: Option<String>,
    pub relationships: IndexMap<String, Relationship>,
    pub computed_fields: IndexMap<String, ComputedFieldInfo>,
    pub permissions: IndexMap<String, RolePermissions>,
    pub configuration: TableConfiguration,
    pub is_enum: bool,
    pub description: Option<String>,
}

impl TableModel {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.get(name)
    }

    pub fn relationship(&self, name: &str) -> Option<&Relationship> {
        self.relationships.get(name)
    }
}

#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    /// The GraphQL field name: the custom name or the column name.
    pub graphql_name: String,
    pub pg_type: PgType,
    pub is_nullable: bool,
    pub has_default: bool,
    pub is_generated: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipKind {
    Object,
    Array,
}

#[derive(Debug, Clone)]
pub struct Relationship {
    pub name: String,
    pub kind: RelationshipKind,
    pub target: QualifiedTable,
    /// (column of this table, column of the target) pairs that must be equal.
    pub mapping: Vec<(String, String)>,
    /// An object relationship is nullable unless its local columns are non-null and a foreign key
    /// on them guarantees the row exists.
    pub nullable: bool,
    pub comment: Option<String>,
}

/// One role's permissions on one table, with boolean expressions already parsed.
#[derive(Debug, Clone, Default)]
pub struct RolePermissions {
    pub select: Option<SelectPermissionInfo>,
    pub insert: Option<InsertPermissionInfo>,
    pub update: Option<UpdatePermissionInfo>,
    pub delete: Option<DeletePermissionInfo>,
}

#[derive(Debug, Clone)]
pub struct SelectPermissionInfo {
    pub columns: Vec<String>,
    pub filter: BoolExp,
    pub limit: Option<u64>,
    pub allow_aggregations: bool,
    pub computed_fields: Vec<String>,
    /// Inherited roles only: the columns and scalar computed fields that some parent roles grant
    /// and others do not, each with the condition under which a row shows it (the filters of the
    /// parents granting it, ORed). Other rows the role sees read it as null, as Hasura's
    /// `CASE WHEN <condition> THEN column ELSE NULL END`.
    pub redacted: IndexMap<String, BoolExp>,
}

impl SelectPermissionInfo {
    /// The condition under which `field` (a column or computed field) is visible in a row, when
    /// it is not visible in every row the role may read.
    pub fn redaction(&self, field: &str) -> Option<&BoolExp> {
        self.redacted.get(field)
    }
}

#[derive(Debug, Clone)]
pub struct InsertPermissionInfo {
    pub columns: Vec<String>,
    pub check: BoolExp,
    /// Column presets: a literal or a session variable name.
    pub set: IndexMap<String, Value>,
    pub backend_only: bool,
}

#[derive(Debug, Clone)]
pub struct UpdatePermissionInfo {
    pub columns: Vec<String>,
    pub filter: BoolExp,
    pub check: Option<BoolExp>,
    pub set: IndexMap<String, Value>,
    pub backend_only: bool,
}

#[derive(Debug, Clone)]
pub struct DeletePermissionInfo {
    pub filter: BoolExp,
    pub backend_only: bool,
}

#[derive(Debug, Clone)]
pub struct ComputedFieldInfo {
    pub name: String,
    pub function: graft_catalog::Function,
    /// Which input argument receives the row.
    pub table_argument: usize,
    /// Which input argument receives the session variables as JSON, if any.
    pub session_argument: Option<usize>,
    pub comment: Option<String>,
}
