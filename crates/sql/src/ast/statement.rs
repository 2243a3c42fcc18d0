//! Statements and their clauses: SELECT, INSERT, UPDATE, DELETE, WITH, FROM, JOIN.

use super::expr::{Expr, FunctionCall, OrderByElement};
use super::names::{ColumnAlias, ColumnName, TableAlias, TableName, TypeName};

/// One complete SQL statement, the unit the printer prints.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Box<Select>),
    Insert(Box<Insert>),
    Update(Box<Update>),
    Delete(Box<Delete>),
}

impl std::convert::From<Select> for Statement {
    fn from(select: Select) -> Self {
        Statement::Select(Box::new(select))
    }
}

impl std::convert::From<Insert> for Statement {
    fn from(insert: Insert) -> Self {
        Statement::Insert(Box::new(insert))
    }
}

impl std::convert::From<Update> for Statement {
    fn from(update: Update) -> Self {
        Statement::Update(Box::new(update))
    }
}

impl std::convert::From<Delete> for Statement {
    fn from(delete: Delete) -> Self {
        Statement::Delete(Box::new(delete))
    }
}

/// `WITH "a" AS (...), "b" AS (...)`. A CTE may be an INSERT, UPDATE or
/// DELETE with RETURNING (mutations are data-modifying CTEs).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct With {
    pub ctes: Vec<Cte>,
}

/// `"alias" AS (statement)`
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    pub alias: TableAlias,
    pub statement: Statement,
}

/// The output columns of a SELECT or a RETURNING clause.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectList {
    /// `expr AS "alias", ...`
    Items(Vec<(Expr, ColumnAlias)>),
    /// `*`
    Star,
    /// `*, expr AS "alias", ...` (mutations: `RETURNING *, <check> AS "check__"`).
    StarAnd(Vec<(Expr, ColumnAlias)>),
}

impl Default for SelectList {
    fn default() -> Self {
        Self::Items(Vec::new())
    }
}

/// A SELECT. Empty vectors and `None` leave their clause out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    pub with: Option<With>,
    /// `DISTINCT ON (a, b)`; the ORDER BY must start with the same expressions.
    pub distinct_on: Vec<Expr>,
    pub select_list: SelectList,
    pub from: Option<From>,
    pub joins: Vec<Join>,
    pub where_: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderByElement>,
    /// An [`Expr::Int`] or an [`Expr::Param`] (cast to an integer type).
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
}

impl Select {
    /// `SELECT <items>` with every other clause empty.
    pub fn new(items: Vec<(Expr, ColumnAlias)>) -> Self {
        Self {
            select_list: SelectList::Items(items),
            ..Self::default()
        }
    }
}

/// One item of a FROM clause or of a JOIN.
#[derive(Debug, Clone, PartialEq)]
pub enum From {
    /// `"schema"."table" AS "alias"`
    Table { name: TableName, alias: TableAlias },
    /// `"cte" AS "alias"`: reads a CTE of an enclosing WITH.
    Cte { cte: TableAlias, alias: TableAlias },
    /// `[LATERAL] (select) AS "alias"`
    Subquery {
        select: Box<Select>,
        alias: TableAlias,
        lateral: bool,
    },
    /// `[LATERAL] f(args) [WITH ORDINALITY] AS "alias"[(columns)]`, e.g.
    /// `json_array_elements($2::json) WITH ORDINALITY AS "_v"("value", "ord")`
    /// or `json_to_recordset($1::json) AS "_v"("id" int4, "name" text)`.
    Function {
        call: FunctionCall,
        with_ordinality: bool,
        alias: TableAlias,
        columns: Vec<FromColumn>,
        lateral: bool,
    },
}

impl From {
    /// The alias this item is known by in the rest of the query.
    pub fn alias(&self) -> &TableAlias {
        match self {
            From::Table { alias, .. }
            | From::Cte { alias, .. }
            | From::Subquery { alias, .. }
            | From::Function { alias, .. } => alias,
        }
    }
}

/// A column in the column list of a function in FROM: a name, plus a type
/// for record-returning functions such as `json_to_recordset`.
#[derive(Debug, Clone, PartialEq)]
pub struct FromColumn {
    pub name: ColumnName,
    pub ty: Option<TypeName>,
}

impl FromColumn {
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: ColumnName::new(name),
            ty: None,
        }
    }

    pub fn typed(name: impl Into<String>, ty: TypeName) -> Self {
        Self {
            name: ColumnName::new(name),
            ty: Some(ty),
        }
    }
}

/// A JOIN. LATERAL is a property of the joined item (see [`From`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Join {
    /// `LEFT JOIN <from> ON <on>`
    Left { from: From, on: Expr },
    /// `INNER JOIN <from> ON <on>`
    Inner { from: From, on: Expr },
    /// `CROSS JOIN <from>`
    Cross { from: From },
}

/// `INSERT INTO "s"."t" AS "alias" ("a", "b") <source> [ON CONFLICT ...] [RETURNING ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub with: Option<With>,
    pub table: TableName,
    pub alias: Option<TableAlias>,
    pub columns: Vec<ColumnName>,
    pub source: InsertSource,
    pub on_conflict: Option<OnConflict>,
    /// `None`: no RETURNING clause.
    pub returning: Option<SelectList>,
}

/// Where the inserted rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertSource {
    /// `VALUES (a, b), (DEFAULT, c)`; every row has one value per column.
    Values(Vec<Vec<InsertValue>>),
    /// `SELECT ...` (e.g. from `json_to_recordset` of the input objects).
    Select(Box<Select>),
    /// `DEFAULT VALUES`
    DefaultValues,
}

/// One value in a VALUES row.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertValue {
    Expr(Expr),
    /// `DEFAULT`: the column's default, for a column some rows do not set.
    Default,
}

/// `ON CONFLICT [target] DO NOTHING | DO UPDATE SET ... [WHERE ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    /// Required by DO UPDATE; optional for DO NOTHING.
    pub target: Option<ConflictTarget>,
    pub action: ConflictAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictTarget {
    /// `ON CONSTRAINT "name"` (how Hasura's `on_conflict.constraint` maps).
    Constraint(String),
    /// `("a", "b")`: a unique index's columns.
    Columns(Vec<ColumnName>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    DoNothing,
    /// `DO UPDATE SET "a" = EXCLUDED."a" WHERE ...`; `set` must not be empty.
    DoUpdate {
        set: Vec<(ColumnName, Expr)>,
        where_: Option<Expr>,
    },
}

/// `UPDATE "s"."t" AS "alias" SET "a" = e [FROM ...] [WHERE ...] [RETURNING ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub with: Option<With>,
    pub table: TableName,
    pub alias: TableAlias,
    /// Must not be empty (Postgres has no `UPDATE ... SET` with no column).
    pub set: Vec<(ColumnName, Expr)>,
    pub from: Option<From>,
    pub where_: Option<Expr>,
    pub returning: Option<SelectList>,
}

/// `DELETE FROM "s"."t" AS "alias" [WHERE ...] [RETURNING ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub with: Option<With>,
    pub table: TableName,
    pub alias: TableAlias,
    pub where_: Option<Expr>,
    pub returning: Option<SelectList>,
}
