#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Mutations validate against the role's `mutation_root`; the cases follow Hasura's
//! conformance suite (`graphql_mutation/**`) on the fixture's tables.

mod fixture;

use graft_gql::{
    GqlError, OperationKind, SchemaOptions, ValidOperation, parse_and_validate, schema_for_role,
};
use serde_json::{Value, json};

fn validate_with(
    role: &str,
    edit: impl FnOnce(&mut SchemaOptions),
    query: &str,
    variables: Option<Value>,
) -> Result<ValidOperation, Vec<GqlError>> {
    let model = fixture::model();
    let mut options = fixture::options(&model);
    edit(&mut options);
    let schema = schema_for_role(&model, role, &options).unwrap();
    parse_and_validate(&schema, query, None, variables.as_ref())
}

fn validate(role: &str, query: &str) -> Result<ValidOperation, Vec<GqlError>> {
    validate_with(role, |_| {}, query, None)
}

fn error(role: &str, query: &str) -> GqlError {
    let mut errors = validate(role, query).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

#[test]
fn insert_with_nested_object_and_upsert() {
    // insert/nested/articles_with_author.yaml, with an upsert on the nested author.
    let op = validate(
        "admin",
        r#"mutation insert_article {
          insert_article(objects: [{
            title: "Article 1", is_published: false,
            author: {data: {name: "Author 1"},
                     on_conflict: {constraint: author_pkey, update_columns: [name]}}
          }]) {
            affected_rows
            returning { id title author { id name } }
          }
        }"#,
    )
    .unwrap();
    assert_eq!(op.kind, OperationKind::Mutation);
    let root = &op.root_fields[0];
    assert_eq!(root.name, "insert_article");
    assert_eq!(root.parent_type, "mutation_root");
    assert_eq!(root.type_name, "article_mutation_response");
    assert_eq!(
        root.arguments["objects"][0]["author"]["on_conflict"],
        json!({"constraint": "author_pkey", "update_columns": ["name"]})
    );
}

#[test]
fn insert_one_update_by_pk_delete_by_pk_and_update_many() {
    let op = validate(
        "admin",
        r#"mutation {
          a: insert_author_one(object: {name: "A"}) { id }
          b: update_article_by_pk(pk_columns: {id: 1}, _inc: {rating: 1}, _append: {meta: {x: 1}}) { id }
          c: delete_author_by_pk(id: 3) { id }
          d: update_article_many(updates: [{where: {id: {_eq: 1}}, _set: {title: "t"}}]) { affected_rows }
          e: delete_article(where: {author_id: {_eq: 1}}) { affected_rows }
        }"#,
    )
    .unwrap();
    let names: Vec<&str> = op.root_fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "insert_author_one",
            "update_article_by_pk",
            "delete_author_by_pk",
            "update_article_many",
            "delete_article"
        ]
    );
}

#[test]
fn variables_of_generated_input_types() {
    // graphql_validation/variable_type_mismatch.yaml uses `author_insert_input!`.
    let op = validate_with(
        "admin",
        |_| {},
        r#"mutation insert_author($author: author_insert_input!) {
          insert_author_one(object: $author) { id }
        }"#,
        Some(json!({"author": {"name": "default"}})),
    )
    .unwrap();
    assert_eq!(
        op.root_fields[0].arguments["object"],
        json!({"name": "default"})
    );

    let errors = validate_with(
        "admin",
        |_| {},
        r#"mutation insert_author($author: author_insert_input) {
          insert_author_one(object: $author) { id }
        }"#,
        None,
    )
    .unwrap_err();
    assert_eq!(errors[0].code, "validation-failed");
}

#[test]
fn role_without_mutations() {
    // insert/permissions/address_permission_error.yaml
    let e = error(
        "nobody",
        r#"mutation { insert_author(objects: [{name: "x"}]) { affected_rows } }"#,
    );
    assert_eq!(e.message, "no mutations exist");
    assert_eq!(e.path, "$");
}

#[test]
fn backend_only_permission_is_not_found_in_the_frontend_scenario() {
    // insert/permissions/user_with_no_backend_privilege.yaml, with the fixture's backend-only
    // delete permission.
    let query = "mutation { delete_article(where: {}) { affected_rows } }";
    let e = error("user", query);
    assert_eq!(
        e.message,
        "field 'delete_article' not found in type: 'mutation_root'"
    );
    assert_eq!(e.path, "$.selectionSet.delete_article");
    validate_with(
        "user",
        |o| o.use_backend_only_permissions = true,
        query,
        None,
    )
    .unwrap();
}

#[test]
fn preset_column_is_not_an_input() {
    let e = error(
        "user",
        r#"mutation { insert_article(objects: [{title: "t", author_id: 2}]) { affected_rows } }"#,
    );
    assert_eq!(
        e.message,
        "field 'author_id' not found in type: 'article_insert_input'"
    );
    assert_eq!(
        e.path,
        "$.selectionSet.insert_article.args.objects[0].author_id"
    );
}

#[test]
fn unexpected_on_conflict_field() {
    // insert/onconflict/article_unexpected_on_conflict_constraint_error.yaml
    let e = error(
        "admin",
        r#"mutation insert_article {
          insert_article(objects: [{title: "t", id: 1}],
                         on_conflict: {action: update, constraint: random_constraint}) {
            returning { title }
          }
        }"#,
    );
    assert_eq!(
        e.message,
        "field 'action' not found in type: 'article_on_conflict'"
    );
    assert_eq!(
        e.path,
        "$.selectionSet.insert_article.args.on_conflict.action"
    );
}

#[test]
fn unknown_constraint() {
    let e = error(
        "admin",
        r#"mutation { insert_article(objects: [{id: 1}], on_conflict: {constraint: random_constraint}) { affected_rows } }"#,
    );
    assert_eq!(
        e.message,
        "expected one of the values ['article_pkey'] for type 'article_constraint', but found 'random_constraint'"
    );
    assert_eq!(
        e.path,
        "$.selectionSet.insert_article.args.on_conflict.constraint"
    );
}

#[test]
fn placeholder_update_column() {
    // insert/permissions/article_on_conflict_restricted_role.yaml: `update_columns: []` is an
    // upsert that does nothing; the placeholder itself is refused.
    let ok = r#"mutation { insert_author(objects: [{name: "n"}], on_conflict: {constraint: author_pkey, update_columns: []}) { affected_rows } }"#;
    validate("user", ok).unwrap();
    let e = error(
        "user",
        r#"mutation { insert_author(objects: [{name: "n"}], on_conflict: {constraint: author_pkey, update_columns: [_PLACEHOLDER]}) { affected_rows } }"#,
    );
    assert_eq!(e.message, "erroneous column name");
    assert_eq!(e.path, "$.selectionSet.insert_author.args.on_conflict");
}

#[test]
fn column_in_multiple_operators() {
    // update/basic/article_column_multiple_operators.yaml
    let e = error(
        "admin",
        r#"mutation {
          update_article(_set: {id: 1, author_id: 1}, _inc: {id: 2, author_id: 2},
                         where: {author_id: {_eq: 1}}) { affected_rows }
        }"#,
    );
    assert_eq!(
        e.message,
        "Column found in multiple operators: ['id', 'author_id']."
    );
    assert_eq!(e.path, "$.selectionSet.update_article.args");
}

#[test]
fn column_in_multiple_operators_through_variables() {
    let errors = validate_with(
        "admin",
        |_| {},
        r#"mutation($set: article_set_input, $inc: article_inc_input) {
          update_article(_set: $set, _inc: $inc, where: {}) { affected_rows }
        }"#,
        Some(json!({"set": {"rating": 1}, "inc": {"rating": 2}})),
    )
    .unwrap_err();
    assert_eq!(
        errors[0].message,
        "Column found in multiple operators: ['rating']."
    );
}

#[test]
fn update_column_outside_the_role_permission() {
    let e = error(
        "user",
        r#"mutation { update_article(_set: {id: 5}, where: {}) { affected_rows } }"#,
    );
    assert_eq!(
        e.message,
        "field 'id' not found in type: 'article_set_input'"
    );
}

#[test]
fn returning_needs_select_permission() {
    let e = error(
        "writer",
        r#"mutation { insert_article(objects: [{title: "t"}]) { affected_rows returning { id } } }"#,
    );
    assert_eq!(
        e.message,
        "field 'returning' not found in type: 'article_mutation_response'"
    );
    assert_eq!(
        e.path,
        "$.selectionSet.insert_article.selectionSet.returning"
    );
}
