//! `mutation_root`: per table, `insert_<t>`, `insert_<t>_one`, `update_<t>`, `update_<t>_by_pk`,
//! `update_<t>_many`, `delete_<t>` and `delete_<t>_by_pk`, as Hasura v2 generates them
//! (`Hasura.GraphQL.Schema.{Build,Mutation,Update}`).
//!
//! What a role gets follows Hasura's rules:
//! - a field needs the matching permission, and a `backend_only` permission counts only in the
//!   backend scenario (admin secret + `x-hasura-use-backend-only-permissions: true`);
//! - fields that return a row (`_one`, `_by_pk`) need a select permission, and the `_by_pk`
//!   ones need every primary-key column selectable;
//! - the `returning` field of `<t>_mutation_response` needs a select permission;
//! - views must be insertable (insert, and delete, which Hasura also gates on insertability)
//!   or updatable (update); materialized views get nothing.

use super::{Builder, ColumnView};
use crate::names::{MutationFieldKind, TableNames, mutation_root_field};
use crate::sdl::{FieldDef, TypeKind};
use graft_catalog::TableKind;
use graft_metadata::QualifiedTable;
use graft_schema::{ADMIN_ROLE, TableModel};

/// Whether Postgres accepts INSERT, UPDATE and DELETE on a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mutability {
    pub insertable: bool,
    pub updatable: bool,
    pub deletable: bool,
}

impl Mutability {
    pub fn of(table: &graft_catalog::Table) -> Self {
        Mutability {
            insertable: table.is_insertable,
            updatable: table.is_updatable,
            deletable: table.is_deletable,
        }
    }

    /// The fallback when the catalog was not consulted.
    fn of_kind(kind: TableKind) -> Self {
        let mutable = kind != TableKind::MaterializedView;
        Mutability {
            insertable: mutable,
            updatable: mutable,
            deletable: mutable,
        }
    }
}

/// One table as the role may change it.
#[derive(Debug, Clone)]
pub(crate) struct MutationView<'a> {
    pub table: &'a TableModel,
    pub names: TableNames,
    /// The columns of `<t>_insert_input` (permitted, not preset, not generated); `None`
    /// without an insert permission.
    pub insert: Option<Vec<ColumnView<'a>>>,
    /// The columns an update may set (permitted, not preset, not generated); `None` without
    /// an update permission.
    pub update: Option<Vec<ColumnView<'a>>>,
    /// Whether the role may delete.
    pub delete: bool,
    /// Which of the three permissions are `backend_only` and hidden in this scenario.
    pub hidden: Hidden,
    pub mutability: Mutability,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hidden {
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
}

impl<'a> Builder<'a> {
    pub(super) fn mutation_view(
        &self,
        table: &'a TableModel,
        role: &str,
    ) -> Option<MutationView<'a>> {
        let mutability = self
            .options
            .mutability
            .get(&table.name)
            .copied()
            .unwrap_or_else(|| Mutability::of_kind(table.kind));
        let writable = |c: &graft_schema::ColumnInfo| !c.is_generated;
        let (insert, update, delete, hidden) = if role == ADMIN_ROLE {
            (
                Some(self.column_views(table, writable)),
                Some(self.column_views(table, writable)),
                true,
                Hidden::default(),
            )
        } else {
            let permissions = table.permissions.get(role)?;
            let insert = permissions.insert.as_ref().map(|p| {
                self.column_views(table, |c| {
                    writable(c) && p.columns.contains(&c.name) && !p.set.contains_key(&c.name)
                })
            });
            let update = permissions.update.as_ref().map(|p| {
                self.column_views(table, |c| {
                    writable(c) && p.columns.contains(&c.name) && !p.set.contains_key(&c.name)
                })
            });
            let backend = self.options.use_backend_only_permissions;
            let hidden = Hidden {
                insert: permissions.insert.as_ref().is_some_and(|p| p.backend_only) && !backend,
                update: permissions.update.as_ref().is_some_and(|p| p.backend_only) && !backend,
                delete: permissions.delete.as_ref().is_some_and(|p| p.backend_only) && !backend,
            };
            (insert, update, permissions.delete.is_some(), hidden)
        };
        if insert.is_none() && update.is_none() && !delete {
            return None;
        }
        Some(MutationView {
            table,
            names: TableNames::of(table),
            insert,
            update,
            delete,
            hidden,
            mutability,
        })
    }

    pub(super) fn mutation(&self, table: &QualifiedTable) -> Option<MutationView<'a>> {
        self.mutations.get(table).cloned()
    }

    /// Adds `mutation_root` when the role has at least one mutation field. Without one the
    /// schema has no mutation type and a mutation is answered with "no mutations exist".
    pub(super) fn build_mutation_root(&mut self) {
        let tables: Vec<QualifiedTable> = self.mutations.keys().cloned().collect();
        let mut fields = Vec::new();
        for table in &tables {
            fields.extend(self.insert_fields(table));
            fields.extend(self.update_fields(table));
            fields.extend(self.delete_fields(table));
        }
        fields.extend(self.function_mutation_fields());
        if fields.is_empty() {
            return;
        }
        self.sdl.add("mutation_root", TypeKind::Object, None);
        for (name, field) in fields {
            self.sdl.field("mutation_root", &name, field);
        }
    }

    fn insert_fields(&mut self, table: &QualifiedTable) -> Vec<(String, FieldDef)> {
        let Some(view) = self.mutation(table) else {
            return Vec::new();
        };
        if view.insert.is_none() || view.hidden.insert || !view.mutability.insertable {
            return Vec::new();
        }
        let input = self.insert_input(table);
        let on_conflict = self.on_conflict(table);
        let response = self.mutation_response(table);
        let mut fields = Vec::new();

        let insert = mutation_root_field(view.table, &view.names, MutationFieldKind::Insert);
        let mut field = FieldDef::described(response, Some(insert.description)).arg(
            "objects",
            format!("[{input}!]!"),
            Some("the rows to be inserted"),
        );
        if let Some(on_conflict) = &on_conflict {
            field = field.arg("on_conflict", on_conflict, Some("upsert condition"));
        }
        fields.push((insert.name, field));

        if self.views.contains_key(table) {
            let object = self.object_type(table);
            let one = mutation_root_field(view.table, &view.names, MutationFieldKind::InsertOne);
            let mut field = FieldDef::described(object, Some(one.description)).arg(
                "object",
                format!("{input}!"),
                Some("the row to be inserted"),
            );
            if let Some(on_conflict) = &on_conflict {
                field = field.arg("on_conflict", on_conflict, Some("upsert condition"));
            }
            fields.push((one.name, field));
        }
        fields
    }

    fn delete_fields(&mut self, table: &QualifiedTable) -> Vec<(String, FieldDef)> {
        let Some(view) = self.mutation(table) else {
            return Vec::new();
        };
        // Hasura checks insertability here, not deletability.
        if !view.delete || view.hidden.delete || !view.mutability.insertable {
            return Vec::new();
        }
        let bool_exp = self.bool_exp(table);
        let response = self.mutation_response(table);
        let mut fields = Vec::new();
        let delete = mutation_root_field(view.table, &view.names, MutationFieldKind::Delete);
        let field = FieldDef::described(response, Some(delete.description)).arg(
            "where",
            format!("{bool_exp}!"),
            Some("filter the rows which have to be deleted"),
        );
        fields.push((delete.name, field));

        if let Some(pk_args) = self.primary_key_args(table) {
            let object = self.object_type(table);
            let by_pk = mutation_root_field(view.table, &view.names, MutationFieldKind::DeleteByPk);
            let mut field = FieldDef::described(object, Some(by_pk.description));
            field.args = pk_args.args;
            fields.push((by_pk.name, field));
        }
        fields
    }

    /// The primary-key columns as arguments (or input fields), when the role can select them
    /// all: what `_by_pk` fields need.
    pub(super) fn primary_key_args(&mut self, table: &QualifiedTable) -> Option<FieldDef> {
        let view = self.view(table)?;
        let pk = &view.table.primary_key;
        let columns: Vec<_> = pk
            .iter()
            .filter_map(|name| view.columns.iter().find(|c| &c.info.name == name))
            .collect();
        if pk.is_empty() || columns.len() != pk.len() {
            return None;
        }
        let mut args = FieldDef::new("");
        for column in columns {
            self.ensure_column_type(&column.ty);
            args = args.arg(column.graphql_name(), column.ty.non_null(), None);
            if let Some(arg) = args.args.get_mut(column.graphql_name()) {
                arg.description = column.info.description.clone();
            }
        }
        Some(args)
    }

    /// `<t>_mutation_response { affected_rows, returning }`.
    pub(super) fn mutation_response(&mut self, table: &QualifiedTable) -> String {
        let Some(model) = self.source.table(table) else {
            return String::new();
        };
        let names = TableNames::of(model);
        let name = names.derived("mutation_response");
        let description = format!(
            "response of any mutation on the table \"{}\"",
            names.display
        );
        if !self.sdl.add(&name, TypeKind::Object, Some(description)) {
            return name;
        }
        self.sdl.field(
            &name,
            "affected_rows",
            FieldDef::described(
                "Int!",
                Some("number of rows affected by the mutation".to_string()),
            ),
        );
        if self.views.contains_key(table) {
            let object = self.object_type(table);
            self.sdl.field(
                &name,
                "returning",
                FieldDef::described(
                    format!("[{object}!]!"),
                    Some("data from the rows affected by the mutation".to_string()),
                ),
            );
        }
        name
    }
}
