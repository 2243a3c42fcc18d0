//! Scalar computed fields on table object types: `full_name: String`, with an `args` input
//! (`<fn>_args`) when the function takes arguments besides the row and the session.

use super::{Builder, TableView};
use crate::scalars::column_scalar;
use crate::sdl::{FieldDef, TypeKind};
use graft_schema::{ADMIN_ROLE, ComputedFieldInfo, TableModel};

/// Whether a computed field returns one scalar value (not rows of a table).
pub fn is_scalar_computed(field: &ComputedFieldInfo) -> bool {
    !field.function.returns_set && field.function.return_table.is_none()
}

/// The function's arguments a client supplies: all but the row and the session ones, with
/// their positions in the call.
pub fn user_arguments(
    field: &ComputedFieldInfo,
) -> impl Iterator<Item = (usize, &graft_catalog::FunctionArgument)> {
    field
        .function
        .arguments
        .iter()
        .enumerate()
        .filter(move |(i, _)| *i != field.table_argument && Some(*i) != field.session_argument)
}

/// The scalar computed fields of `table` that `role` may select, in metadata order.
pub(super) fn visible_scalar_computed<'a>(
    table: &'a TableModel,
    role: &str,
) -> Vec<&'a ComputedFieldInfo> {
    let allowed: Option<&Vec<String>> = if role == ADMIN_ROLE {
        None
    } else {
        table
            .permissions
            .get(role)
            .and_then(|p| p.select.as_ref())
            .map(|s| &s.computed_fields)
    };
    if role != ADMIN_ROLE && allowed.is_none() {
        return Vec::new();
    }
    table
        .computed_fields
        .values()
        .filter(|f| is_scalar_computed(f))
        .filter(|f| allowed.is_none_or(|names| names.contains(&f.name)))
        .collect()
}

fn qualified_display(schema: &str, name: &str) -> String {
    if schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

/// The GraphQL name of a function's argument input type: `<schema_>fn_args`.
fn args_type_name(function: &graft_catalog::Function) -> String {
    let prefix = if function.name.schema == "public" {
        String::new()
    } else {
        format!("{}_", function.name.schema)
    };
    format!("{prefix}{}_args", function.name.name)
}

impl Builder<'_> {
    pub(super) fn computed_fields(&mut self, view: &TableView<'_>, type_name: &str) {
        for field in view.computed.clone() {
            let function = &field.function;
            let scalar = column_scalar(&function.return_type);
            self.ensure_scalar(&scalar.name);
            let description = field.comment.clone().or_else(|| {
                Some(format!(
                    "A computed field, executes function \"{}\"",
                    qualified_display(&function.name.schema, &function.name.name)
                ))
            });
            let def = FieldDef::described(scalar.nullable(), description);
            let def = self.with_args_argument(def, field, &view.names.display);
            self.sdl.field(type_name, &field.name, def);
        }
    }

    /// Computed fields of `table` returning rows of a table the role can select, listed like
    /// array relationships: `get_articles(args, distinct_on, limit, offset, order_by, where)`.
    pub(super) fn table_computed_fields(&mut self, view: &TableView<'_>, type_name: &str) {
        for field in view.table.computed_fields.values() {
            let Some(returned) = &field.function.return_table else {
                continue;
            };
            let target = graft_metadata::QualifiedTable::new(&returned.schema, &returned.name);
            if !self.views.contains_key(&target) {
                continue;
            }
            let target_type = self.object_type(&target);
            let select_args = self.select_args(&target);
            let function = &field.function;
            let description = field.comment.clone().or_else(|| {
                Some(format!(
                    "A computed field, executes function \"{}\"",
                    qualified_display(&function.name.schema, &function.name.name)
                ))
            });
            let ty = if function.returns_set {
                format!("[{target_type}!]!")
            } else {
                target_type
            };
            let def = FieldDef::described(ty, description);
            let mut def = self.with_args_argument(def, field, &view.names.display);
            if function.returns_set {
                def.args.extend(select_args.args);
            }
            self.sdl.field(type_name, &field.name, def);
        }
    }

    /// Adds `args: <fn>_args` (required when an argument has no default) if the function takes
    /// arguments besides the row and the session.
    fn with_args_argument(
        &mut self,
        def: FieldDef,
        field: &ComputedFieldInfo,
        table_display: &str,
    ) -> FieldDef {
        let arguments: Vec<_> = user_arguments(field).collect();
        if arguments.is_empty() {
            return def;
        }
        let function = &field.function;
        let args_type = args_type_name(function);
        if self.sdl.add(&args_type, TypeKind::Input, None) {
            for (position, argument) in &arguments {
                let arg_scalar = column_scalar(&argument.pg_type);
                self.ensure_scalar(&arg_scalar.name);
                let name = argument
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("arg_{}", position + 1));
                let ty = if argument.has_default {
                    arg_scalar.nullable()
                } else {
                    arg_scalar.non_null()
                };
                self.sdl.field(&args_type, &name, FieldDef::new(ty));
            }
        }
        let required = arguments.iter().any(|(_, a)| !a.has_default);
        let ty = if required {
            format!("{args_type}!")
        } else {
            args_type
        };
        def.arg(
            "args",
            ty,
            Some(&format!(
                "input parameters for computed field \"{}\" defined on table \"{}\"",
                field.name, table_display
            )),
        )
    }

    /// Computed fields in `<table>_bool_exp`: scalar ones the role may select compare their
    /// value, table-returning ones take the returned table's expression. Those needing `args`
    /// are left out, as in Hasura.
    pub(super) fn computed_bool_exp_fields(&mut self, view: &TableView<'_>, bool_exp: &str) {
        for field in view.computed.clone() {
            if user_arguments(field).next().is_some() {
                continue;
            }
            let ty = super::ColumnType::Scalar(column_scalar(&field.function.return_type));
            let comparison = self.comparison_exp(&ty);
            self.sdl
                .field(bool_exp, &field.name, FieldDef::new(comparison));
        }
        for field in view.table.computed_fields.values() {
            let Some(returned) = &field.function.return_table else {
                continue;
            };
            let target = graft_metadata::QualifiedTable::new(&returned.schema, &returned.name);
            if user_arguments(field).next().is_some() || !self.views.contains_key(&target) {
                continue;
            }
            let target_exp = self.bool_exp(&target);
            self.sdl
                .field(bool_exp, &field.name, FieldDef::new(target_exp));
        }
    }
}
