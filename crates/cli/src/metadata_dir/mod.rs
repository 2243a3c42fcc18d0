//! The metadata directory (format v3, as the Hasura CLI lays it out) read into the metadata JSON
//! document and written from it.
//!
//! ```text
//! metadata/
//!   version.yaml                 version: 3
//!   databases/databases.yaml     sources; tables/functions as "!include <db>/tables/tables.yaml"
//!   databases/<db>/tables/tables.yaml        - "!include public_users.yaml"
//!   databases/<db>/tables/public_users.yaml  one table entry
//!   databases/<db>/functions/functions.yaml  likewise for tracked functions
//!   actions.yaml, actions.graphql, allow_list.yaml, api_limits.yaml, backend_configs.yaml,
//!   cron_triggers.yaml, graphql_schema_introspection.yaml, inherited_roles.yaml,
//!   metrics_config.yaml, network.yaml, opentelemetry.yaml, query_collections.yaml,
//!   remote_schemas.yaml, rest_endpoints.yaml
//! ```
//!
//! Reading checks the whole directory (every include resolves, no unknown key) before the
//! caller sends anything to a server. Writing renders every file in memory first and then
//! replaces the directory in one rename, so a failed export leaves the old files in place.

mod actions;
mod include;
mod keys;

pub use include::read_yaml_file;

use crate::yaml_out::{INCLUDE_PREFIX, to_yaml};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MetadataDirError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{file}: broken !include {target:?}: {reason}")]
    BadInclude {
        file: PathBuf,
        target: String,
        reason: String,
    },
    #[error("{place}: unknown key \"{key}\"")]
    UnknownKey { place: String, key: String },
    #[error("{place}: expected {expected}")]
    Shape { place: String, expected: String },
    #[error("{0} is not a metadata directory: version.yaml is missing")]
    NotMetadataDir(PathBuf),
    #[error("metadata version {0} is not supported; the directory format needs version 3")]
    Version(Value),
    #[error("metadata key \"{0}\" has no file in the v3 directory format")]
    UnmappedKey(String),
}

/// Whether a top-level file holds a list or a mapping (an absent key is written empty).
#[derive(Clone, Copy)]
enum Shape {
    List,
    Mapping,
}

/// The single-key files: file name, metadata key, and the empty value written when unset.
const SIMPLE_FILES: &[(&str, &str, Shape)] = &[
    ("remote_schemas.yaml", "remote_schemas", Shape::List),
    ("query_collections.yaml", "query_collections", Shape::List),
    ("allow_list.yaml", "allowlist", Shape::List),
    ("cron_triggers.yaml", "cron_triggers", Shape::List),
    ("network.yaml", "network", Shape::Mapping),
    ("api_limits.yaml", "api_limits", Shape::Mapping),
    ("rest_endpoints.yaml", "rest_endpoints", Shape::List),
    ("inherited_roles.yaml", "inherited_roles", Shape::List),
    (
        "graphql_schema_introspection.yaml",
        "graphql_schema_introspection",
        Shape::Mapping,
    ),
    ("metrics_config.yaml", "metrics_config", Shape::Mapping),
    ("opentelemetry.yaml", "opentelemetry", Shape::Mapping),
    ("backend_configs.yaml", "backend_configs", Shape::Mapping),
];

/// Source keys in the order the Hasura CLI writes them; unknown ones keep their place before
/// `tables` and `functions`, which always come last.
const SOURCE_KEY_ORDER: &[&str] = &[
    "name",
    "kind",
    "configuration",
    "query_tags",
    "customization",
    "health_check",
    "custom_return_types",
    "native_queries",
];

/// Relative path (with `/`) → file contents.
pub type FileSet = BTreeMap<String, String>;

/// Reads the directory into one metadata document (keys with empty values left out).
pub fn read_dir(dir: &Path) -> Result<Value, MetadataDirError> {
    let version_file = dir.join("version.yaml");
    let version = read_yaml_file(&version_file)?
        .ok_or_else(|| MetadataDirError::NotMetadataDir(dir.to_path_buf()))?;
    keys::check_object(&version, &["version"], "version.yaml")?;
    let version = version.get("version").cloned().unwrap_or(Value::Null);
    if version != json!(3) {
        return Err(MetadataDirError::Version(version));
    }
    let mut metadata = Map::new();
    metadata.insert("version".to_string(), json!(3));
    let sources = read_yaml_file(&dir.join("databases").join("databases.yaml"))?
        .filter(|v| !v.is_null())
        .unwrap_or(json!([]));
    keys::check_sources(&sources)?;
    metadata.insert("sources".to_string(), sources);
    for (file, key, _) in SIMPLE_FILES {
        if let Some(value) = read_yaml_file(&dir.join(file))? {
            metadata.insert((*key).to_string(), value);
        }
    }
    read_actions(dir, &mut metadata)?;
    Ok(normalize(&Value::Object(metadata)))
}

fn read_actions(dir: &Path, metadata: &mut Map<String, Value>) -> Result<(), MetadataDirError> {
    let sdl_path = dir.join("actions.graphql");
    let sdl = match std::fs::read_to_string(&sdl_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(MetadataDirError::Read {
                path: sdl_path,
                source,
            });
        }
    };
    let yaml = read_yaml_file(&dir.join("actions.yaml"))?.unwrap_or(Value::Null);
    if !yaml.is_null() {
        keys::check_object(&yaml, &["actions", "custom_types"], "actions.yaml")?;
    }
    let (actions, custom_types) = actions::join(&yaml, &sdl, &sdl_path)?;
    metadata.insert("actions".to_string(), Value::Array(actions));
    metadata.insert("custom_types".to_string(), Value::Object(custom_types));
    Ok(())
}

/// The document as compared and sent: top-level keys with empty values and sources' empty
/// `functions` left out (the server leaves them out of its export too).
pub fn normalize(metadata: &Value) -> Value {
    let Value::Object(map) = metadata else {
        return metadata.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if key != "sources" && key != "version" && is_empty(value) {
            continue;
        }
        let value = match (key.as_str(), value) {
            ("sources", Value::Array(sources)) => {
                Value::Array(sources.iter().map(normalize_source).collect())
            }
            ("custom_types", Value::Object(types)) => {
                let kept: Map<String, Value> = types
                    .iter()
                    .filter(|(_, v)| !is_empty(v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                Value::Object(kept)
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn normalize_source(source: &Value) -> Value {
    let mut source = source.clone();
    if let Value::Object(map) = &mut source {
        if map.get("functions").is_some_and(is_empty) {
            map.remove("functions");
        }
        if map.get("tables").is_none_or(Value::is_null) {
            map.insert("tables".to_string(), json!([]));
        }
    }
    source
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Every file of the directory for this metadata document, byte-compatible with the Hasura CLI.
pub fn render(metadata: &Value) -> Result<FileSet, MetadataDirError> {
    let Value::Object(map) = metadata else {
        return Err(MetadataDirError::Shape {
            place: "metadata".to_string(),
            expected: "a JSON object".to_string(),
        });
    };
    let known: Vec<&str> = SIMPLE_FILES
        .iter()
        .map(|(_, key, _)| *key)
        .chain(["version", "sources", "actions", "custom_types"])
        .collect();
    if let Some(unmapped) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(MetadataDirError::UnmappedKey(unmapped.clone()));
    }
    let mut files = FileSet::new();
    files.insert("version.yaml".to_string(), to_yaml(&json!({"version": 3})));
    let sources = map.get("sources").cloned().unwrap_or(json!([]));
    render_sources(&sources, &mut files)?;
    for (file, key, shape) in SIMPLE_FILES {
        let empty = match shape {
            Shape::List => json!([]),
            Shape::Mapping => json!({}),
        };
        let value = map.get(*key).cloned().unwrap_or(empty);
        files.insert((*file).to_string(), to_yaml(&value));
    }
    let (actions_yaml, actions_sdl) = actions::split(map.get("actions"), map.get("custom_types"));
    files.insert("actions.yaml".to_string(), to_yaml(&actions_yaml));
    files.insert("actions.graphql".to_string(), actions_sdl);
    Ok(files)
}

fn render_sources(sources: &Value, files: &mut FileSet) -> Result<(), MetadataDirError> {
    let Value::Array(sources) = sources else {
        return Err(MetadataDirError::Shape {
            place: "sources".to_string(),
            expected: "a list".to_string(),
        });
    };
    let mut written = Vec::new();
    for source in sources {
        let Value::Object(source) = source else {
            continue;
        };
        let name = source.get("name").and_then(Value::as_str).unwrap_or("");
        let mut out = Map::new();
        for key in SOURCE_KEY_ORDER {
            if let Some(v) = source.get(*key) {
                out.insert((*key).to_string(), v.clone());
            }
        }
        for (k, v) in source {
            if !SOURCE_KEY_ORDER.contains(&k.as_str()) && k != "tables" && k != "functions" {
                out.insert(k.clone(), v.clone());
            }
        }
        let tables = render_objects(source.get("tables"), name, "tables", "table", files);
        out.insert("tables".to_string(), tables.unwrap_or(json!([])));
        if let Some(functions) = render_objects(
            source.get("functions"),
            name,
            "functions",
            "function",
            files,
        ) {
            out.insert("functions".to_string(), functions);
        } else if let Some(v) = source.get("functions") {
            out.insert("functions".to_string(), v.clone());
        }
        written.push(Value::Object(out));
    }
    files.insert(
        "databases/databases.yaml".to_string(),
        to_yaml(&Value::Array(written)),
    );
    Ok(())
}

/// Writes one file per table (or function) and the list of includes; returns the include
/// reference for `databases.yaml`, or `None` when there is nothing to include.
fn render_objects(
    objects: Option<&Value>,
    source: &str,
    dir: &str,
    name_key: &str,
    files: &mut FileSet,
) -> Option<Value> {
    let items = objects?.as_array().filter(|items| !items.is_empty())?;
    let mut includes = Vec::new();
    for item in items {
        let file = object_file_name(item.get(name_key));
        files.insert(format!("databases/{source}/{dir}/{file}"), to_yaml(item));
        includes.push(Value::String(format!("{INCLUDE_PREFIX}{file}")));
    }
    files.insert(
        format!("databases/{source}/{dir}/{dir}.yaml"),
        to_yaml(&Value::Array(includes)),
    );
    Some(Value::String(format!(
        "{INCLUDE_PREFIX}{source}/{dir}/{dir}.yaml"
    )))
}

/// `<schema>_<name>.yaml` (or `<dataset>_<name>`; a list-shaped name joins its parts).
fn object_file_name(name: Option<&Value>) -> String {
    match name {
        Some(Value::Object(map)) => {
            let text = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or("");
            let namespace = if text("schema").is_empty() {
                text("dataset")
            } else {
                text("schema")
            };
            format!("{namespace}_{}.yaml", text("name"))
        }
        Some(Value::Array(parts)) => {
            let parts: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            format!("{}.yaml", parts.join("_"))
        }
        // Metadata v1 named a table by a bare string in the public schema.
        Some(Value::String(name)) => format!("public_{name}.yaml"),
        _ => "_.yaml".to_string(),
    }
}

/// Replaces `dir` with exactly these files: written next to it first, then swapped in.
pub fn write_dir(dir: &Path, files: &FileSet) -> Result<(), MetadataDirError> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let leaf = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "metadata".to_string());
    let staging = parent.join(format!(".{leaf}.new-{}", std::process::id()));
    let backup = parent.join(format!(".{leaf}.old-{}", std::process::id()));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MetadataDirError::Write { path, source }
    };
    let _ = std::fs::remove_dir_all(&staging);
    for (relative, contents) in files {
        let path = staging.join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(write_err(folder))?;
        }
        std::fs::write(&path, contents).map_err(write_err(&path))?;
    }
    if dir.exists() {
        std::fs::rename(dir, &backup).map_err(write_err(dir))?;
    }
    if let Err(source) = std::fs::rename(&staging, dir) {
        // Put the old directory back: the export failed, the files must not change.
        let _ = std::fs::rename(&backup, dir);
        return Err(MetadataDirError::Write {
            path: dir.to_path_buf(),
            source,
        });
    }
    let _ = std::fs::remove_dir_all(&backup);
    Ok(())
}

/// A unified diff between two renderings, file by file (empty when they agree).
pub fn diff(from: &FileSet, to: &FileSet, from_label: &str, to_label: &str) -> String {
    let mut out = String::new();
    let names: std::collections::BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    for name in names {
        let old = from.get(name).map(String::as_str).unwrap_or("");
        let new = to.get(name).map(String::as_str).unwrap_or("");
        if old == new {
            continue;
        }
        let text = similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .header(
                &format!("{from_label}/{name}"),
                &format!("{to_label}/{name}"),
            )
            .to_string();
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
