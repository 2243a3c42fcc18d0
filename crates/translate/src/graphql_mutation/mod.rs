//! GraphQL mutations → one SQL statement per mutation root field (two or more for
//! `update_<t>_many`, one per update, so that each update sees the previous one's rows).
//!
//! In: a `graft_gql::ValidOperation` of kind mutation (validated against the role's schema), the
//! source model and the session. Out: [`MutationStatement`]s, in the order the fields were
//! written; the server runs them in ONE transaction, in order.
//!
//! Every write is a data-modifying CTE; the statement's SELECT builds the field's JSON from the
//! CTEs' RETURNING rows:
//!
//! ```sql
//! WITH "_ins0" AS (INSERT INTO "public"."author" AS "_t1" ("name") VALUES ($2::text)
//!                  RETURNING *, coalesce(<check>, false) AS "check__"),
//!      "_ins2" AS (INSERT INTO "public"."article" AS "_t3" ("title", "author_id")
//!                  VALUES ($3::text, (SELECT "_t4"."id" FROM "_ins0" AS "_t4" LIMIT 1)) RETURNING *)
//! SELECT json_build_object('data', json_build_object('affected_rows', <sum of counts>,
//!                                                    'returning', <select over "_ins0">),
//!                          'check', <bool_and of every "check__">) AS "root"
//! ```
//!
//! Nested inserts chain CTEs: an object relationship whose row the parent points to is inserted
//! first and the parent reads its key from that CTE; array relationships (and object
//! relationships that point back at the parent) are inserted after, reading the parent's key.
//! A level with nested data gets one CTE per object, so each child knows its own parent.
//!
//! A statement's parts all read the snapshot taken before it started, so rows inserted by its
//! own CTEs are invisible to plain table reads. `returning` (and permission checks) must see
//! them: [`visible`] rewrites reads of the tables the statement wrote into reads of "table rows
//! plus the CTE rows".

mod delete;
mod insert;
mod output;
mod query_parts;
mod update;
mod visible;

use crate::PreparedSql;
use crate::boolexp::SqlContext;
use crate::graphql::{GraphqlError, GraphqlOptions};
use graft_gql::{
    MutationFieldKind, OperationKind, TableNames, ValidOperation, mutation_root_field,
};
use graft_metadata::QualifiedTable;
use graft_schema::{
    BoolExp, DeletePermissionInfo, InsertPermissionInfo, Session, SourceModel, TableModel,
    UpdatePermissionInfo,
};
use graft_sql::ast::{ColumnAlias, Cte, Expr, Select, Statement, TableAlias, With};
use query_parts::context::GqlContext;
use std::collections::HashMap;

/// One statement of a mutation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationStatement {
    /// The root field's response key (its alias, else its name).
    pub response_key: String,
    /// When `prepared.has_check` is true the statement's JSON is `{"data": <value>, "check":
    /// <bool>}`, and a false check must roll the whole request back with `permission-error`
    /// "check constraint of an insert/update permission has failed". Otherwise it is the value.
    pub prepared: PreparedSql,
    /// How the value becomes the field's value.
    pub shape: ResultShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultShape {
    /// The value is the field's value.
    Value,
    /// The value is one element of the field's value, a JSON array: consecutive statements with
    /// this shape and the same `response_key` are its elements, in order (`update_<t>_many`).
    ArrayItem,
}

/// Translates every mutation root field of `op` (except `__typename`, which the server answers).
pub fn translate_graphql_mutation(
    op: &ValidOperation,
    source: &SourceModel,
    session: &Session,
    options: &GraphqlOptions,
) -> Result<Vec<MutationStatement>, GraphqlError> {
    if op.kind != OperationKind::Mutation {
        return Err(GraphqlError::not_supported(
            "translate_graphql_mutation translates mutations only",
            "$",
        ));
    }
    let ctx = MutationContext::new(source, session, options);
    let mut statements = Vec::new();
    for field in &op.root_fields {
        if field.name.starts_with("__") {
            continue;
        }
        let path = format!("$.selectionSet.{}", field.alias);
        let not_found =
            || GraphqlError::field_not_found(&field.name, &field.parent_type, path.as_str());
        if let Some(root) = query_parts::function::function_root(&ctx.query, field, &path)? {
            // A VOLATILE tracked function: its rows read like a query, inside the transaction.
            statements.push(MutationStatement {
                response_key: field.alias.clone(),
                prepared: crate::graphql::root_statement(&root, session)?,
                shape: ResultShape::Value,
            });
            continue;
        }
        let (table, kind) = ctx.root(&field.name).ok_or_else(not_found)?;
        let built = match kind {
            MutationFieldKind::Insert | MutationFieldKind::InsertOne => {
                vec![insert::insert_field(&ctx, table, field, kind, &path)?]
            }
            MutationFieldKind::Update | MutationFieldKind::UpdateByPk => {
                vec![update::update_field(&ctx, table, field, kind, &path)?]
            }
            MutationFieldKind::UpdateMany => update::update_many(&ctx, table, field, &path)?,
            MutationFieldKind::Delete | MutationFieldKind::DeleteByPk => {
                vec![delete::delete_field(&ctx, table, field, kind, &path)?]
            }
        };
        let shape = if kind == MutationFieldKind::UpdateMany {
            ResultShape::ArrayItem
        } else {
            ResultShape::Value
        };
        for prepared in built {
            statements.push(MutationStatement {
                response_key: field.alias.clone(),
                prepared,
                shape,
            });
        }
    }
    Ok(statements)
}

/// What every mutation builder reads: the query context (for `where` and `returning`), the
/// mutation root fields, and the role's mutation permissions.
pub(crate) struct MutationContext<'a> {
    pub query: GqlContext<'a>,
    roots: HashMap<String, (&'a TableModel, MutationFieldKind)>,
}

impl<'a> MutationContext<'a> {
    fn new(source: &'a SourceModel, session: &'a Session, options: &GraphqlOptions) -> Self {
        let mut roots = HashMap::new();
        for table in source.tables.values() {
            let names = TableNames::of(table);
            for kind in MutationFieldKind::ALL {
                roots.insert(mutation_root_field(table, &names, kind).name, (table, kind));
            }
        }
        MutationContext {
            query: GqlContext::new(source, session, options),
            roots,
        }
    }

    fn root(&self, name: &str) -> Option<(&'a TableModel, MutationFieldKind)> {
        self.roots.get(name).copied()
    }

    pub fn source(&self) -> &'a SourceModel {
        self.query.source
    }

    pub fn session(&self) -> &'a Session {
        self.query.session
    }

    pub fn is_admin(&self) -> bool {
        self.query.session.is_admin()
    }

    /// Backend-only permissions count only for requests with admin credentials that ask for
    /// them (`x-hasura-use-backend-only-permissions: true`).
    fn backend_only_allowed(&self) -> bool {
        let session = self.query.session;
        session.has_admin_credentials
            && session
                .variable("x-hasura-use-backend-only-permissions")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `Ok(None)` for admin; the role's insert permission, or the error for a table the role
    /// may not insert into.
    pub fn insert_permission(
        &self,
        table: &'a TableModel,
        path: &str,
    ) -> Result<Option<&'a InsertPermissionInfo>, GraphqlError> {
        if self.is_admin() {
            return Ok(None);
        }
        self.role_permissions(table)
            .and_then(|p| p.insert.as_ref())
            .filter(|p| !p.backend_only || self.backend_only_allowed())
            .map(Some)
            .ok_or_else(|| self.not_allowed("insert", table, path))
    }

    pub fn update_permission(
        &self,
        table: &'a TableModel,
        path: &str,
    ) -> Result<Option<&'a UpdatePermissionInfo>, GraphqlError> {
        if self.is_admin() {
            return Ok(None);
        }
        self.role_permissions(table)
            .and_then(|p| p.update.as_ref())
            .filter(|p| !p.backend_only || self.backend_only_allowed())
            .map(Some)
            .ok_or_else(|| self.not_allowed("update", table, path))
    }

    pub fn delete_permission(
        &self,
        table: &'a TableModel,
        path: &str,
    ) -> Result<Option<&'a DeletePermissionInfo>, GraphqlError> {
        if self.is_admin() {
            return Ok(None);
        }
        self.role_permissions(table)
            .and_then(|p| p.delete.as_ref())
            .filter(|p| !p.backend_only || self.backend_only_allowed())
            .map(Some)
            .ok_or_else(|| self.not_allowed("delete", table, path))
    }

    fn role_permissions(&self, table: &'a TableModel) -> Option<&'a graft_schema::RolePermissions> {
        table.permissions.get(&self.query.session.role)
    }

    fn not_allowed(&self, operation: &str, table: &TableModel, path: &str) -> GraphqlError {
        GraphqlError::new(
            "permission-denied",
            format!(
                "{operation} on \"{}\" for role \"{}\" is not allowed. ",
                table.name, self.query.session.role
            ),
            path,
        )
    }

    /// Refuses a request whose permissions read a session variable it does not carry, as
    /// Hasura does, instead of silently comparing with NULL.
    pub fn require_session_variables(&self, names: &[String]) -> Result<(), GraphqlError> {
        match names
            .iter()
            .find(|name| self.query.session.variable(name).is_none())
        {
            None => Ok(()),
            Some(name) => Err(GraphqlError::new(
                "not-found",
                format!("missing session variable: \"{name}\""),
                "$",
            )),
        }
    }
}

/// Session variables a boolean expression reads.
pub(crate) fn session_variables_of(exp: &BoolExp, out: &mut Vec<String>) {
    exp.session_variables(out);
}

/// A statement under construction: its CTEs, in dependency order, and what they wrote.
pub(crate) struct StatementBuilder {
    pub sql: SqlContext,
    ctes: Vec<Cte>,
    pub written: visible::WrittenRows,
    /// CTEs whose rows carry a `check__` column.
    checked: Vec<TableAlias>,
}

impl StatementBuilder {
    pub fn new(session: &Session) -> Self {
        StatementBuilder {
            sql: SqlContext::new(session.variables_json()),
            ctes: Vec::new(),
            written: visible::WrittenRows::default(),
            checked: Vec::new(),
        }
    }

    /// Adds a data-modifying CTE that wrote rows of `table`. `updates_existing`: it may
    /// change rows that were already there (an update, an upsert); `checked`: its rows carry
    /// `check__`.
    pub fn push_write(
        &mut self,
        alias: TableAlias,
        statement: Statement,
        table: &QualifiedTable,
        updates_existing: bool,
        checked: bool,
    ) {
        self.ctes.push(Cte {
            alias: alias.clone(),
            statement,
        });
        if checked {
            self.checked.push(alias.clone());
        }
        self.written.add(table, alias, updates_existing);
    }

    /// Every CTE, all of them writes, in statement order.
    pub fn written_ctes(&self) -> Vec<TableAlias> {
        self.ctes.iter().map(|cte| cte.alias.clone()).collect()
    }

    /// Whether the rows of `cte` carry `check__` besides the table's columns.
    pub fn carries_check(&self, cte: &TableAlias) -> bool {
        self.checked.contains(cte)
    }

    pub fn has_check(&self) -> bool {
        !self.checked.is_empty()
    }

    /// `WITH <ctes> SELECT <value> AS "root"`, or with checks
    /// `SELECT json_build_object('data', <value>, 'check', <all checks passed>) AS "root"`.
    pub fn finish(mut self, value: Expr) -> Result<PreparedSql, GraphqlError> {
        let has_check = self.has_check();
        let root = if has_check {
            let checks = std::mem::take(&mut self.checked)
                .into_iter()
                .map(|cte| output::all_checks_pass(&cte, &mut self.sql))
                .collect();
            graft_sql::helpers::json_object(vec![
                ("data".to_string(), value),
                ("check".to_string(), crate::boolexp::and(checks)),
            ])
        } else {
            value
        };
        let mut select = Select::new(vec![(root, ColumnAlias::new("root"))]);
        if !self.ctes.is_empty() {
            select.with = Some(With { ctes: self.ctes });
        }
        crate::prepare(&Statement::Select(Box::new(select)), self.sql, has_check)
            .map_err(|e| GraphqlError::new("unexpected", e.message, "$"))
    }
}
