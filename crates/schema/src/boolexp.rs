//! Boolean expressions (`filter`, `check`, v1 `where`): Hasura's JSON form parsed against a
//! table, so column and relationship names are checked once, when metadata is resolved, and
//! translation never meets an unknown name.
//!
//! Names are Postgres column and relationship names (as metadata and the v1 API write them).

use crate::model::{SourceModel, TableModel};
use graft_catalog::PgType;
use graft_metadata::QualifiedTable;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum BoolExp {
    And(Vec<BoolExp>),
    Or(Vec<BoolExp>),
    Not(Box<BoolExp>),
    Column {
        column: String,
        pg_type: PgType,
        op: ColumnOp,
    },
    /// A condition on the rows reached through a relationship: true when some related row
    /// satisfies the predicate.
    Relationship {
        target: QualifiedTable,
        mapping: Vec<(String, String)>,
        predicate: Box<BoolExp>,
    },
    /// `_exists`: some row of an unrelated table satisfies the predicate.
    Exists {
        table: QualifiedTable,
        predicate: Box<BoolExp>,
    },
    /// A condition on a computed field: its scalar value, or (for a function returning rows of a
    /// table) some returned row satisfying the predicate.
    ComputedField {
        call: ComputedCall,
        result: ComputedResult,
    },
}

/// How to call a computed field's function for the current row.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedCall {
    pub function: graft_metadata::QualifiedFunction,
    /// Positions of the row argument and of the session argument (JSON), among the first
    /// `argument_count` arguments; other positions get NULL.
    pub table_argument: usize,
    pub session_argument: Option<usize>,
    pub argument_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ComputedResult {
    Scalar {
        pg_type: PgType,
        op: ColumnOp,
    },
    Rows {
        target: QualifiedTable,
        predicate: Box<BoolExp>,
    },
}

impl BoolExp {
    pub fn always_true() -> BoolExp {
        BoolExp::And(Vec::new())
    }

    pub fn is_always_true(&self) -> bool {
        matches!(self, BoolExp::And(items) if items.iter().all(BoolExp::is_always_true))
    }

    /// Session variables this expression reads (lower-cased), for request checks.
    pub fn session_variables(&self, out: &mut Vec<String>) {
        match self {
            BoolExp::And(items) | BoolExp::Or(items) => {
                items.iter().for_each(|i| i.session_variables(out))
            }
            BoolExp::Not(inner) => inner.session_variables(out),
            BoolExp::Column { op, .. } => op.value.session_variables(out),
            BoolExp::Relationship { predicate, .. } | BoolExp::Exists { predicate, .. } => {
                predicate.session_variables(out)
            }
            BoolExp::ComputedField { result, .. } => match result {
                ComputedResult::Scalar { op, .. } => op.value.session_variables(out),
                ComputedResult::Rows { predicate, .. } => predicate.session_variables(out),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnOp {
    pub op: ComparisonOp,
    pub value: Operand,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    /// `X-Hasura-User-Id`, lower-cased.
    Session(String),
    /// Another column: of the current table, or of the table the whole expression is about
    /// (`["$", "col"]`).
    Column {
        column: String,
        root: bool,
    },
}

impl Operand {
    fn session_variables(&self, out: &mut Vec<String>) {
        if let Operand::Session(name) = self {
            out.push(name.clone());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOp {
    Eq,
    Neq,
    Gt,
    Lt,
    Gte,
    Lte,
    In,
    Nin,
    IsNull,
    Like,
    Nlike,
    Ilike,
    Nilike,
    Similar,
    Nsimilar,
    Regex,
    Nregex,
    Iregex,
    Niregex,
    Contains,
    ContainedIn,
    HasKey,
    HasKeysAny,
    HasKeysAll,
    Ancestor,
    AncestorAny,
    Descendant,
    DescendantAny,
    Matches,
    MatchesAny,
    MatchesFulltext,
    StContains,
    StCrosses,
    StEquals,
    StIntersects,
    StOverlaps,
    StTouches,
    StWithin,
    /// `{distance, from, use_spheroid?}`: the operand is that object.
    StDWithin,
    St3dDWithin,
    St3dIntersects,
}

impl ComparisonOp {
    /// The operator for a key such as `_eq` (also the v1 `$eq` spelling); the bool says the
    /// operand is a column (`_ceq`).
    pub fn from_key(key: &str) -> Option<(ComparisonOp, bool)> {
        use ComparisonOp::*;
        let key = key
            .strip_prefix('_')
            .or_else(|| key.strip_prefix('$'))
            .unwrap_or("");
        let column = |op| Some((op, true));
        let value = |op| Some((op, false));
        match key {
            "eq" => value(Eq),
            "ne" | "neq" => value(Neq),
            "gt" => value(Gt),
            "lt" => value(Lt),
            "gte" => value(Gte),
            "lte" => value(Lte),
            "in" => value(In),
            "nin" => value(Nin),
            "is_null" => value(IsNull),
            "like" => value(Like),
            "nlike" => value(Nlike),
            "ilike" => value(Ilike),
            "nilike" => value(Nilike),
            "similar" => value(Similar),
            "nsimilar" => value(Nsimilar),
            "regex" => value(Regex),
            "nregex" => value(Nregex),
            "iregex" => value(Iregex),
            "niregex" => value(Niregex),
            "contains" => value(Contains),
            "contained_in" => value(ContainedIn),
            "has_key" => value(HasKey),
            "has_keys_any" => value(HasKeysAny),
            "has_keys_all" => value(HasKeysAll),
            "ancestor" => value(Ancestor),
            "ancestor_any" => value(AncestorAny),
            "descendant" => value(Descendant),
            "descendant_any" => value(DescendantAny),
            "matches" => value(Matches),
            "matches_any" => value(MatchesAny),
            "matches_fulltext" => value(MatchesFulltext),
            "st_contains" => value(StContains),
            "st_crosses" => value(StCrosses),
            "st_equals" => value(StEquals),
            "st_intersects" => value(StIntersects),
            "st_overlaps" => value(StOverlaps),
            "st_touches" => value(StTouches),
            "st_within" => value(StWithin),
            "st_d_within" => value(StDWithin),
            "st_3d_d_within" => value(St3dDWithin),
            "st_3d_intersects" => value(St3dIntersects),
            "ceq" => column(Eq),
            "cne" | "cneq" => column(Neq),
            "cgt" => column(Gt),
            "clt" => column(Lt),
            "cgte" | "cge" => column(Gte),
            "clte" | "cle" => column(Lte),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct BoolExpError {
    /// JSON path inside the expression, e.g. `$.author.id._eq` (relative: callers prefix it).
    pub path: String,
    pub message: String,
}

/// Where an expression comes from decides how strings that look like session variables are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueContext {
    /// Permissions: `"X-Hasura-User-Id"` is the session variable.
    Permission,
    /// Client filters (v1 `where`): every value is a literal.
    Client,
}

pub struct Parser<'a> {
    source: &'a SourceModel,
    context: ValueContext,
}

impl<'a> Parser<'a> {
    pub fn new(source: &'a SourceModel, context: ValueContext) -> Self {
        Parser { source, context }
    }

    pub fn parse(&self, table: &TableModel, json: &Value) -> Result<BoolExp, BoolExpError> {
        self.parse_at(table, json, "$")
    }

    fn parse_at(
        &self,
        table: &TableModel,
        json: &Value,
        path: &str,
    ) -> Result<BoolExp, BoolExpError> {
        let Value::Object(map) = json else {
            return Err(err(path, "expected an object for a boolean expression"));
        };
        let mut items = Vec::with_capacity(map.len());
        for (key, value) in map {
            let here = format!("{path}.{key}");
            items.push(self.parse_key(table, key, value, &here)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            BoolExp::And(items)
        })
    }

    fn parse_list(
        &self,
        table: &TableModel,
        value: &Value,
        path: &str,
    ) -> Result<Vec<BoolExp>, BoolExpError> {
        match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.parse_at(table, item, &format!("{path}[{i}]")))
                .collect(),
            // Hasura accepts a single object where a list is expected.
            Value::Object(_) => Ok(vec![self.parse_at(table, value, path)?]),
            _ => Err(err(path, "expected an array of boolean expressions")),
        }
    }

    fn parse_key(
        &self,
        table: &TableModel,
        key: &str,
        value: &Value,
        path: &str,
    ) -> Result<BoolExp, BoolExpError> {
        match key {
            "_and" | "$and" => Ok(BoolExp::And(self.parse_list(table, value, path)?)),
            "_or" | "$or" => Ok(BoolExp::Or(self.parse_list(table, value, path)?)),
            "_not" | "$not" => Ok(BoolExp::Not(Box::new(self.parse_at(table, value, path)?))),
            "_exists" => self.parse_exists(value, path),
            _ => {
                if let Some(column) = table.column(key) {
                    self.parse_column(table, key, &column.pg_type, value, path)
                } else if let Some(relationship) = table.relationship(key) {
                    let target = self.source.table(&relationship.target).ok_or_else(|| {
                        err(
                            path,
                            format!("table \"{}\" does not exist", relationship.target),
                        )
                    })?;
                    Ok(BoolExp::Relationship {
                        target: relationship.target.clone(),
                        mapping: relationship.mapping.clone(),
                        predicate: Box::new(self.parse_at(target, value, path)?),
                    })
                } else if let Some(field) = table.computed_fields.get(key) {
                    self.parse_computed_field(field, value, path)
                } else {
                    Err(err(path, format!("no such column exists: \"{key}\"")))
                }
            }
        }
    }

    fn parse_computed_field(
        &self,
        field: &crate::model::ComputedFieldInfo,
        value: &Value,
        path: &str,
    ) -> Result<BoolExp, BoolExpError> {
        let function = &field.function;
        let call = ComputedCall {
            function: graft_metadata::QualifiedFunction::new(
                &function.name.schema,
                &function.name.name,
            ),
            table_argument: field.table_argument,
            session_argument: field.session_argument,
            argument_count: field
                .table_argument
                .max(field.session_argument.unwrap_or(0))
                + 1,
        };
        if let Some(returned) = &function.return_table {
            let target = QualifiedTable::new(&returned.schema, &returned.name);
            let table = self
                .source
                .table(&target)
                .ok_or_else(|| err(path, format!("table \"{target}\" is not tracked")))?;
            let predicate = self.parse_at(table, value, path)?;
            return Ok(BoolExp::ComputedField {
                call,
                result: ComputedResult::Rows {
                    target,
                    predicate: Box::new(predicate),
                },
            });
        }
        let pg_type = function.return_type.clone();
        let Value::Object(ops) = value else {
            return Err(err(path, "expected an object of comparison operators"));
        };
        let mut items = Vec::new();
        for (key, operand) in ops {
            let here = format!("{path}.{key}");
            let (op, is_column) = ComparisonOp::from_key(key)
                .ok_or_else(|| err(&here, format!("unknown operator: \"{key}\"")))?;
            if is_column {
                return Err(err(
                    &here,
                    "column comparisons are not supported on computed fields",
                ));
            }
            check_operand(op, operand, &here)?;
            items.push(BoolExp::ComputedField {
                call: call.clone(),
                result: ComputedResult::Scalar {
                    pg_type: pg_type.clone(),
                    op: ColumnOp {
                        op,
                        value: self.operand(operand),
                    },
                },
            });
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            BoolExp::And(items)
        })
    }

    fn parse_exists(&self, value: &Value, path: &str) -> Result<BoolExp, BoolExpError> {
        let table_json = value
            .get("_table")
            .ok_or_else(|| err(path, "key \"_table\" not found"))?;
        let table_name: QualifiedTable = serde_json::from_value(table_json.clone())
            .map_err(|e| err(&format!("{path}._table"), e.to_string()))?;
        let table = self.source.table(&table_name).ok_or_else(|| {
            err(
                &format!("{path}._table"),
                format!("table \"{table_name}\" does not exist"),
            )
        })?;
        let where_ = value
            .get("_where")
            .ok_or_else(|| err(path, "key \"_where\" not found"))?;
        Ok(BoolExp::Exists {
            table: table_name,
            predicate: Box::new(self.parse_at(table, where_, &format!("{path}._where"))?),
        })
    }

    fn parse_column(
        &self,
        table: &TableModel,
        column: &str,
        pg_type: &PgType,
        value: &Value,
        path: &str,
    ) -> Result<BoolExp, BoolExpError> {
        let node = |op: ComparisonOp, value: Operand| BoolExp::Column {
            column: column.to_string(),
            pg_type: pg_type.clone(),
            op: ColumnOp { op, value },
        };
        let Value::Object(ops) = value else {
            // `{"id": 1}` is shorthand for `{"id": {"_eq": 1}}`.
            return Ok(node(ComparisonOp::Eq, self.operand(value)));
        };
        let mut items = Vec::with_capacity(ops.len());
        for (key, operand) in ops {
            let here = format!("{path}.{key}");
            let (op, is_column) = ComparisonOp::from_key(key)
                .ok_or_else(|| err(&here, format!("unknown operator: \"{key}\"")))?;
            let operand = if is_column {
                self.column_operand(table, operand, &here)?
            } else {
                check_operand(op, operand, &here)?;
                self.operand(operand)
            };
            items.push(node(op, operand));
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            BoolExp::And(items)
        })
    }

    fn operand(&self, value: &Value) -> Operand {
        match (self.context, value) {
            (ValueContext::Permission, Value::String(s)) if is_session_variable(s) => {
                Operand::Session(s.to_ascii_lowercase())
            }
            _ => Operand::Literal(value.clone()),
        }
    }

    fn column_operand(
        &self,
        table: &TableModel,
        value: &Value,
        path: &str,
    ) -> Result<Operand, BoolExpError> {
        let (column, root) = match value {
            Value::String(c) => (c.clone(), false),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(dollar), Value::String(c)] if dollar == "$" => (c.clone(), true),
                [Value::String(c)] => (c.clone(), false),
                _ => return Err(err(path, "expected a column name or [\"$\", column]")),
            },
            _ => return Err(err(path, "expected a column name")),
        };
        if !root && table.column(&column).is_none() {
            return Err(err(path, format!("no such column exists: \"{column}\"")));
        }
        Ok(Operand::Column { column, root })
    }
}

fn check_operand(op: ComparisonOp, value: &Value, path: &str) -> Result<(), BoolExpError> {
    use ComparisonOp::*;
    match (op, value) {
        (IsNull, Value::Bool(_)) => Ok(()),
        (IsNull, _) => Err(err(path, "expected a boolean for _is_null")),
        (
            In | Nin | HasKeysAny | HasKeysAll | AncestorAny | DescendantAny | MatchesAny,
            Value::Object(_),
        ) => Err(err(path, "expected an array")),
        _ => Ok(()),
    }
}

pub fn is_session_variable(s: &str) -> bool {
    s.len() > 9 && s[..9].eq_ignore_ascii_case("x-hasura-")
}

fn err(path: &str, message: impl Into<String>) -> BoolExpError {
    BoolExpError {
        path: path.to_string(),
        message: message.into(),
    }
}
