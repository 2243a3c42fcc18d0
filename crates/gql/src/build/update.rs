//! `update_<t>`, `update_<t>_by_pk`, `update_<t>_many` and their inputs: one input type per
//! update operator (`_set`, `_inc`, and the jsonb operators), `<t>_pk_columns_input` and
//! `<t>_updates`.

use super::{Builder, ColumnView};
use crate::names::{MutationFieldKind, mutation_root_field};
use crate::scalars::ScalarFamily;
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;

const WHERE: &str = "filter the rows which have to be updated";
const SET: &str = "sets the columns of the filtered rows to the given values";
const INC: &str = "increments the numeric columns with given value of the filtered values";
const APPEND: &str = "append existing jsonb value of filtered columns with new jsonb value";
const PREPEND: &str = "prepend existing jsonb value of filtered columns with new jsonb value";
const DELETE_KEY: &str =
    "delete key/value pair or string element. key/value pairs are matched based on their key value";
const DELETE_ELEM: &str = "delete the array element with specified index (negative integers count from the end). throws an error if top level container is not an array";
const DELETE_AT_PATH: &str = "delete the field or element with specified path (for JSON arrays, negative integers count from the end)";

/// Which columns an operator applies to and what type its fields take.
#[derive(Clone, Copy)]
enum Operator {
    Set,
    Inc,
    Append,
    Prepend,
    DeleteKey,
    DeleteElem,
    DeleteAtPath,
}

const OPERATORS: [Operator; 7] = [
    Operator::Set,
    Operator::Inc,
    Operator::Append,
    Operator::Prepend,
    Operator::DeleteKey,
    Operator::DeleteElem,
    Operator::DeleteAtPath,
];

impl Operator {
    /// (argument name, input type suffix, argument description)
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Operator::Set => ("_set", "set_input", SET),
            Operator::Inc => ("_inc", "inc_input", INC),
            Operator::Append => ("_append", "append_input", APPEND),
            Operator::Prepend => ("_prepend", "prepend_input", PREPEND),
            Operator::DeleteKey => ("_delete_key", "delete_key_input", DELETE_KEY),
            Operator::DeleteElem => ("_delete_elem", "delete_elem_input", DELETE_ELEM),
            Operator::DeleteAtPath => ("_delete_at_path", "delete_at_path_input", DELETE_AT_PATH),
        }
    }

    fn applies_to(self, column: &ColumnView<'_>) -> bool {
        let is_jsonb = column
            .ty
            .scalar()
            .is_some_and(|s| !s.is_array && s.family == ScalarFamily::Jsonb);
        match self {
            Operator::Set => true,
            Operator::Inc => column.ty.is_numeric(),
            _ => is_jsonb,
        }
    }

    /// The type of the field for `column` in this operator's input.
    fn field_type(self, column: &ColumnView<'_>) -> String {
        match self {
            Operator::DeleteKey => "String".to_string(),
            Operator::DeleteElem => "Int".to_string(),
            Operator::DeleteAtPath => "[String!]".to_string(),
            _ => column.ty.nullable(),
        }
    }
}

impl Builder<'_> {
    pub(super) fn update_fields(&mut self, table: &QualifiedTable) -> Vec<(String, FieldDef)> {
        let Some(view) = self.mutation(table) else {
            return Vec::new();
        };
        if view.update.is_none() || view.hidden.update || !view.mutability.updatable {
            return Vec::new();
        }
        let operators = self.update_operators(table);
        let bool_exp = self.bool_exp(table);
        let response = self.mutation_response(table);
        let mut fields = Vec::new();

        let update = mutation_root_field(view.table, &view.names, MutationFieldKind::Update);
        let mut field = FieldDef::described(response.clone(), Some(update.description));
        field.args = operators.args.clone();
        field = field.arg("where", format!("{bool_exp}!"), Some(WHERE));
        fields.push((update.name, field));

        if let Some(pk_args) = self.primary_key_args(table) {
            let pk_input = view.names.derived("pk_columns_input");
            let description = format!(
                "primary key columns input for table: {}",
                view.names.display
            );
            if self.sdl.add(&pk_input, TypeKind::Input, Some(description)) {
                for (name, arg) in pk_args.args {
                    self.sdl.field(
                        &pk_input,
                        &name,
                        FieldDef::described(arg.ty, arg.description),
                    );
                }
            }
            let object = self.object_type(table);
            let by_pk = mutation_root_field(view.table, &view.names, MutationFieldKind::UpdateByPk);
            let mut field = FieldDef::described(object, Some(by_pk.description));
            field.args = operators.args.clone();
            field = field.arg("pk_columns", format!("{pk_input}!"), None);
            fields.push((by_pk.name, field));
        }

        let updates = view.names.derived("updates");
        if self.sdl.add(&updates, TypeKind::Input, None) {
            for (name, arg) in &operators.args {
                let field = FieldDef::described(arg.ty.clone(), arg.description.clone());
                self.sdl.field(&updates, name, field);
            }
            let field = FieldDef::described(format!("{bool_exp}!"), Some(WHERE.to_string()));
            self.sdl.field(&updates, "where", field);
        }
        let many = mutation_root_field(view.table, &view.names, MutationFieldKind::UpdateMany);
        let field = FieldDef::described(format!("[{response}]"), Some(many.description)).arg(
            "updates",
            format!("[{updates}!]!"),
            Some("updates to execute, in order"),
        );
        fields.push((many.name, field));
        fields
    }

    /// The operator arguments (`_set: <t>_set_input`, ...) of the table's update fields, with
    /// their input types declared. An operator no updatable column accepts is left out.
    fn update_operators(&mut self, table: &QualifiedTable) -> FieldDef {
        let mut args = FieldDef::new("");
        let Some(view) = self.mutation(table) else {
            return args;
        };
        let columns = view.update.unwrap_or_default();
        for operator in OPERATORS {
            let applicable: Vec<&ColumnView<'_>> =
                columns.iter().filter(|c| operator.applies_to(c)).collect();
            if applicable.is_empty() {
                continue;
            }
            let (arg, suffix, description) = operator.names();
            let type_name = view.names.derived(suffix);
            let type_description = match operator {
                Operator::Set => format!(
                    "input type for updating data in table \"{}\"",
                    view.names.display
                ),
                Operator::Inc => format!(
                    "input type for incrementing numeric columns in table \"{}\"",
                    view.names.display
                ),
                _ => description.to_string(),
            };
            if self
                .sdl
                .add(&type_name, TypeKind::Input, Some(type_description))
            {
                for column in applicable {
                    self.ensure_column_type(&column.ty);
                    let field = FieldDef::described(
                        operator.field_type(column),
                        column.info.description.clone(),
                    );
                    self.sdl.field(&type_name, column.graphql_name(), field);
                }
            }
            args = args.arg(arg, type_name, Some(description));
        }
        args
    }
}
