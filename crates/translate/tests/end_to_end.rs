//! The v1 data API against a real PostgreSQL: catalog loaded from the database, metadata
//! resolved, statements translated and executed with `graft_execute::query_json`, the way the
//! server runs them. One cluster; each scenario gets a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_pgtemp::Cluster;
use graft_schema::{Session, SourceModel};
use graft_translate::{RqlOp, translate_rql};
use serde_json::{Value, json};
use tokio_postgres::{Client, NoTls};

struct Db {
    client: Client,
    source: SourceModel,
}

impl Db {
    async fn create(cluster: &Cluster, name: &str) -> Db {
        cluster.create_database(name).await.unwrap();
        let (client, connection) = tokio_postgres::connect(&cluster.url(name), NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client.batch_execute(common::DDL).await.unwrap();
        let catalog = graft_catalog::load(&client).await.unwrap();
        let db = Db {
            source: common::source(catalog),
            client,
        };
        db.run(
            RqlOp::Insert,
            &Session::admin(),
            json!({
                "table": "author",
                "objects": [
                    {"name": "Author 1", "followers": 9223372036854775807_i64},
                    {"name": "Author 2", "is_registered": true},
                    {"name": "Author 3", "bio": "bio 3"}
                ]
            }),
        )
        .await;
        db.run(
            RqlOp::Insert,
            &Session::admin(),
            json!({
                "table": "article",
                "objects": [
                    {"title": "A1", "author_id": 1},
                    {"title": "A2", "author_id": 1, "is_published": true, "rating": 4.5},
                    {"title": "A3", "author_id": 2, "is_published": true},
                    {"title": "A4", "author_id": 3}
                ]
            }),
        )
        .await;
        db
    }

    /// Runs one operation the way the server does: in a transaction, rolled back when the
    /// permission check fails. Returns the response, or `{"check_failed": true}`.
    async fn run(&self, op: RqlOp, session: &Session, args: Value) -> Value {
        let prepared = translate_rql(op, &self.source, session, &args, true).unwrap();
        self.client.batch_execute("BEGIN").await.unwrap();
        let text = graft_execute::query_json(&self.client, &prepared.sql, &prepared.params)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", prepared.sql));
        let result: Value = serde_json::from_str(&text).unwrap();
        if !prepared.has_check {
            self.client.batch_execute("COMMIT").await.unwrap();
            return result;
        }
        if result["check"] == json!(true) {
            self.client.batch_execute("COMMIT").await.unwrap();
            result["data"].clone()
        } else {
            self.client.batch_execute("ROLLBACK").await.unwrap();
            json!({"check_failed": true})
        }
    }

    async fn select(&self, session: &Session, args: Value) -> Value {
        self.run(RqlOp::Select, session, args).await
    }
}

#[tokio::test]
async fn v1_data_api_on_postgres() {
    let cluster = Cluster::temporary().await.unwrap();
    select_with_relationships_and_permissions(&Db::create(&cluster, "select").await).await;
    count_with_permissions(&Db::create(&cluster, "count").await).await;
    insert_with_check_and_upsert(&Db::create(&cluster, "insert").await).await;
    update_with_check(&Db::create(&cluster, "update").await).await;
    delete_with_filter(&Db::create(&cluster, "delete").await).await;
    cluster.stop().await.unwrap();
}

async fn select_with_relationships_and_permissions(db: &Db) {
    let query = json!({
        "table": "author",
        "columns": ["id", "name", {"name": "articles", "columns": ["title"], "order_by": "+id"}],
        "order_by": "id"
    });
    assert_eq!(
        db.select(&Session::admin(), query.clone()).await,
        json!([
            {"id": 1, "name": "Author 1", "articles": [{"title": "A1"}, {"title": "A2"}]},
            {"id": 2, "name": "Author 2", "articles": [{"title": "A3"}]},
            {"id": 3, "name": "Author 3", "articles": [{"title": "A4"}]}
        ])
    );
    // user 3 sees itself and authors with published articles; of the articles, its own and
    // the published ones.
    assert_eq!(
        db.select(&common::user("3"), query.clone()).await,
        json!([
            {"id": 1, "name": "Author 1", "articles": [{"title": "A2"}]},
            {"id": 2, "name": "Author 2", "articles": [{"title": "A3"}]},
            {"id": 3, "name": "Author 3", "articles": [{"title": "A4"}]}
        ])
    );
    let anonymous = common::session("anonymous", &[]);
    assert_eq!(
        db.select(&anonymous, query).await,
        json!([
            {"id": 1, "name": "Author 1", "articles": [{"title": "A2"}]},
            {"id": 2, "name": "Author 2", "articles": [{"title": "A3"}]}
        ])
    );
    let denied = translate_rql(
        RqlOp::Select,
        &db.source,
        &anonymous,
        &json!({"table": "author", "columns": ["id", "followers"]}),
        true,
    )
    .unwrap_err();
    assert_eq!(denied.code, "permission-denied");
    assert_eq!(denied.path, "$.args.columns[1]");

    // Object relationship, ordering through it, bigint and numeric as strings, `*`.
    assert_eq!(
        db.select(&common::user("1"), json!({
            "table": "article",
            "columns": ["title", "rating", {"name": "author", "columns": ["name", "followers"]}],
            "where": {"author": {"name": {"$in": ["Author 1", "Author 2"]}}},
            "order_by": ["-author.name", "title"],
            "limit": 2
        }))
        .await,
        json!([
            {"title": "A3", "rating": null, "author": {"name": "Author 2", "followers": null}},
            {"title": "A1", "rating": null, "author": {"name": "Author 1", "followers": "9223372036854775807"}}
        ])
    );
    assert_eq!(
        db.select(
            &anonymous,
            json!({"table": "article", "columns": ["*"], "where": {"title": {"$gt": "A2"}}})
        )
        .await,
        json!([{"id": 3, "title": "A3", "is_published": true}])
    );
}

async fn count_with_permissions(db: &Db) {
    let count =
        |session: Session, args: Value| async move { db.run(RqlOp::Count, &session, args).await };
    assert_eq!(
        count(Session::admin(), json!({"table": "article"})).await,
        json!({"count": 4})
    );
    assert_eq!(
        count(
            Session::admin(),
            json!({"table": "article", "distinct": ["author_id"]})
        )
        .await,
        json!({"count": 3})
    );
    assert_eq!(
        count(
            common::session("anonymous", &[]),
            json!({"table": "article"})
        )
        .await,
        json!({"count": 2})
    );
    assert_eq!(
        count(
            common::user("1"),
            json!({"table": "article", "where": {"author": {"id": 1}}})
        )
        .await,
        json!({"count": 2})
    );
}

async fn insert_with_check_and_upsert(db: &Db) {
    let user = common::user("5");
    // The check (id = user id) fails for id 6: the whole statement is rolled back.
    let failed = db
        .run(
            RqlOp::Insert,
            &user,
            json!({
                "table": "author",
                "objects": [{"id": 5, "name": "Five"}, {"id": 6, "name": "Six"}]
            }),
        )
        .await;
    assert_eq!(failed, json!({"check_failed": true}));
    let inserted = db
        .run(
            RqlOp::Insert,
            &user,
            json!({
                "table": "author",
                "objects": [{"id": 5, "name": "Five"}],
                "returning": ["id", "name", "is_registered"]
            }),
        )
        .await;
    assert_eq!(
        inserted,
        json!({"affected_rows": 1, "returning": [{"id": 5, "name": "Five", "is_registered": false}]})
    );
    // The preset wrote the session's bio.
    assert_eq!(
        db.select(
            &Session::admin(),
            json!({"table": "author", "columns": ["bio"], "where": {"id": 5}})
        )
        .await,
        json!([{"bio": "hello"}])
    );
    // Upserts: ignore, then update (admin), then as a role whose update filter excludes the row.
    let upsert = |name: &str, action: &str| {
        json!({
            "table": "author",
            "objects": [{"id": 1, "name": name}],
            "on_conflict": {"constraint_on": ["id"], "action": action},
            "returning": ["id", "name"]
        })
    };
    assert_eq!(
        db.run(
            RqlOp::Insert,
            &Session::admin(),
            upsert("Ignored", "ignore")
        )
        .await,
        json!({"affected_rows": 0, "returning": []})
    );
    assert_eq!(
        db.run(
            RqlOp::Insert,
            &Session::admin(),
            upsert("Renamed", "update")
        )
        .await,
        json!({"affected_rows": 1, "returning": [{"id": 1, "name": "Renamed"}]})
    );
    assert_eq!(
        db.run(
            RqlOp::Insert,
            &common::user("5"),
            json!({
                "table": "author",
                "objects": [{"id": 5, "name": "Author 2"}],
                "on_conflict": {"constraint": "author_name_key", "action": "update"}
            })
        )
        .await,
        json!({"affected_rows": 0})
    );
    upsert_checks_updated_rows_with_the_update_check(db).await;
}

/// An upsert that updates an existing row answers to the update permission's check (here
/// `followers < 1000`, NULL for a new author, so it fails) rather than the insert check (which
/// this row would pass).
async fn upsert_checks_updated_rows_with_the_update_check(db: &Db) {
    let user = common::user("5");
    let upsert = json!({
        "table": "author",
        "objects": [{"id": 5, "name": "Five again"}],
        "on_conflict": {"constraint": "author_pkey", "action": "update"},
        "returning": ["name"]
    });
    assert_eq!(
        db.run(RqlOp::Insert, &user, upsert.clone()).await,
        json!({"check_failed": true})
    );
    db.run(
        RqlOp::Update,
        &Session::admin(),
        json!({"table": "author", "where": {"id": 5}, "$set": {"followers": 1}}),
    )
    .await;
    assert_eq!(
        db.run(RqlOp::Insert, &user, upsert).await,
        json!({"affected_rows": 1, "returning": [{"name": "Five again"}]})
    );
}

async fn update_with_check(db: &Db) {
    let user = common::user("2");
    let updated = db
        .run(
            RqlOp::Update,
            &user,
            json!({
                "table": "author",
                "where": {},
                "$set": {"name": "Two"},
                "$inc": {"followers": 10},
                "returning": ["id", "name", "followers"]
            }),
        )
        .await;
    // followers is NULL for author 2: NULL + 10 stays NULL, and the check on it is not true.
    assert_eq!(updated, json!({"check_failed": true}));
    db.run(
        RqlOp::Update,
        &Session::admin(),
        json!({"table": "author", "where": {"id": 2}, "$set": {"followers": 5}}),
    )
    .await;
    assert_eq!(
        db.run(
            RqlOp::Update,
            &user,
            json!({
                "table": "author",
                "where": {},
                "$set": {"name": "Two"},
                "$inc": {"followers": 10},
                "returning": ["id", "name", "followers"]
            })
        )
        .await,
        json!({"affected_rows": 1, "returning": [{"id": 2, "name": "Two", "followers": "15"}]})
    );
    assert_eq!(
        db.run(
            RqlOp::Update,
            &user,
            json!({"table": "author", "where": {}, "$inc": {"followers": 1000}})
        )
        .await,
        json!({"check_failed": true})
    );
    assert_eq!(
        db.run(
            RqlOp::Update,
            &Session::admin(),
            json!({
                "table": "article", "where": {"rating": {"$is_null": false}}, "$mul": {"rating": 2},
                "returning": ["rating"]
            })
        )
        .await,
        json!({"affected_rows": 1, "returning": [{"rating": "9.0"}]})
    );
}

async fn delete_with_filter(db: &Db) {
    let user = common::user("1");
    let other = json!({"table": "article", "where": {"title": "A3"}, "returning": ["id"]});
    assert_eq!(
        db.run(RqlOp::Delete, &user, other).await,
        json!({"affected_rows": 0, "returning": []})
    );
    assert_eq!(
        db.run(
            RqlOp::Delete,
            &user,
            json!({"table": "article", "where": {"is_published": false}, "returning": ["title"]})
        )
        .await,
        json!({"affected_rows": 1, "returning": [{"title": "A1"}]})
    );
    assert_eq!(
        db.run(
            RqlOp::Delete,
            &Session::admin(),
            json!({"table": "article", "where": {}})
        )
        .await,
        json!({"affected_rows": 3})
    );
}
