//! The blog fixture shared by the snapshot and end-to-end tests: the DDL, a hand-written catalog
//! of the same tables (for tests without a database), the metadata with two roles, and sessions.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use graft_catalog::DbCatalog;
use graft_metadata::Metadata;
use graft_schema::{Session, SourceModel};
use indexmap::IndexMap;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const DDL: &str = r#"
CREATE TABLE author (
  id serial PRIMARY KEY,
  name text UNIQUE,
  is_registered boolean NOT NULL DEFAULT false,
  bio text,
  followers bigint
);
CREATE TABLE article (
  id serial PRIMARY KEY,
  title text,
  content text,
  author_id integer REFERENCES author(id),
  is_published boolean NOT NULL DEFAULT false,
  rating numeric
);
"#;

pub fn metadata() -> Metadata {
    Metadata::from_json(json!({
        "version": 3,
        "sources": [{
            "name": "default",
            "kind": "postgres",
            "configuration": {},
            "tables": [
                {
                    "table": {"schema": "public", "name": "author"},
                    "array_relationships": [{
                        "name": "articles",
                        "using": {"foreign_key_constraint_on": {"table": "article", "column": "author_id"}}
                    }],
                    "select_permissions": [
                        {"role": "user", "permission": {
                            "columns": ["id", "name", "is_registered", "followers"],
                            "filter": {"_or": [{"id": "X-Hasura-User-Id"}, {"articles": {"is_published": {"_eq": true}}}]}
                        }},
                        {"role": "anonymous", "permission": {
                            "columns": ["id", "name"],
                            "filter": {"articles": {"is_published": {"_eq": true}}}
                        }}
                    ],
                    "insert_permissions": [
                        {"role": "user", "permission": {
                            "check": {"id": "X-Hasura-User-Id", "is_registered": false},
                            "set": {"bio": "X-Hasura-Bio"},
                            "columns": ["id", "name", "is_registered"]
                        }}
                    ],
                    "update_permissions": [
                        {"role": "user", "permission": {
                            "columns": ["name", "followers"],
                            "filter": {"id": "X-Hasura-User-Id"},
                            "check": {"followers": {"_lt": 1000}}
                        }}
                    ],
                    "delete_permissions": [
                        {"role": "user", "permission": {"filter": {"id": "X-Hasura-User-Id"}}}
                    ]
                },
                {
                    "table": {"schema": "public", "name": "article"},
                    "object_relationships": [{
                        "name": "author",
                        "using": {"foreign_key_constraint_on": "author_id"}
                    }],
                    "select_permissions": [
                        {"role": "user", "permission": {
                            "columns": ["id", "title", "content", "author_id", "is_published", "rating"],
                            "filter": {"_or": [{"author_id": "X-Hasura-User-Id"}, {"is_published": true}]},
                            "limit": 10
                        }},
                        {"role": "anonymous", "permission": {
                            "columns": ["id", "title", "is_published"],
                            "filter": {"is_published": true}
                        }},
                        {"role": "reporter", "permission": {
                            "columns": ["id", "title", "rating"],
                            "filter": {},
                            "limit": 1,
                            "allow_aggregations": true
                        }}
                    ],
                    "insert_permissions": [
                        {"role": "user", "permission": {
                            "check": {"author_id": "X-Hasura-User-Id"},
                            "columns": "*"
                        }}
                    ],
                    "update_permissions": [
                        {"role": "user", "permission": {
                            "columns": "*",
                            "filter": {"author_id": "X-Hasura-User-Id"}
                        }}
                    ],
                    "delete_permissions": [
                        {"role": "user", "permission": {"filter": {"author_id": "X-Hasura-User-Id"}}}
                    ]
                }
            ]
        }]
    }))
    .unwrap()
}

fn column(name: &str, ty: &str, nullable: bool, has_default: bool) -> Value {
    json!({
        "name": name,
        "pg_type": {"schema": "pg_catalog", "name": ty, "kind": "base", "display": ty},
        "is_nullable": nullable,
        "has_default": has_default
    })
}

/// The catalog `graft_catalog::load` reads from `DDL`, written by hand.
pub fn catalog() -> DbCatalog {
    serde_json::from_value(json!({
        "tables": [
            {
                "name": {"schema": "public", "name": "article"},
                "columns": [
                    column("id", "int4", false, true),
                    column("title", "text", true, false),
                    column("content", "text", true, false),
                    column("author_id", "int4", true, false),
                    column("is_published", "bool", false, true),
                    column("rating", "numeric", true, false)
                ],
                "primary_key": {"name": "article_pkey", "columns": ["id"]},
                "foreign_keys": [{
                    "name": "article_author_id_fkey",
                    "columns": ["author_id"],
                    "ref_table": {"schema": "public", "name": "author"},
                    "ref_columns": ["id"]
                }]
            },
            {
                "name": {"schema": "public", "name": "author"},
                "columns": [
                    column("id", "int4", false, true),
                    column("name", "text", true, false),
                    column("is_registered", "bool", false, true),
                    column("bio", "text", true, false),
                    column("followers", "int8", true, false)
                ],
                "primary_key": {"name": "author_pkey", "columns": ["id"]},
                "unique_constraints": [{"name": "author_name_key", "columns": ["name"]}]
            }
        ]
    }))
    .unwrap()
}

/// Resolves the fixture metadata against a catalog; fails on any inconsistency.
pub fn source(catalog: DbCatalog) -> SourceModel {
    model(catalog).sources["default"].clone()
}

/// The whole resolved model (what `graft_gql::schema_for_role` reads).
pub fn model(catalog: DbCatalog) -> graft_schema::Model {
    let catalogs = HashMap::from([("default".to_string(), catalog)]);
    let resolved = graft_schema::resolve(&metadata(), &catalogs);
    assert!(
        resolved.inconsistencies.is_empty(),
        "{:?}",
        resolved.inconsistencies
    );
    resolved.model
}

pub fn session(role: &str, variables: &[(&str, &str)]) -> Session {
    let mut map = IndexMap::new();
    map.insert("x-hasura-role".to_string(), role.to_string());
    for (k, v) in variables {
        map.insert(k.to_ascii_lowercase(), v.to_string());
    }
    Session {
        role: role.to_string(),
        variables: map,
        has_admin_credentials: role == "admin",
    }
}

pub fn user(id: &str) -> Session {
    session(
        "user",
        &[("x-hasura-user-id", id), ("x-hasura-bio", "hello")],
    )
}
