//! Prints statements and runs them on a real PostgreSQL (started by
//! graft-pgtemp), the way the executor will: prepared with every parameter
//! typed `text`, values bound as text or NULL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Fixture;
use graft_pgtemp::Cluster;
use graft_sql::helpers::{column, json_object, row_to_json, string};
use graft_sql::*;
use serde_json::{Value, json};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row};

const SCHEMA: &str = r#"
SET TimeZone = 'UTC';
CREATE TABLE public.author (id int4 PRIMARY KEY, name text, rating int4, owner text);
CREATE TABLE public.article (id int4 PRIMARY KEY, author_id int4, title text,
    published_at timestamptz, tags text[], meta jsonb);
INSERT INTO public.author VALUES (1, 'Ada', 5, 'alice'), (2, 'Bob', NULL, 'bob'), (3, 'Cy', 1, NULL);
INSERT INTO public.article VALUES
    (1, 1, 'A1', '2024-01-01', '{rust}', '{"draft": true}'),
    (2, 1, 'A2', NULL, '{go}', '{}'),
    (3, 1, NULL, '2024-02-01', '{rust,sql}', '{"review": 1}'),
    (4, 3, 'C1', NULL, '{}', '{}'),
    (5, 2, 'B1', '2024-03-01', '{rust}', '{}');
"#;

async fn query(client: &Client, statement: &Statement, params: &Params) -> Vec<Row> {
    let sql = print(statement).unwrap();
    let prepared = client
        .prepare_typed(&sql, &vec![Type::TEXT; params.len()])
        .await
        .unwrap_or_else(|error| panic!("prepare failed: {error}\n{sql}"));
    let values: Vec<&(dyn ToSql + Sync)> = params
        .values()
        .iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect();
    client
        .query(&prepared, &values)
        .await
        .unwrap_or_else(|error| panic!("query failed: {error}\n{sql}"))
}

async fn run(client: &Client, fixture: &Fixture) -> Vec<Row> {
    query(client, &fixture.statement, &fixture.params).await
}

/// The single json value of a one-row, first-column result, re-serialised
/// compactly with key order kept (serde_json's `preserve_order`).
fn json_text(rows: &[Row]) -> String {
    assert_eq!(rows.len(), 1);
    rows[0].get::<_, Value>(0).to_string()
}

#[tokio::test]
async fn printed_statements_run_on_postgres() {
    let cluster = Cluster::temporary().await.unwrap();
    let (client, connection) = tokio_postgres::connect(&cluster.url("postgres"), NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    client.batch_execute(SCHEMA).await.unwrap();

    nested_select(&client).await;
    upsert_in_cte(&client).await;
    update_then_delete(&client).await;
    distinct_on(&client).await;
    casts(&client).await;
    subscription_batch(&client).await;
    wide_json_objects(&client).await;
    odd_identifiers(&client).await;

    drop(client);
    connection.await.unwrap().unwrap();
    cluster.stop().await.unwrap();
}

async fn nested_select(client: &Client) {
    let rows = run(client, &common::nested_select_with_lateral_json_agg()).await;
    assert_eq!(
        json_text(&rows),
        r#"{"author":[{"id":1,"name":"Ada","articles":[{"title":null},{"title":"A2"},{"title":"A1"}]}],"__typename":"query_root"}"#
    );
}

async fn upsert_in_cte(client: &Client) {
    client.batch_execute("BEGIN").await.unwrap();
    let rows = run(client, &common::insert_on_conflict_in_with()).await;
    assert_eq!(
        json_text(&rows),
        r#"{"affected_rows":2,"returning":[{"id":1,"name":"Ann \"the\" O'Brien"},{"id":2,"name":"Bob"}]}"#
    );
    // Author 2 belongs to bob, not to the session's alice: the check fails.
    assert!(!rows[0].get::<_, bool>(1));
    client.batch_execute("ROLLBACK").await.unwrap();
}

async fn update_then_delete(client: &Client) {
    let rows = run(client, &common::update_with_session_filter()).await;
    let updated: Vec<(i32, i32)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(updated, [(1, 7)]);

    // Article 3 has no title and its author is now "Bea"; article 4's is not.
    let rows = run(client, &common::delete_with_in_and_exists()).await;
    let deleted: Vec<i32> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(deleted, [3]);
}

async fn distinct_on(client: &Client) {
    let rows = run(client, &common::distinct_on_with_nulls_last()).await;
    let picked: Vec<(i32, i32)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(picked, [(1, 1), (2, 5), (3, 4)]);
}

/// Wraps a fixture's SELECT as `SELECT row_to_json("_row") FROM (...) AS "_row"`
/// to read every column back as JSON.
async fn as_json_row(client: &Client, fixture: Fixture) -> Value {
    let Statement::Select(select) = fixture.statement else {
        panic!("not a select")
    };
    let alias = TableAlias::new("_row");
    let wrapped = Select {
        from: Some(From::Subquery {
            select,
            alias: alias.clone(),
            lateral: false,
        }),
        ..Select::new(vec![(row_to_json(&alias), ColumnAlias::new("row"))])
    };
    let rows = query(
        client,
        &Statement::Select(Box::new(wrapped)),
        &fixture.params,
    )
    .await;
    rows[0].get(0)
}

async fn casts(client: &Client) {
    let row = as_json_row(client, common::casts_of_params()).await;
    assert_eq!(
        row,
        json!({
            "int4": 42,
            "text_array": ["a", "b"],
            "int4_2d": [[1, 2], [3, 4]],
            "jsonb": {"a": 2, "b": 1},
            "qualified": "2024-01-02T03:04:05+00:00",
            "quoted_char": "x",
            "concat_then_cast": 42,
            "negative": "-1",
            "null_param": null,
            "empty_array": [],
            "in_list": true,
            "not_in_empty": true,
        })
    );
}

async fn subscription_batch(client: &Client) {
    let rows = run(client, &common::subscription_batch_with_aggregates()).await;
    let results: Vec<(i64, String)> = rows
        .iter()
        .map(|row| (row.get(0), row.get::<_, Value>(1).to_string()))
        .collect();
    assert_eq!(
        results,
        [
            (
                1,
                r#"{"count":4,"authors":3,"tagged":2,"has_key":true,"size":"many"}"#.to_owned()
            ),
            (
                2,
                r#"{"count":2,"authors":2,"tagged":1,"has_key":false,"size":"many"}"#.to_owned()
            ),
        ]
    );
}

async fn wide_json_objects(client: &Client) {
    for pairs in [0, 1, 50, 51, 100, 101, 149, 150, 151, 400] {
        let rows = run(client, &common::wide_json_object(pairs)).await;
        let object: Value = rows[0].get(0);
        let entries: Vec<(String, i64)> = object
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| (key.clone(), value.as_i64().unwrap()))
            .collect();
        let expected: Vec<(String, i64)> =
            (0..pairs as i64).map(|n| (format!("k{n}"), n)).collect();
        assert_eq!(entries, expected, "json_object of {pairs} pairs");
    }
}

/// Names with quotes, unicode, keywords, injection attempts and lengths
/// around the 63-byte limit, as table, column, alias and json key.
async fn odd_identifiers(client: &Client) {
    let schema = "sch\"ema ü";
    let table = "tab\"le 😀";
    let quoted_column = "co\"l é";
    // 31 two-byte characters and one ASCII one: exactly 63 bytes.
    let full_column = format!("{}x", "é".repeat(31));
    assert_eq!(full_column.len(), 63);
    let ddl = format!(
        "CREATE SCHEMA {s}; CREATE TABLE {s}.{t} ({c} text, {f} int4); \
         INSERT INTO {s}.{t} VALUES ('v', 7);",
        s = quote_identifier(schema).unwrap(),
        t = quote_identifier(table).unwrap(),
        c = quote_identifier(quoted_column).unwrap(),
        f = quote_identifier(&full_column).unwrap(),
    );
    client.batch_execute(&ddl).await.unwrap();

    // Two aliases that Postgres would cut to the same 63 bytes.
    let long = "a_very_long_relationship_name_that_goes_on_and_on_past_the_limit_";
    let (alias_a, alias_b) = (format!("{long}author"), format!("{long}editor"));
    let table_alias = TableAlias::new(format!("{long}table"));
    let odd_key = "it's a \\ \"key\"";
    let select = Select {
        from: Some(From::Table {
            name: TableName::new(schema, table),
            alias: table_alias.clone(),
        }),
        ..Select::new(vec![
            (
                column(&table_alias, quoted_column),
                ColumnAlias::new(alias_a.as_str()),
            ),
            (
                column(&table_alias, full_column.as_str()),
                ColumnAlias::new(alias_b.as_str()),
            ),
            (
                json_object(vec![(odd_key.to_owned(), string("it's"))]),
                ColumnAlias::new("object"),
            ),
        ])
    };
    let row = as_json_row(
        client,
        Fixture {
            statement: Statement::Select(Box::new(select)),
            params: Params::new(),
        },
    )
    .await;
    let mut expected = serde_json::Map::new();
    expected.insert(shorten_identifier(&alias_a).into_owned(), json!("v"));
    expected.insert(shorten_identifier(&alias_b).into_owned(), json!(7));
    expected.insert("object".into(), json!({ odd_key: "it's" }));
    assert_eq!(row, Value::Object(expected));

    // Postgres reports each name back exactly as the printer meant it.
    let names = [
        "\"",
        "\"\"",
        "a\"b",
        " ",
        "select",
        "Ünïcödé 😀",
        "'; DROP TABLE public.author; --",
        "\\",
        "$1",
        &full_column,
        &"x".repeat(64),
        &"😀".repeat(30),
    ];
    for name in names {
        let statement = Statement::Select(Box::new(Select::new(vec![(
            Expr::Int(1),
            ColumnAlias::new(name),
        )])));
        let prepared = client.prepare(&print(&statement).unwrap()).await.unwrap();
        assert_eq!(
            prepared.columns()[0].name(),
            shorten_identifier(name),
            "{name:?}"
        );
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM public.author", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
}
