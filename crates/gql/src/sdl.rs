//! A tiny SDL model and printer. The builders fill it; it prints types, fields, arguments and
//! enum values sorted by name, because Hasura's introspection lists them in that order.

use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    Object,
    Input,
    Enum,
    Scalar,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub kind: TypeKind,
    pub description: Option<String>,
    /// Object and input fields, keyed by name.
    pub fields: BTreeMap<String, FieldDef>,
    /// Enum values and their descriptions.
    pub values: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub description: Option<String>,
    pub ty: String,
    pub args: BTreeMap<String, ArgDef>,
    /// The default of an input field, as GraphQL value text (`[]`).
    pub default_value: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ArgDef {
    pub description: Option<String>,
    pub ty: String,
}

impl FieldDef {
    pub fn new(ty: impl Into<String>) -> Self {
        FieldDef {
            description: None,
            ty: ty.into(),
            args: BTreeMap::new(),
            default_value: None,
        }
    }

    pub fn with_default(mut self, value: impl Into<String>) -> Self {
        self.default_value = Some(value.into());
        self
    }

    pub fn described(ty: impl Into<String>, description: Option<String>) -> Self {
        FieldDef {
            description,
            ..FieldDef::new(ty)
        }
    }

    pub fn arg(mut self, name: &str, ty: impl Into<String>, description: Option<&str>) -> Self {
        self.args.insert(
            name.to_string(),
            ArgDef {
                description: description.map(str::to_string),
                ty: ty.into(),
            },
        );
        self
    }
}

/// The whole document being generated.
#[derive(Debug, Default)]
pub struct Sdl {
    pub types: BTreeMap<String, TypeDef>,
}

impl Sdl {
    /// Adds a type unless one of that name exists; returns whether it was added, so a builder
    /// can skip filling a type twice.
    pub fn add(&mut self, name: &str, kind: TypeKind, description: Option<String>) -> bool {
        if self.types.contains_key(name) {
            return false;
        }
        self.types.insert(
            name.to_string(),
            TypeDef {
                kind,
                description,
                fields: BTreeMap::new(),
                values: BTreeMap::new(),
            },
        );
        true
    }

    pub fn field(&mut self, type_name: &str, name: &str, field: FieldDef) {
        if let Some(def) = self.types.get_mut(type_name) {
            def.fields.insert(name.to_string(), field);
        }
    }

    pub fn remove_field(&mut self, type_name: &str, name: &str) {
        if let Some(def) = self.types.get_mut(type_name) {
            def.fields.remove(name);
        }
    }

    pub fn value(&mut self, type_name: &str, name: &str, description: Option<String>) {
        if let Some(def) = self.types.get_mut(type_name) {
            def.values.insert(name.to_string(), description);
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    /// Prints the document, with a `schema` block naming the given root types.
    pub fn print(&self, roots: &[(&str, &str)]) -> String {
        let mut out = String::new();
        out.push_str("schema {\n");
        for (operation, type_name) in roots {
            let _ = writeln!(out, "  {operation}: {type_name}");
        }
        out.push_str("}\n");
        // Hasura's opt-in to several root fields in one subscription.
        out.push_str("\ndirective @_multiple_top_level_fields on SUBSCRIPTION\n");
        for (name, def) in &self.types {
            out.push('\n');
            description(&mut out, "", def.description.as_deref());
            match def.kind {
                TypeKind::Scalar => {
                    let _ = writeln!(out, "scalar {name}");
                }
                TypeKind::Enum => {
                    let _ = writeln!(out, "enum {name} {{");
                    for (value, desc) in &def.values {
                        description(&mut out, "  ", desc.as_deref());
                        let _ = writeln!(out, "  {value}");
                    }
                    out.push_str("}\n");
                }
                TypeKind::Object | TypeKind::Input => {
                    let keyword = if def.kind == TypeKind::Object {
                        "type"
                    } else {
                        "input"
                    };
                    let _ = writeln!(out, "{keyword} {name} {{");
                    for (field_name, field) in &def.fields {
                        description(&mut out, "  ", field.description.as_deref());
                        let _ = write!(out, "  {field_name}");
                        if !field.args.is_empty() {
                            out.push_str("(\n");
                            for (arg_name, arg) in &field.args {
                                description(&mut out, "    ", arg.description.as_deref());
                                let _ = writeln!(out, "    {arg_name}: {}", arg.ty);
                            }
                            out.push_str("  )");
                        }
                        let _ = write!(out, ": {}", field.ty);
                        if let Some(default) = &field.default_value {
                            let _ = write!(out, " = {default}");
                        }
                        out.push('\n');
                    }
                    out.push_str("}\n");
                }
            }
        }
        out
    }
}

fn description(out: &mut String, indent: &str, text: Option<&str>) {
    if let Some(text) = text {
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(
            out,
            "{indent}\"{}\"",
            escaped.replace('\n', "\\n").replace('\r', "\\r")
        );
    }
}
