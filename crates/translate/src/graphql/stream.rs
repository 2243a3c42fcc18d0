//! Streaming subscriptions (`<table>_stream(batch_size, cursor, where)`) → one statement that
//! returns the next batch after the cursor and the cursor's new value.
//!
//! ```sql
//! SELECT json_build_object('alias', (<rows where ... AND "col" > $c ORDER BY "col" LIMIT n>)) AS "data",
//!        ((<the same rows' cursor column>) -> -1 ->> 'c') AS "cursor"
//! ```
//!
//! The cursor value is a parameter like any other, so the live-query multiplexer can serve
//! many cohorts with one statement; after each batch it puts the new cursor into the
//! parameters at `cursor_params`.

use super::context::{GqlContext, require_column};
use super::error::GraphqlError;
use super::{GraphqlOptions, select};
use crate::boolexp::SqlContext;
use crate::ir::{self, FieldIr};
use graft_gql::{Field, RootFieldKind, ValidOperation};
use graft_schema::{BoolExp, ColumnInfo, ColumnOp, ComparisonOp, Operand, Session, SourceModel};
use graft_sql::ast::{ColumnAlias, Expr, Op, Select, Statement};
use graft_sql::helpers::json_object;
use serde_json::{Value, json};

/// A streaming subscription in multiplexed form (`graft_sql::MultiplexedShape::Stream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatement {
    pub sql: String,
    /// This subscriber's parameter values, its initial cursor included.
    pub params: Vec<Option<String>>,
    /// Where the cursor value sits in `params` (0-based); each holds the same value.
    pub cursor_params: Vec<usize>,
}

/// Stands in for the cursor while translating, so its parameters can be found afterwards.
/// Postgres text cannot hold NUL, so no real value can be equal to it.
const CURSOR_PLACEHOLDER: &str = "\u{0}graft:stream-cursor\u{0}";

/// The key of the cursor column in the cursor's JSON rows.
const CURSOR_KEY: &str = "c";

/// Translates `op` if its root field is a `_stream` field; `None` for any other subscription.
pub fn translate_stream_query(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<Option<StreamStatement>, GraphqlError> {
    let ctx = GqlContext::new(source, session, options);
    let is_stream = |f: &Field| {
        ctx.root(&f.name)
            .is_some_and(|(_, kind)| kind == RootFieldKind::SelectStream)
    };
    if !op.root_fields.iter().any(is_stream) {
        return Ok(None);
    }
    let [field] = op.root_fields.as_slice() else {
        return Err(GraphqlError::validation(
            "a streaming subscription must select exactly one root field",
            "$",
        ));
    };
    let path = format!("$.selectionSet.{}", field.alias);
    let not_found = || GraphqlError::field_not_found(&field.name, &field.parent_type, &path);
    let (table, _) = ctx.root(&field.name).ok_or_else(not_found)?;
    let access = ctx.access(table).ok_or_else(not_found)?;
    let args_path = format!("{path}.args");
    let cursor = Cursor::parse(
        field.arguments.get("cursor"),
        &format!("{args_path}.cursor"),
    )?;
    let column = require_column(
        table,
        &access,
        &cursor.column,
        &format!("{}_stream_cursor_value_input", field.type_name),
        &format!("{args_path}.cursor.initial_value"),
    )?;
    let batch_size = field
        .arguments
        .get("batch_size")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            GraphqlError::validation(
                "expected a non-negative integer for batch_size",
                format!("{args_path}.batch_size"),
            )
        })?;

    // The rows: a list selection ordered by the cursor column, limited to the batch.
    let mut list = field.clone();
    list.arguments.retain(|name, _| name == "where");
    list.arguments.insert("limit".into(), json!(batch_size));
    list.arguments.insert(
        "order_by".into(),
        json!([{ column.graphql_name.clone(): cursor.direction() }]),
    );
    let mut rows = select::list_select(&ctx, table, access, &list, &path)?;
    rows.filter = ir::and(vec![rows.filter, cursor.after(column)]);
    let mut cursor_rows = rows.clone();
    cursor_rows.fields = vec![(
        CURSOR_KEY.to_string(),
        FieldIr::Column(ctx.column_value(column)),
    )];

    let mut sql = SqlContext::new(session.variables_json());
    let data = json_object(vec![(
        field.alias.clone(),
        subquery(crate::select::array_select(&rows, None, &mut sql)),
    )]);
    let last = Expr::BinaryOp {
        left: Box::new(subquery(crate::select::array_select(
            &cursor_rows,
            None,
            &mut sql,
        ))),
        op: Op::JsonGet,
        right: Box::new(Expr::Int(-1)),
    };
    let new_cursor = Expr::BinaryOp {
        left: Box::new(last),
        op: Op::JsonGetText,
        right: Box::new(Expr::StringLiteral(CURSOR_KEY.to_string())),
    };
    let statement = Statement::Select(Box::new(Select::new(vec![
        (data, ColumnAlias::new("data")),
        (new_cursor, ColumnAlias::new("cursor")),
    ])));
    let text = graft_sql::print_multiplexed(&statement, graft_sql::MultiplexedShape::Stream)
        .map_err(|e| GraphqlError::new("unexpected", e.to_string(), "$"))?;
    sql.keep_only_read_session_variables(session);
    let mut params = sql.params.into_values();
    let cursor_params: Vec<usize> = params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.as_deref() == Some(CURSOR_PLACEHOLDER))
        .map(|(i, _)| i)
        .collect();
    for index in &cursor_params {
        params[*index] = Some(cursor.initial.clone());
    }
    Ok(Some(StreamStatement {
        sql: text,
        params,
        cursor_params,
    }))
}

fn subquery(select: Select) -> Expr {
    Expr::ScalarSubquery(Box::new(select))
}

/// `cursor: {initial_value: {col: value}, ordering: ASC|DESC}` (or a one-element list of it).
struct Cursor {
    column: String,
    initial: String,
    descending: bool,
}

impl Cursor {
    fn parse(value: Option<&Value>, path: &str) -> Result<Cursor, GraphqlError> {
        let cursor = match value {
            Some(Value::Array(items)) => match items.as_slice() {
                [one] => one,
                _ => {
                    return Err(GraphqlError::validation(
                        "one streaming cursor is supported, with one column",
                        path,
                    ));
                }
            },
            Some(object @ Value::Object(_)) => object,
            _ => return Err(GraphqlError::validation("a cursor is required", path)),
        };
        let initial = cursor
            .get("initial_value")
            .and_then(Value::as_object)
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .ok_or_else(|| {
                GraphqlError::validation(
                    "the cursor's initial_value must name exactly one column",
                    format!("{path}.initial_value"),
                )
            })?;
        let text = match initial.1 {
            Value::String(s) => s.clone(),
            Value::Null => {
                return Err(GraphqlError::validation(
                    "the cursor's initial value cannot be null",
                    format!("{path}.initial_value"),
                ));
            }
            other => other.to_string(),
        };
        Ok(Cursor {
            column: initial.0.clone(),
            initial: text,
            descending: cursor.get("ordering").and_then(Value::as_str) == Some("DESC"),
        })
    }

    fn direction(&self) -> &'static str {
        if self.descending { "desc" } else { "asc" }
    }

    /// Rows past the cursor, in the cursor's direction.
    fn after(&self, column: &ColumnInfo) -> BoolExp {
        BoolExp::Column {
            column: column.name.clone(),
            pg_type: column.pg_type.clone(),
            op: ColumnOp {
                op: if self.descending {
                    ComparisonOp::Lt
                } else {
                    ComparisonOp::Gt
                },
                value: Operand::Literal(Value::String(CURSOR_PLACEHOLDER.to_string())),
            },
        }
    }
}
