//! The event payload's column forms (big numbers as strings under `stringify_numeric_types`,
//! PostGIS values as GeoJSON), captures kept in step with column types and left alone when
//! current, and an event trigger's dependency on the columns it names (`run_sql`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod event_support;

use event_support::{Answer, Graft, Receiver, fast_worker};
use serde_json::{Value, json};

fn create_trigger(name: &str, table: &str, webhook: &str, extra: Value) -> Value {
    let mut args = json!({
        "name": name,
        "table": {"schema": "public", "name": table},
        "webhook": webhook,
        "insert": {"columns": "*"},
    });
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    json!({"type": "pg_create_event_trigger", "args": args})
}

fn track(table: &str) -> Value {
    json!({"type": "pg_track_table", "args": {"table": table}})
}

/// The `new` row of the delivered insert whose `id` (as sent) is `id`.
fn inserted(receiver: &Receiver, id: &Value) -> Value {
    receiver
        .calls()
        .iter()
        .map(|c| c.body["event"]["data"]["new"].clone())
        .find(|row| &row["id"] == id)
        .unwrap_or(Value::Null)
}

async fn wait_for_row(receiver: &Receiver, id: Value) -> Value {
    receiver
        .wait_for(&format!("the insert of {id}"), |calls| {
            calls
                .iter()
                .any(|c| c.body["event"]["data"]["new"]["id"] == id)
        })
        .await;
    inserted(receiver, &id)
}

async fn trigger_oid(graft: &Graft) -> Value {
    graft
        .run_sql("SELECT oid::text FROM pg_trigger WHERE tgname = 'notify_hasura_p_all_INSERT'")
        .await["result"][1][0]
        .clone()
}

#[tokio::test]
async fn payload_forms_follow_the_column_types_and_the_stringify_setting() {
    let (_cluster, url) = common::cluster_with_database("events_payload_forms").await;
    let mut config = common::config(&url);
    config.stringify_numeric_types = true;
    let graft = Graft::start(config.clone(), fast_worker()).await;
    let receiver = Receiver::start(Answer::Ok).await;
    graft
        .run_sql(
            "CREATE EXTENSION IF NOT EXISTS postgis; \
             CREATE TABLE p (id bigint PRIMARY KEY, amount numeric, n int, place geography(Point))",
        )
        .await;
    graft.ok("/v1/metadata", track("p")).await;
    graft
        .ok(
            "/v1/metadata",
            create_trigger("p_all", "p", &receiver.url, json!({})),
        )
        .await;
    graft
        .run_sql(
            "INSERT INTO p VALUES (50755254975729665, 1.50, 7, 'POINT(-43.77 45.64)'), \
             (2, NULL, NULL, NULL)",
        )
        .await;
    let row = wait_for_row(&receiver, json!("50755254975729665")).await;
    assert_eq!(
        row,
        json!({
            "id": "50755254975729665",
            "amount": "1.50",
            "n": 7,
            "place": {
                "type": "Point",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}},
                "coordinates": [-43.77, 45.64]
            }
        })
    );
    let row = wait_for_row(&receiver, json!("2")).await;
    assert_eq!(
        row,
        json!({"id": "2", "amount": null, "n": null, "place": null})
    );

    // A column added by run_sql changes the payload's form: the capture is reinstalled.
    graft.run_sql("ALTER TABLE p ADD COLUMN big int8").await;
    graft
        .run_sql("INSERT INTO p (id, big) VALUES (3, 9007199254740993)")
        .await;
    let row = wait_for_row(&receiver, json!("3")).await;
    assert_eq!(row["big"], json!("9007199254740993"));

    // A restart with nothing changed leaves the installed capture alone.
    let before = trigger_oid(&graft).await;
    graft.crash().await;
    let graft = Graft::start(config.clone(), fast_worker()).await;
    assert_eq!(trigger_oid(&graft).await, before);

    // A restart without stringify reinstalls it: numbers are numbers again.
    graft.crash().await;
    config.stringify_numeric_types = false;
    let graft = Graft::start(config, fast_worker()).await;
    assert_ne!(trigger_oid(&graft).await, before);
    graft
        .run_sql("INSERT INTO p (id, amount, big) VALUES (4, 2.25, 5)")
        .await;
    let row = wait_for_row(&receiver, json!(4)).await;
    assert_eq!(row["amount"], json!(2.25));
    assert_eq!(row["big"], json!(5));
}

#[tokio::test]
async fn run_sql_keeps_the_columns_an_event_trigger_names() {
    let (_cluster, url) = common::cluster_with_database("events_column_dependencies").await;
    let graft = Graft::start(common::config(&url), fast_worker()).await;
    let receiver = Receiver::start(Answer::Ok).await;
    graft
        .run_sql("CREATE TABLE t (id int PRIMARY KEY, c2 text, c3 text, c4 text)")
        .await;
    graft.ok("/v1/metadata", track("t")).await;
    graft
        .ok(
            "/v1/metadata",
            create_trigger(
                "t_cols",
                "t",
                &receiver.url,
                json!({
                    "update": {"columns": ["c2"]},
                    "delete": {"columns": "*", "payload": ["id", "c3"]}
                }),
            ),
        )
        .await;

    for column in ["c2", "c3"] {
        let (status, body) = graft
            .post(
                "/v2/query",
                &json!({"type": "run_sql", "args": {"sql": format!("ALTER TABLE t DROP COLUMN {column}")}}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "dependency-error", "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("event-trigger t.t_cols in source"),
            "{body}"
        );
    }
    // A column the trigger does not name goes freely.
    graft.run_sql("ALTER TABLE t DROP COLUMN c4").await;

    // A rename is followed in the definition, and the capture watches the new name.
    graft
        .run_sql("ALTER TABLE t RENAME COLUMN c2 TO c2_new")
        .await;
    let export = graft
        .ok(
            "/v1/metadata",
            json!({"type": "export_metadata", "args": {}}),
        )
        .await;
    let trigger = &export["sources"][0]["tables"][0]["event_triggers"][0];
    assert_eq!(
        trigger["definition"]["update"]["columns"],
        json!(["c2_new"])
    );
    graft
        .run_sql("INSERT INTO t VALUES (1, 'a', 'b'); UPDATE t SET c2_new = 'z' WHERE id = 1")
        .await;
    let calls = receiver
        .wait_for("the insert and the update", |calls| calls.len() >= 2)
        .await;
    assert!(
        calls
            .iter()
            .any(|c| c.body["event"]["data"]["new"]["c2_new"] == "z")
    );

    // With cascade the trigger goes with the column, and so does its capture.
    graft
        .ok(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": "ALTER TABLE t DROP COLUMN c3", "cascade": true}}),
        )
        .await;
    let export = graft
        .ok(
            "/v1/metadata",
            json!({"type": "export_metadata", "args": {}}),
        )
        .await;
    assert!(
        export["sources"][0]["tables"][0]
            .get("event_triggers")
            .is_none_or(|t| t.as_array().unwrap().is_empty()),
        "{export}"
    );
    let left = graft
        .run_sql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'notify_hasura_t_cols_%'")
        .await;
    assert_eq!(left["result"][1][0], "0");
}
