//! Root fields, the table object types, and the scalar and enum types columns use.

use super::{Builder, ColumnType, TableView};
use crate::names::{RootFieldKind, root_field};
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::QualifiedTable;
use graft_schema::RelationshipKind;

const DISTINCT_ON: &str = "distinct select on columns";
const LIMIT: &str = "limit the number of rows returned";
const OFFSET: &str = "skip the first n rows. Use only with order_by";
const ORDER_BY: &str = "sort the rows by one or more columns";
const WHERE: &str = "filter the rows returned";

impl Builder<'_> {
    pub(super) fn build_roots(&mut self) {
        let tables: Vec<QualifiedTable> = self.views.keys().cloned().collect();
        let mut fields = Vec::new();
        for table in &tables {
            fields.extend(self.root_fields(table));
        }
        fields.extend(self.function_query_fields());
        if fields.is_empty() {
            // GraphQL requires a query type with a field; Hasura answers with this placeholder.
            fields.push(("no_queries_available".to_string(), FieldDef::new("String!")));
        }
        self.sdl.add("query_root", TypeKind::Object, None);
        self.sdl.add("subscription_root", TypeKind::Object, None);
        for (name, field) in fields {
            self.sdl.field("query_root", &name, field.clone());
            self.sdl.field("subscription_root", &name, field);
        }
        if self.options.streaming_subscriptions {
            for table in &tables {
                if let Some((name, field)) = self.stream_field(table) {
                    self.sdl.field("subscription_root", &name, field);
                }
            }
        }
    }

    fn root_fields(&mut self, table: &QualifiedTable) -> Vec<(String, FieldDef)> {
        let Some(view) = self.view(table) else {
            return Vec::new();
        };
        let mut fields = Vec::new();
        let select = root_field(view.table, &view.names, RootFieldKind::Select);
        let object = self.object_type(table);
        let args = self.select_args(table);
        let mut field = FieldDef::described(format!("[{object}!]!"), Some(select.description));
        field.args = args.args.clone();
        fields.push((select.name, field));

        if let Some(pk_args) = self.primary_key_args(table) {
            let by_pk = root_field(view.table, &view.names, RootFieldKind::SelectByPk);
            let mut field = FieldDef::described(object.clone(), Some(by_pk.description));
            field.args = pk_args.args;
            fields.push((by_pk.name, field));
        }

        if view.allow_aggregations {
            let aggregate = root_field(view.table, &view.names, RootFieldKind::SelectAggregate);
            let ty = self.aggregate_type(table);
            let mut field = FieldDef::described(format!("{ty}!"), Some(aggregate.description));
            field.args = args.args;
            fields.push((aggregate.name, field));
        }
        fields
    }

    /// The arguments of a list selection of `table`: distinct_on, limit, offset, order_by, where.
    pub(super) fn select_args(&mut self, table: &QualifiedTable) -> FieldDef {
        // Without selectable columns there is no `_select_column` enum, so no `distinct_on`.
        let has_columns = self.views.get(table).is_some_and(|v| !v.columns.is_empty());
        let select_column = has_columns.then(|| self.select_column(table));
        let order_by = self.order_by(table);
        let bool_exp = self.bool_exp(table);
        let mut def = FieldDef::new("");
        if let Some(select_column) = select_column {
            def = def.arg(
                "distinct_on",
                format!("[{select_column}!]"),
                Some(DISTINCT_ON),
            );
        }
        def.arg("limit", "Int", Some(LIMIT))
            .arg("offset", "Int", Some(OFFSET))
            .arg("order_by", format!("[{order_by}!]"), Some(ORDER_BY))
            .arg("where", bool_exp, Some(WHERE))
    }

    /// `<table>`: columns and relationships.
    pub(super) fn object_type(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.type_name.clone();
        let description = view.table.description.clone().or_else(|| {
            Some(format!(
                "columns and relationships of \"{}\"",
                view.names.display
            ))
        });
        if !self.sdl.add(&name, TypeKind::Object, description) {
            return name;
        }
        self.column_fields(&view, &name);
        self.computed_fields(&view, &name);
        self.table_computed_fields(&view, &name);
        for (rel, target) in self.relationships(table) {
            let Some(target_view) = self.view(&target) else {
                continue;
            };
            let target_type = self.object_type(&target);
            match rel.kind {
                RelationshipKind::Object => {
                    let ty = if rel.nullable {
                        target_type
                    } else {
                        format!("{target_type}!")
                    };
                    let description = rel
                        .comment
                        .clone()
                        .or_else(|| Some("An object relationship".to_string()));
                    self.sdl
                        .field(&name, &rel.name, FieldDef::described(ty, description));
                }
                RelationshipKind::Array => {
                    let args = self.select_args(&target);
                    let description = rel
                        .comment
                        .clone()
                        .or_else(|| Some("An array relationship".to_string()));
                    let mut field = FieldDef::described(format!("[{target_type}!]!"), description);
                    field.args = args.args.clone();
                    self.sdl.field(&name, &rel.name, field);
                    if target_view.allow_aggregations {
                        let aggregate = self.aggregate_type(&target);
                        let mut field = FieldDef::described(
                            format!("{aggregate}!"),
                            Some("An aggregate relationship".to_string()),
                        );
                        field.args = args.args;
                        self.sdl
                            .field(&name, &format!("{}_aggregate", rel.name), field);
                    }
                }
            }
        }
        name
    }

    fn column_fields(&mut self, view: &TableView<'_>, type_name: &str) {
        for column in &view.columns {
            self.ensure_column_type(&column.ty);
            let field = FieldDef::described(column.field_type(), column.info.description.clone());
            self.sdl.field(type_name, column.graphql_name(), field);
        }
    }

    /// `<table>_select_column`: the columns the role may select.
    pub(super) fn select_column(&mut self, table: &QualifiedTable) -> String {
        let Some(view) = self.view(table) else {
            return String::new();
        };
        let name = view.names.select_column();
        let description = format!("select columns of table \"{}\"", view.names.display);
        if self.sdl.add(&name, TypeKind::Enum, Some(description)) {
            for column in &view.columns {
                self.sdl.value(
                    &name,
                    column.graphql_name(),
                    Some("column name".to_string()),
                );
            }
        }
        name
    }

    /// Declares the scalar or enum type a column uses, unless built in or already declared.
    pub(super) fn ensure_column_type(&mut self, ty: &ColumnType) {
        match ty {
            ColumnType::Scalar(scalar) => self.ensure_scalar(&scalar.name),
            ColumnType::Enum { name, table } => {
                if !self.sdl.add(name, TypeKind::Enum, None) {
                    return;
                }
                let values = self
                    .options
                    .enum_values
                    .get(table)
                    .cloned()
                    .unwrap_or_default();
                // A value that is not a GraphQL name would make the whole schema invalid.
                let valid = |v: &str| {
                    apollo_compiler::Name::new(v).is_ok() && !matches!(v, "true" | "false" | "null")
                };
                for (value, description) in values.into_iter().filter(|(v, _)| valid(v)) {
                    self.sdl.value(name, &value, description);
                }
            }
        }
    }

    pub(super) fn ensure_scalar(&mut self, name: &str) {
        if !crate::scalars::is_builtin_scalar(name) {
            self.sdl.add(name, TypeKind::Scalar, None);
        }
    }
}
