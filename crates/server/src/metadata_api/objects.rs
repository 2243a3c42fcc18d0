//! The remaining metadata objects (computed fields, inherited roles, sources), the
//! whole-document commands, and dependency handling shared by every command that removes
//! something.

use super::args::{parse_args, require_object, source_of};
use super::{Working, success};
use crate::catalog_store;
use crate::error::ApiError;
use crate::state::{build_cache, source_url};
use graft_metadata::{
    ComputedField, ComputedFieldDefinition, InheritedRole, Metadata, QualifiedTable, Source,
};
use graft_schema::{Inconsistency, ObjectId, PermissionKind};
use serde::Deserialize;
use serde_json::{Value, json};

/// After something was removed, the objects that depended on it show up as new
/// inconsistencies. Without `cascade` that is Hasura's `dependency-error`; with it they are
/// removed too, until nothing new is inconsistent.
pub fn remove_dependents(
    working: &mut Working<'_>,
    before: &[Inconsistency],
    cascade: bool,
) -> Result<(), ApiError> {
    for _ in 0..32 {
        let new: Vec<Inconsistency> = working
            .inconsistencies()
            .into_iter()
            .filter(|i| i.object.refuses_commands())
            .filter(|i| !before.iter().any(|b| b.object == i.object))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        if !cascade {
            let names: Vec<String> = new.iter().map(|i| i.object.to_string()).collect();
            return Err(ApiError::new(
                "dependency-error",
                format!(
                    "cannot drop due to the following dependent objects: {}",
                    names.join(", ")
                ),
            )
            .at("$.args"));
        }
        for inconsistency in new {
            drop_object(&mut working.metadata, &inconsistency.object);
        }
        working.dirty = true;
    }
    Err(ApiError::internal("dependency removal did not converge"))
}

/// Removes one object from the metadata document.
pub fn drop_object(metadata: &mut Metadata, object: &ObjectId) {
    match object {
        ObjectId::Source(name) => {
            metadata.sources.retain(|s| &s.name != name);
            return;
        }
        ObjectId::InheritedRole(role) => {
            metadata.inherited_roles.retain(|r| &r.role_name != role);
            return;
        }
        _ => {}
    }
    let Some(source) = metadata.source_mut(object.source()) else {
        return;
    };
    match object {
        // Handled above; a derived permission conflict is not in the document.
        ObjectId::Source(_)
        | ObjectId::InheritedRole(_)
        | ObjectId::InheritedRolePermission { .. } => {}
        ObjectId::Table { table, .. } => source.tables.retain(|t| &t.table != table),
        ObjectId::Function { function, .. } => source.functions.retain(|f| &f.function != function),
        ObjectId::Relationship { table, name, .. } => {
            if let Some(entry) = source.table_mut(table) {
                entry.object_relationships.retain(|r| &r.name != name);
                entry.array_relationships.retain(|r| &r.name != name);
            }
        }
        ObjectId::ComputedField { table, name, .. } => {
            if let Some(entry) = source.table_mut(table) {
                entry.computed_fields.retain(|c| &c.name != name);
            }
        }
        ObjectId::Permission {
            table, role, kind, ..
        } => {
            if let Some(entry) = source.table_mut(table) {
                match kind {
                    PermissionKind::Select => entry.select_permissions.retain(|p| &p.role != role),
                    PermissionKind::Insert => entry.insert_permissions.retain(|p| &p.role != role),
                    PermissionKind::Update => entry.update_permissions.retain(|p| &p.role != role),
                    PermissionKind::Delete => entry.delete_permissions.retain(|p| &p.role != role),
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ComputedFieldArgs {
    table: QualifiedTable,
    name: String,
    definition: ComputedFieldDefinition,
    #[serde(default)]
    comment: Option<String>,
}

pub fn add_computed_field(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let ComputedFieldArgs {
        table,
        name,
        definition,
        comment,
    } = parse_args(args)?;
    let entry = working.table(&source, &table)?;
    if entry.field_names().any(|n| n == name) {
        return Err(ApiError::new(
            "already-exists",
            format!("computed field \"{name}\" already exists on table \"{table}\""),
        )
        .at("$.args.name"));
    }
    let before = working.inconsistencies();
    working
        .table_mut(&source, &table)?
        .computed_fields
        .push(ComputedField {
            name,
            definition,
            comment,
        });
    working.check_consistent(&before)?;
    Ok(success())
}

#[derive(Deserialize)]
struct DropComputedFieldArgs {
    table: QualifiedTable,
    name: String,
    #[serde(default)]
    cascade: bool,
}

pub fn drop_computed_field(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let DropComputedFieldArgs {
        table,
        name,
        cascade,
    } = parse_args(args)?;
    let dependents: Vec<String> = working
        .table(&source, &table)?
        .select_permissions
        .iter()
        .filter(|p| p.permission.computed_fields.contains(&name))
        .map(|p| {
            format!(
                "permission {table}.{}.select in source \"{source}\"",
                p.role
            )
        })
        .collect();
    if !dependents.is_empty() && !cascade {
        return Err(ApiError::new(
            "dependency-error",
            format!(
                "cannot drop due to the following dependent objects: {}",
                dependents.join(", ")
            ),
        )
        .at("$.args"));
    }
    let entry = working.table_mut(&source, &table)?;
    let count = entry.computed_fields.len();
    entry.computed_fields.retain(|c| c.name != name);
    if entry.computed_fields.len() == count {
        return Err(ApiError::new(
            "not-exists",
            format!("computed field \"{name}\" does not exist on table \"{table}\""),
        )
        .at("$.args.name"));
    }
    for p in &mut entry.select_permissions {
        p.permission.computed_fields.retain(|c| c != &name);
    }
    Ok(success())
}

pub fn add_inherited_role(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let role: InheritedRole = parse_args(args)?;
    if working
        .metadata
        .inherited_roles
        .iter()
        .any(|r| r.role_name == role.role_name)
    {
        return Err(ApiError::new(
            "already-exists",
            format!(
                "inherited role with name \"{}\" already exists",
                role.role_name
            ),
        )
        .at("$.args"));
    }
    let before = working.inconsistencies();
    working.metadata.inherited_roles.push(role);
    // A cycle of inherited roles cannot be resolved.
    working.check_consistent(&before)?;
    working.dirty = true;
    Ok(success())
}

#[derive(Deserialize)]
struct RoleNameArgs {
    role_name: String,
}

pub fn drop_inherited_role(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let RoleNameArgs { role_name } = parse_args(args)?;
    let count = working.metadata.inherited_roles.len();
    working
        .metadata
        .inherited_roles
        .retain(|r| r.role_name != role_name);
    if count == working.metadata.inherited_roles.len() {
        return Err(ApiError::new(
            "not-exists",
            format!("inherited role \"{role_name}\" does not exist"),
        )
        .at("$.args"));
    }
    working.dirty = true;
    Ok(success())
}

#[derive(Deserialize)]
struct AddSourceArgs {
    name: String,
    configuration: Value,
    #[serde(default)]
    replace_configuration: bool,
}

pub async fn add_source(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let AddSourceArgs {
        name,
        configuration,
        replace_configuration,
    } = parse_args(args)?;
    if working.metadata.source(&name).is_some() && !replace_configuration {
        return Err(ApiError::new(
            "already-exists",
            format!("source with name \"{name}\" already exists"),
        )
        .at("$.args"));
    }
    if source_url(&working.state.config, &configuration).is_none() {
        return Err(ApiError::new(
            "invalid-configuration",
            "the source's connection_info.database_url is missing or its environment variable is not set",
        )
        .at("$.args.configuration"));
    }
    match working.metadata.source_mut(&name) {
        Some(existing) => existing.configuration = configuration,
        None => working.metadata.sources.push(Source {
            name,
            kind: "postgres".to_string(),
            tables: Vec::new(),
            functions: Vec::new(),
            configuration,
            extra: Default::default(),
        }),
    }
    working.dirty = true;
    refresh_all(working).await;
    Ok(success())
}

#[derive(Deserialize)]
struct DropSourceArgs {
    name: String,
}

pub fn drop_source(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let DropSourceArgs { name } = parse_args(args)?;
    working.source(&name)?;
    working.metadata.sources.retain(|s| s.name != name);
    working.catalogs.remove(&name);
    working.dirty = true;
    Ok(success())
}

/// Re-reads every source's catalog into the working state (new sources connect here).
async fn refresh_all(working: &mut Working<'_>) {
    let cache = working.state.current();
    let built = build_cache(
        &working.state.config,
        working.metadata.clone(),
        working.base_version,
        &cache.pools,
    )
    .await;
    working.catalogs = built.catalogs;
}

pub async fn replace_metadata(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    // Both `{"metadata": {...}, "allow_inconsistent_metadata": bool}` and the bare document.
    let (document, allow_inconsistent) = match args.get("metadata") {
        Some(doc) => (
            doc.clone(),
            args.get("allow_inconsistent_metadata")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        None => (args.clone(), false),
    };
    let metadata = Metadata::from_json(document)
        .map_err(|e| ApiError::parse_failed(e.to_string()).at("$.args"))?;
    working.metadata = metadata;
    working.dirty = true;
    refresh_all(working).await;
    let inconsistencies = working.inconsistencies();
    if !inconsistencies.is_empty() && !allow_inconsistent {
        let reasons: Vec<Value> = inconsistencies.iter().map(Inconsistency::to_json).collect();
        return Err(ApiError::new(
            "unexpected",
            format!(
                "cannot continue due to inconsistent metadata: {}",
                reasons
                    .iter()
                    .map(|r| r["reason"].as_str().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
        .at("$.args"));
    }
    if allow_inconsistent {
        return Ok(json!({
            "is_consistent": inconsistencies.is_empty(),
            "inconsistent_objects": inconsistencies.iter().map(Inconsistency::to_json).collect::<Vec<_>>(),
        }));
    }
    Ok(success())
}

pub async fn reload_metadata(working: &mut Working<'_>, _args: &Value) -> Result<Value, ApiError> {
    working.reload = true;
    let cache = working.state.reload().await;
    working.catalogs = cache.catalogs.clone();
    let mut response =
        json!({"message": "success", "is_consistent": cache.inconsistencies.is_empty()});
    // Hasura lists the objects only when there are some.
    if !cache.inconsistencies.is_empty() {
        response["inconsistent_objects"] = Value::Array(
            cache
                .inconsistencies
                .iter()
                .map(Inconsistency::to_json)
                .collect(),
        );
    }
    Ok(response)
}

/// Keeps the sources (their connections) and removes everything tracked in them.
pub fn clear_metadata(working: &mut Working<'_>) -> Result<Value, ApiError> {
    let mut metadata = Metadata::default();
    for source in &working.metadata.sources {
        metadata.sources.push(Source {
            tables: Vec::new(),
            functions: Vec::new(),
            ..source.clone()
        });
    }
    working.metadata = metadata;
    working.dirty = true;
    Ok(success())
}

pub fn inconsistent_metadata(working: &Working<'_>) -> Value {
    let inconsistencies = working.inconsistencies();
    json!({
        "is_consistent": inconsistencies.is_empty(),
        "inconsistent_objects": inconsistencies.iter().map(Inconsistency::to_json).collect::<Vec<_>>(),
    })
}

pub fn drop_inconsistent_metadata(working: &mut Working<'_>) -> Result<Value, ApiError> {
    let before = Vec::new();
    remove_dependents(working, &before, true)?;
    working.dirty = true;
    Ok(success())
}

pub async fn get_catalog_state(working: &Working<'_>) -> Result<Value, ApiError> {
    Ok(catalog_store::catalog_state(&working.state.metadata_pool).await?)
}

#[derive(Deserialize)]
struct CatalogStateArgs {
    #[serde(rename = "type")]
    kind: String,
    state: Value,
}

pub async fn set_catalog_state(working: &Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let CatalogStateArgs { kind, state } = parse_args(args)?;
    if kind != "cli" && kind != "console" {
        return Err(ApiError::parse_failed("expected \"cli\" or \"console\"").at("$.args.type"));
    }
    catalog_store::set_catalog_state(&working.state.metadata_pool, &kind, &state).await?;
    Ok(success())
}
