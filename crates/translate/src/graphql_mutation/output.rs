//! What a mutation field answers, built over its CTEs' rows: `<t>_mutation_response`
//! (`affected_rows`, `returning`, `__typename`) or one row object (`_one`, `_by_pk` fields).
//!
//! `returning` is a selection like any query (relationships, aggregates, custom names), made by
//! the query builders, and then pointed at the written rows instead of the table. As in Hasura,
//! the rows themselves are not filtered by the role's select permission (they are the rows the
//! role just wrote); what it may select was decided by its schema, and the relationships it
//! crosses keep their filters.

use super::query_parts::select;
use super::visible::{self, concat, rows_as_jsonb, rows_from_json};
use super::{MutationContext, StatementBuilder};
use crate::boolexp::{SqlContext, cast, column};
use crate::graphql::GraphqlError;
use crate::ir::SelectIr;
use graft_gql::Field;
use graft_schema::{BoolExp, TableModel};
use graft_sql::ast::{ColumnAlias, Expr, From, Op, Select, TableAlias, TypeName};
use graft_sql::helpers::{builtin, json_object};

const CHECK_COLUMN: &str = "check__";

/// The rows a field answers with: those of `ctes`, all rows of the field's table.
pub(crate) struct RootRows<'t> {
    pub table: &'t TableModel,
    pub ctes: Vec<TableAlias>,
    /// Relationships read rows written by the statement (nested inserts): see [`visible`].
    pub see_written: bool,
}

/// `(SELECT coalesce(bool_and("_t"."check__"), true) FROM "<cte>" AS "_t")`
pub(crate) fn all_checks_pass(cte: &TableAlias, sql: &mut SqlContext) -> Expr {
    let rows = sql.aliases.next_alias();
    let bool_and = builtin("bool_and", vec![column(&rows, CHECK_COLUMN)]);
    scalar_over(
        cte,
        rows,
        builtin("coalesce", vec![bool_and, Expr::Bool(true)]),
    )
}

/// `RETURNING *, coalesce(<check>, false) AS "check__"`: a NULL check (a comparison with NULL)
/// fails, as in Hasura; `bool_and` would skip it.
pub(crate) fn returning_list(check: Option<Expr>) -> graft_sql::ast::SelectList {
    match check {
        None => graft_sql::ast::SelectList::Star,
        Some(check) => graft_sql::ast::SelectList::StarAnd(vec![(
            builtin("coalesce", vec![check, Expr::Bool(false)]),
            ColumnAlias::new(CHECK_COLUMN),
        )]),
    }
}

/// `{affected_rows, returning, __typename}` as the selection asks, over `rows`.
pub(crate) fn mutation_response(
    ctx: &MutationContext<'_>,
    builder: &mut StatementBuilder,
    field: &Field,
    rows: &RootRows<'_>,
    path: &str,
) -> Result<Expr, GraphqlError> {
    let mut pairs = Vec::with_capacity(field.selection.len());
    for sub in &field.selection {
        let here = format!("{path}.selectionSet.{}", sub.alias);
        let value = match sub.name.as_str() {
            "__typename" => Expr::StringLiteral(sub.parent_type.clone()),
            "affected_rows" => affected_rows(builder),
            "returning" => {
                let ir = returning_ir(ctx, rows.table, sub, &here)?;
                let mut select = crate::select::array_select(&ir, None, &mut builder.sql);
                if let Some(From::Subquery { select: inner, .. }) = &mut select.from {
                    point_at_rows(inner, rows, builder);
                }
                finish_select(ctx, builder, &mut select, rows);
                Expr::ScalarSubquery(Box::new(select))
            }
            other => return Err(GraphqlError::field_not_found(other, &sub.parent_type, here)),
        };
        pairs.push((sub.alias.clone(), value));
    }
    Ok(json_object(pairs))
}

/// The first row of `rows` as the field's object, or JSON null.
pub(crate) fn single_row(
    ctx: &MutationContext<'_>,
    builder: &mut StatementBuilder,
    field: &Field,
    rows: &RootRows<'_>,
    path: &str,
) -> Result<Expr, GraphqlError> {
    let ir = returning_ir(ctx, rows.table, field, path)?;
    let mut select = crate::select::object_select(&ir, None, &mut builder.sql);
    point_at_rows(&mut select, rows, builder);
    finish_select(ctx, builder, &mut select, rows);
    Ok(builtin(
        "coalesce",
        vec![Expr::ScalarSubquery(Box::new(select)), json_null()],
    ))
}

/// The answer of a mutation that writes nothing: no rows, `affected_rows` 0.
pub(crate) fn empty_response(field: &Field, single: bool) -> Expr {
    if single {
        return json_null();
    }
    let pairs = field
        .selection
        .iter()
        .map(|sub| {
            let value = match sub.name.as_str() {
                "affected_rows" => Expr::Int(0),
                "returning" => cast(Expr::StringLiteral("[]".to_string()), TypeName::new("json")),
                _ => Expr::StringLiteral(sub.parent_type.clone()),
            };
            (sub.alias.clone(), value)
        })
        .collect();
    json_object(pairs)
}

fn json_null() -> Expr {
    cast(
        Expr::StringLiteral("null".to_string()),
        TypeName::new("json"),
    )
}

/// Every row the statement wrote: `(SELECT count(*) FROM "_ins0") + (SELECT count(*) ...)`.
fn affected_rows(builder: &mut StatementBuilder) -> Expr {
    let ctes = builder.written_ctes();
    let counts: Vec<Expr> = ctes
        .iter()
        .map(|cte| {
            let rows = builder.sql.aliases.next_alias();
            scalar_over(cte, rows, builtin("count", vec![Expr::Star]))
        })
        .collect();
    counts
        .into_iter()
        .reduce(|left, right| Expr::BinaryOp {
            left: Box::new(left),
            op: Op::Plus,
            right: Box::new(right),
        })
        .unwrap_or(Expr::Int(0))
}

/// The selection of `field` on `table` as IR, without a row filter or limit (see the module
/// comment) and without the field's own arguments, which are the mutation's.
fn returning_ir(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    field: &Field,
    path: &str,
) -> Result<SelectIr, GraphqlError> {
    let access = ctx
        .query
        .access(table)
        .ok_or_else(|| GraphqlError::field_not_found(&field.name, &field.parent_type, path))?;
    let mut bare = field.clone();
    bare.arguments.clear();
    let mut ir = select::list_select(&ctx.query, table, access, &bare, path)?;
    ir.filter = BoolExp::always_true();
    ir.limit = None;
    Ok(ir)
}

/// Replaces the table read of a rows select (`FROM "public"."t" AS "_t3"`) with the written rows.
fn point_at_rows(select: &mut Select, rows: &RootRows<'_>, builder: &mut StatementBuilder) {
    let Some(From::Table { alias, .. }) = &select.from else {
        return;
    };
    let alias = alias.clone();
    select.from = Some(match rows.ctes.as_slice() {
        [cte] if !builder.carries_check(cte) => From::Cte {
            cte: cte.clone(),
            alias,
        },
        // The table's columns alone, in order, without `check__`: a computed field takes the
        // row as the table's composite type, which must match.
        [cte] => {
            let source = builder.sql.aliases.next_alias();
            let columns = rows
                .table
                .columns
                .values()
                .map(|c| (column(&source, &c.name), ColumnAlias::new(c.name.as_str())))
                .collect();
            let mut written = Select::new(columns);
            written.from = Some(From::Cte {
                cte: cte.clone(),
                alias: source,
            });
            From::Subquery {
                select: Box::new(written),
                alias,
                lateral: false,
            }
        }
        ctes => {
            let parts = ctes
                .iter()
                .map(|cte| {
                    let rows_alias = builder.sql.aliases.next_alias();
                    rows_as_jsonb(
                        From::Cte {
                            cte: cte.clone(),
                            alias: rows_alias,
                        },
                        None,
                    )
                })
                .collect();
            let all = concat(parts).unwrap_or(Expr::Null);
            rows_from_json(&rows.table.name, all, alias)
        }
    });
}

fn finish_select(
    ctx: &MutationContext<'_>,
    builder: &mut StatementBuilder,
    select: &mut Select,
    rows: &RootRows<'_>,
) {
    if rows.see_written {
        let written = builder.written.clone();
        visible::rewrite_select(select, &written, ctx.source(), &mut builder.sql.aliases);
    }
}

/// `(SELECT <value> FROM "<cte>" AS "<alias>")`
pub(crate) fn scalar_over(cte: &TableAlias, alias: TableAlias, value: Expr) -> Expr {
    let mut select = Select::new(vec![(value, ColumnAlias::new("value"))]);
    select.from = Some(From::Cte {
        cte: cte.clone(),
        alias,
    });
    Expr::ScalarSubquery(Box::new(select))
}
