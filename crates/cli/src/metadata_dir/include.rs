//! Reading one YAML file of the metadata directory into JSON, following `!include` references.
//!
//! The Hasura CLI accepts both spellings: the YAML tag (`tables: !include default/tables.yaml`)
//! and the double-quoted string it writes itself (`- "!include public_users.yaml"`). A path is
//! relative to the directory of the file that names it; an included `.yaml` file is parsed (and
//! may include further files), any other file (`.graphql`, `.sql`) becomes its text.

use super::MetadataDirError;
use crate::yaml_out::INCLUDE_PREFIX;
use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;
use std::path::{Path, PathBuf};

/// Deep enough for any real layout; stops an include cycle.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The file as JSON with its includes resolved; `None` when the file does not exist.
pub fn read_yaml_file(path: &Path) -> Result<Option<Value>, MetadataDirError> {
    if !path.exists() {
        return Ok(None);
    }
    load(path, 0).map(Some)
}

fn load(path: &Path, depth: usize) -> Result<Value, MetadataDirError> {
    let text = std::fs::read_to_string(path).map_err(|source| MetadataDirError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let yaml: Yaml = if text.trim().is_empty() {
        Yaml::Null
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| MetadataDirError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let context = Context {
        file: path,
        base,
        depth,
    };
    context.convert(yaml)
}

struct Context<'a> {
    file: &'a Path,
    base: &'a Path,
    depth: usize,
}

impl Context<'_> {
    fn convert(&self, yaml: Yaml) -> Result<Value, MetadataDirError> {
        Ok(match yaml {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(b),
            Yaml::Number(n) => number(&n),
            Yaml::String(s) => match s.strip_prefix(INCLUDE_PREFIX) {
                Some(target) => self.include(target.trim().trim_matches('"'))?,
                None => Value::String(s),
            },
            Yaml::Sequence(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| self.convert(item))
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Mapping(mapping) => {
                let mut map = Map::new();
                for (key, value) in mapping {
                    map.insert(key_text(&key), self.convert(value)?);
                }
                Value::Object(map)
            }
            Yaml::Tagged(tagged) => {
                if tagged.tag == "include" {
                    match tagged.value {
                        Yaml::String(target) => self.include(target.trim())?,
                        _ => {
                            return Err(MetadataDirError::BadInclude {
                                file: self.file.to_path_buf(),
                                target: String::new(),
                                reason: "!include needs a file name".to_string(),
                            });
                        }
                    }
                } else {
                    return Err(MetadataDirError::Parse {
                        path: self.file.to_path_buf(),
                        message: format!("unknown YAML tag {}", tagged.tag),
                    });
                }
            }
        })
    }

    fn include(&self, target: &str) -> Result<Value, MetadataDirError> {
        let bad = |reason: String| MetadataDirError::BadInclude {
            file: self.file.to_path_buf(),
            target: target.to_string(),
            reason,
        };
        if target.is_empty() {
            return Err(bad("!include needs a file name".to_string()));
        }
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(bad(format!(
                "includes nest deeper than {MAX_INCLUDE_DEPTH} files (a cycle?)"
            )));
        }
        let path: PathBuf = self.base.join(target);
        if !path.is_file() {
            return Err(bad(format!("{} does not exist", path.display())));
        }
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            load(&path, self.depth + 1)
        } else {
            std::fs::read_to_string(&path)
                .map(Value::String)
                .map_err(|e| bad(e.to_string()))
        }
    }
}

fn number(n: &serde_yaml_ng::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

fn key_text(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Null => "null".to_string(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}
