//! The input types of inserts: `<t>_insert_input` with nested `<t>_obj_rel_insert_input` and
//! `<t>_arr_rel_insert_input`, and the upsert clause `<t>_on_conflict` with its enums
//! `<t>_constraint` and `<t>_update_column`.

use super::Builder;
use crate::names::TableNames;
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;
use graft_schema::RelationshipKind;

impl Builder<'_> {
    /// `<t>_insert_input`: the insertable columns, and a nested insert per relationship whose
    /// target the role may insert into.
    pub(super) fn insert_input(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.mutation(table) else {
            return String::new();
        };
        let name = view.names.derived("insert_input");
        let description = format!(
            "input type for inserting data into table \"{}\"",
            view.names.display
        );
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return name;
        }
        for column in view.insert.iter().flatten() {
            self.ensure_column_type(&column.ty);
            let field = FieldDef::described(column.ty.nullable(), column.info.description.clone());
            self.sdl.field(&name, column.graphql_name(), field);
        }
        for rel in view.table.relationships.values() {
            let insertable = self
                .mutation(&rel.target)
                .is_some_and(|target| target.insert.is_some());
            if !insertable {
                continue;
            }
            let ty = match rel.kind {
                RelationshipKind::Object => self.rel_insert_input(&rel.target, false),
                RelationshipKind::Array => self.rel_insert_input(&rel.target, true),
            };
            self.sdl.field(&name, &rel.name, FieldDef::new(ty));
        }
        name
    }

    /// `<t>_obj_rel_insert_input { data, on_conflict }` or its array twin.
    fn rel_insert_input(&mut self, table: &QualifiedTable, array: bool) -> String {
        let Some(view) = self.mutation(table) else {
            return String::new();
        };
        let (suffix, kind) = if array {
            ("arr_rel_insert_input", "array")
        } else {
            ("obj_rel_insert_input", "object")
        };
        let name = view.names.derived(suffix);
        let description = format!(
            "input type for inserting {kind} relation for remote table \"{}\"",
            view.names.display
        );
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return name;
        }
        let input = self.insert_input(table);
        let data = if array {
            format!("[{input}!]!")
        } else {
            format!("{input}!")
        };
        self.sdl.field(&name, "data", FieldDef::new(data));
        if let Some(on_conflict) = self.on_conflict(table) {
            self.sdl.field(
                &name,
                "on_conflict",
                FieldDef::described(on_conflict, Some("upsert condition".to_string())),
            );
        }
        name
    }

    /// `<t>_on_conflict`, or `None` when the table has no primary key or unique constraint.
    pub(super) fn on_conflict(&mut self, table: &QualifiedTable) -> Option<String> {
        let constraint = self.constraint_enum(table)?;
        let model = self.source.table(table)?;
        let names = TableNames::of(model);
        let name = names.derived("on_conflict");
        let description = format!("on_conflict condition type for table \"{}\"", names.display);
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return Some(name);
        }
        let update_column = self.update_column_enum(table);
        let bool_exp = self.bool_exp(table);
        self.sdl
            .field(&name, "constraint", FieldDef::new(format!("{constraint}!")));
        self.sdl.field(
            &name,
            "update_columns",
            FieldDef::new(format!("[{update_column}!]!")).with_default("[]"),
        );
        self.sdl.field(&name, "where", FieldDef::new(bool_exp));
        Some(name)
    }

    /// `<t>_constraint`: the primary key and unique constraints, by name.
    fn constraint_enum(&mut self, table: &QualifiedTable) -> Option<String> {
        let model = self.source.table(table)?;
        let mut constraints = Vec::new();
        if let (Some(pk_name), false) = (&model.primary_key_name, model.primary_key.is_empty()) {
            constraints.push((pk_name.clone(), model.primary_key.clone()));
        }
        for unique in &model.unique_constraints {
            constraints.push((unique.name.clone(), unique.columns.clone()));
        }
        // A constraint name that is not a GraphQL name cannot be an enum value; Hasura fails
        // the whole schema, graft leaves the constraint out.
        constraints.retain(|(name, _)| {
            apollo_compiler::Name::new(name).is_ok()
                && !matches!(name.as_str(), "true" | "false" | "null")
        });
        if constraints.is_empty() {
            return None;
        }
        let names = TableNames::of(model);
        let name = names.derived("constraint");
        let description = format!(
            "unique or primary key constraints on table \"{}\"",
            names.display
        );
        if self.sdl.add(&name, TypeKind::Enum, Some(description)) {
            for (constraint, columns) in constraints {
                let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
                let description = format!(
                    "unique or primary key constraint on columns {}",
                    quoted.join(", ")
                );
                self.sdl.value(&name, &constraint, Some(description));
            }
        }
        Some(name)
    }

    /// `<t>_update_column`: the columns an upsert may overwrite, or Hasura's placeholder when
    /// the role may update none, so that `update_columns: []` (do nothing) stays expressible.
    fn update_column_enum(&mut self, table: &QualifiedTable) -> String {
        let (names, columns) = match (self.mutation(table), self.source.table(table)) {
            (Some(view), _) => (view.names, view.update.unwrap_or_default()),
            (None, Some(model)) => (TableNames::of(model), Vec::new()),
            (None, None) => return String::new(),
        };
        let name = names.derived("update_column");
        if columns.is_empty() {
            let description = format!(
                "placeholder for update columns of table \"{}\" (current role has no relevant permissions)",
                names.display
            );
            if self.sdl.add(&name, TypeKind::Enum, Some(description)) {
                self.sdl.value(
                    &name,
                    "_PLACEHOLDER",
                    Some("placeholder (do not use)".to_string()),
                );
            }
            return name;
        }
        let description = format!("update columns of table \"{}\"", names.display);
        if self.sdl.add(&name, TypeKind::Enum, Some(description)) {
            for column in &columns {
                self.sdl.value(
                    &name,
                    column.graphql_name(),
                    Some("column name".to_string()),
                );
            }
        }
        name
    }
}
