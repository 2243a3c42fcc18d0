//! The keys each metadata object may have. A misspelt key (`select_permission`) would otherwise
//! be dropped silently by the server or kept as an unknown extra; the CLI refuses the directory
//! before anything is sent, naming the object and the key.

use super::MetadataDirError;
use serde_json::Value;

const SOURCE_KEYS: &[&str] = &[
    "name",
    "kind",
    "configuration",
    "query_tags",
    "customization",
    "health_check",
    "custom_return_types",
    "native_queries",
    "logical_models",
    "stored_procedures",
    "tables",
    "functions",
];

const TABLE_KEYS: &[&str] = &[
    "table",
    "is_enum",
    "configuration",
    "object_relationships",
    "array_relationships",
    "computed_fields",
    "remote_relationships",
    "insert_permissions",
    "select_permissions",
    "update_permissions",
    "delete_permissions",
    "event_triggers",
    "apollo_federation_config",
    "logical_model",
];

const FUNCTION_KEYS: &[&str] = &["function", "configuration", "permissions", "comment"];

/// Checks every source, table and function object of a built metadata document.
pub fn check_sources(sources: &Value) -> Result<(), MetadataDirError> {
    let Value::Array(sources) = sources else {
        return Err(shape("databases/databases.yaml", "a list of databases"));
    };
    for source in sources {
        let name = source.get("name").and_then(Value::as_str).unwrap_or("?");
        let place = format!("database \"{name}\" (databases/databases.yaml)");
        check_object(source, SOURCE_KEYS, &place)?;
        for (key, allowed, what) in [
            ("tables", TABLE_KEYS, "table"),
            ("functions", FUNCTION_KEYS, "function"),
        ] {
            match source.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        let object = item.get(what).map(qualified).unwrap_or_default();
                        let place = format!(
                            "{what} {object} of database \"{name}\" (databases/{name}/{key}/)"
                        );
                        check_object(item, allowed, &place)?;
                    }
                }
                Some(_) => {
                    return Err(shape(
                        &format!("databases/{name}/{key}/{key}.yaml"),
                        "a list",
                    ));
                }
            }
        }
    }
    Ok(())
}

pub fn check_object(value: &Value, allowed: &[&str], place: &str) -> Result<(), MetadataDirError> {
    let Value::Object(map) = value else {
        return Err(shape(place, "a mapping"));
    };
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(MetadataDirError::UnknownKey {
            place: place.to_string(),
            key: key.clone(),
        }),
        None => Ok(()),
    }
}

fn qualified(name: &Value) -> String {
    match name {
        Value::Object(map) => {
            let schema = map
                .get("schema")
                .and_then(Value::as_str)
                .unwrap_or("public");
            let table = map.get("name").and_then(Value::as_str).unwrap_or("?");
            format!("{schema}.{table}")
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn shape(place: &str, expected: &str) -> MetadataDirError {
    MetadataDirError::Shape {
        place: place.to_string(),
        expected: expected.to_string(),
    }
}
