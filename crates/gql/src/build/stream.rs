//! Streaming subscriptions: `<table>_stream(batch_size, cursor, where)` in `subscription_root`
//! and the cursor input types, as Hasura generates them.

use super::Builder;
use crate::names::{RootFieldKind, root_field};
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;

impl Builder<'_> {
    /// The `_stream` root field of `table`, when the role may select from it.
    pub(super) fn stream_field(&mut self, table: &QualifiedTable) -> Option<(String, FieldDef)> {
        let view = self.view(table)?;
        if view.columns.is_empty() {
            return None;
        }
        let root = root_field(view.table, &view.names, RootFieldKind::SelectStream);
        let object = self.object_type(table);
        let cursor = self.stream_cursor_input(table);
        let bool_exp = self.bool_exp(table);
        let field = FieldDef::described(format!("[{object}!]!"), Some(root.description))
            .arg(
                "batch_size",
                "Int!",
                Some("maximum number of rows returned in a single batch"),
            )
            .arg(
                "cursor",
                format!("[{cursor}]!"),
                Some("cursor to stream the results returned by the query"),
            )
            .arg(
                "where",
                bool_exp,
                Some("filter the rows which have to be selected"),
            );
        Some((root.name, field))
    }

    fn stream_cursor_input(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.derived("stream_cursor_input");
        let value_name = view.names.derived("stream_cursor_value_input");
        let description = format!("Streaming cursor of the table \"{}\"", view.names.display);
        if self.sdl.add(&name, TypeKind::Input, Some(description)) {
            self.sdl.field(
                &name,
                "initial_value",
                FieldDef::described(
                    format!("{value_name}!"),
                    Some("Stream column input with initial value".to_string()),
                ),
            );
            let ordering = self.cursor_ordering();
            self.sdl.field(
                &name,
                "ordering",
                FieldDef::described(ordering, Some("cursor ordering".to_string())),
            );
        }
        let description =
            "Initial value of the column from where the streaming should start".to_string();
        if self
            .sdl
            .add(&value_name, TypeKind::Input, Some(description))
        {
            for column in &view.columns {
                self.ensure_column_type(&column.ty);
                self.sdl.field(
                    &value_name,
                    column.graphql_name(),
                    FieldDef::described(column.ty.nullable(), column.info.description.clone()),
                );
            }
        }
        name
    }

    fn cursor_ordering(&mut self) -> String {
        let name = "cursor_ordering";
        if self.sdl.add(
            name,
            TypeKind::Enum,
            Some("ordering argument of a cursor".to_string()),
        ) {
            self.sdl.value(
                name,
                "ASC",
                Some("ascending ordering of the cursor".to_string()),
            );
            self.sdl.value(
                name,
                "DESC",
                Some("descending ordering of the cursor".to_string()),
            );
        }
        name.to_string()
    }
}
