//! Scalar expressions: what can appear in a select list, a WHERE, an ORDER BY.

use super::names::{ColumnName, FunctionName, TableAlias, TypeName};
use super::statement::Select;
use crate::params::ParamIndex;

/// A scalar SQL expression.
///
/// There is deliberately no variant that carries raw SQL text or a value to
/// be spliced: values go through [`Expr::Param`], names through the printer's
/// identifier quoting, and keywords are fixed by the variants themselves.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `"_t0"."col"` or, without a table, `"col"`.
    Column {
        table: Option<TableAlias>,
        column: ColumnName,
    },
    /// `$n`: always text; wrap in [`Expr::Cast`] where a type matters.
    Param(ParamIndex),
    /// `NULL`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer written into the SQL text. For syntax only (`left(x, -1)`,
    /// a LIMIT fixed by a permission): request values are parameters.
    Int(i64),
    /// A quoted string constant (`'k'`, quotes doubled). For syntax only:
    /// json object keys, `'[]'`, session variable names. Never a user value.
    StringLiteral(String),
    /// `name(args)`, with an optional aggregate `DISTINCT`, `ORDER BY` and
    /// `FILTER (WHERE ...)`.
    FunctionCall(Box<FunctionCall>),
    /// `(left op right)`
    BinaryOp {
        left: Box<Expr>,
        op: Op,
        right: Box<Expr>,
    },
    /// `(expr IN (a, b))` / `(expr NOT IN (a, b))`. An empty list prints
    /// `false` (or `true` when negated), since `IN ()` is a syntax error.
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `(left op ANY (right))` / `(left op ALL (right))`, where `right` is an
    /// array (typically `$3::int4[]`, one parameter for the whole list).
    Quantified {
        left: Box<Expr>,
        op: Op,
        quantifier: Quantifier,
        right: Box<Expr>,
    },
    /// `(a AND b AND ...)`; empty is `true`.
    And(Vec<Expr>),
    /// `(a OR b OR ...)`; empty is `false`.
    Or(Vec<Expr>),
    /// `(NOT expr)`
    Not(Box<Expr>),
    /// `(expr IS NULL)`
    IsNull(Box<Expr>),
    /// `(expr IS NOT NULL)`
    IsNotNull(Box<Expr>),
    /// `expr::type`, with parentheses around anything but a simple operand:
    /// `$3::int4`, `("_t0"."c" || $1)::text`.
    Cast { expr: Box<Expr>, ty: TypeName },
    /// `EXISTS (select)`
    Exists(Box<Select>),
    /// `(select)`, a subquery that yields one value.
    ScalarSubquery(Box<Select>),
    /// `CASE WHEN c THEN r ... ELSE e END`
    Case(Box<Case>),
    /// `row_to_json("_t0")`
    RowToJson(TableAlias),
    /// `"_t0"`: the whole row of a FROM item, as passed to a function taking the table's row
    /// type (computed fields).
    TableRow(TableAlias),
    /// `ARRAY[a, b]`. An empty one needs a cast to have a type.
    Array(Vec<Expr>),
    /// `EXCLUDED."col"`, the proposed row in `ON CONFLICT DO UPDATE`.
    Excluded(ColumnName),
    /// `*`, only meaningful as the argument of `count(*)`.
    Star,
}

/// A function call; see [`Expr::FunctionCall`].
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCall {
    pub name: FunctionName,
    pub args: Vec<Expr>,
    /// `count(DISTINCT x)`
    pub distinct: bool,
    /// `json_agg(x ORDER BY y)`
    pub order_by: Vec<OrderByElement>,
    /// `count(*) FILTER (WHERE x)`
    pub filter: Option<Expr>,
}

impl FunctionCall {
    /// A plain call: no DISTINCT, ORDER BY or FILTER.
    pub fn new(name: FunctionName, args: Vec<Expr>) -> Self {
        Self {
            name,
            args,
            distinct: false,
            order_by: Vec::new(),
            filter: None,
        }
    }
}

/// `CASE WHEN ... THEN ... ELSE ... END`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub when_then: Vec<(Expr, Expr)>,
    pub else_: Option<Expr>,
}

/// `ANY` or `ALL` in a [`Expr::Quantified`] comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    Any,
    All,
}

/// One `ORDER BY` item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderByElement {
    pub expr: Expr,
    pub direction: OrderDirection,
    /// `None` leaves Postgres' default (NULLS LAST for ASC, FIRST for DESC).
    pub nulls: Option<NullsOrder>,
}

impl OrderByElement {
    pub fn asc(expr: Expr) -> Self {
        Self {
            expr,
            direction: OrderDirection::Asc,
            nulls: None,
        }
    }

    pub fn desc(expr: Expr) -> Self {
        Self {
            expr,
            direction: OrderDirection::Desc,
            nulls: None,
        }
    }

    pub fn nulls(mut self, nulls: NullsOrder) -> Self {
        self.nulls = Some(nulls);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NullsOrder {
    First,
    Last,
}

/// Binary operators. Each maps to fixed SQL text in [`Op::sql`].
///
/// Some symbols mean different things for different types (`@>` is array,
/// jsonb, range and ltree containment; `?` is a jsonb key test and an ltree
/// lquery-array match): Postgres picks the implementation from the operand
/// types, so one variant per symbol suffices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    NotEq,
    Lt,
    Gt,
    LtEq,
    GtEq,
    IsDistinctFrom,
    IsNotDistinctFrom,
    Like,
    NotLike,
    ILike,
    NotILike,
    SimilarTo,
    NotSimilarTo,
    /// `~`: POSIX regex match; also ltree `~ lquery`.
    RegexMatch,
    /// `!~`
    NotRegexMatch,
    /// `~*`
    RegexIMatch,
    /// `!~*`
    NotRegexIMatch,
    /// `@>`: contains (jsonb, arrays, ranges, ltree ancestor-of).
    Contains,
    /// `<@`: contained in (jsonb, arrays, ranges, ltree descendant-of).
    ContainedIn,
    /// `?`: jsonb has key; ltree matches any lquery in an array.
    HasKey,
    /// `?|`: jsonb has any of the keys.
    HasKeyAny,
    /// `?&`: jsonb has all of the keys.
    HasKeyAll,
    /// `@`: ltree matches ltxtquery.
    LtreeMatchText,
    /// `&&`: overlap (arrays, ranges, geometries' bounding boxes).
    Overlaps,
    /// `||`: concatenation (text, arrays, jsonb).
    Concat,
    /// `->`
    JsonGet,
    /// `->>`
    JsonGetText,
    /// `#>`
    JsonGetPath,
    /// `#>>`
    JsonGetPathText,
    Plus,
    Minus,
    Multiply,
    Divide,
    Modulo,
}

impl Op {
    /// The operator as written in SQL.
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::NotEq => "<>",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::LtEq => "<=",
            Op::GtEq => ">=",
            Op::IsDistinctFrom => "IS DISTINCT FROM",
            Op::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
            Op::Like => "LIKE",
            Op::NotLike => "NOT LIKE",
            Op::ILike => "ILIKE",
            Op::NotILike => "NOT ILIKE",
            Op::SimilarTo => "SIMILAR TO",
            Op::NotSimilarTo => "NOT SIMILAR TO",
            Op::RegexMatch => "~",
            Op::NotRegexMatch => "!~",
            Op::RegexIMatch => "~*",
            Op::NotRegexIMatch => "!~*",
            Op::Contains => "@>",
            Op::ContainedIn => "<@",
            Op::HasKey => "?",
            Op::HasKeyAny => "?|",
            Op::HasKeyAll => "?&",
            Op::LtreeMatchText => "@",
            Op::Overlaps => "&&",
            Op::Concat => "||",
            Op::JsonGet => "->",
            Op::JsonGetText => "->>",
            Op::JsonGetPath => "#>",
            Op::JsonGetPathText => "#>>",
            Op::Plus => "+",
            Op::Minus => "-",
            Op::Multiply => "*",
            Op::Divide => "/",
            Op::Modulo => "%",
        }
    }
}
