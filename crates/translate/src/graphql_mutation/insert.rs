//! `insert_<t>(objects, on_conflict)` and `insert_<t>_one(object, on_conflict)`, nested inserts
//! through relationships included, as chained data-modifying CTEs (see the module above).
//!
//! A level (the objects of one table that share a parent) without nested data is one INSERT of
//! all its rows. When its objects all give the same columns, the rows arrive as one array per
//! column (`INSERT ... SELECT ... FROM unnest($2::int4[], $3::text[])`, see `column_arrays`):
//! the statement text is the same for 2 rows or 10,000, so it is prepared once, and the row count
//! is not bounded by Postgres's 65,535 parameters. Otherwise it is `VALUES`, where columns an
//! object leaves out take `DEFAULT`. A level with nested data gets one INSERT per object, so
//! that each nested row reads its own parent's key.
//!
//! Linking reads the parent's key from its CTE. When an upsert leaves an existing row alone
//! (`update_columns: []`, or a `where` that does not match) its CTE is empty; children still
//! link to that row, found by the conflict constraint's columns (Hasura fails there instead).

use super::output::{self, RootRows, returning_list};
use super::query_parts::filter;
use super::visible;
use super::{MutationContext, StatementBuilder, session_variables_of};
use crate::PreparedSql;
use crate::boolexp::{self, Scope, cast, column, format_of, is_postgis, table_name, type_name};
use crate::graphql::GraphqlError;
use crate::ir;
use crate::value::{ParamFormat, column_array_literal};
use graft_gql::{Field, MutationFieldKind};
use graft_schema::boolexp::is_session_variable;
use graft_schema::{
    BoolExp, ColumnInfo, InsertPermissionInfo, Relationship, RelationshipKind, TableModel,
};
use graft_sql::ast::{
    self, Case, ColumnAlias, ColumnName, Expr, From, FromColumn, FunctionCall, FunctionName,
    Insert, InsertSource, OnConflict, Op, Select, Statement, TableAlias, TypeName,
};
use indexmap::IndexMap;
use serde_json::{Map, Value};

pub(super) fn insert_field(
    ctx: &MutationContext<'_>,
    table: &TableModel,
    field: &Field,
    kind: MutationFieldKind,
    path: &str,
) -> Result<PreparedSql, GraphqlError> {
    let args_path = format!("{path}.args");
    let objects: Vec<(&Map<String, Value>, String)> = match kind {
        MutationFieldKind::InsertOne => field
            .arguments
            .get("object")
            .and_then(Value::as_object)
            .map(|o| vec![(o, format!("{args_path}.object"))])
            .unwrap_or_default(),
        _ => match field.arguments.get("objects") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, o)| Some((o.as_object()?, format!("{args_path}.objects[{i}]"))))
                .collect(),
            // Input coercion accepts one object where a list is expected.
            Some(Value::Object(o)) => vec![(o, format!("{args_path}.objects[0]"))],
            _ => Vec::new(),
        },
    };
    let single = kind == MutationFieldKind::InsertOne;
    let mut builder = StatementBuilder::new(ctx.session());
    if objects.is_empty() {
        return builder.finish(output::empty_response(field, single));
    }
    let on_conflict = field
        .arguments
        .get("on_conflict")
        .filter(|v| !v.is_null())
        .map(|v| (v, format!("{args_path}.on_conflict")));
    let mut inserter = Inserter {
        ctx,
        builder: &mut builder,
        session_variables: Vec::new(),
    };
    let rows = inserter.level(table, &objects, on_conflict, &[], false)?;
    let session_variables = std::mem::take(&mut inserter.session_variables);
    ctx.require_session_variables(&session_variables)?;
    let mut ctes: Vec<TableAlias> = Vec::new();
    for row in rows {
        if !ctes.contains(&row.cte) {
            ctes.push(row.cte);
        }
    }
    let root = RootRows {
        table,
        ctes,
        see_written: true,
    };
    let value = if single {
        output::single_row(ctx, &mut builder, field, &root, path)?
    } else {
        output::mutation_response(ctx, &mut builder, field, &root, path)?
    };
    builder.finish(value)
}

/// Where one inserted object's row can be read: its CTE (one row per object in per-object
/// mode), or, when an upsert left an existing row alone, that row found by its key.
#[derive(Clone)]
struct RowRef {
    cte: TableAlias,
    existing: Option<ExistingRow>,
}

#[derive(Clone)]
struct ExistingRow {
    table: graft_metadata::QualifiedTable,
    key: Vec<(String, Expr)>,
}

/// One object of a level, its keys sorted out.
struct ObjectInput<'t, 'v> {
    path: String,
    columns: Vec<(&'t ColumnInfo, &'v Value)>,
    /// Object relationships whose row the parent points to: inserted first.
    before: Vec<(&'t Relationship, &'v Map<String, Value>, String)>,
    /// Array relationships and object relationships pointing back: inserted after.
    after: Vec<(&'t Relationship, &'v Map<String, Value>, String)>,
}

/// A parsed `on_conflict`.
struct Conflict {
    constraint: String,
    key_columns: Vec<String>,
    /// Empty: `DO NOTHING`.
    update_columns: Vec<String>,
    /// The client's `where` AND the update permission's filter.
    filter: BoolExp,
    update_check: Option<BoolExp>,
    update_presets: Vec<(String, Preset)>,
}

#[derive(Clone)]
pub(super) enum Preset {
    Literal(Value),
    Session(String),
}

struct Inserter<'c, 'a> {
    ctx: &'c MutationContext<'a>,
    builder: &'c mut StatementBuilder,
    session_variables: Vec<String>,
}

impl<'a> Inserter<'_, 'a> {
    /// Inserts the objects of one level; `links` are column values every object gets from its
    /// parent. `need_rows`: the caller links to these rows even when an upsert leaves them.
    fn level(
        &mut self,
        table: &'a TableModel,
        objects: &[(&Map<String, Value>, String)],
        on_conflict: Option<(&Value, String)>,
        links: &[(String, Expr)],
        need_rows: bool,
    ) -> Result<Vec<RowRef>, GraphqlError> {
        let first_path = objects.first().map(|(_, p)| p.as_str()).unwrap_or("$");
        let permission = self.ctx.insert_permission(table, first_path)?;
        let presets = permission.map(presets).unwrap_or_default();
        for (_, preset) in &presets {
            if let Preset::Session(name) = preset {
                self.session_variables.push(name.clone());
            }
        }
        if let Some(permission) = permission {
            session_variables_of(&permission.check, &mut self.session_variables);
        }
        let inputs = objects
            .iter()
            .map(|(object, path)| parse_object(table, object, path, links))
            .collect::<Result<Vec<_>, _>>()?;
        let conflict = match on_conflict {
            Some((value, path)) => Some(self.conflict(table, value, &path)?),
            None => None,
        };
        let nested = inputs
            .iter()
            .any(|i| !i.before.is_empty() || !i.after.is_empty());
        if !(nested || need_rows && conflict.is_some()) {
            let rows = match self.column_arrays(&inputs, links, &presets, table) {
                Some(arrays) => arrays,
                None => {
                    let mut rows = Vec::with_capacity(inputs.len());
                    for input in &inputs {
                        rows.push(self.values(table, input, links, &[], &presets));
                    }
                    values_rows(table, rows)
                }
            };
            let cte = self.insert_cte(table, permission, rows, conflict.as_ref());
            return Ok(inputs
                .iter()
                .map(|_| RowRef {
                    cte: cte.clone(),
                    existing: None,
                })
                .collect());
        }
        let mut refs = Vec::with_capacity(inputs.len());
        for input in &inputs {
            let mut parent_keys = Vec::new();
            for (relationship, data, path) in &input.before {
                let parent = self.nested(relationship, data, path, &[], true)?;
                if let Some(parent) = parent.first() {
                    for (local, remote) in &relationship.mapping {
                        parent_keys.push((local.clone(), parent.column(remote, self)));
                    }
                }
            }
            let row = self.values(table, input, links, &parent_keys, &presets);
            let existing = conflict.as_ref().and_then(|c| {
                let key = c
                    .key_columns
                    .iter()
                    .map(|k| {
                        row.iter()
                            .find(|(name, _)| name == k)
                            .map(|(_, v)| (k.clone(), v.clone()))
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(ExistingRow {
                    table: table.name.clone(),
                    key,
                })
            });
            let rows = values_rows(table, vec![row]);
            let cte = self.insert_cte(table, permission, rows, conflict.as_ref());
            let me = RowRef { cte, existing };
            for (relationship, data, path) in &input.after {
                let child_links: Vec<(String, Expr)> = relationship
                    .mapping
                    .iter()
                    .map(|(local, remote)| (remote.clone(), me.column(local, self)))
                    .collect();
                self.nested(relationship, data, path, &child_links, false)?;
            }
            refs.push(me);
        }
        Ok(refs)
    }

    /// The rows of a nested `{data, on_conflict}`.
    fn nested(
        &mut self,
        relationship: &Relationship,
        input: &Map<String, Value>,
        path: &str,
        links: &[(String, Expr)],
        need_rows: bool,
    ) -> Result<Vec<RowRef>, GraphqlError> {
        let target = self
            .ctx
            .source()
            .table(&relationship.target)
            .ok_or_else(|| {
                GraphqlError::validation(
                    format!("table \"{}\" not found", relationship.target),
                    path,
                )
            })?;
        let objects: Vec<(&Map<String, Value>, String)> = match input.get("data") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, o)| Some((o.as_object()?, format!("{path}.data[{i}]"))))
                .collect(),
            Some(Value::Object(object)) if relationship.kind == RelationshipKind::Array => {
                vec![(object, format!("{path}.data[0]"))]
            }
            Some(Value::Object(object)) => vec![(object, format!("{path}.data"))],
            _ => Vec::new(),
        };
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let on_conflict = input
            .get("on_conflict")
            .filter(|v| !v.is_null())
            .map(|v| (v, format!("{path}.on_conflict")));
        self.level(target, &objects, on_conflict, links, need_rows)
    }

    /// The column values of one row: presets, then parent links, then the object's own values.
    fn values(
        &mut self,
        table: &TableModel,
        input: &ObjectInput<'_, '_>,
        links: &[(String, Expr)],
        parent_keys: &[(String, Expr)],
        presets: &[(String, Preset)],
    ) -> Vec<(String, Expr)> {
        let mut row: IndexMap<String, Expr> = IndexMap::new();
        for (column, value) in &input.columns {
            let value = self.builder.sql.column_literal(value, &column.pg_type);
            row.insert(column.name.clone(), value);
        }
        for (name, value) in links.iter().chain(parent_keys) {
            row.insert(name.clone(), value.clone());
        }
        for (name, preset) in presets {
            if let Some(column) = table.column(name) {
                let value = self.preset_value(preset, column);
                row.insert(name.clone(), value);
            }
        }
        row.into_iter().collect()
    }

    /// The rows of a level as one array parameter per column, when every object gives the same
    /// columns (the usual bulk insert) and there are at least two: `SELECT "_v"."a", "_v"."b",
    /// <preset>, <link> FROM unnest($2::int4[], $3::text[]) AS "_v"("a", "b")`. Presets and
    /// parent links are the same for every row, so they are written once. `None` where `VALUES`
    /// is needed: objects that differ in their columns (the missing ones take `DEFAULT`), array
    /// columns (unnest would flatten them) and PostGIS columns (GeoJSON is converted per value).
    fn column_arrays(
        &mut self,
        inputs: &[ObjectInput<'_, '_>],
        links: &[(String, Expr)],
        presets: &[(String, Preset)],
        table: &TableModel,
    ) -> Option<InsertRows> {
        let (first, rest) = inputs.split_first()?;
        if rest.is_empty() || first.columns.is_empty() {
            return None;
        }
        let names = sorted_column_names(first);
        if rest.iter().any(|input| sorted_column_names(input) != names) {
            return None;
        }
        let decided_elsewhere = |name: &str| {
            links.iter().any(|(l, _)| l == name) || presets.iter().any(|(p, _)| p == name)
        };
        let array_columns: Vec<&ColumnInfo> = first
            .columns
            .iter()
            .map(|(column, _)| *column)
            .filter(|column| !decided_elsewhere(&column.name))
            .collect();
        if array_columns.is_empty()
            || array_columns
                .iter()
                .any(|c| is_postgis(&c.pg_type) || format_of(&c.pg_type) == ParamFormat::Array)
        {
            return None;
        }
        let alias = self.builder.sql.aliases.next_prefixed("v");
        let mut columns = Vec::new();
        let mut items = Vec::new();
        let mut arrays = Vec::with_capacity(array_columns.len());
        for info in &array_columns {
            let values = inputs.iter().map(|input| {
                input
                    .columns
                    .iter()
                    .find(|(c, _)| c.name == info.name)
                    .map_or(&Value::Null, |(_, v)| *v)
            });
            let literal = column_array_literal(values, format_of(&info.pg_type));
            let param = self.builder.sql.params.push(Some(literal));
            arrays.push(cast(param, type_name(&info.pg_type).array()));
            items.push((column(&alias, &info.name), ColumnAlias::new(&info.name)));
            columns.push(info.name.clone());
        }
        // As in `values`: a preset wins over a parent link of the same column.
        for (name, value) in links {
            if presets.iter().any(|(p, _)| p == name) {
                continue;
            }
            columns.push(name.clone());
            items.push((value.clone(), ColumnAlias::new(name)));
        }
        for (name, preset) in presets {
            if let Some(column) = table.column(name) {
                let value = self.preset_value(preset, column);
                columns.push(name.clone());
                items.push((value, ColumnAlias::new(name)));
            }
        }
        let from = From::Function {
            call: FunctionCall::new(FunctionName::Builtin("unnest"), arrays),
            with_ordinality: false,
            alias,
            columns: array_columns
                .iter()
                .map(|c| FromColumn {
                    name: ColumnName::new(&c.name),
                    ty: None,
                })
                .collect(),
            lateral: false,
        };
        let select = Select {
            from: Some(from),
            ..Select::new(items)
        };
        Some(InsertRows {
            columns,
            source: InsertSource::Select(Box::new(select)),
        })
    }

    fn preset_value(&mut self, preset: &Preset, column: &ColumnInfo) -> Expr {
        match preset {
            Preset::Literal(value) => self.builder.sql.column_literal(value, &column.pg_type),
            Preset::Session(name) => cast(
                self.builder.sql.session_variable(name),
                type_name(&column.pg_type),
            ),
        }
    }

    /// `"_insN" AS (INSERT INTO <table> AS "_tM" (<columns>) VALUES ... ON CONFLICT ...
    /// RETURNING *, <check> AS "check__")`
    fn insert_cte(
        &mut self,
        table: &TableModel,
        permission: Option<&InsertPermissionInfo>,
        rows: InsertRows,
        conflict: Option<&Conflict>,
    ) -> TableAlias {
        let InsertRows { columns, source } = rows;
        let alias = self.builder.sql.aliases.next_alias();
        let scope = Scope::root(&alias);
        let on_conflict = conflict.map(|c| self.on_conflict_clause(table, c, &scope));
        let check = permission.map(|p| {
            let on_insert = boolexp::translate(&p.check, &scope, &mut self.builder.sql);
            match conflict {
                Some(c) if !c.update_columns.is_empty() => {
                    let on_update = c.update_check.clone().unwrap_or_else(BoolExp::always_true);
                    let on_update = boolexp::translate(&on_update, &scope, &mut self.builder.sql);
                    // A row the upsert updated (xmax set) answers to the update check instead.
                    let inserted = Expr::BinaryOp {
                        left: Box::new(cast(column(&alias, "xmax"), TypeName::new("text"))),
                        op: Op::Eq,
                        right: Box::new(Expr::StringLiteral("0".to_string())),
                    };
                    Expr::Case(Box::new(Case {
                        when_then: vec![(inserted, on_insert)],
                        else_: Some(on_update),
                    }))
                }
                _ => on_insert,
            }
        });
        let check = check.map(|mut check| {
            visible::rewrite_expr(
                &mut check,
                &self.builder.written,
                self.ctx.source(),
                &mut self.builder.sql.aliases,
            );
            check
        });
        let checked = check.is_some();
        let insert = Insert {
            with: None,
            table: table_name(&table.name),
            alias: Some(alias),
            columns: columns.iter().map(ColumnName::new).collect(),
            source,
            on_conflict,
            returning: Some(returning_list(check)),
        };
        let cte = self.builder.sql.aliases.next_prefixed("ins");
        let updates_existing = conflict.is_some_and(|c| !c.update_columns.is_empty());
        self.builder.push_write(
            cte.clone(),
            Statement::Insert(Box::new(insert)),
            &table.name,
            updates_existing,
            checked,
        );
        cte
    }

    fn on_conflict_clause(
        &mut self,
        table: &TableModel,
        conflict: &Conflict,
        scope: &Scope,
    ) -> OnConflict {
        let target = Some(ast::ConflictTarget::Constraint(conflict.constraint.clone()));
        if conflict.update_columns.is_empty() {
            return OnConflict {
                target,
                action: ast::ConflictAction::DoNothing,
            };
        }
        let mut set: Vec<(ColumnName, Expr)> = conflict
            .update_columns
            .iter()
            .map(|c| (ColumnName::new(c), Expr::Excluded(ColumnName::new(c))))
            .collect();
        for (name, preset) in &conflict.update_presets {
            if let Some(column) = table.column(name) {
                let value = self.preset_value(preset, column);
                set.retain(|(c, _)| c.as_str() != name);
                set.push((ColumnName::new(name), value));
            }
        }
        let mut where_ = boolexp::where_clause(&conflict.filter, scope, &mut self.builder.sql);
        if let Some(where_) = &mut where_ {
            visible::rewrite_expr(
                where_,
                &self.builder.written,
                self.ctx.source(),
                &mut self.builder.sql.aliases,
            );
        }
        OnConflict {
            target,
            action: ast::ConflictAction::DoUpdate { set, where_ },
        }
    }

    /// `{constraint, update_columns, where}` → [`Conflict`], with the update permission
    /// applied when columns are updated.
    fn conflict(
        &mut self,
        table: &'a TableModel,
        value: &Value,
        path: &str,
    ) -> Result<Conflict, GraphqlError> {
        let constraint = value
            .get("constraint")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let key_columns = if table.primary_key_name.as_deref() == Some(constraint.as_str()) {
            table.primary_key.clone()
        } else {
            table
                .unique_constraints
                .iter()
                .find(|c| c.name == constraint)
                .map(|c| c.columns.clone())
                .ok_or_else(|| {
                    GraphqlError::validation(
                        format!(
                            "constraint \"{constraint}\" for table \"{}\" does not exist",
                            table.name
                        ),
                        format!("{path}.constraint"),
                    )
                })?
        };
        let update_columns = match value.get("update_columns") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let name = item.as_str().unwrap_or_default();
                    graphql_column(table, name)
                        .map(|c| c.name.clone())
                        .ok_or_else(|| {
                            GraphqlError::validation(
                                "erroneous column name",
                                format!("{path}.update_columns"),
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(Value::String(name)) => vec![
                graphql_column(table, name)
                    .map(|c| c.name.clone())
                    .ok_or_else(|| {
                        GraphqlError::validation(
                            "erroneous column name",
                            format!("{path}.update_columns"),
                        )
                    })?,
            ],
            _ => Vec::new(),
        };
        let client = match value.get("where") {
            Some(where_) if !where_.is_null() => {
                let access = self.ctx.query.access(table).ok_or_else(|| {
                    GraphqlError::validation("field 'where' not found", format!("{path}.where"))
                })?;
                filter::parse(
                    &self.ctx.query,
                    table,
                    access,
                    where_,
                    &format!("{path}.where"),
                )?
            }
            _ => BoolExp::always_true(),
        };
        if update_columns.is_empty() {
            return Ok(Conflict {
                constraint,
                key_columns,
                update_columns,
                filter: client,
                update_check: None,
                update_presets: Vec::new(),
            });
        }
        let permission = self.ctx.update_permission(table, path)?;
        let mut role_filter = BoolExp::always_true();
        let mut update_check = None;
        let mut update_presets = Vec::new();
        if let Some(permission) = permission {
            session_variables_of(&permission.filter, &mut self.session_variables);
            if let Some(check) = &permission.check {
                session_variables_of(check, &mut self.session_variables);
            }
            role_filter = permission.filter.clone();
            update_check = permission.check.clone();
            update_presets = preset_list(&permission.set);
            for (_, preset) in &update_presets {
                if let Preset::Session(name) = preset {
                    self.session_variables.push(name.clone());
                }
            }
        }
        Ok(Conflict {
            constraint,
            key_columns,
            update_columns,
            filter: ir::and(vec![client, role_filter]),
            update_check,
            update_presets,
        })
    }
}

impl RowRef {
    /// `(SELECT "_t"."col" FROM "<cte>" AS "_t" LIMIT 1)`, falling back to the existing row
    /// an upsert left alone.
    fn column(&self, name: &str, inserter: &mut Inserter<'_, '_>) -> Expr {
        let aliases = &mut inserter.builder.sql.aliases;
        let written_alias = aliases.next_alias();
        let mut written = Select::new(vec![(
            column(&written_alias, name),
            ast::ColumnAlias::new("value"),
        )]);
        written.from = Some(From::Cte {
            cte: self.cte.clone(),
            alias: written_alias,
        });
        written.limit = Some(Expr::Int(1));
        let written = Expr::ScalarSubquery(Box::new(written));
        let Some(existing) = &self.existing else {
            return written;
        };
        let existing_alias = aliases.next_alias();
        let mut found = Select::new(vec![(
            column(&existing_alias, name),
            ast::ColumnAlias::new("value"),
        )]);
        found.where_ = Some(boolexp::and(
            existing
                .key
                .iter()
                .map(|(k, v)| graft_sql::helpers::eq(column(&existing_alias, k), v.clone()))
                .collect(),
        ));
        found.from = Some(From::Table {
            name: table_name(&existing.table),
            alias: existing_alias,
        });
        found.limit = Some(Expr::Int(1));
        graft_sql::helpers::builtin(
            "coalesce",
            vec![written, Expr::ScalarSubquery(Box::new(found))],
        )
    }
}

fn sorted_column_names<'t>(input: &ObjectInput<'t, '_>) -> Vec<&'t str> {
    let mut names: Vec<&str> = input.columns.iter().map(|(c, _)| c.name.as_str()).collect();
    names.sort_unstable();
    names
}

/// The columns an INSERT names and where their rows come from.
struct InsertRows {
    columns: Vec<String>,
    source: InsertSource,
}

/// `VALUES` rows: every column any row gives, `DEFAULT` where a row leaves it out.
fn values_rows(table: &TableModel, rows: Vec<Vec<(String, Expr)>>) -> InsertRows {
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    if columns.is_empty() {
        // `VALUES ()` does not exist: rows without values insert DEFAULT into one column.
        if let Some(first) = table.columns.keys().next() {
            columns.push(first.clone());
        }
    }
    let values = rows
        .into_iter()
        .map(|mut row| {
            columns
                .iter()
                .map(|name| match row.iter().position(|(n, _)| n == name) {
                    Some(at) => ast::InsertValue::Expr(row.swap_remove(at).1),
                    None => ast::InsertValue::Default,
                })
                .collect()
        })
        .collect();
    InsertRows {
        columns,
        source: InsertSource::Values(values),
    }
}

/// Sorts an object's keys into columns and nested relationship inserts, refusing values the
/// parent determines.
fn parse_object<'t, 'v>(
    table: &'t TableModel,
    object: &'v Map<String, Value>,
    path: &str,
    links: &[(String, Expr)],
) -> Result<ObjectInput<'t, 'v>, GraphqlError> {
    let mut input = ObjectInput {
        path: path.to_string(),
        columns: Vec::new(),
        before: Vec::new(),
        after: Vec::new(),
    };
    for (key, value) in object {
        if let Some(column) = graphql_column(table, key) {
            input.columns.push((column, value));
            continue;
        }
        let relationship = table.relationship(key).ok_or_else(|| {
            GraphqlError::validation(
                format!("field '{key}' not found in the insert input"),
                format!("{path}.{key}"),
            )
        })?;
        let Some(data) = value.as_object() else {
            continue;
        };
        let here = format!("{path}.{key}");
        if inserted_before_parent(table, relationship) {
            input.before.push((relationship, data, here));
        } else {
            input.after.push((relationship, data, here));
        }
    }
    let determined: Vec<&str> = input
        .columns
        .iter()
        .map(|(c, _)| c.name.as_str())
        .filter(|name| links.iter().any(|(l, _)| l == name))
        .collect();
    if !determined.is_empty() {
        let quoted: Vec<String> = determined.iter().map(|c| format!("\"{c}\"")).collect();
        return Err(GraphqlError::validation(
            format!(
                "cannot insert {} columns as their values are already being determined by parent insert",
                quoted.join(", ")
            ),
            &input.path,
        ));
    }
    for (relationship, _, here) in &input.before {
        let given: Vec<&str> = relationship
            .mapping
            .iter()
            .map(|(local, _)| local.as_str())
            .filter(|local| input.columns.iter().any(|(c, _)| c.name == *local))
            .collect();
        if !given.is_empty() {
            let quoted: Vec<String> = given.iter().map(|c| format!("\"{c}\"")).collect();
            return Err(GraphqlError::validation(
                format!(
                    "cannot insert object relationship \"{}\" as {} column values are already determined",
                    relationship.name,
                    quoted.join(", ")
                ),
                here,
            ));
        }
    }
    Ok(input)
}

/// Whether a relationship's row is inserted before its parent (the parent points to it).
///
/// The model does not record the foreign key's direction (or a manual relationship's
/// `insertion_order`), so it is inferred from keys: the side whose columns are a key of its
/// table is the referenced one. When both are keys (one-to-one on primary keys), the side whose
/// key the database generates is the parent of the other.
fn inserted_before_parent(table: &TableModel, relationship: &Relationship) -> bool {
    if relationship.kind == RelationshipKind::Array {
        return false;
    }
    let local: Vec<&str> = relationship
        .mapping
        .iter()
        .map(|(l, _)| l.as_str())
        .collect();
    let local_generated = local
        .iter()
        .all(|c| table.column(c).is_some_and(|c| c.has_default));
    !(is_key(table, &local) && local_generated)
}

fn is_key(table: &TableModel, columns: &[&str]) -> bool {
    let same = |key: &[String]| {
        !key.is_empty()
            && key.len() == columns.len()
            && key.iter().all(|k| columns.contains(&k.as_str()))
    };
    same(&table.primary_key) || table.unique_constraints.iter().any(|c| same(&c.columns))
}

/// The column whose GraphQL name is `name`.
fn graphql_column<'t>(table: &'t TableModel, name: &str) -> Option<&'t ColumnInfo> {
    table.columns.values().find(|c| c.graphql_name == name)
}

fn presets(permission: &InsertPermissionInfo) -> Vec<(String, Preset)> {
    preset_list(&permission.set)
}

/// Permission presets: a string naming a session variable reads it; anything else is a literal.
pub(super) fn preset_list(set: &IndexMap<String, Value>) -> Vec<(String, Preset)> {
    set.iter()
        .map(|(column, value)| {
            let preset = match value {
                Value::String(s) if is_session_variable(s) => {
                    Preset::Session(s.to_ascii_lowercase())
                }
                other => Preset::Literal(other.clone()),
            };
            (column.clone(), preset)
        })
        .collect()
}
