//! Role permissions on tables: created only if their expressions and columns resolve.

use super::args::{parse_args, require_object, source_of, table_of};
use super::{Working, success};
use crate::error::ApiError;
use graft_metadata::{PermissionEntry, TableEntry};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Deserialize)]
struct CreateArgs {
    role: String,
    permission: Value,
    #[serde(default)]
    comment: Option<String>,
}

fn kind_of(command: &str) -> &str {
    command
        .trim_start_matches("create_")
        .trim_start_matches("drop_")
        .trim_end_matches("_permission")
}

pub fn create(working: &mut Working<'_>, command: &str, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let CreateArgs {
        role,
        permission,
        comment,
    } = parse_args(args)?;
    if role == graft_schema::ADMIN_ROLE {
        return Err(ApiError::new(
            "constraint-violation",
            "cannot define permission for admin role",
        )
        .at("$.args.role"));
    }
    let kind = kind_of(command).to_string();
    let before = working.inconsistencies();
    let entry = working.table_mut(&source, &table)?;
    let exists = match kind.as_str() {
        "select" => add(&mut entry.select_permissions, &role, permission, comment)?,
        "insert" => add(&mut entry.insert_permissions, &role, permission, comment)?,
        "update" => add(&mut entry.update_permissions, &role, permission, comment)?,
        _ => add(&mut entry.delete_permissions, &role, permission, comment)?,
    };
    if exists {
        return Err(ApiError::new(
            "already-exists",
            format!("{kind} permission already defined on table \"{table}\" with role \"{role}\""),
        )
        .at("$.args"));
    }
    working.check_consistent(&before)?;
    Ok(success())
}

/// Adds the permission unless the role has one; returns whether it already existed.
fn add<P: DeserializeOwned>(
    list: &mut Vec<PermissionEntry<P>>,
    role: &str,
    permission: Value,
    comment: Option<String>,
) -> Result<bool, ApiError> {
    if list.iter().any(|p| p.role == role) {
        return Ok(true);
    }
    let permission: P = serde_path_to_error::deserialize(&permission).map_err(|e| {
        let inner = e.path().to_string();
        ApiError::parse_failed(e.into_inner().to_string()).at(if inner == "." {
            "$.args.permission".to_string()
        } else {
            format!("$.args.permission.{inner}")
        })
    })?;
    list.push(PermissionEntry {
        role: role.to_string(),
        permission,
        comment,
    });
    Ok(false)
}

#[derive(Deserialize)]
struct DropArgs {
    role: String,
}

pub fn drop(working: &mut Working<'_>, command: &str, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let DropArgs { role } = parse_args(args)?;
    let kind = kind_of(command).to_string();
    let entry = working.table_mut(&source, &table)?;
    if !remove(entry, &kind, &role) {
        return Err(ApiError::new(
            "not-exists",
            format!(
                "permission-type \"{kind}\" for role \"{role}\" does not exist on table \"{table}\""
            ),
        )
        .at("$.args"));
    }
    Ok(success())
}

fn remove(entry: &mut TableEntry, kind: &str, role: &str) -> bool {
    fn retain<P>(list: &mut Vec<PermissionEntry<P>>, role: &str) -> bool {
        let before = list.len();
        list.retain(|p| p.role != role);
        list.len() != before
    }
    match kind {
        "select" => retain(&mut entry.select_permissions, role),
        "insert" => retain(&mut entry.insert_permissions, role),
        "update" => retain(&mut entry.update_permissions, role),
        _ => retain(&mut entry.delete_permissions, role),
    }
}

#[derive(Deserialize)]
struct CommentArgs {
    role: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    comment: Option<String>,
}

pub fn set_comment(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let CommentArgs {
        role,
        kind,
        comment,
    } = parse_args(args)?;
    let entry = working.table_mut(&source, &table)?;
    fn set<P>(list: &mut [PermissionEntry<P>], role: &str, comment: Option<String>) -> bool {
        match list.iter_mut().find(|p| p.role == role) {
            Some(p) => {
                p.comment = comment;
                true
            }
            None => false,
        }
    }
    let found = match kind.as_str() {
        "select" => set(&mut entry.select_permissions, &role, comment),
        "insert" => set(&mut entry.insert_permissions, &role, comment),
        "update" => set(&mut entry.update_permissions, &role, comment),
        "delete" => set(&mut entry.delete_permissions, &role, comment),
        other => {
            return Err(
                ApiError::parse_failed(format!("unknown permission type \"{other}\""))
                    .at("$.args.type"),
            );
        }
    };
    if found {
        Ok(success())
    } else {
        Err(ApiError::new(
            "not-exists",
            format!(
                "permission-type \"{kind}\" for role \"{role}\" does not exist on table \"{table}\""
            ),
        )
        .at("$.args"))
    }
}
