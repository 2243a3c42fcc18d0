//! Typed command arguments with Hasura-style parse errors (`parse-failed` at a JSON path).

use crate::error::ApiError;
use graft_metadata::{DEFAULT_SOURCE, QualifiedTable};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes `args`, reporting the failing field as `$.args.<path>`.
pub fn parse_args<T: DeserializeOwned>(args: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(args).map_err(|error| {
        let inner = error.path().to_string();
        let path = if inner == "." || inner.is_empty() {
            "$.args".to_string()
        } else {
            format!("$.args.{inner}")
        };
        ApiError::parse_failed(error.into_inner().to_string()).at(path)
    })
}

/// The `source` of a command, `default` when absent.
pub fn source_of(args: &Value) -> String {
    args.get("source")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_SOURCE)
        .to_string()
}

/// The table a command is about: `args.table`, or (the v1 `track_table` form) `args` itself
/// holding `schema` and `name`.
pub fn table_of(args: &Value) -> Result<QualifiedTable, ApiError> {
    if let Value::String(name) = args {
        // `track_table`'s shortest form: `args: author`.
        return Ok(QualifiedTable::new("public", name.clone()));
    }
    let value = match args.get("table") {
        Some(table) => table,
        None if args.get("name").is_some() => args,
        None => return Err(ApiError::parse_failed("key \"table\" not found").at("$.args")),
    };
    let path = if args.get("table").is_some() {
        "$.args.table"
    } else {
        "$.args"
    };
    let table: QualifiedTable = serde_json::from_value(strip_to_name(value))
        .map_err(|e| ApiError::parse_failed(e.to_string()).at(path))?;
    Ok(table)
}

/// Keeps only `schema` and `name` of an object, so the v1 form's other keys do not interfere.
fn strip_to_name(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for key in ["schema", "name"] {
                if let Some(v) = map.get(key) {
                    out.insert(key.to_string(), v.clone());
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// Requires `args` to be an object, as every command but `bulk` does.
pub fn require_object(args: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    match args {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::parse_failed(format!(
            "parsing Object failed, expected Object, but encountered {}",
            json_type_name(other)
        ))
        .at("$.args")),
    }
}
