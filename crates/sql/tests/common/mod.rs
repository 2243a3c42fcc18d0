//! Representative statements, shared by the snapshot tests and the
//! real-Postgres test so that every snapshotted statement is also proven to
//! run. They use this schema (see `postgres.rs` for the DDL):
//!
//! ```sql
//! public.author (id int4 PRIMARY KEY, name text, rating int4, owner text)
//! public.article (id int4 PRIMARY KEY, author_id int4, title text, published_at timestamptz,
//!                 tags text[], meta jsonb)
//! ```
#![allow(dead_code)]

use graft_sql::helpers::{
    and, binary, builtin, cast, coalesce, column, count_star, eq, exists, json_agg_or_empty,
    json_array_rows, json_object, left_join_lateral, or, select_json_root, session_variable,
    string,
};
use graft_sql::*;

pub fn author() -> TableName {
    TableName::new("public", "author")
}

pub fn article() -> TableName {
    TableName::new("public", "article")
}

pub fn int4() -> TypeName {
    TypeName::new("int4")
}

/// A statement and its parameters, `$1` being the session variables.
pub struct Fixture {
    pub statement: Statement,
    pub params: Params,
}

fn session_params() -> Params {
    let mut params = Params::new();
    params.push_text(r#"{"x-hasura-role":"user","x-hasura-user-id":"alice"}"#);
    params
}

/// `{ author(where: {name: {_ilike: "%a%"}}, order_by: {id: asc}, limit: 10)
///    { id name articles(order_by: {id: desc}) { title } } }`
pub fn nested_select_with_lateral_json_agg() -> Fixture {
    let mut params = session_params();
    let mut aliases = AliasGenerator::new();
    let root = TableAlias::new("_root");
    let base = aliases.next_alias();
    let rel = aliases.next_prefixed("rel");
    let nested = aliases.next_alias();

    let name_filter = params.push_text("%a%");
    let base_rows = Select {
        where_: Some(binary(column(&base, "name"), Op::ILike, name_filter)),
        order_by: vec![OrderByElement::asc(column(&base, "id"))],
        limit: Some(Expr::Int(10)),
        from: Some(From::Table {
            name: author(),
            alias: base.clone(),
        }),
        ..Select::new(vec![
            (column(&base, "id"), ColumnAlias::new("id")),
            (column(&base, "name"), ColumnAlias::new("name")),
        ])
    };
    let articles = Select {
        from: Some(From::Table {
            name: article(),
            alias: nested.clone(),
        }),
        where_: Some(eq(column(&nested, "author_id"), column(&root, "id"))),
        ..Select::new(vec![(
            json_agg_or_empty(
                json_object(vec![("title".into(), column(&nested, "title"))]),
                vec![OrderByElement::desc(column(&nested, "id"))],
            ),
            ColumnAlias::new("articles"),
        )])
    };
    let authors = Select {
        from: Some(From::Subquery {
            select: Box::new(base_rows),
            alias: root.clone(),
            lateral: false,
        }),
        joins: vec![left_join_lateral(articles, rel.clone())],
        ..Select::new(vec![(
            json_agg_or_empty(
                json_object(vec![
                    ("id".into(), column(&root, "id")),
                    ("name".into(), column(&root, "name")),
                    ("articles".into(), column(&rel, "articles")),
                ]),
                vec![OrderByElement::asc(column(&root, "id"))],
            ),
            ColumnAlias::new("root"),
        )])
    };
    let statement = select_json_root(vec![
        ("author".into(), Expr::ScalarSubquery(Box::new(authors))),
        ("__typename".into(), string("query_root")),
    ]);
    Fixture {
        statement: Statement::Select(Box::new(statement)),
        params,
    }
}

/// An upsert of two authors as a data-modifying CTE, with a permission
/// check column and the mutation response built from the CTE.
pub fn insert_on_conflict_in_with() -> Fixture {
    let mut params = session_params();
    let mut aliases = AliasGenerator::new();
    let cte = aliases.next_prefixed("ins");
    let target = aliases.next_alias();
    let rows = vec![
        vec![
            InsertValue::Expr(cast(params.push_text("1"), int4())),
            InsertValue::Expr(params.push_text("Ann \"the\" O'Brien")),
            InsertValue::Expr(session_variable(
                ParamIndex::from_one_based(1).unwrap_or_else(|| unreachable!()),
                "x-hasura-user-id",
            )),
        ],
        vec![
            InsertValue::Expr(cast(params.push_text("2"), int4())),
            InsertValue::Default,
            InsertValue::Expr(params.push(None)),
        ],
    ];
    let check = or(vec![
        Expr::IsNull(Box::new(column(&target, "owner"))),
        eq(
            column(&target, "owner"),
            session_variable(
                ParamIndex::from_one_based(1).unwrap_or_else(|| unreachable!()),
                "x-hasura-user-id",
            ),
        ),
    ]);
    let insert = Insert {
        with: None,
        table: author(),
        alias: Some(target.clone()),
        columns: vec![
            ColumnName::new("id"),
            ColumnName::new("name"),
            ColumnName::new("owner"),
        ],
        source: InsertSource::Values(rows),
        on_conflict: Some(OnConflict {
            target: Some(ConflictTarget::Constraint("author_pkey".into())),
            action: ConflictAction::DoUpdate {
                set: vec![(
                    ColumnName::new("name"),
                    coalesce(
                        Expr::Excluded(ColumnName::new("name")),
                        column(&target, "name"),
                    ),
                )],
                where_: Some(binary(column(&target, "id"), Op::Gt, Expr::Int(0))),
            },
        }),
        returning: Some(SelectList::StarAnd(vec![(
            check,
            ColumnAlias::new("check__"),
        )])),
    };
    let read = |alias: TableAlias| From::Cte {
        cte: cte.clone(),
        alias,
    };
    let (count_alias, rows_alias, check_alias) = (
        aliases.next_alias(),
        aliases.next_alias(),
        aliases.next_alias(),
    );
    let response = json_object(vec![
        (
            "affected_rows".into(),
            Expr::ScalarSubquery(Box::new(Select {
                from: Some(read(count_alias)),
                ..Select::new(vec![(count_star(), ColumnAlias::new("count"))])
            })),
        ),
        (
            "returning".into(),
            Expr::ScalarSubquery(Box::new(Select {
                from: Some(read(rows_alias.clone())),
                ..Select::new(vec![(
                    json_agg_or_empty(
                        json_object(vec![
                            ("id".into(), column(&rows_alias, "id")),
                            ("name".into(), column(&rows_alias, "name")),
                        ]),
                        vec![OrderByElement::asc(column(&rows_alias, "id"))],
                    ),
                    ColumnAlias::new("root"),
                )])
            })),
        ),
    ]);
    let all_checks_pass = Expr::ScalarSubquery(Box::new(Select {
        from: Some(read(check_alias.clone())),
        ..Select::new(vec![(
            builtin("bool_and", vec![column(&check_alias, "check__")]),
            ColumnAlias::new("ok"),
        )])
    }));
    let statement = Select {
        with: Some(With {
            ctes: vec![Cte {
                alias: cte.clone(),
                statement: Statement::Insert(Box::new(insert)),
            }],
        }),
        ..Select::new(vec![
            (response, ColumnAlias::new("data")),
            (all_checks_pass, ColumnAlias::new("check")),
        ])
    };
    Fixture {
        statement: Statement::Select(Box::new(statement)),
        params,
    }
}

/// `update_author(where: {id: {_eq: 1}}, _set: {name: "Bea"}, _inc: {rating: 2})`
/// for a role that may only update its own rows.
pub fn update_with_session_filter() -> Fixture {
    let mut params = session_params();
    let target = AliasGenerator::new().next_alias();
    let session = ParamIndex::from_one_based(1).unwrap_or_else(|| unreachable!());
    let update = Update {
        with: None,
        table: author(),
        alias: target.clone(),
        set: vec![
            (ColumnName::new("name"), params.push_text("Bea")),
            (
                ColumnName::new("rating"),
                binary(
                    coalesce(column(&target, "rating"), Expr::Int(0)),
                    Op::Plus,
                    cast(params.push_text("2"), int4()),
                ),
            ),
        ],
        from: None,
        where_: Some(and(vec![
            eq(column(&target, "id"), cast(params.push_text("1"), int4())),
            eq(
                column(&target, "owner"),
                session_variable(session, "x-hasura-user-id"),
            ),
        ])),
        returning: Some(SelectList::Items(vec![
            (column(&target, "id"), ColumnAlias::new("id")),
            (column(&target, "rating"), ColumnAlias::new("rating")),
        ])),
    };
    Fixture {
        statement: Statement::Update(Box::new(update)),
        params,
    }
}

/// `delete_article(where: {_or: [{id: {_in: [3, 4]}}, {title: {_is_null: true}}],
///                  author: {name: {_eq: "Bea"}}})`
pub fn delete_with_in_and_exists() -> Fixture {
    let mut params = session_params();
    let mut aliases = AliasGenerator::new();
    let target = aliases.next_alias();
    let related = aliases.next_alias();
    let ids = cast(params.push_text("{3,4}"), int4().array());
    let author_name = params.push_text("Bea");
    let delete = Delete {
        with: None,
        table: article(),
        alias: target.clone(),
        where_: Some(and(vec![
            or(vec![
                Expr::Quantified {
                    left: Box::new(column(&target, "id")),
                    op: Op::Eq,
                    quantifier: Quantifier::Any,
                    right: Box::new(ids),
                },
                Expr::IsNull(Box::new(column(&target, "title"))),
            ]),
            exists(
                From::Table {
                    name: author(),
                    alias: related.clone(),
                },
                and(vec![
                    eq(column(&related, "id"), column(&target, "author_id")),
                    eq(column(&related, "name"), author_name),
                ]),
            ),
        ])),
        returning: Some(SelectList::Items(vec![(
            column(&target, "id"),
            ColumnAlias::new("id"),
        )])),
    };
    Fixture {
        statement: Statement::Delete(Box::new(delete)),
        params,
    }
}

/// `article(distinct_on: author_id, order_by: [{author_id: asc},
///   {published_at: desc_nulls_last}], limit: 5, offset: $offset)`
pub fn distinct_on_with_nulls_last() -> Fixture {
    let mut params = session_params();
    let table = AliasGenerator::new().next_alias();
    let offset = cast(params.push_text("0"), TypeName::new("int8"));
    let select = Select {
        distinct_on: vec![column(&table, "author_id")],
        from: Some(From::Table {
            name: article(),
            alias: table.clone(),
        }),
        order_by: vec![
            OrderByElement::asc(column(&table, "author_id")),
            OrderByElement::desc(column(&table, "published_at")).nulls(NullsOrder::Last),
            OrderByElement::asc(column(&table, "id")).nulls(NullsOrder::First),
        ],
        limit: Some(Expr::Int(5)),
        offset: Some(offset),
        ..Select::new(vec![
            (column(&table, "author_id"), ColumnAlias::new("author_id")),
            (column(&table, "id"), ColumnAlias::new("id")),
        ])
    };
    Fixture {
        statement: Statement::Select(Box::new(select)),
        params,
    }
}

/// Parameters cast to built-in, array, qualified and quoted types, and
/// casts that need parentheses.
pub fn casts_of_params() -> Fixture {
    let mut params = Params::new();
    let mut items = Vec::new();
    let mut item = |expr: Expr, alias: &str| items.push((expr, ColumnAlias::new(alias)));
    item(cast(params.push_text("42"), int4()), "int4");
    item(
        cast(params.push_text("{a,b}"), TypeName::new("text").array()),
        "text_array",
    );
    item(
        cast(params.push_text("{{1,2},{3,4}}"), int4().array().array()),
        "int4_2d",
    );
    item(
        cast(params.push_text(r#"{"b":1,"a":2}"#), TypeName::new("jsonb")),
        "jsonb",
    );
    item(
        cast(
            params.push_text("2024-01-02T03:04:05Z"),
            TypeName::qualified("pg_catalog", "timestamptz"),
        ),
        "qualified",
    );
    item(
        cast(params.push_text("x"), TypeName::new("char")),
        "quoted_char",
    );
    item(
        cast(
            binary(params.push_text("4"), Op::Concat, params.push_text("2")),
            int4(),
        ),
        "concat_then_cast",
    );
    item(cast(Expr::Int(-1), TypeName::new("text")), "negative");
    item(
        cast(params.push(None), TypeName::new("integer")),
        "null_param",
    );
    item(
        cast(Expr::Array(vec![]), TypeName::new("text").array()),
        "empty_array",
    );
    item(
        Expr::InList {
            expr: Box::new(cast(params.push_text("b"), TypeName::new("text"))),
            list: vec![string("a"), string("b")],
            negated: false,
        },
        "in_list",
    );
    item(
        Expr::InList {
            expr: Box::new(Expr::Int(1)),
            list: vec![],
            negated: true,
        },
        "not_in_empty",
    );
    Fixture {
        statement: Statement::Select(Box::new(Select::new(items))),
        params,
    }
}

/// A multiplexed subscription batch: one row per cohort from a JSON array
/// parameter, the query joined LATERAL to it, with aggregates that use
/// FILTER and DISTINCT, a CASE, and jsonb/array operators.
pub fn subscription_batch_with_aggregates() -> Fixture {
    let mut params = Params::new();
    let mut aliases = AliasGenerator::new();
    let cohorts = aliases.next_prefixed("cohort");
    let result = aliases.next_prefixed("rel");
    let table = aliases.next_alias();
    let cohort_json = cast(
        params.push_text(r#"[{"min":1},{"min":3}]"#),
        TypeName::new("json"),
    );
    let cohort_min = cast(
        binary(column(&cohorts, "value"), Op::JsonGetText, string("min")),
        int4(),
    );
    let count_distinct = Expr::FunctionCall(Box::new(FunctionCall {
        distinct: true,
        ..FunctionCall::new(
            FunctionName::Builtin("count"),
            vec![column(&table, "author_id")],
        )
    }));
    let count_tagged = Expr::FunctionCall(Box::new(FunctionCall {
        filter: Some(binary(
            column(&table, "tags"),
            Op::Contains,
            cast(params.push_text("{rust}"), TypeName::new("text").array()),
        )),
        ..FunctionCall::new(FunctionName::Builtin("count"), vec![Expr::Star])
    }));
    let has_key = builtin(
        "bool_or",
        vec![binary(
            column(&table, "meta"),
            Op::HasKeyAny,
            cast(
                params.push_text("{draft,review}"),
                TypeName::new("text").array(),
            ),
        )],
    );
    let size = Expr::Case(Box::new(graft_sql::Case {
        when_then: vec![(binary(count_star(), Op::Gt, Expr::Int(1)), string("many"))],
        else_: Some(string("few")),
    }));
    let aggregate = Select {
        from: Some(From::Table {
            name: article(),
            alias: table.clone(),
        }),
        where_: Some(binary(column(&table, "id"), Op::GtEq, cohort_min)),
        ..Select::new(vec![(
            json_object(vec![
                ("count".into(), count_star()),
                ("authors".into(), count_distinct),
                ("tagged".into(), count_tagged),
                ("has_key".into(), has_key),
                ("size".into(), size),
            ]),
            ColumnAlias::new("root"),
        )])
    };
    let select = Select {
        from: Some(json_array_rows(cohort_json, cohorts.clone())),
        joins: vec![left_join_lateral(aggregate, result.clone())],
        order_by: vec![OrderByElement::asc(column(&cohorts, "ordinality"))],
        ..Select::new(vec![
            (column(&cohorts, "ordinality"), ColumnAlias::new("cohort")),
            (column(&result, "root"), ColumnAlias::new("result")),
        ])
    };
    Fixture {
        statement: Statement::Select(Box::new(select)),
        params,
    }
}

/// `json_object` of `pairs` keys `k0..`, each value `$n::int4` = its number.
pub fn wide_json_object(pairs: usize) -> Fixture {
    let mut params = Params::new();
    let fields = (0..pairs)
        .map(|n| {
            (
                format!("k{n}"),
                cast(params.push_text(n.to_string()), int4()),
            )
        })
        .collect();
    Fixture {
        statement: Statement::Select(Box::new(Select::new(vec![(
            json_object(fields),
            ColumnAlias::new("data"),
        )]))),
        params,
    }
}
