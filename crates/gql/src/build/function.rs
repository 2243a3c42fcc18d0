//! Tracked SQL functions as root fields: `search_articles(args, where, order_by, limit,
//! offset, distinct_on): [article!]!` and `search_articles_aggregate`, for functions returning
//! rows of a table the role can select and may call (`FunctionModel::permits`). STABLE and
//! IMMUTABLE functions are queries and VOLATILE ones mutations, unless `exposed_as` says
//! otherwise; the session argument is filled by graft, not in `args`.

use super::Builder;
use crate::names::TableNames;
use crate::scalars::column_scalar;
use crate::sdl::{FieldDef, TypeKind};
use graft_catalog::Function;
use graft_metadata::QualifiedTable;
use graft_schema::FunctionModel;

/// The table whose rows `function` returns, if it returns rows of a table.
pub fn function_return_table(function: &Function) -> Option<QualifiedTable> {
    let returned = function.return_table.as_ref()?;
    Some(QualifiedTable::new(&returned.schema, &returned.name))
}

impl Builder<'_> {
    /// The query root fields of the tracked functions the role may call.
    pub(super) fn function_query_fields(&mut self) -> Vec<(String, FieldDef)> {
        self.callable_function_fields(false)
    }

    /// The mutation root fields of the functions exposed as mutations that the role may call
    /// (no `_aggregate`, as in Hasura).
    pub(super) fn function_mutation_fields(&mut self) -> Vec<(String, FieldDef)> {
        self.callable_function_fields(true)
    }

    fn callable_function_fields(&mut self, mutations: bool) -> Vec<(String, FieldDef)> {
        let require = self.options.require_function_permissions;
        let functions: Vec<&FunctionModel> = self
            .source
            .functions
            .values()
            .filter(|f| f.is_mutation == mutations && f.permits(&self.role, require))
            .collect();
        let mut fields = Vec::new();
        for function in functions {
            fields.extend(self.function_fields(function, !mutations));
        }
        fields
    }

    fn function_fields(
        &mut self,
        model: &FunctionModel,
        with_aggregate: bool,
    ) -> Vec<(String, FieldDef)> {
        let function = &model.function;
        let Some(table) = function_return_table(function) else {
            return Vec::new();
        };
        let Some(view) = self.view(&table) else {
            return Vec::new();
        };
        if !self.arguments_expressible(model) {
            return Vec::new();
        }
        let name = model.field_name.clone();
        let display = TableNames::of(view.table).display;
        let object = self.object_type(&table);
        let args_arg = self.function_args_type(model, &name);
        let mut fields = Vec::new();
        let description = function
            .description
            .clone()
            .unwrap_or_else(|| format!("execute function \"{name}\" which returns \"{display}\""));
        let ty = if function.returns_set {
            format!("[{object}!]!")
        } else {
            object
        };
        let mut field = FieldDef::described(ty, Some(description));
        if let Some((args_ty, _)) = &args_arg {
            field = field.arg("args", args_ty.clone(), Some(&args_description(&name)));
        }
        let select_args = self.select_args(&table);
        if function.returns_set {
            field.args.extend(select_args.args.clone());
        }
        fields.push((name.clone(), field));
        if with_aggregate && function.returns_set && view.allow_aggregations {
            let aggregate = self.aggregate_type(&table);
            let description = format!(
                "execute function \"{name}\" and query aggregates on result of table type \"{display}\""
            );
            let mut field = FieldDef::described(format!("{aggregate}!"), Some(description));
            if let Some((args_ty, _)) = &args_arg {
                field = field.arg("args", args_ty.clone(), Some(&args_description(&name)));
            }
            field.args.extend(select_args.args);
            fields.push((model.aggregate_field_name.clone(), field));
        }
        fields
    }

    /// Whether every argument's type can be a GraphQL input scalar: a table's row type would
    /// collide with the table's object type.
    fn arguments_expressible(&self, model: &FunctionModel) -> bool {
        user_arguments(model).all(|(_, argument)| {
            let scalar = column_scalar(&argument.pg_type).name;
            !self
                .source
                .tables
                .values()
                .any(|t| TableNames::of(t).type_name == scalar)
        })
    }

    /// `<fn>_args` (declared once) and whether `args` is required, or `None` without arguments.
    fn function_args_type(&mut self, model: &FunctionModel, name: &str) -> Option<(String, bool)> {
        user_arguments(model).next()?;
        let args_type = format!("{name}_args");
        if self.sdl.add(&args_type, TypeKind::Input, None) {
            for (position, argument) in user_arguments(model) {
                let scalar = column_scalar(&argument.pg_type);
                self.ensure_scalar(&scalar.name);
                let arg_name = argument
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("arg_{}", position + 1));
                self.sdl
                    .field(&args_type, &arg_name, FieldDef::new(scalar.nullable()));
            }
        }
        let required = user_arguments(model).any(|(_, a)| !a.has_default);
        Some(if required {
            (format!("{args_type}!"), true)
        } else {
            (args_type, false)
        })
    }
}

/// The arguments the client gives in `args`, with their positions: all but the session argument.
fn user_arguments(
    model: &FunctionModel,
) -> impl Iterator<Item = (usize, &graft_catalog::FunctionArgument)> {
    model
        .function
        .arguments
        .iter()
        .enumerate()
        .filter(move |(position, _)| Some(*position) != model.session_argument)
}

fn args_description(name: &str) -> String {
    format!("input parameters for function \"{name}\"")
}
