//! Actions and custom types: `set_custom_types`, `create_action`, `update_action`,
//! `drop_action`, `create_action_permission`, `drop_action_permission`.
//!
//! Types are checked when set and whenever an action changes: every type an action or a custom
//! type names must exist (GraphQL's built-in scalars, the custom types, or a Postgres type of the
//! default source), and relationships must map scalar fields to columns of tracked tables.

use super::args::parse_args;
use super::{Working, success};
use crate::error::ApiError;
use graft_gql::action_base_type;
use graft_metadata::{
    ActionDefinition, ActionEntry, ActionKind, ActionPermission, CustomTypes, DEFAULT_SOURCE,
};
use serde::Deserialize;
use serde_json::{Value, json};

const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

pub async fn set_custom_types(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let types: CustomTypes = parse_args(args)?;
    check_custom_types(working, &types)
        .await
        .map_err(|reason| inconsistent_types(&types, &reason))?;
    let previous = std::mem::replace(&mut working.metadata.custom_types, types);
    for action in working.metadata.actions.clone() {
        if let Err(reason) = check_action(working, &action.definition).await {
            working.metadata.custom_types = previous;
            return Err(ApiError::new(
                "invalid-configuration",
                format!(
                    "Inconsistent object: in action \"{}\": {reason}",
                    action.name
                ),
            )
            .at("$.args"));
        }
    }
    working.dirty = true;
    Ok(success())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionArgs {
    name: String,
    definition: ActionDefinition,
    #[serde(default)]
    comment: Option<String>,
}

pub async fn create_action(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let ActionArgs {
        name,
        definition,
        comment,
    } = parse_args(args)?;
    if working.metadata.actions.iter().any(|a| a.name == name) {
        return Err(ApiError::new(
            "already-exists",
            format!("action with name \"{name}\" already exists"),
        )
        .at("$.args"));
    }
    check_headers(&definition)?;
    check_action(working, &definition)
        .await
        .map_err(|reason| ApiError::new("not-supported", reason).at("$.args"))?;
    check_async_relationships(working, &name, &definition)?;
    working.metadata.actions.push(ActionEntry {
        name,
        definition,
        comment,
        permissions: Vec::new(),
        extra: Default::default(),
    });
    if let Err(conflict) = super::conflicts::check_root_fields(working) {
        working.metadata.actions.pop();
        return Err(conflict);
    }
    working.dirty = true;
    Ok(success())
}

pub async fn update_action(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let ActionArgs {
        name,
        definition,
        comment,
    } = parse_args(args)?;
    check_headers(&definition)?;
    check_action(working, &definition)
        .await
        .map_err(|reason| ApiError::new("not-supported", reason).at("$.args"))?;
    let action = action_mut(working, &name)?;
    action.definition = definition;
    if comment.is_some() {
        action.comment = comment;
    }
    working.dirty = true;
    Ok(success())
}

/// `clear_data` (async actions' stored results) is accepted and has nothing to clear yet.
#[derive(Deserialize)]
struct DropActionArgs {
    name: String,
}

pub fn drop_action(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let DropActionArgs { name, .. } = parse_args(args)?;
    action_mut(working, &name)?;
    working.metadata.actions.retain(|a| a.name != name);
    working.dirty = true;
    Ok(success())
}

#[derive(Deserialize)]
struct ActionPermissionArgs {
    action: String,
    role: String,
    #[serde(default)]
    comment: Option<String>,
}

pub fn create_action_permission(
    working: &mut Working<'_>,
    args: &Value,
) -> Result<Value, ApiError> {
    let ActionPermissionArgs {
        action,
        role,
        comment,
    } = parse_args(args)?;
    let entry = action_mut(working, &action)?;
    if entry.permissions.iter().any(|p| p.role == role) {
        return Err(ApiError::new(
            "already-exists",
            format!("permission for role \"{role}\" is already defined on \"{action}\""),
        )
        .at("$.args"));
    }
    entry.permissions.push(ActionPermission { role, comment });
    working.dirty = true;
    Ok(success())
}

pub fn drop_action_permission(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let ActionPermissionArgs { action, role, .. } = parse_args(args)?;
    let entry = action_mut(working, &action)?;
    let before = entry.permissions.len();
    entry.permissions.retain(|p| p.role != role);
    if entry.permissions.len() == before {
        return Err(ApiError::not_exists(format!(
            "permission for role \"{role}\" is not defined on \"{action}\""
        )));
    }
    working.dirty = true;
    Ok(success())
}

fn action_mut<'w>(
    working: &'w mut Working<'_>,
    name: &str,
) -> Result<&'w mut ActionEntry, ApiError> {
    working
        .metadata
        .actions
        .iter_mut()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::not_exists(format!("action with name \"{name}\" does not exist")))
}

/// Hasura keeps its own settings out of reach of metadata: `value_from_env` may not name a
/// `HASURA_GRAPHQL_` variable (that is where the admin secret lives).
fn check_headers(definition: &ActionDefinition) -> Result<(), ApiError> {
    for (index, header) in definition.headers.iter().enumerate() {
        if let Some(env) = &header.value_from_env
            && env.starts_with("HASURA_GRAPHQL_")
        {
            return Err(ApiError::parse_failed(format!(
                "env variables starting with \"HASURA_GRAPHQL_\" are not allowed in value_from_env: {env}"
            ))
            .at(format!("$.definition.headers[{index}]")));
        }
    }
    Ok(())
}

/// Hasura's rule: the output object of an asynchronous action may not have both relationships
/// and fields of object types.
fn check_async_relationships(
    working: &Working<'_>,
    name: &str,
    definition: &ActionDefinition,
) -> Result<(), ApiError> {
    if definition.kind() != ActionKind::Asynchronous {
        return Ok(());
    }
    let types = &working.metadata.custom_types;
    let output = action_base_type(&definition.output_type);
    let Some(object) = types.objects.iter().find(|o| o.name == output) else {
        return Ok(());
    };
    if object.relationships.is_empty() {
        return Ok(());
    }
    let nested = object.fields.iter().find(|f| {
        let base = action_base_type(&f.ty);
        types.objects.iter().any(|o| o.name == base)
    });
    match nested {
        Some(field) => Err(ApiError::new(
            "invalid-configuration",
            format!(
                "Inconsistent object: in action \"{name}\"; Async action relations cannot be used with object fields: \"{}\"",
                field.name
            ),
        )
        .at("$.args")),
        None => Ok(()),
    }
}

/// Checks an action's argument and output types against the custom types.
async fn check_action(working: &Working<'_>, definition: &ActionDefinition) -> Result<(), String> {
    let types = &working.metadata.custom_types;
    for argument in &definition.arguments {
        let base = action_base_type(&argument.ty);
        if !type_exists(working, types, base, Direction::Input).await {
            return Err(format!(
                "the type \"{base}\" of the argument \"{}\" is not an input type that exists",
                argument.name
            ));
        }
    }
    let output = action_base_type(&definition.output_type);
    let is_object = types.objects.iter().any(|t| t.name == output);
    if !type_exists(working, types, output, Direction::Output).await {
        return Err(format!(
            "the type: \"{output}\" is not defined in custom types or it is not an output type"
        ));
    }
    if definition.kind() == ActionKind::Asynchronous && !is_object {
        return Err(format!(
            "the output type \"{output}\" of an asynchronous action must be an object type"
        ));
    }
    Ok(())
}

async fn check_custom_types(working: &Working<'_>, types: &CustomTypes) -> Result<(), String> {
    for input in &types.input_objects {
        for field in &input.fields {
            let base = action_base_type(&field.ty);
            if !type_exists(working, types, base, Direction::Input).await {
                return Err(format!(
                    "the type \"{base}\" for field \"{}\" in  input object type \"{}\" does not exist",
                    field.name, input.name
                ));
            }
        }
    }
    for object in &types.objects {
        for field in &object.fields {
            let base = action_base_type(&field.ty);
            if !type_exists(working, types, base, Direction::Output).await {
                return Err(format!(
                    "the type \"{base}\" for field \"{}\" in  object type \"{}\" does not exist",
                    field.name, object.name
                ));
            }
        }
        for relationship in &object.relationships {
            let source = working
                .metadata
                .source(&relationship.source)
                .ok_or_else(|| format!("source \"{}\" does not exist", relationship.source))?;
            if source.table(&relationship.remote_table).is_none() {
                return Err(format!(
                    "the table \"{}\" of relationship \"{}\" in object type \"{}\" is not tracked",
                    relationship.remote_table, relationship.name, object.name
                ));
            }
            let catalog_table = working.catalogs.get(&relationship.source).and_then(|c| {
                c.tables.values().find(|t| {
                    t.name.schema == relationship.remote_table.schema
                        && t.name.name == relationship.remote_table.name
                })
            });
            for (field_name, column) in &relationship.field_mapping {
                let Some(field) = object.fields.iter().find(|f| &f.name == field_name) else {
                    return Err(format!(
                        "the field \"{field_name}\" for relationship \"{}\" in object type \"{}\" does not exist",
                        relationship.name, object.name
                    ));
                };
                if field.ty.starts_with('[') {
                    return Err(format!(
                        "the type of the field \"{field_name}\" for relationship \"{}\" in object type \"{}\" is a list type",
                        relationship.name, object.name
                    ));
                }
                let has_column =
                    catalog_table.is_none_or(|t| t.columns.iter().any(|c| &c.name == column));
                if !has_column {
                    return Err(format!(
                        "the column \"{column}\" of table \"{}\" for relationship \"{}\" in object type \"{}\" does not exist",
                        relationship.remote_table, relationship.name, object.name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Where a type is used: input objects may only be used as inputs, objects as outputs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Input,
    Output,
}

/// Whether `name` is a type that may be used in `direction`: an (input) object, an enum or a
/// scalar.
async fn type_exists(
    working: &Working<'_>,
    types: &CustomTypes,
    name: &str,
    direction: Direction,
) -> bool {
    let objects = match direction {
        Direction::Input => &types.input_objects,
        Direction::Output => &types.objects,
    };
    objects.iter().any(|t| t.name == name)
        || types.enums.iter().any(|t| t.name == name)
        || is_scalar(working, types, name).await
}

/// A built-in GraphQL scalar, a custom scalar, or a type of the default source.
async fn is_scalar(working: &Working<'_>, types: &CustomTypes, name: &str) -> bool {
    if BUILT_IN_SCALARS.contains(&name) || types.scalars.iter().any(|s| s.name == name) {
        return true;
    }
    postgres_type_exists(working, name).await
}

async fn postgres_type_exists(working: &Working<'_>, name: &str) -> bool {
    let cache = working.state.current();
    let Ok(pool) = cache.pool(DEFAULT_SOURCE) else {
        return false;
    };
    let Ok(client) = pool.get().await else {
        return false;
    };
    client
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_type WHERE typname = $1",
            &[&name],
        )
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Hasura's answer to custom types that do not validate.
fn inconsistent_types(types: &CustomTypes, reason: &str) -> ApiError {
    let reason = format!(
        "Inconsistent object: validation for the given custom types failed because {reason}"
    );
    let mut error = ApiError::new("invalid-configuration", reason.clone()).at("$.args");
    error.internal = Some(Box::new(json!([{
        "definition": types,
        "reason": reason,
        "name": "custom_types custom_types",
        "type": "custom_types",
    }])));
    error
}
