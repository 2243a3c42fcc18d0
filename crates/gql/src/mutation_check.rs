//! Checks Hasura makes while parsing mutation arguments, after variables are substituted, so
//! they hold for literals and variables alike:
//! - `update_columns: [_PLACEHOLDER]`: the placeholder only exists so that `update_columns: []`
//!   stays expressible when the role may update no column; using it is "erroneous column name"
//!   at the path of the `on_conflict` object.
//! - one column in two update operators (`_set: {id: 1}, _inc: {id: 2}`) is
//!   "Column found in multiple operators: ['id']." at the path of the field's arguments.

use crate::error::GqlError;
use crate::operation::Field;
use serde_json::Value;

/// The update operators whose column sets must be disjoint.
const UPDATE_OPERATORS: [&str; 7] = [
    "_set",
    "_inc",
    "_append",
    "_prepend",
    "_delete_key",
    "_delete_elem",
    "_delete_at_path",
];

pub(crate) fn check_mutation_fields(fields: &[Field]) -> Result<(), GqlError> {
    for field in fields {
        let args_path = format!("$.selectionSet.{}.args", field.name);
        for (name, value) in &field.arguments {
            placeholder(value, &format!("{args_path}.{name}"))?;
        }
        let arguments: serde_json::Map<String, Value> = field
            .arguments
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        disjoint_operators(&arguments, &args_path)?;
        if let Some(Value::Array(updates)) = field.arguments.get("updates") {
            for (index, update) in updates.iter().enumerate() {
                if let Value::Object(update) = update {
                    disjoint_operators(update, &format!("{args_path}.updates[{index}]"))?;
                }
            }
        }
    }
    Ok(())
}

fn placeholder(value: &Value, path: &str) -> Result<(), GqlError> {
    match value {
        Value::Object(object) => {
            let used = object.get("update_columns").is_some_and(|columns| {
                columns
                    .as_array()
                    .is_some_and(|c| c.iter().any(|v| v == "_PLACEHOLDER"))
            });
            if used && object.contains_key("constraint") {
                return Err(GqlError::validation(path, "erroneous column name"));
            }
            for (key, nested) in object {
                placeholder(nested, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                placeholder(item, &format!("{path}[{index}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn disjoint_operators(
    arguments: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<(), GqlError> {
    let mut seen: Vec<&str> = Vec::new();
    let mut duplicates: Vec<&str> = Vec::new();
    for operator in UPDATE_OPERATORS {
        let Some(Value::Object(columns)) = arguments.get(operator) else {
            continue;
        };
        for column in columns.keys() {
            if seen.contains(&column.as_str()) {
                if !duplicates.contains(&column.as_str()) {
                    duplicates.push(column);
                }
            } else {
                seen.push(column);
            }
        }
    }
    if duplicates.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = duplicates.iter().map(|c| format!("'{c}'")).collect();
    Err(GqlError::validation(
        path,
        format!(
            "Column found in multiple operators: [{}].",
            listed.join(", ")
        ),
    ))
}
