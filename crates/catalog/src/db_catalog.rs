//! `DbCatalog`: every object of one database, keyed by qualified name.
//!
//! JSON cannot key a map by a struct, so the maps travel as lists (the shape `catalog.sql`
//! emits): `tables` and `functions` as lists of their items (each carries its own name),
//! `enum_types` as `[{name, labels}]` and `composite_types` as `[{name, fields}]`.

use indexmap::IndexMap;
use indexmap::map::Entry;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::{CompositeField, Function, QualifiedName, Table};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbCatalog {
    /// Tables, views, materialized views, foreign and partitioned tables, ordered by name.
    #[serde(default, with = "tables_as_list")]
    pub tables: IndexMap<QualifiedName, Table>,
    /// Overloads grouped by name, ordered by name, then oid.
    #[serde(default, with = "functions_as_list")]
    pub functions: IndexMap<QualifiedName, Vec<Function>>,
    /// ENUM types: labels in sort order.
    #[serde(default, with = "enum_types_as_list")]
    pub enum_types: IndexMap<QualifiedName, Vec<String>>,
    /// Standalone composite types (`CREATE TYPE ... AS (...)`), not tables' row types.
    #[serde(default, with = "composite_types_as_list")]
    pub composite_types: IndexMap<QualifiedName, Vec<CompositeField>>,
}

impl DbCatalog {
    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.get(name)
    }

    /// All overloads of a function; empty when there is none.
    pub fn function_overloads(&self, name: &QualifiedName) -> &[Function] {
        self.functions.get(name).map_or(&[], Vec::as_slice)
    }

    /// Labels of an ENUM type, in sort order.
    pub fn enum_labels(&self, name: &QualifiedName) -> Option<&[String]> {
        self.enum_types.get(name).map(Vec::as_slice)
    }
}

mod tables_as_list {
    use super::*;

    pub fn serialize<S: Serializer>(
        tables: &IndexMap<QualifiedName, Table>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(tables.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<IndexMap<QualifiedName, Table>, D::Error> {
        let list = Vec::<Table>::deserialize(deserializer)?;
        let mut tables = IndexMap::with_capacity(list.len());
        for table in list {
            match tables.entry(table.name.clone()) {
                Entry::Occupied(_) => {
                    return Err(D::Error::custom(format!(
                        "table {} listed twice",
                        table.name
                    )));
                }
                Entry::Vacant(slot) => {
                    slot.insert(table);
                }
            }
        }
        Ok(tables)
    }
}

mod functions_as_list {
    use super::*;

    pub fn serialize<S: Serializer>(
        functions: &IndexMap<QualifiedName, Vec<Function>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(functions.values().flatten())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<IndexMap<QualifiedName, Vec<Function>>, D::Error> {
        let list = Vec::<Function>::deserialize(deserializer)?;
        let mut functions: IndexMap<QualifiedName, Vec<Function>> = IndexMap::new();
        for function in list {
            functions
                .entry(function.name.clone())
                .or_default()
                .push(function);
        }
        Ok(functions)
    }
}

/// A list of `{name, <items_key>}` objects as a map from name to items.
macro_rules! named_list {
    ($module:ident, $item:ty, $items_key:ident) => {
        mod $module {
            use super::*;

            #[derive(Serialize)]
            struct EntryOut<'a> {
                name: &'a QualifiedName,
                $items_key: &'a [$item],
            }

            #[derive(Deserialize)]
            struct EntryIn {
                name: QualifiedName,
                #[serde(default)]
                $items_key: Vec<$item>,
            }

            pub fn serialize<S: Serializer>(
                map: &IndexMap<QualifiedName, Vec<$item>>,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(map.iter().map(|(name, items)| EntryOut {
                    name,
                    $items_key: items,
                }))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(
                deserializer: D,
            ) -> Result<IndexMap<QualifiedName, Vec<$item>>, D::Error> {
                let list = Vec::<EntryIn>::deserialize(deserializer)?;
                let mut map = IndexMap::with_capacity(list.len());
                for entry in list {
                    if map.insert(entry.name.clone(), entry.$items_key).is_some() {
                        return Err(D::Error::custom(format!(
                            "type {} listed twice",
                            entry.name
                        )));
                    }
                }
                Ok(map)
            }
        }
    };
}

named_list!(enum_types_as_list, String, labels);
named_list!(composite_types_as_list, CompositeField, fields);
