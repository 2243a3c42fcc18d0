//! A project as the Hasura CLI writes it (two databases, `!include`d tables and functions, an
//! action split into actions.graphql + actions.yaml, an older `up.yaml` migration, seeds):
//! read, applied to a real graft, and exported again with not one byte of difference.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

mod common;

use common::*;
use graft_cli::client::ServerClient;
use graft_cli::migrate::{self, ApplyOptions};
use graft_cli::project::Project;
use graft_cli::{metadata_dir, metadata_ops, seeds};
use serde_json::json;
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hasura_cli_project_round_trips_without_a_diff() {
    let cluster = cluster_with(&["fixture_default", "fixture_analytics"]).await;
    // SAFETY: the only test of this binary; set before the server (or any thread reading the
    // environment) starts.
    unsafe {
        std::env::set_var(
            "GRAFT_CLI_FIXTURE_ANALYTICS_URL",
            cluster.url("fixture_analytics"),
        );
    }
    let server = start_server(&cluster.url("fixture_default"), None).await;
    let client = ServerClient::new(&server.endpoint, None);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hasura_project");
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("hasura");
    copy_tree(&fixture, &root);
    let project = Project::open(&root).unwrap();

    // The directory reads into one document with both databases and their included objects.
    let metadata = metadata_dir::read_dir(&project.metadata_dir()).unwrap();
    assert_eq!(metadata["sources"].as_array().unwrap().len(), 2);
    assert_eq!(
        metadata["sources"][0]["tables"][1]["table"]["name"],
        "artist"
    );
    assert_eq!(metadata["inherited_roles"][0]["role_name"], "reader");

    // The metadata names the analytics database, so it goes first (inconsistent until the
    // tables exist), then both databases' migrations, then it must be consistent.
    metadata_ops::apply(&client, &project.metadata_dir(), true)
        .await
        .unwrap();
    for database in ["default", "analytics"] {
        let applied = migrate::apply(
            &client,
            &project.migrations_dir(),
            database,
            &ApplyOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(applied.len(), 1, "{database}");
    }
    let inconsistent = metadata_ops::reload(&client).await.unwrap();
    assert!(inconsistent.is_empty(), "{inconsistent:?}");
    let state = client
        .metadata("get_catalog_state", json!({}))
        .await
        .unwrap();
    assert_eq!(
        state["cli_state"]["migrations"],
        json!({"default": {"1700000000000": false}, "analytics": {"1700000000500": false}})
    );
    seeds::apply(&client, &project.seeds_dir(), "default", &[])
        .await
        .unwrap();
    let count = query(&client, "default", "SELECT count(*) FROM artist").await;
    assert_eq!(count, vec![json!(["2"])]);

    // Export into a fresh directory: byte-identical to what the Hasura CLI wrote.
    let exported = temp.path().join("exported");
    metadata_ops::export(&client, &exported).await.unwrap();
    let original = read_tree(&fixture.join("metadata"));
    let written = read_tree(&exported);
    let files: Vec<&String> = original.keys().collect();
    assert_eq!(files, written.keys().collect::<Vec<_>>());
    for (name, contents) in &original {
        assert_eq!(&written[name], contents, "{name} differs");
    }
    assert_eq!(
        metadata_ops::diff(&client, &project.metadata_dir())
            .await
            .unwrap(),
        ""
    );

    drop(server);
    cluster.stop().await.unwrap();
}
