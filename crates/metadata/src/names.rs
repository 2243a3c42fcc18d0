//! Qualified names of tables and functions, which Hasura accepts either as a bare string (in the
//! `public` schema) or as `{"schema": ..., "name": ...}`, and always writes as the object.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

macro_rules! qualified_name {
    ($name:ident, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            pub schema: String,
            pub name: String,
        }

        /// `name` before `schema`, as Hasura v2 exports it (files stay byte-identical).
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut object = serializer.serialize_struct(stringify!($name), 2)?;
                object.serialize_field("name", &self.name)?;
                object.serialize_field("schema", &self.schema)?;
                object.end()
            }
        }

        impl $name {
            pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
                $name {
                    schema: schema.into(),
                    name: name.into(),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Repr {
                    Bare(String),
                    Object {
                        #[serde(default = "public")]
                        schema: String,
                        name: String,
                    },
                }
                match Repr::deserialize(deserializer).map_err(|_| {
                    serde::de::Error::custom(concat!(
                        "expected a ",
                        $what,
                        " name: a string or an object with \"schema\" and \"name\""
                    ))
                })? {
                    Repr::Bare(name) => Ok($name::new("public", name)),
                    Repr::Object { schema, name } => Ok($name { schema, name }),
                }
            }
        }

        /// Hasura names objects in messages without the `public` schema.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.schema == "public" {
                    write!(f, "{}", self.name)
                } else {
                    write!(f, "{}.{}", self.schema, self.name)
                }
            }
        }
    };
}

fn public() -> String {
    "public".to_string()
}

qualified_name!(QualifiedTable, "table");
qualified_name!(QualifiedFunction, "function");
