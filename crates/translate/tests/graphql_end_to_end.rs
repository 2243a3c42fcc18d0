//! GraphQL queries against a real PostgreSQL: the role's schema built with `graft_gql`, the
//! query validated and translated, the statement executed with `graft_execute::query_json`, and
//! the `data` JSON compared. One cluster, one database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_gql::SchemaOptions;
use graft_pgtemp::Cluster;
use graft_schema::{Model, Session};
use graft_translate::graphql::{GraphqlOptions, translate_graphql_query};
use serde_json::{Value, json};
use tokio_postgres::{Client, NoTls};

const DATA: &str = r#"
INSERT INTO author (name, is_registered, bio, followers) VALUES
  ('Author 1', false, NULL, 9223372036854775807),
  ('Author 2', true, 'bio 2', 10),
  ('Author 3', false, 'bio 3', NULL);
INSERT INTO article (title, content, author_id, is_published, rating) VALUES
  ('A1', 'c1', 1, false, NULL),
  ('A2', 'c2', 1, true, 4.5),
  ('A3', 'c3', 2, true, 3),
  ('A4', 'c4', 3, false, 1.25);
"#;

struct Db {
    client: Client,
    model: Model,
}

impl Db {
    async fn query(&self, session: &Session, query: &str, variables: Option<Value>) -> Value {
        self.query_with(session, query, variables, false).await
    }

    async fn query_with(
        &self,
        session: &Session,
        query: &str,
        variables: Option<Value>,
        stringify_numeric: bool,
    ) -> Value {
        let schema =
            graft_gql::schema_for_role(&self.model, &session.role, &SchemaOptions::default())
                .unwrap();
        let operation = graft_gql::parse_and_validate(&schema, query, None, variables.as_ref())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let statement = translate_graphql_query(
            &operation,
            &self.model.sources["default"],
            session,
            &GraphqlOptions {
                stringify_numeric,
                ..GraphqlOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let prepared = &statement.prepared;
        let text = graft_execute::query_json(&self.client, &prepared.sql, &prepared.params)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", prepared.sql));
        serde_json::from_str(&text).unwrap()
    }
}

#[tokio::test]
async fn graphql_queries_on_postgres() {
    let cluster = Cluster::temporary().await.unwrap();
    cluster.create_database("gql").await.unwrap();
    let (client, connection) = tokio_postgres::connect(&cluster.url("gql"), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client.batch_execute(common::DDL).await.unwrap();
    client.batch_execute(DATA).await.unwrap();
    let catalog = graft_catalog::load(&client).await.unwrap();
    let db = Db {
        model: common::model(catalog),
        client,
    };
    nested_relationships(&db).await;
    aggregates(&db).await;
    ordering_and_distinct(&db).await;
    by_pk_and_typename(&db).await;
    permissions(&db).await;
    stringified_numbers(&db).await;
}

async fn nested_relationships(db: &Db) {
    let data = db
        .query(
            &Session::admin(),
            r#"{ author(order_by: {id: asc}, where: {articles: {is_published: {_eq: true}}}) {
                   id name
                   articles(order_by: {id: desc}, limit: 1) { title author { name } }
                   count: articles_aggregate { aggregate { count } }
                 } }"#,
            None,
        )
        .await;
    assert_eq!(
        data,
        json!({"author": [
            {"id": 1, "name": "Author 1", "articles": [{"title": "A2", "author": {"name": "Author 1"}}],
             "count": {"aggregate": {"count": 2}}},
            {"id": 2, "name": "Author 2", "articles": [{"title": "A3", "author": {"name": "Author 2"}}],
             "count": {"aggregate": {"count": 1}}}
        ]})
    );
}

async fn aggregates(db: &Db) {
    let data = db
        .query(
            &Session::admin(),
            r#"{ article_aggregate(where: {rating: {_is_null: false}}, order_by: {id: asc}) {
                   aggregate {
                     count
                     authors: count(columns: [author_id], distinct: true)
                     sum { rating id }
                     max { title rating }
                     min { id }
                     avg { id }
                   }
                   nodes { id }
                 } }"#,
            None,
        )
        .await;
    assert_eq!(
        data,
        json!({"article_aggregate": {
            "aggregate": {
                "count": 3,
                "authors": 3,
                "sum": {"rating": 8.75, "id": 9},
                "max": {"title": "A4", "rating": 4.5},
                "min": {"id": 2},
                "avg": {"id": 3.0000000000000000}
            },
            "nodes": [{"id": 2}, {"id": 3}, {"id": 4}]
        }})
    );
}

async fn ordering_and_distinct(db: &Db) {
    let data = db
        .query(
            &Session::admin(),
            r#"{ by_author_name: article(order_by: [{author: {name: desc}}, {id: asc}]) { id }
                 by_article_count: author(order_by: {articles_aggregate: {count: desc}, id: asc}) { id }
                 by_max_rating: author(order_by: {articles_aggregate: {max: {rating: asc_nulls_first}}}) { id }
                 one_per_author: article(distinct_on: [author_id], order_by: [{author_id: asc}, {id: desc}]) { id author_id }
               }"#,
            None,
        )
        .await;
    assert_eq!(
        data,
        json!({
            "by_author_name": [{"id": 4}, {"id": 3}, {"id": 1}, {"id": 2}],
            "by_article_count": [{"id": 1}, {"id": 2}, {"id": 3}],
            "by_max_rating": [{"id": 3}, {"id": 2}, {"id": 1}],
            "one_per_author": [
                {"id": 2, "author_id": 1}, {"id": 3, "author_id": 2}, {"id": 4, "author_id": 3}
            ]
        })
    );
}

async fn by_pk_and_typename(db: &Db) {
    let data = db
        .query(
            &Session::admin(),
            r#"query($id: Int!) {
                 author_by_pk(id: $id) { __typename id ...names }
                 missing: author_by_pk(id: 99) { id }
               }
               fragment names on author { name articles(where: {title: {_in: ["A1", "A3"]}}) { title } }"#,
            Some(json!({"id": 1})),
        )
        .await;
    assert_eq!(
        data,
        json!({
            "author_by_pk": {"__typename": "author", "id": 1, "name": "Author 1",
                             "articles": [{"title": "A1"}]},
            "missing": null
        })
    );
    // A null operand is SQL NULL (no row matches); a null expression imposes nothing.
    let data = db
        .query(
            &Session::admin(),
            r#"query($id: Int) { none: author(where: {id: {_eq: $id}}) { id }
                                 all: author_aggregate(where: {id: null}) { aggregate { count } } }"#,
            Some(json!({"id": null})),
        )
        .await;
    assert_eq!(
        data,
        json!({"none": [], "all": {"aggregate": {"count": 3}}})
    );
}

async fn permissions(db: &Db) {
    // user 3 sees their own unpublished article and every published one.
    let data = db
        .query(
            &common::user("3"),
            r#"{ article(order_by: {id: asc}) { id author { id } } }"#,
            None,
        )
        .await;
    assert_eq!(
        data,
        json!({"article": [
            {"id": 2, "author": {"id": 1}},
            {"id": 3, "author": {"id": 2}},
            {"id": 4, "author": {"id": 3}}
        ]})
    );
    // The permission's limit caps lists and `nodes`, but aggregates count every allowed row.
    let data = db
        .query(
            &common::session("reporter", &[]),
            r#"{ article(order_by: {id: desc}) { id }
                 article_aggregate(order_by: {id: asc}) { aggregate { count max { rating } } nodes { id } }
                 only_nodes: article_aggregate(order_by: {id: asc}) { nodes { id } } }"#,
            None,
        )
        .await;
    assert_eq!(
        data,
        json!({
            "article": [{"id": 4}],
            "article_aggregate": {"aggregate": {"count": 4, "max": {"rating": 4.5}}, "nodes": [{"id": 1}]},
            "only_nodes": {"nodes": [{"id": 1}]}
        })
    );
    // anonymous sees authors with published articles, and only published articles of theirs.
    let data = db
        .query(
            &common::session("anonymous", &[]),
            r#"{ author(order_by: {id: asc}) { id articles { id } } }"#,
            None,
        )
        .await;
    assert_eq!(
        data,
        json!({"author": [
            {"id": 1, "articles": [{"id": 2}]},
            {"id": 2, "articles": [{"id": 3}]}
        ]})
    );
}

async fn stringified_numbers(db: &Db) {
    let data = db
        .query_with(
            &Session::admin(),
            r#"{ author(where: {id: {_eq: 1}}) { followers articles(order_by: {id: asc}) { rating } }
                 article_aggregate { aggregate { sum { rating } } } }"#,
            None,
            true,
        )
        .await;
    assert_eq!(
        data,
        json!({
            "author": [{"followers": "9223372036854775807",
                        "articles": [{"rating": null}, {"rating": "4.5"}]}],
            "article_aggregate": {"aggregate": {"sum": {"rating": "8.75"}}}
        })
    );
}
