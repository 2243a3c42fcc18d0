//! Tracked SQL functions: `track_function` (v1 and v2 with `configuration`), `untrack_function`,
//! `set_function_customization`, and function permissions (`create_function_permission`,
//! `drop_function_permission`). The configuration itself is checked where the model is
//! resolved (`graft_schema`), so a bad one is an inconsistency like any other.

use super::args::{require_object, source_of};
use super::{Working, success};
use crate::error::ApiError;
use graft_metadata::{FunctionEntry, FunctionPermission, QualifiedFunction, QualifiedTable};
use serde_json::Value;

/// The function a command names: `args.function`, or `args` itself in the v1 form.
pub(super) fn function_of(args: &Value) -> Result<QualifiedFunction, ApiError> {
    let (value, path) = match args.get("function") {
        Some(f) => (f.clone(), "$.args.function"),
        None => {
            let mut map = serde_json::Map::new();
            for key in ["schema", "name"] {
                if let Some(v) = args.get(key) {
                    map.insert(key.to_string(), v.clone());
                }
            }
            (Value::Object(map), "$.args")
        }
    };
    serde_json::from_value(value).map_err(|e| ApiError::parse_failed(e.to_string()).at(path))
}

pub fn track(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let function = function_of(args)?;
    if working.source(&source)?.function(&function).is_some() {
        return Err(ApiError::new(
            "already-tracked",
            format!("function already tracked: \"{function}\""),
        )
        .at("$.args"));
    }
    let name = graft_catalog::QualifiedName {
        schema: function.schema.clone(),
        name: function.name.clone(),
    };
    if working
        .catalog(&source)?
        .function_overloads(&name)
        .is_empty()
    {
        return Err(ApiError::new(
            "not-exists",
            format!("no such function exists: \"{function}\""),
        )
        .at("$.args"));
    }
    let as_table = QualifiedTable::new(&function.schema, &function.name);
    let graphql_name = super::tables::default_graphql_name(&as_table);
    if working
        .source(&source)?
        .tables
        .iter()
        .any(|t| super::tables::default_graphql_name(&t.table) == graphql_name)
    {
        return Err(ApiError::new(
            "remote-schema-conflicts",
            format!("a table with the GraphQL name \"{graphql_name}\" is already tracked"),
        )
        .at("$.args"));
    }
    let before = working.inconsistencies();
    working.source_mut(&source)?.functions.push(FunctionEntry {
        function,
        configuration: args.get("configuration").cloned(),
        permissions: Vec::new(),
        extra: Default::default(),
    });
    working.check_consistent(&before)?;
    Ok(success())
}

pub fn untrack(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let function = function_of(args)?;
    if working.source(&source)?.function(&function).is_none() {
        return Err(ApiError::new(
            "already-untracked",
            format!("function already untracked: \"{function}\""),
        )
        .at("$.args"));
    }
    working
        .source_mut(&source)?
        .functions
        .retain(|f| f.function != function);
    Ok(success())
}

/// `set_function_customization`: replaces a tracked function's `configuration`.
pub fn set_customization(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let function = function_of(args)?;
    let before = working.inconsistencies();
    let entry = tracked_mut(working, &source, &function)?;
    entry.configuration = args.get("configuration").cloned();
    working.check_consistent(&before)?;
    Ok(success())
}

/// `create_function_permission`: lets `role` call the function. As in Hasura, the role must be
/// able to select from the table the function returns.
pub fn create_permission(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let (source, function, role) = permission_args(args)?;
    let name = graft_catalog::QualifiedName {
        schema: function.schema.clone(),
        name: function.name.clone(),
    };
    let returned = match working.catalog(&source)?.function_overloads(&name) {
        [single] => single.return_table.clone(),
        _ => None,
    };
    let entry = tracked_mut(working, &source, &function)?;
    if entry.permissions.iter().any(|p| p.role == role) {
        return Err(ApiError::new(
            "already-exists",
            format!("permission of role \"{role}\" already exists for function \"{function}\""),
        )
        .at("$.args"));
    }
    let Some(returned) = returned else {
        return Err(ApiError::new(
            "not-supported",
            format!("function \"{function}\" does not return rows of a table"),
        )
        .at("$.args"));
    };
    let table = QualifiedTable::new(&returned.schema, &returned.name);
    // Inherited roles count with the select permission they derive from their parents.
    let resolved = graft_schema::resolve(&working.metadata, &working.catalogs);
    let can_select = resolved
        .model
        .source(&source)
        .and_then(|s| s.table(&table))
        .and_then(|t| t.permissions.get(&role))
        .is_some_and(|p| p.select.is_some());
    if !can_select {
        return Err(ApiError::new(
            "not-supported",
            format!(
                "function permission can only be added when the role \"{role}\" has a select permission on the table \"{table}\" the function returns"
            ),
        )
        .at("$.args"));
    }
    tracked_mut(working, &source, &function)?
        .permissions
        .push(FunctionPermission { role });
    Ok(success())
}

/// `drop_function_permission`.
pub fn drop_permission(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let (source, function, role) = permission_args(args)?;
    let entry = tracked_mut(working, &source, &function)?;
    if !entry.permissions.iter().any(|p| p.role == role) {
        return Err(ApiError::new(
            "not-exists",
            format!("permission of role \"{role}\" does not exist for function \"{function}\""),
        )
        .at("$.args"));
    }
    entry.permissions.retain(|p| p.role != role);
    Ok(success())
}

fn permission_args(args: &Value) -> Result<(String, QualifiedFunction, String), ApiError> {
    require_object(args)?;
    let role = args
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::parse_failed("the key 'role' was not present").at("$.args"))?
        .to_string();
    Ok((source_of(args), function_of(args)?, role))
}

fn tracked_mut<'w>(
    working: &'w mut Working<'_>,
    source: &str,
    function: &QualifiedFunction,
) -> Result<&'w mut FunctionEntry, ApiError> {
    working
        .source_mut(source)?
        .functions
        .iter_mut()
        .find(|f| &f.function == function)
        .ok_or_else(|| {
            ApiError::new(
                "not-exists",
                format!("function \"{function}\" is not tracked"),
            )
            .at("$.args")
        })
}
