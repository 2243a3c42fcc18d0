//! Metadata + catalog → model, in named passes that each add one kind of object: tables, then
//! relationships (which need every table), then permissions (whose expressions may cross
//! relationships), then functions. A failing object becomes an inconsistency and is left out.

use crate::boolexp::{BoolExp, Parser, ValueContext};
use crate::inconsistency::{Inconsistency, ObjectId, PermissionKind};
use crate::inherited;
use crate::model::*;
use graft_catalog::{DbCatalog, QualifiedName};
use graft_metadata::{
    ArrayRelationshipUsing, Columns, ForeignKeyOn, InheritedRole, Metadata,
    ObjectRelationshipUsing, QualifiedTable, Source, TableEntry,
};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashMap;

pub struct ResolveOutput {
    pub model: Model,
    pub inconsistencies: Vec<Inconsistency>,
}

/// Resolves every source; a source without a catalog (its database could not be reached) is
/// reported as inconsistent.
pub fn resolve(metadata: &Metadata, catalogs: &HashMap<String, DbCatalog>) -> ResolveOutput {
    let mut model = Model::default();
    let mut inconsistencies = Vec::new();
    let inherited_roles = inherited::order_roles(&metadata.inherited_roles, &mut inconsistencies);
    for source in &metadata.sources {
        match catalogs.get(&source.name) {
            Some(catalog) => {
                let resolved =
                    resolve_source(source, catalog, &inherited_roles, &mut inconsistencies);
                model.sources.insert(source.name.clone(), resolved);
            }
            None => inconsistencies.push(Inconsistency {
                object: ObjectId::Source(source.name.clone()),
                reason: format!(
                    "could not connect to the database of source \"{}\"",
                    source.name
                ),
                definition: serde_json::to_value(source).unwrap_or(Value::Null),
            }),
        }
    }
    ResolveOutput {
        model,
        inconsistencies,
    }
}

fn catalog_name(table: &QualifiedTable) -> QualifiedName {
    QualifiedName {
        schema: table.schema.clone(),
        name: table.name.clone(),
    }
}

fn resolve_source(
    source: &Source,
    catalog: &DbCatalog,
    inherited_roles: &[&InheritedRole],
    out: &mut Vec<Inconsistency>,
) -> SourceModel {
    let mut model = SourceModel {
        name: source.name.clone(),
        ..SourceModel::default()
    };
    for entry in &source.tables {
        match catalog.table(&catalog_name(&entry.table)) {
            Some(table) => {
                model
                    .tables
                    .insert(entry.table.clone(), table_model(entry, table));
            }
            None => out.push(Inconsistency {
                object: ObjectId::Table {
                    source: source.name.clone(),
                    table: entry.table.clone(),
                },
                reason: format!("no such table/view exists in source: \"{}\"", entry.table),
                definition: serde_json::to_value(&entry.table).unwrap_or(Value::Null),
            }),
        }
    }
    for entry in &source.tables {
        add_relationships(&source.name, entry, catalog, &mut model, out);
    }
    for entry in &source.tables {
        add_computed_fields(&source.name, entry, catalog, &mut model, out);
    }
    for entry in &source.tables {
        add_permissions(&source.name, entry, &mut model, out);
    }
    for table in model.tables.values_mut() {
        inherited::derive_permissions(&source.name, table, inherited_roles, out);
    }
    for function in &source.functions {
        match crate::function::resolve_function(function, catalog) {
            Ok(mut resolved) => {
                inherited::derive_function_permission(&mut resolved, inherited_roles);
                model.functions.insert(function.function.clone(), resolved);
            }
            Err(reason) => out.push(Inconsistency {
                object: ObjectId::Function {
                    source: source.name.clone(),
                    function: function.function.clone(),
                },
                reason,
                definition: serde_json::to_value(function).unwrap_or(Value::Null),
            }),
        }
    }
    model
}

fn table_model(entry: &TableEntry, table: &graft_catalog::Table) -> TableModel {
    let configuration = entry.configuration.clone().unwrap_or_default();
    let columns = table
        .columns
        .iter()
        .map(|c| {
            let graphql_name = configuration
                .column_custom_name(&c.name)
                .unwrap_or(&c.name)
                .to_string();
            let info = ColumnInfo {
                name: c.name.clone(),
                graphql_name,
                pg_type: c.pg_type.clone(),
                is_nullable: c.is_nullable,
                has_default: c.has_default,
                is_generated: c.is_generated,
                description: c.description.clone(),
            };
            (c.name.clone(), info)
        })
        .collect();
    TableModel {
        name: entry.table.clone(),
        kind: table.kind,
        columns,
        primary_key: table
            .primary_key
            .as_ref()
            .map(|pk| pk.columns.clone())
            .unwrap_or_default(),
        primary_key_name: table.primary_key.as_ref().map(|pk| pk.name.clone()),
        unique_constraints: table.unique_constraints.clone(),
        relationships: IndexMap::new(),
        computed_fields: IndexMap::new(),
        permissions: IndexMap::new(),
        configuration,
        is_enum: entry.is_enum,
        description: table.description.clone(),
    }
}

fn add_relationships(
    source: &str,
    entry: &TableEntry,
    catalog: &DbCatalog,
    model: &mut SourceModel,
    out: &mut Vec<Inconsistency>,
) {
    if !model.tables.contains_key(&entry.table) {
        return;
    }
    let mut resolved = Vec::new();
    for rel in &entry.object_relationships {
        let id = ObjectId::Relationship {
            source: source.to_string(),
            table: entry.table.clone(),
            name: rel.name.clone(),
            is_array: false,
        };
        let result = object_relationship(&entry.table, &rel.using, catalog, model).map(
            |(target, mapping, nullable)| Relationship {
                name: rel.name.clone(),
                kind: RelationshipKind::Object,
                target,
                mapping,
                nullable,
                comment: rel.comment.clone(),
            },
        );
        resolved.push((id, serde_json::to_value(rel).unwrap_or(Value::Null), result));
    }
    for rel in &entry.array_relationships {
        let id = ObjectId::Relationship {
            source: source.to_string(),
            table: entry.table.clone(),
            name: rel.name.clone(),
            is_array: true,
        };
        let result = array_relationship(&entry.table, &rel.using, catalog, model).map(
            |(target, mapping)| Relationship {
                name: rel.name.clone(),
                kind: RelationshipKind::Array,
                target,
                mapping,
                nullable: false,
                comment: rel.comment.clone(),
            },
        );
        resolved.push((id, serde_json::to_value(rel).unwrap_or(Value::Null), result));
    }
    for (object, definition, result) in resolved {
        let Some(table) = model.tables.get_mut(&entry.table) else {
            return;
        };
        match result {
            Ok(rel) if table.columns.contains_key(&rel.name) => out.push(Inconsistency {
                object,
                reason: format!(
                    "relationship \"{}\" conflicts with column \"{}\" of table \"{}\"",
                    rel.name, rel.name, entry.table
                ),
                definition,
            }),
            Ok(rel) => {
                table.relationships.insert(rel.name.clone(), rel);
            }
            Err(reason) => out.push(Inconsistency {
                object,
                reason,
                definition,
            }),
        }
    }
}

type ResolvedObject = (QualifiedTable, Vec<(String, String)>, bool);

fn object_relationship(
    table: &QualifiedTable,
    using: &ObjectRelationshipUsing,
    catalog: &DbCatalog,
    model: &SourceModel,
) -> Result<ResolvedObject, String> {
    match using {
        ObjectRelationshipUsing::ForeignKeyConstraintOn(on) => match on.parts() {
            (None, columns) => {
                let info = catalog
                    .table(&catalog_name(table))
                    .ok_or_else(|| format!("table \"{table}\" does not exist"))?;
                let fk = info
                    .foreign_keys
                    .iter()
                    .find(|fk| same_set(&fk.columns, &columns))
                    .ok_or_else(|| {
                        format!(
                            "no foreign constraint exists on the given column(s) {} of table \"{table}\"",
                            columns.join(", ")
                        )
                    })?;
                let target = QualifiedTable::new(&fk.ref_table.schema, &fk.ref_table.name);
                require_tracked(model, &target)?;
                let nullable = fk.columns.iter().any(|c| {
                    info.columns
                        .iter()
                        .find(|col| &col.name == c)
                        .is_none_or(|col| col.is_nullable)
                });
                let mapping = fk
                    .columns
                    .iter()
                    .cloned()
                    .zip(fk.ref_columns.iter().cloned())
                    .collect();
                Ok((target, mapping, nullable))
            }
            (Some(remote), columns) => {
                let mapping = remote_foreign_key(table, remote, &columns, catalog)?;
                require_tracked(model, remote)?;
                Ok((remote.clone(), mapping, true))
            }
        },
        ObjectRelationshipUsing::ManualConfiguration(manual) => {
            manual_mapping(table, &manual.remote_table, &manual.column_mapping, model)
                .map(|mapping| (manual.remote_table.clone(), mapping, true))
        }
    }
}

fn array_relationship(
    table: &QualifiedTable,
    using: &ArrayRelationshipUsing,
    catalog: &DbCatalog,
    model: &SourceModel,
) -> Result<(QualifiedTable, Vec<(String, String)>), String> {
    match using {
        ArrayRelationshipUsing::ForeignKeyConstraintOn(on) => {
            let (remote, columns) = match on {
                ForeignKeyOn::Spec(_) => on.parts(),
                _ => return Err("expected an object with \"table\" and \"column\"".to_string()),
            };
            let remote = remote.ok_or_else(|| "key \"table\" not found".to_string())?;
            let mapping = remote_foreign_key(table, remote, &columns, catalog)?;
            require_tracked(model, remote)?;
            Ok((remote.clone(), mapping))
        }
        ArrayRelationshipUsing::ManualConfiguration(manual) => {
            manual_mapping(table, &manual.remote_table, &manual.column_mapping, model)
                .map(|mapping| (manual.remote_table.clone(), mapping))
        }
    }
}

/// The foreign key on `remote`'s `columns` that points at `table`, as (this, remote) pairs.
fn remote_foreign_key(
    table: &QualifiedTable,
    remote: &QualifiedTable,
    columns: &[String],
    catalog: &DbCatalog,
) -> Result<Vec<(String, String)>, String> {
    let info = catalog
        .table(&catalog_name(remote))
        .ok_or_else(|| format!("table \"{remote}\" does not exist"))?;
    let target = catalog_name(table);
    let fk = info
        .foreign_keys
        .iter()
        .find(|fk| fk.ref_table == target && same_set(&fk.columns, columns))
        .ok_or_else(|| {
            format!(
                "no foreign constraint exists on the given column(s) {} of table \"{remote}\" referencing \"{table}\"",
                columns.join(", ")
            )
        })?;
    Ok(fk
        .ref_columns
        .iter()
        .cloned()
        .zip(fk.columns.iter().cloned())
        .collect())
}

fn manual_mapping(
    table: &QualifiedTable,
    remote: &QualifiedTable,
    mapping: &IndexMap<String, String>,
    model: &SourceModel,
) -> Result<Vec<(String, String)>, String> {
    let this = model
        .table(table)
        .ok_or_else(|| format!("table \"{table}\" is not tracked"))?;
    let other = model
        .table(remote)
        .ok_or_else(|| format!("table \"{remote}\" is not tracked"))?;
    for (local, foreign) in mapping {
        if this.column(local).is_none() {
            return Err(format!(
                "table \"{table}\" does not have column \"{local}\""
            ));
        }
        if other.column(foreign).is_none() {
            return Err(format!(
                "table \"{remote}\" does not have column \"{foreign}\""
            ));
        }
    }
    Ok(mapping
        .iter()
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect())
}

fn require_tracked(model: &SourceModel, table: &QualifiedTable) -> Result<(), String> {
    if model.tables.contains_key(table) {
        Ok(())
    } else {
        Err(format!("table \"{table}\" is not tracked"))
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn add_permissions(
    source: &str,
    entry: &TableEntry,
    model: &mut SourceModel,
    out: &mut Vec<Inconsistency>,
) {
    let Some(table) = model.tables.get(&entry.table) else {
        return;
    };
    let parser = Parser::new(model, ValueContext::Permission);
    let mut granted: IndexMap<String, RolePermissions> = IndexMap::new();
    let id = |role: &str, kind| ObjectId::Permission {
        source: source.to_string(),
        table: entry.table.clone(),
        role: role.to_string(),
        kind,
    };
    let mut fail = |object, definition: Value, reason: String| {
        out.push(Inconsistency {
            object,
            reason,
            definition,
        })
    };
    for p in &entry.select_permissions {
        let definition = serde_json::to_value(p).unwrap_or(Value::Null);
        let result = columns_of(table, &p.permission.columns).and_then(|columns| {
            if let Some(missing) = p
                .permission
                .computed_fields
                .iter()
                .find(|c| !table.computed_fields.contains_key(c.as_str()))
            {
                return Err(format!(
                    "computed field \"{missing}\" does not exist in table \"{}\"",
                    table.name
                ));
            }
            if let Some(set_returning) = p.permission.computed_fields.iter().find(|c| {
                table.computed_fields.get(c.as_str()).is_some_and(|f| f.function.return_table.is_some())
            }) {
                let target = table.computed_fields[set_returning.as_str()]
                    .function
                    .return_table
                    .as_ref()
                    .map(|t| t.name.clone())
                    .unwrap_or_default();
                return Err(format!(
                    "in table \"{}\": in permission for role \"{}\": select permissions on computed field \"{set_returning}\" are auto-derived from the permissions on its returning table \"{target}\" and cannot be specified manually",
                    table.name, p.role
                ));
            }
            Ok(SelectPermissionInfo {
                columns,
                filter: parse(&parser, table, &p.permission.filter)?,
                limit: p.permission.limit,
                allow_aggregations: p.permission.allow_aggregations,
                computed_fields: p.permission.computed_fields.clone(),
                redacted: IndexMap::new(),
            })
        });
        match result {
            Ok(info) => granted.entry(p.role.clone()).or_default().select = Some(info),
            Err(reason) => fail(id(&p.role, PermissionKind::Select), definition, reason),
        }
    }
    for p in &entry.insert_permissions {
        let definition = serde_json::to_value(p).unwrap_or(Value::Null);
        let all = Columns::All;
        let result =
            columns_of(table, p.permission.columns.as_ref().unwrap_or(&all)).and_then(|columns| {
                Ok(InsertPermissionInfo {
                    columns,
                    check: parse(&parser, table, &p.permission.check)?,
                    set: p.permission.set.clone(),
                    backend_only: p.permission.backend_only,
                })
            });
        match result {
            Ok(info) => granted.entry(p.role.clone()).or_default().insert = Some(info),
            Err(reason) => fail(id(&p.role, PermissionKind::Insert), definition, reason),
        }
    }
    for p in &entry.update_permissions {
        let definition = serde_json::to_value(p).unwrap_or(Value::Null);
        let result = columns_of(table, &p.permission.columns).and_then(|columns| {
            let check = match &p.permission.check {
                Some(check) if !check.is_null() => Some(parse(&parser, table, check)?),
                _ => None,
            };
            Ok(UpdatePermissionInfo {
                columns,
                filter: parse(&parser, table, &p.permission.filter)?,
                check,
                set: p.permission.set.clone(),
                backend_only: p.permission.backend_only,
            })
        });
        match result {
            Ok(info) => granted.entry(p.role.clone()).or_default().update = Some(info),
            Err(reason) => fail(id(&p.role, PermissionKind::Update), definition, reason),
        }
    }
    for p in &entry.delete_permissions {
        let definition = serde_json::to_value(p).unwrap_or(Value::Null);
        match parse(&parser, table, &p.permission.filter) {
            Ok(filter) => {
                granted.entry(p.role.clone()).or_default().delete = Some(DeletePermissionInfo {
                    filter,
                    backend_only: p.permission.backend_only,
                })
            }
            Err(reason) => fail(id(&p.role, PermissionKind::Delete), definition, reason),
        }
    }
    if let Some(table) = model.tables.get_mut(&entry.table) {
        table.permissions = granted;
    }
}

fn add_computed_fields(
    source: &str,
    entry: &TableEntry,
    catalog: &DbCatalog,
    model: &mut SourceModel,
    out: &mut Vec<Inconsistency>,
) {
    let Some(table) = model.tables.get_mut(&entry.table) else {
        return;
    };
    for field in &entry.computed_fields {
        match crate::computed::resolve_computed_field(table, field, catalog) {
            Ok(info) => {
                table.computed_fields.insert(field.name.clone(), info);
            }
            Err(reason) => out.push(Inconsistency {
                object: ObjectId::ComputedField {
                    source: source.to_string(),
                    table: entry.table.clone(),
                    name: field.name.clone(),
                },
                reason,
                definition: serde_json::to_value(field).unwrap_or(Value::Null),
            }),
        }
    }
}

fn parse(parser: &Parser<'_>, table: &TableModel, json: &Value) -> Result<BoolExp, String> {
    parser.parse(table, json).map_err(|e| e.message)
}

fn columns_of(table: &TableModel, columns: &Columns) -> Result<Vec<String>, String> {
    match columns {
        Columns::All => Ok(table.columns.keys().cloned().collect()),
        Columns::List(list) => {
            for c in list {
                if table.column(c).is_none() {
                    return Err(format!(
                        "column \"{c}\" does not exist in table \"{}\"",
                        table.name
                    ));
                }
            }
            Ok(list.clone())
        }
    }
}
