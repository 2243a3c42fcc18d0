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
    assert_eq!(
        result["data"]["__schema"]["mutationType"]["name"],
        "mutation_root"
    );
    let on_conflict = types
        .iter()
        .find(|t| t["name"] == "article_on_conflict")
        .unwrap();
    let update_columns = on_conflict["inputFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "update_columns")
        .unwrap();
    assert_eq!(update_columns["defaultValue"], "[]");
}

/// The shape of `<t>_insert_input` as Hasura's introspection shows it: every column nullable,
/// relationships as nested inserts, fields sorted by name.
#[test]
fn insert_input_shape() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "user", &fixture::options(&model)).unwrap();
    let query = r#"{ __type(name: "article_insert_input") {
        kind name description
        inputFields { name description defaultValue type { kind name ofType { kind name ofType { kind name } } } }
    } }"#;
    let op = parse_and_validate(&schema, query, None, None).unwrap();
    let scalar = |name: &str| json!({"kind": "SCALAR", "name": name, "ofType": null});
    let field = |name: &str, ty: serde_json::Value| json!({"name": name, "description": null, "defaultValue": null, "type": ty});
    assert_eq!(
        introspect(&schema, &op),
        json!({"data": {"__type": {
            "kind": "INPUT_OBJECT",
            "name": "article_insert_input",
            "description": "input type for inserting data into table \"article\"",
            "inputFields": [
                field("author", json!({"kind": "INPUT_OBJECT", "name": "author_obj_rel_insert_input", "ofType": null})),
                field("id", scalar("Int")),
                field("meta", scalar("jsonb")),
                field("status", json!({"kind": "ENUM", "name": "article_status_enum", "ofType": null})),
                field("title", scalar("String")),
            ]
        }}})
    );
}

/// A relation the role cannot insert into has no insert input (Hasura's
/// `track_untrack_materialized_view.yaml` asks for `articles_insert_input` and gets null).
#[test]
fn no_insert_input_without_insert() {
    let model = fixture::model();
    let schema = schema_for_role(&model, "user", &fixture::options(&model)).unwrap();
    let query = r#"query checkMutation { __type(name: "article_status_insert_input") { name } }"#;
    let op = parse_and_validate(&schema, query, None, None).unwrap();
    assert_eq!(introspect(&schema, &op), json!({"data": {"__type": null}}));
}
