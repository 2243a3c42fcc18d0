#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Introspection answered from the role's schema.

mod fixture;

use graft_gql::{introspect, is_introspection_only, parse_and_validate, schema_for_role};
use serde_json::json;

#[test]
fn query_type_kind() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "admin", &fixture::options(&model)).unwrap();
    let op = parse_and_validate(
        &schema,
        "query foo { __schema { queryType { kind } } }",
        None,
        None,
    )
    .unwrap();
    assert!(is_introspection_only(&op));
    assert_eq!(
        introspect(&schema, &op),
        json!({"data": {"__schema": {"queryType": {"kind": "OBJECT"}}}})
    );
}

#[test]
fn type_fields_follow_the_role() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "user", &fixture::options(&model)).unwrap();
    let query = r#"{ __type(name: "author") { fields { name type { kind } } } }"#;
    let op = parse_and_validate(&schema, query, None, None).unwrap();
    assert_eq!(
        introspect(&schema, &op),
        json!({"data": {"__type": {"fields": [
            {"name": "articles", "type": {"kind": "NON_NULL"}},
            {"name": "id", "type": {"kind": "NON_NULL"}},
            {"name": "name", "type": {"kind": "NON_NULL"}},
        ]}}})
    );
}

#[test]
fn full_introspection_query_runs() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "admin", &fixture::options(&model)).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/introspection_query.graphql"
    ))
    .unwrap();
    let op = parse_and_validate(&schema, &text, None, None).unwrap();
    let result = introspect(&schema, &op);
    let types = result["data"]["__schema"]["types"].as_array().unwrap();
    let article = types.iter().find(|t| t["name"] == "article").unwrap();
    assert_eq!(
        article["description"],
        "columns and relationships of \"article\""
    );
    assert_eq!(
        result["data"]["__schema"]["queryType"]["name"],
        "query_root"
    );
    assert!(result["data"]["__schema"]["mutationType"].is_null());
}
