//! Makes rows written by a statement's own CTEs visible to the rest of that statement.
//!
//! Every part of one SQL statement reads the snapshot taken when it started: a CTE's inserts
//! are only seen through the CTE itself. Hasura runs nested inserts as several statements, so
//! its `returning { articles { .. } }` and its permission checks see the new rows; graft runs
//! one. So each read of a written table, `SELECT .. FROM "public"."article" AS "a" WHERE <c>`,
//! is rewritten to read the table's rows plus the CTEs' rows:
//!
//! ```sql
//! SELECT .. FROM jsonb_populate_recordset(NULL::"public"."article",
//!     (SELECT coalesce(jsonb_agg(row_to_json("a")), '[]') FROM "public"."article" AS "a"
//!      WHERE <c> AND NOT EXISTS (<the row was rewritten by an upsert CTE>))
//!     || (SELECT coalesce(jsonb_agg(row_to_json("_w")), '[]') FROM "_ins3" AS "_w")) AS "a"
//! WHERE <c>
//! ```
//!
//! The condition `<c>` (the relationship's join and filter) is repeated inside, so the table
//! part still uses its indexes; the CTE part holds only the statement's own rows. The SQL AST
//! has no UNION, hence the JSON round trip, which every column type survives.

use crate::boolexp::{column, table_name};
use graft_metadata::QualifiedTable;
use graft_schema::SourceModel;
use graft_sql::ast::{
    AliasGenerator, ColumnAlias, Expr, From, FunctionCall, FunctionName, Join, Select, SelectList,
    TableAlias, TableName, TypeName,
};
use graft_sql::helpers::builtin;

/// The CTEs that wrote rows, per table, in statement order.
#[derive(Debug, Default, Clone)]
pub(crate) struct WrittenRows {
    tables: Vec<(QualifiedTable, Vec<(TableAlias, bool)>)>,
}

impl WrittenRows {
    pub fn add(&mut self, table: &QualifiedTable, cte: TableAlias, updates_existing: bool) {
        match self.tables.iter_mut().find(|(t, _)| t == table) {
            Some((_, ctes)) => ctes.push((cte, updates_existing)),
            None => self
                .tables
                .push((table.clone(), vec![(cte, updates_existing)])),
        }
    }

    fn ctes_of(&self, name: &TableName) -> Option<(&QualifiedTable, &[(TableAlias, bool)])> {
        self.tables
            .iter()
            .find(|(t, _)| t.schema == name.schema && t.name == name.name)
            .map(|(t, ctes)| (t, ctes.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// Rewrites every read of a written table in `select` (and in its subqueries).
pub(crate) fn rewrite_select(
    select: &mut Select,
    written: &WrittenRows,
    source: &SourceModel,
    aliases: &mut AliasGenerator,
) {
    if written.is_empty() {
        return;
    }
    let mut rewriter = Rewriter {
        written,
        source,
        aliases,
    };
    rewriter.select(select);
}

/// Rewrites every read of a written table inside `expr`.
pub(crate) fn rewrite_expr(
    expr: &mut Expr,
    written: &WrittenRows,
    source: &SourceModel,
    aliases: &mut AliasGenerator,
) {
    if written.is_empty() {
        return;
    }
    let mut rewriter = Rewriter {
        written,
        source,
        aliases,
    };
    rewriter.expr(expr);
}

/// `jsonb_populate_recordset(NULL::<table>, <jsonb array>)`: rows of `table` from JSON.
pub(crate) fn rows_from_json(table: &QualifiedTable, rows: Expr, alias: TableAlias) -> From {
    From::Function {
        call: FunctionCall::new(
            FunctionName::Builtin("jsonb_populate_recordset"),
            vec![
                Expr::Cast {
                    expr: Box::new(Expr::Null),
                    ty: TypeName::qualified(&table.schema, &table.name),
                },
                rows,
            ],
        ),
        with_ordinality: false,
        alias,
        columns: Vec::new(),
        lateral: false,
    }
}

/// `(SELECT coalesce(jsonb_agg(row_to_json("a")), '[]'::jsonb) FROM <from> WHERE <where_>)`
pub(crate) fn rows_as_jsonb(from: From, where_: Option<Expr>) -> Expr {
    let alias = from.alias().clone();
    let aggregate = builtin("jsonb_agg", vec![Expr::RowToJson(alias)]);
    let empty = Expr::Cast {
        expr: Box::new(Expr::StringLiteral("[]".to_string())),
        ty: TypeName::new("jsonb"),
    };
    let mut select = Select::new(vec![(
        builtin("coalesce", vec![aggregate, empty]),
        ColumnAlias::new("rows"),
    )]);
    select.from = Some(from);
    select.where_ = where_;
    Expr::ScalarSubquery(Box::new(select))
}

/// `a || b || ...`
pub(crate) fn concat(parts: Vec<Expr>) -> Option<Expr> {
    parts.into_iter().reduce(|left, right| Expr::BinaryOp {
        left: Box::new(left),
        op: graft_sql::ast::Op::Concat,
        right: Box::new(right),
    })
}

struct Rewriter<'w> {
    written: &'w WrittenRows,
    source: &'w SourceModel,
    aliases: &'w mut AliasGenerator,
}

impl Rewriter<'_> {
    fn select(&mut self, select: &mut Select) {
        if let Some(with) = &mut select.with {
            for cte in &mut with.ctes {
                if let graft_sql::ast::Statement::Select(inner) = &mut cte.statement {
                    self.select(inner);
                }
            }
        }
        self.select_list(&mut select.select_list);
        if let Some(from) = &mut select.from {
            self.from(from);
        }
        for join in &mut select.joins {
            match join {
                Join::Left { from, on } | Join::Inner { from, on } => {
                    self.from(from);
                    self.expr(on);
                }
                Join::Cross { from } => self.from(from),
            }
        }
        for expr in select
            .distinct_on
            .iter_mut()
            .chain(select.where_.iter_mut())
            .chain(select.group_by.iter_mut())
            .chain(select.having.iter_mut())
            .chain(select.order_by.iter_mut().map(|o| &mut o.expr))
        {
            self.expr(expr);
        }
        let Some(From::Table { name, alias }) = &select.from else {
            return;
        };
        let Some((table, ctes)) = self.written.ctes_of(name) else {
            return;
        };
        let (table, ctes, name, alias) =
            (table.clone(), ctes.to_vec(), name.clone(), alias.clone());
        let replaced = self.visible_rows(&table, &ctes, &name, &alias, select.where_.clone());
        select.from = Some(replaced);
    }

    fn select_list(&mut self, list: &mut SelectList) {
        match list {
            SelectList::Items(items) | SelectList::StarAnd(items) => {
                for (expr, _) in items {
                    self.expr(expr);
                }
            }
            SelectList::Star => {}
        }
    }

    fn from(&mut self, from: &mut From) {
        match from {
            From::Subquery { select, .. } => self.select(select),
            From::Function { call, .. } => {
                for arg in &mut call.args {
                    self.expr(arg);
                }
            }
            From::Table { .. } | From::Cte { .. } => {}
        }
    }

    fn expr(&mut self, expr: &mut Expr) {
        match expr {
            Expr::FunctionCall(call) => {
                for arg in &mut call.args {
                    self.expr(arg);
                }
                if let Some(filter) = &mut call.filter {
                    self.expr(filter);
                }
                for item in &mut call.order_by {
                    self.expr(&mut item.expr);
                }
            }
            Expr::BinaryOp { left, right, .. } | Expr::Quantified { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            Expr::InList { expr, list, .. } => {
                self.expr(expr);
                for item in list {
                    self.expr(item);
                }
            }
            Expr::And(items) | Expr::Or(items) | Expr::Array(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            Expr::Not(inner) | Expr::IsNull(inner) | Expr::IsNotNull(inner) => self.expr(inner),
            Expr::Cast { expr, .. } => self.expr(expr),
            Expr::Exists(select) | Expr::ScalarSubquery(select) => self.select(select),
            Expr::Case(case) => {
                for (when, then) in &mut case.when_then {
                    self.expr(when);
                    self.expr(then);
                }
                if let Some(else_) = &mut case.else_ {
                    self.expr(else_);
                }
            }
            // Leaves: columns, parameters, literals, whole rows.
            _ => {}
        }
    }

    /// The table's rows matching `where_` (minus those an upsert or update CTE rewrote) plus
    /// the CTEs' rows, under the same alias.
    fn visible_rows(
        &mut self,
        table: &QualifiedTable,
        ctes: &[(TableAlias, bool)],
        name: &TableName,
        alias: &TableAlias,
        where_: Option<Expr>,
    ) -> From {
        let primary_key = self
            .source
            .table(table)
            .map(|t| t.primary_key.clone())
            .unwrap_or_default();
        let mut snapshot_conditions: Vec<Expr> = where_.into_iter().collect();
        if !primary_key.is_empty() {
            for (cte, updates_existing) in ctes {
                if !updates_existing {
                    continue;
                }
                let written = self.aliases.next_prefixed("w");
                let same_row = primary_key
                    .iter()
                    .map(|c| graft_sql::helpers::eq(column(&written, c), column(alias, c)))
                    .collect();
                let mut probe = Select::new(vec![(Expr::Int(1), ColumnAlias::new("one"))]);
                probe.from = Some(From::Cte {
                    cte: cte.clone(),
                    alias: written,
                });
                probe.where_ = Some(crate::boolexp::and(same_row));
                snapshot_conditions.push(Expr::Not(Box::new(Expr::Exists(Box::new(probe)))));
            }
        }
        let snapshot_where = match snapshot_conditions.len() {
            0 => None,
            _ => Some(crate::boolexp::and(snapshot_conditions)),
        };
        let mut parts = vec![rows_as_jsonb(
            From::Table {
                name: table_name(table),
                alias: alias.clone(),
            },
            snapshot_where,
        )];
        for (cte, _) in ctes {
            let written = self.aliases.next_prefixed("w");
            parts.push(rows_as_jsonb(
                From::Cte {
                    cte: cte.clone(),
                    alias: written,
                },
                None,
            ));
        }
        let _ = name;
        let rows = concat(parts).unwrap_or(Expr::Null);
        rows_from_json(table, rows, alias.clone())
    }
}
