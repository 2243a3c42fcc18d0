//! GraphQL mutations against a real PostgreSQL: each mutation validated against the role's
//! schema, translated, and its statements run in one transaction as the server does (a failed
//! permission check rolls back). One cluster, one database; the cases run in order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_gql::SchemaOptions;
use graft_pgtemp::Cluster;
use graft_schema::{Model, Session};
use graft_translate::graphql::GraphqlOptions;
use graft_translate::graphql_mutation::{ResultShape, translate_graphql_mutation};
use serde_json::{Map, Value, json};
use tokio_postgres::{Client, NoTls};

struct Db {
    client: Client,
    model: Model,
}

impl Db {
    /// The `data` object, or `Err("check failed")` when a permission check failed.
    async fn mutate(&mut self, session: &Session, query: &str) -> Result<Value, String> {
        let options = SchemaOptions::default();
        let schema = graft_gql::schema_for_role(&self.model, &session.role, &options).unwrap();
        let operation = graft_gql::parse_and_validate(&schema, query, None, None)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let statements = translate_graphql_mutation(
            &operation,
            &self.model.sources["default"],
            session,
            &GraphqlOptions::default(),
        )
        .map_err(|e| e.message)?;
        let transaction = self.client.transaction().await.unwrap();
        let mut data = Map::new();
        for statement in statements {
            let prepared = &statement.prepared;
            let text = graft_execute::query_json(&transaction, &prepared.sql, &prepared.params)
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", prepared.sql));
            let mut value: Value = serde_json::from_str(&text).unwrap();
            if prepared.has_check {
                if value["check"] != json!(true) {
                    return Err("check failed".to_string());
                }
                value = value["data"].take();
            }
            match statement.shape {
                ResultShape::Value => {
                    data.insert(statement.response_key, value);
                }
                ResultShape::ArrayItem => {
                    let items = data
                        .entry(statement.response_key)
                        .or_insert_with(|| json!([]));
                    items.as_array_mut().unwrap().push(value);
                }
            }
        }
        transaction.commit().await.unwrap();
        Ok(Value::Object(data))
    }

    async fn count(&self, sql: &str) -> i64 {
        self.client.query_one(sql, &[]).await.unwrap().get(0)
    }
}

#[tokio::test]
async fn graphql_mutations_on_postgres() {
    let cluster = Cluster::temporary().await.unwrap();
    cluster.create_database("mut").await.unwrap();
    let (client, connection) = tokio_postgres::connect(&cluster.url("mut"), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client.batch_execute(common::DDL).await.unwrap();
    let catalog = graft_catalog::load(&client).await.unwrap();
    let mut db = Db {
        model: common::model(catalog),
        client,
    };
    inserts(&mut db).await;
    nested_inserts(&mut db).await;
    upserts(&mut db).await;
    updates(&mut db).await;
    deletes(&mut db).await;
    role_checks(&mut db).await;
}

async fn inserts(db: &mut Db) {
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_author(objects: [{name: "A"}, {name: "B", is_registered: true}]) {
                 affected_rows returning { id name is_registered __typename } } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_author": {"affected_rows": 2, "returning": [
            {"id": 1, "name": "A", "is_registered": false, "__typename": "author"},
            {"id": 2, "name": "B", "is_registered": true, "__typename": "author"}
        ]}})
    );
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_author_one(object: {name: "C"}) { id name articles { id } } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_author_one": {"id": 3, "name": "C", "articles": []}})
    );
}

async fn nested_inserts(db: &mut Db) {
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_author(objects: [
                 {name: "D", articles: {data: [{title: "D1"}, {title: "D2"}]}},
                 {name: "E"}
               ]) {
                 affected_rows
                 returning { name articles(order_by: {id: asc}) { title author { name } } }
               } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_author": {"affected_rows": 4, "returning": [
            {"name": "D", "articles": [
                {"title": "D1", "author": {"name": "D"}},
                {"title": "D2", "author": {"name": "D"}}
            ]},
            {"name": "E", "articles": []}
        ]}})
    );
    // Object relationship: the author first, its id filled into the article.
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_article(objects: [{title: "F1", author: {data: {name: "F"}}}]) {
                 affected_rows returning { title author { name articles { title } } } } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_article": {"affected_rows": 2, "returning": [
            {"title": "F1", "author": {"name": "F", "articles": [{"title": "F1"}]}}
        ]}})
    );
    // An upsert that leaves the author alone still links the article to it.
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_article_one(object: {title: "A1", author: {
                 data: {name: "A"}, on_conflict: {constraint: author_name_key, update_columns: []}}}) {
                 title author { id name } } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_article_one": {"title": "A1", "author": {"id": 1, "name": "A"}}})
    );
    let error = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_author(objects: [{name: "G", articles: {data: [{title: "G1", author_id: 1}]}}]) {
                 affected_rows } }"#,
        )
        .await
        .unwrap_err();
    assert!(
        error.contains("already being determined by parent insert"),
        "{error}"
    );
}

async fn upserts(db: &mut Db) {
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_author(objects: [{name: "A", is_registered: true}, {name: "H"}],
                 on_conflict: {constraint: author_name_key, update_columns: [is_registered]}) {
                 affected_rows returning { name is_registered } } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_author": {"affected_rows": 2, "returning": [
            {"name": "A", "is_registered": true},
            {"name": "H", "is_registered": false}
        ]}})
    );
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { insert_author_one(object: {name: "A"},
                 on_conflict: {constraint: author_name_key, update_columns: []}) { id } }"#,
        )
        .await
        .unwrap();
    assert_eq!(data, json!({"insert_author_one": null}));
}

async fn updates(db: &mut Db) {
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation {
                 update_author(where: {name: {_eq: "B"}}, _set: {bio: "b"}, _inc: {followers: 5}) {
                   affected_rows returning { name followers }
                 }
                 update_author_by_pk(pk_columns: {id: 2}, _inc: {followers: 1}) { followers }
                 update_author_many(updates: [
                   {where: {id: {_eq: 2}}, _inc: {followers: 10}},
                   {where: {followers: {_gt: 10}}, _set: {bio: "many"}}
                 ]) { affected_rows returning { id followers bio } }
               }"#,
        )
        .await
        .unwrap();
    // followers is NULL until set: NULL + 5 stays NULL.
    assert_eq!(
        data,
        json!({
            "update_author": {"affected_rows": 1, "returning": [{"name": "B", "followers": null}]},
            "update_author_by_pk": {"followers": null},
            "update_author_many": [
                {"affected_rows": 1, "returning": [{"id": 2, "followers": null, "bio": "b"}]},
                {"affected_rows": 0, "returning": []}
            ]
        })
    );
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { update_author_by_pk(pk_columns: {id: 2}, _set: {followers: 7}) { followers }
                          other: update_author_by_pk(pk_columns: {id: 99}, _set: {followers: 7}) { id } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"update_author_by_pk": {"followers": 7}, "other": null})
    );
}

async fn deletes(db: &mut Db) {
    let data = db
        .mutate(
            &Session::admin(),
            r#"mutation { delete_article(where: {title: {_eq: "A1"}}) { affected_rows returning { title } }
                          delete_author_by_pk(id: 5) { name } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"delete_article": {"affected_rows": 1, "returning": [{"title": "A1"}]},
               "delete_author_by_pk": {"name": "E"}})
    );
}

async fn role_checks(db: &mut Db) {
    let before = db.count("SELECT count(*) FROM author").await;
    // The check needs id = X-Hasura-User-Id: a row with another id fails and is rolled back.
    let error = db
        .mutate(
            &common::user("100"),
            r#"mutation { insert_author(objects: [{id: 101, name: "U"}]) { affected_rows } }"#,
        )
        .await
        .unwrap_err();
    assert_eq!(error, "check failed");
    assert_eq!(db.count("SELECT count(*) FROM author").await, before);
    // The preset fills bio from the session.
    let data = db
        .mutate(
            &common::user("100"),
            r#"mutation { insert_author(objects: [{id: 100, name: "U"}]) { affected_rows returning { id name } } }"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"insert_author": {"affected_rows": 1, "returning": [{"id": 100, "name": "U"}]}})
    );
    let bio: Option<String> = db
        .client
        .query_one("SELECT bio FROM author WHERE id = 100", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(bio.as_deref(), Some("hello"));
    // The update filter keeps other users' rows out; the check refuses followers >= 1000.
    let data = db
        .mutate(
            &common::user("100"),
            r#"mutation { update_author(where: {}, _set: {name: "U2", followers: 5}) { affected_rows } }"#,
        )
        .await
        .unwrap();
    assert_eq!(data, json!({"update_author": {"affected_rows": 1}}));
    let error = db
        .mutate(
            &common::user("100"),
            r#"mutation { update_author(where: {}, _set: {followers: 5000}) { affected_rows } }"#,
        )
        .await
        .unwrap_err();
    assert_eq!(error, "check failed");
}
