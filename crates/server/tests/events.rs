//! Event triggers end to end: a real Postgres, graft in-process, and a webhook receiver.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod event_support;

use event_support::{Answer, Graft, Receiver, fast_worker};
use serde_json::{Value, json};

async fn setup(name: &str) -> (graft_pgtemp::Cluster, Graft) {
    let (cluster, url) = common::cluster_with_database(name).await;
    let graft = Graft::start(common::config(&url), fast_worker()).await;
    graft
        .run_sql("CREATE TABLE t1 (c1 int PRIMARY KEY, c2 text, c3 json)")
        .await;
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_track_table", "args": {"table": "t1"}}),
        )
        .await;
    (cluster, graft)
}

fn trigger(name: &str, webhook: &str, extra: Value) -> Value {
    let mut args = json!({
        "name": name,
        "table": {"schema": "public", "name": "t1"},
        "webhook": webhook,
    });
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    json!({"type": "pg_create_event_trigger", "args": args})
}

#[tokio::test]
async fn delivers_changes_with_hasura_payload_and_never_rolled_back_ones() {
    let (_cluster, graft) = setup("events_basic").await;
    let receiver = Receiver::start(Answer::Ok).await;
    graft
        .ok(
            "/v1/metadata",
            trigger(
                "t1_all",
                &format!("{}/hook", receiver.url),
                json!({
                    "insert": {"columns": "*"},
                    "update": {"columns": ["c1", "c3"]},
                    "delete": {"columns": "*", "payload": ["c1"]},
                    "headers": [{"name": "X-Header-From-Value", "value": "MyValue"}],
                    "retry_conf": {"num_retries": 2, "interval_sec": 1}
                }),
            ),
        )
        .await;
    // insert through the data API: session variables travel into the event
    graft
        .ok(
            "/v1/query",
            json!({"type": "insert", "args": {"table": "t1", "objects": [{"c1": 1, "c2": "a", "c3": {"k": 1}}]}}),
        )
        .await;
    // only c2 changes: not a chosen column, no event
    graft.run_sql("UPDATE t1 SET c2 = 'b' WHERE c1 = 1").await;
    // c3 (json, no equality operator) changes: one event
    graft
        .run_sql("UPDATE t1 SET c3 = '{\"k\": 2}' WHERE c1 = 1")
        .await;
    // a failed transaction: its insert must never be delivered
    let (status, _) = graft
        .post(
            "/v2/query",
            &json!({"type": "run_sql", "args": {"sql": "INSERT INTO t1 (c1, c2) VALUES (666, 'rolled back'); SELECT 1/0;"}}),
        )
        .await;
    assert_eq!(status, 400);
    graft.run_sql("DELETE FROM t1 WHERE c1 = 1").await;
    let calls = receiver
        .wait_for("3 events", |calls| calls.len() >= 3)
        .await;
    let mut by_op: std::collections::HashMap<String, Value> = Default::default();
    for call in &calls {
        assert_eq!(call.path, "/hook");
        assert_eq!(call.headers["x-header-from-value"], "MyValue");
        assert_eq!(call.headers["content-type"], "application/json");
        let body = &call.body;
        assert_eq!(body["trigger"], json!({"name": "t1_all"}));
        assert_eq!(body["table"], json!({"schema": "public", "name": "t1"}));
        assert_eq!(
            body["delivery_info"],
            json!({"max_retries": 2, "current_retry": 0})
        );
        assert!(body["id"].as_str().is_some_and(|id| id.len() == 36));
        assert!(
            body["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        by_op.insert(
            body["event"]["op"].as_str().unwrap().to_string(),
            body["event"].clone(),
        );
    }
    let insert = &by_op["INSERT"];
    assert_eq!(
        insert["data"],
        json!({"old": null, "new": {"c1": 1, "c2": "a", "c3": {"k": 1}}})
    );
    assert_eq!(insert["session_variables"]["x-hasura-role"], "admin");
    let update = &by_op["UPDATE"];
    assert_eq!(update["data"]["old"]["c3"], json!({"k": 1}));
    assert_eq!(update["data"]["new"]["c3"], json!({"k": 2}));
    assert_eq!(update["data"]["new"]["c2"], "b");
    assert_eq!(update["session_variables"], Value::Null);
    assert_eq!(
        by_op["DELETE"]["data"],
        json!({"old": {"c1": 1}, "new": null})
    );

    // Everything committed was logged exactly once, the rolled-back insert never.
    let logged = graft
        .run_sql(
            "SELECT count(*) FILTER (WHERE delivered), count(*) FILTER (WHERE payload::text LIKE '%rolled back%') FROM hdb_catalog.event_log",
        )
        .await;
    assert_eq!(logged["result"][1], json!(["3", "0"]));
    assert!(
        calls
            .iter()
            .all(|c| !c.body.to_string().contains("rolled back"))
    );
    let logs = graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_get_event_invocation_logs", "args": {"name": "t1_all"}}),
        )
        .await;
    assert_eq!(logs.as_array().unwrap().len(), 3);
    assert_eq!(logs[0]["status"], 200);
}

#[tokio::test]
async fn retries_with_retry_after_and_records_every_invocation() {
    let (_cluster, graft) = setup("events_retry").await;
    let receiver = Receiver::start(Answer::FailFirst(2, Some(0))).await;
    graft
        .ok(
            "/v1/metadata",
            trigger(
                "t1_retry",
                &receiver.url,
                json!({"insert": {"columns": "*"}, "retry_conf": {"num_retries": 3, "interval_sec": 3600}}),
            ),
        )
        .await;
    graft.run_sql("INSERT INTO t1 (c1) VALUES (7)").await;
    // interval_sec is an hour: only Retry-After: 0 lets the retries happen now
    let calls = receiver
        .wait_for("a successful retry", |calls| {
            calls.iter().any(|c| c.status == 200)
        })
        .await;
    let retries: Vec<i64> = calls
        .iter()
        .map(|c| c.body["delivery_info"]["current_retry"].as_i64().unwrap())
        .collect();
    assert_eq!(retries, vec![0, 1, 2]);
    let id = calls[0].body["id"].as_str().unwrap().to_string();
    assert!(calls.iter().all(|c| c.body["id"] == id.as_str()));
    let event = graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_get_event_by_id", "args": {"event_id": id}}),
        )
        .await;
    assert_eq!(event["event"]["delivered"], true);
    assert_eq!(event["event"]["tries"], 3);
    let statuses: Vec<i64> = event["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses.len(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 2);

    // redeliver: the event goes out once more
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_redeliver_event", "args": {"event_id": id}}),
        )
        .await;
    receiver
        .wait_for("the redelivery", |calls| calls.len() >= 4)
        .await;
}

#[tokio::test]
async fn gives_up_after_the_last_retry() {
    let (_cluster, graft) = setup("events_dead").await;
    let receiver = Receiver::start(Answer::FailFirst(100, Some(0))).await;
    graft
        .ok(
            "/v1/metadata",
            trigger(
                "t1_dead",
                &receiver.url,
                json!({"insert": {"columns": "*"}, "retry_conf": {"num_retries": 1}}),
            ),
        )
        .await;
    graft.run_sql("INSERT INTO t1 (c1) VALUES (1)").await;
    receiver.wait_for("two attempts", |c| c.len() >= 2).await;
    for _ in 0..100 {
        let state = graft
            .run_sql("SELECT error::text, tries FROM hdb_catalog.event_log")
            .await;
        if state["result"][1] == json!(["true", "2"]) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the event was not marked as failed after its last retry");
}

#[tokio::test]
async fn manual_events_errors_and_metadata_round_trip() {
    let (_cluster, graft) = setup("events_manual").await;
    let receiver = Receiver::start(Answer::Ok).await;
    // no operation at all
    let (status, body) = graft
        .metadata(json!({"type": "pg_create_event_trigger", "args": {"name": "x", "table": "t1", "webhook": receiver.url}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "parse-failed");
    assert_eq!(
        body["error"],
        "atleast one amongst insert/update/delete/enable_manual spec must be provided"
    );
    // unknown column
    let (status, body) = graft
        .metadata(trigger(
            "x",
            &receiver.url,
            json!({"update": {"columns": ["nope"]}}),
        ))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("not-exists")));
    graft
        .ok(
            "/v1/metadata",
            trigger("t1_manual", &receiver.url, json!({"enable_manual": true})),
        )
        .await;
    graft
        .ok(
            "/v1/metadata",
            trigger(
                "t1_auto",
                &receiver.url,
                json!({"insert": {"columns": "*"}}),
            ),
        )
        .await;
    let (status, body) = graft
        .metadata(trigger(
            "t1_auto",
            &receiver.url,
            json!({"insert": {"columns": "*"}}),
        ))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("already-exists"))
    );
    let (status, _) = graft
        .metadata(
            json!({"type": "pg_invoke_event_trigger", "args": {"name": "t1_auto", "payload": {}}}),
        )
        .await;
    assert_eq!(status, 400);
    let answer = graft
        .ok(
            "/v1/metadata",
            json!({"type": "pg_invoke_event_trigger", "args": {"name": "t1_manual", "payload": {"some_key": "some_value"}}}),
        )
        .await;
    let calls = receiver
        .wait_for("the manual event", |c| !c.is_empty())
        .await;
    assert_eq!(calls[0].body["id"], answer["event_id"]);
    assert_eq!(calls[0].body["event"]["op"], "MANUAL");
    // the invoker's session, as Hasura records it
    assert_eq!(
        calls[0].body["event"]["session_variables"],
        json!({"x-hasura-role": "admin"})
    );
    assert_eq!(
        calls[0].body["event"]["data"],
        json!({"old": null, "new": {"some_key": "some_value"}})
    );

    // export shows Hasura's shape; replace_metadata without the trigger removes its capture
    let exported = graft
        .ok(
            "/v1/metadata",
            json!({"type": "export_metadata", "args": {}}),
        )
        .await;
    let triggers = &exported["sources"][0]["tables"][0]["event_triggers"];
    assert_eq!(triggers[1]["name"], "t1_auto");
    assert_eq!(
        triggers[1]["definition"],
        json!({"enable_manual": false, "insert": {"columns": "*"}})
    );
    assert_eq!(
        triggers[1]["retry_conf"],
        json!({"num_retries": 0, "interval_sec": 10, "timeout_sec": 60})
    );
    let capture_count = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'notify_hasura_%'";
    assert_eq!(graft.run_sql(capture_count).await["result"][1][0], "1");
    let mut without = exported.clone();
    without["sources"][0]["tables"][0]
        .as_object_mut()
        .unwrap()
        .remove("event_triggers");
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "replace_metadata", "args": without}),
        )
        .await;
    assert_eq!(graft.run_sql(capture_count).await["result"][1][0], "0");
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "replace_metadata", "args": exported}),
        )
        .await;
    assert_eq!(graft.run_sql(capture_count).await["result"][1][0], "1");

    // renaming the table keeps the trigger working; dropping it drops the trigger
    graft.run_sql("ALTER TABLE t1 RENAME TO t1_renamed").await;
    graft
        .run_sql("INSERT INTO t1_renamed (c1) VALUES (5)")
        .await;
    // Delivery is at least once: the manual event may come again (its outcome is recorded in a
    // group that a metadata change can cut short), so look for the new event, not the second.
    receiver
        .wait_for("the insert after the rename", |c| {
            c.iter()
                .any(|call| call.body["table"]["name"] == "t1_renamed")
        })
        .await;
    graft.run_sql("DROP TABLE t1_renamed").await;
    assert_eq!(graft.run_sql(capture_count).await["result"][1][0], "0");
    let exported = graft
        .ok(
            "/v1/metadata",
            json!({"type": "export_metadata", "args": {}}),
        )
        .await;
    assert!(!exported.to_string().contains("t1_auto"));

    // clear_metadata drops the event log (as Hasura does)
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "clear_metadata", "args": {}}),
        )
        .await;
    let exists = graft
        .run_sql("SELECT to_regclass('hdb_catalog.event_log') IS NULL")
        .await;
    assert_eq!(exists["result"][1][0], "t");
}

#[tokio::test]
async fn one_off_scheduled_events_and_cron_occurrences() {
    let (_cluster, graft) = setup("events_scheduled").await;
    let receiver = Receiver::start(Answer::Ok).await;
    let created = graft
        .ok(
            "/v1/metadata",
            json!({"type": "create_scheduled_event", "args": {
                "webhook": format!("{}/once", receiver.url),
                "schedule_at": "2020-01-01T00:00:00Z",
                "payload": {"k": "v"},
                "headers": [{"name": "X-One", "value": "1"}],
                "retry_conf": {"tolerance_seconds": 999999999},
                "comment": "late but tolerated"
            }}),
        )
        .await;
    let calls = receiver
        .wait_for("the one-off event", |c| !c.is_empty())
        .await;
    assert_eq!(calls[0].path, "/once");
    assert_eq!(calls[0].body["payload"], json!({"k": "v"}));
    assert_eq!(calls[0].body["id"], created["event_id"]);
    assert_eq!(calls[0].headers["x-one"], "1");
    // an event beyond its tolerance is dead, never sent
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "create_scheduled_event", "args": {
                "webhook": format!("{}/too-late", receiver.url),
                "schedule_at": "2020-01-01T00:00:00Z",
                "retry_conf": {"tolerance_seconds": 60}
            }}),
        )
        .await;
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "create_cron_trigger", "args": {
                "name": "every_minute",
                "webhook": format!("{}/cron", receiver.url),
                "schedule": "* * * * *",
                "payload": {},
                "include_in_metadata": true
            }}),
        )
        .await;
    let (status, body) = graft
        .metadata(json!({"type": "create_cron_trigger", "args": {"name": "bad", "webhook": "http://x", "schedule": "61 * * * *"}}))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("parse-failed")));
    let listed = graft
        .ok(
            "/v1/metadata",
            json!({"type": "get_cron_triggers", "args": {}}),
        )
        .await;
    assert_eq!(listed["cron_triggers"][0]["name"], "every_minute");
    let mut dead = false;
    let mut cron_count = 0;
    for _ in 0..100 {
        let one_off = graft
            .ok(
                "/v1/metadata",
                json!({"type": "get_scheduled_events", "args": {"type": "one_off", "status": "dead"}}),
            )
            .await;
        dead = one_off["events"].as_array().unwrap().len() == 1;
        let cron = graft
            .ok(
                "/v1/metadata",
                json!({"type": "get_scheduled_events", "args": {"type": "cron", "trigger_name": "every_minute"}}),
            )
            .await;
        cron_count = cron["events"].as_array().unwrap().len();
        if dead && cron_count >= 59 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(dead, "the event past its tolerance was not marked dead");
    assert!(cron_count >= 59, "an hour of minutes is scheduled ahead");
    assert!(receiver.calls().iter().all(|c| c.path != "/too-late"));
    graft
        .ok(
            "/v1/metadata",
            json!({"type": "delete_cron_trigger", "args": {"name": "every_minute"}}),
        )
        .await;
    for _ in 0..100 {
        let cron = graft
            .ok(
                "/v1/metadata",
                json!({"type": "get_scheduled_events", "args": {"type": "cron", "status": "scheduled"}}),
            )
            .await;
        if cron["events"] == json!([]) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("a deleted cron trigger's pending occurrences were kept");
}
