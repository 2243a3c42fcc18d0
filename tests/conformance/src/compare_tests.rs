#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::case_file::{CaseFile, case_from_value, parse_yaml};
use serde_json::json;

const LENIENT: CompareOptions = CompareOptions { strict: false };
const STRICT: CompareOptions = CompareOptions { strict: true };

fn step(yaml: &str) -> Step {
    match case_from_value(&parse_yaml(yaml).unwrap()) {
        CaseFile::Steps(mut steps) => steps.remove(0),
        CaseFile::NotRunnable(r) => panic!("{r}"),
    }
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::from_str(body).unwrap(),
    }
}

const GQL: &str = "url: /v1/graphql\nstatus: 200\nquery:\n  query: '{ article { id title info } }'\nresponse:\n  data:\n    article:\n    - id: 1\n      title: a\n      info: {x: 1, y: 2}\n";

#[test]
fn selection_set_objects_keep_key_order() {
    let s = step(GQL);
    let ok = reply(
        200,
        r#"{"data":{"article":[{"id":1,"title":"a","info":{"y":2,"x":1}}]}}"#,
    );
    assert_eq!(check_step(&s, &ok, LENIENT), StepVerdict::Pass);
    let swapped = reply(
        200,
        r#"{"data":{"article":[{"title":"a","id":1,"info":{"x":1,"y":2}}]}}"#,
    );
    match check_step(&s, &swapped, LENIENT) {
        StepVerdict::Fail(reason) => {
            assert!(reason.contains("$.data.article[0]"), "{reason}");
            assert!(reason.contains("key order"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn aliases_make_order_irrelevant() {
    let s = step(
        "url: /v1/graphql\nstatus: 200\nquery:\n  query: '{ a: article { id title } }'\nresponse:\n  data:\n    a:\n    - id: 1\n      title: x\n",
    );
    let swapped = reply(200, r#"{"data":{"a":[{"title":"x","id":1}]}}"#);
    assert_eq!(check_step(&s, &swapped, LENIENT), StepVerdict::Pass);
}

#[test]
fn non_graphql_bodies_ignore_key_order_but_not_array_order() {
    let s = step(
        "url: /v1/query\nstatus: 200\nquery: {type: select}\nresponse:\n- {a: 1, b: 2}\n- {a: 3, b: 4}\n",
    );
    assert_eq!(
        check_step(&s, &reply(200, r#"[{"b":2,"a":1},{"b":4,"a":3}]"#), LENIENT),
        StepVerdict::Pass
    );
    match check_step(&s, &reply(200, r#"[{"a":3,"b":4},{"a":1,"b":2}]"#), LENIENT) {
        StepVerdict::Fail(reason) => assert!(reason.contains("$[0].a"), "{reason}"),
        other => panic!("{other:?}"),
    }
    match check_step(&s, &reply(200, r#"[{"a":1,"b":2}]"#), LENIENT) {
        StepVerdict::Fail(reason) => assert!(reason.contains("array length"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn numbers_compare_by_value_strings_do_not() {
    let s = step("url: /v1/query\nstatus: 200\nquery: {}\nresponse: {a: 1, b: '2', c: 1.5}\n");
    assert_eq!(
        check_step(&s, &reply(200, r#"{"a":1.0,"b":"2","c":1.5}"#), LENIENT),
        StepVerdict::Pass
    );
    assert!(matches!(
        check_step(&s, &reply(200, r#"{"a":1,"b":2,"c":1.5}"#), LENIENT),
        StepVerdict::Fail(r) if r.contains("$.b")
    ));
    assert!(numbers_equal(
        &json!(9223372036854775807u64).as_number().unwrap().clone(),
        json!(9223372036854775807i64).as_number().unwrap()
    ));
    assert!(!numbers_equal(
        json!(1).as_number().unwrap(),
        json!(2).as_number().unwrap()
    ));
}

#[test]
fn status_is_checked_first() {
    let s = step("url: /v1/query\nstatus: 400\nquery: {}\n");
    assert!(
        matches!(check_step(&s, &reply(200, "{}"), LENIENT), StepVerdict::Fail(r) if r.contains("status expected 400, got 200"))
    );
    assert_eq!(
        check_step(&s, &reply(400, r#"{"x":1}"#), LENIENT),
        StepVerdict::Pass
    );
}

#[test]
fn error_leniency_and_strict_mode() {
    let s = step(
        "url: /v1/query\nstatus: 400\nquery: {}\nresponse: {code: permission-denied, error: nope, path: $.args}\n",
    );
    let other_error = reply(
        400,
        r#"{"code":"validation-failed","error":"other","path":"$"}"#,
    );
    assert!(matches!(
        check_step(&s, &other_error, LENIENT),
        StepVerdict::PassWithWarning(_)
    ));
    assert!(matches!(
        check_step(&s, &other_error, STRICT),
        StepVerdict::Fail(_)
    ));
    // Not an error body: no leniency.
    let not_error = reply(400, r#"{"message":"x"}"#);
    assert!(matches!(
        check_step(&s, &not_error, LENIENT),
        StepVerdict::Fail(_)
    ));
    // GraphQL errors with 200 and batched bodies are lenient per element.
    let g = step(
        "url: /v1/graphql\nstatus: 200\nquery: [{query: '{a}'}, {query: '{b}'}]\nresponse:\n- data: {a: 1}\n- errors: [{message: x}]\n",
    );
    let batch = reply(200, r#"[{"data":{"a":1}},{"errors":[{"message":"y"}]}]"#);
    assert!(
        matches!(check_step(&g, &batch, LENIENT), StepVerdict::PassWithWarning(w) if w.starts_with("[1]"))
    );
    let bad_batch = reply(200, r#"[{"data":{"a":2}},{"errors":[{"message":"x"}]}]"#);
    assert!(
        matches!(check_step(&g, &bad_batch, LENIENT), StepVerdict::Fail(r) if r.starts_with("[0]"))
    );
    assert!(!is_error_body(&json!({"errors": []})));
    assert!(!is_error_body(&json!({"error": null})));
}

#[test]
fn resp_headers_are_a_case_insensitive_subset() {
    let s = step(
        "url: /v1/graphql\nstatus: 200\nquery: {query: '{a}'}\nresp_headers: {content-type: application/json}\n",
    );
    assert_eq!(
        check_step(&s, &reply(200, "{}"), LENIENT),
        StepVerdict::Pass
    );
    let s2 = step(
        "url: /v1/graphql\nstatus: 200\nquery: {query: '{a}'}\nresp_headers: {X-Cache: HIT}\n",
    );
    assert!(
        matches!(check_step(&s2, &reply(200, "{}"), LENIENT), StepVerdict::Fail(r) if r.contains("X-Cache"))
    );
    let mut with_header = reply(200, "{}");
    with_header.headers.push(("x-cache".into(), "MISS".into()));
    assert!(
        matches!(check_step(&s2, &with_header, LENIENT), StepVerdict::Fail(r) if r.contains("MISS"))
    );
}

#[test]
fn allowed_responses_any_alternative() {
    let s = step(
        "url: /v1/query\nstatus: 200\nquery: {}\nallowed_responses:\n- response: {a: 1}\n- response: {a: 2}\n",
    );
    assert_eq!(
        check_step(&s, &reply(200, r#"{"a":2}"#), LENIENT),
        StepVerdict::Pass
    );
    assert!(
        matches!(check_step(&s, &reply(200, r#"{"a":3}"#), LENIENT), StepVerdict::Fail(r) if r.contains("none of 2"))
    );
}

#[test]
fn missing_and_unexpected_keys_have_paths() {
    let d = first_difference(&json!({"a": {"b": 1}}), &json!({"a": {}}), &Value::Null).unwrap();
    assert_eq!(d.path, "$.a.b");
    let d = first_difference(
        &json!({"a": {}}),
        &json!({"a": {"weird key": 1}}),
        &Value::Null,
    )
    .unwrap();
    assert_eq!(d.path, "$.a[\"weird key\"]");
    assert!(d.detail.contains("unexpected"));
}
