//! The `args` of each v1 data operation, read from JSON with Hasura's parse errors.
//!
//! Parsing is by hand rather than serde derive so that messages and paths match Hasura's
//! (`key "where" not found` at `$`, `parsing Int failed, expected Number, but encountered String`
//! at `$.limit`). Paths here are relative to `args`, as Hasura reports parse errors. Nothing is
//! checked against the model yet: that is the job of the IR builders next door.

use crate::error::RqlError;
use graft_metadata::QualifiedTable;
use serde_json::{Map, Value};

type Object = Map<String, Value>;

#[derive(Debug, Clone, PartialEq)]
pub struct SelectArgs {
    pub table: QualifiedTable,
    pub query: SelectQuery,
}

/// What a select and a relationship inside its `columns` share.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectQuery {
    pub columns: Vec<SelectColumn>,
    pub where_: Option<Value>,
    pub order_by: Vec<OrderByItem>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectColumn {
    /// `"*"`: every column the role may select.
    Star,
    Column(String),
    Relationship {
        name: String,
        alias: Option<String>,
        query: SelectQuery,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderByItem {
    /// `["author", "name"]` for `author.name`: object relationships, then a column.
    pub path: Vec<String>,
    pub direction: OrderDirection,
    pub nulls: Option<NullsOrder>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountArgs {
    pub table: QualifiedTable,
    pub where_: Option<Value>,
    pub distinct: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertArgs {
    pub table: QualifiedTable,
    pub objects: Vec<Object>,
    pub returning: Option<Vec<String>>,
    pub on_conflict: Option<OnConflictArgs>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictTargetArgs {
    Constraint(String),
    Columns(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictActionArgs {
    Ignore,
    Update,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnConflictArgs {
    pub target: Option<ConflictTargetArgs>,
    pub action: ConflictActionArgs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateArgs {
    pub table: QualifiedTable,
    pub where_: Value,
    pub set: Object,
    pub inc: Object,
    pub mul: Object,
    pub default: Vec<String>,
    pub returning: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeleteArgs {
    pub table: QualifiedTable,
    pub where_: Value,
    pub returning: Option<Vec<String>>,
}

pub fn parse_select(args: &Value) -> Result<SelectArgs, RqlError> {
    let map = object(args, "$")?;
    Ok(SelectArgs {
        table: table(map)?,
        query: select_query(map, "$")?,
    })
}

pub fn parse_count(args: &Value) -> Result<CountArgs, RqlError> {
    let map = object(args, "$")?;
    Ok(CountArgs {
        table: table(map)?,
        where_: optional(map, "where").cloned(),
        distinct: match optional(map, "distinct") {
            Some(value) => strings(value, "$.distinct")?,
            None => Vec::new(),
        },
    })
}

pub fn parse_insert(args: &Value) -> Result<InsertArgs, RqlError> {
    let map = object(args, "$")?;
    let objects = match required(map, "objects", "$")? {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| object(item, &format!("$.objects[{i}]")).cloned())
            .collect::<Result<Vec<_>, _>>()?,
        Value::Object(single) => vec![single.clone()],
        other => return Err(expected("Array", other, "$.objects")),
    };
    Ok(InsertArgs {
        table: table(map)?,
        objects,
        returning: returning(map)?,
        on_conflict: optional(map, "on_conflict").map(on_conflict).transpose()?,
    })
}

pub fn parse_update(args: &Value) -> Result<UpdateArgs, RqlError> {
    let map = object(args, "$")?;
    let operator = |key: &str| -> Result<Object, RqlError> {
        match optional(map, key) {
            Some(value) => object(value, &format!("$.{key}")).cloned(),
            None => Ok(Object::new()),
        }
    };
    Ok(UpdateArgs {
        table: table(map)?,
        where_: required(map, "where", "$")?.clone(),
        set: operator("$set")?,
        inc: operator("$inc")?,
        mul: operator("$mul")?,
        default: match optional(map, "$default") {
            Some(value) => strings(value, "$.$default")?,
            None => Vec::new(),
        },
        returning: returning(map)?,
    })
}

pub fn parse_delete(args: &Value) -> Result<DeleteArgs, RqlError> {
    let map = object(args, "$")?;
    Ok(DeleteArgs {
        table: table(map)?,
        where_: required(map, "where", "$")?.clone(),
        returning: returning(map)?,
    })
}

fn table(map: &Object) -> Result<QualifiedTable, RqlError> {
    let value = required(map, "table", "$")?;
    serde_json::from_value(value.clone())
        .map_err(|e| RqlError::parse_failed(e.to_string(), "$.table"))
}

fn returning(map: &Object) -> Result<Option<Vec<String>>, RqlError> {
    optional(map, "returning")
        .map(|value| strings(value, "$.returning"))
        .transpose()
}

fn select_query(map: &Object, path: &str) -> Result<SelectQuery, RqlError> {
    let columns_path = format!("{path}.columns");
    let columns = match required(map, "columns", path)? {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| select_column(item, &format!("{columns_path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
        other => return Err(expected("Array", other, &columns_path)),
    };
    Ok(SelectQuery {
        columns,
        where_: optional(map, "where").cloned(),
        order_by: match optional(map, "order_by") {
            Some(value) => order_by(value, &format!("{path}.order_by"))?,
            None => Vec::new(),
        },
        limit: optional(map, "limit")
            .map(|v| int(v, &format!("{path}.limit")))
            .transpose()?,
        offset: optional(map, "offset")
            .map(|v| int(v, &format!("{path}.offset")))
            .transpose()?,
    })
}

fn select_column(value: &Value, path: &str) -> Result<SelectColumn, RqlError> {
    match value {
        Value::String(s) if s == "*" => Ok(SelectColumn::Star),
        Value::String(s) => Ok(SelectColumn::Column(s.clone())),
        Value::Object(map) => {
            let name = string(required(map, "name", path)?, &format!("{path}.name"))?;
            let alias = optional(map, "alias")
                .map(|v| string(v, &format!("{path}.alias")))
                .transpose()?;
            Ok(SelectColumn::Relationship {
                name,
                alias,
                query: select_query(map, path)?,
            })
        }
        other => Err(expected("String or Object", other, path)),
    }
}

fn order_by(value: &Value, path: &str) -> Result<Vec<OrderByItem>, RqlError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| order_by_item(item, &format!("{path}[{i}]")))
            .collect(),
        single => Ok(vec![order_by_item(single, path)?]),
    }
}

fn order_by_item(value: &Value, path: &str) -> Result<OrderByItem, RqlError> {
    let split = |column: &str| -> Vec<String> { column.split('.').map(str::to_string).collect() };
    match value {
        Value::String(s) => {
            let (direction, column) = if let Some(rest) = s.strip_prefix('-') {
                (OrderDirection::Desc, rest)
            } else {
                (OrderDirection::Asc, s.strip_prefix('+').unwrap_or(s))
            };
            if column.is_empty() {
                return Err(RqlError::parse_failed(
                    "string format for 'OrderByCol' is not valid",
                    path,
                ));
            }
            Ok(OrderByItem {
                path: split(column),
                direction,
                nulls: None,
            })
        }
        Value::Object(map) => {
            let column = string(required(map, "column", path)?, &format!("{path}.column"))?;
            let direction = match optional(map, "type") {
                None => OrderDirection::Asc,
                Some(Value::String(t)) if t == "asc" => OrderDirection::Asc,
                Some(Value::String(t)) if t == "desc" => OrderDirection::Desc,
                Some(_) => {
                    return Err(RqlError::parse_failed(
                        "expecting one of asc, desc",
                        format!("{path}.type"),
                    ));
                }
            };
            let nulls = match optional(map, "nulls") {
                None => None,
                Some(Value::String(n)) if n == "first" => Some(NullsOrder::First),
                Some(Value::String(n)) if n == "last" => Some(NullsOrder::Last),
                Some(_) => {
                    return Err(RqlError::parse_failed(
                        "expecting one of first, last",
                        format!("{path}.nulls"),
                    ));
                }
            };
            Ok(OrderByItem {
                path: split(&column),
                direction,
                nulls,
            })
        }
        other => Err(expected("String or Object", other, path)),
    }
}

fn on_conflict(value: &Value) -> Result<OnConflictArgs, RqlError> {
    let path = "$.on_conflict";
    let map = object(value, path)?;
    let target = match (optional(map, "constraint"), optional(map, "constraint_on")) {
        (Some(name), _) => Some(ConflictTargetArgs::Constraint(string(
            name,
            "$.on_conflict.constraint",
        )?)),
        (None, Some(columns)) => Some(ConflictTargetArgs::Columns(strings(
            columns,
            "$.on_conflict.constraint_on",
        )?)),
        (None, None) => None,
    };
    let action = match map.get("action") {
        None => {
            return Err(RqlError::parse_failed(
                "the key 'action' was not present",
                path,
            ));
        }
        Some(Value::String(a)) if a == "ignore" => ConflictActionArgs::Ignore,
        Some(Value::String(a)) if a == "update" => ConflictActionArgs::Update,
        Some(_) => {
            return Err(RqlError::parse_failed(
                "Expecting 'ignore' or 'update'",
                "$.on_conflict.action",
            ));
        }
    };
    Ok(OnConflictArgs { target, action })
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Object, RqlError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(expected("Object", other, path)),
    }
}

/// A key that is present and not null (Hasura treats `null` as absent for optional keys).
fn optional<'a>(map: &'a Object, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn required<'a>(map: &'a Object, key: &str, path: &str) -> Result<&'a Value, RqlError> {
    map.get(key)
        .ok_or_else(|| RqlError::parse_failed(format!("key \"{key}\" not found"), path))
}

fn string(value: &Value, path: &str) -> Result<String, RqlError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(expected("String", other, path)),
    }
}

fn strings(value: &Value, path: &str) -> Result<Vec<String>, RqlError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| string(item, &format!("{path}[{i}]")))
            .collect(),
        other => Err(expected("Array", other, path)),
    }
}

fn int(value: &Value, path: &str) -> Result<i64, RqlError> {
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            RqlError::parse_failed(
                "parsing Int failed, value is either floating or will cause over or underflow",
                path,
            )
        }),
        other => Err(RqlError::parse_failed(
            format!(
                "parsing Int failed, expected Number, but encountered {}",
                kind(other)
            ),
            path,
        )),
    }
}

fn expected(what: &str, found: &Value, path: &str) -> RqlError {
    RqlError::parse_failed(
        format!("expected {what}, but encountered {}", kind(found)),
        path,
    )
}

/// The JSON type names aeson uses in its messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn select_with_nested_relationship_and_order_by() {
        let args = parse_select(&json!({
            "table": "author",
            "columns": ["id", "*", {"name": "articles", "alias": "a", "columns": ["title"], "limit": 2}],
            "order_by": ["-id", {"column": "author.name", "type": "desc", "nulls": "last"}, "+name"],
            "limit": 3,
        }))
        .unwrap();
        assert_eq!(args.table, QualifiedTable::new("public", "author"));
        assert_eq!(args.query.columns.len(), 3);
        assert!(
            matches!(&args.query.columns[2], SelectColumn::Relationship { alias: Some(a), query, .. } if a == "a" && query.limit == Some(2))
        );
        assert_eq!(args.query.order_by[0].direction, OrderDirection::Desc);
        assert_eq!(args.query.order_by[1].path, vec!["author", "name"]);
        assert_eq!(args.query.order_by[1].nulls, Some(NullsOrder::Last));
        assert_eq!(args.query.order_by[2].path, vec!["name"]);
    }

    #[test]
    fn string_limit_is_a_parse_error_at_relative_path() {
        let err =
            parse_select(&json!({"table": "a", "columns": ["id"], "limit": "3"})).unwrap_err();
        assert_eq!(err.code, "parse-failed");
        assert_eq!(err.path, "$.limit");
        assert_eq!(
            err.message,
            "parsing Int failed, expected Number, but encountered String"
        );
    }

    #[test]
    fn update_without_where_and_on_conflict_without_action() {
        let err = parse_update(&json!({"table": "a", "$set": {"x": 1}})).unwrap_err();
        assert_eq!(
            (err.message.as_str(), err.path.as_str()),
            ("key \"where\" not found", "$")
        );
        let err = parse_insert(
            &json!({"table": "a", "objects": [{}], "on_conflict": {"constraint_on": ["id"]}}),
        )
        .unwrap_err();
        assert_eq!(err.path, "$.on_conflict");
        assert_eq!(err.message, "the key 'action' was not present");
        let err = parse_insert(
            &json!({"table": "a", "objects": [{}], "on_conflict": {"action": "random"}}),
        )
        .unwrap_err();
        assert_eq!(err.code, "parse-failed");
    }
}
