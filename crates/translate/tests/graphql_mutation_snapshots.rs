//! The SQL (and parameters) GraphQL mutations translate to, without a database: the catalog is
//! written by hand in `common`, the mutation validated by `graft_gql` against the role's schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_gql::SchemaOptions;
use graft_schema::Session;
use graft_translate::graphql::GraphqlOptions;
use graft_translate::graphql_mutation::translate_graphql_mutation;

fn translate(session: &Session, query: &str) -> String {
    let model = common::model(common::catalog());
    let schema =
        graft_gql::schema_for_role(&model, &session.role, &SchemaOptions::default()).unwrap();
    let operation = graft_gql::parse_and_validate(&schema, query, None, None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let statements = translate_graphql_mutation(
        &operation,
        &model.sources["default"],
        session,
        &GraphqlOptions::default(),
    )
    .unwrap();
    let mut out = String::new();
    for statement in statements {
        let prepared = &statement.prepared;
        out.push_str(&format!(
            "-- {} ({:?}, has_check: {})\n{}\n",
            statement.response_key, statement.shape, prepared.has_check, prepared.sql
        ));
        for (i, p) in prepared.params.iter().enumerate() {
            out.push_str(&format!("${}: {:?}\n", i + 1, p));
        }
        out.push('\n');
    }
    out
}

#[test]
fn multi_object_insert() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"mutation { insert_author(objects: [{name: "A"}, {name: "B", is_registered: true}]) {
             affected_rows returning { id name } } }"#,
    ));
}

#[test]
fn nested_insert_object_and_array() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"mutation {
             insert_article_one(object: {title: "T", author: {data: {name: "A"}}}) { id author { name } }
             insert_author(objects: [{name: "B", articles: {data: [{title: "B1"}, {title: "B2"}]}}]) {
               affected_rows returning { name articles { title } } }
           }"#,
    ));
}

#[test]
fn upsert() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"mutation { insert_author(objects: [{name: "A", bio: "x"}],
             on_conflict: {constraint: author_name_key, update_columns: [bio], where: {is_registered: {_eq: true}}}) {
             affected_rows } }"#,
    ));
}

#[test]
fn update_with_set_and_inc() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"mutation { update_author(where: {id: {_eq: 1}}, _set: {name: "N"}, _inc: {followers: 2}) {
             affected_rows returning { id name followers } } }"#,
    ));
}

#[test]
fn update_many() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"mutation { update_author_many(updates: [
             {where: {id: {_eq: 1}}, _set: {name: "N"}},
             {where: {id: {_eq: 2}}, _inc: {followers: 1}}
           ]) { affected_rows } }"#,
    ));
}

#[test]
fn delete_by_pk() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"mutation { delete_author_by_pk(id: 1) { id name } }"#,
    ));
}

#[test]
fn role_insert_with_check_and_preset() {
    insta::assert_snapshot!(translate(
        &common::user("1"),
        r#"mutation { insert_author(objects: [{id: 1, name: "U"}]) { affected_rows returning { id } } }"#,
    ));
}
