use serde::{Deserialize, Serialize};

/// A Postgres type as used by a column, argument or return value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgType {
    /// Schema of the type: `pg_catalog` for built-ins, `public` for most extension types.
    #[serde(default = "pg_catalog")]
    pub schema: String,
    /// `typname`: `int4`, `text`, `_int4` (arrays), `mood`, `citext`, `ltree`, ...
    pub name: String,
    #[serde(default)]
    pub kind: PgTypeKind,
    /// For arrays: the element type.
    #[serde(default)]
    pub element: Option<Box<PgType>>,
    /// For domains: the first non-domain type under it (Hasura exposes a domain column as
    /// its base type, so the GraphQL scalar comes from here).
    #[serde(default)]
    pub base: Option<Box<PgType>>,
    /// `format_type(oid, typmod)`: `integer`, `character varying(20)`, `text[]`. Types not
    /// on the connection's `search_path` come out schema-qualified.
    pub display: String,
}

fn pg_catalog() -> String {
    "pg_catalog".to_owned()
}

impl PgType {
    /// The type a value really has under any domains: `self` unless this is a domain.
    pub fn underlying(&self) -> &PgType {
        match &self.base {
            Some(base) if self.kind == PgTypeKind::Domain => base,
            _ => self,
        }
    }
}

/// What sort of type, from `typtype` (and `typcategory` to tell arrays apart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PgTypeKind {
    #[default]
    Base,
    Enum,
    Composite,
    Domain,
    Array,
    /// Ranges and multiranges.
    Range,
    /// `record`, `trigger`, `void`, `anyelement`, ...
    Pseudo,
}

/// One field of a standalone composite type (`CREATE TYPE address AS (...)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeField {
    pub name: String,
    pub pg_type: PgType,
}
