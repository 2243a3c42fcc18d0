//! The real binary is SIGKILLed in the middle of a two-field mutation, after the first root field
//! has inserted rows and while the second one is still running: the client sees its connection
//! fail (no hang), and once Postgres has cleaned up after the lost client nothing of the request
//! is in the database. A restarted graft then accepts the same rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::free_port;
use graft_pgtemp::Cluster;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// graft's connections carry this name, so the test can find graft's backends.
const APPLICATION: &str = "graft_crash_test";

fn start(database_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_graft"))
        .args([
            "serve",
            "--server-host",
            "127.0.0.1",
            "--server-port",
            &port.to_string(),
        ])
        .env("HASURA_GRAPHQL_DATABASE_URL", database_url)
        .env_remove("HASURA_GRAPHQL_ADMIN_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(client: &reqwest::Client, port: u16) {
    common::wait_healthy(
        client,
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(60),
        Duration::from_millis(100),
    )
    .await;
}

async fn post(client: &reqwest::Client, port: u16, path: &str, body: Value) -> (u16, Value) {
    let r = client
        .post(format!("http://127.0.0.1:{port}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn count(client: &tokio_postgres::Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

const MUTATION: &str = "mutation {
    first: insert_ledger(objects: [{id: 1, note: \"a\"}, {id: 2, note: \"b\"}]) { affected_rows }
    second: insert_slow(objects: [{id: 1}]) { affected_rows }
}";

#[tokio::test]
async fn killed_server_mid_mutation_writes_nothing() {
    let cluster = Cluster::temporary().await.unwrap();
    cluster.create_database("crash").await.unwrap();
    let url = format!("{}?application_name={APPLICATION}", cluster.url("crash"));
    let (watcher, connection) =
        tokio_postgres::connect(&cluster.url("crash"), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    let client = reqwest::Client::new();

    let port = free_port();
    let mut graft = start(&url, port);
    wait_healthy(&client, port).await;
    // The slow trigger outlives the kill by a few seconds: Postgres only notices the lost client
    // when the statement ends and it reads the next command.
    let (status, body) = post(&client, port, "/v2/query", json!({"type": "run_sql", "args": {"sql":
        "CREATE TABLE ledger (id int PRIMARY KEY, note text);
         CREATE TABLE slow (id int PRIMARY KEY);
         CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
         CREATE TRIGGER slow_down BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION slow_down();"}}))
    .await;
    assert_eq!(status, 200, "{body}");
    for table in ["ledger", "slow"] {
        let (status, body) = post(
            &client,
            port,
            "/v1/metadata",
            json!({"type": "pg_track_table", "args": {"table": table}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    let request = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .post(format!("http://127.0.0.1:{port}/v1/graphql"))
                .json(&json!({"query": MUTATION}))
                .send()
                .await
        })
    };
    // Wait until graft's backend sleeps in the second root field, with the first one's rows
    // inserted (its transaction holds the insert lock on `ledger`).
    let mut backend = None;
    for _ in 0..200 {
        let rows = watcher
            .query(
                "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
                 WHERE a.application_name = $1 AND a.wait_event = 'PgSleep'
                   AND l.relation = 'ledger'::regclass AND l.mode = 'RowExclusiveLock'",
                &[&APPLICATION],
            )
            .await
            .unwrap();
        if let Some(row) = rows.first() {
            backend = Some(row.get::<_, i32>(0));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backend = backend.expect("graft's backend never reached the slow root field");

    graft.kill().unwrap();
    graft.wait().unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("the client hung after graft was killed")
        .unwrap();
    assert!(
        answer.is_err(),
        "the client got an answer from a killed server: {answer:?}"
    );

    // Postgres ends the orphaned backend once the trigger's sleep is over, rolling it back.
    let started = Instant::now();
    loop {
        let alive: bool = watcher
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)",
                &[&backend],
            )
            .await
            .unwrap()
            .get(0);
        if !alive {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the orphaned backend did not end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&watcher, "ledger").await, 0);
    assert_eq!(count(&watcher, "slow").await, 0);

    // A new graft on the same database writes the same rows: no lock or row was left behind.
    let port = free_port();
    let mut graft = start(&url, port);
    wait_healthy(&client, port).await;
    let (status, body) = post(
        &client,
        port,
        "/v1/graphql",
        json!({"query": "mutation { insert_ledger(objects: [{id: 1, note: \"a\"}, {id: 2, note: \"b\"}]) { affected_rows } }"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"data": {"insert_ledger": {"affected_rows": 2}}})
        )
    );
    assert_eq!(count(&watcher, "ledger").await, 2);
    graft.kill().unwrap();
    graft.wait().unwrap();
}
