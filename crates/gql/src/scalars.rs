//! Postgres type → Hasura's GraphQL scalar. Hasura names most scalars after the Postgres type
//! (`bigint`, `numeric`, `timestamptz`, `jsonb`) and maps only `integer`, `real`, `boolean`,
//! `text` and `varchar` onto GraphQL's built-ins. Arrays become lists of their element scalar.

use graft_catalog::{PgType, PgTypeKind};

/// The operator families and aggregate subsets a column type belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFamily {
    Numeric,
    String,
    Boolean,
    Json,
    Jsonb,
    Ltree,
    Geometry,
    Geography,
    /// Comparable with `<`/`>` and usable in `max`/`min` (dates, uuids, ...).
    Comparable,
    /// Types Hasura does not recognise (`interval`, `inet`, ...): no max/min.
    Unknown,
}

/// The GraphQL view of one column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnScalar {
    /// The scalar's GraphQL name (of the element type for arrays).
    pub name: String,
    pub family: ScalarFamily,
    pub is_array: bool,
}

impl ColumnScalar {
    /// The GraphQL type reference, non-null: `Int!` or `[String!]!`.
    pub fn non_null(&self) -> String {
        format!("{}!", self.nullable())
    }

    /// The GraphQL type reference, nullable: `Int` or `[String!]`.
    pub fn nullable(&self) -> String {
        if self.is_array {
            format!("[{}!]", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The `<Scalar>_comparison_exp` (or `<Scalar>_array_comparison_exp`) type name.
    pub fn comparison_exp(&self) -> String {
        if self.is_array {
            format!("{}_array_comparison_exp", self.name)
        } else {
            format!("{}_comparison_exp", self.name)
        }
    }

    /// `sum`, `avg`, `stddev`, ... apply.
    pub fn is_numeric(&self) -> bool {
        !self.is_array && self.family == ScalarFamily::Numeric
    }

    /// `max`/`min` apply (Hasura's `isComparableType`).
    pub fn is_comparable(&self) -> bool {
        !self.is_array
            && !matches!(
                self.family,
                ScalarFamily::Json
                    | ScalarFamily::Jsonb
                    | ScalarFamily::Geometry
                    | ScalarFamily::Geography
                    | ScalarFamily::Boolean
                    | ScalarFamily::Unknown
            )
    }

    pub fn is_builtin(&self) -> bool {
        is_builtin_scalar(&self.name)
    }
}

pub fn is_builtin_scalar(name: &str) -> bool {
    matches!(name, "Int" | "Float" | "String" | "Boolean" | "ID")
}

/// Maps a column's Postgres type to its GraphQL scalar. Domains are seen through to their base
/// type; an array's element type gives the scalar and `is_array` is set.
pub fn column_scalar(pg_type: &PgType) -> ColumnScalar {
    let pg_type = pg_type.underlying();
    if pg_type.kind == PgTypeKind::Array {
        let element = match &pg_type.element {
            Some(element) => column_scalar(element),
            None => scalar_of_name(pg_type.name.trim_start_matches('_'), PgTypeKind::Base),
        };
        return ColumnScalar {
            is_array: true,
            ..element
        };
    }
    scalar_of_name(&pg_type.name, pg_type.kind)
}

fn scalar_of_name(name: &str, kind: PgTypeKind) -> ColumnScalar {
    use ScalarFamily::*;
    let (graphql, family) = match name {
        "int4" | "integer" | "int" | "serial" => ("Int", Numeric),
        "int2" | "smallint" => ("smallint", Numeric),
        "int8" | "bigint" | "bigserial" => ("bigint", Numeric),
        "float4" | "real" => ("Float", Numeric),
        "float8" | "double precision" => ("float8", Numeric),
        "numeric" | "decimal" => ("numeric", Numeric),
        "money" => ("money", Numeric),
        "bool" | "boolean" => ("Boolean", Boolean),
        "text" | "varchar" | "character varying" => ("String", String),
        "bpchar" | "char" | "character" => ("bpchar", String),
        "citext" => ("citext", String),
        "date" => ("date", Comparable),
        "timestamp" | "timestamp without time zone" => ("timestamp", Comparable),
        "timestamptz" | "timestamp with time zone" => ("timestamptz", Comparable),
        "timetz" | "time with time zone" => ("timetz", Comparable),
        "uuid" => ("uuid", Comparable),
        "json" => ("json", Json),
        "jsonb" => ("jsonb", Jsonb),
        "ltree" => ("ltree", Ltree),
        "lquery" => ("lquery", Comparable),
        "ltxtquery" => ("ltxtquery", Comparable),
        "geometry" => ("geometry", Geometry),
        "geography" => ("geography", Geography),
        other => {
            // Enums of Postgres (not enum tables) are opaque scalars named after the type, and
            // comparable, as Hasura treats `PGEnumScalar`.
            let family = if kind == PgTypeKind::Enum {
                Comparable
            } else {
                Unknown
            };
            return ColumnScalar {
                name: sanitize(other),
                family,
                is_array: false,
            };
        }
    };
    ColumnScalar {
        name: graphql.to_string(),
        family,
        is_array: false,
    }
}

/// Type names that are not GraphQL names (`"my type"`) make the type unusable in Hasura; graft
/// keeps the column by replacing the offending characters.
fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn base(name: &str) -> PgType {
        PgType {
            schema: "pg_catalog".into(),
            name: name.into(),
            kind: PgTypeKind::Base,
            element: None,
            base: None,
            display: name.into(),
        }
    }

    #[test]
    fn maps_hasura_scalar_names() {
        let cases = [
            ("int4", "Int"),
            ("int2", "smallint"),
            ("int8", "bigint"),
            ("float4", "Float"),
            ("float8", "float8"),
            ("numeric", "numeric"),
            ("text", "String"),
            ("varchar", "String"),
            ("bpchar", "bpchar"),
            ("bool", "Boolean"),
            ("timestamptz", "timestamptz"),
            ("interval", "interval"),
        ];
        for (pg, graphql) in cases {
            assert_eq!(column_scalar(&base(pg)).name, graphql, "{pg}");
        }
    }

    #[test]
    fn arrays_are_lists_of_the_element() {
        let mut array = base("_text");
        array.kind = PgTypeKind::Array;
        array.element = Some(Box::new(base("text")));
        let scalar = column_scalar(&array);
        assert_eq!(scalar.nullable(), "[String!]");
        assert_eq!(scalar.comparison_exp(), "String_array_comparison_exp");
        assert!(!scalar.is_comparable());
    }
}
