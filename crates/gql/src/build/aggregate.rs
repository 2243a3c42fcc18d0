//! `<table>_aggregate`, its fields per aggregate function, and the aggregate predicates
//! (`<table>_aggregate_bool_exp`) of array relationships.

use super::order_by::NUMERIC_AGGREGATES;
use super::{Builder, ColumnType, TableView};
use crate::scalars::{ColumnScalar, ScalarFamily};
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;

/// Aggregate predicates over `float8` columns (Hasura's `aggregationFunctions`).
const FLOAT8_PREDICATES: [&str; 6] = ["avg", "max", "min", "stddev_samp", "sum", "var_samp"];
/// Two-argument predicates over `float8` columns.
const FLOAT8_PAIR_PREDICATES: [&str; 2] = ["corr", "covar_samp"];

impl Builder<'_> {
    /// `<table>_aggregate { aggregate, nodes }`.
    pub(super) fn aggregate_type(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.aggregate();
        let description = format!("aggregated selection of \"{}\"", view.names.display);
        if !self.sdl.add(&name, TypeKind::Object, Some(description)) {
            return name;
        }
        let fields = self.aggregate_fields(&view);
        let object = self.object_type(table);
        self.sdl.field(&name, "aggregate", FieldDef::new(fields));
        self.sdl
            .field(&name, "nodes", FieldDef::new(format!("[{object}!]!")));
        name
    }

    fn aggregate_fields(&mut self, view: &TableView<'_>) -> String {
        let table = &view.table.name;
        let name = view.names.aggregate_fields();
        let description = format!("aggregate fields of \"{}\"", view.names.display);
        if !self.sdl.add(&name, TypeKind::Object, Some(description)) {
            return name;
        }
        let select_column = self.select_column(table);
        let count = FieldDef::new("Int!")
            .arg("columns", format!("[{select_column}!]"), None)
            .arg("distinct", "Boolean", None);
        self.sdl.field(&name, "count", count);
        let numeric: Vec<_> = view.numeric_columns().cloned().collect();
        let comparable: Vec<_> = view.comparable_columns().cloned().collect();
        for function in NUMERIC_AGGREGATES {
            if numeric.is_empty() {
                break;
            }
            let type_name = view.names.derived(&format!("{function}_fields"));
            let description = format!("aggregate {function} on columns");
            if self
                .sdl
                .add(&type_name, TypeKind::Object, Some(description))
            {
                for column in &numeric {
                    // `sum` keeps the column's type; the statistics are always Float.
                    let ty = if function == "sum" {
                        column.ty.nullable()
                    } else {
                        "Float".to_string()
                    };
                    self.sdl
                        .field(&type_name, column.graphql_name(), FieldDef::new(ty));
                }
            }
            self.sdl.field(&name, function, FieldDef::new(type_name));
        }
        for function in ["max", "min"] {
            if comparable.is_empty() {
                break;
            }
            let type_name = view.names.derived(&format!("{function}_fields"));
            let description = format!("aggregate {function} on columns");
            if self
                .sdl
                .add(&type_name, TypeKind::Object, Some(description))
            {
                for column in &comparable {
                    let field = FieldDef::new(column.ty.nullable());
                    self.sdl.field(&type_name, column.graphql_name(), field);
                }
            }
            self.sdl.field(&name, function, FieldDef::new(type_name));
        }
        name
    }

    /// `<table>_aggregate_bool_exp`: filter parents by an aggregate of an array relationship.
    pub(super) fn aggregate_bool_exp(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.aggregate_bool_exp();
        if !self.sdl.add(&name, TypeKind::Input, None) {
            return name;
        }
        let select_column = self.select_column(table);
        let bool_exp = self.bool_exp(table);
        let int_comparison = self.comparison_exp(&scalar_type("Int", ScalarFamily::Numeric));
        let count = view.names.derived("aggregate_bool_exp_count");
        self.sdl.add(&count, TypeKind::Input, None);
        self.sdl.field(
            &count,
            "arguments",
            FieldDef::new(format!("[{select_column}!]")),
        );
        self.predicate_common(&count, &bool_exp, &int_comparison);
        self.sdl.field(&name, "count", FieldDef::new(count));

        let booleans = columns_of(&view, |s| s.family == ScalarFamily::Boolean);
        if !booleans.is_empty() {
            let predicate = self.comparison_exp(&scalar_type("Boolean", ScalarFamily::Boolean));
            for function in ["bool_and", "bool_or"] {
                self.single_column_predicate(&view, function, &booleans, &bool_exp, &predicate);
            }
        }
        let floats = columns_of(&view, |s| s.name == "float8");
        if !floats.is_empty() {
            let predicate = self.comparison_exp(&scalar_type("float8", ScalarFamily::Numeric));
            for function in FLOAT8_PREDICATES {
                self.single_column_predicate(&view, function, &floats, &bool_exp, &predicate);
            }
            for function in FLOAT8_PAIR_PREDICATES {
                let type_name = view
                    .names
                    .derived(&format!("aggregate_bool_exp_{function}"));
                let arguments = format!("{type_name}_arguments");
                let columns = self.predicate_columns(&view, function, &floats);
                self.sdl.add(&arguments, TypeKind::Input, None);
                self.sdl
                    .field(&arguments, "X", FieldDef::new(format!("{columns}!")));
                self.sdl
                    .field(&arguments, "Y", FieldDef::new(format!("{columns}!")));
                self.sdl.add(&type_name, TypeKind::Input, None);
                self.sdl.field(
                    &type_name,
                    "arguments",
                    FieldDef::new(format!("{arguments}!")),
                );
                self.predicate_common(&type_name, &bool_exp, &predicate);
                self.sdl.field(&name, function, FieldDef::new(type_name));
            }
        }
        name
    }

    fn single_column_predicate(
        &mut self,
        view: &TableView<'_>,
        function: &str,
        columns: &[String],
        bool_exp: &str,
        predicate: &str,
    ) {
        let type_name = view
            .names
            .derived(&format!("aggregate_bool_exp_{function}"));
        let enum_name = self.predicate_columns(view, function, columns);
        self.sdl.add(&type_name, TypeKind::Input, None);
        self.sdl.field(
            &type_name,
            "arguments",
            FieldDef::new(format!("{enum_name}!")),
        );
        self.predicate_common(&type_name, bool_exp, predicate);
        self.sdl.field(
            &view.names.aggregate_bool_exp(),
            function,
            FieldDef::new(type_name),
        );
    }

    /// The enum of columns an aggregate predicate may take, named as Hasura names it.
    fn predicate_columns(
        &mut self,
        view: &TableView<'_>,
        function: &str,
        columns: &[String],
    ) -> String {
        let suffix = format!(
            "{}_aggregate_bool_exp_{function}_arguments_columns",
            view.names.type_name
        );
        let name = format!("{}_{suffix}", view.names.select_column());
        let description = format!(
            "select \"{suffix}\" columns of table \"{}\"",
            view.names.display
        );
        if self.sdl.add(&name, TypeKind::Enum, Some(description)) {
            for column in columns {
                self.sdl
                    .value(&name, column, Some("column name".to_string()));
            }
        }
        name
    }

    fn predicate_common(&mut self, type_name: &str, bool_exp: &str, predicate: &str) {
        self.sdl
            .field(type_name, "distinct", FieldDef::new("Boolean"));
        self.sdl.field(type_name, "filter", FieldDef::new(bool_exp));
        self.sdl.field(
            type_name,
            "predicate",
            FieldDef::new(format!("{predicate}!")),
        );
    }
}

fn scalar_type(name: &str, family: ScalarFamily) -> ColumnType {
    ColumnType::Scalar(ColumnScalar {
        name: name.to_string(),
        family,
        is_array: false,
    })
}

fn columns_of(view: &TableView<'_>, keep: impl Fn(&ColumnScalar) -> bool) -> Vec<String> {
    view.columns
        .iter()
        .filter(|c| c.ty.scalar().is_some_and(|s| !s.is_array && keep(s)))
        .map(|c| c.graphql_name().to_string())
        .collect()
}
