//! `request_transform` (Hasura's version 1 and 2): change a webhook call's method, URL, query
//! parameters, body and headers before it is sent.
//!
//! Templates use a subset of Kriti, Hasura's template language: `{{ path }}` where the path
//! starts at `$body`, `$base_url` or `$session_variables` and goes on with `.key`, `['key']` or
//! `[index]`. A template that is exactly one `{{ ... }}` yields that JSON value; otherwise each
//! `{{ ... }}` is replaced (strings without quotes in URLs and query values, JSON text in a
//! body) and a body template is then read as JSON. Kriti's functions, conditionals and loops are
//! not supported; a template using them is reported as an error at delivery.

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RequestTransform {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub body: Option<BodyTransform>,
    /// Version 1 had `request_body` as a bare template string.
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub query_params: Option<Value>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub request_headers: Option<HeaderTransform>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BodyTransform {
    pub action: String,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub form_template: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HeaderTransform {
    #[serde(default)]
    pub add_headers: Map<String, Value>,
    #[serde(default)]
    pub remove_headers: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TransformError {
    #[error("unsupported template expression \"{0}\"")]
    Unsupported(String),
    #[error("unclosed \"{{{{\" in template")]
    Unclosed,
    #[error("the transformed body is not valid JSON: {0}")]
    InvalidBody(String),
}

/// What a template can refer to.
pub struct TemplateContext<'a> {
    pub body: &'a Value,
    pub base_url: &'a str,
    pub session_variables: &'a Value,
}

/// The call after the transform.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformedRequest {
    pub method: Option<String>,
    pub url: String,
    pub body: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
}

impl RequestTransform {
    pub fn apply(
        &self,
        context: &TemplateContext<'_>,
        headers: &[(String, String)],
    ) -> Result<TransformedRequest, TransformError> {
        let mut url = match &self.url {
            Some(template) => render_text(template, context)?,
            None => context.base_url.to_string(),
        };
        if let Some(params) = &self.query_params {
            let query = match params {
                Value::String(template) => render_text(template, context)?,
                Value::Object(map) => {
                    let mut pairs = Vec::new();
                    for (key, value) in map {
                        let value = match value {
                            Value::String(template) => render_text(template, context)?,
                            other => other.to_string(),
                        };
                        pairs.push(format!("{}={}", encode(key), encode(&value)));
                    }
                    pairs.join("&")
                }
                _ => String::new(),
            };
            if !query.is_empty() {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&query);
            }
        }
        let body = match (&self.body, &self.template) {
            (Some(body), _) if body.action == "remove" => Some(Vec::new()),
            (
                Some(BodyTransform {
                    template: Some(t), ..
                }),
                _,
            )
            | (None, Some(t)) => Some(render_json(t, context)?.to_string().into_bytes()),
            _ => None,
        };
        let mut out_headers: Vec<(String, String)> = headers.to_vec();
        if let Some(transform) = &self.request_headers {
            out_headers.retain(|(name, _)| {
                !transform
                    .remove_headers
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(name))
            });
            for (name, value) in &transform.add_headers {
                let value = match value {
                    Value::String(template) => render_text(template, context)?,
                    other => other.to_string(),
                };
                out_headers.push((name.clone(), value));
            }
        }
        if let Some(content_type) = &self.content_type {
            out_headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
            out_headers.push(("Content-Type".to_string(), content_type.clone()));
        }
        Ok(TransformedRequest {
            method: self.method.clone(),
            url,
            body,
            headers: out_headers,
        })
    }
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Splits a template into literal text and `{{ expression }}` parts.
fn parts(template: &str) -> Result<Vec<(bool, &str)>, TransformError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push((false, &rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TransformError::Unclosed)?;
        out.push((true, after[..end].trim()));
        rest = &after[end + 2..];
    }
    out.push((false, rest));
    Ok(out)
}

/// A template rendered as text: strings inserted without quotes.
pub fn render_text(
    template: &str,
    context: &TemplateContext<'_>,
) -> Result<String, TransformError> {
    let mut out = String::new();
    for (is_expression, text) in parts(template)? {
        if !is_expression {
            out.push_str(text);
            continue;
        }
        match evaluate(text, context)? {
            Value::String(s) => out.push_str(&s),
            Value::Null => {}
            other => out.push_str(&other.to_string()),
        }
    }
    Ok(out)
}

/// A template rendered as JSON.
pub fn render_json(template: &str, context: &TemplateContext<'_>) -> Result<Value, TransformError> {
    let pieces = parts(template)?;
    let meaningful: Vec<_> = pieces
        .iter()
        .filter(|(is_expression, text)| *is_expression || !text.trim().is_empty())
        .collect();
    if let [(true, expression)] = meaningful.as_slice() {
        return evaluate(expression, context);
    }
    let mut text = String::new();
    for (is_expression, piece) in pieces {
        if is_expression {
            text.push_str(&evaluate(piece, context)?.to_string());
        } else {
            text.push_str(piece);
        }
    }
    serde_json::from_str(&text).map_err(|e| TransformError::InvalidBody(e.to_string()))
}

fn evaluate(expression: &str, context: &TemplateContext<'_>) -> Result<Value, TransformError> {
    let unsupported = || TransformError::Unsupported(expression.to_string());
    let (root, mut rest) = if let Some(rest) = expression.strip_prefix("$body") {
        (context.body.clone(), rest)
    } else if let Some(rest) = expression.strip_prefix("$base_url") {
        (Value::String(context.base_url.to_string()), rest)
    } else if let Some(rest) = expression.strip_prefix("$session_variables") {
        (context.session_variables.clone(), rest)
    } else {
        return Err(unsupported());
    };
    let mut value = root;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(unsupported());
            }
            value = value.get(key).cloned().unwrap_or(Value::Null);
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(unsupported)?;
            let inner = after[..end].trim();
            value = if let Some(key) = inner
                .strip_prefix('\'')
                .and_then(|k| k.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')))
            {
                value.get(key).cloned().unwrap_or(Value::Null)
            } else {
                let index: usize = inner.parse().map_err(|_| unsupported())?;
                value.get(index).cloned().unwrap_or(Value::Null)
            };
            rest = &after[end + 1..];
        } else {
            return Err(unsupported());
        }
    }
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(body: &Value) -> TemplateContext<'_> {
        TemplateContext {
            body,
            base_url: "http://hook",
            session_variables: &Value::Null,
        }
    }

    #[test]
    fn renders_paths_values_and_text() {
        let body = json!({"event": {"data": {"new": {"id": 1, "name": "a b"}}}});
        let ctx = context(&body);
        assert_eq!(
            render_json("{{ $body.event.data.new }}", &ctx).unwrap(),
            json!({"id": 1, "name": "a b"})
        );
        assert_eq!(
            render_json(r#"{"x": {{$body.event.data.new.id}}}"#, &ctx).unwrap(),
            json!({"x": 1})
        );
        assert_eq!(
            render_text("{{$base_url}}/u/{{$body['event'].data.new.id}}", &ctx).unwrap(),
            "http://hook/u/1"
        );
        assert!(render_text("{{ concat($body) }}", &ctx).is_err());
    }

    #[test]
    fn applies_query_params_headers_and_content_type() {
        let transform: RequestTransform = serde_json::from_value(json!({
            "version": 2,
            "template_engine": "Kriti",
            "method": "PUT",
            "query_params": {"foo": "bar", "n": "{{$body.n}}"},
            "request_headers": {"remove_headers": ["user-agent"], "add_headers": {"foo": "bar"}},
            "body": {"action": "transform", "template": "{{ $body.n }}"}
        }))
        .unwrap();
        let body = json!({"n": "a&b"});
        let out = transform
            .apply(
                &context(&body),
                &[("User-Agent".to_string(), "x".to_string())],
            )
            .unwrap();
        assert_eq!(out.url, "http://hook?foo=bar&n=a%26b");
        assert_eq!(out.method.as_deref(), Some("PUT"));
        assert_eq!(out.headers, vec![("foo".to_string(), "bar".to_string())]);
        assert_eq!(out.body.unwrap(), b"\"a&b\"".to_vec());
    }
}
