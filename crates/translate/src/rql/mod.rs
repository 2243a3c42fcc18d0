//! The v1 data API (`select`, `count`, `insert`, `update`, `delete` of `POST /v1/query`):
//! request `args` + session + model → IR, with the role's permissions checked and applied.
//!
//! Admin bypasses every permission. Any other role needs the permission for the operation on
//! the table, may name only the columns the permission allows, and gets the permission's filter
//! ANDed to its own `where`, also on every table a `where` reaches through relationships.

pub mod args;
mod mutation;
mod query;

pub use mutation::{delete_ir, insert_ir, update_ir};
pub use query::{count_ir, select_ir};

use crate::error::RqlError;
use crate::ir;
use graft_catalog::PgType;
use graft_metadata::QualifiedTable;
use graft_schema::{
    BoolExp, ComputedResult, Parser, RolePermissions, SelectPermissionInfo, Session, SourceModel,
    TableModel, ValueContext,
};

/// What every IR builder reads.
pub struct RqlContext<'a> {
    pub source: &'a SourceModel,
    pub session: &'a Session,
    pub stringify_numeric: bool,
}

impl<'a> RqlContext<'a> {
    pub fn is_admin(&self) -> bool {
        self.session.is_admin()
    }

    pub fn table(&self, name: &QualifiedTable) -> Result<&'a TableModel, RqlError> {
        self.source.table(name).ok_or_else(|| {
            RqlError::not_exists(format!("table \"{name}\" does not exist"), "$.args.table")
        })
    }

    fn role_permissions(&self, table: &'a TableModel) -> Option<&'a RolePermissions> {
        table.permissions.get(&self.session.role)
    }

    /// `None` for admin (no restriction); the role's select permission, or the error Hasura
    /// gives when it has none.
    pub fn select_permission(
        &self,
        table: &'a TableModel,
        path: &str,
    ) -> Result<Option<&'a SelectPermissionInfo>, RqlError> {
        if self.is_admin() {
            return Ok(None);
        }
        self.role_permissions(table)
            .and_then(|p| p.select.as_ref())
            .map(Some)
            .ok_or_else(|| self.not_allowed("select", &table.name, path))
    }

    /// Backend-only mutation permissions apply only to requests with admin credentials that ask
    /// for them (`x-hasura-use-backend-only-permissions: true`).
    pub fn backend_only_allowed(&self) -> bool {
        self.session.has_admin_credentials
            && self
                .session
                .variable("x-hasura-use-backend-only-permissions")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn not_allowed(&self, operation: &str, table: &QualifiedTable, path: &str) -> RqlError {
        RqlError::permission_denied(
            format!(
                "{operation} on \"{table}\" for role \"{}\" is not allowed. ",
                self.session.role
            ),
            path,
        )
    }

    /// A column field for output, with numbers stringified when asked.
    pub fn column_field(
        &self,
        table: &TableModel,
        column: &str,
        path: &str,
    ) -> Result<ir::FieldIr, RqlError> {
        let info = table
            .column(column)
            .ok_or_else(|| no_such_column(column, path))?;
        Ok(ir::FieldIr::Column(ir::ColumnField {
            column: info.name.clone(),
            pg_type: info.pg_type.clone(),
            as_text: self.stringify_numeric && is_big_number(&info.pg_type),
            json_path: None,
            redaction: if self.is_admin() {
                None
            } else {
                self.role_permissions(table)
                    .and_then(|p| p.select.as_ref())
                    .and_then(|p| p.redaction(&info.name))
                    .map(|condition| Box::new(condition.clone()))
            },
        }))
    }

    /// The client's `where` parsed against `table`, with the role's select filter of every table
    /// it reaches through relationships (or `_exists`) ANDed in.
    pub fn client_where(
        &self,
        table: &'a TableModel,
        where_: Option<&serde_json::Value>,
        path: &str,
    ) -> Result<BoolExp, RqlError> {
        let Some(json) = where_ else {
            return Ok(BoolExp::always_true());
        };
        let parsed = Parser::new(self.source, ValueContext::Client)
            .parse(table, json)
            .map_err(|e| {
                let rest = e.path.strip_prefix('$').unwrap_or(&e.path);
                let path = format!("{path}{rest}");
                if e.message.starts_with("no such column") {
                    RqlError::permission_denied(e.message, path)
                } else if e.message.contains("does not exist") {
                    RqlError::not_exists(e.message, path)
                } else {
                    RqlError::parse_failed(e.message, path)
                }
            })?;
        if self.is_admin() {
            return Ok(parsed);
        }
        self.secure(table, parsed, path)
    }

    fn secure(&self, table: &'a TableModel, exp: BoolExp, path: &str) -> Result<BoolExp, RqlError> {
        Ok(match exp {
            BoolExp::And(items) => BoolExp::And(self.secure_all(table, items, path)?),
            BoolExp::Or(items) => BoolExp::Or(self.secure_all(table, items, path)?),
            BoolExp::Not(inner) => BoolExp::Not(Box::new(self.secure(table, *inner, path)?)),
            BoolExp::Column {
                column,
                pg_type,
                op,
            } => {
                if let Some(permission) = self.select_permission(table, path)?
                    && !permission.columns.contains(&column)
                {
                    return Err(self.column_denied("select", &column, path));
                }
                BoolExp::Column {
                    column,
                    pg_type,
                    op,
                }
            }
            BoolExp::Relationship {
                target,
                mapping,
                predicate,
            } => {
                let predicate = self.secure_on(&target, *predicate, path)?;
                BoolExp::Relationship {
                    target,
                    mapping,
                    predicate,
                }
            }
            BoolExp::Exists {
                table: other,
                predicate,
            } => {
                let predicate = self.secure_on(&other, *predicate, path)?;
                BoolExp::Exists {
                    table: other,
                    predicate,
                }
            }
            BoolExp::ComputedField {
                call,
                result: ComputedResult::Rows { target, predicate },
            } => {
                let predicate = self.secure_on(&target, *predicate, path)?;
                BoolExp::ComputedField {
                    call,
                    result: ComputedResult::Rows { target, predicate },
                }
            }
            scalar @ BoolExp::ComputedField { .. } => scalar,
        })
    }

    /// A predicate about the rows of `target`, reached from another table: checked like a
    /// top-level one and ANDed with the role's select filter on `target`.
    fn secure_on(
        &self,
        target: &QualifiedTable,
        predicate: BoolExp,
        path: &str,
    ) -> Result<Box<BoolExp>, RqlError> {
        let table = self.table(target)?;
        let filter = self
            .select_permission(table, path)?
            .map(|p| p.filter.clone())
            .unwrap_or_else(BoolExp::always_true);
        let predicate = self.secure(table, predicate, path)?;
        Ok(Box::new(ir::and(vec![predicate, filter])))
    }

    fn secure_all(
        &self,
        table: &'a TableModel,
        items: Vec<BoolExp>,
        path: &str,
    ) -> Result<Vec<BoolExp>, RqlError> {
        items
            .into_iter()
            .map(|i| self.secure(table, i, path))
            .collect()
    }

    pub fn column_denied(&self, operation: &str, column: &str, path: &str) -> RqlError {
        RqlError::permission_denied(
            format!(
                "role \"{}\" does not have permission to {operation} column \"{column}\"",
                self.session.role
            ),
            path,
        )
    }
}

pub fn no_such_column(column: &str, path: &str) -> RqlError {
    RqlError::permission_denied(format!("no such column exists: \"{column}\""), path)
}

/// Types whose values do not fit a JavaScript number, output as strings under
/// `stringify_numeric` (Hasura's `isBigNum`).
pub fn is_big_number(pg_type: &PgType) -> bool {
    let pg_type = pg_type.underlying();
    pg_type.schema == "pg_catalog"
        && matches!(
            pg_type.name.as_str(),
            "int8" | "numeric" | "float8" | "money"
        )
}

fn convert_direction(direction: args::OrderDirection) -> ir::OrderDirection {
    match direction {
        args::OrderDirection::Asc => ir::OrderDirection::Asc,
        args::OrderDirection::Desc => ir::OrderDirection::Desc,
    }
}

fn convert_nulls(nulls: Option<args::NullsOrder>) -> Option<ir::NullsOrder> {
    nulls.map(|n| match n {
        args::NullsOrder::First => ir::NullsOrder::First,
        args::NullsOrder::Last => ir::NullsOrder::Last,
    })
}
