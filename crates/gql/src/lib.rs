//! graft's GraphQL front: the schema Hasura v2 generates for the tracked tables, one per role,
//! and parsing, validation and introspection of request documents against it.
//!
//! In: a resolved `graft_schema::Model` (tables, columns, relationships, permissions) and the
//! role of the request. Out: an apollo-compiler `Valid<Schema>` per role (`schema_for_role`); for
//! a request, a `ValidOperation` (the operation with fragments inlined, directives applied and
//! variables coerced) or Hasura-shaped `GqlError`s (`parse_and_validate`); and the JSON answer
//! of `__schema`/`__type` queries (`introspect`), which needs no database.
//!
//! Mutations (`insert_<t>`, `update_<t>`, `delete_<t>` and their `_one`/`_by_pk`/`_many`
//! variants) follow the role's insert, update and delete permissions; `backend_only` ones
//! appear only when `SchemaOptions::use_backend_only_permissions` is set. A role without any
//! mutation field has no `mutation_root`, and a mutation gets "no mutations exist".
//!
//! Sits after `auth` and before `ir`: validation sees only the part of the schema the role may
//! see, so a field the role may not select is "not found", exactly as in Hasura.

mod build;
mod error;
mod hasura_check;
mod introspection;
mod mutation_check;
mod names;
mod operation;
mod scalars;
mod sdl;
mod validate;

pub use build::{
    Mutability, SchemaOptions, action_base_type, function_return_table, is_scalar_computed,
    schema_for_role, sdl_for_role, user_arguments,
};
pub use error::{GqlError, GqlSchemaError};
pub use introspection::{introspect, is_introspection_only};
pub use names::{
    MutationFieldKind, RootField, RootFieldKind, TableNames, mutation_root_field, root_field,
    table_type_name,
};
pub use operation::{Field, OperationKind, ValidOperation};
pub use scalars::{ColumnScalar, ScalarFamily, column_scalar};
pub use validate::{PreparedDocument, bind_variables, parse_and_validate, prepare_document};

pub use apollo_compiler;
