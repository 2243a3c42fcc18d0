//! Bad input is refused with a clear message and nothing half-done.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use graft_cli::client::ServerClient;
use graft_cli::metadata_dir::MetadataDirError;
use graft_cli::metadata_ops::{self, MetadataOpsError};
use graft_cli::migrate::{self, ApplyOptions, MigrateError};
use graft_cli::migrations;
use graft_cli::project::Project;
use graft_cli::squash::{self, SquashError, SquashRequest};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_migration_is_rolled_back_and_not_recorded() {
    let cluster = cluster_with(&["bad_sql"]).await;
    let server = start_server(&cluster.url("bad_sql"), None).await;
    let client = ServerClient::new(&server.endpoint, None);
    let temp = tempfile::tempdir().unwrap();
    let project = Project::init(&temp.path().join("p"), Some(&server.endpoint)).unwrap();
    let dir = project.migrations_dir();
    let good = migrations::create(
        &dir,
        "default",
        "good",
        "CREATE TABLE good (id int);",
        "DROP TABLE good;",
        &[],
    )
    .unwrap();
    let bad = migrations::create(
        &dir,
        "default",
        "bad",
        "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;",
        "DROP TABLE half;",
        &[],
    )
    .unwrap();
    let error = migrate::apply(&client, &dir, "default", &ApplyOptions::default())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, MigrateError::Failed { version, .. } if version == bad.version));
    assert!(message.contains("no_such_table"), "{message}");
    assert!(message.contains("was not recorded"), "{message}");
    // The first migration stays applied; the failing one left no table and no record.
    let status = migrate::status(&client, &dir, "default").await.unwrap();
    let row = |v: u64| status.iter().find(|r| r.version == v).unwrap().clone();
    assert!(row(good.version).in_database && !row(good.version).dirty);
    assert!(!row(bad.version).in_database && !row(bad.version).dirty);
    let tables = query(
        &client,
        "default",
        "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await;
    assert_eq!(tables, vec![json!(["good"])]);
    // Once fixed, the same apply goes through.
    std::fs::write(bad.dir.join("up.sql"), "CREATE TABLE half (id int);").unwrap();
    let applied = migrate::apply(&client, &dir, "default", &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(applied.len(), 1);
    drop(server);
    cluster.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_metadata_directory_is_refused_before_anything_is_applied() {
    let cluster = cluster_with(&["bad_meta"]).await;
    let server = start_server(&cluster.url("bad_meta"), None).await;
    let client = ServerClient::new(&server.endpoint, None);
    client
        .run_sql(
            "default",
            "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);",
        )
        .await
        .unwrap();
    metadata(&client, "pg_track_table", track("a")).await;
    let temp = tempfile::tempdir().unwrap();
    let project = Project::init(&temp.path().join("p"), Some(&server.endpoint)).unwrap();
    let dir = project.metadata_dir();
    metadata_ops::export(&client, &dir).await.unwrap();
    let before = client.export_metadata().await.unwrap();

    // The files add table b (a valid change) but one include points nowhere.
    std::fs::write(
        dir.join("databases/default/tables/tables.yaml"),
        "- \"!include public_a.yaml\"\n- \"!include public_b.yaml\"\n- \"!include public_missing.yaml\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("databases/default/tables/public_b.yaml"),
        "table:\n  name: b\n  schema: public\n",
    )
    .unwrap();
    let error = metadata_ops::apply(&client, &dir, true).await.unwrap_err();
    assert!(matches!(
        error,
        MetadataOpsError::Dir(MetadataDirError::BadInclude { .. })
    ));
    assert!(error.to_string().contains("public_missing.yaml"), "{error}");
    assert_eq!(client.export_metadata().await.unwrap(), before);

    // An unknown key in a table file.
    std::fs::write(
        dir.join("databases/default/tables/tables.yaml"),
        "- \"!include public_a.yaml\"\n- \"!include public_b.yaml\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("databases/default/tables/public_b.yaml"),
        "table:\n  name: b\n  schema: public\nselect_permision: []\n",
    )
    .unwrap();
    let error = metadata_ops::apply(&client, &dir, true).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("unknown key \"select_permision\""),
        "{error}"
    );
    assert_eq!(client.export_metadata().await.unwrap(), before);

    // YAML that does not parse names the file.
    std::fs::write(
        dir.join("databases/default/tables/public_b.yaml"),
        "table: [unclosed\n",
    )
    .unwrap();
    let error = metadata_ops::apply(&client, &dir, true).await.unwrap_err();
    assert!(error.to_string().contains("public_b.yaml"), "{error}");
    assert_eq!(client.export_metadata().await.unwrap(), before);

    // Fixed, it applies.
    std::fs::write(
        dir.join("databases/default/tables/public_b.yaml"),
        "table:\n  name: b\n  schema: public\n",
    )
    .unwrap();
    metadata_ops::apply(&client, &dir, false).await.unwrap();
    let after = client.export_metadata().await.unwrap();
    assert_eq!(after["sources"][0]["tables"].as_array().unwrap().len(), 2);
    drop(server);
    cluster.stop().await.unwrap();
}

/// Squashes that would change the schema are refused and leave the folders as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squash_that_changes_the_schema_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    // A session setting left behind by one migration changes where the next one's table goes
    // once both run in one session.
    let first = migrations::create(
        &dir,
        "default",
        "other_schema",
        "CREATE SCHEMA other;\nSET search_path TO other;",
        "DROP SCHEMA other;",
        &[],
    )
    .unwrap();
    migrations::create(
        &dir,
        "default",
        "table_t",
        "CREATE TABLE t (id int);",
        "DROP TABLE t;",
        &[],
    )
    .unwrap();
    let request = SquashRequest {
        migrations_dir: &dir,
        database: "default",
        from: first.version,
        name: "squashed",
        delete_source: true,
    };
    let error = squash::squash(None, &request).await.unwrap_err();
    assert!(
        matches!(error, SquashError::SchemaDiffers { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("CREATE TABLE"), "{error}");
    assert_eq!(migrations::list(&dir, "default").unwrap().len(), 2);

    // Statements without a closing semicolon run alone but not concatenated.
    let dir = temp.path().join("migrations2");
    let first = migrations::create(
        &dir,
        "default",
        "a",
        "CREATE TABLE a (id int)",
        "DROP TABLE a",
        &[],
    )
    .unwrap();
    migrations::create(
        &dir,
        "default",
        "b",
        "CREATE TABLE b (id int)",
        "DROP TABLE b",
        &[],
    )
    .unwrap();
    let request = SquashRequest {
        migrations_dir: &dir,
        database: "default",
        from: first.version,
        name: "squashed",
        delete_source: true,
    };
    let error = squash::squash(None, &request).await.unwrap_err();
    assert!(
        matches!(&error, SquashError::Verify { step, .. } if step == "the squashed up.sql"),
        "{error}"
    );
    assert_eq!(migrations::list(&dir, "default").unwrap().len(), 2);
}
