//! What every GraphQL IR builder reads: the model, the session, the output options, and the
//! lookups from GraphQL names (root fields, columns' custom names) back to tables and columns.

use super::GraphqlOptions;
use super::error::GraphqlError;
use crate::ir::ColumnField;
use crate::rql::is_big_number;
use graft_gql::{RootFieldKind, TableNames, root_field};
use graft_schema::{
    BoolExp, ColumnInfo, Relationship, SelectPermissionInfo, Session, SourceModel, TableModel,
};
use std::collections::HashMap;

pub(crate) struct GqlContext<'a> {
    pub source: &'a SourceModel,
    pub session: &'a Session,
    pub stringify_numeric: bool,
    pub require_function_permissions: bool,
    /// Root field name → its table and kind, for every table of the source (validation already
    /// kept the ones the role may not see out of the operation).
    roots: HashMap<String, (&'a TableModel, RootFieldKind)>,
}

impl<'a> GqlContext<'a> {
    pub fn new(source: &'a SourceModel, session: &'a Session, options: &GraphqlOptions) -> Self {
        let mut roots = HashMap::new();
        for table in source.tables.values() {
            let names = TableNames::of(table);
            for kind in [
                RootFieldKind::Select,
                RootFieldKind::SelectByPk,
                RootFieldKind::SelectAggregate,
                RootFieldKind::SelectStream,
            ] {
                roots.insert(root_field(table, &names, kind).name, (table, kind));
            }
        }
        GqlContext {
            source,
            session,
            stringify_numeric: options.stringify_numeric,
            require_function_permissions: options.require_function_permissions,
            roots,
        }
    }

    pub fn root(&self, name: &str) -> Option<(&'a TableModel, RootFieldKind)> {
        self.roots.get(name).copied()
    }

    /// The role's read access to `table`; `None` when it may not select from it at all.
    pub fn access(&self, table: &'a TableModel) -> Option<Access<'a>> {
        if self.session.is_admin() {
            return Some(Access {
                permission: None,
                limited: true,
            });
        }
        let permission = table.permissions.get(&self.session.role)?.select.as_ref()?;
        Some(Access {
            permission: Some(permission),
            limited: true,
        })
    }

    pub fn table(&self, relationship: &Relationship) -> Option<&'a TableModel> {
        self.source.table(&relationship.target)
    }

    /// A column for output, with big numbers stringified when asked.
    pub fn column_value(&self, column: &ColumnInfo) -> ColumnField {
        ColumnField {
            column: column.name.clone(),
            pg_type: column.pg_type.clone(),
            as_text: self.stringify_numeric && is_big_number(&column.pg_type),
            json_path: None,
            redaction: None,
        }
    }
}

/// A role's select permission on one table (`permission: None` for admin: everything).
#[derive(Clone, Copy)]
pub(crate) struct Access<'a> {
    permission: Option<&'a SelectPermissionInfo>,
    limited: bool,
}

impl Access<'_> {
    /// The same access with the permission's row limit ignored.
    pub fn without_limit(self) -> Self {
        Access {
            limited: false,
            ..self
        }
    }

    pub fn filter(&self) -> BoolExp {
        self.permission
            .map(|p| p.filter.clone())
            .unwrap_or_else(BoolExp::always_true)
    }

    pub fn allows_column(&self, column: &str) -> bool {
        self.permission
            .is_none_or(|p| p.columns.iter().any(|c| c == column))
    }

    /// The condition under which a column or computed field the role may read is visible in a
    /// row (inherited roles); `None` when it is visible in every row the role reads.
    pub fn redaction(&self, name: &str) -> Option<Box<BoolExp>> {
        self.permission
            .and_then(|p| p.redaction(name))
            .map(|condition| Box::new(condition.clone()))
    }

    /// Every redacted column or computed field with its condition.
    pub fn redactions(&self) -> Vec<(String, BoolExp)> {
        self.permission
            .map(|p| {
                p.redacted
                    .iter()
                    .map(|(name, condition)| (name.clone(), condition.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn allows_computed_field(&self, name: &str) -> bool {
        self.permission
            .is_none_or(|p| p.computed_fields.iter().any(|c| c == name))
    }

    pub fn limit(&self) -> Option<u64> {
        self.permission
            .and_then(|p| p.limit)
            .filter(|_| self.limited)
    }

    pub fn allows_aggregations(&self) -> bool {
        self.permission.is_none_or(|p| p.allow_aggregations)
    }
}

/// The column whose GraphQL name (custom name, else the column name) is `name`, if the role may
/// read it.
pub(crate) fn readable_column<'t>(
    table: &'t TableModel,
    access: &Access<'_>,
    name: &str,
) -> Option<&'t ColumnInfo> {
    table
        .columns
        .values()
        .find(|c| c.graphql_name == name)
        .filter(|c| access.allows_column(&c.name))
}

/// The column named `name` in GraphQL, or the error validation gives for an unknown field.
pub(crate) fn require_column<'t>(
    table: &'t TableModel,
    access: &Access<'_>,
    name: &str,
    type_name: &str,
    path: &str,
) -> Result<&'t ColumnInfo, GraphqlError> {
    readable_column(table, access, name)
        .ok_or_else(|| GraphqlError::field_not_found(name, type_name, path))
}
