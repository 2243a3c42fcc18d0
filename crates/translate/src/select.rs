//! `SelectIr` → one SELECT whose single column is the JSON result, built by Postgres.
//!
//! The shape, for `article { id author { name } comments { body } }`:
//!
//! ```sql
//! SELECT coalesce(json_agg("_root"."json" ORDER BY "_root"."ob0" ASC), '[]') AS "root"
//! FROM (SELECT json_build_object('id', "_t0"."id", 'author', "_rel1"."json",
//!                                'comments', "_rel3"."json") AS "json", "_t0"."id" AS "ob0"
//!       FROM "public"."article" AS "_t0"
//!       LEFT JOIN LATERAL (SELECT json_build_object('name', "_t2"."name") AS "json"
//!                          FROM "public"."author" AS "_t2"
//!                          WHERE "_t0"."author_id" = "_t2"."id" LIMIT 1) AS "_rel1" ON true
//!       LEFT JOIN LATERAL (SELECT coalesce(json_agg("_s5"."json"), '[]') AS "json"
//!                          FROM (SELECT ... FROM "public"."comment" AS "_t4"
//!                                WHERE "_t0"."id" = "_t4"."article_id") AS "_s5") AS "_rel3" ON true
//!       WHERE <filter> ORDER BY "_t0"."id" ASC LIMIT 10) AS "_root"
//! ```
//!
//! Each level orders and limits its rows in the inner select, and exposes its order keys as
//! `ob<i>` columns so the aggregate above can keep that order (`json_agg(... ORDER BY ...)`):
//! Postgres does not promise that an aggregate sees a subquery's rows in the subquery's order.
//!
//! A level with `order_by` and `limit` picks its rows first and builds objects only for them
//! (`top_n_rows_select`): in one SELECT, Postgres would evaluate `json_build_object` and every
//! relationship's LATERAL subquery for each matching row below the top-N sort, and keep `limit`
//! of them.

use crate::aggregate;
use crate::boolexp::{self, Scope, SqlContext, and, cast, column, join_condition, table_name};
use crate::ir::{self, CountIr, FieldIr, OrderByAggregate, OrderByIr, OrderByTarget, SelectIr};
use crate::value::ParamFormat;
use graft_schema::{BoolExp, RelationshipKind};
use graft_sql::ast::{
    ColumnAlias, ColumnName, Expr, From, Join, NullsOrder, Op, OrderByElement, OrderDirection,
    Select, SelectList, Statement, TableAlias, TypeName,
};
use graft_sql::helpers::{builtin, json_agg_or_empty, json_object};

pub(crate) const JSON_COLUMN: &str = "json";

/// The statement for a top-level select: a JSON array of objects.
pub fn select_statement(ir: &SelectIr, ctx: &mut SqlContext) -> Statement {
    let mut select = array_select(ir, None, ctx);
    if let SelectList::Items(items) = &mut select.select_list {
        for (_, alias) in items.iter_mut() {
            *alias = ColumnAlias::new("root");
        }
    }
    Statement::Select(Box::new(select))
}

/// `SELECT coalesce(json_agg("_s"."json" ORDER BY ...), '[]') AS "json" FROM (<rows>) AS "_s"`:
/// the rows as one JSON array, in a column named `json`. With a parent, only the rows related to
/// the parent row through the mapping (parent column, this table's column).
pub fn array_select(
    ir: &SelectIr,
    parent: Option<(&TableAlias, &[(String, String)])>,
    ctx: &mut SqlContext,
) -> Select {
    let (rows, order_keys) = rows_select(ir, parent, false, ctx);
    let alias = ctx.aliases.next_prefixed("s");
    let order_by = order_keys
        .into_iter()
        .map(|(key, direction, nulls)| OrderByElement {
            expr: column(&alias, &key),
            direction,
            nulls,
        })
        .collect();
    let aggregate = json_agg_or_empty(column(&alias, JSON_COLUMN), order_by);
    let mut select = Select::new(vec![(aggregate, ColumnAlias::new(JSON_COLUMN))]);
    select.from = Some(From::Subquery {
        select: Box::new(rows),
        alias,
        lateral: false,
    });
    select
}

/// At most one row, whose column `json` is the object (an object relationship, a by-primary-key
/// root field): `SELECT json_build_object(...) AS "json" FROM ... WHERE ... LIMIT 1`.
pub fn object_select(
    ir: &SelectIr,
    parent: Option<(&TableAlias, &[(String, String)])>,
    ctx: &mut SqlContext,
) -> Select {
    rows_select(ir, parent, true, ctx).0
}

pub(crate) type OrderKey = (String, OrderDirection, Option<NullsOrder>);

/// One row per result object: `json_build_object(...) AS "json"` plus the order keys. With a
/// parent, only the rows related to the parent row; `single` limits to one row (object
/// relationships).
fn rows_select(
    ir: &SelectIr,
    parent: Option<(&TableAlias, &[(String, String)])>,
    single: bool,
    ctx: &mut SqlContext,
) -> (Select, Vec<OrderKey>) {
    if !single && picks_rows_first(ir) {
        return top_n_rows_select(ir, parent, ctx);
    }
    rows_select_with(ir, parent, single, ctx, |alias, joins, ctx| {
        let object = object_expr(&ir.fields, alias, joins, ctx);
        vec![(object, ColumnAlias::new(JSON_COLUMN))]
    })
}

/// Whether a level's rows are picked before its objects are built: a top-N (`order_by` and
/// `limit`) over a table, whose output reads only the row's columns and relationships. The
/// picked rows are a subquery's rows, not the table's row type, so a computed field (a function
/// of the row) keeps the one-SELECT form, as do `distinct_on` and set-returning functions.
fn picks_rows_first(ir: &SelectIr) -> bool {
    ir.limit.is_some()
        && !ir.order_by.is_empty()
        && ir.from_function.is_none()
        && ir.distinct_on.is_empty()
        && !ir
            .fields
            .iter()
            .any(|(_, f)| matches!(f, FieldIr::Computed(_)))
}

/// The top-N form of [`rows_select`]:
///
/// ```sql
/// SELECT json_build_object('name', "_t0"."name", 'albums', "_rel2"."json") AS "json",
///        "_t0"."_ob0" AS "ob0"
/// FROM (SELECT *, "_t0"."name" AS "_ob0" FROM "public"."artist" AS "_t0"
///       WHERE <filter> ORDER BY "_ob0" ASC LIMIT 20) AS "_t0"
/// LEFT JOIN LATERAL (...) AS "_rel2" ON true
/// ```
fn top_n_rows_select(
    ir: &SelectIr,
    parent: Option<(&TableAlias, &[(String, String)])>,
    ctx: &mut SqlContext,
) -> (Select, Vec<OrderKey>) {
    let alias = ctx.aliases.next_alias();
    let mut picked_items = Vec::new();
    let mut picked_order = Vec::new();
    let mut outer_items = Vec::new();
    let mut order_keys = Vec::new();
    for (i, item) in ir.order_by.iter().enumerate() {
        let key = format!("ob{i}");
        let inner_key = format!("_{key}");
        let direction = direction(item.direction);
        let nulls = item.nulls.map(nulls_order);
        picked_items.push((order_expr(&alias, item, ctx), ColumnAlias::new(&inner_key)));
        picked_order.push(OrderByElement {
            expr: Expr::Column {
                table: None,
                column: ColumnName::new(&inner_key),
            },
            direction,
            nulls,
        });
        outer_items.push((column(&alias, &inner_key), ColumnAlias::new(&key)));
        order_keys.push((key, direction, nulls));
    }
    let mut conditions = match parent {
        Some((parent_alias, mapping)) => join_condition(parent_alias, &alias, mapping),
        None => Vec::new(),
    };
    conditions.push(boolexp::translate(&ir.filter, &Scope::root(&alias), ctx));
    let picked = Select {
        select_list: SelectList::StarAnd(picked_items),
        from: Some(From::Table {
            name: table_name(&ir.table),
            alias: alias.clone(),
        }),
        where_: Some(and(conditions)).filter(|w| *w != Expr::Bool(true)),
        order_by: picked_order,
        limit: ir.limit.map(int),
        offset: ir.offset.map(int),
        ..Select::default()
    };
    let mut joins = Vec::new();
    let object = object_expr(&ir.fields, &alias, &mut joins, ctx);
    let mut items = vec![(object, ColumnAlias::new(JSON_COLUMN))];
    items.extend(outer_items);
    let mut select = Select::new(items);
    select.from = Some(From::Subquery {
        select: Box::new(picked),
        alias,
        lateral: false,
    });
    select.joins = joins;
    (select, order_keys)
}

/// The rows of `ir` (filtered, distinct, ordered, limited), with the select items `items` makes
/// from the row's alias (adding the joins they need) followed by the order keys `ob<i>`.
pub(crate) fn rows_select_with(
    ir: &SelectIr,
    parent: Option<(&TableAlias, &[(String, String)])>,
    single: bool,
    ctx: &mut SqlContext,
    items: impl FnOnce(&TableAlias, &mut Vec<Join>, &mut SqlContext) -> Vec<(Expr, ColumnAlias)>,
) -> (Select, Vec<OrderKey>) {
    let alias = ctx.aliases.next_alias();
    let mut joins = Vec::new();
    let mut items = items(&alias, &mut joins, ctx);
    let mut order_by = Vec::new();
    let mut order_keys = Vec::new();
    if !single {
        for (i, item) in ir.order_by.iter().enumerate() {
            let expr = order_expr(&alias, item, ctx);
            let key = format!("ob{i}");
            let direction = direction(item.direction);
            let nulls = item.nulls.map(nulls_order);
            // Ordering by the output column evaluates a relationship subquery once, not twice.
            let output = Expr::Column {
                table: None,
                column: ColumnName::new(&key),
            };
            items.push((expr, ColumnAlias::new(&key)));
            order_by.push(OrderByElement {
                expr: output,
                direction,
                nulls,
            });
            order_keys.push((key, direction, nulls));
        }
    }
    let mut conditions = match parent {
        Some((parent_alias, mapping)) => join_condition(parent_alias, &alias, mapping),
        None => Vec::new(),
    };
    conditions.push(boolexp::translate(&ir.filter, &Scope::root(&alias), ctx));
    let mut select = Select::new(items);
    if !single {
        select.distinct_on = ir.distinct_on.iter().map(|c| column(&alias, c)).collect();
    }
    select.from = Some(match &ir.from_function {
        Some(source) => {
            // A computed field's function reads the parent row; there is no join mapping.
            let row = parent.map(|(parent_alias, _)| parent_alias.clone());
            From::Function {
                call: function_call(&source.function, &source.arguments, row.as_ref(), ctx),
                with_ordinality: false,
                alias,
                columns: Vec::new(),
                lateral: false,
            }
        }
        None => From::Table {
            name: table_name(&ir.table),
            alias,
        },
    });
    select.joins = joins;
    select.where_ = Some(and(conditions)).filter(|w| *w != Expr::Bool(true));
    select.order_by = order_by;
    select.limit = if single {
        Some(Expr::Int(1))
    } else {
        ir.limit.map(int)
    };
    select.offset = if single { None } else { ir.offset.map(int) };
    (select, order_keys)
}

/// `json_build_object('key', value, ...)` of one row (alias `alias`), keys in output order.
/// Relationships become `LEFT JOIN LATERAL` subqueries pushed onto `joins`.
pub(crate) fn object_expr(
    fields: &[(String, FieldIr)],
    alias: &TableAlias,
    joins: &mut Vec<Join>,
    ctx: &mut SqlContext,
) -> Expr {
    let mut pairs: Vec<(String, Expr)> = Vec::with_capacity(fields.len());
    for (key, field) in fields {
        let nested = match field {
            FieldIr::Column(c) => {
                pairs.push((key.clone(), output_column(alias, c, ctx)));
                continue;
            }
            FieldIr::Typename(name) => {
                pairs.push((key.clone(), Expr::StringLiteral(name.clone())));
                continue;
            }
            FieldIr::Computed(c) => {
                pairs.push((key.clone(), computed_output(alias, c, ctx)));
                continue;
            }
            FieldIr::Relationship(rel) => match rel.kind {
                RelationshipKind::Object => {
                    object_select(&rel.select, Some((alias, &rel.mapping)), ctx)
                }
                RelationshipKind::Array => {
                    array_select(&rel.select, Some((alias, &rel.mapping)), ctx)
                }
            },
            FieldIr::RelationshipAggregate(rel) => {
                aggregate::aggregate_select(&rel.aggregate, Some((alias, &rel.mapping)), ctx)
            }
        };
        let rel_alias = ctx.aliases.next_prefixed("rel");
        joins.push(Join::Left {
            from: From::Subquery {
                select: Box::new(nested),
                alias: rel_alias.clone(),
                lateral: true,
            },
            on: Expr::Bool(true),
        });
        pairs.push((key.clone(), column(&rel_alias, JSON_COLUMN)));
    }
    json_object(pairs)
}

/// A column as it goes into the JSON object: as text when numbers are stringified, the part at
/// its path for a json column with one (`"_t0"."doc" #> $2::text[]`).
pub fn output_column(alias: &TableAlias, field: &ir::ColumnField, ctx: &mut SqlContext) -> Expr {
    let mut value = column(alias, &field.column);
    if crate::boolexp::is_postgis(&field.pg_type) {
        // GeoJSON, as Hasura outputs geometry and geography (15 digits, long CRS names).
        value = cast(
            Expr::FunctionCall(Box::new(graft_sql::FunctionCall::new(
                graft_sql::FunctionName::Builtin("ST_AsGeoJSON"),
                vec![value, Expr::Int(15), Expr::Int(4)],
            ))),
            TypeName::new("json"),
        );
    }
    if let Some(path) = &field.json_path {
        let path = serde_json::Value::Array(path.iter().cloned().map(Into::into).collect());
        let path = ctx.literal(&path, TypeName::new("text").array(), ParamFormat::Array);
        value = Expr::BinaryOp {
            left: Box::new(value),
            op: Op::JsonGetPath,
            right: Box::new(path),
        };
    }
    let value = if field.as_text {
        cast(value, TypeName::new("text"))
    } else {
        value
    };
    redact(value, field.redaction.as_deref(), alias, ctx)
}

/// `CASE WHEN <condition> THEN value ELSE NULL END`: a value an inherited role may see only in
/// the rows matching `condition` (checked on the row `alias`).
pub(crate) fn redact(
    value: Expr,
    condition: Option<&BoolExp>,
    alias: &TableAlias,
    ctx: &mut SqlContext,
) -> Expr {
    match condition {
        None => value,
        Some(condition) => {
            let when = crate::boolexp::translate(condition, &Scope::root(alias), ctx);
            Expr::Case(Box::new(graft_sql::Case {
                when_then: vec![(when, value)],
                else_: Some(Expr::Null),
            }))
        }
    }
}

/// A scalar computed field of the row `alias`: `"public"."full_name"("_t0")`.
pub(crate) fn computed_output(
    alias: &TableAlias,
    field: &ir::ComputedScalarField,
    ctx: &mut SqlContext,
) -> Expr {
    let value = Expr::FunctionCall(Box::new(function_call(
        &field.function,
        &field.arguments,
        Some(alias),
        ctx,
    )));
    let value = if field.as_text {
        cast(value, TypeName::new("text"))
    } else {
        value
    };
    redact(value, field.redaction.as_deref(), alias, ctx)
}

/// `"schema"."fn"(args...)`, `row` standing for the `Row` argument (NULL without one).
fn function_call(
    function: &graft_metadata::QualifiedFunction,
    arguments: &[ir::ComputedArgument],
    row: Option<&TableAlias>,
    ctx: &mut SqlContext,
) -> graft_sql::FunctionCall {
    let args = arguments
        .iter()
        .map(|argument| match (argument, row) {
            (ir::ComputedArgument::Row, Some(row)) => Expr::TableRow(row.clone()),
            (ir::ComputedArgument::Row, None) => Expr::Null,
            (ir::ComputedArgument::Session, _) => ctx.session_json(),
            (ir::ComputedArgument::Value(value, pg_type), _) => ctx.column_literal(value, pg_type),
        })
        .collect();
    graft_sql::FunctionCall::new(
        graft_sql::FunctionName::Qualified {
            schema: Some(function.schema.clone()),
            name: function.name.clone(),
        },
        args,
    )
}

/// A column of the row, or of a row reached through object relationships:
/// `(SELECT "_t3"."name" FROM "public"."author" AS "_t3" WHERE "_t0"."author_id" = "_t3"."id" LIMIT 1)`,
/// or an aggregate of an array relationship of that row:
/// `(SELECT count(*) FROM "public"."article" AS "_t4" WHERE "_t0"."id" = "_t4"."author_id")`.
fn order_expr(alias: &TableAlias, item: &OrderByIr, ctx: &mut SqlContext) -> Expr {
    fn hop(
        parent: &TableAlias,
        hops: &[ir::OrderByHop],
        item: &OrderByIr,
        ctx: &mut SqlContext,
    ) -> Expr {
        let redaction = item.redaction.as_deref();
        let Some((first, rest)) = hops.split_first() else {
            return match &item.target {
                OrderByTarget::Column(name) => redact(column(parent, name), redaction, parent, ctx),
                OrderByTarget::Computed(field) => computed_output(parent, field, ctx),
                OrderByTarget::Aggregate {
                    relationship,
                    value,
                } => {
                    let alias = ctx.aliases.next_alias();
                    let value = match value {
                        OrderByAggregate::Count => builtin("count", vec![Expr::Star]),
                        OrderByAggregate::Function(function, name) => {
                            let input = redact(column(&alias, name), redaction, &alias, ctx);
                            builtin(function.sql_name(), vec![input])
                        }
                    };
                    related_value(parent, relationship, alias, value, false, ctx)
                }
            };
        };
        let alias = ctx.aliases.next_alias();
        let value = hop(&alias, rest, item, ctx);
        related_value(parent, first, alias, value, true, ctx)
    }
    hop(alias, &item.path, item, ctx)
}

/// `(SELECT value FROM target AS alias WHERE <mapping> AND <filter> [LIMIT 1])`
fn related_value(
    parent: &TableAlias,
    relationship: &ir::OrderByHop,
    alias: TableAlias,
    value: Expr,
    single: bool,
    ctx: &mut SqlContext,
) -> Expr {
    let mut conditions = join_condition(parent, &alias, &relationship.mapping);
    conditions.push(boolexp::translate(
        &relationship.filter,
        &Scope::root(&alias),
        ctx,
    ));
    let mut select = Select::new(vec![(value, ColumnAlias::new("key"))]);
    select.from = Some(From::Table {
        name: table_name(&relationship.target),
        alias,
    });
    select.where_ = Some(and(conditions));
    select.limit = single.then_some(Expr::Int(1));
    Expr::ScalarSubquery(Box::new(select))
}

fn direction(direction: ir::OrderDirection) -> OrderDirection {
    match direction {
        ir::OrderDirection::Asc => OrderDirection::Asc,
        ir::OrderDirection::Desc => OrderDirection::Desc,
    }
}

fn nulls_order(nulls: ir::NullsOrder) -> NullsOrder {
    match nulls {
        ir::NullsOrder::First => NullsOrder::First,
        ir::NullsOrder::Last => NullsOrder::Last,
    }
}

fn int(n: u64) -> Expr {
    Expr::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `{"count": n}`:
/// `SELECT json_build_object('count', count(*)) AS "root" FROM "s"."t" AS "_t0" WHERE ...`, or
/// with `distinct`, counting the rows of `(SELECT DISTINCT "_t0"."a" FROM ... WHERE ...)` (which,
/// unlike `count(DISTINCT a)`, also counts a NULL value as one).
pub fn count_statement(ir: &CountIr, ctx: &mut SqlContext) -> Statement {
    let alias = ctx.aliases.next_alias();
    let where_ = boolexp::where_clause(&ir.filter, &Scope::root(&alias), ctx);
    let table = From::Table {
        name: table_name(&ir.table),
        alias: alias.clone(),
    };
    if ir.distinct.is_empty() {
        return Statement::Select(Box::new(count_of(Some(table), where_)));
    }
    let columns: Vec<Expr> = ir.distinct.iter().map(|c| column(&alias, c)).collect();
    let mut inner = Select::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), ColumnAlias::new(format!("d{i}"))))
            .collect(),
    );
    // DISTINCT ON every selected column is plain DISTINCT.
    inner.distinct_on = columns;
    inner.from = Some(table);
    inner.where_ = where_;
    let from = From::Subquery {
        select: Box::new(inner),
        alias: ctx.aliases.next_prefixed("d"),
        lateral: false,
    };
    Statement::Select(Box::new(count_of(Some(from), None)))
}

fn count_of(from: Option<From>, where_: Option<Expr>) -> Select {
    let count = builtin("count", vec![Expr::Star]);
    let mut select = Select::new(vec![(
        json_object(vec![("count".to_string(), count)]),
        ColumnAlias::new("root"),
    )]);
    select.from = from;
    select.where_ = where_;
    select
}
