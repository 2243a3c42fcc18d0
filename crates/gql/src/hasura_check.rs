//! A first pass over the request document that reports the mistakes clients make most often
//! with Hasura's own messages and JSON paths (`field 'x' not found in type: 'query_root'` at
//! `$.selectionSet.x`). apollo-compiler's full validation runs after it and catches the rest.

use crate::error::GqlError;
use apollo_compiler::Schema;
use apollo_compiler::ast::{self, Selection, Type, Value};
use apollo_compiler::schema::ExtendedType;
use std::collections::HashMap;

pub(crate) struct HasuraCheck<'a> {
    schema: &'a Schema,
    fragments: HashMap<&'a str, &'a ast::FragmentDefinition>,
    visiting: Vec<&'a str>,
}

impl<'a> HasuraCheck<'a> {
    pub fn new(schema: &'a Schema, document: &'a ast::Document) -> Self {
        let fragments = document
            .definitions
            .iter()
            .filter_map(|d| match d {
                ast::Definition::FragmentDefinition(f) => Some((f.name.as_str(), &**f)),
                _ => None,
            })
            .collect();
        HasuraCheck {
            schema,
            fragments,
            visiting: Vec::new(),
        }
    }

    pub fn operation(&mut self, operation: &'a ast::OperationDefinition) -> Result<(), GqlError> {
        let Some(root) = self.schema.root_operation(operation.operation_type) else {
            let message = match operation.operation_type {
                ast::OperationType::Mutation => "no mutations exist",
                ast::OperationType::Subscription => "no subscriptions exist",
                ast::OperationType::Query => "no queries exist",
            };
            return Err(GqlError::validation("$", message));
        };
        self.selection_set(root.as_str(), &operation.selection_set, "$")
    }

    fn selection_set(
        &mut self,
        type_name: &str,
        selections: &'a [Selection],
        path: &str,
    ) -> Result<(), GqlError> {
        for selection in selections {
            match selection {
                Selection::Field(field) => {
                    let field_path = format!("{path}.selectionSet.{}", field.name);
                    if field.name.starts_with("__") {
                        continue;
                    }
                    let Ok(definition) = self.schema.type_field(type_name, &field.name) else {
                        return Err(GqlError::validation(
                            field_path,
                            format!("field '{}' not found in type: '{type_name}'", field.name),
                        ));
                    };
                    for argument in &field.arguments {
                        let Some(arg_def) = definition.argument_by_name(&argument.name) else {
                            return Err(GqlError::validation(
                                field_path,
                                format!(
                                    "'{}' has no argument named '{}'",
                                    field.name, argument.name
                                ),
                            ));
                        };
                        let arg_path = format!("{field_path}.args.{}", argument.name);
                        if matches!(argument.name.as_str(), "limit" | "offset") {
                            non_negative(&argument.value, &arg_path)?;
                        }
                        self.value(&arg_def.ty, &argument.value, &arg_path)?;
                    }
                    let inner = definition.ty.inner_named_type().as_str();
                    self.selection_set(inner, &field.selection_set, &field_path)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    let Some(fragment) = self.fragments.get(name).copied() else {
                        continue;
                    };
                    if self.visiting.contains(&name) {
                        continue;
                    }
                    self.visiting.push(name);
                    let fragment_path = format!("{path}.selectionSet.{name}");
                    let result = self.selection_set(
                        fragment.type_condition.as_str(),
                        &fragment.selection_set,
                        &fragment_path,
                    );
                    self.visiting.pop();
                    result?;
                }
                Selection::InlineFragment(inline) => {
                    let condition = inline
                        .type_condition
                        .as_ref()
                        .map_or(type_name, |c| c.as_str());
                    self.selection_set(condition, &inline.selection_set, path)?;
                }
            }
        }
        Ok(())
    }

    fn value(&self, ty: &Type, value: &Value, path: &str) -> Result<(), GqlError> {
        match value {
            Value::Variable(_) | Value::Null => return Ok(()),
            Value::List(items) if ty.is_list() => {
                let item_type = ty.item_type();
                for (index, item) in items.iter().enumerate() {
                    self.value(item_type, item, &format!("{path}[{index}]"))?;
                }
                return Ok(());
            }
            _ if ty.is_list() => return self.value(ty.item_type(), value, path),
            _ => {}
        }
        let name = ty.inner_named_type().as_str();
        match self.schema.types.get(name) {
            Some(ExtendedType::InputObject(input)) => {
                let Value::Object(fields) = value else {
                    return Err(mismatch("an object", name, value, path));
                };
                for (field_name, field_value) in fields {
                    let field_path = format!("{path}.{field_name}");
                    let Some(field_def) = input.fields.get(field_name) else {
                        return Err(GqlError::validation(
                            field_path,
                            format!("field '{field_name}' not found in type: '{name}'"),
                        ));
                    };
                    self.value(&field_def.ty, field_value, &field_path)?;
                }
                Ok(())
            }
            Some(ExtendedType::Enum(enum_type)) => {
                if let Value::Enum(v) = value
                    && enum_type.values.contains_key(v)
                {
                    return Ok(());
                }
                let mut values: Vec<&str> = enum_type.values.keys().map(|v| v.as_str()).collect();
                values.sort_unstable();
                let listed = values
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let found = match value {
                    Value::Enum(v) => format!("'{v}'"),
                    other => kind_of(other).to_string(),
                };
                Err(GqlError::validation(
                    path,
                    format!(
                        "expected one of the values [{listed}] for type '{name}', but found {found}"
                    ),
                ))
            }
            Some(ExtendedType::Scalar(_)) => scalar(name, value, path),
            _ => Ok(()),
        }
    }
}

fn scalar(name: &str, value: &Value, path: &str) -> Result<(), GqlError> {
    let ok = match name {
        "Int" => matches!(value, Value::Int(i) if i.try_to_i32().is_ok()),
        "Float" => matches!(value, Value::Int(_) | Value::Float(_)),
        "String" => matches!(value, Value::String(_)),
        "Boolean" => matches!(value, Value::Boolean(_)),
        "ID" => matches!(value, Value::String(_) | Value::Int(_)),
        // Hasura's own scalars (numeric, jsonb, timestamptz, ...) take any JSON; Postgres
        // decides whether the text is valid.
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let expected = match name {
        "Int" => "a 32-bit integer",
        "Float" => "a float",
        "String" => "a string",
        "Boolean" => "a boolean",
        _ => "a string or an integer",
    };
    Err(mismatch(expected, name, value, path))
}

fn non_negative(value: &Value, path: &str) -> Result<(), GqlError> {
    let ok = match value {
        Value::Int(i) => i.try_to_i32().is_ok_and(|i| i >= 0),
        Value::Variable(_) | Value::Null => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(mismatch(
            "a non-negative 32-bit integer",
            "Int",
            value,
            path,
        ))
    }
}

fn mismatch(expected: &str, type_name: &str, value: &Value, path: &str) -> GqlError {
    GqlError::validation(
        path,
        format!(
            "expected {expected} for type '{type_name}', but found {}",
            kind_of(value)
        ),
    )
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Enum(_) => "an enum value",
        Value::Variable(_) => "a variable",
        Value::String(_) => "a string",
        Value::Float(_) => "a float",
        Value::Int(_) => "an integer",
        Value::Boolean(_) => "a boolean",
        Value::List(_) => "a list",
        Value::Object(_) => "an object",
    }
}
