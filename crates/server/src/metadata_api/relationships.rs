//! Object and array relationships: created only if they resolve against the catalog.

use super::args::{parse_args, require_object, source_of, table_of};
use super::objects::remove_dependents;
use super::{Working, success};
use crate::error::ApiError;
use graft_metadata::{ArrayRelationshipUsing, ObjectRelationshipUsing, Relationship};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct CreateArgs {
    name: String,
    using: Value,
    #[serde(default)]
    comment: Option<String>,
}

pub fn create(working: &mut Working<'_>, args: &Value, is_array: bool) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let CreateArgs {
        name,
        using,
        comment,
    } = parse_args(args)?;
    let entry = working.table(&source, &table)?;
    if entry.field_names().any(|n| n == name) {
        return Err(ApiError::new(
            "already-exists",
            format!("relationship \"{name}\" already exists on table \"{table}\""),
        )
        .at("$.args.name"));
    }
    if working
        .catalog(&source)?
        .table(&graft_catalog::QualifiedName {
            schema: table.schema.clone(),
            name: table.name.clone(),
        })
        .is_some_and(|t| t.columns.iter().any(|c| c.name == name))
        || entry_custom_names(working.table(&source, &table)?).any(|n| n == name)
    {
        return Err(ApiError::new(
            "already-exists",
            format!("column/relationship \"{name}\" of table \"{table}\" already exists"),
        )
        .at("$.args.name"));
    }
    let parse_error =
        |e: serde_json::Error| ApiError::parse_failed(e.to_string()).at("$.args.using");
    let before = working.inconsistencies();
    let entry = working.table_mut(&source, &table)?;
    if is_array {
        let using: ArrayRelationshipUsing = serde_json::from_value(using).map_err(parse_error)?;
        entry.array_relationships.push(Relationship {
            name,
            using,
            comment,
        });
    } else {
        let using: ObjectRelationshipUsing = serde_json::from_value(using).map_err(parse_error)?;
        entry.object_relationships.push(Relationship {
            name,
            using,
            comment,
        });
    }
    working.check_consistent(&before)?;
    Ok(success())
}

#[derive(Deserialize)]
struct DropArgs {
    relationship: String,
    #[serde(default)]
    cascade: bool,
}

pub fn drop(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let DropArgs {
        relationship,
        cascade,
    } = parse_args(args)?;
    let before = working.inconsistencies();
    let entry = working.table_mut(&source, &table)?;
    let count = entry.object_relationships.len() + entry.array_relationships.len();
    entry
        .object_relationships
        .retain(|r| r.name != relationship);
    entry.array_relationships.retain(|r| r.name != relationship);
    if entry.object_relationships.len() + entry.array_relationships.len() == count {
        return Err(ApiError::new(
            "not-exists",
            format!("relationship \"{relationship}\" does not exist on table \"{table}\""),
        )
        .at("$.args.relationship"));
    }
    remove_dependents(working, &before, cascade)?;
    Ok(success())
}

#[derive(Deserialize)]
struct RenameArgs {
    name: String,
    new_name: String,
}

pub fn rename(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let RenameArgs { name, new_name } = parse_args(args)?;
    let entry = working.table(&source, &table)?;
    if entry.field_names().any(|n| n == new_name) {
        return Err(ApiError::new(
            "already-exists",
            format!("relationship \"{new_name}\" already exists on table \"{table}\""),
        )
        .at("$.args.new_name"));
    }
    let entry = working.table_mut(&source, &table)?;
    let mut found = false;
    for r in &mut entry.object_relationships {
        if r.name == name {
            r.name = new_name.clone();
            found = true;
        }
    }
    for r in &mut entry.array_relationships {
        if r.name == name {
            r.name = new_name.clone();
            found = true;
        }
    }
    if !found {
        return Err(ApiError::new(
            "not-exists",
            format!("relationship \"{name}\" does not exist on table \"{table}\""),
        )
        .at("$.args.name"));
    }
    Ok(success())
}

#[derive(Deserialize)]
struct CommentArgs {
    relationship: String,
    #[serde(default)]
    comment: Option<String>,
}

pub fn set_comment(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let CommentArgs {
        relationship,
        comment,
    } = parse_args(args)?;
    let entry = working.table_mut(&source, &table)?;
    let target = entry
        .object_relationships
        .iter_mut()
        .map(|r| (&r.name, &mut r.comment))
        .chain(
            entry
                .array_relationships
                .iter_mut()
                .map(|r| (&r.name, &mut r.comment)),
        )
        .find(|(n, _)| **n == relationship);
    match target {
        Some((_, slot)) => {
            *slot = comment;
            Ok(success())
        }
        None => Err(ApiError::new(
            "not-exists",
            format!("relationship \"{relationship}\" does not exist on table \"{table}\""),
        )
        .at("$.args.relationship")),
    }
}

/// Custom GraphQL names of the table's columns, which relationships may not reuse.
fn entry_custom_names(entry: &graft_metadata::TableEntry) -> impl Iterator<Item = &str> {
    entry.configuration.iter().flat_map(|c| {
        c.column_config
            .values()
            .filter_map(|cc| cc.custom_name.as_deref())
            .chain(c.custom_column_names.values().map(String::as_str))
    })
}
