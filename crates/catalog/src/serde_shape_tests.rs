//! Pins the JSON shape `DbCatalog` reads (the shape `catalog.sql` emits and hand-written test
//! catalogs in other crates use).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::{DbCatalog, PgTypeKind, QualifiedName, TableKind, Volatility};

fn sample() -> serde_json::Value {
    json!({
        "tables": [{
            "name": {"schema": "public", "name": "author"},
            "kind": "table",
            "oid": 16384,
            "columns": [
                {
                    "name": "id", "position": 1,
                    "pg_type": {"schema": "pg_catalog", "name": "int4", "kind": "base",
                                "element": null, "base": null, "display": "integer"},
                    "is_nullable": false, "has_default": true,
                    "is_identity": false, "is_generated": false, "description": null
                },
                {
                    "name": "tags", "position": 2,
                    "pg_type": {"schema": "pg_catalog", "name": "_text", "kind": "array",
                                "element": {"schema": "pg_catalog", "name": "text",
                                            "kind": "base", "display": "text"},
                                "display": "text[]"},
                    "is_nullable": true, "has_default": false,
                    "is_identity": false, "is_generated": false, "description": "labels"
                }
            ],
            "primary_key": {"name": "author_pkey", "columns": ["id"]},
            "unique_constraints": [],
            "foreign_keys": [],
            "check_constraints": [],
            "description": "People who write",
            "is_insertable": true, "is_updatable": true, "is_deletable": true,
            "triggers": []
        }, {
            "name": {"schema": "public", "name": "book"},
            "kind": "materialized_view",
            "oid": 16390,
            "columns": [],
            "primary_key": null,
            "unique_constraints": [{"name": "book_title_key", "columns": ["title"]}],
            "foreign_keys": [{
                "name": "book_author_id_fkey",
                "columns": ["author_id"],
                "ref_table": {"schema": "public", "name": "author"},
                "ref_columns": ["id"]
            }],
            "check_constraints": ["book_title_check"],
            "description": null,
            "is_insertable": false, "is_updatable": false, "is_deletable": false,
            "triggers": ["book_audit"]
        }],
        "functions": [
            {
                "name": {"schema": "public", "name": "add"},
                "oid": 1, "arguments": [
                    {"name": null, "pg_type": {"name": "int4", "display": "integer"},
                     "has_default": false}
                ],
                "return_type": {"name": "int4", "display": "integer"},
                "returns_set": false, "return_table": null, "volatility": "immutable",
                "description": null, "default_args": 0
            },
            {
                "name": {"schema": "public", "name": "add"},
                "oid": 2, "arguments": [],
                "return_type": {"name": "int4", "display": "integer"},
                "returns_set": false, "return_table": null, "volatility": "stable",
                "description": null, "default_args": 0
            }
        ],
        "enum_types": [{"name": {"schema": "public", "name": "mood"}, "labels": ["sad", "ok"]}],
        "composite_types": [{
            "name": {"schema": "public", "name": "address"},
            "fields": [{"name": "zip", "pg_type": {"name": "text", "display": "text"}}]
        }]
    })
}

#[test]
fn reads_the_query_shape() {
    let catalog: DbCatalog = serde_json::from_value(sample()).unwrap();
    let author_name = QualifiedName::new("public", "author");

    let author = catalog.table(&author_name).unwrap();
    assert_eq!(author.kind, TableKind::Table);
    assert_eq!(author.oid, 16384);
    assert_eq!(author.primary_key.as_ref().unwrap().columns, ["id"]);
    let tags = author.column("tags").unwrap();
    assert_eq!(tags.pg_type.kind, PgTypeKind::Array);
    assert_eq!(tags.pg_type.element.as_ref().unwrap().name, "text");
    assert_eq!(tags.description.as_deref(), Some("labels"));

    let book = catalog
        .table(&QualifiedName::new("public", "book"))
        .unwrap();
    assert_eq!(book.kind, TableKind::MaterializedView);
    assert!(!book.is_insertable);
    assert_eq!(book.foreign_keys[0].ref_table, author_name);
    assert_eq!(book.triggers, ["book_audit"]);

    let overloads = catalog.function_overloads(&QualifiedName::new("public", "add"));
    assert_eq!(overloads.len(), 2, "overloads grouped under one name");
    assert_eq!(overloads[0].volatility, Volatility::Immutable);
    assert_eq!(overloads[1].volatility, Volatility::Stable);
    assert_eq!(overloads[0].arguments[0].pg_type.schema, "pg_catalog");
    assert!(catalog.function_overloads(&author_name).is_empty());

    assert_eq!(
        catalog.enum_labels(&QualifiedName::new("public", "mood")),
        Some(&["sad".to_owned(), "ok".to_owned()][..])
    );
    assert_eq!(
        catalog.composite_types[&QualifiedName::new("public", "address")][0].name,
        "zip"
    );
}

#[test]
fn writes_the_shape_it_reads() {
    let catalog: DbCatalog = serde_json::from_value(sample()).unwrap();
    let written = serde_json::to_value(&catalog).unwrap();
    assert_eq!(written["tables"][1]["kind"], "materialized_view");
    assert_eq!(written["functions"].as_array().unwrap().len(), 2);
    assert_eq!(written["enum_types"][0]["labels"], json!(["sad", "ok"]));
    let reread: DbCatalog = serde_json::from_value(written).unwrap();
    assert_eq!(reread, catalog);
}

#[test]
fn defaults_keep_hand_written_catalogs_short() {
    let catalog: DbCatalog = serde_json::from_value(json!({
        "tables": [{
            "name": {"schema": "public", "name": "t"},
            "columns": [{"name": "id", "pg_type": {"name": "int4", "display": "integer"}}]
        }]
    }))
    .unwrap();
    let table = catalog.table(&QualifiedName::new("public", "t")).unwrap();
    assert_eq!(table.kind, TableKind::Table);
    assert!(table.is_insertable && table.is_updatable && table.is_deletable);
    let id = &table.columns[0];
    assert!(id.is_nullable && !id.has_default);
    assert_eq!(id.pg_type.kind, PgTypeKind::Base);
    assert!(catalog.functions.is_empty() && catalog.enum_types.is_empty());
}

#[test]
fn refuses_a_table_listed_twice() {
    let table = json!({"name": {"schema": "public", "name": "t"}});
    let error = serde_json::from_value::<DbCatalog>(json!({"tables": [table, table]}))
        .unwrap_err()
        .to_string();
    assert!(error.contains("public.t listed twice"), "{error}");
}
