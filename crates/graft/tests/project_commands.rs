//! The project commands as a user runs them: the real `graft` binary, its exit codes and
//! messages (no server needed for these).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn graft(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(args)
        .current_dir(dir)
        .env_remove("HASURA_GRAPHQL_ENDPOINT")
        .env_remove("HASURA_GRAPHQL_ADMIN_SECRET")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn init_create_and_refusals() {
    let temp = tempfile::tempdir().unwrap();
    let out = graft(
        &["init", "proj", "--endpoint", "http://127.0.0.1:1"],
        temp.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let project = temp.path().join("proj");
    assert!(project.join("config.yaml").is_file());
    assert!(project.join("metadata/databases/databases.yaml").is_file());

    // A second init over the same directory is refused.
    let out = graft(&["init", "proj"], temp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already holds a project"));

    let out = graft(
        &[
            "migrate",
            "create",
            "add_users",
            "--up-sql",
            "CREATE TABLE users (id int);",
            "--down-sql",
            "DROP TABLE users;",
        ],
        &project,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db_dir = project.join("migrations/default");
    let folders: Vec<_> = std::fs::read_dir(&db_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1);
    assert_eq!(
        std::fs::read_to_string(folders[0].join("up.sql")).unwrap(),
        "CREATE TABLE users (id int);"
    );

    // An unreachable server: a clear error, exit 1, and the secret is never echoed.
    let out = graft(
        &["migrate", "status", "--admin-secret", "s3cr3t-value"],
        &project,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("could not reach the server at http://127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cr3t-value"), "{stderr}");

    // A broken include is refused while reading, before any request is made.
    std::fs::write(
        project.join("metadata/databases/databases.yaml"),
        "- name: default\n  kind: postgres\n  configuration: {}\n  tables: \"!include default/tables/tables.yaml\"\n",
    )
    .unwrap();
    let out = graft(&["metadata", "apply"], &project);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("broken !include \"default/tables/tables.yaml\""),
        "{stderr}"
    );

    // Outside a project.
    let out = graft(&["migrate", "status"], temp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("has no config.yaml"));
}

#[test]
fn project_help_hides_the_admin_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(["migrate", "apply", "--help"])
        .env("HASURA_GRAPHQL_ADMIN_SECRET", "visible-if-leaked")
        .output()
        .unwrap();
    let help = text(&out.stdout);
    assert!(help.contains("--admin-secret"));
    assert!(!help.contains("visible-if-leaked"), "{help}");
}
