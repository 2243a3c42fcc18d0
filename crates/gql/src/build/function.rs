//! Tracked SQL functions as root fields: `search_articles(args, where, order_by, limit,
//! offset, distinct_on): [article!]!` and `search_articles_aggregate`, for functions returning
//! rows of a table the role can select (function permissions inferred from the table's, as
//! Hasura does by default). STABLE and IMMUTABLE functions are queries; VOLATILE ones are
//! mutations.

use super::Builder;
use crate::names::TableNames;
use crate::scalars::column_scalar;
use crate::sdl::{FieldDef, TypeKind};
use graft_catalog::{Function, Volatility};
use graft_metadata::QualifiedTable;

/// A tracked function's root field name: `fn` in `public`, `schema_fn` elsewhere.
pub fn function_field_name(function: &Function) -> String {
    if function.name.schema == "public" {
        function.name.name.clone()
    } else {
        format!("{}_{}", function.name.schema, function.name.name)
    }
}

/// The table whose rows `function` returns, if it returns rows of a table.
pub fn function_return_table(function: &Function) -> Option<QualifiedTable> {
    let returned = function.return_table.as_ref()?;
    Some(QualifiedTable::new(&returned.schema, &returned.name))
}

impl Builder<'_> {
    /// The query root fields of the tracked functions the role may call.
    pub(super) fn function_query_fields(&mut self) -> Vec<(String, FieldDef)> {
        let functions: Vec<&Function> = self
            .source
            .functions
            .values()
            .filter(|f| f.volatility != Volatility::Volatile)
            .collect();
        let mut fields = Vec::new();
        for function in functions {
            fields.extend(self.function_fields(function, true));
        }
        fields
    }

    /// The mutation root fields of the VOLATILE tracked functions the role may call (no
    /// `_aggregate`, as in Hasura).
    pub(super) fn function_mutation_fields(&mut self) -> Vec<(String, FieldDef)> {
        let functions: Vec<&Function> = self
            .source
            .functions
            .values()
            .filter(|f| f.volatility == Volatility::Volatile)
            .collect();
        let mut fields = Vec::new();
        for function in functions {
            fields.extend(self.function_fields(function, false));
        }
        fields
    }

    fn function_fields(
        &mut self,
        function: &Function,
        with_aggregate: bool,
    ) -> Vec<(String, FieldDef)> {
        let Some(table) = function_return_table(function) else {
            return Vec::new();
        };
        let Some(view) = self.view(&table) else {
            return Vec::new();
        };
        if !self.arguments_expressible(function) {
            return Vec::new();
        }
        let name = function_field_name(function);
        let display = TableNames::of(view.table).display;
        let object = self.object_type(&table);
        let args_arg = self.function_args_type(function, &name);
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
            fields.push((format!("{name}_aggregate"), field));
        }
        fields
    }

    /// Whether every argument's type can be a GraphQL input scalar: a table's row type would
    /// collide with the table's object type.
    fn arguments_expressible(&self, function: &Function) -> bool {
        function.arguments.iter().all(|argument| {
            let scalar = column_scalar(&argument.pg_type).name;
            !self
                .source
                .tables
                .values()
                .any(|t| TableNames::of(t).type_name == scalar)
        })
    }

    /// `<fn>_args` (declared once) and whether `args` is required, or `None` without arguments.
    fn function_args_type(&mut self, function: &Function, name: &str) -> Option<(String, bool)> {
        if function.arguments.is_empty() {
            return None;
        }
        let args_type = format!("{name}_args");
        if self.sdl.add(&args_type, TypeKind::Input, None) {
            for (position, argument) in function.arguments.iter().enumerate() {
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
        let required = function.arguments.iter().any(|a| !a.has_default);
        Some(if required {
            (format!("{args_type}!"), true)
        } else {
            (args_type, false)
        })
    }
}

fn args_description(name: &str) -> String {
    format!("input parameters for function \"{name}\"")
}
