//! At-least-once under faults: row changes keep coming while the webhook fails half the time and
//! graft is killed (no graceful shutdown) and restarted twice. Afterwards every committed change
//! was delivered, no rolled-back one was, and duplicates stay within what the crashes explain.
//! Also: two graft instances on one database deliver each event exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod event_support;

use event_support::{Answer, Graft, Receiver, fast_worker};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const CHANGES: i32 = 10_000;
const PER_TRANSACTION: i32 = 10;

async fn prepare(graft: &Graft, receiver: &Receiver, num_retries: u32) {
    graft
        .run_sql("CREATE TABLE items (id int PRIMARY KEY, note text)")
        .await;
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_track_table", "args": {"table": "items"}}),
        )
        .await;
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_create_event_trigger", "args": {
                "name": "items_all",
                "table": "items",
                "webhook": receiver.url,
                "insert": {"columns": "*"},
                "retry_conf": {"num_retries": num_retries, "interval_sec": 0, "timeout_sec": 2}
            }}),
        )
        .await;
}

/// Undelivered events left in the log.
async fn pending(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM hdb_catalog.event_log WHERE NOT delivered AND NOT error",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

async fn wait_until_drained(client: &tokio_postgres::Client, expected: i64) {
    for _ in 0..1200 {
        let logged: i64 = client
            .query_one("SELECT count(*) FROM hdb_catalog.event_log", &[])
            .await
            .unwrap()
            .get(0);
        if logged == expected && pending(client).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "events still pending after two minutes: {}",
        pending(client).await
    );
}

/// The `id` column of the inserted row of each 2xx-answered call, with how often it came.
fn delivered_rows(receiver: &Receiver) -> HashMap<i64, usize> {
    let mut counts = HashMap::new();
    for call in receiver.delivered() {
        let id = call.body["event"]["data"]["new"]["id"].as_i64().unwrap();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_committed_change_survives_crashes_and_a_failing_receiver() {
    let (_cluster, url) = common::cluster_with_database("events_fault").await;
    let receiver = Receiver::start(Answer::FailHalf).await;
    let mut graft = Graft::start(common::config(&url), fast_worker()).await;
    prepare(&graft, &receiver, 10_000).await;

    let (writer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut committed = HashSet::new();
    let mut rolled_back = HashSet::new();
    let transactions = CHANGES / PER_TRANSACTION;
    for t in 0..transactions {
        if t == transactions / 3 || t == 2 * transactions / 3 {
            // kill graft mid-delivery and start a fresh one on the same database
            graft.crash().await;
            graft = Graft::start(common::config(&url), fast_worker()).await;
        }
        let ids: Vec<i32> = (0..PER_TRANSACTION)
            .map(|i| t * PER_TRANSACTION + i)
            .collect();
        let roll_back = t % 5 == 4;
        writer.batch_execute("BEGIN").await.unwrap();
        for id in &ids {
            writer
                .execute("INSERT INTO items (id, note) VALUES ($1, 'change')", &[id])
                .await
                .unwrap();
        }
        if roll_back {
            writer.batch_execute("ROLLBACK").await.unwrap();
            rolled_back.extend(ids.iter().map(|i| i64::from(*i)));
        } else {
            writer.batch_execute("COMMIT").await.unwrap();
            committed.extend(ids.iter().map(|i| i64::from(*i)));
        }
        if t % 20 == 0 {
            tokio::task::yield_now().await;
        }
    }
    wait_until_drained(&writer, committed.len() as i64).await;

    let delivered = delivered_rows(&receiver);
    let missing: Vec<&i64> = committed
        .iter()
        .filter(|id| !delivered.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "committed but never delivered: {missing:?}"
    );
    let phantom: Vec<&i64> = delivered
        .keys()
        .filter(|id| rolled_back.contains(id))
        .collect();
    assert!(phantom.is_empty(), "rolled back but delivered: {phantom:?}");
    assert!(delivered.keys().all(|id| committed.contains(id)));
    // A crash can repeat at most the batch it had claimed; everything else arrives once.
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    let batch = fast_worker().batch_size as usize;
    assert!(
        duplicates <= 2 * batch,
        "{duplicates} duplicate deliveries; two crashes explain at most {}",
        2 * batch
    );
    // Every event was answered 2xx exactly once in the log's eyes.
    let delivered_in_log: i64 = writer
        .query_one(
            "SELECT count(*) FROM hdb_catalog.event_log WHERE delivered",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(delivered_in_log, committed.len() as i64);
    // The receiver did fail about half the calls: retries really happened.
    assert!(receiver.calls().len() > committed.len() + committed.len() / 4);
    drop(graft);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_once() {
    let (_cluster, url) = common::cluster_with_database("events_two").await;
    let receiver = Receiver::start(Answer::Ok).await;
    let mut options = fast_worker();
    // no reclaim during this test: only SKIP LOCKED keeps the instances apart
    options.reclaim_after = Duration::from_secs(600);
    let first = Graft::start(common::config(&url), options.clone()).await;
    prepare(&first, &receiver, 0).await;
    let second = Graft::start(common::config(&url), options).await;
    let (writer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    for batch in 0..50 {
        writer
            .execute(
                "INSERT INTO items (id, note) SELECT g, 'x' FROM generate_series($1::int, $1::int + 9) g",
                &[&(batch * 10)],
            )
            .await
            .unwrap();
    }
    wait_until_drained(&writer, 500).await;
    let delivered = delivered_rows(&receiver);
    assert_eq!(delivered.len(), 500);
    assert!(
        delivered.values().all(|n| *n == 1),
        "an event was delivered twice"
    );
    assert_eq!(receiver.calls().len(), 500);
    drop((first, second));
}
