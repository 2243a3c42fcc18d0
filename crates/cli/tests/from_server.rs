//! `migrate create --from-server`: the server's schema becomes the first migration, recorded as
//! applied where it came from, and it rebuilds the same schema on an empty database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use graft_cli::client::ServerClient;
use graft_cli::migrate::{self, ApplyOptions};
use graft_cli::project::Project;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_from_the_server_becomes_an_applied_migration() {
    let cluster = cluster_with(&["source_db", "empty_db"]).await;
    let server = start_server(&cluster.url("source_db"), None).await;
    let client = ServerClient::new(&server.endpoint, None);
    client
        .run_sql(
            "default",
            "CREATE TABLE things (id serial PRIMARY KEY, label text NOT NULL DEFAULT 'x');\
             CREATE INDEX things_label ON things (label);",
        )
        .await
        .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let project = Project::init(&temp.path().join("p"), Some(&server.endpoint)).unwrap();
    let dir = project.migrations_dir();
    let migration =
        migrate::create_from_server(&client, &dir, "default", "init", &["public".to_string()])
            .await
            .unwrap();
    let up = std::fs::read_to_string(migration.dir.join("up.sql")).unwrap();
    assert!(up.contains("CREATE TABLE public.things"), "{up}");
    assert!(!up.contains("hdb_catalog"), "{up}");
    let status = migrate::status(&client, &dir, "default").await.unwrap();
    assert!(status[0].in_database);

    // The dump rebuilds the schema on an empty database.
    let empty = start_server(&cluster.url("empty_db"), None).await;
    let empty_client = ServerClient::new(&empty.endpoint, None);
    let applied = migrate::apply(&empty_client, &dir, "default", &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        schema_dump(&cluster.url("source_db"), "public"),
        schema_dump(&cluster.url("empty_db"), "public")
    );

    // migrate delete: the folder and the record go; --server forgets only the record.
    let extra =
        graft_cli::migrations::create(&dir, "default", "extra", "SELECT 1;", "", &[]).unwrap();
    migrate::apply(&client, &dir, "default", &ApplyOptions::default())
        .await
        .unwrap();
    let deleted = migrate::delete(&client, &dir, "default", Some(extra.version), false)
        .await
        .unwrap();
    assert_eq!(deleted, vec![extra.version]);
    assert!(!extra.dir.exists());
    migrate::delete(&client, &dir, "default", Some(migration.version), true)
        .await
        .unwrap();
    assert!(migration.dir.exists());
    let status = migrate::status(&client, &dir, "default").await.unwrap();
    assert_eq!(status.len(), 1);
    assert!(status[0].in_source && !status[0].in_database);

    // Options that would redirect the dump are refused.
    let refused = client
        .post(
            "/v1alpha1/pg_dump",
            &json!({"opts": ["--file=/tmp/x"], "source": "default"}),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not allowed"), "{refused}");
    drop((server, empty));
    cluster.stop().await.unwrap();
}
