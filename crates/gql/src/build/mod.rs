//! Builds the GraphQL schema one role sees, as Hasura v2 generates it.
//!
//! The role's view of the model comes first (which tables it may select, which of their columns,
//! which relationships lead to tables it may also select, whether it may aggregate); each type
//! family then has its own module. Types are created on demand by whoever references them, so
//! only reachable types exist, as in Hasura.

mod action;
mod aggregate;
mod computed;
mod filter;
mod function;
mod insert;
mod mutation;
mod object;
mod order_by;
mod stream;
mod update;

pub use action::action_base_type;
pub use computed::{is_scalar_computed, user_arguments};
pub use function::function_return_table;
pub use mutation::Mutability;

use crate::error::GqlSchemaError;
use crate::names::TableNames;
use crate::scalars::{ColumnScalar, column_scalar};
use crate::sdl::Sdl;
use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use graft_metadata::QualifiedTable;
use graft_schema::{
    ADMIN_ROLE, ColumnInfo, ComputedFieldInfo, Model, Relationship, SourceModel, TableModel,
};
use indexmap::IndexMap;
use mutation::MutationView;
use std::collections::HashMap;

/// What the schema needs beyond the model.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    /// The source whose tables are exposed (graft serves one Postgres source today).
    pub source: String,
    /// Rows of each enum table (`is_enum`): (value, comment), read from the database.
    pub enum_values: HashMap<QualifiedTable, Vec<(String, Option<String>)>>,
    /// Columns that reference an enum table by a foreign key: table → column → enum table.
    /// Such columns get the enum type instead of their scalar.
    pub enum_references: HashMap<QualifiedTable, HashMap<String, QualifiedTable>>,
    /// Whether Postgres can insert, update and delete through each relation (views are
    /// mutable only when auto-updatable). A table missing here is judged by its kind:
    /// materialized views are read-only, everything else is mutable.
    pub mutability: HashMap<QualifiedTable, Mutability>,
    /// Hasura's "backend" scenario: the request carries the admin secret and
    /// `x-hasura-use-backend-only-permissions: true`. Only then do `backend_only` insert,
    /// update and delete permissions produce mutation fields.
    pub use_backend_only_permissions: bool,
    /// `<table>_stream` fields in `subscription_root` (Hasura's experimental feature
    /// `streaming_subscriptions`).
    pub streaming_subscriptions: bool,
    /// Actions (each shown to admin and the roles it permits) and the custom types they use.
    pub actions: Vec<graft_metadata::ActionEntry>,
    pub custom_types: graft_metadata::CustomTypes,
    /// `HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS=false`: query functions too need a function
    /// permission (see `FunctionModel::permits`).
    pub require_function_permissions: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            source: graft_metadata::DEFAULT_SOURCE.to_string(),
            enum_values: HashMap::new(),
            enum_references: HashMap::new(),
            mutability: HashMap::new(),
            use_backend_only_permissions: false,
            streaming_subscriptions: false,
            actions: Vec::new(),
            custom_types: graft_metadata::CustomTypes::default(),
            require_function_permissions: false,
        }
    }
}

impl SchemaOptions {
    /// Fills what the schema reads from the catalog: `enum_references` (every single-column
    /// foreign key into a tracked enum table) and `mutability` (whether each tracked relation
    /// accepts INSERT/UPDATE/DELETE).
    pub fn with_enum_references(mut self, model: &Model, tables: &[graft_catalog::Table]) -> Self {
        let Some(source) = model.source(&self.source) else {
            return self;
        };
        for table in tables {
            let name = QualifiedTable::new(&table.name.schema, &table.name.name);
            if !source.tables.contains_key(&name) {
                continue;
            }
            self.mutability.insert(name.clone(), Mutability::of(table));
            for fk in &table.foreign_keys {
                let target = QualifiedTable::new(&fk.ref_table.schema, &fk.ref_table.name);
                let is_enum = source.table(&target).is_some_and(|t| t.is_enum);
                if let ([column], true) = (fk.columns.as_slice(), is_enum) {
                    self.enum_references
                        .entry(name.clone())
                        .or_default()
                        .insert(column.clone(), target);
                }
            }
        }
        self
    }
}

/// Builds and validates the schema for `role` (`admin` sees everything).
pub fn schema_for_role(
    model: &Model,
    role: &str,
    options: &SchemaOptions,
) -> Result<Valid<Schema>, GqlSchemaError> {
    let sdl = sdl_for_role(model, role, options)?;
    Schema::parse_and_validate(sdl, "schema.graphql")
        .map_err(|errors| GqlSchemaError::Invalid(errors.errors.to_string()))
}

/// The SDL text of the schema for `role`: what `schema_for_role` parses. Useful for snapshots
/// and for the console's schema export.
pub fn sdl_for_role(
    model: &Model,
    role: &str,
    options: &SchemaOptions,
) -> Result<String, GqlSchemaError> {
    let source = model
        .source(&options.source)
        .ok_or_else(|| GqlSchemaError::UnknownSource(options.source.clone()))?;
    let mut builder = Builder::new(source, role, options);
    builder.build_roots();
    builder.build_mutation_root();
    builder.build_actions(role);
    let mut roots = vec![("query", "query_root")];
    if builder.sdl.contains("mutation_root") {
        roots.push(("mutation", "mutation_root"));
    }
    if builder.sdl.contains("subscription_root") {
        roots.push(("subscription", "subscription_root"));
    }
    Ok(builder.sdl.print(&roots))
}

/// The type a column has in this role's schema.
#[derive(Debug, Clone)]
pub(crate) enum ColumnType {
    Scalar(ColumnScalar),
    /// A reference to an enum table: the GraphQL enum's name and the table.
    Enum {
        name: String,
        table: QualifiedTable,
    },
}

impl ColumnType {
    fn nullable(&self) -> String {
        match self {
            ColumnType::Scalar(s) => s.nullable(),
            ColumnType::Enum { name, .. } => name.clone(),
        }
    }
    fn non_null(&self) -> String {
        format!("{}!", self.nullable())
    }
    fn comparison_exp(&self) -> String {
        match self {
            ColumnType::Scalar(s) => s.comparison_exp(),
            ColumnType::Enum { name, .. } => format!("{name}_comparison_exp"),
        }
    }
    fn scalar(&self) -> Option<&ColumnScalar> {
        match self {
            ColumnType::Scalar(s) => Some(s),
            ColumnType::Enum { .. } => None,
        }
    }
    fn is_numeric(&self) -> bool {
        self.scalar().is_some_and(ColumnScalar::is_numeric)
    }
    fn is_comparable(&self) -> bool {
        self.scalar().is_some_and(ColumnScalar::is_comparable)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ColumnView<'a> {
    pub info: &'a ColumnInfo,
    pub ty: ColumnType,
    /// An inherited role sees the column only in some rows (null in the others), so its field
    /// is nullable whatever the column's constraint.
    pub redacted: bool,
}

impl ColumnView<'_> {
    fn graphql_name(&self) -> &str {
        &self.info.graphql_name
    }
    fn field_type(&self) -> String {
        if self.info.is_nullable || self.redacted {
            self.ty.nullable()
        } else {
            self.ty.non_null()
        }
    }
}

/// One table as the role sees it.
#[derive(Debug, Clone)]
pub(crate) struct TableView<'a> {
    pub table: &'a TableModel,
    pub names: TableNames,
    pub columns: Vec<ColumnView<'a>>,
    /// Scalar computed fields the role may select.
    pub computed: Vec<&'a ComputedFieldInfo>,
    pub allow_aggregations: bool,
}

impl TableView<'_> {
    fn numeric_columns(&self) -> impl Iterator<Item = &ColumnView<'_>> {
        self.columns.iter().filter(|c| c.ty.is_numeric())
    }
    fn comparable_columns(&self) -> impl Iterator<Item = &ColumnView<'_>> {
        self.columns.iter().filter(|c| c.ty.is_comparable())
    }
}

pub(crate) struct Builder<'a> {
    pub source: &'a SourceModel,
    pub options: &'a SchemaOptions,
    pub role: String,
    pub views: IndexMap<QualifiedTable, TableView<'a>>,
    /// Tables the role may insert into, update or delete from.
    pub mutations: IndexMap<QualifiedTable, MutationView<'a>>,
    pub sdl: Sdl,
}

impl<'a> Builder<'a> {
    fn new(source: &'a SourceModel, role: &str, options: &'a SchemaOptions) -> Self {
        let mut builder = Builder {
            source,
            options,
            role: role.to_string(),
            views: IndexMap::new(),
            mutations: IndexMap::new(),
            sdl: Sdl::default(),
        };
        for (name, table) in &source.tables {
            if let Some(view) = builder.table_view(table, role) {
                builder.views.insert(name.clone(), view);
            }
            if let Some(view) = builder.mutation_view(table, role) {
                builder.mutations.insert(name.clone(), view);
            }
        }
        builder
    }

    fn table_view(&self, table: &'a TableModel, role: &str) -> Option<TableView<'a>> {
        let (allowed, allow_aggregations, select) = if role == ADMIN_ROLE {
            (
                table.columns.keys().map(String::as_str).collect(),
                true,
                None,
            )
        } else {
            let select = table.permissions.get(role)?.select.as_ref()?;
            (
                select
                    .columns
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                select.allow_aggregations,
                Some(select),
            )
        };
        let mut columns = self.column_views(table, |c| allowed.contains(&c.name.as_str()));
        for column in &mut columns {
            column.redacted = select.is_some_and(|s| s.redaction(&column.info.name).is_some());
        }
        Some(TableView {
            table,
            names: TableNames::of(table),
            columns,
            computed: computed::visible_scalar_computed(table, role),
            allow_aggregations,
        })
    }

    /// The columns of `table` that `keep` accepts, in table order, with their GraphQL types.
    fn column_views(
        &self,
        table: &'a TableModel,
        keep: impl Fn(&ColumnInfo) -> bool,
    ) -> Vec<ColumnView<'a>> {
        let enum_columns = self.options.enum_references.get(&table.name);
        table
            .columns
            .values()
            .filter(|c| keep(c))
            .map(|info| ColumnView {
                info,
                ty: self.column_type(info, enum_columns.and_then(|m| m.get(&info.name))),
                redacted: false,
            })
            .collect()
    }

    fn column_type(&self, info: &ColumnInfo, enum_table: Option<&QualifiedTable>) -> ColumnType {
        let enum_type = enum_table.and_then(|name| {
            let table = self.source.table(name)?;
            let values = self.options.enum_values.get(name)?;
            (!values.is_empty()).then(|| (TableNames::of(table).enum_type(), name.clone()))
        });
        match enum_type {
            Some((name, table)) => ColumnType::Enum { name, table },
            None => ColumnType::Scalar(column_scalar(&info.pg_type)),
        }
    }

    /// Relationships of `table` whose target the role can select, with the target's view.
    fn relationships(&self, table: &QualifiedTable) -> Vec<(&'a Relationship, QualifiedTable)> {
        let Some(view) = self.views.get(table) else {
            return Vec::new();
        };
        view.table
            .relationships
            .values()
            .filter(|rel| self.views.contains_key(&rel.target))
            .map(|rel| (rel, rel.target.clone()))
            .collect()
    }

    fn view(&self, table: &QualifiedTable) -> Option<TableView<'a>> {
        self.views.get(table).cloned()
    }
}
