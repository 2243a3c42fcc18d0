//! Builders for the shapes translation emits again and again.
//!
//! Each function's doc shows the SQL it makes. They only build trees; the
//! printer does all quoting, so `"_t0"` below means the quoted alias.

use crate::ast::{
    ColumnAlias, ColumnName, Expr, From, FromColumn, FunctionCall, FunctionName, Join, Op,
    OrderByElement, Select, TableAlias, TypeName,
};
use crate::params::ParamIndex;

/// Postgres accepts at most 100 arguments per call, i.e. 50 key/value pairs
/// in `json_build_object`.
pub const MAX_JSON_OBJECT_PAIRS: usize = 50;

/// `"_t0"."column"`
pub fn column(table: &TableAlias, column: impl Into<String>) -> Expr {
    Expr::Column {
        table: Some(table.clone()),
        column: ColumnName::new(column),
    }
}

/// `'text'`: a constant written by graft (a json key, `'[]'`), never a value
/// from a request.
pub fn string(text: impl Into<String>) -> Expr {
    Expr::StringLiteral(text.into())
}

/// `name(args)` for a function or grammar construct graft knows by name.
pub fn builtin(name: &'static str, args: Vec<Expr>) -> Expr {
    Expr::FunctionCall(Box::new(FunctionCall::new(
        FunctionName::Builtin(name),
        args,
    )))
}

/// `expr::type` (parenthesised when needed: `(a || b)::text`).
pub fn cast(expr: Expr, ty: TypeName) -> Expr {
    Expr::Cast {
        expr: Box::new(expr),
        ty,
    }
}

/// `(left op right)`
pub fn binary(left: Expr, op: Op, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// `(left = right)`
pub fn eq(left: Expr, right: Expr) -> Expr {
    binary(left, Op::Eq, right)
}

/// `(a AND b AND c)`, flattening nested ANDs and dropping `true`s: `true`
/// when nothing is left, `false` if any operand is `false`.
pub fn and(items: Vec<Expr>) -> Expr {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Expr::Bool(true) => {}
            Expr::Bool(false) => return Expr::Bool(false),
            Expr::And(inner) => match and(inner) {
                Expr::And(inner) => flat.extend(inner),
                Expr::Bool(true) => {}
                Expr::Bool(false) => return Expr::Bool(false),
                other => flat.push(other),
            },
            other => flat.push(other),
        }
    }
    match flat.len() {
        0 => Expr::Bool(true),
        1 => flat.pop().unwrap_or(Expr::Bool(true)),
        _ => Expr::And(flat),
    }
}

/// `(a OR b OR c)`, flattening nested ORs and dropping `false`s: `false`
/// when nothing is left, `true` if any operand is `true`.
pub fn or(items: Vec<Expr>) -> Expr {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Expr::Bool(false) => {}
            Expr::Bool(true) => return Expr::Bool(true),
            Expr::Or(inner) => match or(inner) {
                Expr::Or(inner) => flat.extend(inner),
                Expr::Bool(false) => {}
                Expr::Bool(true) => return Expr::Bool(true),
                other => flat.push(other),
            },
            other => flat.push(other),
        }
    }
    match flat.len() {
        0 => Expr::Bool(false),
        1 => flat.pop().unwrap_or(Expr::Bool(false)),
        _ => Expr::Or(flat),
    }
}

/// `(NOT expr)`
pub fn not(expr: Expr) -> Expr {
    Expr::Not(Box::new(expr))
}

/// `count(*)`
pub fn count_star() -> Expr {
    builtin("count", vec![Expr::Star])
}

/// `coalesce(expr, fallback)`
pub fn coalesce(expr: Expr, fallback: Expr) -> Expr {
    builtin("coalesce", vec![expr, fallback])
}

/// `row_to_json("_t0")`
pub fn row_to_json(alias: &TableAlias) -> Expr {
    Expr::RowToJson(alias.clone())
}

/// `coalesce(json_agg(expr ORDER BY ...), '[]')`: the rows as a JSON array,
/// `[]` rather than NULL when there is none.
pub fn json_agg_or_empty(expr: Expr, order_by: Vec<OrderByElement>) -> Expr {
    let agg = FunctionCall {
        order_by,
        ..FunctionCall::new(FunctionName::Builtin("json_agg"), vec![expr])
    };
    coalesce(Expr::FunctionCall(Box::new(agg)), string("[]"))
}

/// `json_build_object('k1', e1, 'k2', e2, ...)`, for any number of pairs,
/// keeping key order and the `json` type (`jsonb` would sort the keys).
///
/// Up to 50 pairs it is one call. Beyond that, Postgres' 100-argument limit
/// forces several calls of at most 50 pairs, whose texts are joined: every
/// chunk loses its braces on the inside edges and the pieces are glued with
/// commas, each chunk being evaluated once:
///
/// ```sql
/// (left((json_build_object('k1', e1, ...))::text, -1) || ','
///   || right(left((json_build_object('k51', e51, ...))::text, -1), -1) || ','
///   || right((json_build_object('k101', e101, ...))::text, -1))::json
/// ```
pub fn json_object(pairs: Vec<(String, Expr)>) -> Expr {
    if pairs.len() <= MAX_JSON_OBJECT_PAIRS {
        return json_build_object(pairs);
    }
    let mut chunks = Vec::with_capacity(pairs.len().div_ceil(MAX_JSON_OBJECT_PAIRS));
    let mut rest = pairs.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<_> = rest.by_ref().take(MAX_JSON_OBJECT_PAIRS).collect();
        chunks.push(json_build_object(chunk));
    }
    let last = chunks.len() - 1;
    let mut text: Option<Expr> = None;
    for (position, chunk) in chunks.into_iter().enumerate() {
        let chunk_text = cast(chunk, TypeName::new("text"));
        // Drop `}` from all but the last chunk and `{` from all but the first.
        let mut piece = chunk_text;
        if position != last {
            piece = builtin("left", vec![piece, Expr::Int(-1)]);
        }
        if position != 0 {
            piece = builtin("right", vec![piece, Expr::Int(-1)]);
        }
        text = Some(match text {
            None => piece,
            Some(so_far) => binary(binary(so_far, Op::Concat, string(",")), Op::Concat, piece),
        });
    }
    // `text` is always set here: more than 50 pairs make at least two chunks.
    cast(text.unwrap_or(Expr::Null), TypeName::new("json"))
}

/// One `json_build_object` call; callers keep it to 50 pairs.
fn json_build_object(pairs: Vec<(String, Expr)>) -> Expr {
    let mut args = Vec::with_capacity(pairs.len() * 2);
    for (key, value) in pairs {
        args.push(string(key));
        args.push(value);
    }
    builtin("json_build_object", args)
}

/// `LEFT JOIN LATERAL (select) AS "alias" ON true`: attaches a nested
/// selection (an object or array relationship, an aggregate) to each row.
pub fn left_join_lateral(select: Select, alias: TableAlias) -> Join {
    Join::Left {
        from: From::Subquery {
            select: Box::new(select),
            alias,
            lateral: true,
        },
        on: Expr::Bool(true),
    }
}

/// `EXISTS (SELECT FROM <from> WHERE <condition>)`: a relationship or
/// `_exists` filter. The empty select list is valid Postgres and asks for no
/// column.
pub fn exists(from: From, condition: Expr) -> Expr {
    Expr::Exists(Box::new(Select {
        from: Some(from),
        where_: Some(condition),
        ..Select::default()
    }))
}

/// `json_array_elements(<json>) WITH ORDINALITY AS "alias"("value", "ordinality")`:
/// one row per element of a JSON array parameter, numbered from 1. Batches
/// (subscription cohorts, action relationships) join their query LATERAL to
/// this.
pub fn json_array_rows(json_array: Expr, alias: TableAlias) -> From {
    From::Function {
        call: FunctionCall::new(
            FunctionName::Builtin("json_array_elements"),
            vec![json_array],
        ),
        with_ordinality: true,
        alias,
        columns: vec![FromColumn::named("value"), FromColumn::named("ordinality")],
        lateral: false,
    }
}

/// `($1::json ->> 'x-hasura-user-id')`: a session variable, read from the
/// session parameter (all session variables as one JSON object), as text.
/// `name` is used as given: the session object's keys and the names asked
/// for must be normalised the same way (Hasura lowercases them) upstream.
pub fn session_variable(session: ParamIndex, name: &str) -> Expr {
    binary(
        cast(Expr::Param(session), TypeName::new("json")),
        Op::JsonGetText,
        string(name),
    )
}

/// `SELECT json_build_object('field1', e1, ...) AS "data"`: the statement of
/// one GraphQL operation, whose single value is the response's `data`.
pub fn select_json_root(root_fields: Vec<(String, Expr)>) -> Select {
    Select::new(vec![(json_object(root_fields), ColumnAlias::new("data"))])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn c(name: &str) -> Expr {
        Expr::Column {
            table: None,
            column: ColumnName::new(name),
        }
    }

    #[test]
    fn and_flattens_and_simplifies() {
        assert_eq!(and(vec![]), Expr::Bool(true));
        assert_eq!(and(vec![Expr::Bool(true), c("a")]), c("a"));
        assert_eq!(and(vec![c("a"), Expr::Bool(false)]), Expr::Bool(false));
        assert_eq!(
            and(vec![c("a"), Expr::And(vec![c("b"), c("c")])]),
            Expr::And(vec![c("a"), c("b"), c("c")])
        );
    }

    #[test]
    fn or_flattens_and_simplifies() {
        assert_eq!(or(vec![]), Expr::Bool(false));
        assert_eq!(or(vec![Expr::Bool(false), c("a")]), c("a"));
        assert_eq!(or(vec![c("a"), Expr::Bool(true)]), Expr::Bool(true));
        assert_eq!(
            or(vec![Expr::Or(vec![c("a"), c("b")]), c("c")]),
            Expr::Or(vec![c("a"), c("b"), c("c")])
        );
    }

    #[test]
    fn small_json_object_is_one_call() {
        let object = json_object(vec![("a".into(), c("a"))]);
        assert!(matches!(object, Expr::FunctionCall(_)));
    }
}
