//! The multiplexer against a real PostgreSQL: cohorts share a statement, results are pushed
//! only on change, and an idle poller stops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use graft_live::{LiveConfig, LiveEvent, LiveResult, Multiplexer, Sink};
use graft_pgtemp::Cluster;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A multiplexed statement as the printer writes them: the rows of `item` above the cohort's
/// first parameter, as a JSON array.
const SQL: &str = "SELECT \"_subs\".\"cohort\", \"_live\".\"result\"::text AS \"result\" \
    FROM json_array_elements($1::json) WITH ORDINALITY AS \"_subs\"(\"params\", \"cohort\") \
    LEFT OUTER JOIN LATERAL (SELECT coalesce(json_agg(\"id\" ORDER BY \"id\"), '[]') AS \"data\" \
    FROM \"item\" WHERE \"id\" > ((\"_subs\".\"params\"->>0))::int) AS \"_live\"(\"result\") ON true \
    ORDER BY \"_subs\".\"cohort\"";

async fn next(rx: &mut mpsc::UnboundedReceiver<Box<LiveEvent>>) -> (String, String) {
    let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a result within 10 s")
        .expect("channel open");
    match event.result {
        LiveResult::Data(data) => (event.tag.to_string(), data.to_string()),
        LiveResult::Error(e) => panic!("unexpected error {e}"),
    }
}

async fn nothing_for(rx: &mut mpsc::UnboundedReceiver<Box<LiveEvent>>, wait: Duration) {
    if let Ok(Some(event)) = tokio::time::timeout(wait, rx.recv()).await {
        panic!("unexpected message for {}", event.tag);
    }
}

#[tokio::test]
async fn cohorts_share_one_statement_and_get_only_changes() {
    let cluster = Cluster::temporary().await.unwrap();
    let url = cluster.url("postgres");
    let pool = graft_execute::connect_pool(&url, 4).await.unwrap();
    let client = pool.get().await.unwrap();
    client
        .batch_execute("CREATE TABLE item (id int primary key); INSERT INTO item VALUES (1), (5);")
        .await
        .unwrap();

    let live = Multiplexer::new(LiveConfig {
        refetch_interval: Duration::from_millis(200),
        batch_size: 2,
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink = |tag: &str| Sink {
        sender: tx.clone(),
        tag: Arc::from(tag),
    };
    let sql: Arc<str> = Arc::from(SQL);
    let above_0 = vec![Some("0".to_string())];
    let above_3 = vec![Some("3".to_string())];
    let a = live.subscribe(
        "default",
        pool.clone(),
        sql.clone(),
        above_0.clone(),
        sink("a"),
    );
    let b = live.subscribe(
        "default",
        pool.clone(),
        sql.clone(),
        above_3.clone(),
        sink("b"),
    );
    let c = live.subscribe(
        "default",
        pool.clone(),
        sql.clone(),
        above_3.clone(),
        sink("c"),
    );
    let mut first = vec![
        next(&mut rx).await,
        next(&mut rx).await,
        next(&mut rx).await,
    ];
    first.sort();
    assert_eq!(
        first,
        vec![
            ("a".into(), r#"{"data":[1, 5]}"#.into()),
            ("b".into(), r#"{"data":[5]}"#.into()),
            ("c".into(), r#"{"data":[5]}"#.into()),
        ]
    );
    let stats = live.stats();
    assert_eq!((stats.pollers, stats.cohorts, stats.subscribers), (1, 2, 3));

    // Unchanged results are not resent.
    nothing_for(&mut rx, Duration::from_millis(700)).await;

    // A row only cohort "above 0" sees: only "a" hears of it.
    client
        .execute("INSERT INTO item VALUES (2)", &[])
        .await
        .unwrap();
    assert_eq!(
        next(&mut rx).await,
        ("a".into(), r#"{"data":[1, 2, 5]}"#.into())
    );
    nothing_for(&mut rx, Duration::from_millis(700)).await;

    // A latecomer to an existing cohort gets the current result at once.
    let d = live.subscribe(
        "default",
        pool.clone(),
        sql.clone(),
        above_3.clone(),
        sink("d"),
    );
    assert_eq!(next(&mut rx).await, ("d".into(), r#"{"data":[5]}"#.into()));

    // Polling goes on while anyone listens.
    let before = live.stats().statements;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let polls = live.stats().statements - before;
    assert!(polls >= 2, "the poller keeps polling: {polls} statements");

    drop((a, b, c, d));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let stats = live.stats();
    assert_eq!(
        (stats.pollers, stats.subscribers),
        (0, 0),
        "idle pollers stop"
    );
    let idle = stats.statements;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(live.stats().statements, idle, "no subscriber, no query");
}

#[tokio::test]
async fn a_failing_statement_reaches_its_subscribers_as_an_error() {
    let cluster = Cluster::temporary().await.unwrap();
    let pool = graft_execute::connect_pool(&cluster.url("postgres"), 2)
        .await
        .unwrap();
    let live = Multiplexer::new(LiveConfig::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let bad: Arc<str> = Arc::from(SQL.replace("\"item\"", "\"missing\"").as_str());
    let _s = live.subscribe(
        "default",
        pool,
        bad,
        vec![Some("0".into())],
        Sink {
            sender: tx,
            tag: Arc::from("x"),
        },
    );
    let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(event.result, LiveResult::Error(_)));
}

#[tokio::test]
async fn a_lost_database_is_retried_without_losing_subscribers() {
    let dir = tempfile::tempdir().unwrap();
    let options = |port| graft_pgtemp::ClusterOptions {
        data_dir: dir.path().join("data"),
        port,
        binaries: None,
    };
    let cluster = Cluster::start(options(None)).await.unwrap();
    let port = cluster.port();
    let url = cluster.url("postgres");
    let pool = graft_execute::connect_pool(&url, 2).await.unwrap();
    pool.get()
        .await
        .unwrap()
        .batch_execute("CREATE TABLE item (id int primary key); INSERT INTO item VALUES (1);")
        .await
        .unwrap();
    let live = Multiplexer::new(LiveConfig {
        refetch_interval: Duration::from_millis(100),
        batch_size: 10,
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _subscription = live.subscribe(
        "default",
        pool.clone(),
        Arc::from(SQL),
        vec![Some("0".to_string())],
        Sink {
            sender: tx,
            tag: Arc::from("s"),
        },
    );
    assert_eq!(next(&mut rx).await.1, r#"{"data":[1]}"#);

    // The database goes away: polls fail quietly, the subscriber stays.
    cluster.stop().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(live.stats().subscribers, 1);

    // It comes back: the next change arrives.
    let _cluster = Cluster::start(options(Some(port))).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute("INSERT INTO item VALUES (2)", &[])
        .await
        .unwrap();
    loop {
        let (_, data) = next(&mut rx).await;
        if data == r#"{"data":[1, 2]}"# {
            break;
        }
        assert_eq!(data, r#"{"data":[1]}"#, "only the old or the new result");
    }
}
