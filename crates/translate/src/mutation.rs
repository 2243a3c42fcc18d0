//! `InsertIr`/`UpdateIr`/`DeleteIr` → one statement: the write as a data-modifying CTE, and a
//! SELECT over its RETURNING rows that builds the response.
//!
//! ```sql
//! WITH "_mut" AS (INSERT INTO "public"."author" AS "_t0" ("id", "name")
//!                 VALUES ($2::"pg_catalog"."int4", $3::"pg_catalog"."text")
//!                 RETURNING *, <check on "_t0"> AS "check__")
//! SELECT json_build_object(
//!   'data', json_build_object('affected_rows', (SELECT count(*) FROM "_mut" AS "_t1"),
//!                             'returning', (SELECT coalesce(json_agg(...), '[]') FROM "_mut" AS "_t2")),
//!   'check', (SELECT coalesce(bool_and("_t3"."check__"), true) FROM "_mut" AS "_t3")) AS "root"
//! ```
//!
//! With a permission check, the statement's JSON is `{"data": <response>, "check": <bool>}`:
//! when `check` is false some written row broke the role's check, and the caller must roll the
//! transaction back and answer a permission error. Without a check it is the response itself.

use crate::boolexp::{self, Scope, SqlContext, cast, column, table_name, type_name};
use crate::ir::{
    ConflictAction, ConflictTarget, DeleteIr, FieldIr, InsertIr, InsertValue, MutationOutput,
    UpdateIr, UpdateOp, ValueIr,
};
use crate::select::output_column;
use graft_catalog::PgType;
use graft_schema::BoolExp;
use graft_sql::ast::{
    self, Case, ColumnAlias, ColumnName, Cte, Delete, Expr, From, Insert, InsertSource, OnConflict,
    Op, Select, SelectList, Statement, TableAlias, TypeName, Update, With,
};
use graft_sql::helpers::{builtin as call, json_agg_or_empty, json_object};

const CHECK_COLUMN: &str = "check__";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MutationSqlError {
    /// The SQL AST has no `DEFAULT` expression for `UPDATE ... SET`.
    #[error("setting a column to its default in an update is not supported yet")]
    UpdateDefault,
}

/// A mutation statement and whether its result is wrapped as `{"data", "check"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationStatement {
    pub statement: Statement,
    pub has_check: bool,
}

pub fn insert_statement(ir: &InsertIr, ctx: &mut SqlContext) -> MutationStatement {
    if ir.rows.is_empty() {
        return MutationStatement {
            statement: Statement::Select(Box::new(empty_response(&ir.output))),
            has_check: false,
        };
    }
    let alias = ctx.aliases.next_alias();
    let rows = ir
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&ir.columns)
                .map(|(value, col)| match value {
                    InsertValue::Default => ast::InsertValue::Default,
                    InsertValue::Value(v) => {
                        ast::InsertValue::Expr(value_expr(v, &col.pg_type, ctx))
                    }
                })
                .collect()
        })
        .collect();
    let on_conflict = ir.on_conflict.as_ref().map(|oc| {
        let target = oc.target.as_ref().map(|t| match t {
            ConflictTarget::Constraint(name) => ast::ConflictTarget::Constraint(name.clone()),
            ConflictTarget::Columns(cols) => {
                ast::ConflictTarget::Columns(cols.iter().map(ColumnName::new).collect())
            }
        });
        let action = match &oc.action {
            ConflictAction::DoUpdate(update) if !update.columns.is_empty() => {
                ast::ConflictAction::DoUpdate {
                    set: update
                        .columns
                        .iter()
                        .map(|c| (ColumnName::new(c), Expr::Excluded(ColumnName::new(c))))
                        .collect(),
                    where_: boolexp::where_clause(&update.filter, &Scope::root(&alias), ctx),
                }
            }
            _ => ast::ConflictAction::DoNothing,
        };
        OnConflict { target, action }
    });
    // An upserted row that already existed (xmax is set) answers to the update check instead.
    let update_check = ir.on_conflict.as_ref().and_then(|oc| match &oc.action {
        ConflictAction::DoUpdate(update) => {
            Some(update.check.clone().unwrap_or_else(BoolExp::always_true))
        }
        ConflictAction::DoNothing => None,
    });
    let check = ir.check.as_ref().map(|insert_check| {
        let on_insert = boolexp::translate(insert_check, &Scope::root(&alias), ctx);
        match &update_check {
            None => on_insert,
            Some(update_check) => {
                let on_update = boolexp::translate(update_check, &Scope::root(&alias), ctx);
                let inserted = Expr::BinaryOp {
                    left: Box::new(cast(column(&alias, "xmax"), TypeName::new("text"))),
                    op: Op::Eq,
                    right: Box::new(Expr::StringLiteral("0".to_string())),
                };
                Expr::Case(Box::new(Case {
                    when_then: vec![(inserted, on_insert)],
                    else_: Some(on_update),
                }))
            }
        }
    });
    let has_check = check.is_some();
    let insert = Insert {
        with: None,
        table: table_name(&ir.table),
        alias: Some(alias),
        columns: ir
            .columns
            .iter()
            .map(|c| ColumnName::new(&c.name))
            .collect(),
        source: InsertSource::Values(rows),
        on_conflict,
        returning: Some(returning_list(check)),
    };
    wrap(
        Statement::Insert(Box::new(insert)),
        &ir.output,
        has_check,
        ctx,
    )
}

pub fn update_statement(
    ir: &UpdateIr,
    ctx: &mut SqlContext,
) -> Result<MutationStatement, MutationSqlError> {
    let alias = ctx.aliases.next_alias();
    let mut set = Vec::with_capacity(ir.set.len());
    for col in &ir.set {
        let current = column(&alias, &col.name);
        let value = match &col.op {
            UpdateOp::Set(v) => value_expr(v, &col.pg_type, ctx),
            UpdateOp::Inc(v) => arithmetic(current, Op::Plus, value_expr(v, &col.pg_type, ctx)),
            UpdateOp::Mul(v) => arithmetic(current, Op::Multiply, value_expr(v, &col.pg_type, ctx)),
            UpdateOp::Default => return Err(MutationSqlError::UpdateDefault),
        };
        set.push((ColumnName::new(&col.name), value));
    }
    let where_ = boolexp::where_clause(&ir.filter, &Scope::root(&alias), ctx);
    let check = ir
        .check
        .as_ref()
        .map(|c| boolexp::translate(c, &Scope::root(&alias), ctx));
    let has_check = check.is_some();
    let update = Update {
        with: None,
        table: table_name(&ir.table),
        alias,
        set,
        from: None,
        where_,
        returning: Some(returning_list(check)),
    };
    Ok(wrap(
        Statement::Update(Box::new(update)),
        &ir.output,
        has_check,
        ctx,
    ))
}

pub fn delete_statement(ir: &DeleteIr, ctx: &mut SqlContext) -> MutationStatement {
    let alias = ctx.aliases.next_alias();
    let where_ = boolexp::where_clause(&ir.filter, &Scope::root(&alias), ctx);
    let delete = Delete {
        with: None,
        table: table_name(&ir.table),
        alias,
        where_,
        returning: Some(SelectList::Star),
    };
    wrap(Statement::Delete(Box::new(delete)), &ir.output, false, ctx)
}

/// A value written to a column of type `pg_type`.
fn value_expr(value: &ValueIr, pg_type: &PgType, ctx: &mut SqlContext) -> Expr {
    match value {
        ValueIr::Literal(json) => ctx.column_literal(json, pg_type),
        ValueIr::Session(name) => cast(ctx.session_variable(name), type_name(pg_type)),
    }
}

fn arithmetic(left: Expr, op: Op, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

fn returning_list(check: Option<Expr>) -> SelectList {
    match check {
        None => SelectList::Star,
        // A check that is NULL (a comparison with NULL) fails, as in Hasura; bool_and would skip it.
        Some(check) => SelectList::StarAnd(vec![(
            call("coalesce", vec![check, Expr::Bool(false)]),
            ColumnAlias::new(CHECK_COLUMN),
        )]),
    }
}

/// `WITH "_mut" AS (<write>) SELECT <response> AS "root"`.
fn wrap(
    write: Statement,
    output: &MutationOutput,
    has_check: bool,
    ctx: &mut SqlContext,
) -> MutationStatement {
    let cte = ctx.aliases.next_prefixed("mut");
    let mut response = response(&cte, output, ctx);
    if has_check {
        let rows = ctx.aliases.next_alias();
        let bool_and = call("bool_and", vec![column(&rows, CHECK_COLUMN)]);
        let check = scalar_over(
            &cte,
            rows,
            call("coalesce", vec![bool_and, Expr::Bool(true)]),
        );
        response = json_object(vec![
            ("data".to_string(), response),
            ("check".to_string(), check),
        ]);
    }
    let mut select = Select::new(vec![(response, ColumnAlias::new("root"))]);
    select.with = Some(With {
        ctes: vec![Cte {
            alias: cte,
            statement: write,
        }],
    });
    MutationStatement {
        statement: Statement::Select(Box::new(select)),
        has_check,
    }
}

/// `json_build_object('affected_rows', (SELECT count(*) ...), 'returning', (SELECT coalesce(json_agg(...), '[]') ...))`
fn response(cte: &TableAlias, output: &MutationOutput, ctx: &mut SqlContext) -> Expr {
    let rows = ctx.aliases.next_alias();
    let count = call("count", vec![Expr::Star]);
    let mut pairs = vec![("affected_rows".to_string(), scalar_over(cte, rows, count))];
    if let Some(fields) = &output.returning {
        let rows = ctx.aliases.next_alias();
        let object = json_object(
            fields
                .iter()
                .map(|(key, field)| {
                    let value = match field {
                        FieldIr::Column(c) => output_column(&rows, c, ctx),
                        // v1 `returning` names columns only; nested selects are the GraphQL engine's.
                        FieldIr::Typename(name) => Expr::StringLiteral(name.clone()),
                        FieldIr::Computed(c) => crate::select::computed_output(&rows, c, ctx),
                        FieldIr::Relationship(_) | FieldIr::RelationshipAggregate(_) => Expr::Null,
                    };
                    (key.clone(), value)
                })
                .collect(),
        );
        pairs.push((
            "returning".to_string(),
            scalar_over(cte, rows, json_agg_or_empty(object, Vec::new())),
        ));
    }
    json_object(pairs)
}

/// `(SELECT <value> FROM "<cte>" AS "<alias>")`
fn scalar_over(cte: &TableAlias, alias: TableAlias, value: Expr) -> Expr {
    let mut select = Select::new(vec![(value, ColumnAlias::new("value"))]);
    select.from = Some(From::Cte {
        cte: cte.clone(),
        alias,
    });
    Expr::ScalarSubquery(Box::new(select))
}

/// The answer to an insert of no objects: nothing to write.
fn empty_response(output: &MutationOutput) -> Select {
    let mut pairs = vec![("affected_rows".to_string(), Expr::Int(0))];
    if output.returning.is_some() {
        pairs.push((
            "returning".to_string(),
            cast(Expr::StringLiteral("[]".to_string()), TypeName::new("json")),
        ));
    }
    Select::new(vec![(json_object(pairs), ColumnAlias::new("root"))])
}
