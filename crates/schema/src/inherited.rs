//! Inherited roles (`add_inherited_role`): a role whose permissions on a table are derived from
//! its parent roles', resolved into ordinary `RolePermissions` so that nothing after the model
//! (schema building, translation) needs to know a role was inherited.
//!
//! Hasura's rules, per table:
//! - select: the union of the parents' select permissions. Rows: any parent's filter. Columns
//!   and computed fields: any parent's; one that only some parents grant (or that a parent itself
//!   only shows in some rows) is shown in the rows the granting parents' filters allow and is
//!   null in the others. Limit: the largest a parent sets. Aggregations: if any parent allows them.
//! - insert, update, delete: inherited when every parent that has the permission has the same one
//!   (a parent without it does not count); parents that differ make the permission an
//!   inconsistency of the inherited role, and it has none.
//! - a permission defined on the inherited role itself replaces the derived one.
//! - functions: a function permission is a yes or no, so an inherited role may call a function
//!   when any parent may.
//!
//! Parents may be inherited roles themselves, so roles are resolved parents first; a cycle makes
//! every role in it inconsistent.

use crate::boolexp::BoolExp;
use crate::inconsistency::{Inconsistency, ObjectId, PermissionKind};
use crate::model::{
    DeletePermissionInfo, FunctionModel, InsertPermissionInfo, RolePermissions,
    SelectPermissionInfo, TableModel, UpdatePermissionInfo,
};
use graft_metadata::InheritedRole;
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashSet;

/// The inherited roles, every parent before its children. Roles in a cycle (or inheriting from
/// one) are reported as inconsistent and left out.
pub(crate) fn order_roles<'a>(
    roles: &'a [InheritedRole],
    out: &mut Vec<Inconsistency>,
) -> Vec<&'a InheritedRole> {
    let inherited: HashSet<&str> = roles.iter().map(|r| r.role_name.as_str()).collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut ordered = Vec::new();
    loop {
        let ready: Vec<&InheritedRole> = roles
            .iter()
            .filter(|r| !done.contains(r.role_name.as_str()))
            .filter(|r| {
                r.role_set
                    .iter()
                    .all(|p| !inherited.contains(p.as_str()) || done.contains(p.as_str()))
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        for role in ready {
            done.insert(&role.role_name);
            ordered.push(role);
        }
    }
    let stuck: Vec<&InheritedRole> = roles
        .iter()
        .filter(|r| !done.contains(r.role_name.as_str()))
        .collect();
    let names: Vec<&str> = stuck.iter().map(|r| r.role_name.as_str()).collect();
    for role in stuck {
        out.push(Inconsistency {
            object: ObjectId::InheritedRole(role.role_name.clone()),
            reason: format!("found cycle(s) in roles: {}", names.join(", ")),
            definition: serde_json::to_value(role).unwrap_or(Value::Null),
        });
    }
    ordered
}

/// Adds the derived permissions of every inherited role to `table`, in the order
/// [`order_roles`] gives.
pub(crate) fn derive_permissions(
    source: &str,
    table: &mut TableModel,
    roles: &[&InheritedRole],
    out: &mut Vec<Inconsistency>,
) {
    for role in roles {
        let own = table
            .permissions
            .get(&role.role_name)
            .cloned()
            .unwrap_or_default();
        let parents: Vec<&RolePermissions> = role
            .role_set
            .iter()
            .filter_map(|p| table.permissions.get(p))
            .collect();
        let mut conflict = |kind: PermissionKind| {
            out.push(Inconsistency {
                object: ObjectId::InheritedRolePermission {
                    source: source.to_string(),
                    table: table.name.clone(),
                    role: role.role_name.clone(),
                    kind,
                },
                reason: format!(
                    "Could not inherit permission for the role '{}' for the entity: '{} permission, table: {}, source: '{source}''",
                    role.role_name,
                    kind.as_str(),
                    table.name
                ),
                definition: Value::Null,
            })
        };
        let derived = RolePermissions {
            select: own.select.or_else(|| {
                let selects: Vec<&SelectPermissionInfo> =
                    parents.iter().filter_map(|p| p.select.as_ref()).collect();
                union_select(table, &selects)
            }),
            insert: own.insert.or_else(|| {
                inherit_if_same(
                    parents.iter().filter_map(|p| p.insert.as_ref()),
                    same_insert,
                )
                .unwrap_or_else(|()| {
                    conflict(PermissionKind::Insert);
                    None
                })
            }),
            update: own.update.or_else(|| {
                inherit_if_same(
                    parents.iter().filter_map(|p| p.update.as_ref()),
                    same_update,
                )
                .unwrap_or_else(|()| {
                    conflict(PermissionKind::Update);
                    None
                })
            }),
            delete: own.delete.or_else(|| {
                inherit_if_same(
                    parents.iter().filter_map(|p| p.delete.as_ref()),
                    same_delete,
                )
                .unwrap_or_else(|()| {
                    conflict(PermissionKind::Delete);
                    None
                })
            }),
        };
        let empty = derived.select.is_none()
            && derived.insert.is_none()
            && derived.update.is_none()
            && derived.delete.is_none();
        if !empty {
            table.permissions.insert(role.role_name.clone(), derived);
        }
    }
}

/// The union of select permissions (see the module documentation); `None` without any.
/// Grants `function` to every inherited role one of whose parents has it (`roles` parents first,
/// so a grant flows down through nested inherited roles).
pub(crate) fn derive_function_permission(function: &mut FunctionModel, roles: &[&InheritedRole]) {
    for role in roles {
        let granted = |name: &String| function.permitted_roles.contains(name);
        if !granted(&role.role_name) && role.role_set.iter().any(granted) {
            function.permitted_roles.push(role.role_name.clone());
        }
    }
}

pub(crate) fn union_select(
    table: &TableModel,
    parents: &[&SelectPermissionInfo],
) -> Option<SelectPermissionInfo> {
    match parents {
        [] => return None,
        [single] => return Some((*single).clone()),
        _ => {}
    }
    let grants = |p: &SelectPermissionInfo, field: &str| {
        p.columns.iter().any(|c| c == field) || p.computed_fields.iter().any(|c| c == field)
    };
    let columns: Vec<String> = table
        .columns
        .keys()
        .filter(|c| parents.iter().any(|p| grants(p, c)))
        .cloned()
        .collect();
    let computed_fields: Vec<String> = table
        .computed_fields
        .keys()
        .filter(|c| parents.iter().any(|p| grants(p, c)))
        .cloned()
        .collect();
    let mut redacted = IndexMap::new();
    for field in columns.iter().chain(&computed_fields) {
        if parents
            .iter()
            .all(|p| grants(p, field) && p.redaction(field).is_none())
        {
            continue;
        }
        let condition = any_of(
            parents
                .iter()
                .filter(|p| grants(p, field))
                .map(|p| match p.redaction(field) {
                    Some(shown) => both(p.filter.clone(), shown.clone()),
                    None => p.filter.clone(),
                })
                .collect(),
        );
        if !condition.is_always_true() {
            redacted.insert(field.clone(), condition);
        }
    }
    Some(SelectPermissionInfo {
        columns,
        filter: any_of(parents.iter().map(|p| p.filter.clone()).collect()),
        limit: parents.iter().filter_map(|p| p.limit).max(),
        allow_aggregations: parents.iter().any(|p| p.allow_aggregations),
        computed_fields,
        redacted,
    })
}

/// OR of non-empty `items`, true as soon as one of them is.
fn any_of(items: Vec<BoolExp>) -> BoolExp {
    if items.iter().any(BoolExp::is_always_true) {
        return BoolExp::always_true();
    }
    match <[BoolExp; 1]>::try_from(items) {
        Ok([single]) => single,
        Err(items) => BoolExp::Or(items),
    }
}

fn both(a: BoolExp, b: BoolExp) -> BoolExp {
    match (a.is_always_true(), b.is_always_true()) {
        (true, _) => b,
        (_, true) => a,
        _ => BoolExp::And(vec![a, b]),
    }
}

/// The permission every parent that has one agrees on; `Err` when two of them differ.
fn inherit_if_same<'a, T: Clone + 'a>(
    mut permissions: impl Iterator<Item = &'a T>,
    same: fn(&T, &T) -> bool,
) -> Result<Option<T>, ()> {
    let Some(first) = permissions.next() else {
        return Ok(None);
    };
    for other in permissions {
        if !same(first, other) {
            return Err(());
        }
    }
    Ok(Some(first.clone()))
}

fn same_columns(a: &[String], b: &[String]) -> bool {
    let a: HashSet<&String> = a.iter().collect();
    let b: HashSet<&String> = b.iter().collect();
    a == b
}

// `IndexMap` equality ignores order, as Hasura's comparison of presets does.
fn same_insert(a: &InsertPermissionInfo, b: &InsertPermissionInfo) -> bool {
    same_columns(&a.columns, &b.columns)
        && a.check == b.check
        && a.set == b.set
        && a.backend_only == b.backend_only
}

fn same_update(a: &UpdatePermissionInfo, b: &UpdatePermissionInfo) -> bool {
    same_columns(&a.columns, &b.columns)
        && a.filter == b.filter
        && a.check == b.check
        && a.set == b.set
        && a.backend_only == b.backend_only
}

fn same_delete(a: &DeletePermissionInfo, b: &DeletePermissionInfo) -> bool {
    a.filter == b.filter && a.backend_only == b.backend_only
}
