//! Following DDL in the metadata: the catalog before and after a `run_sql` are compared by table
//! oid and column position, so a rename is a rename (not a drop and a create), and every place
//! the metadata names the renamed object is updated, including boolean expressions that reach
//! the table through relationships or `_exists`.

use crate::error::ApiError;
use graft_catalog::DbCatalog;
use graft_metadata::{
    ArrayRelationshipUsing, Columns, ForeignKeyOn, Metadata, ObjectRelationshipUsing,
    QualifiedTable, TableEntry,
};
use graft_schema::Model;
use serde_json::Value;

#[derive(Debug, Default)]
pub struct CatalogChanges {
    pub table_renames: Vec<(QualifiedTable, QualifiedTable)>,
    /// (table, after any table rename; old column name; new column name)
    pub column_renames: Vec<(QualifiedTable, String, String)>,
    /// (table, column) whose type changed.
    pub type_changes: Vec<(QualifiedTable, String)>,
    /// Functions whose signature is gone (dropped, or recreated with other arguments).
    pub dropped_functions: Vec<graft_metadata::QualifiedFunction>,
}

pub fn diff(old: &DbCatalog, new: &DbCatalog) -> CatalogChanges {
    let mut changes = CatalogChanges::default();
    let signature = |f: &graft_catalog::Function| -> Vec<String> {
        f.arguments
            .iter()
            .map(|a| a.pg_type.display.clone())
            .collect()
    };
    for (name, overloads) in &old.functions {
        let now = new.function_overloads(name);
        if overloads
            .iter()
            .any(|f| !now.iter().any(|g| signature(g) == signature(f)))
        {
            changes
                .dropped_functions
                .push(graft_metadata::QualifiedFunction::new(
                    &name.schema,
                    &name.name,
                ));
        }
    }
    for (old_name, old_table) in &old.tables {
        let Some((new_name, new_table)) = new.tables.iter().find(|(_, t)| t.oid == old_table.oid)
        else {
            continue;
        };
        let old_q = QualifiedTable::new(&old_name.schema, &old_name.name);
        let new_q = QualifiedTable::new(&new_name.schema, &new_name.name);
        if old_q != new_q {
            changes.table_renames.push((old_q, new_q.clone()));
        }
        for column in &old_table.columns {
            let Some(now) = new_table
                .columns
                .iter()
                .find(|c| c.position == column.position)
            else {
                continue;
            };
            if now.name != column.name && !old_table.columns.iter().any(|c| c.name == now.name) {
                changes
                    .column_renames
                    .push((new_q.clone(), column.name.clone(), now.name.clone()));
            }
            if now.pg_type.display != column.pg_type.display {
                changes.type_changes.push((new_q.clone(), now.name.clone()));
            }
        }
    }
    changes
}

/// Computed fields and tracked functions whose function was dropped or changed signature:
/// a dependency error, or (with cascade) removed.
pub fn check_dropped_functions(
    metadata: &mut Metadata,
    source: &str,
    changes: &CatalogChanges,
    cascade: bool,
) -> Result<bool, ApiError> {
    let Some(meta) = metadata.source_mut(source) else {
        return Ok(false);
    };
    let mut dependents = Vec::new();
    for entry in &meta.tables {
        for field in &entry.computed_fields {
            if changes
                .dropped_functions
                .contains(&field.definition.function)
            {
                dependents.push(format!(
                    "computed field {}.{} in source \"{source}\"",
                    entry.table, field.name
                ));
            }
        }
    }
    if dependents.is_empty() {
        return Ok(false);
    }
    if !cascade {
        return Err(ApiError::new(
            "dependency-error",
            format!(
                "cannot drop due to the following dependent objects: {}",
                dependents.join(", ")
            ),
        )
        .at("$.args"));
    }
    for entry in &mut meta.tables {
        entry
            .computed_fields
            .retain(|f| !changes.dropped_functions.contains(&f.definition.function));
    }
    Ok(true)
}

/// Hasura refuses to change the type of a column that permissions use.
pub fn check_type_changes(
    metadata: &Metadata,
    source: &str,
    changes: &CatalogChanges,
) -> Result<(), ApiError> {
    let Some(meta) = metadata.source(source) else {
        return Ok(());
    };
    for (table, column) in &changes.type_changes {
        let Some(entry) = meta.table(table) else {
            continue;
        };
        let mut dependents = Vec::new();
        let uses = |columns: Option<&Columns>, exprs: &[&Value]| {
            columns.is_some_and(|c| matches!(c, Columns::List(l) if l.contains(column)))
                || exprs.iter().any(|e| mentions_key(e, column))
        };
        for p in &entry.insert_permissions {
            if uses(p.permission.columns.as_ref(), &[&p.permission.check]) {
                dependents.push(format!(
                    "permission {table}.{}.insert in source \"{source}\"",
                    p.role
                ));
            }
        }
        for p in &entry.select_permissions {
            if uses(Some(&p.permission.columns), &[&p.permission.filter]) {
                dependents.push(format!(
                    "permission {table}.{}.select in source \"{source}\"",
                    p.role
                ));
            }
        }
        for p in &entry.update_permissions {
            if uses(Some(&p.permission.columns), &[&p.permission.filter]) {
                dependents.push(format!(
                    "permission {table}.{}.update in source \"{source}\"",
                    p.role
                ));
            }
        }
        for p in &entry.delete_permissions {
            if uses(None, &[&p.permission.filter]) {
                dependents.push(format!(
                    "permission {table}.{}.delete in source \"{source}\"",
                    p.role
                ));
            }
        }
        if !dependents.is_empty() {
            return Err(ApiError::new(
                "dependency-error",
                format!(
                    "cannot change type of column \"{column}\" in table \"{table}\" because of the following dependencies: {}",
                    dependents.join(", ")
                ),
            )
            .at("$.args"));
        }
    }
    Ok(())
}

fn mentions_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == key || mentions_key(v, key)),
        Value::Array(items) => items.iter().any(|v| mentions_key(v, key)),
        _ => false,
    }
}

/// Applies the renames to the metadata. `model` is the model before the DDL: it says which
/// table each relationship in a boolean expression leads to.
pub fn follow_renames(
    metadata: &mut Metadata,
    model: &Model,
    source: &str,
    changes: &CatalogChanges,
) -> bool {
    if changes.table_renames.is_empty() && changes.column_renames.is_empty() {
        return false;
    }
    let Some(meta) = metadata.source_mut(source) else {
        return false;
    };
    let source_model = model.source(source);
    // Column renames first, while tables still have the names the model knows.
    for (table, from, to) in &changes.column_renames {
        let old_table = changes
            .table_renames
            .iter()
            .find(|(_, new)| new == table)
            .map(|(old, _)| old.clone())
            .unwrap_or_else(|| table.clone());
        for entry in &mut meta.tables {
            let walker = RenameColumn {
                model: source_model,
                table: &old_table,
                from,
                to,
            };
            walker.in_entry(entry);
        }
    }
    for (from, to) in &changes.table_renames {
        for entry in &mut meta.tables {
            rename_table_in_entry(entry, from, to);
        }
    }
    true
}

fn rename_table_in_entry(entry: &mut TableEntry, from: &QualifiedTable, to: &QualifiedTable) {
    let rename = |t: &mut QualifiedTable| {
        if t == from {
            *t = to.clone();
        }
    };
    rename(&mut entry.table);
    for rel in &mut entry.object_relationships {
        match &mut rel.using {
            ObjectRelationshipUsing::ManualConfiguration(m) => rename(&mut m.remote_table),
            ObjectRelationshipUsing::ForeignKeyConstraintOn(ForeignKeyOn::Spec(s)) => {
                if let Some(t) = &mut s.table {
                    rename(t)
                }
            }
            _ => {}
        }
    }
    for rel in &mut entry.array_relationships {
        match &mut rel.using {
            ArrayRelationshipUsing::ManualConfiguration(m) => rename(&mut m.remote_table),
            ArrayRelationshipUsing::ForeignKeyConstraintOn(ForeignKeyOn::Spec(s)) => {
                if let Some(t) = &mut s.table {
                    rename(t)
                }
            }
            _ => {}
        }
    }
    let rename_exists = |value: &mut Value| rename_exists_table(value, from, to);
    for p in &mut entry.select_permissions {
        rename_exists(&mut p.permission.filter);
    }
    for p in &mut entry.insert_permissions {
        rename_exists(&mut p.permission.check);
    }
    for p in &mut entry.update_permissions {
        rename_exists(&mut p.permission.filter);
    }
    for p in &mut entry.delete_permissions {
        rename_exists(&mut p.permission.filter);
    }
}

fn rename_exists_table(value: &mut Value, from: &QualifiedTable, to: &QualifiedTable) {
    match value {
        Value::Object(map) => {
            if let Some(table) = map.get_mut("_table")
                && serde_json::from_value::<QualifiedTable>(table.clone())
                    .ok()
                    .as_ref()
                    == Some(from)
            {
                *table = serde_json::json!({"schema": to.schema, "name": to.name});
            }
            map.values_mut()
                .for_each(|v| rename_exists_table(v, from, to));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rename_exists_table(v, from, to)),
        _ => {}
    }
}

/// Renames one column of `table` wherever an entry names it.
struct RenameColumn<'a> {
    model: Option<&'a graft_schema::SourceModel>,
    table: &'a QualifiedTable,
    from: &'a str,
    to: &'a str,
}

impl RenameColumn<'_> {
    fn in_entry(&self, entry: &mut TableEntry) {
        let own = &entry.table == self.table;
        let here = entry.table.clone();
        if own {
            let rename_list = |columns: &mut Columns| {
                if let Columns::List(list) = columns {
                    list.iter_mut()
                        .filter(|c| c.as_str() == self.from)
                        .for_each(|c| *c = self.to.to_string());
                }
            };
            for p in &mut entry.select_permissions {
                rename_list(&mut p.permission.columns);
            }
            for p in &mut entry.insert_permissions {
                if let Some(c) = &mut p.permission.columns {
                    rename_list(c);
                }
                rename_map_key(&mut p.permission.set, self.from, self.to);
            }
            for p in &mut entry.update_permissions {
                rename_list(&mut p.permission.columns);
                rename_map_key(&mut p.permission.set, self.from, self.to);
            }
            for trigger in &mut entry.event_triggers {
                let definition = &mut trigger.definition;
                for spec in [
                    &mut definition.insert,
                    &mut definition.update,
                    &mut definition.delete,
                ]
                .into_iter()
                .flatten()
                {
                    rename_list(&mut spec.columns);
                    if let Some(payload) = &mut spec.payload {
                        rename_list(payload);
                    }
                }
            }
            if let Some(configuration) = &mut entry.configuration {
                rename_map_key(&mut configuration.column_config, self.from, self.to);
                rename_map_key(&mut configuration.custom_column_names, self.from, self.to);
            }
        }
        for p in &mut entry.select_permissions {
            self.in_expression(&mut p.permission.filter, &here);
        }
        for p in &mut entry.insert_permissions {
            self.in_expression(&mut p.permission.check, &here);
        }
        for p in &mut entry.update_permissions {
            self.in_expression(&mut p.permission.filter, &here);
            if let Some(check) = &mut p.permission.check {
                self.in_expression(check, &here);
            }
        }
        for p in &mut entry.delete_permissions {
            self.in_expression(&mut p.permission.filter, &here);
        }
        for rel in &mut entry.object_relationships {
            match &mut rel.using {
                ObjectRelationshipUsing::ForeignKeyConstraintOn(on) => self.in_foreign_key(on, own),
                ObjectRelationshipUsing::ManualConfiguration(m) => {
                    self.in_mapping(&mut m.column_mapping, own, &m.remote_table.clone())
                }
            }
        }
        for rel in &mut entry.array_relationships {
            match &mut rel.using {
                ArrayRelationshipUsing::ForeignKeyConstraintOn(on) => {
                    self.in_foreign_key(on, false)
                }
                ArrayRelationshipUsing::ManualConfiguration(m) => {
                    self.in_mapping(&mut m.column_mapping, own, &m.remote_table.clone())
                }
            }
        }
    }

    fn in_foreign_key(&self, on: &mut ForeignKeyOn, own: bool) {
        match on {
            ForeignKeyOn::Column(c) if own && c == self.from => *c = self.to.to_string(),
            ForeignKeyOn::Columns(cs) if own => cs
                .iter_mut()
                .filter(|c| c.as_str() == self.from)
                .for_each(|c| *c = self.to.to_string()),
            ForeignKeyOn::Spec(spec) => {
                let points_here =
                    spec.table.as_ref() == Some(self.table) || (spec.table.is_none() && own);
                if points_here {
                    if spec.column.as_deref() == Some(self.from) {
                        spec.column = Some(self.to.to_string());
                    }
                    if let Some(cs) = &mut spec.columns {
                        cs.iter_mut()
                            .filter(|c| c.as_str() == self.from)
                            .for_each(|c| *c = self.to.to_string());
                    }
                }
            }
            _ => {}
        }
    }

    fn in_mapping(
        &self,
        mapping: &mut indexmap::IndexMap<String, String>,
        own: bool,
        remote: &QualifiedTable,
    ) {
        if own {
            rename_map_key(mapping, self.from, self.to);
        }
        if remote == self.table {
            mapping
                .values_mut()
                .filter(|v| v.as_str() == self.from)
                .for_each(|v| *v = self.to.to_string());
        }
    }

    /// Walks a boolean expression about `table`, following relationships and `_exists`.
    fn in_expression(&self, value: &mut Value, table: &QualifiedTable) {
        let Value::Object(map) = value else { return };
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            match key.as_str() {
                "_and" | "_or" => {
                    if let Some(Value::Array(items)) = map.get_mut(&key) {
                        items.iter_mut().for_each(|i| self.in_expression(i, table));
                    }
                }
                "_not" => {
                    if let Some(inner) = map.get_mut(&key) {
                        self.in_expression(inner, table);
                    }
                }
                "_exists" => {
                    if let Some(exists) = map.get_mut(&key) {
                        let target = exists
                            .get("_table")
                            .and_then(|t| serde_json::from_value::<QualifiedTable>(t.clone()).ok());
                        if let (Some(target), Some(inner)) = (target, exists.get_mut("_where")) {
                            self.in_expression(inner, &target);
                        }
                    }
                }
                _ => {
                    let target = self
                        .model
                        .and_then(|m| m.table(table))
                        .and_then(|t| t.relationship(&key))
                        .map(|r| r.target.clone());
                    if let Some(target) = target {
                        if let Some(inner) = map.get_mut(&key) {
                            self.in_expression(inner, &target);
                        }
                    } else if table == self.table
                        && key == self.from
                        && let Some(v) = map.shift_remove(&key)
                    {
                        map.insert(self.to.to_string(), v);
                    }
                }
            }
        }
    }
}

fn rename_map_key<V>(map: &mut indexmap::IndexMap<String, V>, from: &str, to: &str) {
    if let Some(index) = map.get_index_of(from)
        && let Some((_, value)) = map.shift_remove_index(index)
    {
        map.insert(to.to_string(), value);
        let last = map.len() - 1;
        map.move_index(last, index);
    }
}
