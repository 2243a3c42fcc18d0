//! The SQL (and parameters) GraphQL queries translate to, without a database: the catalog is
//! written by hand in `common`; the role's schema is built and the query validated by
//! `graft_gql`, as the server does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use graft_gql::SchemaOptions;
use graft_schema::Session;
use graft_translate::graphql::{
    GraphqlError, GraphqlOptions, GraphqlStatement, translate_graphql_query,
};
use serde_json::{Value, json};

fn try_translate(
    session: &Session,
    query: &str,
    variables: Option<Value>,
) -> Result<GraphqlStatement, GraphqlError> {
    let model = common::model(common::catalog());
    let schema =
        graft_gql::schema_for_role(&model, &session.role, &SchemaOptions::default()).unwrap();
    let operation = graft_gql::parse_and_validate(&schema, query, None, variables.as_ref())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let options = GraphqlOptions {
        stringify_numeric: true,
        ..GraphqlOptions::default()
    };
    translate_graphql_query(&operation, &model.sources["default"], session, &options)
}

fn translate(session: &Session, query: &str, variables: Option<Value>) -> String {
    let statement = try_translate(session, query, variables).unwrap();
    let prepared = &statement.prepared;
    let mut out = format!("{}\n\ndb_fields: {:?}\n", prepared.sql, statement.db_fields);
    for (i, p) in prepared.params.iter().enumerate() {
        out.push_str(&format!("${}: {:?}\n", i + 1, p));
    }
    out
}

#[test]
fn nested_object_and_array_relationships_with_arguments() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"{ author(where: {name: {_ilike: "%a%"}}, order_by: {name: desc_nulls_last}, limit: 5, offset: 1) {
               id name followers
               articles(where: {is_published: {_eq: true}}, order_by: [{id: desc}], limit: 2) {
                 id title author { name }
               }
             } }"#,
        None,
    ));
}

#[test]
fn aggregate_with_nodes() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"{ article_aggregate(where: {rating: {_gt: 1}}, limit: 10) {
               __typename
               aggregate { count total: count(columns: [author_id], distinct: true)
                           sum { rating } avg { id } max { title } }
               nodes { id title }
             } }"#,
        None,
    ));
}

#[test]
fn order_by_through_a_relationship_and_an_array_aggregate() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"{ article(order_by: [{author: {name: asc}}, {id: desc}]) { id }
             author(order_by: {articles_aggregate: {count: desc, max: {rating: asc_nulls_first}}}) {
               id
               articles_aggregate(where: {title: {_like: "A%"}}) { aggregate { count } }
             } }"#,
        None,
    ));
}

#[test]
fn distinct_on() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"{ article(distinct_on: [author_id], order_by: [{author_id: asc}, {id: desc}]) { id author_id } }"#,
        None,
    ));
}

#[test]
fn by_pk() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"{ __typename author_by_pk(id: 1) { __typename id name } }"#,
        None,
    ));
}

#[test]
fn role_filtered_query_with_a_session_variable() {
    insta::assert_snapshot!(translate(
        &common::user("1"),
        r#"{ article(limit: 50) { id title author { name articles { id } } } }"#,
        None,
    ));
}

#[test]
fn variables_fragments_and_aliases() {
    insta::assert_snapshot!(translate(
        &Session::admin(),
        r#"query q($ids: [Int!], $limit: Int) {
             first: author(where: {id: {_in: $ids}}, limit: $limit) { ...authorFields }
             second: author(where: {id: {_nin: $ids}}) { writer_id: id }
           }
           fragment authorFields on author { id name articles { ... on article { headline: title } } }"#,
        Some(json!({"ids": [1, 2], "limit": 3})),
    ));
}

#[test]
fn the_same_query_shape_gives_the_same_text() {
    let query = r#"query($id: Int!) { author(where: {id: {_eq: $id}}) { id } }"#;
    let one = try_translate(&Session::admin(), query, Some(json!({"id": 1}))).unwrap();
    let two = try_translate(&Session::admin(), query, Some(json!({"id": 2}))).unwrap();
    assert_eq!(one.prepared.sql, two.prepared.sql);
    assert_ne!(one.prepared.params, two.prepared.params);
}

#[test]
fn distinct_on_must_match_the_initial_order_by() {
    let error = try_translate(
        &Session::admin(),
        r#"{ article(distinct_on: [author_id], order_by: {id: asc}) { id } }"#,
        None,
    )
    .unwrap_err();
    assert_eq!(error.code, "validation-failed");
    assert_eq!(
        error.message,
        "\"distinct_on\" columns must match initial \"order_by\" columns"
    );
    assert_eq!(error.path, "$.selectionSet.article.args");
}

#[test]
fn a_negative_limit_is_refused() {
    // Literals are refused by validation already; a variable's value reaches translation.
    let error = try_translate(
        &Session::admin(),
        r#"query($limit: Int) { article(limit: $limit) { id } }"#,
        Some(json!({"limit": -1})),
    )
    .unwrap_err();
    assert_eq!(error.code, "validation-failed");
    assert_eq!(error.path, "$.selectionSet.article.args.limit");
    assert_eq!(
        error.message,
        "expected a non-negative 32-bit integer for type 'Int', but found an integer"
    );
}

#[test]
fn a_missing_session_variable_is_refused() {
    let error =
        try_translate(&common::session("user", &[]), r#"{ article { id } }"#, None).unwrap_err();
    assert_eq!(error.code, "not-found");
    assert_eq!(
        error.message,
        "missing session variable: \"x-hasura-user-id\""
    );
}
