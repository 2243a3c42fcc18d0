use super::*;
use serde_json::json;

#[test]
fn bare_table_name_means_public_schema() {
    let t: QualifiedTable = serde_json::from_value(json!("author")).unwrap();
    assert_eq!(t, QualifiedTable::new("public", "author"));
    let t: QualifiedTable = serde_json::from_value(json!({"name": "a"})).unwrap();
    assert_eq!(t.schema, "public");
    assert!(serde_json::from_value::<QualifiedTable>(json!(3)).is_err());
}

#[test]
fn v3_document_round_trips_unknown_keys() {
    let doc = json!({
        "version": 3,
        "sources": [{
            "name": "default",
            "kind": "postgres",
            "tables": [{
                "table": {"schema": "public", "name": "article"},
                "object_relationships": [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}],
                "select_permissions": [{"role": "user", "permission": {"columns": "*", "filter": {"id": {"_eq": "X-Hasura-User-Id"}}}}],
                "some_future_key": [1, 2]
            }],
            "configuration": {"connection_info": {"database_url": "postgres://x"}}
        }],
        "actions": [{"name": "a", "definition": {"output_type": "T", "handler": "http://h",
                                                 "some_future_key": true}}],
        "some_future_top_level_key": [{"name": "a"}]
    });
    let metadata = Metadata::from_json(doc.clone()).unwrap();
    assert_eq!(metadata.to_json(), doc);
}

#[test]
fn v2_document_becomes_default_source() {
    let doc = json!({"version": 2, "tables": [{"table": "author"}], "functions": [],
                     "actions": [{"name": "a", "definition": {"output_type": "T", "handler": "h"}}],
                     "custom_types": {"objects": [{"name": "T", "fields": [{"name": "id", "type": "Int"}]}]}});
    assert!(Metadata::from_json(json!({"version": 3})).is_err());
    let metadata = Metadata::from_json(doc).unwrap();
    assert_eq!(metadata.version, 3);
    assert_eq!(metadata.sources[0].name, DEFAULT_SOURCE);
    assert_eq!(metadata.sources[0].tables[0].table.name, "author");
    assert_eq!(metadata.actions[0].name, "a", "actions survive the upgrade");
    assert_eq!(metadata.custom_types.objects[0].name, "T");
}

#[test]
fn relationship_using_forms() {
    let r: Relationship<ObjectRelationshipUsing> = serde_json::from_value(json!(
        {"name": "a", "using": {"foreign_key_constraint_on": {"table": "b", "column": "x"}}}
    ))
    .unwrap();
    let ObjectRelationshipUsing::ForeignKeyConstraintOn(on) = r.using else {
        panic!("expected a foreign key")
    };
    let (table, columns) = on.parts();
    assert_eq!(table.unwrap().name, "b");
    assert_eq!(columns, vec!["x".to_string()]);
}
