use super::*;

fn sample() -> Value {
    json!({
        "version": 3,
        "sources": [{
            "name": "default",
            "kind": "postgres",
            "tables": [
                {"table": {"schema": "public", "name": "t1"},
                 "select_permissions": [{"role": "user", "permission": {
                    "columns": ["id"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}}}]},
                {"table": {"schema": "public", "name": "t2"}}
            ],
            "functions": [{"function": {"schema": "public", "name": "get_t1"}}],
            "configuration": {"connection_info": {
                "database_url": {"from_env": "HASURA_GRAPHQL_DATABASE_URL"},
                "isolation_level": "read-committed", "use_prepared_statements": true}}
        }],
        "inherited_roles": [{"role_name": "both", "role_set": ["user", "editor"]}]
    })
}

#[test]
fn databases_yaml_is_laid_out_like_the_hasura_cli() {
    let files = render(&sample()).unwrap();
    assert_eq!(
        files["databases/databases.yaml"],
        "- name: default
  kind: postgres
  configuration:
    connection_info:
      database_url:
        from_env: HASURA_GRAPHQL_DATABASE_URL
      isolation_level: read-committed
      use_prepared_statements: true
  tables: \"!include default/tables/tables.yaml\"
  functions: \"!include default/functions/functions.yaml\"
"
    );
    assert_eq!(
        files["databases/default/tables/tables.yaml"],
        "- \"!include public_t1.yaml\"\n- \"!include public_t2.yaml\"\n"
    );
    assert_eq!(
        files["databases/default/tables/public_t2.yaml"],
        "table:\n  schema: public\n  name: t2\n"
    );
    assert_eq!(files["version.yaml"], "version: 3\n");
    assert_eq!(files["cron_triggers.yaml"], "[]\n");
    assert_eq!(files["network.yaml"], "{}\n");
    assert_eq!(
        files["actions.yaml"],
        "actions: []\ncustom_types:\n  enums: []\n  input_objects: []\n  objects: []\n  scalars: []\n"
    );
}

#[test]
fn round_trip_through_the_directory() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("metadata");
    write_dir(&dir, &render(&sample()).unwrap()).unwrap();
    assert_eq!(read_dir(&dir).unwrap(), normalize(&sample()));
    // A second export over the first replaces it and leaves no staging directories behind.
    write_dir(&dir, &render(&sample()).unwrap()).unwrap();
    let entries: Vec<_> = std::fs::read_dir(temp.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn include_as_a_yaml_tag_and_non_yaml_files() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("databases/db/tables")).unwrap();
    std::fs::write(dir.join("version.yaml"), "version: 3\n").unwrap();
    std::fs::write(
        dir.join("databases/databases.yaml"),
        "- name: db\n  kind: postgres\n  configuration: {}\n  tables: !include db/tables/tables.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("databases/db/tables/tables.yaml"),
        "- !include public_a.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("databases/db/tables/public_a.yaml"),
        "table: {schema: public, name: a}\n",
    )
    .unwrap();
    std::fs::write(dir.join("query.graphql"), "query { a { id } }").unwrap();
    std::fs::write(
        dir.join("query_collections.yaml"),
        "- name: c\n  definition:\n    queries:\n      - name: q\n        query: !include query.graphql\n",
    )
    .unwrap();
    let metadata = read_dir(dir).unwrap();
    assert_eq!(
        metadata["sources"][0]["tables"],
        json!([{"table": {"schema": "public", "name": "a"}}])
    );
    assert_eq!(
        metadata["query_collections"][0]["definition"]["queries"][0]["query"],
        "query { a { id } }"
    );
}

#[test]
fn broken_include_and_unknown_keys_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("metadata");
    write_dir(&dir, &render(&sample()).unwrap()).unwrap();
    std::fs::remove_file(dir.join("databases/default/tables/public_t2.yaml")).unwrap();
    let error = read_dir(&dir).unwrap_err().to_string();
    assert!(
        error.contains("broken !include \"public_t2.yaml\""),
        "{error}"
    );

    write_dir(&dir, &render(&sample()).unwrap()).unwrap();
    std::fs::write(
        dir.join("databases/default/tables/public_t2.yaml"),
        "table:\n  schema: public\n  name: t2\nselect_permission: []\n",
    )
    .unwrap();
    let error = read_dir(&dir).unwrap_err().to_string();
    assert!(
        error.contains("unknown key \"select_permission\""),
        "{error}"
    );
    assert!(error.contains("public.t2"), "{error}");
}

#[test]
fn unknown_top_level_key_is_not_silently_dropped_on_export() {
    let mut metadata = sample();
    metadata["something_new"] = json!([1]);
    assert!(matches!(
        render(&metadata),
        Err(MetadataDirError::UnmappedKey(k)) if k == "something_new"
    ));
}

fn with_actions() -> Value {
    let mut metadata = sample();
    metadata["actions"] = json!([
        {"name": "login", "definition": {
            "handler": "{{ACTIONS_BASE_URL}}/login", "kind": "synchronous",
            "forward_client_headers": true,
            "arguments": [{"name": "username", "type": "String!"}, {"name": "password", "type": "String!"}],
            "output_type": "LoginOutput", "type": "mutation"},
         "permissions": [{"role": "user"}], "comment": "Log in"},
        {"name": "me", "definition": {"handler": "http://h/me", "kind": "synchronous",
            "arguments": [], "output_type": "LoginOutput!", "type": "query"}}
    ]);
    metadata["custom_types"] = json!({
        "enums": [{"name": "Role", "values": [{"value": "ADMIN"}, {"value": "USER", "description": "a user"}]}],
        "input_objects": [{"name": "Creds", "fields": [{"name": "u", "type": "String"}]}],
        "objects": [{"name": "LoginOutput", "description": "the answer",
            "fields": [{"name": "accessToken", "type": "String!"}, {"name": "role", "type": "Role"}],
            "relationships": [{"name": "t1", "type": "object", "remote_table": {"name": "t1", "schema": "public"},
                "field_mapping": {"accessToken": "id"}, "source": "default"}]}],
        "scalars": [{"name": "Timestamp"}]
    });
    metadata
}

#[test]
fn actions_split_into_sdl_and_yaml_and_back() {
    let files = render(&with_actions()).unwrap();
    let sdl = &files["actions.graphql"];
    assert!(
        sdl.starts_with(
            "type Mutation {\n  login(\n    username: String!\n    password: String!\n  ): LoginOutput\n}\n\ntype Query {\n  me: LoginOutput!\n}\n"
        ),
        "{sdl}"
    );
    assert!(sdl.contains("scalar Timestamp\n"), "{sdl}");
    assert!(
        sdl.contains("enum Role {\n  ADMIN\n  \"\"\"a user\"\"\"\n  USER\n}\n"),
        "{sdl}"
    );
    let yaml = &files["actions.yaml"];
    assert!(!yaml.contains("output_type"), "{yaml}");
    assert!(
        yaml.contains("  - name: LoginOutput\n      description: the answer\n      relationships:"),
        "{yaml}"
    );

    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("metadata");
    write_dir(&dir, &files).unwrap();
    assert_eq!(read_dir(&dir).unwrap(), normalize(&with_actions()));
    assert_eq!(render(&read_dir(&dir).unwrap()).unwrap(), files);
}

#[test]
fn actions_yaml_naming_what_the_sdl_lacks_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("metadata");
    write_dir(&dir, &render(&with_actions()).unwrap()).unwrap();
    std::fs::write(
        dir.join("actions.graphql"),
        "type Query {\n  me: LoginOutput!\n}\n",
    )
    .unwrap();
    let error = read_dir(&dir).unwrap_err().to_string();
    assert!(error.contains("action \"login\""), "{error}");
    std::fs::write(dir.join("actions.graphql"), "type Query {\n  me(: X\n}\n").unwrap();
    let error = read_dir(&dir).unwrap_err().to_string();
    assert!(error.contains("actions.graphql"), "{error}");
}
