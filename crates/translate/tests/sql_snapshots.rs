//! The SQL (and parameters) the v1 data API produces for representative requests, without a
//! database: the catalog is written by hand in `common`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_schema::Session;
use graft_translate::{PreparedSql, RqlOp, translate_rql};
use serde_json::{Value, json};

fn translate(op: RqlOp, session: &Session, args: Value) -> PreparedSql {
    let source = common::source(common::catalog());
    translate_rql(op, &source, session, &args, true).unwrap()
}

fn render(prepared: &PreparedSql) -> String {
    let mut out = format!("{}\n\nhas_check: {}\n", prepared.sql, prepared.has_check);
    for (i, p) in prepared.params.iter().enumerate() {
        out.push_str(&format!("${}: {:?}\n", i + 1, p));
    }
    out
}

#[test]
fn nested_select_with_role_filter_and_session_variable() {
    let prepared = translate(
        RqlOp::Select,
        &common::user("1"),
        json!({
            "table": "author",
            "columns": ["id", "name", "followers", {
                "name": "articles",
                "columns": ["id", "title", {"name": "author", "alias": "writer", "columns": ["name"]}],
                "where": {"title": {"$like": "A%"}},
                "order_by": ["-id"],
                "limit": 20
            }],
            "where": {"is_registered": false},
            "order_by": [{"column": "name", "type": "asc", "nulls": "last"}],
            "limit": 5,
            "offset": 1
        }),
    );
    insta::assert_snapshot!(render(&prepared));
}

#[test]
fn select_ordered_through_an_object_relationship() {
    let prepared = translate(
        RqlOp::Select,
        &Session::admin(),
        json!({"table": "article", "columns": ["id"], "order_by": ["author.name", "-id"],
               "where": {"id": {"$in": [1, 2]}, "author": {"name": {"$nin": ["x"]}}}}),
    );
    insta::assert_snapshot!(render(&prepared));
}

#[test]
fn count_with_distinct() {
    let prepared = translate(
        RqlOp::Count,
        &common::user("2"),
        json!({"table": "article", "distinct": ["author_id"], "where": {"is_published": true}}),
    );
    insta::assert_snapshot!(render(&prepared));
}

#[test]
fn insert_two_objects_with_check_and_preset() {
    let prepared = translate(
        RqlOp::Insert,
        &common::user("7"),
        json!({
            "table": "author",
            "objects": [{"id": 7, "name": "Seven"}, {"id": 8, "is_registered": true}],
            "returning": ["id", "name"]
        }),
    );
    insta::assert_snapshot!(render(&prepared));
}

#[test]
fn upsert_as_a_role_checks_inserted_and_updated_rows_differently() {
    let prepared = translate(
        RqlOp::Insert,
        &common::user("7"),
        json!({
            "table": "author",
            "objects": [{"id": 7, "name": "Seven"}],
            "on_conflict": {"constraint": "author_pkey", "action": "update"}
        }),
    );
    insta::assert_snapshot!(render(&prepared));
}

#[test]
fn update_with_set_and_inc() {
    let prepared = translate(
        RqlOp::Update,
        &common::user("3"),
        json!({
            "table": "author",
            "where": {"name": {"$ilike": "%a%"}},
            "$set": {"name": "Renamed"},
            "$inc": {"followers": 10},
            "returning": ["id", "followers"]
        }),
    );
    insta::assert_snapshot!(render(&prepared));
}

#[test]
fn delete_by_admin() {
    let prepared = translate(
        RqlOp::Delete,
        &Session::admin(),
        json!({"table": "article", "where": {"id": 2}, "returning": ["id", "title"]}),
    );
    insta::assert_snapshot!(render(&prepared));
}
