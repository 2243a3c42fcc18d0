//! From a verified token payload to roles and session variables: the claims namespace (a key
//! or a JSON path, as an object or stringified JSON) or a `claims_map` of JSON paths with
//! defaults and literals. Errors use Hasura's codes and messages.

use std::fmt;

use indexmap::IndexMap;
use serde_json::Value;

use crate::config::{ClaimValue, ClaimsFormat, ClaimsMap, ClaimsSource};
use crate::error::AuthError;

const ALLOWED_ROLES: &str = "x-hasura-allowed-roles";
const DEFAULT_ROLE: &str = "x-hasura-default-role";
const SESSION_PREFIX: &str = "x-hasura-";

#[derive(Debug, thiserror::Error)]
pub enum JsonPathError {
    #[error("invalid JSON path {path:?}: {reason}")]
    Invalid { path: String, reason: &'static str },
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    Key(String),
    Index(usize),
}

/// The JSON path subset Hasura accepts: `$`, `.key`, `['key']`, `["key"]`, `[0]`; the leading
/// `$` may be left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    elements: Vec<PathElement>,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, JsonPathError> {
        let invalid = |reason| JsonPathError::Invalid {
            path: text.to_string(),
            reason,
        };
        let mut rest = text.strip_prefix('$').unwrap_or(text);
        let mut elements = Vec::new();
        // Without `$`, a path may start with a bare key (`hasura.claims`).
        let mut first = !text.starts_with('$');
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or(invalid("unclosed '['"))?;
                let inside = &after[..close];
                let quoted = inside
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inside.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
                match quoted {
                    Some(key) => elements.push(PathElement::Key(key.to_string())),
                    None => elements.push(PathElement::Index(
                        inside
                            .parse()
                            .map_err(|_| invalid("expected an index or a quoted key"))?,
                    )),
                }
                rest = &after[close + 1..];
            } else {
                let after = match rest.strip_prefix('.') {
                    Some(after) => after,
                    None if first => rest,
                    None => return Err(invalid("expected '.' or '['")),
                };
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return Err(invalid("empty key"));
                }
                elements.push(PathElement::Key(after[..end].to_string()));
                rest = &after[end..];
            }
            first = false;
        }
        Ok(JsonPath {
            text: text.to_string(),
            elements,
        })
    }

    pub fn lookup<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.elements
            .iter()
            .try_fold(value, |current, element| match element {
                PathElement::Key(key) => current.as_object()?.get(key),
                PathElement::Index(index) => current.as_array()?.get(*index),
            })
    }
}

/// The session part of a verified token.
#[derive(Debug)]
pub(crate) struct TokenClaims {
    pub allowed_roles: Vec<String>,
    pub default_role: String,
    /// `x-hasura-*` claims other than the two role claims, names lower-cased.
    pub variables: IndexMap<String, String>,
}

pub(crate) fn extract(payload: &Value, source: &ClaimsSource) -> Result<TokenClaims, AuthError> {
    match source {
        ClaimsSource::Namespace { key, format } => {
            let value = payload.get(key).ok_or_else(|| {
                AuthError::invalid_claims(format!("claims key: '{key}' not found"))
            })?;
            let object = namespace_object(value, *format, &format!("claims_namespace {key}"))?;
            from_namespace(&object)
        }
        ClaimsSource::NamespacePath { path, format } => {
            let value = path.lookup(payload).ok_or_else(|| {
                AuthError::invalid_claims(format!(
                    "claims not found at claims_namespace_path: '{path}'"
                ))
            })?;
            let object =
                namespace_object(value, *format, &format!("claims_namespace_path {path}"))?;
            from_namespace(&object)
        }
        ClaimsSource::Map(map) => from_claims_map(payload, map),
    }
}

fn namespace_object(
    value: &Value,
    format: ClaimsFormat,
    location: &str,
) -> Result<serde_json::Map<String, Value>, AuthError> {
    match (format, value) {
        (ClaimsFormat::Json, Value::Object(object)) => Ok(object.clone()),
        (ClaimsFormat::Json, _) => Err(AuthError::invalid_claims(
            "expecting a json object when claims_format is json",
        )),
        (ClaimsFormat::StringifiedJson, Value::String(text)) => {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(object)) => Ok(object),
                _ => Err(AuthError::invalid_claims(format!(
                    "expecting stringified json at: '{location}'"
                ))),
            }
        }
        (ClaimsFormat::StringifiedJson, _) => Err(AuthError::invalid_claims(
            "expecting a string when claims_format is stringified_json",
        )),
    }
}

fn from_namespace(object: &serde_json::Map<String, Value>) -> Result<TokenClaims, AuthError> {
    let mut session_claims: IndexMap<String, &Value> = IndexMap::new();
    for (name, value) in object {
        let name = name.to_ascii_lowercase();
        if name.starts_with(SESSION_PREFIX) {
            session_claims.insert(name, value);
        }
    }
    let allowed = session_claims.shift_remove(ALLOWED_ROLES).ok_or_else(|| {
        AuthError::missing_role_claims(format!("JWT claim does not contain {ALLOWED_ROLES}"))
    })?;
    let default = session_claims.shift_remove(DEFAULT_ROLE).ok_or_else(|| {
        AuthError::missing_role_claims(format!("JWT claim does not contain {DEFAULT_ROLE}"))
    })?;
    Ok(TokenClaims {
        allowed_roles: parse_allowed_roles(allowed)?,
        default_role: parse_default_role(default)?,
        variables: session_claims
            .into_iter()
            .map(|(name, value)| (name, variable_text(value)))
            .collect(),
    })
}

fn from_claims_map(payload: &Value, map: &ClaimsMap) -> Result<TokenClaims, AuthError> {
    let role_claim = |value: &ClaimValue, name: &str| -> Result<Value, AuthError> {
        match value {
            ClaimValue::Literal(literal) => Ok(literal.clone()),
            ClaimValue::Path { path, default } => path
                .lookup(payload)
                .or(default.as_ref())
                .cloned()
                .ok_or_else(|| {
                    AuthError::missing_role_claims(format!("JWT claim does not contain {name}"))
                }),
        }
    };
    let allowed = role_claim(&map.allowed_roles, ALLOWED_ROLES)?;
    let default = role_claim(&map.default_role, DEFAULT_ROLE)?;
    let mut variables = IndexMap::new();
    for (name, value) in &map.others {
        let value = match value {
            ClaimValue::Literal(literal) => literal.clone(),
            ClaimValue::Path { path, default } => path
                .lookup(payload)
                .or(default.as_ref())
                .cloned()
                .ok_or_else(|| {
                    AuthError::invalid_claims(format!(
                        "JWT claim from claims_map, {name} not found"
                    ))
                })?,
        };
        variables.insert(name.clone(), variable_text(&value));
    }
    Ok(TokenClaims {
        allowed_roles: parse_allowed_roles(&allowed)?,
        default_role: parse_default_role(&default)?,
        variables,
    })
}

fn parse_allowed_roles(value: &Value) -> Result<Vec<String>, AuthError> {
    let invalid = || {
        AuthError::invalid_claims(format!(
            "invalid {ALLOWED_ROLES}; should be a list of roles"
        ))
    };
    let Value::Array(items) = value else {
        return Err(invalid());
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(role) if !role.is_empty() => Ok(role.clone()),
            _ => Err(invalid()),
        })
        .collect()
}

fn parse_default_role(value: &Value) -> Result<String, AuthError> {
    match value {
        Value::String(role) if !role.is_empty() => Ok(role.clone()),
        _ => Err(AuthError::invalid_claims(format!(
            "invalid {DEFAULT_ROLE}; should be a single role name"
        ))),
    }
}

/// Strings stay as they are; anything else (numbers, arrays for `_in` filters, objects) is
/// kept as its JSON text, which is what permission filters parse it back from.
fn variable_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths_parse_and_look_up() {
        let doc = json!({"a": {"b c": [10, {"d": "x"}]}, "top": 1});
        for (path, expected) in [
            ("$", Some(doc.clone())),
            ("$.top", Some(json!(1))),
            ("$.a['b c'][1].d", Some(json!("x"))),
            ("$[\"a\"][\"b c\"][0]", Some(json!(10))),
            ("a.top", None),
            ("top", Some(json!(1))),
            ("$.missing.deeper", None),
        ] {
            let parsed = JsonPath::parse(path).unwrap();
            assert_eq!(parsed.lookup(&doc).cloned(), expected, "{path}");
        }
        for bad in ["$.", "$[", "$[x]", "$a", "$..a"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn namespace_claims_keep_only_session_variables() {
        let source = ClaimsSource::Namespace {
            key: "ns".into(),
            format: ClaimsFormat::Json,
        };
        let payload = json!({"ns": {
            "X-Hasura-Allowed-Roles": ["user", "editor"],
            "x-hasura-default-role": "user",
            "X-Hasura-User-Id": 42,
            "x-hasura-org-ids": ["1", "2"],
            "not-a-session-variable": "dropped"
        }});
        let claims = extract(&payload, &source).unwrap();
        assert_eq!(claims.allowed_roles, vec!["user", "editor"]);
        assert_eq!(claims.default_role, "user");
        assert_eq!(
            claims.variables,
            IndexMap::from([
                ("x-hasura-user-id".to_string(), "42".to_string()),
                ("x-hasura-org-ids".to_string(), r#"["1","2"]"#.to_string()),
            ])
        );
    }

    #[test]
    fn role_claim_errors_use_hasura_codes() {
        let source = ClaimsSource::Namespace {
            key: "ns".into(),
            format: ClaimsFormat::Json,
        };
        let missing = extract(&json!({"ns": {"x-hasura-default-role": "u"}}), &source);
        assert_eq!(missing.unwrap_err().code, "jwt-missing-role-claims");
        let wrong_type = extract(
            &json!({"ns": {"x-hasura-default-role": "u", "x-hasura-allowed-roles": "u"}}),
            &source,
        );
        assert_eq!(wrong_type.unwrap_err().code, "jwt-invalid-claims");
        let no_namespace = extract(&json!({}), &source).unwrap_err();
        assert_eq!(no_namespace.code, "jwt-invalid-claims");
        assert_eq!(no_namespace.message, "claims key: 'ns' not found");
    }
}
