//! Tracking tables and views, and their table-level configuration.

use super::args::{parse_args, require_object, source_of, table_of};
use super::objects::remove_dependents;
use super::{Working, success};
use crate::error::ApiError;
use graft_catalog::{PgTypeKind, QualifiedName};
use graft_metadata::{QualifiedTable, TableConfiguration, TableEntry};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

fn catalog_name(table: &QualifiedTable) -> QualifiedName {
    QualifiedName {
        schema: table.schema.clone(),
        name: table.name.clone(),
    }
}

#[derive(Deserialize)]
struct TrackArgs {
    #[serde(default)]
    is_enum: bool,
    #[serde(default)]
    configuration: Option<TableConfiguration>,
}

pub async fn track(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    let source = source_of(args);
    let table = table_of(args)?;
    let extra: TrackArgs = if args.is_string() {
        TrackArgs {
            is_enum: false,
            configuration: None,
        }
    } else {
        require_object(args)?;
        parse_args(args)?
    };
    if working.source(&source)?.table(&table).is_some() {
        return Err(ApiError::new(
            "already-tracked",
            format!("view/table already tracked: \"{table}\""),
        )
        .at("$.args"));
    }
    if working
        .catalog(&source)?
        .table(&catalog_name(&table))
        .is_none()
    {
        // The database may have changed outside graft since the catalog was read.
        working.refresh_catalog(&source).await?;
    }
    if working
        .catalog(&source)?
        .table(&catalog_name(&table))
        .is_none()
    {
        return Err(ApiError::new(
            "not-exists",
            format!("no such table/view exists in source: \"{table}\""),
        )
        .at("$.args"));
    }
    let graphql_name = extra
        .configuration
        .as_ref()
        .and_then(|c| c.custom_name.clone())
        .unwrap_or_else(|| default_graphql_name(&table));
    let source_metadata = working.source(&source)?;
    if source_metadata.functions.iter().any(|f| {
        default_graphql_name(&QualifiedTable::new(&f.function.schema, &f.function.name))
            == graphql_name
    }) {
        return Err(ApiError::new(
            "remote-schema-conflicts",
            format!("a function with the GraphQL name \"{graphql_name}\" is already tracked"),
        )
        .at("$.args"));
    }
    let before = working.inconsistencies();
    let mut entry = TableEntry::new(table);
    entry.is_enum = extra.is_enum;
    entry.configuration = extra.configuration;
    working.source_mut(&source)?.tables.push(entry);
    working.check_consistent(&before)?;
    if let Err(conflict) = super::conflicts::check_root_fields(working) {
        working.source_mut(&source)?.tables.pop();
        return Err(conflict);
    }
    Ok(success())
}

/// The GraphQL name Hasura gives a table: its name, prefixed by the schema outside `public`.
pub fn default_graphql_name(table: &QualifiedTable) -> String {
    if table.schema == "public" {
        table.name.clone()
    } else {
        format!("{}_{}", table.schema, table.name)
    }
}

#[derive(Deserialize)]
struct UntrackArgs {
    #[serde(default)]
    cascade: bool,
}

pub fn untrack(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let UntrackArgs { cascade } = parse_args(args)?;
    if working.source(&source)?.table(&table).is_none() {
        return Err(ApiError::new(
            "already-untracked",
            format!("view/table already untracked: \"{table}\""),
        )
        .at("$.args"));
    }
    let before = working.inconsistencies();
    working
        .source_mut(&source)?
        .tables
        .retain(|t| t.table != table);
    remove_dependents(working, &before, cascade)?;
    Ok(success())
}

#[derive(Deserialize)]
struct CustomizationArgs {
    #[serde(default)]
    configuration: TableConfiguration,
}

pub fn set_customization(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let CustomizationArgs { configuration } = parse_args(args)?;
    set_configuration(working, &source, &table, configuration)
}

#[derive(Deserialize)]
struct CustomFieldsArgs {
    #[serde(default)]
    custom_root_fields: IndexMap<String, Value>,
    #[serde(default)]
    custom_column_names: IndexMap<String, String>,
}

/// v1 `set_table_custom_fields`: the older spelling of `set_table_customization`.
pub fn set_custom_fields(
    working: &mut Working<'_>,
    args: &Value,
    _version: u64,
) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let CustomFieldsArgs {
        custom_root_fields,
        custom_column_names,
    } = parse_args(args)?;
    let existing = working
        .table(&source, &table)?
        .configuration
        .clone()
        .unwrap_or_default();
    let configuration = TableConfiguration {
        custom_name: existing.custom_name,
        custom_root_fields,
        column_config: custom_column_names
            .into_iter()
            .map(|(column, name)| {
                (
                    column,
                    graft_metadata::ColumnConfig {
                        custom_name: Some(name),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        custom_column_names: IndexMap::new(),
        comment: existing.comment,
        extra: existing.extra,
    };
    set_configuration(working, &source, &table, configuration)
}

fn set_configuration(
    working: &mut Working<'_>,
    source: &str,
    table: &QualifiedTable,
    configuration: TableConfiguration,
) -> Result<Value, ApiError> {
    validate_configuration(working, source, table, &configuration)?;
    let before = working.inconsistencies();
    working.table_mut(source, table)?.configuration = Some(configuration);
    working.check_consistent(&before)?;
    Ok(success())
}

fn validate_configuration(
    working: &Working<'_>,
    source: &str,
    table: &QualifiedTable,
    configuration: &TableConfiguration,
) -> Result<(), ApiError> {
    let info = working
        .catalog(source)?
        .table(&catalog_name(table))
        .ok_or_else(|| super::table_not_tracked(table))?;
    working.table(source, table)?;
    let mut seen: Vec<String> = Vec::new();
    for column in &info.columns {
        let name = configuration
            .column_custom_name(&column.name)
            .unwrap_or(&column.name)
            .to_string();
        if seen.contains(&name) {
            return Err(ApiError::new(
                "not-supported",
                format!("the following custom column names conflict with existing columns: {name}"),
            )
            .at("$.args"));
        }
        seen.push(name);
    }
    let entry = working.table(source, table)?;
    if let Some(clash) = seen
        .iter()
        .find(|name| entry.field_names().any(|f| f == name.as_str()))
    {
        return Err(ApiError::new(
            "not-supported",
            format!(
                "the following custom column names conflict with existing relationships: {clash}"
            ),
        )
        .at("$.args"));
    }
    for column in configuration
        .column_config
        .keys()
        .chain(configuration.custom_column_names.keys())
    {
        if !info.columns.iter().any(|c| &c.name == column) {
            return Err(ApiError::new(
                "not-exists",
                format!("column \"{column}\" does not exist in table \"{table}\""),
            )
            .at("$.args"));
        }
    }
    let mut root_names: Vec<&str> = Vec::new();
    for value in configuration.custom_root_fields.values() {
        let name = match value {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("name").and_then(Value::as_str),
            _ => None,
        };
        if let Some(name) = name {
            if root_names.contains(&name) {
                return Err(ApiError::new(
                    "not-supported",
                    format!("the following custom root field names are duplicated: \"{name}\""),
                )
                .at("$.args"));
            }
            root_names.push(name);
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct IsEnumArgs {
    is_enum: bool,
}

pub fn set_is_enum(working: &mut Working<'_>, args: &Value) -> Result<Value, ApiError> {
    require_object(args)?;
    let source = source_of(args);
    let table = table_of(args)?;
    let IsEnumArgs { is_enum } = parse_args(args)?;
    working.table(&source, &table)?;
    if is_enum {
        check_enum_table(working, &source, &table)?;
    }
    working.table_mut(&source, &table)?.is_enum = is_enum;
    Ok(success())
}

/// Hasura's rules for enum tables: a single-column text primary key and at most one other
/// column (a comment).
fn check_enum_table(
    working: &Working<'_>,
    source: &str,
    table: &QualifiedTable,
) -> Result<(), ApiError> {
    let info = working
        .catalog(source)?
        .table(&catalog_name(table))
        .ok_or_else(|| super::table_not_tracked(table))?;
    let mut problems = Vec::new();
    match &info.primary_key {
        None => problems.push("the table must have a primary key".to_string()),
        Some(pk) if pk.columns.len() != 1 => problems.push(format!(
            "the table's primary key must not span multiple columns ({})",
            pk.columns.join(", ")
        )),
        Some(pk) => {
            let column = info.columns.iter().find(|c| c.name == pk.columns[0]);
            let is_text = column.is_some_and(|c| {
                c.pg_type.kind != PgTypeKind::Array
                    && matches!(
                        c.pg_type.name.as_str(),
                        "text" | "varchar" | "bpchar" | "citext" | "name"
                    )
            });
            if !is_text {
                problems.push(format!(
                    "the table's primary key column ({}) must have type \"text\"",
                    pk.columns[0]
                ));
            }
        }
    }
    if info.columns.len() > 2 {
        problems.push("the table must have exactly one primary key and optionally one comment column, not more".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            "constraint-violation",
            format!(
                "the table \"{table}\" cannot be used as an enum because {}",
                problems.join("; ")
            ),
        )
        .at("$.args"))
    }
}
