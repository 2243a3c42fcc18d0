//! Computed fields and tracked SQL functions through GraphQL against a real PostgreSQL: the
//! role's schema (SDL excerpts checked), the SQL (snapshots) and the `data` JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_gql::SchemaOptions;
use graft_metadata::Metadata;
use graft_pgtemp::Cluster;
use graft_schema::{Model, Session};
use graft_translate::graphql::{GraphqlOptions, translate_graphql_query};
use graft_translate::graphql_mutation::translate_graphql_mutation;
use serde_json::{Value, json};
use std::collections::HashMap;
use tokio_postgres::{Client, NoTls};

const DDL: &str = r#"
CREATE TABLE author (id serial PRIMARY KEY, first_name text, last_name text);
CREATE TABLE article (id serial PRIMARY KEY, title text, author_id integer REFERENCES author(id),
  is_published boolean NOT NULL DEFAULT false);
CREATE FUNCTION full_name(author_row author) RETURNS text AS $$
  SELECT author_row.first_name || ' ' || author_row.last_name
$$ LANGUAGE sql STABLE;
CREATE FUNCTION greeting(author_row author, hasura_session json, salutation text DEFAULT 'Hi') RETURNS text AS $$
  SELECT salutation || ' ' || author_row.first_name || ' from ' || (hasura_session->>'x-hasura-role')
$$ LANGUAGE sql STABLE;
CREATE FUNCTION get_articles(author_row author, search text) RETURNS SETOF article AS $$
  SELECT * FROM article WHERE author_id = author_row.id AND title ILIKE '%' || search || '%'
$$ LANGUAGE sql STABLE;
CREATE FUNCTION all_articles(author_row author) RETURNS SETOF article AS $$
  SELECT * FROM article WHERE author_id = author_row.id
$$ LANGUAGE sql STABLE;
CREATE FUNCTION search_articles(search text) RETURNS SETOF article AS $$
  SELECT * FROM article WHERE title ILIKE '%' || search || '%'
$$ LANGUAGE sql STABLE;
CREATE FUNCTION rename_author(author_id integer, new_name text) RETURNS SETOF author AS $$
  UPDATE author SET first_name = new_name WHERE id = author_id RETURNING *
$$ LANGUAGE sql VOLATILE;
INSERT INTO author (first_name, last_name) VALUES ('Roger', 'Chris'), ('Anne', 'Bell');
INSERT INTO article (title, author_id, is_published) VALUES
  ('Rust one', 1, true), ('Rust two', 1, false), ('Go three', 2, true);
"#;

fn metadata() -> Metadata {
    Metadata::from_json(json!({
        "version": 3,
        "sources": [{
            "name": "default",
            "kind": "postgres",
            "configuration": {},
            "functions": [
                {"function": {"schema": "public", "name": "search_articles"}},
                {"function": {"schema": "public", "name": "rename_author"}}
            ],
            "tables": [
                {
                    "table": {"schema": "public", "name": "author"},
                    "computed_fields": [
                        {"name": "full_name", "definition": {"function": {"schema": "public", "name": "full_name"}}},
                        {"name": "greeting", "definition": {
                            "function": {"schema": "public", "name": "greeting"},
                            "session_argument": "hasura_session"}},
                        {"name": "get_articles", "definition": {
                            "function": {"schema": "public", "name": "get_articles"},
                            "table_argument": "author_row"}},
                        {"name": "all_articles", "definition": {
                            "function": {"schema": "public", "name": "all_articles"}}}
                    ],
                    "select_permissions": [
                        {"role": "user", "permission": {
                            "columns": ["id"], "filter": {}, "computed_fields": ["full_name"]
                        }},
                        {"role": "nobody", "permission": {"columns": ["id"], "filter": {}}}
                    ]
                },
                {
                    "table": {"schema": "public", "name": "article"},
                    "select_permissions": [
                        {"role": "user", "permission": {
                            "columns": ["id", "title"], "filter": {"is_published": true}
                        }}
                    ]
                }
            ]
        }]
    }))
    .unwrap()
}

struct Db {
    client: Client,
    model: Model,
}

impl Db {
    fn sdl(&self, role: &str) -> String {
        graft_gql::sdl_for_role(&self.model, role, &SchemaOptions::default()).unwrap()
    }

    async fn query(&self, session: &Session, query: &str) -> (Value, String) {
        let schema =
            graft_gql::schema_for_role(&self.model, &session.role, &SchemaOptions::default())
                .unwrap();
        let operation = graft_gql::parse_and_validate(&schema, query, None, None)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let statement = translate_graphql_query(
            &operation,
            &self.model.sources["default"],
            session,
            &GraphqlOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let prepared = &statement.prepared;
        let text = graft_execute::query_json(&self.client, &prepared.sql, &prepared.params)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", prepared.sql));
        (serde_json::from_str(&text).unwrap(), prepared.sql.clone())
    }

    fn rejects(&self, role: &str, query: &str) {
        let schema =
            graft_gql::schema_for_role(&self.model, role, &SchemaOptions::default()).unwrap();
        assert!(graft_gql::parse_and_validate(&schema, query, None, None).is_err());
    }
}

#[tokio::test]
async fn computed_fields_and_functions_on_postgres() {
    let cluster = Cluster::temporary().await.unwrap();
    cluster.create_database("funcs").await.unwrap();
    let (client, connection) = tokio_postgres::connect(&cluster.url("funcs"), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client.batch_execute(DDL).await.unwrap();
    let catalog = graft_catalog::load(&client).await.unwrap();
    let resolved = graft_schema::resolve(
        &metadata(),
        &HashMap::from([("default".to_string(), catalog)]),
    );
    assert!(
        resolved.inconsistencies.is_empty(),
        "{:?}",
        resolved.inconsistencies
    );
    let db = Db {
        client,
        model: resolved.model,
    };
    schema_per_role(&db);
    scalar_computed_fields(&db).await;
    table_computed_fields(&db).await;
    tracked_functions(&db).await;
    volatile_function_mutation(&db).await;
}

async fn volatile_function_mutation(db: &Db) {
    let sdl = db.sdl("admin");
    assert!(sdl.contains("type mutation_root"), "{sdl}");
    assert!(!sdl.contains("rename_author_aggregate"), "{sdl}");
    let admin = common::session("admin", &[]);
    let schema = graft_gql::schema_for_role(&db.model, "admin", &SchemaOptions::default()).unwrap();
    let operation = graft_gql::parse_and_validate(
        &schema,
        r#"mutation { renamed: rename_author(args: {author_id: 2, new_name: "Anna"}) { id first_name } }"#,
        None,
        None,
    )
    .unwrap();
    let statements = translate_graphql_mutation(
        &operation,
        &db.model.sources["default"],
        &admin,
        &GraphqlOptions::default(),
    )
    .unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0].response_key, "renamed");
    let prepared = &statements[0].prepared;
    let text = graft_execute::query_json(&db.client, &prepared.sql, &prepared.params)
        .await
        .unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value, json!([{"id": 2, "first_name": "Anna"}]));
    let (data, _) = db
        .query(&admin, "{ author(where: {id: {_eq: 2}}) { first_name } }")
        .await;
    assert_eq!(data, json!({"author": [{"first_name": "Anna"}]}));
}

fn schema_per_role(db: &Db) {
    let admin = db.sdl("admin");
    assert!(admin.contains("full_name: String"), "{admin}");
    assert!(admin.contains("search_articles("), "{admin}");
    assert!(admin.contains("search_articles_aggregate("), "{admin}");
    assert!(admin.contains("input search_articles_args"), "{admin}");
    let user = db.sdl("user");
    assert!(user.contains("full_name: String"), "{user}");
    assert!(!user.contains("greeting"), "{user}");
    assert!(user.contains("get_articles("), "{user}");
    let nobody = db.sdl("nobody");
    assert!(!nobody.contains("full_name"), "{nobody}");
    // `nobody` cannot select articles: neither the computed field nor the function shows.
    assert!(!nobody.contains("get_articles"), "{nobody}");
    assert!(!nobody.contains("search_articles"), "{nobody}");
}

async fn scalar_computed_fields(db: &Db) {
    let admin = common::session("admin", &[]);
    let (data, sql) = db
        .query(
            &admin,
            r#"{ author(order_by: {full_name: desc}, where: {full_name: {_ilike: "%e%"}}) {
                id full_name greeting hello: greeting(args: {salutation: "Hello"}) } }"#,
        )
        .await;
    assert_eq!(
        data,
        json!({"author": [
            {"id": 1, "full_name": "Roger Chris", "greeting": "Hi Roger from admin", "hello": "Hello Roger from admin"},
            {"id": 2, "full_name": "Anne Bell", "greeting": "Hi Anne from admin", "hello": "Hello Anne from admin"}
        ]})
    );
    insta::assert_snapshot!("scalar_computed_fields_sql", sql);

    let user = common::session("user", &[]);
    let (data, _) = db.query(&user, "{ author(limit: 1) { full_name } }").await;
    assert_eq!(data, json!({"author": [{"full_name": "Roger Chris"}]}));
    db.rejects("user", "{ author { greeting } }");
}

async fn table_computed_fields(db: &Db) {
    let user = common::session("user", &[]);
    let (data, sql) = db
        .query(
            &user,
            r#"{ author(order_by: {id: asc}) { id get_articles(args: {search: "rust"}, order_by: {id: asc}) { title } } }"#,
        )
        .await;
    // The article permission (published only) filters the function's rows.
    assert_eq!(
        data,
        json!({"author": [
            {"id": 1, "get_articles": [{"title": "Rust one"}]},
            {"id": 2, "get_articles": []}
        ]})
    );
    insta::assert_snapshot!("table_computed_field_sql", sql);
    let (data, _) = db
        .query(
            &user,
            r#"{ author(where: {all_articles: {title: {_eq: "Go three"}}}) { id } }"#,
        )
        .await;
    assert_eq!(data, json!({"author": [{"id": 2}]}));
}

async fn tracked_functions(db: &Db) {
    let admin = common::session("admin", &[]);
    let (data, sql) = db
        .query(
            &admin,
            r#"{ search_articles(args: {search: "rust"}, order_by: {id: desc}) { id title }
                 search_articles_aggregate(args: {search: "t"}) { aggregate { count } } }"#,
        )
        .await;
    assert_eq!(
        data,
        json!({
            "search_articles": [{"id": 2, "title": "Rust two"}, {"id": 1, "title": "Rust one"}],
            "search_articles_aggregate": {"aggregate": {"count": 3}}
        })
    );
    insta::assert_snapshot!("tracked_function_sql", sql);
    let user = common::session("user", &[]);
    let (data, _) = db
        .query(
            &user,
            r#"{ search_articles(args: {search: "rust"}) { title } }"#,
        )
        .await;
    assert_eq!(data, json!({"search_articles": [{"title": "Rust one"}]}));
}
