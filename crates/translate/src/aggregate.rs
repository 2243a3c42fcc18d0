//! `AggregateIr` → one SELECT whose single column `json` is the aggregate object, built over the
//! same filtered, ordered and limited rows a list selection would return.
//!
//! For `article_aggregate(limit: 10) { aggregate { count sum { rating } } nodes { id } }`:
//!
//! ```sql
//! SELECT json_build_object(
//!          'aggregate', json_build_object('count', count(*),
//!                                         'sum', json_build_object('rating', sum("_s2"."c0"))),
//!          'nodes', coalesce(json_agg("_s2"."n0" ORDER BY "_s2"."ob0" ASC), '[]')) AS "json"
//! FROM (SELECT json_build_object('id', "_t1"."id") AS "n0", "_t1"."rating" AS "c0",
//!              "_t1"."id" AS "ob0"
//!       FROM "public"."article" AS "_t1" WHERE ... ORDER BY "ob0" ASC LIMIT 10) AS "_s2"
//! ```
//!
//! Each `nodes` selection is one JSON column `n<i>` of the rows, each column an aggregate reads
//! is one plain column `c<j>`; the aggregates run in the outer select, so they see exactly the
//! rows `nodes` lists.

use crate::boolexp::{SqlContext, cast, column};
use crate::ir::{AggregateColumn, AggregateIr, AggregateOutput, AggregateValue};
use crate::select::{self, JSON_COLUMN};
use graft_sql::ast::{
    ColumnAlias, Expr, From, FunctionCall, FunctionName, OrderByElement, Select, TableAlias,
    TypeName,
};
use graft_sql::helpers::{builtin, json_agg_or_empty, json_object};

/// The aggregate object of `ir`'s rows in a column named `json`. With a parent, only the rows
/// related to the parent row through the mapping (parent column, this table's column).
pub fn aggregate_select(
    ir: &AggregateIr,
    parent: Option<(&TableAlias, &[(String, String)])>,
    ctx: &mut SqlContext,
) -> Select {
    let columns = read_columns(ir);
    let (rows, order_keys) =
        select::rows_select_with(&ir.rows, parent, false, ctx, |alias, joins, ctx| {
            let mut items = Vec::new();
            let mut nodes = 0;
            for (_, output) in &ir.output {
                if let AggregateOutput::Nodes(fields) = output {
                    let object = select::object_expr(fields, alias, joins, ctx);
                    items.push((object, ColumnAlias::new(format!("n{nodes}"))));
                    nodes += 1;
                }
            }
            for (j, name) in columns.iter().enumerate() {
                let condition = ir.redacted.iter().find(|(c, _)| c == name).map(|(_, c)| c);
                let value = select::redact(column(alias, name), condition, alias, ctx);
                items.push((value, ColumnAlias::new(format!("c{j}"))));
            }
            items
        });
    let rows_alias = ctx.aliases.next_prefixed("s");
    let input = |name: &str| {
        let j = columns.iter().position(|c| c == name).unwrap_or(0);
        column(&rows_alias, &format!("c{j}"))
    };
    let mut pairs = Vec::with_capacity(ir.output.len());
    let mut nodes = 0;
    for (key, output) in &ir.output {
        let value = match output {
            AggregateOutput::Typename(name) => Expr::StringLiteral(name.clone()),
            AggregateOutput::Nodes(fields) if ir.nodes_limit.is_some() => {
                nodes += 1;
                limited_nodes(ir, fields, parent, ctx)
            }
            AggregateOutput::Nodes(_) => {
                let order_by = order_keys
                    .iter()
                    .map(|(key, direction, nulls)| OrderByElement {
                        expr: column(&rows_alias, key),
                        direction: *direction,
                        nulls: *nulls,
                    })
                    .collect();
                let value = json_agg_or_empty(column(&rows_alias, &format!("n{nodes}")), order_by);
                nodes += 1;
                value
            }
            AggregateOutput::Aggregate(values) => json_object(
                values
                    .iter()
                    .map(|(key, value)| (key.clone(), aggregate_value(value, &input)))
                    .collect(),
            ),
        };
        pairs.push((key.clone(), value));
    }
    let mut select = Select::new(vec![(json_object(pairs), ColumnAlias::new(JSON_COLUMN))]);
    select.from = Some(From::Subquery {
        select: Box::new(rows),
        alias: rows_alias,
        lateral: false,
    });
    select
}

/// `(SELECT coalesce(json_agg(...), '[]') FROM (<rows> LIMIT n) AS "_s")`: the nodes under a
/// limit the aggregates do not share, as a separate read of the same rows.
fn limited_nodes(
    ir: &AggregateIr,
    fields: &[(String, crate::ir::FieldIr)],
    parent: Option<(&TableAlias, &[(String, String)])>,
    ctx: &mut SqlContext,
) -> Expr {
    let mut rows = ir.rows.clone();
    rows.fields = fields.to_vec();
    rows.limit = match (rows.limit, ir.nodes_limit) {
        (Some(asked), Some(cap)) => Some(asked.min(cap)),
        (asked, cap) => asked.or(cap),
    };
    Expr::ScalarSubquery(Box::new(select::array_select(&rows, parent, ctx)))
}

/// Every column some aggregate reads, once each, in first-use order.
fn read_columns(ir: &AggregateIr) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !columns.iter().any(|c| c == name) {
            columns.push(name.to_string());
        }
    };
    for (_, output) in &ir.output {
        let AggregateOutput::Aggregate(values) = output else {
            continue;
        };
        for (_, value) in values {
            match value {
                AggregateValue::Typename(_) => {}
                AggregateValue::Count { columns, .. } => columns.iter().for_each(|c| add(c)),
                AggregateValue::Function { columns, .. } => {
                    for (_, column) in columns {
                        if let AggregateColumn::Column(c) = column {
                            add(&c.column);
                        }
                    }
                }
            }
        }
    }
    columns
}

/// One aggregate value over the rows' input columns (`input` gives a column's expression).
fn aggregate_value(value: &AggregateValue, input: &dyn Fn(&str) -> Expr) -> Expr {
    match value {
        AggregateValue::Typename(name) => Expr::StringLiteral(name.clone()),
        AggregateValue::Count { columns, distinct } => {
            let args = match columns.as_slice() {
                [] => vec![Expr::Star],
                [single] => vec![input(single)],
                // Several columns count as one value: a row that is never NULL as a whole, as
                // in Hasura, and comparable for DISTINCT.
                many => vec![builtin(
                    "jsonb_build_array",
                    many.iter().map(|c| input(c)).collect(),
                )],
            };
            let distinct = *distinct && !columns.is_empty();
            Expr::FunctionCall(Box::new(FunctionCall {
                distinct,
                ..FunctionCall::new(FunctionName::Builtin("count"), args)
            }))
        }
        AggregateValue::Function { function, columns } => json_object(
            columns
                .iter()
                .map(|(key, column)| {
                    let value = match column {
                        AggregateColumn::Typename(name) => Expr::StringLiteral(name.clone()),
                        AggregateColumn::Column(c) => {
                            let value = builtin(function.sql_name(), vec![input(&c.column)]);
                            if c.as_text {
                                cast(value, TypeName::new("text"))
                            } else {
                                value
                            }
                        }
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
    }
}
