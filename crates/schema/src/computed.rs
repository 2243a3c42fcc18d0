//! Computed fields: a SQL function taking the table's row (and optionally the session as JSON)
//! that becomes a field of the table's type.

use crate::model::{ComputedFieldInfo, TableModel};
use graft_catalog::{DbCatalog, Volatility};
use graft_metadata::ComputedField;

/// Checks the definition against the catalog; the error is Hasura's reason text.
pub fn resolve_computed_field(
    table: &TableModel,
    field: &ComputedField,
    catalog: &DbCatalog,
) -> Result<ComputedFieldInfo, String> {
    let prefix = format!(
        "in table \"{}\": in computed field \"{}\": ",
        table.name, field.name
    );
    if table.columns.contains_key(&field.name) {
        return Err("field definition conflicts with postgres column".to_string());
    }
    let function = &field.definition.function;
    let f = crate::function::single_overload(catalog, function)
        .map_err(|reason| format!("{prefix}{reason}"))?;
    let cannot = |why: String| {
        format!(
            "{prefix}the computed field \"{}\" cannot be added to table \"{}\" {why}",
            field.name, table.name
        )
    };
    if f.volatility == Volatility::Volatile {
        return Err(cannot(format!(
            "for the following reasons:\n  • the function \"{function}\" is of type VOLATILE; cannot be added as a computed field"
        )));
    }
    if f.arguments.is_empty() {
        return Err(cannot(format!(
            "because the function \"{function}\" has no input arguments"
        )));
    }
    let is_row_type = |index: usize| {
        let t = &f.arguments[index].pg_type;
        t.schema == table.name.schema && t.name == table.name.name
    };
    let table_argument = match &field.definition.table_argument {
        Some(arg) => f
            .arguments
            .iter()
            .position(|a| a.name.as_deref() == Some(arg.as_str()))
            .ok_or_else(|| {
                cannot(format!(
                    "because \"{arg}\" is not an input argument of the function \"{function}\""
                ))
            })?,
        None => 0,
    };
    if !is_row_type(table_argument) {
        return Err(cannot(format!(
            "because the first argument of the function \"{function}\" is not the table's row type"
        )));
    }
    let session_argument = match &field.definition.session_argument {
        Some(arg) => {
            let index = f
                .arguments
                .iter()
                .position(|a| a.name.as_deref() == Some(arg.as_str()))
                .ok_or_else(|| {
                    cannot(format!(
                        "because \"{arg}\" is not an input argument of the function \"{function}\""
                    ))
                })?;
            if !matches!(f.arguments[index].pg_type.name.as_str(), "json" | "jsonb") {
                return Err(cannot(format!(
                    "because the session argument \"{arg}\" is not of type json"
                )));
            }
            Some(index)
        }
        None => None,
    };
    Ok(ComputedFieldInfo {
        name: field.name.clone(),
        function: f.clone(),
        table_argument,
        session_argument,
        comment: field.comment.clone(),
    })
}
