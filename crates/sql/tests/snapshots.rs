//! Printed SQL of representative statements, pinned with insta. Each
//! snapshot holds the SQL and its parameters; the same statements run against
//! a real Postgres in `postgres.rs`.

mod common;

use common::Fixture;
use graft_sql::*;

fn render(case: &Fixture) -> String {
    let sql = match print(&case.statement) {
        Ok(sql) => sql,
        Err(error) => panic!("print failed: {error}"),
    };
    let mut out = sql;
    out.push_str("\n\n-- params\n");
    for (position, value) in case.params.values().iter().enumerate() {
        out.push_str(&format!("${} = {value:?}\n", position + 1));
    }
    out
}

#[test]
fn nested_select_with_lateral_json_agg() {
    insta::assert_snapshot!(render(&common::nested_select_with_lateral_json_agg()));
}

#[test]
fn insert_on_conflict_in_with() {
    insta::assert_snapshot!(render(&common::insert_on_conflict_in_with()));
}

#[test]
fn update_with_session_filter() {
    insta::assert_snapshot!(render(&common::update_with_session_filter()));
}

#[test]
fn delete_with_in_and_exists() {
    insta::assert_snapshot!(render(&common::delete_with_in_and_exists()));
}

#[test]
fn distinct_on_with_nulls_last() {
    insta::assert_snapshot!(render(&common::distinct_on_with_nulls_last()));
}

#[test]
fn casts_of_params() {
    insta::assert_snapshot!(render(&common::casts_of_params()));
}

#[test]
fn subscription_batch_with_aggregates() {
    insta::assert_snapshot!(render(&common::subscription_batch_with_aggregates()));
}

#[test]
fn json_object_of_101_pairs_is_chunked() {
    insta::assert_snapshot!(render(&common::wide_json_object(101)));
}

#[test]
fn identifiers_with_quotes_unicode_and_long_names() {
    let long = "a_very_long_relationship_name_that_goes_on_and_on_past_the_limit";
    let table = TableAlias::new(format!("{long}_1"));
    let select = Select {
        from: Some(From::Table {
            name: TableName::new("sch\"ema ü", "tab\"le 😀"),
            alias: table.clone(),
        }),
        ..Select::new(vec![
            (
                helpers::column(&table, "co\"l é"),
                ColumnAlias::new(format!("{long}_2")),
            ),
            (
                helpers::string("it's a \\ key"),
                ColumnAlias::new("Case Kept"),
            ),
        ])
    };
    let sql = print(&Statement::Select(Box::new(select)));
    insta::assert_snapshot!(sql.unwrap_or_else(|error| error.to_string()));
}

#[test]
fn invalid_trees_are_errors() {
    let nul = Statement::Select(Box::new(Select::new(vec![(
        Expr::Null,
        ColumnAlias::new("a\0b"),
    )])));
    assert!(matches!(
        print(&nul),
        Err(PrintError::Identifier(IdentifierError::ContainsNul { .. }))
    ));

    let alias = TableAlias::new("_t0");
    let empty_update = Statement::Update(Box::new(Update {
        with: None,
        table: common::author(),
        alias,
        set: vec![],
        from: None,
        where_: None,
        returning: None,
    }));
    assert_eq!(
        print(&empty_update),
        Err(PrintError::EmptySet {
            statement: "UPDATE"
        })
    );

    let insert = |source, on_conflict| {
        Statement::Insert(Box::new(Insert {
            with: None,
            table: common::author(),
            alias: None,
            columns: vec![ColumnName::new("id")],
            source,
            on_conflict,
            returning: None,
        }))
    };
    let one_row = || InsertSource::Values(vec![vec![InsertValue::Default]]);
    assert_eq!(
        print(&insert(InsertSource::Values(vec![]), None)),
        Err(PrintError::EmptyValues)
    );
    assert_eq!(
        print(&insert(
            InsertSource::Values(vec![vec![InsertValue::Default, InsertValue::Default]]),
            None
        )),
        Err(PrintError::ValuesArity {
            row: 0,
            found: 2,
            expected: 1
        })
    );
    assert_eq!(
        print(&insert(
            one_row(),
            Some(OnConflict {
                target: None,
                action: ConflictAction::DoUpdate {
                    set: vec![(ColumnName::new("id"), Expr::Excluded(ColumnName::new("id")))],
                    where_: None,
                },
            })
        )),
        Err(PrintError::MissingConflictTarget)
    );
    assert_eq!(
        print(&insert(
            one_row(),
            Some(OnConflict {
                target: None,
                action: ConflictAction::DoNothing,
            })
        )),
        Ok(
            r#"INSERT INTO "public"."author" ("id") VALUES (DEFAULT) ON CONFLICT DO NOTHING"#
                .to_owned()
        )
    );
}

#[test]
fn printing_is_deterministic() {
    let first = render(&common::insert_on_conflict_in_with());
    let second = render(&common::insert_on_conflict_in_with());
    assert_eq!(first, second);
}
