//! Printing of statements and their clauses.

use super::{PrintError, SqlWriter};
use crate::ast::{
    ColumnAlias, ColumnName, ConflictAction, ConflictTarget, Delete, Expr, From, Insert,
    InsertSource, InsertValue, Join, OnConflict, Select, SelectList, Statement, Update, With,
};

impl SqlWriter {
    pub(super) fn statement(&mut self, statement: &Statement) -> Result<(), PrintError> {
        match statement {
            Statement::Select(select) => self.select(select),
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
        }
    }

    /// `WITH "a" AS (...), ... ` including the trailing space; nothing when
    /// there is no CTE.
    fn with(&mut self, with: Option<&With>) -> Result<(), PrintError> {
        let Some(with) = with.filter(|with| !with.ctes.is_empty()) else {
            return Ok(());
        };
        self.syntax("WITH ");
        self.list(&with.ctes, ", ", |writer, cte| {
            writer.table_alias(&cte.alias)?;
            writer.syntax(" AS (");
            writer.statement(&cte.statement)?;
            writer.syntax(")");
            Ok(())
        })?;
        self.syntax(" ");
        Ok(())
    }

    pub(super) fn select(&mut self, select: &Select) -> Result<(), PrintError> {
        self.with(select.with.as_ref())?;
        self.syntax("SELECT");
        if !select.distinct_on.is_empty() {
            self.syntax(" DISTINCT ON (");
            self.list(&select.distinct_on, ", ", Self::expr)?;
            self.syntax(")");
        }
        if !matches!(&select.select_list, SelectList::Items(items) if items.is_empty()) {
            self.syntax(" ");
            self.select_list(&select.select_list)?;
        }
        if let Some(from) = &select.from {
            self.syntax(" FROM ");
            self.table_expr(from)?;
        }
        for join in &select.joins {
            self.join(join)?;
        }
        self.where_clause(select.where_.as_ref())?;
        if !select.group_by.is_empty() {
            self.syntax(" GROUP BY ");
            self.list(&select.group_by, ", ", Self::expr)?;
        }
        if let Some(having) = &select.having {
            self.syntax(" HAVING ");
            self.expr(having)?;
        }
        if !select.order_by.is_empty() {
            self.syntax(" ORDER BY ");
            self.order_by_list(&select.order_by)?;
        }
        if let Some(limit) = &select.limit {
            self.syntax(" LIMIT ");
            self.expr(limit)?;
        }
        if let Some(offset) = &select.offset {
            self.syntax(" OFFSET ");
            self.expr(offset)?;
        }
        Ok(())
    }

    fn select_list(&mut self, list: &SelectList) -> Result<(), PrintError> {
        match list {
            SelectList::Items(items) => self.aliased_items(items),
            SelectList::Star => {
                self.syntax("*");
                Ok(())
            }
            SelectList::StarAnd(items) => {
                self.syntax("*");
                if !items.is_empty() {
                    self.syntax(", ");
                }
                self.aliased_items(items)
            }
        }
    }

    fn aliased_items(&mut self, items: &[(Expr, ColumnAlias)]) -> Result<(), PrintError> {
        self.list(items, ", ", |writer, (expr, alias)| {
            writer.expr(expr)?;
            writer.syntax(" AS ");
            writer.identifier(alias.as_str())
        })
    }

    fn table_expr(&mut self, from: &From) -> Result<(), PrintError> {
        match from {
            From::Table { name, alias } => {
                self.table_name(name)?;
                self.syntax(" AS ");
                self.table_alias(alias)?;
            }
            From::Cte { cte, alias } => {
                self.table_alias(cte)?;
                self.syntax(" AS ");
                self.table_alias(alias)?;
            }
            From::Subquery {
                select,
                alias,
                lateral,
            } => {
                if *lateral {
                    self.syntax("LATERAL ");
                }
                self.syntax("(");
                self.select(select)?;
                self.syntax(") AS ");
                self.table_alias(alias)?;
            }
            From::Function {
                call,
                with_ordinality,
                alias,
                columns,
                lateral,
            } => {
                if *lateral {
                    self.syntax("LATERAL ");
                }
                self.function_call(call)?;
                if *with_ordinality {
                    self.syntax(" WITH ORDINALITY");
                }
                self.syntax(" AS ");
                self.table_alias(alias)?;
                if !columns.is_empty() {
                    self.syntax("(");
                    self.list(columns, ", ", |writer, column| {
                        writer.column_name(&column.name)?;
                        if let Some(ty) = &column.ty {
                            writer.syntax(" ");
                            writer.type_name(ty)?;
                        }
                        Ok(())
                    })?;
                    self.syntax(")");
                }
            }
        }
        Ok(())
    }

    fn join(&mut self, join: &Join) -> Result<(), PrintError> {
        let (keyword, from, on) = match join {
            Join::Left { from, on } => (" LEFT JOIN ", from, Some(on)),
            Join::Inner { from, on } => (" INNER JOIN ", from, Some(on)),
            Join::Cross { from } => (" CROSS JOIN ", from, None),
        };
        self.syntax(keyword);
        self.table_expr(from)?;
        if let Some(on) = on {
            self.syntax(" ON ");
            self.expr(on)?;
        }
        Ok(())
    }

    fn where_clause(&mut self, where_: Option<&Expr>) -> Result<(), PrintError> {
        if let Some(condition) = where_ {
            self.syntax(" WHERE ");
            self.expr(condition)?;
        }
        Ok(())
    }

    fn returning(&mut self, returning: Option<&SelectList>) -> Result<(), PrintError> {
        match returning {
            None => Ok(()),
            Some(SelectList::Items(items)) if items.is_empty() => Ok(()),
            Some(list) => {
                self.syntax(" RETURNING ");
                self.select_list(list)
            }
        }
    }

    fn set_list(
        &mut self,
        set: &[(ColumnName, Expr)],
        statement: &'static str,
    ) -> Result<(), PrintError> {
        if set.is_empty() {
            return Err(PrintError::EmptySet { statement });
        }
        self.syntax(" SET ");
        self.list(set, ", ", |writer, (column, value)| {
            writer.column_name(column)?;
            writer.syntax(" = ");
            writer.expr(value)
        })
    }

    fn insert(&mut self, insert: &Insert) -> Result<(), PrintError> {
        self.with(insert.with.as_ref())?;
        self.syntax("INSERT INTO ");
        self.table_name(&insert.table)?;
        if let Some(alias) = &insert.alias {
            self.syntax(" AS ");
            self.table_alias(alias)?;
        }
        if !insert.columns.is_empty() {
            self.syntax(" (");
            self.list(&insert.columns, ", ", Self::column_name)?;
            self.syntax(")");
        }
        match &insert.source {
            InsertSource::Values(rows) => self.values(rows, insert.columns.len())?,
            InsertSource::Select(select) => {
                self.syntax(" ");
                self.select(select)?;
            }
            InsertSource::DefaultValues => self.syntax(" DEFAULT VALUES"),
        }
        if let Some(on_conflict) = &insert.on_conflict {
            self.on_conflict(on_conflict)?;
        }
        self.returning(insert.returning.as_ref())
    }

    fn values(&mut self, rows: &[Vec<InsertValue>], columns: usize) -> Result<(), PrintError> {
        if rows.is_empty() {
            return Err(PrintError::EmptyValues);
        }
        // Without a column list the row width is the table's, which only
        // Postgres knows; with one, a mismatch is a bug worth naming here.
        if columns > 0
            && let Some((row, values)) = rows
                .iter()
                .enumerate()
                .find(|(_, values)| values.len() != columns)
        {
            return Err(PrintError::ValuesArity {
                row,
                found: values.len(),
                expected: columns,
            });
        }
        self.syntax(" VALUES ");
        self.list(rows, ", ", |writer, values| {
            writer.syntax("(");
            writer.list(values, ", ", |writer, value| match value {
                InsertValue::Expr(expr) => writer.expr(expr),
                InsertValue::Default => {
                    writer.syntax("DEFAULT");
                    Ok(())
                }
            })?;
            writer.syntax(")");
            Ok(())
        })
    }

    fn on_conflict(&mut self, on_conflict: &OnConflict) -> Result<(), PrintError> {
        self.syntax(" ON CONFLICT");
        match &on_conflict.target {
            Some(ConflictTarget::Constraint(name)) => {
                self.syntax(" ON CONSTRAINT ");
                self.identifier(name)?;
            }
            Some(ConflictTarget::Columns(columns)) => {
                self.syntax(" (");
                self.list(columns, ", ", Self::column_name)?;
                self.syntax(")");
            }
            None => {
                if matches!(on_conflict.action, ConflictAction::DoUpdate { .. }) {
                    return Err(PrintError::MissingConflictTarget);
                }
            }
        }
        match &on_conflict.action {
            ConflictAction::DoNothing => self.syntax(" DO NOTHING"),
            ConflictAction::DoUpdate { set, where_ } => {
                self.syntax(" DO UPDATE");
                self.set_list(set, "ON CONFLICT DO UPDATE")?;
                self.where_clause(where_.as_ref())?;
            }
        }
        Ok(())
    }

    fn update(&mut self, update: &Update) -> Result<(), PrintError> {
        self.with(update.with.as_ref())?;
        self.syntax("UPDATE ");
        self.table_name(&update.table)?;
        self.syntax(" AS ");
        self.table_alias(&update.alias)?;
        self.set_list(&update.set, "UPDATE")?;
        if let Some(from) = &update.from {
            self.syntax(" FROM ");
            self.table_expr(from)?;
        }
        self.where_clause(update.where_.as_ref())?;
        self.returning(update.returning.as_ref())
    }

    fn delete(&mut self, delete: &Delete) -> Result<(), PrintError> {
        self.with(delete.with.as_ref())?;
        self.syntax("DELETE FROM ");
        self.table_name(&delete.table)?;
        self.syntax(" AS ");
        self.table_alias(&delete.alias)?;
        self.where_clause(delete.where_.as_ref())?;
        self.returning(delete.returning.as_ref())
    }
}
