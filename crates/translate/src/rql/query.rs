//! `select` and `count` args → IR.

use super::args::{CountArgs, SelectArgs, SelectColumn, SelectQuery};
use super::{RqlContext, convert_direction, convert_nulls, no_such_column};
use crate::error::RqlError;
use crate::ir::{self, CountIr, FieldIr, OrderByHop, OrderByIr, RelationshipField, SelectIr};
use graft_schema::{BoolExp, TableModel};

pub fn select_ir(ctx: &RqlContext<'_>, args: &SelectArgs) -> Result<SelectIr, RqlError> {
    let table = ctx.table(&args.table)?;
    build_select(ctx, table, &args.query, "$.args", "$.args")
}

pub fn count_ir(ctx: &RqlContext<'_>, args: &CountArgs) -> Result<CountIr, RqlError> {
    let table = ctx.table(&args.table)?;
    let permission = ctx.select_permission(table, "$.args")?;
    for (i, column) in args.distinct.iter().enumerate() {
        let path = format!("$.args.distinct[{i}]");
        if table.column(column).is_none() {
            return Err(no_such_column(column, &path));
        }
        if permission.is_some_and(|p| !p.columns.contains(column)) {
            return Err(ctx.column_denied("select", column, &path));
        }
    }
    let client = ctx.client_where(table, args.where_.as_ref(), "$.args.where")?;
    let role_filter = permission
        .map(|p| p.filter.clone())
        .unwrap_or_else(BoolExp::always_true);
    Ok(CountIr {
        table: table.name.clone(),
        filter: ir::and(vec![client, role_filter]),
        distinct: args.distinct.clone(),
    })
}

/// `path` locates the query's keys (`$.args`, `$.args.columns[3]`); `permission_path` is where
/// a missing select permission on this table is reported.
fn build_select(
    ctx: &RqlContext<'_>,
    table: &TableModel,
    query: &SelectQuery,
    path: &str,
    permission_path: &str,
) -> Result<SelectIr, RqlError> {
    let permission = ctx.select_permission(table, permission_path)?;
    let allowed = |column: &str| permission.is_none_or(|p| p.columns.iter().any(|c| c == column));
    let mut fields: Vec<(String, FieldIr)> = Vec::new();
    for (i, column) in query.columns.iter().enumerate() {
        let here = format!("{path}.columns[{i}]");
        match column {
            SelectColumn::Star => {
                for name in table.columns.keys().filter(|c| allowed(c)) {
                    fields.push((name.clone(), ctx.column_field(table, name, &here)?));
                }
            }
            SelectColumn::Column(name) => {
                if table.column(name).is_none() {
                    return Err(no_such_column(name, &here));
                }
                if !allowed(name) {
                    return Err(ctx.column_denied("select", name, &here));
                }
                fields.push((name.clone(), ctx.column_field(table, name, &here)?));
            }
            SelectColumn::Relationship { name, alias, query } => {
                let relationship = table.relationship(name).ok_or_else(|| {
                    RqlError::not_exists(
                        format!("no such relationship exists: \"{name}\""),
                        format!("{here}.name"),
                    )
                })?;
                let target = ctx.table(&relationship.target)?;
                let select = build_select(ctx, target, query, &here, &here)?;
                fields.push((
                    alias.clone().unwrap_or_else(|| name.clone()),
                    FieldIr::Relationship(RelationshipField {
                        kind: relationship.kind,
                        mapping: relationship.mapping.clone(),
                        select: Box::new(select),
                    }),
                ));
            }
        }
    }
    let client = ctx.client_where(table, query.where_.as_ref(), &format!("{path}.where"))?;
    let role_filter = permission
        .map(|p| p.filter.clone())
        .unwrap_or_else(BoolExp::always_true);
    let order_by = query
        .order_by
        .iter()
        .enumerate()
        .map(|(i, item)| order_by_ir(ctx, table, item, &format!("{path}.order_by[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let limit = non_negative(query.limit, &format!("{path}.limit"))?;
    let limit = match (limit, permission.and_then(|p| p.limit)) {
        (Some(asked), Some(cap)) => Some(asked.min(cap)),
        (asked, cap) => asked.or(cap),
    };
    Ok(SelectIr {
        table: table.name.clone(),
        fields,
        filter: ir::and(vec![client, role_filter]),
        order_by,
        limit,
        offset: non_negative(query.offset, &format!("{path}.offset"))?,
        distinct_on: Vec::new(),
        from_function: None,
    })
}

fn order_by_ir(
    ctx: &RqlContext<'_>,
    table: &TableModel,
    item: &super::args::OrderByItem,
    path: &str,
) -> Result<OrderByIr, RqlError> {
    let Some((column, relationships)) = item.path.split_last() else {
        return Err(RqlError::parse_failed("empty order_by column", path));
    };
    let mut current = table;
    let mut hops = Vec::new();
    for name in relationships {
        let relationship = current
            .relationship(name)
            .filter(|r| r.kind == graft_schema::RelationshipKind::Object)
            .ok_or_else(|| {
                RqlError::not_exists(
                    format!("no such object relationship exists: \"{name}\""),
                    path,
                )
            })?;
        let target = ctx.table(&relationship.target)?;
        let filter = ctx
            .select_permission(target, path)?
            .map(|p| p.filter.clone())
            .unwrap_or_else(BoolExp::always_true);
        hops.push(OrderByHop {
            target: target.name.clone(),
            mapping: relationship.mapping.clone(),
            filter,
        });
        current = target;
    }
    if current.column(column).is_none() {
        return Err(no_such_column(column, path));
    }
    if let Some(permission) = ctx.select_permission(current, path)?
        && !permission.columns.contains(column)
    {
        return Err(ctx.column_denied("select", column, path));
    }
    Ok(OrderByIr {
        path: hops,
        target: ir::OrderByTarget::Column(column.clone()),
        direction: convert_direction(item.direction),
        nulls: convert_nulls(item.nulls),
        redaction: None,
    })
}

fn non_negative(value: Option<i64>, path: &str) -> Result<Option<u64>, RqlError> {
    match value {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| RqlError::not_supported("unexpected negative value", path)),
    }
}
