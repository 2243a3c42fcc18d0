//! Resolves Hasura metadata against the database catalog: the model every request is planned
//! from, and the list of metadata objects that do not match the database (inconsistencies).
//!
//! In: a `graft_metadata::Metadata` and one `graft_catalog::DbCatalog` per source. Out: a `Model`
//! (tables with their columns, relationships resolved to column mappings, and per-role permissions
//! with parsed boolean expressions) plus `Inconsistency`s. An inconsistent object is left out of
//! the model and the rest is served: metadata never stops the server.
//!
//! Sits after the catalog and metadata loaders and before `ir`/`translate`; it knows nothing
//! about HTTP or SQL text.

pub mod boolexp;
mod computed;
mod function;
mod inconsistency;
mod inherited;
mod model;
mod resolve;
mod session;

pub use boolexp::{
    BoolExp, BoolExpError, ColumnOp, ComparisonOp, ComputedCall, ComputedResult, Operand, Parser,
    ValueContext,
};
pub use inconsistency::{Inconsistency, ObjectId, PermissionKind};
pub use model::{
    ColumnInfo, ComputedFieldInfo, DeletePermissionInfo, FunctionModel, InsertPermissionInfo,
    Model, Relationship, RelationshipKind, RolePermissions, SelectPermissionInfo, SourceModel,
    TableModel, UpdatePermissionInfo,
};
pub use resolve::{ResolveOutput, resolve};
pub use session::{ADMIN_ROLE, Session};
