//! Request errors of the v1 data API: codes, messages and paths as Hasura answers them (the
//! cases mirror `hasura-conformance/queries/v1/*`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_schema::Session;
use graft_translate::{RqlError, RqlOp, translate_rql};
use serde_json::{Value, json};

fn error(op: RqlOp, session: &Session, args: Value) -> RqlError {
    let source = common::source(common::catalog());
    translate_rql(op, &source, session, &args, false).unwrap_err()
}

fn triple(e: &RqlError) -> (&str, &str, &str) {
    (e.code, e.message.as_str(), e.path.as_str())
}

#[test]
fn unknown_table() {
    let e = error(
        RqlOp::Select,
        &Session::admin(),
        json!({"table": "foobar", "columns": ["id"]}),
    );
    assert_eq!(
        triple(&e),
        (
            "not-exists",
            "table \"foobar\" does not exist",
            "$.args.table"
        )
    );
}

#[test]
fn column_the_role_may_not_select() {
    let anonymous = common::session("anonymous", &[]);
    let e = error(
        RqlOp::Select,
        &anonymous,
        json!({"table": "author", "columns": ["id", "bio"]}),
    );
    assert_eq!(
        triple(&e),
        (
            "permission-denied",
            "role \"anonymous\" does not have permission to select column \"bio\"",
            "$.args.columns[1]"
        )
    );
    let nested = error(
        RqlOp::Select,
        &anonymous,
        json!({"table": "author", "columns": [{"name": "articles", "columns": ["content"]}]}),
    );
    assert_eq!(nested.path, "$.args.columns[0].columns[0]");
    let in_where = error(
        RqlOp::Select,
        &anonymous,
        json!({"table": "author", "columns": ["id"], "where": {"bio": "x"}}),
    );
    assert_eq!(in_where.code, "permission-denied");
}

#[test]
fn operation_the_role_may_not_do() {
    let anonymous = common::session("anonymous", &[]);
    let e = error(
        RqlOp::Insert,
        &anonymous,
        json!({"table": "author", "objects": [{"name": "x"}]}),
    );
    assert_eq!(
        triple(&e),
        (
            "permission-denied",
            "insert on \"author\" for role \"anonymous\" is not allowed. ",
            "$.args"
        )
    );
    let e = error(
        RqlOp::Select,
        &common::session("nobody", &[]),
        json!({"table": "author", "columns": ["id"]}),
    );
    assert_eq!(
        e.message,
        "select on \"author\" for role \"nobody\" is not allowed. "
    );
}

#[test]
fn bad_limits_and_offsets() {
    let admin = Session::admin();
    let e = error(
        RqlOp::Select,
        &admin,
        json!({"table": "author", "columns": ["id"], "limit": -1}),
    );
    assert_eq!(
        triple(&e),
        ("not-supported", "unexpected negative value", "$.args.limit")
    );
    let e = error(
        RqlOp::Select,
        &admin,
        json!({"table": "author", "columns": ["id"], "offset": -1}),
    );
    assert_eq!(
        triple(&e),
        (
            "not-supported",
            "unexpected negative value",
            "$.args.offset"
        )
    );
    let e = error(
        RqlOp::Select,
        &admin,
        json!({"table": "author", "columns": ["id"], "offset": "1"}),
    );
    assert_eq!(
        triple(&e),
        (
            "parse-failed",
            "parsing Int failed, expected Number, but encountered String",
            "$.offset"
        )
    );
}

#[test]
fn unknown_columns() {
    let admin = Session::admin();
    let e = error(
        RqlOp::Count,
        &admin,
        json!({"table": "article", "distinct": ["author_name"]}),
    );
    assert_eq!(
        triple(&e),
        (
            "permission-denied",
            "no such column exists: \"author_name\"",
            "$.args.distinct[0]"
        )
    );
    let e = error(
        RqlOp::Insert,
        &admin,
        json!({"table": "article", "objects": [{"id": 1}], "on_conflict": {"action": "update"}, "returning": ["name", "id"]}),
    );
    assert_eq!(
        triple(&e),
        (
            "permission-denied",
            "no such column exists: \"name\"",
            "$.args.returning"
        )
    );
    let e = error(
        RqlOp::Insert,
        &admin,
        json!({"table": "article", "objects": [{"id": 1}], "on_conflict": {"constraint_on": ["name"], "action": "update"}}),
    );
    assert_eq!(
        triple(&e),
        (
            "not-exists",
            "column \"name\" does not exist",
            "$.args.on_conflict.constraint_on[0]"
        )
    );
    let e = error(
        RqlOp::Insert,
        &admin,
        json!({"table": "author", "objects": [{"name": "x", "age": 23}]}),
    );
    assert_eq!(e.code, "not-exists");
    let e = error(
        RqlOp::Select,
        &admin,
        json!({"table": "author", "columns": ["id", "user"]}),
    );
    assert_eq!(e.path, "$.args.columns[1]");
}

#[test]
fn malformed_mutations() {
    let admin = Session::admin();
    let e = error(
        RqlOp::Update,
        &admin,
        json!({"table": "author", "$set": {"name": null}}),
    );
    assert_eq!(triple(&e), ("parse-failed", "key \"where\" not found", "$"));
    let e = error(
        RqlOp::Update,
        &admin,
        json!({"table": "author", "where": {"id": 2}}),
    );
    assert_eq!(e.code, "unexpected-payload");
    let e = error(
        RqlOp::Insert,
        &admin,
        json!({"table": "article", "objects": [{"id": 1}], "on_conflict": {"constraint_on": ["id"]}}),
    );
    assert_eq!(
        triple(&e),
        (
            "parse-failed",
            "the key 'action' was not present",
            "$.on_conflict"
        )
    );
    let e = error(RqlOp::Delete, &admin, json!({"table": "author"}));
    assert_eq!(e.code, "parse-failed");
    let e = error(
        RqlOp::Select,
        &admin,
        json!({"table": "author", "columns": ["id"], "where": {"id": {"$foo": 1}}}),
    );
    assert_eq!(
        (e.code, e.path.as_str()),
        ("parse-failed", "$.args.where.id.$foo")
    );
}

#[test]
fn update_of_a_column_the_role_may_not_update() {
    let e = error(
        RqlOp::Update,
        &common::user("1"),
        json!({"table": "author", "where": {}, "$set": {"bio": "x"}}),
    );
    assert_eq!(
        triple(&e),
        (
            "permission-denied",
            "role \"user\" does not have permission to update column \"bio\"",
            "$.args.$set.bio"
        )
    );
}

#[test]
fn missing_session_variable() {
    let e = error(
        RqlOp::Select,
        &common::session("user", &[]),
        json!({"table": "author", "columns": ["id"]}),
    );
    assert_eq!(
        triple(&e),
        (
            "not-found",
            "missing session variable: \"x-hasura-user-id\"",
            "$"
        )
    );
    // Admin reads no session variable.
    let source = common::source(common::catalog());
    assert!(
        translate_rql(
            RqlOp::Select,
            &source,
            &Session::admin(),
            &json!({"table": "author", "columns": ["id"]}),
            false
        )
        .is_ok()
    );
}
