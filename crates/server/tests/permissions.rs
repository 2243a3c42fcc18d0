//! Role-based permissions end to end, on a real PostgreSQL:
//! - a matrix: for select, insert, update and delete, two roles with different filters over the
//!   same rows, asserting exactly which rows and columns each one sees or changes;
//! - inherited roles: the union of the parents' select permissions (with columns only some
//!   parents grant shown as null elsewhere, and never leaking through `where`, `order_by` or
//!   aggregates), nested inherited roles, overrides, and mutation permissions inherited only
//!   when the parents agree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, cluster_with_database, config, start_server};
use serde_json::{Value, json};

async fn gql(server: &TestServer, headers: &[(&str, &str)], query: &str) -> Value {
    let (status, body) = server
        .post_with("/v1/graphql", &json!({ "query": query }), headers)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn ok_metadata(server: &TestServer, body: Value) {
    let (status, reply) = server.metadata(body.clone()).await;
    assert_eq!(status, 200, "{body} → {reply}");
}

/// The ids of `doc` as admin sees them, with one column.
async fn doc_rows(server: &TestServer, column: &str) -> Value {
    let body = gql(
        server,
        &[],
        &format!("{{ doc(order_by: {{id: asc}}) {{ id {column} }} }}"),
    )
    .await;
    body["data"]["doc"].clone()
}

const SEED: &str = "
    TRUNCATE doc;
    INSERT INTO doc (id, owner_id, team_id, title, secret) VALUES
      (1, 1, 10, 'a', 's1'),
      (2, 1, 20, 'b', 's2'),
      (3, 2, 10, 'c', 's3'),
      (4, 2, 20, 'd', 's4'),
      (5, 3, 30, 'e', 's5');
";

/// `owner` works on its own documents (by `X-Hasura-User-Id`), `team` on its team's (by
/// `X-Hasura-Team-Id`); both are set up for every kind of permission with different columns.
async fn matrix_server() -> (graft_pgtemp::Cluster, TestServer) {
    let (cluster, url) = cluster_with_database("perm_matrix").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE doc (id int PRIMARY KEY, owner_id int NOT NULL, team_id int NOT NULL,
                               title text NOT NULL, secret text);",
        )
        .await;
    server.run_sql(SEED).await;
    let table = json!("doc");
    ok_metadata(
        &server,
        json!({"type": "pg_track_table", "args": {"table": table}}),
    )
    .await;
    let permissions = json!([
        {"type": "pg_create_select_permission", "args": {"table": "doc", "role": "owner",
            "permission": {"columns": ["id", "owner_id", "title", "secret"],
                           "filter": {"owner_id": {"_eq": "X-Hasura-User-Id"}}}}},
        {"type": "pg_create_select_permission", "args": {"table": "doc", "role": "team",
            "permission": {"columns": ["id", "team_id", "title"],
                           "filter": {"team_id": {"_eq": "X-Hasura-Team-Id"}}}}},
        {"type": "pg_create_insert_permission", "args": {"table": "doc", "role": "owner",
            "permission": {"columns": ["id", "title", "secret", "team_id"],
                           "set": {"owner_id": "X-Hasura-User-Id"},
                           "check": {"owner_id": {"_eq": "X-Hasura-User-Id"}}}}},
        {"type": "pg_create_insert_permission", "args": {"table": "doc", "role": "team",
            "permission": {"columns": ["id", "title", "owner_id", "team_id"],
                           "check": {"team_id": {"_eq": "X-Hasura-Team-Id"}}}}},
        {"type": "pg_create_update_permission", "args": {"table": "doc", "role": "owner",
            "permission": {"columns": ["title", "secret"],
                           "filter": {"owner_id": {"_eq": "X-Hasura-User-Id"}}}}},
        {"type": "pg_create_update_permission", "args": {"table": "doc", "role": "team",
            "permission": {"columns": ["title"],
                           "filter": {"team_id": {"_eq": "X-Hasura-Team-Id"}},
                           "check": {"title": {"_neq": "forbidden"}}}}},
        {"type": "pg_create_delete_permission", "args": {"table": "doc", "role": "owner",
            "permission": {"filter": {"owner_id": {"_eq": "X-Hasura-User-Id"}}}}},
        {"type": "pg_create_delete_permission", "args": {"table": "doc", "role": "team",
            "permission": {"filter": {"_and": [{"team_id": {"_eq": "X-Hasura-Team-Id"}},
                                               {"title": {"_neq": "c"}}]}}}}
    ]);
    ok_metadata(&server, json!({"type": "bulk", "args": permissions})).await;
    (cluster, server)
}

const OWNER_1: &[(&str, &str)] = &[("x-hasura-role", "owner"), ("x-hasura-user-id", "1")];
const TEAM_10: &[(&str, &str)] = &[("x-hasura-role", "team"), ("x-hasura-team-id", "10")];

#[tokio::test]
async fn permission_matrix() {
    let (_cluster, server) = matrix_server().await;

    // select: rows by each role's filter, columns by each role's list.
    let body = gql(
        &server,
        OWNER_1,
        "{ doc(order_by: {id: asc}) { id owner_id title secret } }",
    )
    .await;
    assert_eq!(
        body["data"]["doc"],
        json!([{"id": 1, "owner_id": 1, "title": "a", "secret": "s1"},
               {"id": 2, "owner_id": 1, "title": "b", "secret": "s2"}])
    );
    let body = gql(
        &server,
        TEAM_10,
        "{ doc(order_by: {id: asc}) { id team_id title } }",
    )
    .await;
    assert_eq!(
        body["data"]["doc"],
        json!([{"id": 1, "team_id": 10, "title": "a"}, {"id": 3, "team_id": 10, "title": "c"}])
    );
    for (headers, column) in [
        (OWNER_1, "team_id"),
        (TEAM_10, "secret"),
        (TEAM_10, "owner_id"),
    ] {
        let body = gql(&server, headers, &format!("{{ doc {{ id {column} }} }}")).await;
        assert_eq!(
            body["errors"][0]["message"],
            json!(format!("field '{column}' not found in type: 'doc'")),
            "{column}: {body}"
        );
    }
    // A client `where` cannot widen the filter.
    let body = gql(
        &server,
        TEAM_10,
        "{ doc(where: {id: {_in: [2, 4, 5]}}) { id } }",
    )
    .await;
    assert_eq!(body["data"]["doc"], json!([]));
    let body = gql(&server, OWNER_1, "{ doc_by_pk(id: 3) { id } }").await;
    assert_eq!(body["data"]["doc_by_pk"], Value::Null);

    // insert: owner_id comes from the session for `owner`; each role's check is its own.
    let body = gql(
        &server,
        OWNER_1,
        r#"mutation { insert_doc(objects: [{id: 6, title: "f", team_id: 20}]) { returning { id owner_id title } } }"#,
    )
    .await;
    assert_eq!(
        body["data"]["insert_doc"]["returning"],
        json!([{"id": 6, "owner_id": 1, "title": "f"}])
    );
    let body = gql(
        &server,
        OWNER_1,
        r#"mutation { insert_doc(objects: [{id: 7, title: "g", team_id: 20, owner_id: 2}]) { affected_rows } }"#,
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("owner_id"),
        "{body}"
    );
    let body = gql(
        &server,
        TEAM_10,
        r#"mutation { insert_doc(objects: [{id: 7, title: "g", owner_id: 3, team_id: 10}]) { affected_rows } }"#,
    )
    .await;
    assert_eq!(body["data"]["insert_doc"]["affected_rows"], json!(1));
    let body = gql(
        &server,
        TEAM_10,
        r#"mutation { insert_doc(objects: [{id: 8, title: "h", owner_id: 3, team_id: 20}]) { affected_rows } }"#,
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        json!("permission-error"),
        "{body}"
    );
    assert_eq!(
        doc_rows(&server, "owner_id").await,
        json!([{"id": 1, "owner_id": 1}, {"id": 2, "owner_id": 1}, {"id": 3, "owner_id": 2},
               {"id": 4, "owner_id": 2}, {"id": 5, "owner_id": 3}, {"id": 6, "owner_id": 1},
               {"id": 7, "owner_id": 3}])
    );

    // update: the same unrestricted `where` changes different rows for each role.
    server.run_sql(SEED).await;
    let body = gql(
        &server,
        OWNER_1,
        r#"mutation { update_doc(where: {}, _set: {title: "o"}) { affected_rows } }"#,
    )
    .await;
    assert_eq!(body["data"]["update_doc"]["affected_rows"], json!(2));
    let body = gql(
        &server,
        TEAM_10,
        r#"mutation { update_doc(where: {}, _set: {title: "t"}) { affected_rows } }"#,
    )
    .await;
    assert_eq!(body["data"]["update_doc"]["affected_rows"], json!(2));
    assert_eq!(
        doc_rows(&server, "title").await,
        json!([{"id": 1, "title": "t"}, {"id": 2, "title": "o"}, {"id": 3, "title": "t"},
               {"id": 4, "title": "d"}, {"id": 5, "title": "e"}])
    );
    // Columns outside a role's update list are not in its `_set`; a failing check rolls back.
    let body = gql(
        &server,
        TEAM_10,
        r#"mutation { update_doc(where: {}, _set: {secret: "x"}) { affected_rows } }"#,
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        json!("validation-failed"),
        "{body}"
    );
    let body = gql(
        &server,
        TEAM_10,
        r#"mutation { update_doc(where: {}, _set: {title: "forbidden"}) { affected_rows } }"#,
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        json!("permission-error"),
        "{body}"
    );
    assert_eq!(
        doc_rows(&server, "title").await[0],
        json!({"id": 1, "title": "t"})
    );

    // delete: owner 1 deletes its two rows; team 10 deletes row 1 of its rows but not 'c'.
    server.run_sql(SEED).await;
    let body = gql(
        &server,
        TEAM_10,
        "mutation { delete_doc(where: {}) { affected_rows returning { id } } }",
    )
    .await;
    assert_eq!(
        body["data"]["delete_doc"],
        json!({"affected_rows": 1, "returning": [{"id": 1}]})
    );
    let body = gql(
        &server,
        OWNER_1,
        "mutation { delete_doc(where: {}) { affected_rows } }",
    )
    .await;
    assert_eq!(body["data"]["delete_doc"]["affected_rows"], json!(1));
    assert_eq!(
        doc_rows(&server, "title").await,
        json!([{"id": 3, "title": "c"}, {"id": 4, "title": "d"}, {"id": 5, "title": "e"}])
    );
}

/// `employee`: `public` sees names of everyone, `manager` sees salaries of its department,
/// `auditor` sees salaries and ssn of one region; inherited roles combine them.
async fn inherited_server() -> (graft_pgtemp::Cluster, TestServer) {
    let (cluster, url) = cluster_with_database("perm_inherited").await;
    let server = start_server(config(&url)).await;
    server
        .run_sql(
            "CREATE TABLE employee (id int PRIMARY KEY, name text NOT NULL, dept int NOT NULL,
                                    region text NOT NULL, salary int NOT NULL, ssn text NOT NULL);
             INSERT INTO employee VALUES
               (1, 'ann', 1, 'north', 100, '111'),
               (2, 'bob', 1, 'south', 200, '222'),
               (3, 'cat', 2, 'north', 300, '333'),
               (4, 'dan', 2, 'south', 400, '444'),
               (5, 'eve', 3, 'west', 500, '555');",
        )
        .await;
    let setup = json!([
        {"type": "pg_track_table", "args": {"table": "employee"}},
        {"type": "pg_create_select_permission", "args": {"table": "employee", "role": "public",
            "permission": {"columns": ["id", "name"], "filter": {"dept": {"_neq": 3}}, "limit": 2}}},
        {"type": "pg_create_select_permission", "args": {"table": "employee", "role": "manager",
            "permission": {"columns": ["id", "name", "salary"], "limit": 3,
                           "filter": {"dept": {"_eq": "X-Hasura-Dept"}}}}},
        {"type": "pg_create_select_permission", "args": {"table": "employee", "role": "auditor",
            "permission": {"columns": ["id", "salary", "ssn"], "allow_aggregations": true, "limit": 10,
                           "filter": {"region": {"_eq": "west"}}}}},
        {"type": "add_inherited_role", "args": {"role_name": "staff", "role_set": ["public", "manager"]}},
        {"type": "add_inherited_role", "args": {"role_name": "everyone", "role_set": ["staff", "auditor"]}}
    ]);
    ok_metadata(&server, json!({"type": "bulk", "args": setup})).await;
    (cluster, server)
}

const STAFF: &[(&str, &str)] = &[("x-hasura-role", "staff"), ("x-hasura-dept", "1")];
const EVERYONE: &[(&str, &str)] = &[("x-hasura-role", "everyone"), ("x-hasura-dept", "2")];

#[tokio::test]
async fn inherited_role_select_is_the_union_with_redacted_columns() {
    let (_cluster, server) = inherited_server().await;

    // Rows: either filter; salary only where the manager filter holds; limit the largest (3).
    let body = gql(
        &server,
        STAFF,
        "{ employee(order_by: {id: asc}) { id name salary } }",
    )
    .await;
    assert_eq!(
        body["data"]["employee"],
        json!([{"id": 1, "name": "ann", "salary": 100},
               {"id": 2, "name": "bob", "salary": 200},
               {"id": 3, "name": "cat", "salary": null}])
    );
    // Nested: `everyone` adds auditor's west region (row 5) with salary and ssn but no name.
    let body = gql(
        &server,
        EVERYONE,
        "{ employee(order_by: {id: asc}) { id name salary ssn } }",
    )
    .await;
    assert_eq!(
        body["data"]["employee"],
        json!([{"id": 1, "name": "ann", "salary": null, "ssn": null},
               {"id": 2, "name": "bob", "salary": null, "ssn": null},
               {"id": 3, "name": "cat", "salary": 300, "ssn": null},
               {"id": 4, "name": "dan", "salary": 400, "ssn": null},
               {"id": 5, "name": null, "salary": 500, "ssn": "555"}])
    );

    // A hidden value cannot be probed through where, order_by or aggregates.
    let body = gql(
        &server,
        STAFF,
        "{ employee(where: {salary: {_eq: 300}}) { id } }",
    )
    .await;
    assert_eq!(body["data"]["employee"], json!([]));
    let body = gql(
        &server,
        STAFF,
        "{ employee(where: {salary: {_is_null: true}}, order_by: {id: asc}) { id } }",
    )
    .await;
    assert_eq!(body["data"]["employee"], json!([{"id": 3}, {"id": 4}]));
    // Row 1's hidden ssn is "111": negating a comparison with it answers as for any other value.
    let not_ssn = |value: &str| {
        format!(
            "{{ employee(where: {{_not: {{ssn: {{_eq: \"{value}\"}}}}}}, order_by: {{id: asc}}) {{ id }} }}"
        )
    };
    let hidden = gql(&server, EVERYONE, &not_ssn("111")).await;
    let other = gql(&server, EVERYONE, &not_ssn("999")).await;
    assert!(hidden["data"]["employee"].is_array(), "{hidden}");
    assert_eq!(hidden, other);
    let body = gql(
        &server,
        EVERYONE,
        "{ employee(order_by: [{ssn: desc_nulls_last}, {id: asc}]) { id } }",
    )
    .await;
    assert_eq!(
        body["data"]["employee"],
        json!([{"id": 5}, {"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}])
    );
    let body = gql(
        &server,
        EVERYONE,
        "{ employee_aggregate { aggregate { count sum { salary } max { salary } } } }",
    )
    .await;
    assert_eq!(
        body["data"]["employee_aggregate"]["aggregate"],
        json!({"count": 5, "sum": {"salary": 1200}, "max": {"salary": 500}})
    );
    // `staff` has no parent allowing aggregations.
    let body = gql(
        &server,
        STAFF,
        "{ employee_aggregate { aggregate { count } } }",
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        json!("validation-failed")
    );

    // The redacted column is nullable in the role's schema, non-null for a parent.
    let query = r#"{ __type(name: "employee") { fields { name type { kind } } } }"#;
    let kind_of = |body: &Value, field: &str| {
        body["data"]["__type"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == field)
            .map(|f| f["type"]["kind"].clone())
    };
    let staff = gql(&server, STAFF, query).await;
    assert_eq!(kind_of(&staff, "salary"), Some(json!("SCALAR")));
    assert_eq!(kind_of(&staff, "name"), Some(json!("NON_NULL")));
    assert_eq!(kind_of(&staff, "ssn"), None);
    let manager = gql(&server, &[("x-hasura-role", "manager")], query).await;
    assert_eq!(kind_of(&manager, "salary"), Some(json!("NON_NULL")));

    // The v1 API applies the same union.
    let (status, body) = server
        .post_with(
            "/v1/query",
            &json!({"type": "select", "args": {"table": "employee", "columns": ["id", "salary"],
                    "order_by": ["id"]}}),
            STAFF,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([{"id": 1, "salary": 100}, {"id": 2, "salary": 200}, {"id": 3, "salary": null}])
    );
}

#[tokio::test]
async fn inherited_role_overrides_and_mutation_agreement() {
    let (_cluster, server) = inherited_server().await;

    // An explicit permission on the inherited role replaces the union.
    ok_metadata(
        &server,
        json!({"type": "pg_create_select_permission", "args": {"table": "employee", "role": "staff",
            "permission": {"columns": ["id"], "filter": {"id": {"_eq": 4}}}}}),
    )
    .await;
    let body = gql(&server, STAFF, "{ employee { id } }").await;
    assert_eq!(body["data"]["employee"], json!([{"id": 4}]));
    // ... and the nested role inherits the override.
    let body = gql(
        &server,
        EVERYONE,
        "{ employee(order_by: {id: asc}) { id } }",
    )
    .await;
    assert_eq!(body["data"]["employee"], json!([{"id": 4}, {"id": 5}]));

    // Mutations: parents that agree are inherited; parents that differ make an inconsistency
    // that does not refuse the command and is resolved by an explicit permission.
    let same = json!({"columns": ["name"], "filter": {"dept": {"_eq": 1}}});
    for role in ["public", "manager"] {
        ok_metadata(
            &server,
            json!({"type": "pg_create_update_permission", "args": {"table": "employee",
                "role": role, "permission": same}}),
        )
        .await;
    }
    ok_metadata(
        &server,
        json!({"type": "pg_create_delete_permission", "args": {"table": "employee",
            "role": "public", "permission": {"filter": {"id": {"_eq": 1}}}}}),
    )
    .await;
    ok_metadata(
        &server,
        json!({"type": "pg_create_delete_permission", "args": {"table": "employee",
            "role": "manager", "permission": {"filter": {"id": {"_eq": 2}}}}}),
    )
    .await;
    let body = gql(
        &server,
        STAFF,
        r#"mutation { update_employee(where: {}, _set: {name: "x"}) { affected_rows } }"#,
    )
    .await;
    assert_eq!(
        body["data"]["update_employee"]["affected_rows"],
        json!(2),
        "{body}"
    );
    let body = gql(
        &server,
        STAFF,
        "mutation { delete_employee(where: {}) { affected_rows } }",
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        json!("field 'delete_employee' not found in type: 'mutation_root'")
    );
    let (_, report) = server
        .metadata(json!({"type": "get_inconsistent_metadata", "args": {}}))
        .await;
    assert_eq!(report["is_consistent"], json!(false));
    assert_eq!(
        report["inconsistent_objects"],
        json!([{
            "entity": {"permission_type": "delete", "source": "default", "table": "employee"},
            "name": "staff",
            "reason": "Could not inherit permission for the role 'staff' for the entity: 'delete permission, table: employee, source: 'default''",
            "type": "inherited role permission inconsistency"
        }])
    );
    ok_metadata(
        &server,
        json!({"type": "pg_create_delete_permission", "args": {"table": "employee",
            "role": "staff", "permission": {"filter": {"id": {"_eq": 5}}}}}),
    )
    .await;
    let (_, report) = server
        .metadata(json!({"type": "get_inconsistent_metadata", "args": {}}))
        .await;
    assert_eq!(report["is_consistent"], json!(true), "{report}");
    let body = gql(
        &server,
        STAFF,
        "mutation { delete_employee(where: {}) { affected_rows } }",
    )
    .await;
    assert_eq!(body["data"]["delete_employee"]["affected_rows"], json!(1));

    // A cycle of inherited roles is refused.
    let (status, body) = server
        .metadata(json!({"type": "add_inherited_role",
            "args": {"role_name": "public", "role_set": ["everyone"]}}))
        .await;
    assert_eq!(status, 400, "{body}");
}
