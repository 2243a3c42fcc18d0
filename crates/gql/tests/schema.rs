#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Snapshots of the generated SDL per role.

mod fixture;

use graft_gql::{schema_for_role, sdl_for_role};

#[test]
fn admin_sdl() {
    let model = fixture::model();
    let options = fixture::options(&model);
    schema_for_role(&model, "admin", &options).unwrap();
    insta::assert_snapshot!(sdl_for_role(&model, "admin", &options).unwrap());
}

#[test]
fn user_sdl() {
    let model = fixture::model();
    let options = fixture::options(&model);
    schema_for_role(&model, "user", &options).unwrap();
    insta::assert_snapshot!(sdl_for_role(&model, "user", &options).unwrap());
}

#[test]
fn role_without_permissions_gets_the_placeholder() {
    let model = fixture::model();
    let options = fixture::options(&model);
    let sdl = sdl_for_role(&model, "nobody", &options).unwrap();
    assert!(sdl.contains("no_queries_available: String!"), "{sdl}");
    schema_for_role(&model, "nobody", &options).unwrap();
}

mod mutations {
    use super::fixture;
    use graft_gql::apollo_compiler::Schema;
    use graft_gql::apollo_compiler::schema::ExtendedType;
    use graft_gql::apollo_compiler::validation::Valid;
    use graft_gql::{Mutability, SchemaOptions, schema_for_role};
    use graft_metadata::QualifiedTable;
    use serde_json::json;

    fn schema(role: &str, edit: impl FnOnce(&mut SchemaOptions)) -> Valid<Schema> {
        let model = fixture::model();
        let mut options = fixture::options(&model);
        edit(&mut options);
        schema_for_role(&model, role, &options).unwrap()
    }

    fn mutation_fields(schema: &Schema) -> Vec<String> {
        let Some(ExtendedType::Object(root)) = schema.types.get("mutation_root") else {
            return Vec::new();
        };
        let mut names: Vec<String> = root.fields.keys().map(|n| n.to_string()).collect();
        names.sort();
        names
    }

    fn input_fields(schema: &Schema, type_name: &str) -> Vec<String> {
        match schema.types.get(type_name) {
            Some(ExtendedType::InputObject(input)) => {
                input.fields.keys().map(|n| n.to_string()).collect()
            }
            other => panic!("{type_name} is not an input type: {other:?}"),
        }
    }

    fn object_fields(schema: &Schema, type_name: &str) -> Vec<String> {
        match schema.types.get(type_name) {
            Some(ExtendedType::Object(object)) => {
                object.fields.keys().map(|n| n.to_string()).collect()
            }
            other => panic!("{type_name} is not an object type: {other:?}"),
        }
    }

    fn enum_values(schema: &Schema, type_name: &str) -> Vec<String> {
        match schema.types.get(type_name) {
            Some(ExtendedType::Enum(e)) => e.values.keys().map(|n| n.to_string()).collect(),
            other => panic!("{type_name} is not an enum: {other:?}"),
        }
    }

    #[test]
    fn admin_gets_every_mutation_of_every_table() {
        let schema = schema("admin", |_| {});
        let fields = mutation_fields(&schema);
        for table in ["article", "article_status", "author"] {
            for name in [
                format!("insert_{table}"),
                format!("insert_{table}_one"),
                format!("update_{table}"),
                format!("update_{table}_by_pk"),
                format!("update_{table}_many"),
                format!("delete_{table}"),
                format!("delete_{table}_by_pk"),
            ] {
                assert!(fields.contains(&name), "{name} missing from {fields:?}");
            }
        }
        assert_eq!(fields.len(), 21);
    }

    #[test]
    fn role_fields_follow_its_permissions_and_hide_backend_only_ones() {
        let schema = schema("user", |_| {});
        assert_eq!(
            mutation_fields(&schema),
            [
                "insert_article",
                "insert_article_one",
                "insert_author",
                "insert_author_one",
                "update_article",
                "update_article_by_pk",
                "update_article_many",
            ]
        );
        // The preset `author_id` is not an input; the object relationship is.
        assert_eq!(
            input_fields(&schema, "article_insert_input"),
            ["author", "id", "meta", "status", "title"]
        );
        // No update permission on author: the upsert enum holds only the placeholder.
        assert_eq!(
            enum_values(&schema, "author_update_column"),
            ["_PLACEHOLDER"]
        );
    }

    #[test]
    fn backend_scenario_shows_backend_only_permissions() {
        let schema = schema("user", |o| o.use_backend_only_permissions = true);
        let fields = mutation_fields(&schema);
        assert!(fields.contains(&"delete_article".to_string()), "{fields:?}");
        assert!(
            fields.contains(&"delete_article_by_pk".to_string()),
            "{fields:?}"
        );
    }

    #[test]
    fn without_select_permission_nothing_returns_rows() {
        let schema = schema("writer", |_| {});
        assert_eq!(
            mutation_fields(&schema),
            ["delete_article", "insert_article"]
        );
        assert_eq!(
            object_fields(&schema, "article_mutation_response"),
            ["affected_rows"]
        );
        assert_eq!(
            input_fields(&schema, "article_bool_exp"),
            ["_and", "_not", "_or"]
        );
        assert_eq!(
            input_fields(&schema, "article_insert_input"),
            ["rating", "title"]
        );
        assert!(schema.types.get("article").is_none());
        assert!(schema.types.get("query_root").is_some());
    }

    #[test]
    fn non_insertable_view_keeps_only_updates() {
        let schema = schema("admin", |o| {
            o.mutability.insert(
                QualifiedTable::new("public", "article"),
                Mutability {
                    insertable: false,
                    updatable: true,
                    deletable: true,
                },
            );
        });
        let fields = mutation_fields(&schema);
        assert!(!fields.iter().any(|f| f.starts_with("insert_article")
            && !f.starts_with("insert_article_status")));
        // Hasura gates delete on insertability too.
        assert!(!fields.contains(&"delete_article".to_string()));
        assert!(fields.contains(&"update_article".to_string()));
    }

    #[test]
    fn read_only_relation_has_no_mutation_types() {
        let schema = schema("admin", |o| {
            for table in ["article", "author", "article_status"] {
                o.mutability.insert(
                    QualifiedTable::new("public", table),
                    Mutability {
                        insertable: false,
                        updatable: false,
                        deletable: false,
                    },
                );
            }
        });
        assert!(schema.schema_definition.mutation.is_none());
        assert!(schema.types.get("article_insert_input").is_none());
    }

    #[test]
    fn custom_root_fields_and_custom_table_name() {
        let model = fixture::model_with(|metadata| {
            metadata["sources"][0]["tables"][1]["configuration"] = json!({
                "custom_name": "post",
                "custom_root_fields": {
                    "insert": "add_posts",
                    "insert_one": {"name": "add_post", "comment": "adds one post"},
                    "update_by_pk": "edit_post",
                    "update_many": "edit_posts_in_batch",
                    "delete": "remove_posts",
                    "delete_by_pk": "remove_post"
                }
            });
        });
        let options = fixture::options(&model);
        let schema = schema_for_role(&model, "admin", &options).unwrap();
        let fields = mutation_fields(&schema);
        for name in [
            "add_posts",
            "add_post",
            "update_post",
            "edit_post",
            "edit_posts_in_batch",
            "remove_posts",
            "remove_post",
        ] {
            assert!(fields.contains(&name.to_string()), "{name}: {fields:?}");
        }
        let add_post = schema.type_field("mutation_root", "add_post").unwrap();
        assert_eq!(
            add_post.description.as_deref().map(|d| d.to_string()),
            Some("adds one post".to_string())
        );
        assert_eq!(
            add_post.argument_by_name("object").unwrap().ty.to_string(),
            "post_insert_input!"
        );
        let remove = schema.type_field("mutation_root", "remove_posts").unwrap();
        assert_eq!(
            remove.description.as_deref().map(|d| d.to_string()),
            Some("delete data from the table: \"article\"".to_string())
        );
        assert_eq!(enum_values(&schema, "post_constraint"), ["article_pkey"]);
    }
}
