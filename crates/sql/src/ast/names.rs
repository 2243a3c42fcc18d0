//! Names that appear in SQL: tables, aliases, columns, types, functions.
//!
//! Each is a newtype so a column name cannot be passed where a table alias is
//! expected. None of them is validated here: the printer quotes, escapes and
//! shortens every name when it emits it, and refuses the ones Postgres cannot
//! hold (NUL, empty).

use std::fmt;

/// A schema-qualified table (or view) name, printed `"schema"."name"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

/// An alias for a table, subquery, function result or CTE, printed `"_t0"`.
///
/// Aliases come from an [`AliasGenerator`] so the same request always
/// produces the same SQL text (prepared statements are reused by text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableAlias(pub String);

impl TableAlias {
    /// A fixed alias such as `_root`. Prefer [`AliasGenerator`] for anything
    /// that can occur more than once in a statement.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TableAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A column of a table, printed `"name"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnName(pub String);

impl ColumnName {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<ColumnAlias> for ColumnName {
    /// Outer queries read a subquery's output columns by their aliases.
    fn from(alias: ColumnAlias) -> Self {
        Self(alias.0)
    }
}

impl From<&ColumnAlias> for ColumnName {
    fn from(alias: &ColumnAlias) -> Self {
        Self(alias.0.clone())
    }
}

/// The name given to an output column (`expr AS "alias"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnAlias(pub String);

impl ColumnAlias {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A type in a cast or a column definition list.
///
/// `schema: None` with a name from the printer's list of built-in types
/// (`int4`, `text`, `json`, ...) prints bare (`::int4`); anything else prints
/// quoted (`::"public"."mood"`), which is always correct for the `typname`
/// that the catalog reports. `array_dims` adds `[]` per dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeName {
    pub schema: Option<String>,
    pub name: String,
    pub array_dims: u32,
}

impl TypeName {
    /// An unqualified type, resolved through the search path (built-ins live
    /// in `pg_catalog`, which is always searched first).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            schema: None,
            name: name.into(),
            array_dims: 0,
        }
    }

    pub fn qualified(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: Some(schema.into()),
            name: name.into(),
            array_dims: 0,
        }
    }

    /// The same type with one more array dimension: `int4` becomes `int4[]`.
    pub fn array(mut self) -> Self {
        self.array_dims += 1;
        self
    }
}

/// The function in a call.
///
/// `Builtin` is SQL syntax written by graft itself (`json_agg`, `coalesce`,
/// `count`; some of these are grammar constructs that must not be quoted),
/// so it only accepts `'static` strings: a name from metadata or a request can
/// never reach the SQL text unquoted. `Qualified` names (user functions,
/// computed fields) are printed as quoted identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FunctionName {
    Builtin(&'static str),
    Qualified {
        schema: Option<String>,
        name: String,
    },
}

impl FunctionName {
    pub fn qualified(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self::Qualified {
            schema: Some(schema.into()),
            name: name.into(),
        }
    }
}

/// Hands out deterministic table aliases: `_t0`, `_t1`, ... or, with a
/// readable prefix, `_rel2`, `_agg3`.
///
/// One counter is shared by every prefix, so two aliases from the same
/// generator never clash, and the same sequence of calls always yields the
/// same names (random or address-based aliases would defeat prepared
/// statement reuse and snapshot tests).
#[derive(Debug, Clone, Default)]
pub struct AliasGenerator {
    next: u64,
}

impl AliasGenerator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `_t<n>` alias.
    pub fn next_alias(&mut self) -> TableAlias {
        self.next_prefixed("t")
    }

    /// The next `_<prefix><n>` alias. A prefix that ends in a digit gets a
    /// `_` before the counter, so `rel1` + 1 (`_rel1_1`) cannot equal
    /// `rel` + 11 (`_rel11`).
    pub fn next_prefixed(&mut self, prefix: &str) -> TableAlias {
        let counter = self.next;
        self.next += 1;
        let separator = if prefix.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        TableAlias(format!("_{prefix}{separator}{counter}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_share_one_counter_and_never_clash() {
        let mut aliases = AliasGenerator::new();
        let names: Vec<String> = [
            aliases.next_alias(),
            aliases.next_prefixed("rel"),
            aliases.next_alias(),
            aliases.next_prefixed("rel1"),
        ]
        .into_iter()
        .map(|alias| alias.0)
        .collect();
        assert_eq!(names, ["_t0", "_rel1", "_t2", "_rel1_3"]);
    }

    #[test]
    fn type_name_array_adds_dimensions() {
        let ty = TypeName::new("text").array().array();
        assert_eq!(ty.array_dims, 2);
    }
}
