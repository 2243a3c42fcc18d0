//! A GraphQL `order_by` argument (a `<table>_order_by` object or a list of them) → `OrderByIr`s.
//!
//! Keys of one object order in the order written; a column takes a direction, an object
//! relationship a nested `order_by` of its target, an array relationship's `<rel>_aggregate` an
//! aggregate (`{count: desc}`, `{max: {id: asc}}`). Hasura's directions are Postgres's defaults:
//! `asc` puts nulls last, `desc` first.

use super::context::{Access, GqlContext, readable_column};
use super::error::GraphqlError;
use super::select::related;
use crate::ir::{
    AggregateFunction, NullsOrder, OrderByAggregate, OrderByHop, OrderByIr, OrderByTarget,
    OrderDirection,
};
use graft_schema::{RelationshipKind, TableModel};
use indexmap::IndexMap;
use serde_json::Value;

pub(crate) fn parse(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    value: &Value,
    path: &str,
) -> Result<Vec<OrderByIr>, GraphqlError> {
    let mut out = Vec::new();
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let here = format!("{path}[{i}]");
                object(ctx, table, access, item, &[], &here, &mut out)?;
            }
        }
        other => object(ctx, table, access, other, &[], path, &mut out)?,
    }
    Ok(out)
}

fn object(
    ctx: &GqlContext<'_>,
    table: &TableModel,
    access: Access<'_>,
    value: &Value,
    hops: &[OrderByHop],
    path: &str,
    out: &mut Vec<OrderByIr>,
) -> Result<(), GraphqlError> {
    let Value::Object(map) = value else {
        return Err(GraphqlError::validation(
            "expected an object for an order_by",
            path,
        ));
    };
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let here = format!("{path}.{key}");
        if let Some(column) = readable_column(table, &access, key) {
            let (direction, nulls) = direction(value, &here)?;
            out.push(OrderByIr {
                path: hops.to_vec(),
                target: OrderByTarget::Column(column.name.clone()),
                direction,
                nulls,
                redaction: access.redaction(&column.name),
            });
            continue;
        }
        if let Some(computed) = table
            .computed_fields
            .get(key)
            .filter(|c| graft_gql::is_scalar_computed(c) && access.allows_computed_field(key))
        {
            let (direction, nulls) = direction(value, &here)?;
            let mut field =
                super::function::computed_scalar(ctx, computed, &IndexMap::new(), &here)?;
            field.as_text = false;
            field.redaction = access.redaction(key);
            out.push(OrderByIr {
                path: hops.to_vec(),
                target: OrderByTarget::Computed(field),
                direction,
                nulls,
                redaction: None,
            });
            continue;
        }
        if let Some((relationship, target, target_access)) = related(ctx, table, key)
            && relationship.kind == RelationshipKind::Object
        {
            let mut hops = hops.to_vec();
            hops.push(OrderByHop {
                target: target.name.clone(),
                mapping: relationship.mapping.clone(),
                filter: target_access.filter(),
            });
            object(ctx, target, target_access, value, &hops, &here, out)?;
            continue;
        }
        let aggregated = key
            .strip_suffix("_aggregate")
            .and_then(|name| related(ctx, table, name))
            .filter(|(r, _, a)| r.kind == RelationshipKind::Array && a.allows_aggregations());
        let Some((relationship, target, target_access)) = aggregated else {
            return Err(GraphqlError::validation(
                format!("field '{key}' not found in order_by"),
                here,
            ));
        };
        let hop = OrderByHop {
            target: target.name.clone(),
            mapping: relationship.mapping.clone(),
            filter: target_access.filter(),
        };
        aggregate(target, target_access, value, hops, hop, &here, out)?;
    }
    Ok(())
}

/// `{count: desc, max: {id: asc}}` over the rows of an array relationship.
fn aggregate(
    target: &TableModel,
    access: Access<'_>,
    value: &Value,
    hops: &[OrderByHop],
    relationship: OrderByHop,
    path: &str,
    out: &mut Vec<OrderByIr>,
) -> Result<(), GraphqlError> {
    let Value::Object(map) = value else {
        return Err(GraphqlError::validation(
            "expected an object for an aggregate order_by",
            path,
        ));
    };
    let mut push = |value: OrderByAggregate,
                    redaction: Option<Box<graft_schema::BoolExp>>,
                    direction_value: &Value,
                    here: &str| {
        let (direction, nulls) = direction(direction_value, here)?;
        out.push(OrderByIr {
            path: hops.to_vec(),
            target: OrderByTarget::Aggregate {
                relationship: Box::new(relationship.clone()),
                value,
            },
            direction,
            nulls,
            redaction,
        });
        Ok::<(), GraphqlError>(())
    };
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let here = format!("{path}.{key}");
        if key == "count" {
            push(OrderByAggregate::Count, None, value, &here)?;
            continue;
        }
        let function = AggregateFunction::from_name(key).ok_or_else(|| {
            GraphqlError::validation(format!("field '{key}' not found in order_by"), &here)
        })?;
        let Value::Object(columns) = value else {
            return Err(GraphqlError::validation("expected an object", here));
        };
        for (name, direction_value) in columns {
            if direction_value.is_null() {
                continue;
            }
            let column_path = format!("{here}.{name}");
            let column = readable_column(target, &access, name).ok_or_else(|| {
                GraphqlError::validation(format!("field '{name}' not found"), &column_path)
            })?;
            let value = OrderByAggregate::Function(function, column.name.clone());
            let redaction = access.redaction(&column.name);
            push(value, redaction, direction_value, &column_path)?;
        }
    }
    Ok(())
}

fn direction(
    value: &Value,
    path: &str,
) -> Result<(OrderDirection, Option<NullsOrder>), GraphqlError> {
    use NullsOrder::{First, Last};
    use OrderDirection::{Asc, Desc};
    Ok(match value.as_str().unwrap_or_default() {
        "asc" => (Asc, None),
        "asc_nulls_first" => (Asc, Some(First)),
        "asc_nulls_last" => (Asc, None),
        "desc" => (Desc, None),
        "desc_nulls_first" => (Desc, None),
        "desc_nulls_last" => (Desc, Some(Last)),
        other => {
            return Err(GraphqlError::validation(
                format!("unexpected order_by direction \"{other}\""),
                path,
            ));
        }
    })
}
