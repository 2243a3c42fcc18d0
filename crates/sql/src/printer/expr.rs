//! Printing of expressions, names and types.
//!
//! Every compound expression is wrapped in its own parentheses, so the
//! printed text never depends on operator precedence.

use super::{PrintError, SqlWriter};
use crate::ast::{
    Case, ColumnName, Expr, FunctionCall, FunctionName, NullsOrder, OrderByElement, OrderDirection,
    Quantifier, TableAlias, TableName, TypeName,
};

/// Types that print bare in casts (`::int4`). All are `pg_catalog` names or
/// grammar aliases of them that are not reserved words; grammar aliases such
/// as `integer` must not be quoted (`"integer"` is no type), and quoting
/// `"char"` would change its meaning, so only names listed here print bare.
const BARE_TYPE_NAMES: &[&str] = &[
    "bigint",
    "bit",
    "bool",
    "boolean",
    "bpchar",
    "bytea",
    "cidr",
    "date",
    "float4",
    "float8",
    "inet",
    "int2",
    "int4",
    "int8",
    "integer",
    "interval",
    "json",
    "jsonb",
    "jsonpath",
    "macaddr",
    "money",
    "name",
    "numeric",
    "oid",
    "real",
    "record",
    "regclass",
    "smallint",
    "text",
    "time",
    "timestamp",
    "timestamptz",
    "timetz",
    "tsquery",
    "tsvector",
    "uuid",
    "varbit",
    "varchar",
    "xml",
];

impl SqlWriter {
    pub(super) fn expr(&mut self, expr: &Expr) -> Result<(), PrintError> {
        match expr {
            Expr::Column { table, column } => self.column_ref(table.as_ref(), column)?,
            Expr::Param(index) => self.param(*index),
            Expr::Null => self.syntax("NULL"),
            Expr::Bool(true) => self.syntax("true"),
            Expr::Bool(false) => self.syntax("false"),
            Expr::Int(value) => self.integer(*value),
            Expr::StringLiteral(text) => self.string_literal(text)?,
            Expr::FunctionCall(call) => self.function_call(call)?,
            Expr::BinaryOp { left, op, right } => {
                self.syntax("(");
                self.expr(left)?;
                self.syntax(" ");
                self.syntax(op.sql());
                self.syntax(" ");
                self.expr(right)?;
                self.syntax(")");
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated)?,
            Expr::Quantified {
                left,
                op,
                quantifier,
                right,
            } => {
                self.syntax("(");
                self.expr(left)?;
                self.syntax(" ");
                self.syntax(op.sql());
                self.syntax(match quantifier {
                    Quantifier::Any => " ANY (",
                    Quantifier::All => " ALL (",
                });
                self.expr(right)?;
                self.syntax("))");
            }
            Expr::And(items) => self.connective(items, " AND ", "true")?,
            Expr::Or(items) => self.connective(items, " OR ", "false")?,
            Expr::Not(inner) => {
                self.syntax("(NOT ");
                self.expr(inner)?;
                self.syntax(")");
            }
            Expr::IsNull(inner) => {
                self.syntax("(");
                self.expr(inner)?;
                self.syntax(" IS NULL)");
            }
            Expr::IsNotNull(inner) => {
                self.syntax("(");
                self.expr(inner)?;
                self.syntax(" IS NOT NULL)");
            }
            Expr::Cast { expr, ty } => self.cast(expr, ty)?,
            Expr::Exists(select) => {
                self.syntax("EXISTS (");
                self.select(select)?;
                self.syntax(")");
            }
            Expr::ScalarSubquery(select) => {
                self.syntax("(");
                self.select(select)?;
                self.syntax(")");
            }
            Expr::Case(case) => self.case(case)?,
            Expr::RowToJson(alias) => {
                self.syntax("row_to_json(");
                self.table_alias(alias)?;
                self.syntax(")");
            }
            Expr::TableRow(alias) => self.table_alias(alias)?,
            Expr::Array(items) => {
                self.syntax("ARRAY[");
                self.list(items, ", ", Self::expr)?;
                self.syntax("]");
            }
            Expr::Excluded(column) => {
                self.syntax("EXCLUDED.");
                self.column_name(column)?;
            }
            Expr::Star => self.syntax("*"),
        }
        Ok(())
    }

    fn column_ref(
        &mut self,
        table: Option<&TableAlias>,
        column: &ColumnName,
    ) -> Result<(), PrintError> {
        if let Some(table) = table {
            self.table_alias(table)?;
            self.syntax(".");
        }
        self.column_name(column)
    }

    pub(super) fn function_call(&mut self, call: &FunctionCall) -> Result<(), PrintError> {
        match &call.name {
            FunctionName::Builtin(name) => self.syntax(name),
            FunctionName::Qualified { schema, name } => {
                if let Some(schema) = schema {
                    self.identifier(schema)?;
                    self.syntax(".");
                }
                self.identifier(name)?;
            }
        }
        self.syntax("(");
        if call.distinct {
            self.syntax("DISTINCT ");
        }
        self.list(&call.args, ", ", Self::expr)?;
        if !call.order_by.is_empty() {
            self.syntax(" ORDER BY ");
            self.order_by_list(&call.order_by)?;
        }
        self.syntax(")");
        if let Some(filter) = &call.filter {
            self.syntax(" FILTER (WHERE ");
            self.expr(filter)?;
            self.syntax(")");
        }
        Ok(())
    }

    fn in_list(&mut self, expr: &Expr, list: &[Expr], negated: bool) -> Result<(), PrintError> {
        if list.is_empty() {
            self.syntax(if negated { "true" } else { "false" });
            return Ok(());
        }
        self.syntax("(");
        self.expr(expr)?;
        self.syntax(if negated { " NOT IN (" } else { " IN (" });
        self.list(list, ", ", Self::expr)?;
        self.syntax("))");
        Ok(())
    }

    /// AND / OR: the neutral value when empty, the operand alone when single.
    fn connective(
        &mut self,
        items: &[Expr],
        separator: &'static str,
        empty: &'static str,
    ) -> Result<(), PrintError> {
        match items {
            [] => self.syntax(empty),
            [single] => self.expr(single)?,
            _ => {
                self.syntax("(");
                self.list(items, separator, Self::expr)?;
                self.syntax(")");
            }
        }
        Ok(())
    }

    fn cast(&mut self, expr: &Expr, ty: &TypeName) -> Result<(), PrintError> {
        // `::` binds tighter than any operator, so an operand needs
        // parentheses unless it is a single token or already prints its own
        // (a negative number would be negated after the cast).
        let simple = match expr {
            Expr::Column { .. }
            | Expr::Param(_)
            | Expr::Null
            | Expr::Bool(_)
            | Expr::StringLiteral(_)
            | Expr::FunctionCall(_)
            | Expr::RowToJson(_)
            | Expr::TableRow(_)
            | Expr::Array(_)
            | Expr::ScalarSubquery(_)
            | Expr::BinaryOp { .. }
            | Expr::Quantified { .. }
            | Expr::Not(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::Cast { .. }
            | Expr::InList { .. }
            | Expr::Excluded(_) => true,
            Expr::And(items) | Expr::Or(items) => items.len() != 1,
            Expr::Int(value) => *value >= 0,
            Expr::Exists(_) | Expr::Case(_) | Expr::Star => false,
        };
        if simple {
            self.expr(expr)?;
        } else {
            self.syntax("(");
            self.expr(expr)?;
            self.syntax(")");
        }
        self.syntax("::");
        self.type_name(ty)
    }

    fn case(&mut self, case: &Case) -> Result<(), PrintError> {
        // CASE needs at least one WHEN; with none, its value is the ELSE.
        if case.when_then.is_empty() {
            return match &case.else_ {
                Some(else_) => self.expr(else_),
                None => {
                    self.syntax("NULL");
                    Ok(())
                }
            };
        }
        self.syntax("CASE");
        for (condition, result) in &case.when_then {
            self.syntax(" WHEN ");
            self.expr(condition)?;
            self.syntax(" THEN ");
            self.expr(result)?;
        }
        if let Some(else_) = &case.else_ {
            self.syntax(" ELSE ");
            self.expr(else_)?;
        }
        self.syntax(" END");
        Ok(())
    }

    pub(super) fn order_by_list(&mut self, items: &[OrderByElement]) -> Result<(), PrintError> {
        self.list(items, ", ", |writer, item| {
            writer.expr(&item.expr)?;
            writer.syntax(match item.direction {
                OrderDirection::Asc => " ASC",
                OrderDirection::Desc => " DESC",
            });
            match item.nulls {
                Some(NullsOrder::First) => writer.syntax(" NULLS FIRST"),
                Some(NullsOrder::Last) => writer.syntax(" NULLS LAST"),
                None => {}
            }
            Ok(())
        })
    }

    pub(super) fn type_name(&mut self, ty: &TypeName) -> Result<(), PrintError> {
        let bare = match &ty.schema {
            None => BARE_TYPE_NAMES.iter().find(|bare| **bare == ty.name),
            Some(_) => None,
        };
        match (bare, &ty.schema) {
            (Some(bare), _) => self.syntax(bare),
            (None, Some(schema)) => {
                self.identifier(schema)?;
                self.syntax(".");
                self.identifier(&ty.name)?;
            }
            (None, None) => self.identifier(&ty.name)?,
        }
        for _ in 0..ty.array_dims {
            self.syntax("[]");
        }
        Ok(())
    }

    pub(super) fn table_name(&mut self, table: &TableName) -> Result<(), PrintError> {
        self.identifier(&table.schema)?;
        self.syntax(".");
        self.identifier(&table.name)
    }

    pub(super) fn table_alias(&mut self, alias: &TableAlias) -> Result<(), PrintError> {
        self.identifier(alias.as_str())
    }

    pub(super) fn column_name(&mut self, column: &ColumnName) -> Result<(), PrintError> {
        self.identifier(column.as_str())
    }
}
