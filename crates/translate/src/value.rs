//! JSON values → the text of a bind parameter. Every parameter is sent as text and cast in SQL to
//! the column's type, so this is Postgres's text input format of each value: strings as they are,
//! numbers and booleans as written, JSON documents as JSON, lists as array literals.

use serde_json::Value;

/// The text a JSON value is sent as when it is cast to a type; `array_target` says the type is
/// a Postgres array, so a JSON list becomes an array literal (`{"a","b"}`) instead of JSON.
pub fn param_text(value: &Value, array_target: bool) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) if array_target => Some(array_literal(items)),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

/// A Postgres array literal: elements double-quoted with `"` and `\` escaped, NULL unquoted,
/// nested lists as nested braces.
pub fn array_literal(items: &[Value]) -> String {
    let mut out = String::from("{");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Value::Null => out.push_str("NULL"),
            Value::Array(inner) => out.push_str(&array_literal(inner)),
            Value::String(s) => quote_element(&mut out, s),
            other => quote_element(&mut out, &other.to_string()),
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
        assert_eq!(param_text(&json!("a'b"), false).as_deref(), Some("a'b"));
        assert_eq!(param_text(&json!(12.5), false).as_deref(), Some("12.5"));
        assert_eq!(param_text(&json!(true), false).as_deref(), Some("true"));
        assert_eq!(param_text(&json!(null), false), None);
        assert_eq!(param_text(&json!({"a": [1]}), false).as_deref(), Some(r#"{"a":[1]}"#));
    }

    #[test]
    fn lists_become_array_literals_when_the_target_is_an_array() {
        let value = json!(["a", "b\"c", "d\\e", null, 3, [1, 2]]);
        assert_eq!(
            param_text(&value, true).as_deref(),
            Some(r#"{"a","b\"c","d\\e",NULL,"3",{"1","2"}}"#)
        );
        assert_eq!(param_text(&json!([1, 2]), false).as_deref(), Some("[1,2]"));
    }
}
