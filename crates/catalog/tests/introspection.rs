//! Loads the catalog of a real database built from `fixtures/schema.sql` and checks every
//! kind of object it describes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use graft_catalog::{
    Column, Constraint, DbCatalog, ForeignKey, PgType, PgTypeKind, QualifiedName, TableKind,
    Volatility,
};
use graft_pgtemp::Cluster;

const SCHEMA: &str = include_str!("fixtures/schema.sql");

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn public(name: &str) -> QualifiedName {
    QualifiedName::new("public", name)
}

fn builtin(name: &str, display: &str) -> PgType {
    PgType {
        schema: "pg_catalog".into(),
        name: name.into(),
        kind: PgTypeKind::Base,
        element: None,
        base: None,
        display: display.into(),
    }
}

fn column<'a>(catalog: &'a DbCatalog, table: &str, column: &str) -> &'a Column {
    catalog
        .table(&public(table))
        .unwrap_or_else(|| panic!("no table {table}"))
        .column(column)
        .unwrap_or_else(|| panic!("no column {table}.{column}"))
}

#[tokio::test]
async fn loads_fixture_schema() {
    let cluster = Cluster::temporary().await.unwrap();
    cluster.create_database("catalog_test").await.unwrap();
    let client = connect(&cluster.url("catalog_test")).await;
    client.batch_execute(SCHEMA).await.unwrap();

    let catalog = graft_catalog::load(&client).await.unwrap();
    check_tables(&catalog);
    check_columns(&catalog);
    check_keys(&catalog);
    check_views(&catalog);
    check_functions(&catalog);
    check_types(&catalog);

    // the serde shape round-trips through JSON unchanged
    let json = serde_json::to_string(&catalog).unwrap();
    let reloaded: DbCatalog = serde_json::from_str(&json).unwrap();
    assert_eq!(reloaded, catalog);

    check_inside_transaction(&client).await;

    drop(client);
    cluster.stop().await.unwrap();
}

/// `run_sql` reloads the catalog inside the transaction that ran the DDL: the reload must
/// see the uncommitted change and leave the transaction open.
async fn check_inside_transaction(client: &tokio_postgres::Client) {
    client
        .batch_execute("BEGIN; CREATE TABLE uncommitted (id int)")
        .await
        .unwrap();
    let inside = graft_catalog::load(client).await.unwrap();
    assert!(inside.table(&public("uncommitted")).is_some());
    client.batch_execute("ROLLBACK").await.unwrap();
    let after = graft_catalog::load(client).await.unwrap();
    assert!(after.table(&public("uncommitted")).is_none());
}

fn check_tables(catalog: &DbCatalog) {
    let names: Vec<String> = catalog.tables.keys().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "public.author",
            "public.author_counts",
            "public.author_names",
            "public.book",
            "public.book_titles",
            "public.event",
            "public.event_2024",
            "public.event_2025",
            "public.event_note",
            "public.remote_thing",
            "public.review",
            "shop.item",
        ],
        "hdb_catalog and system schemas are left out; order is by schema, then name"
    );
    let author = catalog.table(&public("author")).unwrap();
    assert_eq!(author.kind, TableKind::Table);
    assert!(author.oid > 0);
    assert_eq!(author.description.as_deref(), Some("People who write"));
    assert_eq!(author.check_constraints, ["author_name_not_empty"]);
    assert!(author.is_insertable && author.is_updatable && author.is_deletable);
    assert!(author.triggers.is_empty());

    let review = catalog.table(&public("review")).unwrap();
    assert_eq!(review.triggers, ["review_touch_trigger"]);

    let item = catalog.table(&QualifiedName::new("shop", "item")).unwrap();
    let address = &item.column("address").unwrap().pg_type;
    assert_eq!(address.kind, PgTypeKind::Composite);
    assert_eq!(address.name, "address");

    // nesting: a domain over an array, an array of domains, a domain over a domain
    let labels = &item.column("labels").unwrap().pg_type;
    assert_eq!(
        (labels.kind, labels.name.as_str()),
        (PgTypeKind::Domain, "tag_list")
    );
    let labels_base = labels.underlying();
    assert_eq!(labels_base.kind, PgTypeKind::Array);
    assert_eq!(
        labels_base.element.as_deref(),
        Some(&builtin("text", "text"))
    );

    let ages = &item.column("ages").unwrap().pg_type;
    assert_eq!(ages.kind, PgTypeKind::Array);
    assert_eq!(ages.display, "positive_int[]");
    let age = ages.element.as_deref().unwrap();
    assert_eq!(
        (age.kind, age.name.as_str()),
        (PgTypeKind::Domain, "positive_int")
    );
    assert_eq!(age.underlying(), &builtin("int4", "integer"));

    let rank = &item.column("rank").unwrap().pg_type;
    assert_eq!(rank.name, "small_positive_int");
    assert_eq!(
        rank.underlying(),
        &builtin("int4", "integer"),
        "the base is the first non-domain type under a stack of domains"
    );
}

fn check_columns(catalog: &DbCatalog) {
    let author = catalog.table(&public("author")).unwrap();
    let names: Vec<&str> = author.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "name",
            "email",
            "path",
            "tags",
            "scores",
            "mood",
            "age",
            "nickname",
            "name_upper"
        ]
    );

    let id = column(catalog, "author", "id");
    assert_eq!(id.position, 1);
    assert_eq!(id.pg_type, builtin("int4", "integer"));
    assert!(!id.is_nullable && id.has_default && !id.is_identity && !id.is_generated);

    let name = column(catalog, "author", "name");
    assert_eq!(name.description.as_deref(), Some("Full name"));
    assert!(!name.is_nullable && !name.has_default);

    // extension types: described although the extension owns them
    let email = &column(catalog, "author", "email").pg_type;
    assert_eq!(
        (email.schema.as_str(), email.name.as_str()),
        ("public", "citext")
    );
    assert_eq!(email.kind, PgTypeKind::Base);
    assert_eq!(column(catalog, "author", "path").pg_type.name, "ltree");

    let tags = column(catalog, "author", "tags");
    assert_eq!(tags.pg_type.kind, PgTypeKind::Array);
    assert_eq!(tags.pg_type.name, "_text");
    assert_eq!(tags.pg_type.display, "text[]");
    assert_eq!(
        tags.pg_type.element.as_deref(),
        Some(&builtin("text", "text"))
    );
    assert!(!tags.is_nullable && tags.has_default);
    let scores = &column(catalog, "author", "scores").pg_type;
    assert_eq!(scores.display, "integer[]");
    assert_eq!(scores.element.as_deref(), Some(&builtin("int4", "integer")));

    let mood = &column(catalog, "author", "mood").pg_type;
    assert_eq!((mood.kind, mood.name.as_str()), (PgTypeKind::Enum, "mood"));

    let age = &column(catalog, "author", "age").pg_type;
    assert_eq!(
        (age.kind, age.name.as_str()),
        (PgTypeKind::Domain, "positive_int")
    );
    assert_eq!(age.underlying(), &builtin("int4", "integer"));

    let nickname = &column(catalog, "author", "nickname").pg_type;
    assert_eq!(nickname.name, "varchar");
    assert_eq!(nickname.display, "character varying(20)");

    let generated = column(catalog, "author", "name_upper");
    assert!(generated.is_generated && !generated.is_identity);

    // identity column; a dropped column leaves a gap in positions
    let review = catalog.table(&public("review")).unwrap();
    let positions: Vec<(&str, i32)> = review
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.position))
        .collect();
    assert_eq!(
        positions,
        [
            ("id", 1),
            ("book_edition", 2),
            ("book_isbn", 3),
            ("stars", 5)
        ]
    );
    let review_id = review.column("id").unwrap();
    assert!(review_id.is_identity && review_id.has_default && !review_id.is_generated);
    assert_eq!(review_id.pg_type, builtin("int8", "bigint"));
}

fn check_keys(catalog: &DbCatalog) {
    let author = catalog.table(&public("author")).unwrap();
    assert_eq!(
        author.primary_key,
        Some(Constraint {
            name: "author_pkey".into(),
            columns: vec!["id".into()]
        })
    );
    assert_eq!(
        author.unique_constraints,
        [Constraint {
            name: "author_email_key".into(),
            columns: vec!["email".into()]
        }]
    );

    let book = catalog.table(&public("book")).unwrap();
    assert_eq!(
        book.primary_key.as_ref().unwrap().columns,
        ["isbn", "edition"],
        "composite key in key order"
    );
    assert_eq!(
        book.unique_constraints,
        [Constraint {
            name: "book_title_edition_key".into(),
            columns: vec!["title".into(), "edition".into()]
        }]
    );
    assert_eq!(
        book.foreign_keys,
        [ForeignKey {
            name: "book_author_id_fkey".into(),
            columns: vec!["author_id".into()],
            ref_table: public("author"),
            ref_columns: vec!["id".into()],
        }]
    );

    let review = catalog.table(&public("review")).unwrap();
    assert_eq!(
        review.foreign_keys,
        [ForeignKey {
            name: "review_book_fkey".into(),
            columns: vec!["book_isbn".into(), "book_edition".into()],
            ref_table: public("book"),
            ref_columns: vec!["isbn".into(), "edition".into()],
        }],
        "columns pair up in constraint order, not table order"
    );

    let item = catalog.table(&QualifiedName::new("shop", "item")).unwrap();
    assert_eq!(item.foreign_keys.len(), 1);
    assert_eq!(item.foreign_keys[0].ref_table, public("author"));

    let event = catalog.table(&public("event")).unwrap();
    assert_eq!(event.kind, TableKind::PartitionedTable);
    assert_eq!(event.primary_key.as_ref().unwrap().columns, ["id", "at"]);
    assert_eq!(
        catalog.table(&public("event_2024")).unwrap().kind,
        TableKind::Table
    );
    assert_eq!(
        catalog.table(&public("event_note")).unwrap().foreign_keys,
        [ForeignKey {
            name: "event_note_event_fkey".into(),
            columns: vec!["event_id".into(), "event_at".into()],
            ref_table: public("event"),
            ref_columns: vec!["id".into(), "at".into()],
        }],
        "the per-partition copies Postgres keeps of this key are not listed"
    );
}

fn check_views(catalog: &DbCatalog) {
    let names = catalog.table(&public("author_names")).unwrap();
    assert_eq!(names.kind, TableKind::View);
    assert!(names.is_insertable && names.is_updatable && names.is_deletable);
    assert!(names.primary_key.is_none());
    assert!(names.column("id").unwrap().is_nullable);

    let counts = catalog.table(&public("author_counts")).unwrap();
    assert_eq!(counts.kind, TableKind::View);
    assert!(!counts.is_insertable && !counts.is_updatable && !counts.is_deletable);

    let remote = catalog.table(&public("remote_thing")).unwrap();
    assert_eq!(remote.kind, TableKind::ForeignTable);
    assert_eq!(remote.columns.len(), 2);

    let titles = catalog.table(&public("book_titles")).unwrap();
    assert_eq!(titles.kind, TableKind::MaterializedView);
    assert!(!titles.is_insertable && !titles.is_updatable && !titles.is_deletable);
    assert_eq!(titles.columns.len(), 2);
}

fn check_functions(catalog: &DbCatalog) {
    let names: Vec<String> = catalog.functions.keys().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "public.add_ints",
            "public.bump_edition",
            "public.first_author",
            "public.review_touch",
            "public.search_authors",
        ],
        "no aggregates, procedures or citext/ltree/postgres_fdw functions"
    );

    let search = &catalog.function_overloads(&public("search_authors"))[0];
    assert!(search.returns_set);
    assert_eq!(search.return_table, Some(public("author")));
    assert_eq!(search.return_type.kind, PgTypeKind::Composite);
    assert_eq!(search.volatility, Volatility::Stable);
    assert_eq!(search.description.as_deref(), Some("Authors by name"));
    assert_eq!(search.default_args, 1);
    let arguments: Vec<(Option<&str>, &str, bool)> = search
        .arguments
        .iter()
        .map(|a| (a.name.as_deref(), a.pg_type.name.as_str(), a.has_default))
        .collect();
    assert_eq!(
        arguments,
        [
            (Some("pattern"), "text", false),
            (Some("max_age"), "int4", true)
        ]
    );

    let overloads = catalog.function_overloads(&public("add_ints"));
    let arities: Vec<usize> = overloads.iter().map(|f| f.arguments.len()).collect();
    assert_eq!(arities, [2, 3]);
    let add = &overloads[0];
    assert_eq!(add.volatility, Volatility::Immutable);
    assert!(!add.returns_set && add.return_table.is_none());
    assert_eq!(add.return_type, builtin("int4", "integer"));
    assert!(
        add.arguments
            .iter()
            .all(|a| a.name.is_none() && !a.has_default)
    );
    assert_ne!(overloads[0].oid, overloads[1].oid);

    let bump = &catalog.function_overloads(&public("bump_edition"))[0];
    assert_eq!(bump.volatility, Volatility::Volatile);
    assert_eq!(bump.arguments.len(), 1, "INOUT kept, OUT left out");
    assert_eq!(bump.arguments[0].name.as_deref(), Some("n"));
    assert_eq!(bump.return_type.kind, PgTypeKind::Pseudo);
    assert_eq!(bump.return_type.name, "record");

    let first = &catalog.function_overloads(&public("first_author"))[0];
    assert!(!first.returns_set);
    assert_eq!(first.return_table, Some(public("author")));

    assert!(catalog.function_overloads(&public("my_sum")).is_empty());
    assert!(catalog.function_overloads(&public("citext_eq")).is_empty());
}

fn check_types(catalog: &DbCatalog) {
    assert_eq!(
        catalog.enum_labels(&public("mood")),
        Some(&["sad".to_owned(), "ok".to_owned(), "happy".to_owned()][..])
    );
    assert_eq!(catalog.enum_types.len(), 1);

    let address = &catalog.composite_types[&public("address")];
    let fields: Vec<(&str, &str)> = address
        .iter()
        .map(|f| (f.name.as_str(), f.pg_type.display.as_str()))
        .collect();
    assert_eq!(
        fields,
        [("street", "text"), ("zip", "character varying(10)")]
    );
    assert_eq!(
        catalog.composite_types.len(),
        1,
        "tables' row types are not composite types here; ltree/citext add none"
    );
}

/// Hundreds of relations: the query still returns everything (timing is measured by hand
/// with EXPLAIN ANALYZE, not asserted).
#[tokio::test]
async fn loads_many_tables() {
    let cluster = Cluster::temporary().await.unwrap();
    cluster.create_database("catalog_many").await.unwrap();
    let client = connect(&cluster.url("catalog_many")).await;
    let mut ddl = String::new();
    for i in 0..200 {
        ddl.push_str(&format!(
            "CREATE TABLE t{i} (id serial PRIMARY KEY, name text NOT NULL UNIQUE, \
             parent_id int REFERENCES t{i} (id), created_at timestamptz DEFAULT now(), \
             tags text[], score numeric(10,2));
             CREATE VIEW v{i} AS SELECT id, name FROM t{i};
             CREATE FUNCTION f{i}(x int) RETURNS SETOF t{i} LANGUAGE sql STABLE \
             AS 'SELECT * FROM t{i} WHERE id = x';\n"
        ));
    }
    client.batch_execute(&ddl).await.unwrap();

    let catalog = graft_catalog::load(&client).await.unwrap();
    assert_eq!(catalog.tables.len(), 400);
    assert_eq!(catalog.functions.len(), 200);
    let t7 = catalog.table(&public("t7")).unwrap();
    assert_eq!(t7.columns.len(), 6);
    assert_eq!(t7.foreign_keys[0].ref_table, public("t7"));
    assert_eq!(t7.column("score").unwrap().pg_type.display, "numeric(10,2)");
    assert_eq!(
        catalog.function_overloads(&public("f7"))[0].return_table,
        Some(public("t7"))
    );

    drop(client);
    cluster.stop().await.unwrap();
}
