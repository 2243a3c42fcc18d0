//! `insert`, `update` and `delete` args → IR, with insert/update/delete permissions applied:
//! allowed columns, presets (`set`), row filters and checks.

use super::args::{
    ConflictActionArgs, ConflictTargetArgs, DeleteArgs, InsertArgs, OnConflictArgs, UpdateArgs,
};
use super::{RqlContext, no_such_column};
use crate::error::RqlError;
use crate::ir::{
    self, ConflictAction, ConflictTarget, ConflictUpdate, DeleteIr, FieldIr, InsertColumn,
    InsertIr, InsertValue, MutationOutput, OnConflictIr, UpdateColumn, UpdateIr, UpdateOp, ValueIr,
};
use graft_schema::{BoolExp, TableModel, boolexp::is_session_variable};
use indexmap::IndexMap;
use serde_json::Value;

pub fn insert_ir(ctx: &RqlContext<'_>, args: &InsertArgs) -> Result<InsertIr, RqlError> {
    let table = ctx.table(&args.table)?;
    let permission = if ctx.is_admin() {
        None
    } else {
        Some(
            table
                .permissions
                .get(&ctx.session.role)
                .and_then(|p| p.insert.as_ref())
                .filter(|p| !p.backend_only || ctx.backend_only_allowed())
                .ok_or_else(|| ctx.not_allowed("insert", &table.name, "$.args"))?,
        )
    };
    let presets = permission.map(|p| presets(&p.set)).unwrap_or_default();

    let mut columns: IndexMap<String, InsertColumn> = IndexMap::new();
    for (i, object) in args.objects.iter().enumerate() {
        for key in object.keys() {
            let path = format!("$.args.objects[{i}].{key}");
            let info = table.column(key).ok_or_else(|| {
                RqlError::not_exists(format!("column \"{key}\" does not exist"), &path)
            })?;
            if permission.is_some_and(|p| !p.columns.contains(key)) && !presets.contains_key(key) {
                return Err(ctx.column_denied("insert", key, &path));
            }
            columns.entry(key.clone()).or_insert_with(|| InsertColumn {
                name: key.clone(),
                pg_type: info.pg_type.clone(),
            });
        }
    }
    for name in presets.keys() {
        let info = table.column(name).ok_or_else(|| {
            RqlError::not_exists(format!("column \"{name}\" does not exist"), "$.args")
        })?;
        columns.entry(name.clone()).or_insert_with(|| InsertColumn {
            name: name.clone(),
            pg_type: info.pg_type.clone(),
        });
    }
    if columns.is_empty() {
        // `VALUES ()` does not exist: objects without keys insert DEFAULT into the first column.
        if let Some(first) = table.columns.values().next() {
            columns.insert(
                first.name.clone(),
                InsertColumn {
                    name: first.name.clone(),
                    pg_type: first.pg_type.clone(),
                },
            );
        }
    }
    let rows = args
        .objects
        .iter()
        .map(|object| {
            columns
                .keys()
                .map(|name| match (presets.get(name), object.get(name)) {
                    (Some(preset), _) => InsertValue::Value(preset.clone()),
                    (None, Some(value)) => InsertValue::Value(ValueIr::Literal(value.clone())),
                    (None, None) => InsertValue::Default,
                })
                .collect()
        })
        .collect();
    let output = output(ctx, table, args.returning.as_deref())?;
    let on_conflict = args
        .on_conflict
        .as_ref()
        .map(|on_conflict| on_conflict_ir(ctx, table, on_conflict, columns.keys()))
        .transpose()?;
    Ok(InsertIr {
        table: table.name.clone(),
        columns: columns.into_values().collect(),
        rows,
        on_conflict,
        check: permission.map(|p| p.check.clone()),
        output,
    })
}

fn on_conflict_ir<'k>(
    ctx: &RqlContext<'_>,
    table: &TableModel,
    args: &OnConflictArgs,
    inserted: impl Iterator<Item = &'k String>,
) -> Result<OnConflictIr, RqlError> {
    let target = match &args.target {
        None => None,
        Some(ConflictTargetArgs::Constraint(name)) => {
            let known = table.primary_key_name.as_deref() == Some(name.as_str())
                || table.unique_constraints.iter().any(|c| &c.name == name);
            if !known {
                return Err(RqlError::not_exists(
                    format!(
                        "constraint \"{name}\" for table \"{}\" does not exist",
                        table.name
                    ),
                    "$.args.on_conflict.constraint",
                ));
            }
            Some(ConflictTarget::Constraint(name.clone()))
        }
        Some(ConflictTargetArgs::Columns(columns)) => {
            for (i, column) in columns.iter().enumerate() {
                if table.column(column).is_none() {
                    return Err(RqlError::not_exists(
                        format!("column \"{column}\" does not exist"),
                        format!("$.args.on_conflict.constraint_on[{i}]"),
                    ));
                }
            }
            Some(ConflictTarget::Columns(columns.clone()))
        }
    };
    let action = match args.action {
        ConflictActionArgs::Ignore => ConflictAction::DoNothing,
        ConflictActionArgs::Update => {
            if target.is_none() {
                return Err(RqlError::parse_failed(
                    "\"constraint\" or \"constraint_on\" is required for the update action",
                    "$.args.on_conflict",
                ));
            }
            let permission = if ctx.is_admin() {
                None
            } else {
                Some(
                    table
                        .permissions
                        .get(&ctx.session.role)
                        .and_then(|p| p.update.as_ref())
                        .filter(|p| !p.backend_only || ctx.backend_only_allowed())
                        .ok_or_else(|| {
                            ctx.not_allowed("update", &table.name, "$.args.on_conflict")
                        })?,
                )
            };
            // Upserting a column the role may not update leaves that column as it was.
            let columns = inserted
                .filter(|c| permission.is_none_or(|p| p.columns.contains(*c)))
                .cloned()
                .collect();
            ConflictAction::DoUpdate(Box::new(ConflictUpdate {
                columns,
                filter: permission
                    .map(|p| p.filter.clone())
                    .unwrap_or_else(BoolExp::always_true),
                check: permission.and_then(|p| p.check.clone()),
            }))
        }
    };
    Ok(OnConflictIr { target, action })
}

pub fn update_ir(ctx: &RqlContext<'_>, args: &UpdateArgs) -> Result<UpdateIr, RqlError> {
    let table = ctx.table(&args.table)?;
    let permission = if ctx.is_admin() {
        None
    } else {
        Some(
            table
                .permissions
                .get(&ctx.session.role)
                .and_then(|p| p.update.as_ref())
                .filter(|p| !p.backend_only || ctx.backend_only_allowed())
                .ok_or_else(|| ctx.not_allowed("update", &table.name, "$.args"))?,
        )
    };
    let presets = permission.map(|p| presets(&p.set)).unwrap_or_default();
    let mut set: IndexMap<String, UpdateColumn> = IndexMap::new();
    let mut add = |key: &str, operator: &str, op: UpdateOp| -> Result<(), RqlError> {
        let path = format!("$.args.{operator}.{key}");
        let info = table.column(key).ok_or_else(|| {
            RqlError::not_exists(format!("column \"{key}\" does not exist"), &path)
        })?;
        if permission.is_some_and(|p| !p.columns.iter().any(|c| c == key)) {
            return Err(ctx.column_denied("update", key, &path));
        }
        if set.contains_key(key) {
            return Err(RqlError::new(
                "unexpected",
                format!("column \"{key}\" appears in more than one update operator"),
                path,
            ));
        }
        set.insert(
            key.to_string(),
            UpdateColumn {
                name: key.to_string(),
                pg_type: info.pg_type.clone(),
                op,
            },
        );
        Ok(())
    };
    for (key, value) in &args.set {
        add(key, "$set", UpdateOp::Set(ValueIr::Literal(value.clone())))?;
    }
    for (key, value) in &args.inc {
        add(key, "$inc", UpdateOp::Inc(ValueIr::Literal(value.clone())))?;
    }
    for (key, value) in &args.mul {
        add(key, "$mul", UpdateOp::Mul(ValueIr::Literal(value.clone())))?;
    }
    for key in &args.default {
        add(key, "$default", UpdateOp::Default)?;
    }
    if set.is_empty() {
        return Err(RqlError::new(
            "unexpected-payload",
            "atleast one of $set, $inc, $mul, $default has to be present",
            "$.args",
        ));
    }
    for (name, value) in presets {
        if let Some(info) = table.column(&name) {
            set.insert(
                name.clone(),
                UpdateColumn {
                    name,
                    pg_type: info.pg_type.clone(),
                    op: UpdateOp::Set(value),
                },
            );
        }
    }
    let client = ctx.client_where(table, Some(&args.where_), "$.args.where")?;
    let role_filter = permission
        .map(|p| p.filter.clone())
        .unwrap_or_else(BoolExp::always_true);
    Ok(UpdateIr {
        table: table.name.clone(),
        set: set.into_values().collect(),
        filter: ir::and(vec![client, role_filter]),
        check: permission.and_then(|p| p.check.clone()),
        output: output(ctx, table, args.returning.as_deref())?,
    })
}

pub fn delete_ir(ctx: &RqlContext<'_>, args: &DeleteArgs) -> Result<DeleteIr, RqlError> {
    let table = ctx.table(&args.table)?;
    let permission = if ctx.is_admin() {
        None
    } else {
        Some(
            table
                .permissions
                .get(&ctx.session.role)
                .and_then(|p| p.delete.as_ref())
                .filter(|p| !p.backend_only || ctx.backend_only_allowed())
                .ok_or_else(|| ctx.not_allowed("delete", &table.name, "$.args"))?,
        )
    };
    let client = ctx.client_where(table, Some(&args.where_), "$.args.where")?;
    let role_filter = permission
        .map(|p| p.filter.clone())
        .unwrap_or_else(BoolExp::always_true);
    Ok(DeleteIr {
        table: table.name.clone(),
        filter: ir::and(vec![client, role_filter]),
        output: output(ctx, table, args.returning.as_deref())?,
    })
}

/// `returning` columns: they must exist and, for a role, be selectable by it.
fn output(
    ctx: &RqlContext<'_>,
    table: &TableModel,
    returning: Option<&[String]>,
) -> Result<MutationOutput, RqlError> {
    let Some(columns) = returning else {
        return Ok(MutationOutput { returning: None });
    };
    let mut fields: Vec<(String, FieldIr)> = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        if table.column(column).is_none() {
            return Err(no_such_column(column, "$.args.returning"));
        }
        let path = format!("$.args.returning[{i}]");
        if let Some(permission) = ctx.select_permission(table, "$.args.returning")?
            && !permission.columns.contains(column)
        {
            return Err(ctx.column_denied("select", column, &path));
        }
        fields.push((column.clone(), ctx.column_field(table, column, &path)?));
    }
    Ok(MutationOutput {
        returning: Some(fields),
    })
}

/// Permission presets: a string naming a session variable reads it; anything else is a literal.
fn presets(set: &IndexMap<String, Value>) -> IndexMap<String, ValueIr> {
    set.iter()
        .map(|(column, value)| {
            let value = match value {
                Value::String(s) if is_session_variable(s) => {
                    ValueIr::Session(s.to_ascii_lowercase())
                }
                other => ValueIr::Literal(other.clone()),
            };
            (column.clone(), value)
        })
        .collect()
}
