//! JSON values → the text of a bind parameter. Every parameter is sent as text and cast in SQL to
//! the column's type, so this is Postgres's text input format of each value: strings as they are,
//! numbers and booleans as written, JSON documents as JSON, lists as array literals.

use serde_json::Value;

/// How a JSON value is written for the type it is cast to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamFormat {
    /// Scalars: strings as they are, numbers and booleans as written.
    Text,
    /// A Postgres array: a JSON list becomes an array literal (`{"a","b"}`).
    Array,
    /// `json`/`jsonb`: the value as a JSON document, strings included (`"latest"`).
    Json,
    /// An array of `json`/`jsonb`: each element as a JSON document.
    JsonArray,
}

/// The text a JSON value is sent as; SQL NULL for JSON null.
pub fn param_text(value: &Value, format: ParamFormat) -> Option<String> {
    match (value, format) {
        (Value::Null, _) => None,
        (_, ParamFormat::Json) => Some(value.to_string()),
        (Value::Array(items), ParamFormat::Array) => Some(array_literal(items, false)),
        (Value::Array(items), ParamFormat::JsonArray) => Some(array_literal(items, true)),
        (Value::String(s), _) => Some(s.clone()),
        (Value::Bool(b), _) => Some(b.to_string()),
        (Value::Number(n), _) => Some(n.to_string()),
        (Value::Array(_) | Value::Object(_), _) => Some(value.to_string()),
    }
}

/// A Postgres array literal: elements double-quoted with `"` and `\` escaped, NULL unquoted,
/// nested lists as nested braces; with `json_elements`, every element is its JSON text.
pub fn array_literal(items: &[Value], json_elements: bool) -> String {
    let mut out = String::from("{");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            _ if json_elements => quote_element(&mut out, &item.to_string()),
            Value::Null => out.push_str("NULL"),
            Value::Array(inner) => out.push_str(&array_literal(inner, false)),
            Value::String(s) => quote_element(&mut out, s),
            other => quote_element(&mut out, &other.to_string()),
        }
    }
    out.push('}');
    out
}

/// One column of many rows as a Postgres array literal, each element the text `param_text`
/// gives the value alone (JSON null is SQL NULL), so `unnest` yields what one parameter per
/// value would have.
pub fn column_array_literal<'v>(
    values: impl Iterator<Item = &'v Value>,
    format: ParamFormat,
) -> String {
    let mut out = String::from("{");
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match param_text(value, format) {
            None => out.push_str("NULL"),
            Some(text) => quote_element(&mut out, &text),
        }
    }
    out.push('}');
    out
}

fn quote_element(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_are_their_text_form() {
        use ParamFormat::*;
        assert_eq!(param_text(&json!("a'b"), Text).as_deref(), Some("a'b"));
        assert_eq!(param_text(&json!(12.5), Text).as_deref(), Some("12.5"));
        assert_eq!(param_text(&json!(true), Text).as_deref(), Some("true"));
        assert_eq!(param_text(&json!(null), Json), None);
        assert_eq!(
            param_text(&json!({"a": [1]}), Text).as_deref(),
            Some(r#"{"a":[1]}"#)
        );
        assert_eq!(
            param_text(&json!("latest"), Json).as_deref(),
            Some(r#""latest""#)
        );
    }

    #[test]
    fn lists_become_array_literals_when_the_target_is_an_array() {
        let value = json!(["a", "b\"c", "d\\e", null, 3, [1, 2]]);
        assert_eq!(
            param_text(&value, ParamFormat::Array).as_deref(),
            Some(r#"{"a","b\"c","d\\e",NULL,"3",{"1","2"}}"#)
        );
        assert_eq!(
            param_text(&json!([1, 2]), ParamFormat::Text).as_deref(),
            Some("[1,2]")
        );
        assert_eq!(
            param_text(&json!([{"a": 1}, "x"]), ParamFormat::JsonArray).as_deref(),
            Some(r#"{"{\"a\":1}","\"x\""}"#)
        );
    }
}
