//! The whole developer cycle against real graft servers on a real PostgreSQL: init, two
//! migrations, apply, status, metadata export, squash (verified), roll back one, seeds, and a
//! deploy of the project to a second, empty database that must end up identical.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use graft_cli::client::ServerClient;
use graft_cli::metadata_dir;
use graft_cli::metadata_ops;
use graft_cli::migrate::{self, ApplyOptions, Direction};
use graft_cli::migrations;
use graft_cli::project::Project;
use graft_cli::seeds;
use graft_cli::squash::{self, SquashRequest};
use graft_cli::state::CliState;
use graft_cli::workflow;
use serde_json::json;

const SECRET: &str = "cycle-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_migrate_export_squash_seed_deploy() {
    let cluster = cluster_with(&["app", "app_deployed"]).await;
    let server = start_server(&cluster.url("app"), Some(SECRET)).await;
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("hasura");

    // init
    let project = Project::init(&root, Some(&server.endpoint)).unwrap();
    assert!(root.join("metadata/version.yaml").is_file());
    assert!(root.join("migrations").is_dir() && root.join("seeds").is_dir());
    let client = ServerClient::new(&server.endpoint, Some(SECRET.to_string()));
    let migrations_dir = project.migrations_dir();

    // Without the secret the server refuses, and the error does not echo any secret.
    let anonymous = ServerClient::new(&server.endpoint, None);
    let refused = migrate::status(&anonymous, &migrations_dir, "default").await;
    assert!(refused.is_err());

    // two migrations, applied in order
    let authors = migrations::create(
        &migrations_dir,
        "default",
        "create_authors",
        "CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL);",
        "DROP TABLE authors;",
        &[],
    )
    .unwrap();
    let books = migrations::create(
        &migrations_dir,
        "default",
        "create_books",
        "CREATE TABLE books (id serial PRIMARY KEY, author_id int NOT NULL REFERENCES authors(id), title text NOT NULL);",
        "DROP TABLE books;",
        &[],
    )
    .unwrap();
    assert!(books.version > authors.version);
    let applied = migrate::apply(
        &client,
        &migrations_dir,
        "default",
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(applied.len(), 2);
    assert!(
        applied
            .iter()
            .all(|a| a.executed && a.direction == Direction::Up)
    );
    let status = migrate::status(&client, &migrations_dir, "default")
        .await
        .unwrap();
    assert_eq!(status.len(), 2);
    assert!(
        status
            .iter()
            .all(|r| r.in_source && r.in_database && !r.dirty)
    );
    // Recorded where the Hasura CLI reads it.
    let state = metadata(&client, "get_catalog_state", json!({})).await;
    assert_eq!(
        state["cli_state"]["migrations"]["default"][authors.version.to_string()],
        json!(false)
    );
    assert_eq!(state["cli_state"]["isStateCopyCompleted"], json!(true));
    // Nothing left to do the second time.
    let again = migrate::apply(
        &client,
        &migrations_dir,
        "default",
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert!(again.is_empty());

    // track the tables, then export: the files read back to exactly the server's metadata
    metadata(&client, "pg_track_table", track("authors")).await;
    metadata(&client, "pg_track_table", track("books")).await;
    metadata(
        &client,
        "pg_create_object_relationship",
        json!({"source": "default", "table": "books", "name": "author",
               "using": {"foreign_key_constraint_on": "author_id"}}),
    )
    .await;
    metadata(
        &client,
        "pg_create_select_permission",
        json!({"source": "default", "table": "books", "role": "user",
               "permission": {"columns": ["id", "title"], "filter": {"author_id": {"_eq": "X-Hasura-User-Id"}}}}),
    )
    .await;
    let metadata_dir = project.metadata_dir();
    metadata_ops::export(&client, &metadata_dir).await.unwrap();
    let server_metadata = client.export_metadata().await.unwrap();
    assert_eq!(
        metadata_dir::read_dir(&metadata_dir).unwrap(),
        metadata_dir::normalize(&server_metadata)
    );
    assert!(
        metadata_dir
            .join("databases/default/tables/public_books.yaml")
            .is_file()
    );
    assert_eq!(
        metadata_ops::diff(&client, &metadata_dir).await.unwrap(),
        ""
    );

    // a change through the console-mode API becomes a migration folder, applied and recorded
    let console = graft_cli::console::ConsoleState::new(client.clone(), project.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let console_url = format!("http://{}/apis/migrate", listener.local_addr().unwrap());
    let console_task = tokio::spawn(graft_cli::console::serve(listener, console));
    let http = reqwest::Client::new();
    let answer = http
        .post(&console_url)
        .json(&json!({"name": "create_publishers", "datasource": "default",
            "up": [{"type": "run_sql", "args": {"sql": "CREATE TABLE publishers (id serial PRIMARY KEY, name text)"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let answer: serde_json::Value = answer.json().await.unwrap();
    let publishers_version = answer["version"].as_u64().unwrap();
    let publishers = migrations::find(&migrations_dir, "default", publishers_version).unwrap();
    assert_eq!(
        std::fs::read_to_string(publishers.dir.join("down.sql")).unwrap(),
        "DROP TABLE publishers;\n"
    );
    let status = migrate::status(&client, &migrations_dir, "default")
        .await
        .unwrap();
    assert!(
        status
            .iter()
            .all(|r| r.in_source && r.in_database && !r.dirty)
    );
    // A failing change leaves no folder and no record.
    let answer = http
        .post(&console_url)
        .json(&json!({"name": "broken", "up": [{"type": "run_sql", "args": {"sql": "CREATE TABLE publishers (id int)"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let error: serde_json::Value = answer.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("already exists"),
        "{error}"
    );
    assert_eq!(
        migrations::list(&migrations_dir, "default").unwrap().len(),
        3
    );
    let leftovers: Vec<_> = std::fs::read_dir(migrations_dir.join("default"))
        .unwrap()
        .collect();
    assert_eq!(leftovers.len(), 3);
    assert_eq!(
        migrate::status(&client, &migrations_dir, "default")
            .await
            .unwrap()
            .len(),
        3
    );
    console_task.abort();

    // squash all three into one, verified on a throwaway database
    let outcome = squash::squash(
        Some(&client),
        &SquashRequest {
            migrations_dir: &migrations_dir,
            database: "default",
            from: authors.version,
            name: "init",
            delete_source: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.squashed,
        vec![authors.version, books.version, publishers_version]
    );
    assert!(outcome.marked_applied);
    let local = migrations::list(&migrations_dir, "default").unwrap();
    assert_eq!(local.len(), 1);
    assert!(!authors.dir.exists() && !books.dir.exists());
    let squashed = &local[0];
    let status = migrate::status(&client, &migrations_dir, "default")
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert!(status[0].in_database && status[0].version == squashed.version);

    // A database that ran the original migrations before the squash: apply records the squash
    // without running it again (it would fail: the tables exist).
    let mut state = CliState::load(&client).await.unwrap();
    state.unset("default", squashed.version);
    state.set("default", authors.version, false);
    state.set("default", books.version, false);
    state.set("default", publishers_version, false);
    state.save(&client).await.unwrap();
    let applied = migrate::apply(
        &client,
        &migrations_dir,
        "default",
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(applied.len(), 1);
    assert!(!applied[0].executed, "the squash must not run twice");

    // a third migration, applied, then rolled back with --down 1, then applied again
    let isbn = migrations::create(
        &migrations_dir,
        "default",
        "add_isbn",
        "ALTER TABLE books ADD COLUMN isbn text;",
        "ALTER TABLE books DROP COLUMN isbn;",
        &[],
    )
    .unwrap();
    migrate::apply(
        &client,
        &migrations_dir,
        "default",
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    let down = migrate::apply(
        &client,
        &migrations_dir,
        "default",
        &ApplyOptions {
            down: Some(Some(1)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(down.len(), 1);
    assert_eq!(
        (down[0].version, down[0].direction),
        (isbn.version, Direction::Down)
    );
    let columns = query(
        &client,
        "default",
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'books' AND column_name = 'isbn'",
    )
    .await;
    assert_eq!(columns, vec![json!(["0"])]);
    let status = migrate::status(&client, &migrations_dir, "default")
        .await
        .unwrap();
    assert!(
        status
            .iter()
            .any(|r| r.version == isbn.version && !r.in_database)
    );
    // --goto the last version brings it back.
    migrate::apply(
        &client,
        &migrations_dir,
        "default",
        &ApplyOptions {
            goto: Some(isbn.version),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // seeds: one written by hand, one generated from the table's rows
    let seeds_dir = project.seeds_dir();
    seeds::create(
        &seeds_dir,
        "default",
        "authors",
        "INSERT INTO authors (id, name) VALUES (1, 'Ann O''Neil'), (2, 'Bo');\n",
    )
    .unwrap();
    let applied = seeds::apply(&client, &seeds_dir, "default", &[])
        .await
        .unwrap();
    assert_eq!(applied.len(), 1);
    client
        .run_sql(
            "default",
            "INSERT INTO books (author_id, title, isbn) VALUES (1, 'It''s {json}', NULL), (2, 'Two', 'x')",
        )
        .await
        .unwrap();
    let books_sql = seeds::table_rows_sql(&client, "default", "public.books")
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    seeds::create(&seeds_dir, "default", "books", &books_sql).unwrap();

    // Re-export after the schema changes, then check: no drift.
    metadata_ops::export(&client, &metadata_dir).await.unwrap();
    let report = workflow::check(&client, &project).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // deploy the project to a second, empty database
    let second = start_server(&cluster.url("app_deployed"), None).await;
    let second_client = ServerClient::new(&second.endpoint, None);
    let deployed = workflow::deploy(&second_client, &project, true)
        .await
        .unwrap();
    assert!(
        deployed.inconsistent_objects.is_empty(),
        "{:?}",
        deployed.inconsistent_objects
    );
    assert_eq!(deployed.migrations[0].1.len(), 2);
    assert!(deployed.migrations[0].1.iter().all(|a| a.executed));
    assert_eq!(
        schema_dump(&cluster.url("app"), "public"),
        schema_dump(&cluster.url("app_deployed"), "public")
    );
    assert_eq!(
        metadata_dir::normalize(&second_client.export_metadata().await.unwrap()),
        metadata_dir::normalize(&client.export_metadata().await.unwrap())
    );
    let rows = "SELECT json_agg(t ORDER BY id)::text FROM (SELECT b.id, b.title, b.isbn, a.name FROM books b JOIN authors a ON a.id = b.author_id) t";
    assert_eq!(
        query(&second_client, "default", rows).await,
        query(&client, "default", rows).await
    );
    let report = workflow::check(&second_client, &project).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // drift: a table tracked on the server but not in the files is reported
    client
        .run_sql("default", "CREATE TABLE drift (id int PRIMARY KEY)")
        .await
        .unwrap();
    metadata(&client, "pg_track_table", track("drift")).await;
    let report = workflow::check(&client, &project).await.unwrap();
    assert!(!report.problems.is_empty());
    assert!(
        report.metadata_diff.contains("public_drift.yaml"),
        "{}",
        report.metadata_diff
    );

    drop(second);
    drop(server);
    cluster.stop().await.unwrap();
}
