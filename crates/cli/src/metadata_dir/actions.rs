//! Actions and custom types, split as the Hasura CLI splits them: signatures and type shapes
//! as GraphQL SDL in `actions.graphql`, everything else (handler, kind, headers, permissions,
//! relationships, descriptions) in `actions.yaml`.
//!
//! ```graphql
//! type Mutation {
//!   login(
//!     username: String!
//!     password: String!
//!   ): LoginOutput
//! }
//!
//! type LoginOutput {
//!   accessToken: String!
//! }
//! ```
//!
//! Each action is its own `type Mutation`/`type Query` block, arguments one per line; types
//! follow (scalars, enums, input objects, objects). Reading parses the SDL with
//! apollo-compiler and merges it with `actions.yaml` by name; an action or type named in the
//! YAML but missing from the SDL is refused, as the Hasura CLI does.

use super::MetadataDirError;
use apollo_compiler::ast::{Definition, Document, FieldDefinition, InputValueDefinition};
use serde_json::{Map, Value, json};
use std::path::Path;

const TYPE_KINDS: [&str; 4] = ["scalars", "enums", "input_objects", "objects"];

/// `(actions.yaml, actions.graphql)` for the metadata's `actions` and `custom_types`.
pub fn split(actions: Option<&Value>, custom_types: Option<&Value>) -> (Value, String) {
    let mut blocks = Vec::new();
    let mut yaml_actions = Vec::new();
    for action in actions.and_then(Value::as_array).into_iter().flatten() {
        blocks.push(action_sdl(action));
        let mut action = action.clone();
        if let Some(Value::Object(definition)) = action.get_mut("definition") {
            for key in ["arguments", "output_type", "type"] {
                definition.remove(key);
            }
        }
        yaml_actions.push(action);
    }
    let mut yaml_types = Map::new();
    for kind in ["enums", "input_objects", "objects", "scalars"] {
        yaml_types.insert(kind.to_string(), json!([]));
    }
    for kind in TYPE_KINDS {
        let Some(Value::Array(types)) = custom_types.and_then(|t| t.get(kind)) else {
            continue;
        };
        let mut kept = Vec::new();
        for custom in types {
            blocks.push(type_sdl(kind, custom));
            let mut yaml = Map::new();
            for key in ["name", "description", "relationships"] {
                if let Some(v) = custom.get(key).filter(|v| !v.is_null()) {
                    yaml.insert(key.to_string(), v.clone());
                }
            }
            kept.push(Value::Object(yaml));
        }
        yaml_types.insert(kind.to_string(), Value::Array(kept));
    }
    let yaml = json!({"actions": yaml_actions, "custom_types": yaml_types});
    (yaml, blocks.join("\n"))
}

fn action_sdl(action: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let name = text(action.get("name"));
    let definition = action.get("definition").unwrap_or(&Value::Null);
    let root = match definition.get("type").and_then(Value::as_str) {
        Some("query") => "Query",
        _ => "Mutation",
    };
    let output = text(definition.get("output_type"));
    let arguments = definition
        .get("arguments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = format!("type {root} {{\n");
    if arguments.is_empty() {
        out.push_str(&format!("  {name}: {output}\n"));
    } else {
        out.push_str(&format!("  {name}(\n"));
        for argument in &arguments {
            push_description(&mut out, argument, "    ");
            out.push_str(&format!(
                "    {}: {}\n",
                text(argument.get("name")),
                text(argument.get("type"))
            ));
        }
        out.push_str(&format!("  ): {output}\n"));
    }
    out.push_str("}\n");
    out
}

fn type_sdl(kind: &str, custom: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let name = text(custom.get("name"));
    let keyword = match kind {
        "scalars" => return format!("scalar {name}\n"),
        "enums" => "enum",
        "input_objects" => "input",
        _ => "type",
    };
    let mut out = format!("{keyword} {name} {{\n");
    let members = if kind == "enums" { "values" } else { "fields" };
    for member in custom
        .get(members)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push_description(&mut out, member, "  ");
        if kind == "enums" {
            out.push_str(&format!("  {}\n", text(member.get("value"))));
        } else {
            out.push_str(&format!(
                "  {}: {}\n",
                text(member.get("name")),
                text(member.get("type"))
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn push_description(out: &mut String, member: &Value, indent: &str) {
    if let Some(description) = member.get("description").and_then(Value::as_str) {
        out.push_str(&format!("{indent}\"\"\"{description}\"\"\"\n"));
    }
}

/// The metadata's `actions` and `custom_types` from `actions.yaml` and the SDL.
pub fn join(
    yaml: &Value,
    sdl: &str,
    sdl_path: &Path,
) -> Result<(Vec<Value>, Map<String, Value>), MetadataDirError> {
    let parse_error = |message: String| MetadataDirError::Parse {
        path: sdl_path.to_path_buf(),
        message,
    };
    let document = if sdl.trim().is_empty() {
        Document::new()
    } else {
        Document::parse(sdl, sdl_path).map_err(|e| parse_error(e.errors.to_string()))?
    };
    let mut sdl_actions: Vec<Value> = Vec::new();
    let mut sdl_types: Map<String, Value> = TYPE_KINDS
        .iter()
        .map(|k| (k.to_string(), json!([])))
        .collect();
    let mut push_type = |kind: &str, value: Value| {
        if let Some(Value::Array(list)) = sdl_types.get_mut(kind) {
            list.push(value);
        }
    };
    for definition in &document.definitions {
        // `type Mutation { ... }` and `extend type Mutation { ... }` both declare actions.
        let root = match definition {
            Definition::ObjectTypeDefinition(object) => Some((&object.name, &object.fields)),
            Definition::ObjectTypeExtension(object) => Some((&object.name, &object.fields)),
            _ => None,
        };
        if let Some((name, fields)) = root
            && (name == "Mutation" || name == "Query")
        {
            let kind = if name == "Query" { "query" } else { "mutation" };
            for field in fields {
                sdl_actions.push(action_from_sdl(field, kind));
            }
            continue;
        }
        match definition {
            Definition::ObjectTypeDefinition(object) => {
                let fields: Vec<Value> = object.fields.iter().map(|f| field_json(f)).collect();
                push_type(
                    "objects",
                    named(
                        &object.name,
                        object.description.as_deref(),
                        "fields",
                        fields,
                    ),
                );
            }
            Definition::InputObjectTypeDefinition(input) => {
                let fields: Vec<Value> = input.fields.iter().map(|f| input_json(f)).collect();
                push_type(
                    "input_objects",
                    named(&input.name, input.description.as_deref(), "fields", fields),
                );
            }
            Definition::EnumTypeDefinition(en) => {
                let values: Vec<Value> = en
                    .values
                    .iter()
                    .map(|v| {
                        let mut value = json!({"value": v.value.as_str()});
                        if let Some(d) = &v.description {
                            value["description"] = json!(d.as_ref());
                        }
                        value
                    })
                    .collect();
                push_type(
                    "enums",
                    named(&en.name, en.description.as_deref(), "values", values),
                );
            }
            Definition::ScalarTypeDefinition(scalar) => {
                let mut value = json!({"name": scalar.name.as_str()});
                if let Some(d) = &scalar.description {
                    value["description"] = json!(d.as_ref());
                }
                push_type("scalars", value);
            }
            _ => {
                return Err(parse_error(
                    "only Mutation/Query actions and scalar, enum, input and object types are allowed"
                        .to_string(),
                ));
            }
        }
    }
    let actions = merge_actions(yaml, sdl_actions, sdl_path)?;
    let types = merge_types(yaml, sdl_types, sdl_path)?;
    Ok((actions, types))
}

fn action_from_sdl(field: &FieldDefinition, kind: &str) -> Value {
    let arguments: Vec<Value> = field.arguments.iter().map(|a| input_json(a)).collect();
    json!({
        "name": field.name.as_str(),
        "definition": {"arguments": arguments, "output_type": field.ty.to_string(), "type": kind},
    })
}

fn field_json(field: &FieldDefinition) -> Value {
    let mut value = json!({"name": field.name.as_str(), "type": field.ty.to_string()});
    if let Some(d) = &field.description {
        value["description"] = json!(d.as_ref());
    }
    value
}

fn input_json(input: &InputValueDefinition) -> Value {
    let mut value = json!({"name": input.name.as_str(), "type": input.ty.to_string()});
    if let Some(d) = &input.description {
        value["description"] = json!(d.as_ref());
    }
    value
}

fn named(name: &str, description: Option<&str>, members: &str, list: Vec<Value>) -> Value {
    let mut value = Map::new();
    value.insert("name".to_string(), json!(name));
    if let Some(d) = description {
        value.insert("description".to_string(), json!(d));
    }
    value.insert(members.to_string(), Value::Array(list));
    Value::Object(value)
}

/// YAML actions in their order, each with its SDL signature folded into `definition`.
fn merge_actions(
    yaml: &Value,
    sdl_actions: Vec<Value>,
    sdl_path: &Path,
) -> Result<Vec<Value>, MetadataDirError> {
    let yaml_actions = yaml
        .get("actions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name_of = |v: &Value| {
        v.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut out = Vec::new();
    for mut action in yaml_actions.iter().cloned() {
        let name = name_of(&action);
        let Some(signature) = sdl_actions.iter().find(|a| name_of(a) == name) else {
            return Err(MetadataDirError::Shape {
                place: format!("action \"{name}\" (actions.yaml)"),
                expected: format!("its signature in {}", sdl_path.display()),
            });
        };
        let definition = action
            .as_object_mut()
            .map(|a| a.entry("definition").or_insert_with(|| json!({})));
        if let (Some(Value::Object(definition)), Some(Value::Object(from_sdl))) =
            (definition, signature.get("definition"))
        {
            for (key, value) in from_sdl {
                definition.insert(key.clone(), value.clone());
            }
        }
        out.push(action);
    }
    // Signatures without YAML settings are kept, as the Hasura CLI keeps them.
    for signature in sdl_actions {
        if !yaml_actions
            .iter()
            .any(|a| name_of(a) == name_of(&signature))
        {
            out.push(signature);
        }
    }
    Ok(out)
}

fn merge_types(
    yaml: &Value,
    mut sdl_types: Map<String, Value>,
    sdl_path: &Path,
) -> Result<Map<String, Value>, MetadataDirError> {
    let yaml_types = yaml.get("custom_types").unwrap_or(&Value::Null);
    for kind in TYPE_KINDS {
        let Some(Value::Array(from_sdl)) = sdl_types.get_mut(kind) else {
            continue;
        };
        for custom in yaml_types
            .get(kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = custom.get("name").and_then(Value::as_str).unwrap_or("");
            let Some(Value::Object(target)) = from_sdl
                .iter_mut()
                .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
            else {
                return Err(MetadataDirError::Shape {
                    place: format!("custom type \"{name}\" (actions.yaml)"),
                    expected: format!("its definition in {}", sdl_path.display()),
                });
            };
            for key in ["description", "relationships"] {
                if let Some(v) = custom.get(key).filter(|v| !v.is_null()) {
                    target.insert(key.to_string(), v.clone());
                }
            }
        }
    }
    Ok(sdl_types)
}
