//! `<table>_bool_exp` and the `<Scalar>_comparison_exp` types its columns use.

use super::{Builder, ColumnType};
use crate::names::TableNames;
use crate::scalars::{ColumnScalar, ScalarFamily};
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;
use graft_schema::RelationshipKind;

/// Operators on string-like columns, with Hasura's descriptions.
const STRING_OPERATORS: [(&str, &str); 10] = [
    ("_like", "does the column match the given pattern"),
    ("_nlike", "does the column NOT match the given pattern"),
    (
        "_ilike",
        "does the column match the given case-insensitive pattern",
    ),
    (
        "_nilike",
        "does the column NOT match the given case-insensitive pattern",
    ),
    (
        "_similar",
        "does the column match the given SQL regular expression",
    ),
    (
        "_nsimilar",
        "does the column NOT match the given SQL regular expression",
    ),
    (
        "_regex",
        "does the column match the given POSIX regular expression, case sensitive",
    ),
    (
        "_iregex",
        "does the column match the given POSIX regular expression, case insensitive",
    ),
    (
        "_nregex",
        "does the column NOT match the given POSIX regular expression, case sensitive",
    ),
    (
        "_niregex",
        "does the column NOT match the given POSIX regular expression, case insensitive",
    ),
];

impl Builder<'_> {
    /// `<table>_bool_exp`: `_and`/`_or`/`_not`, a comparison per column, and the target's
    /// expression per relationship.
    ///
    /// A role may delete or update rows of a table it cannot select; the `where` of those
    /// mutations still has this type, with only the logical connectives, as in Hasura.
    pub(super) fn bool_exp(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return match self.source.table(table) {
                Some(model) => {
                    let names = TableNames::of(model);
                    self.bool_exp_connectives(&names);
                    names.bool_exp()
                }
                None => String::new(),
            };
        };
        let name = view.names.bool_exp();
        if !self.bool_exp_connectives(&view.names) {
            return name;
        }
        for column in &view.columns {
            let comparison = self.comparison_exp(&column.ty);
            self.sdl
                .field(&name, column.graphql_name(), FieldDef::new(comparison));
        }
        for (rel, target) in self.relationships(table) {
            let target_exp = self.bool_exp(&target);
            self.sdl.field(&name, &rel.name, FieldDef::new(target_exp));
            let aggregates = self.view(&target).is_some_and(|t| t.allow_aggregations);
            if rel.kind == RelationshipKind::Array && aggregates {
                let aggregate_exp = self.aggregate_bool_exp(&target);
                self.sdl.field(
                    &name,
                    &format!("{}_aggregate", rel.name),
                    FieldDef::new(aggregate_exp),
                );
            }
        }
        self.computed_bool_exp_fields(&view, &name);
        name
    }

    /// Declares `<table>_bool_exp` with `_and`, `_or` and `_not`; false if it already existed.
    fn bool_exp_connectives(&mut self, names: &TableNames) -> bool {
        let name = names.bool_exp();
        let description = format!(
            "Boolean expression to filter rows from the table \"{}\". All fields are combined with a logical 'AND'.",
            names.display
        );
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return false;
        }
        self.sdl
            .field(&name, "_and", FieldDef::new(format!("[{name}!]")));
        self.sdl
            .field(&name, "_or", FieldDef::new(format!("[{name}!]")));
        self.sdl.field(&name, "_not", FieldDef::new(name.clone()));
        true
    }

    /// The comparison type of a column type, created on first use.
    pub(super) fn comparison_exp(&mut self, ty: &ColumnType) -> String {
        let name = ty.comparison_exp();
        self.ensure_column_type(ty);
        let shown = match ty {
            ColumnType::Scalar(scalar) => scalar.name.clone(),
            ColumnType::Enum { name, .. } => name.clone(),
        };
        let description = format!(
            "Boolean expression to compare columns of type \"{shown}\". All fields are combined with logical 'AND'."
        );
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return name;
        }
        let value = ty.nullable();
        self.sdl.field(&name, "_eq", FieldDef::new(value.clone()));
        self.sdl.field(&name, "_neq", FieldDef::new(value.clone()));
        self.sdl
            .field(&name, "_in", FieldDef::new(format!("[{value}!]")));
        self.sdl
            .field(&name, "_nin", FieldDef::new(format!("[{value}!]")));
        self.sdl.field(&name, "_is_null", FieldDef::new("Boolean"));
        if let ColumnType::Scalar(scalar) = ty {
            for op in ["_gt", "_gte", "_lt", "_lte"] {
                self.sdl.field(&name, op, FieldDef::new(value.clone()));
            }
            self.scalar_operators(&name, scalar);
        }
        name
    }

    fn scalar_operators(&mut self, name: &str, scalar: &ColumnScalar) {
        let value = scalar.nullable();
        let described = |ty: &str, text: &str| FieldDef::described(ty, Some(text.to_string()));
        if scalar.is_array {
            self.sdl.field(
                name,
                "_contains",
                described(&value, "does the array contain the given value"),
            );
            self.sdl.field(
                name,
                "_contained_in",
                described(&value, "is the array contained in the given array value"),
            );
            return;
        }
        match scalar.family {
            ScalarFamily::String => {
                for (op, text) in STRING_OPERATORS {
                    self.sdl.field(name, op, described(&value, text));
                }
            }
            ScalarFamily::Jsonb => {
                let cast = self.jsonb_cast_exp();
                self.sdl.field(name, "_cast", FieldDef::new(cast));
                let ops = [
                    (
                        "_contains",
                        value.as_str(),
                        "does the column contain the given json value at the top level",
                    ),
                    (
                        "_contained_in",
                        value.as_str(),
                        "is the column contained in the given json value",
                    ),
                    (
                        "_has_key",
                        "String",
                        "does the string exist as a top-level key in the column",
                    ),
                    (
                        "_has_keys_any",
                        "[String!]",
                        "do any of these strings exist as top-level keys in the column",
                    ),
                    (
                        "_has_keys_all",
                        "[String!]",
                        "do all of these strings exist as top-level keys in the column",
                    ),
                ];
                for (op, ty, text) in ops {
                    self.sdl.field(name, op, described(ty, text));
                }
            }
            ScalarFamily::Ltree => {
                self.ensure_scalar("lquery");
                self.ensure_scalar("ltxtquery");
                let list = format!("[{value}!]");
                let ops = [
                    (
                        "_ancestor",
                        value.as_str(),
                        "is the left argument an ancestor of right (or equal)?",
                    ),
                    (
                        "_ancestor_any",
                        list.as_str(),
                        "does array contain an ancestor of `ltree`?",
                    ),
                    (
                        "_descendant",
                        value.as_str(),
                        "is the left argument a descendant of right (or equal)?",
                    ),
                    (
                        "_descendant_any",
                        list.as_str(),
                        "does array contain a descendant of `ltree`?",
                    ),
                    ("_matches", "lquery", "does `ltree` match `lquery`?"),
                    (
                        "_matches_any",
                        "[String!]",
                        "does `ltree` match any `lquery` in array?",
                    ),
                    (
                        "_matches_fulltext",
                        "ltxtquery",
                        "does `ltree` match `ltxtquery`?",
                    ),
                ];
                for (op, ty, text) in ops {
                    self.sdl.field(name, op, described(ty, text));
                }
            }
            _ => {}
        }
    }

    /// `jsonb_cast_exp { String: String_comparison_exp }`.
    fn jsonb_cast_exp(&mut self) -> String {
        let name = "jsonb_cast_exp".to_string();
        if self.sdl.add(&name, TypeKind::Input, None) {
            let string = self.comparison_exp(&ColumnType::Scalar(ColumnScalar {
                name: "String".to_string(),
                family: ScalarFamily::String,
                is_array: false,
            }));
            self.sdl.field(&name, "String", FieldDef::new(string));
        }
        name
    }
}
