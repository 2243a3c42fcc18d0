//! Tracked SQL functions: the metadata entry (configuration and permissions) checked against the
//! catalog and resolved into a [`FunctionModel`]: where it is exposed, under which names, and
//! which argument takes the session.

use crate::model::FunctionModel;
use graft_catalog::{DbCatalog, QualifiedName, Volatility};
use graft_metadata::{ExposedAs, FunctionEntry, QualifiedFunction};

/// The one catalog function named `function`; Hasura's reason text when there is none or several.
pub(crate) fn single_overload<'c>(
    catalog: &'c DbCatalog,
    function: &QualifiedFunction,
) -> Result<&'c graft_catalog::Function, String> {
    let name = QualifiedName {
        schema: function.schema.clone(),
        name: function.name.clone(),
    };
    match catalog.function_overloads(&name) {
        [single] => Ok(single),
        [] => Err(format!("no such function exists: \"{function}\"")),
        _ => Err(format!(
            "function \"{function}\" is overloaded. Overloaded functions are not supported"
        )),
    }
}

/// Checks `entry` against the catalog; the error is Hasura's reason text.
pub fn resolve_function(
    entry: &FunctionEntry,
    catalog: &DbCatalog,
) -> Result<FunctionModel, String> {
    let function = &entry.function;
    let f = single_overload(catalog, function)?;
    let cannot = |why: &str| {
        format!(
            "in function \"{function}\": the function \"{function}\" cannot be tracked because {why}"
        )
    };
    let configuration = entry
        .configuration()
        .map_err(|e| format!("in function \"{function}\": invalid configuration: {e}"))?;
    let is_volatile = f.volatility == Volatility::Volatile;
    let is_mutation = match configuration.exposed_as {
        Some(ExposedAs::Mutation) if !is_volatile => {
            return Err(cannot(
                "the function was requested to be exposed as a mutation, but is not marked VOLATILE. Maybe the function was given the wrong volatility when it was defined?",
            ));
        }
        Some(exposed) => exposed == ExposedAs::Mutation,
        None => is_volatile,
    };
    let session_argument = match &configuration.session_argument {
        None => None,
        Some(argument) => {
            let index = f
                .arguments
                .iter()
                .position(|a| a.name.as_deref() == Some(argument.as_str()))
                .ok_or_else(|| {
                    cannot(&format!(
                        "given session argument \"{argument}\" is not an input argument of the function"
                    ))
                })?;
            if f.arguments[index].pg_type.name != "json" {
                return Err(cannot(&format!(
                    "given session argument \"{argument}\" is not of type json"
                )));
            }
            Some(index)
        }
    };
    let base_name = configuration.custom_name.unwrap_or_else(|| {
        if function.schema == "public" {
            function.name.clone()
        } else {
            format!("{}_{}", function.schema, function.name)
        }
    });
    let root_fields = configuration.custom_root_fields.unwrap_or_default();
    let aggregate_field_name = root_fields
        .function_aggregate
        .unwrap_or_else(|| format!("{base_name}_aggregate"));
    let field_name = root_fields.function.unwrap_or(base_name);
    Ok(FunctionModel {
        function: f.clone(),
        session_argument,
        is_mutation,
        field_name,
        aggregate_field_name,
        permitted_roles: entry.permissions.iter().map(|p| p.role.clone()).collect(),
    })
}
