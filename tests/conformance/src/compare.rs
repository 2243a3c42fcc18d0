//! Response comparison (HARNESS 4.5): status equality, the expected body against the actual one
//! (arrays ordered, object keys ordered only inside GraphQL selection sets, numbers by value),
//! `resp_headers` as a subset, `allowed_responses` as alternatives, and the leniency of the
//! original CI: when both bodies are errors, a body mismatch is only a warning unless strict.

use crate::case_file::Step;
use crate::selset::{SelectionShape, ordered_data_shape};
use crate::transport::Reply;
use serde_json::{Map, Value};
use std::fmt;

/// The first difference found between expected and actual bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// JSON path like `$.data.article[0].title`.
    pub path: String,
    pub detail: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.detail)
    }
}

/// The verdict on one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepVerdict {
    Pass,
    /// Passed only thanks to the error leniency; the text says what differed.
    PassWithWarning(String),
    Fail(String),
}

/// Comparison options.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareOptions {
    /// Error bodies must match exactly too.
    pub strict: bool,
}

/// Checks a reply against a step's expectations.
pub fn check_step(step: &Step, reply: &Reply, options: CompareOptions) -> StepVerdict {
    if reply.status != step.status {
        let mut reason = format!("status expected {}, got {}", step.status, reply.status);
        reason.push_str(&format!("; body {}", compact(&reply.body, 160)));
        return StepVerdict::Fail(reason);
    }
    if !step.allowed_responses.is_empty() {
        let mut first_failure = None;
        for alternative in &step.allowed_responses {
            let response = alternative.response.as_ref();
            match check_alternative(
                response,
                &alternative.resp_headers,
                &step.query,
                reply,
                options,
            ) {
                StepVerdict::Fail(reason) => {
                    first_failure.get_or_insert(reason);
                }
                passed => return passed,
            }
        }
        return StepVerdict::Fail(format!(
            "none of {} allowed responses matched; first: {}",
            step.allowed_responses.len(),
            first_failure.unwrap_or_default()
        ));
    }
    check_alternative(
        step.response.as_ref(),
        &step.resp_headers,
        &step.query,
        reply,
        options,
    )
}

fn check_alternative(
    response: Option<&Value>,
    resp_headers: &[(String, String)],
    query: &Value,
    reply: &Reply,
    options: CompareOptions,
) -> StepVerdict {
    if let Some(missing) = missing_header(resp_headers, &reply.headers) {
        return StepVerdict::Fail(missing);
    }
    match response {
        None | Some(Value::Null) => StepVerdict::Pass,
        Some(expected) => check_body(expected, &reply.body, query, options),
    }
}

/// `expected` headers must all be present with equal values (names case-insensitive).
pub fn missing_header(
    expected: &[(String, String)],
    actual: &[(String, String)],
) -> Option<String> {
    for (name, value) in expected {
        let found: Vec<&String> = actual
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect();
        if found.is_empty() {
            return Some(format!(
                "response header {name} missing (expected {value:?})"
            ));
        }
        if !found.contains(&value) {
            return Some(format!(
                "response header {name}: expected {value:?}, got {:?}",
                found[0]
            ));
        }
    }
    None
}

/// Compares bodies with the error leniency. Batched requests (a list `query` answered by a
/// list) are checked element by element.
pub fn check_body(
    expected: &Value,
    actual: &Value,
    query: &Value,
    options: CompareOptions,
) -> StepVerdict {
    if let (Value::Array(queries), Value::Array(exp_items), Value::Array(act_items)) =
        (query, expected, actual)
        && exp_items.len() == act_items.len()
    {
        let mut warnings = Vec::new();
        for (index, (exp, act)) in exp_items.iter().zip(act_items).enumerate() {
            let item_query = queries.get(index).unwrap_or(&Value::Null);
            match check_body(exp, act, item_query, options) {
                StepVerdict::Pass => {}
                StepVerdict::PassWithWarning(w) => warnings.push(format!("[{index}] {w}")),
                StepVerdict::Fail(reason) => {
                    return StepVerdict::Fail(format!("[{index}] {reason}"));
                }
            }
        }
        return if warnings.is_empty() {
            StepVerdict::Pass
        } else {
            StepVerdict::PassWithWarning(warnings.join("; "))
        };
    }
    match first_difference(expected, actual, query) {
        None => StepVerdict::Pass,
        Some(difference) => {
            if !options.strict && is_error_body(expected) && is_error_body(actual) {
                StepVerdict::PassWithWarning(format!("error body differs: {difference}"))
            } else {
                StepVerdict::Fail(format!("body differs: {difference}"))
            }
        }
    }
}

/// A body with a truthy `error` or `errors` key (Python truthiness).
pub fn is_error_body(body: &Value) -> bool {
    let truthy = |v: &Value| match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    };
    body.get("error").is_some_and(truthy) || body.get("errors").is_some_and(truthy)
}

/// The first difference between two bodies: key order is checked in `data` objects that match
/// the first operation's selection sets (see [`crate::selset`]), nowhere else.
pub fn first_difference(expected: &Value, actual: &Value, query: &Value) -> Option<Difference> {
    let shape = ordered_data_shape(query, expected, actual);
    match (expected, actual, &shape) {
        (Value::Object(exp), Value::Object(act), Some(shape)) => {
            if let Some(d) = compare_key_sets(exp, act, "$") {
                return Some(d);
            }
            for (key, exp_value) in exp {
                let path = child_path("$", key);
                let child_shape = (key == "data").then_some(shape);
                if let Some(d) = diff(
                    exp_value,
                    act.get(key).unwrap_or(&Value::Null),
                    &path,
                    child_shape,
                ) {
                    return Some(d);
                }
            }
            None
        }
        _ => diff(expected, actual, "$", None),
    }
}

fn diff(
    expected: &Value,
    actual: &Value,
    path: &str,
    shape: Option<&SelectionShape>,
) -> Option<Difference> {
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => {
            if let Some(d) = compare_key_sets(exp, act, path) {
                return Some(d);
            }
            if shape.is_some() {
                let exp_keys: Vec<&String> = exp.keys().collect();
                let act_keys: Vec<&String> = act.keys().collect();
                if exp_keys != act_keys {
                    return Some(Difference {
                        path: path.to_string(),
                        detail: format!("key order expected {exp_keys:?}, got {act_keys:?}"),
                    });
                }
            }
            for (key, exp_value) in exp {
                let child_shape = shape
                    .and_then(|s| s.fields.get(key))
                    .and_then(Option::as_ref);
                if let Some(d) = diff(
                    exp_value,
                    act.get(key).unwrap_or(&Value::Null),
                    &child_path(path, key),
                    child_shape,
                ) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(exp), Value::Array(act)) => {
            for (index, (e, a)) in exp.iter().zip(act).enumerate() {
                if let Some(d) = diff(e, a, &format!("{path}[{index}]"), shape) {
                    return Some(d);
                }
            }
            (exp.len() != act.len()).then(|| Difference {
                path: path.to_string(),
                detail: format!("array length expected {}, got {}", exp.len(), act.len()),
            })
        }
        (Value::Number(e), Value::Number(a)) => {
            (!numbers_equal(e, a)).then(|| mismatch(path, expected, actual))
        }
        _ => (expected != actual).then(|| mismatch(path, expected, actual)),
    }
}

fn compare_key_sets(
    exp: &Map<String, Value>,
    act: &Map<String, Value>,
    path: &str,
) -> Option<Difference> {
    if let Some(key) = exp.keys().find(|k| !act.contains_key(*k)) {
        return Some(Difference {
            path: child_path(path, key),
            detail: format!("missing (expected {})", compact(&exp[key], 80)),
        });
    }
    act.keys()
        .find(|k| !exp.contains_key(*k))
        .map(|key| Difference {
            path: child_path(path, key),
            detail: format!(
                "unexpected key (got {})",
                compact(act.get(key).unwrap_or(&Value::Null), 80)
            ),
        })
}

/// `1 == 1.0`, but integers compare exactly.
pub fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    let as_int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

fn mismatch(path: &str, expected: &Value, actual: &Value) -> Difference {
    Difference {
        path: path.to_string(),
        detail: format!(
            "expected {}, got {}",
            compact(expected, 80),
            compact(actual, 80)
        ),
    }
}

fn child_path(path: &str, key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !key.is_empty() {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

/// A JSON value on one line, cut to about `max` characters.
pub fn compact(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
