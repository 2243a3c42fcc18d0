#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Validation errors carry Hasura's messages and paths; valid operations come out normalized.

mod fixture;

use graft_gql::{GqlError, OperationKind, parse_and_validate, schema_for_role};
use serde_json::json;

fn error(role: &str, query: &str) -> GqlError {
    let model = fixture::model();
    let schema = schema_for_role(&model, role, &fixture::options(&model)).unwrap();
    let mut errors = parse_and_validate(&schema, query, None, None).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

#[test]
fn unknown_root_field() {
    let e = error("admin", "query { does_not_exist { id } }");
    assert_eq!(
        e.message,
        "field 'does_not_exist' not found in type: 'query_root'"
    );
    assert_eq!(e.path, "$.selectionSet.does_not_exist");
    assert_eq!(e.code, "validation-failed");
}

#[test]
fn column_hidden_from_role_is_not_found() {
    let e = error("user", "{ author { id bio } }");
    assert_eq!(e.message, "field 'bio' not found in type: 'author'");
    assert_eq!(e.path, "$.selectionSet.author.selectionSet.bio");
}

#[test]
fn unknown_comparison_operator() {
    let e = error("admin", r#"{ author(where: {name: {_ne: "x"}}) { id } }"#);
    assert_eq!(
        e.message,
        "field '_ne' not found in type: 'String_comparison_exp'"
    );
    assert_eq!(e.path, "$.selectionSet.author.args.where.name._ne");
}

#[test]
fn negative_limit() {
    let e = error("admin", "{ article(limit: -1) { id } }");
    assert_eq!(
        e.message,
        "expected a non-negative 32-bit integer for type 'Int', but found an integer"
    );
    assert_eq!(e.path, "$.selectionSet.article.args.limit");
}

#[test]
fn string_limit() {
    let e = error("admin", r#"{ article(limit: "3") { id } }"#);
    assert_eq!(
        e.message,
        "expected a non-negative 32-bit integer for type 'Int', but found a string"
    );
}

#[test]
fn unknown_argument() {
    let e = error(
        "admin",
        "{ author { articles_aggregate { aggregate { count(foo: 1) } } } }",
    );
    assert_eq!(e.message, "'count' has no argument named 'foo'");
}

#[test]
fn bad_enum_value() {
    let e = error("admin", "{ article(where: {status: {_eq: gone}}) { id } }");
    assert_eq!(
        e.message,
        "expected one of the values ['draft', 'published'] for type 'article_status_enum', but found 'gone'"
    );
    assert_eq!(e.path, "$.selectionSet.article.args.where.status._eq");
}

#[test]
fn aggregate_not_allowed_for_role() {
    let e = error("user", "{ article_aggregate { aggregate { count } } }");
    assert_eq!(
        e.message,
        "field 'article_aggregate' not found in type: 'query_root'"
    );
}

#[test]
fn syntax_error() {
    let e = error("admin", "{ author { id ");
    assert_eq!(e.path, "$.query");
    assert_eq!(e.message, "not a valid graphql query");
}

#[test]
fn spec_rules_still_apply() {
    // Undefined variable: not one of Hasura's own checks, caught by apollo-compiler.
    let e = error("admin", "{ author(limit: $n) { id } }");
    assert_eq!(e.code, "validation-failed");
}

#[test]
fn normalizes_fragments_aliases_and_variables() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "admin", &fixture::options(&model)).unwrap();
    let query = r#"
        query Q($n: Int!, $skip: Boolean!) {
          writers: author(limit: $n, where: {name: {_eq: "A"}}) { ...F  bio @skip(if: $skip) }
        }
        fragment F on author { id articles(order_by: {id: desc}) { title } }
    "#;
    let op = parse_and_validate(
        &schema,
        query,
        Some("Q"),
        Some(&json!({"n": 2, "skip": true})),
    )
    .unwrap();
    assert_eq!(op.kind, OperationKind::Query);
    let root = &op.root_fields[0];
    assert_eq!(
        (root.alias.as_str(), root.name.as_str()),
        ("writers", "author")
    );
    assert_eq!(root.arguments["limit"], json!(2));
    assert_eq!(root.arguments["where"], json!({"name": {"_eq": "A"}}));
    let keys: Vec<_> = root.selection.iter().map(|f| f.alias.as_str()).collect();
    assert_eq!(keys, ["id", "articles"]);
    assert_eq!(
        root.selection[1].arguments["order_by"],
        json!({"id": "desc"})
    );
    assert_eq!(root.selection[1].type_name, "article");
}

#[test]
fn missing_variable_is_rejected() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "admin", &fixture::options(&model)).unwrap();
    let errors = parse_and_validate(
        &schema,
        "query($n: Int!) { author(limit: $n) { id } }",
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(errors[0].code, "validation-failed");
}

#[test]
fn unused_variable_is_accepted_as_in_hasura() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "admin", &fixture::options(&model)).unwrap();
    let op = parse_and_validate(
        &schema,
        "query($unused: String, $n: Int) { author(limit: $n) { id } }",
        None,
        Some(&json!({"n": 1})),
    )
    .unwrap();
    assert_eq!(op.root_fields[0].arguments["limit"], json!(1));
    // Any other spec error next to an unused variable is still reported.
    let e = error(
        "admin",
        "query($unused: String) { author(limit: $n) { id } }",
    );
    assert_eq!(e.code, "validation-failed");
    assert!(e.message.contains("$n"), "{}", e.message);
}
