//! `<table>_order_by`, `<table>_aggregate_order_by` and the `order_by` enum.

use super::Builder;
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;
use graft_schema::RelationshipKind;

/// The `order_by` enum values with Hasura's descriptions.
const ORDER_BY_VALUES: [(&str, &str); 6] = [
    ("asc", "in ascending order, nulls last"),
    ("asc_nulls_first", "in ascending order, nulls first"),
    ("asc_nulls_last", "in ascending order, nulls last"),
    ("desc", "in descending order, nulls first"),
    ("desc_nulls_first", "in descending order, nulls first"),
    ("desc_nulls_last", "in descending order, nulls last"),
];

/// Aggregates over numeric columns, in `<table>_<fn>_order_by` and `<table>_<fn>_fields`.
pub(super) const NUMERIC_AGGREGATES: [&str; 8] = [
    "avg",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "sum",
    "var_pop",
    "var_samp",
    "variance",
];

impl Builder<'_> {
    pub(super) fn order_by_enum(&mut self) -> String {
        let name = "order_by".to_string();
        if self.sdl.add(
            &name,
            TypeKind::Enum,
            Some("column ordering options".to_string()),
        ) {
            for (value, description) in ORDER_BY_VALUES {
                self.sdl.value(&name, value, Some(description.to_string()));
            }
        }
        name
    }

    /// `<table>_order_by`: a direction per column, the target's ordering per object
    /// relationship, aggregate ordering per array relationship.
    pub(super) fn order_by(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.order_by();
        let description = format!(
            "Ordering options when selecting data from \"{}\".",
            view.names.display
        );
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return name;
        }
        let direction = self.order_by_enum();
        for column in &view.columns {
            self.sdl.field(
                &name,
                column.graphql_name(),
                FieldDef::new(direction.clone()),
            );
        }
        // Scalar computed fields that need no `args` order like columns, as in Hasura.
        for field in &view.computed {
            if super::user_arguments(field).next().is_none() {
                self.sdl
                    .field(&name, &field.name, FieldDef::new(direction.clone()));
            }
        }
        for (rel, target) in self.relationships(table) {
            match rel.kind {
                RelationshipKind::Object => {
                    let target_order = self.order_by(&target);
                    self.sdl
                        .field(&name, &rel.name, FieldDef::new(target_order));
                }
                RelationshipKind::Array => {
                    if self.view(&target).is_some_and(|t| t.allow_aggregations) {
                        let aggregate = self.aggregate_order_by(&target);
                        self.sdl.field(
                            &name,
                            &format!("{}_aggregate", rel.name),
                            FieldDef::new(aggregate),
                        );
                    }
                }
            }
        }
        name
    }

    /// `<table>_aggregate_order_by`: order parents by aggregates of their array relationship.
    fn aggregate_order_by(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.aggregate_order_by();
        let description = format!(
            "order by aggregate values of table \"{}\"",
            view.names.display
        );
        if !self.sdl.add(&name, TypeKind::Input, Some(description)) {
            return name;
        }
        let direction = self.order_by_enum();
        self.sdl
            .field(&name, "count", FieldDef::new(direction.clone()));
        let numeric: Vec<String> = view
            .numeric_columns()
            .map(|c| c.graphql_name().to_string())
            .collect();
        let comparable: Vec<String> = view
            .comparable_columns()
            .map(|c| c.graphql_name().to_string())
            .collect();
        let groups = [
            (NUMERIC_AGGREGATES.as_slice(), &numeric),
            (["max", "min"].as_slice(), &comparable),
        ];
        for (functions, columns) in groups {
            if columns.is_empty() {
                continue;
            }
            for function in functions {
                let type_name = view.names.derived(&format!("{function}_order_by"));
                let description = format!(
                    "order by {function}() on columns of table \"{}\"",
                    view.names.display
                );
                if self.sdl.add(&type_name, TypeKind::Input, Some(description)) {
                    for column in columns {
                        self.sdl
                            .field(&type_name, column, FieldDef::new(direction.clone()));
                    }
                }
                self.sdl.field(&name, function, FieldDef::new(type_name));
            }
        }
        name
    }
}
