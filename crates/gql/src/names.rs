//! Hasura's names for everything generated from one table: the type name (custom name, else the
//! table name in `public`, else `schema_table`), the derived input/enum/aggregate type names and
//! the root field names (custom root fields honoured).

use graft_metadata::QualifiedTable;
use graft_schema::TableModel;
use serde_json::Value;

/// Names derived from one table.
#[derive(Debug, Clone)]
pub struct TableNames {
    /// The object type and base of every derived name: `author`.
    pub type_name: String,
    /// How descriptions quote the table: `author`, `schema.table`.
    pub display: String,
}

impl TableNames {
    pub fn of(table: &TableModel) -> Self {
        TableNames {
            type_name: table_type_name(&table.name, table.configuration.custom_name.as_deref()),
            display: table.name.to_string(),
        }
    }

    pub fn derived(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.type_name)
    }

    pub fn bool_exp(&self) -> String {
        self.derived("bool_exp")
    }
    pub fn order_by(&self) -> String {
        self.derived("order_by")
    }
    pub fn select_column(&self) -> String {
        self.derived("select_column")
    }
    pub fn aggregate(&self) -> String {
        self.derived("aggregate")
    }
    pub fn aggregate_fields(&self) -> String {
        self.derived("aggregate_fields")
    }
    pub fn aggregate_order_by(&self) -> String {
        self.derived("aggregate_order_by")
    }
    pub fn aggregate_bool_exp(&self) -> String {
        self.derived("aggregate_bool_exp")
    }
    /// The GraphQL enum of an enum table: `colors_enum`.
    pub fn enum_type(&self) -> String {
        self.derived("enum")
    }
}

/// The GraphQL type name of a table.
pub fn table_type_name(table: &QualifiedTable, custom_name: Option<&str>) -> String {
    match custom_name {
        Some(name) => name.to_string(),
        None if table.schema == "public" => table.name.clone(),
        None => format!("{}_{}", table.schema, table.name),
    }
}

/// A query root field of a table: its name and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootField {
    pub name: String,
    pub description: String,
}

/// Which query root field of a table (the keys of `custom_root_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootFieldKind {
    Select,
    SelectByPk,
    SelectAggregate,
    /// `<table>_stream`: a streaming subscription.
    SelectStream,
}

impl RootFieldKind {
    fn key(self) -> &'static str {
        match self {
            RootFieldKind::Select => "select",
            RootFieldKind::SelectByPk => "select_by_pk",
            RootFieldKind::SelectAggregate => "select_aggregate",
            RootFieldKind::SelectStream => "select_stream",
        }
    }

    /// The default field name and description (before custom root fields apply).
    fn default(self, names: &TableNames) -> (String, String) {
        let table = &names.display;
        match self {
            RootFieldKind::Select => (
                names.type_name.clone(),
                format!("fetch data from the table: \"{table}\""),
            ),
            RootFieldKind::SelectByPk => (
                names.derived("by_pk"),
                format!("fetch data from the table: \"{table}\" using primary key columns"),
            ),
            RootFieldKind::SelectAggregate => (
                names.aggregate(),
                format!("fetch aggregated fields from the table: \"{table}\""),
            ),
            RootFieldKind::SelectStream => (
                names.derived("stream"),
                format!("fetch data from the table in a streaming manner: \"{table}\""),
            ),
        }
    }
}

/// Which mutation root field of a table (the keys of `custom_root_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationFieldKind {
    Insert,
    InsertOne,
    Update,
    UpdateByPk,
    UpdateMany,
    Delete,
    DeleteByPk,
}

impl MutationFieldKind {
    pub const ALL: [MutationFieldKind; 7] = [
        MutationFieldKind::Insert,
        MutationFieldKind::InsertOne,
        MutationFieldKind::Update,
        MutationFieldKind::UpdateByPk,
        MutationFieldKind::UpdateMany,
        MutationFieldKind::Delete,
        MutationFieldKind::DeleteByPk,
    ];

    fn key(self) -> &'static str {
        match self {
            MutationFieldKind::Insert => "insert",
            MutationFieldKind::InsertOne => "insert_one",
            MutationFieldKind::Update => "update",
            MutationFieldKind::UpdateByPk => "update_by_pk",
            MutationFieldKind::UpdateMany => "update_many",
            MutationFieldKind::Delete => "delete",
            MutationFieldKind::DeleteByPk => "delete_by_pk",
        }
    }

    fn default(self, names: &TableNames) -> (String, String) {
        let base = &names.type_name;
        let table = &names.display;
        match self {
            MutationFieldKind::Insert => (
                format!("insert_{base}"),
                format!("insert data into the table: \"{table}\""),
            ),
            MutationFieldKind::InsertOne => (
                format!("insert_{base}_one"),
                format!("insert a single row into the table: \"{table}\""),
            ),
            MutationFieldKind::Update => (
                format!("update_{base}"),
                format!("update data of the table: \"{table}\""),
            ),
            MutationFieldKind::UpdateByPk => (
                format!("update_{base}_by_pk"),
                format!("update single row of the table: \"{table}\""),
            ),
            // "multiples" is Hasura's wording.
            MutationFieldKind::UpdateMany => (
                format!("update_{base}_many"),
                format!("update multiples rows of table: \"{table}\""),
            ),
            MutationFieldKind::Delete => (
                format!("delete_{base}"),
                format!("delete data from the table: \"{table}\""),
            ),
            MutationFieldKind::DeleteByPk => (
                format!("delete_{base}_by_pk"),
                format!("delete single row from the table: \"{table}\""),
            ),
        }
    }
}

/// The mutation root field of `kind` for a table, with custom names and comments applied.
pub fn mutation_root_field(
    table: &TableModel,
    names: &TableNames,
    kind: MutationFieldKind,
) -> RootField {
    let (name, description) = kind.default(names);
    customized(table, kind.key(), name, description)
}

/// The root field of `kind` for a table, with custom names and comments applied.
pub fn root_field(table: &TableModel, names: &TableNames, kind: RootFieldKind) -> RootField {
    let (name, description) = kind.default(names);
    customized(table, kind.key(), name, description)
}

/// Applies `custom_root_fields[key]` (a name, or `{name, comment}`) to a default field.
fn customized(
    table: &TableModel,
    key: &str,
    default_name: String,
    default_description: String,
) -> RootField {
    let custom = table.configuration.custom_root_fields.get(key);
    let (name, comment) = match custom {
        Some(Value::String(name)) => (Some(name.clone()), None),
        Some(Value::Object(object)) => (
            object
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            object
                .get("comment")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        _ => (None, None),
    };
    RootField {
        name: name.unwrap_or(default_name),
        description: comment.unwrap_or(default_description),
    }
}
