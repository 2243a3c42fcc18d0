use serde::{Deserialize, Serialize};

use super::{PgType, QualifiedName};

/// One overload of a plain SQL-callable function (not an aggregate, window function or
/// procedure, and not created by an extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub name: QualifiedName,
    #[serde(default)]
    pub oid: u32,
    /// IN, INOUT and VARIADIC arguments, in call order; OUT arguments are left out.
    #[serde(default)]
    pub arguments: Vec<FunctionArgument>,
    pub return_type: PgType,
    #[serde(default)]
    pub returns_set: bool,
    /// Set when the return type is a table's row type (`SETOF author` or `author`).
    #[serde(default)]
    pub return_table: Option<QualifiedName>,
    #[serde(default)]
    pub volatility: Volatility,
    /// `COMMENT ON FUNCTION`.
    #[serde(default)]
    pub description: Option<String>,
    /// `pronargdefaults`: how many trailing input arguments have defaults.
    #[serde(default)]
    pub default_args: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionArgument {
    /// `None` for unnamed arguments (`$1`).
    #[serde(default)]
    pub name: Option<String>,
    pub pg_type: PgType,
    #[serde(default)]
    pub has_default: bool,
}

/// `provolatile`. Hasura exposes VOLATILE functions as mutations, the others as queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Volatility {
    Immutable,
    Stable,
    #[default]
    Volatile,
}
