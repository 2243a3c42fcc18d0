//! Case files: one request object or a list of them (HARNESS 3.1), read into [`Step`]s.
//! Files the Python suite drives itself (requests without `url`, subscription step files,
//! files for other backends) come back as [`CaseFile::NotRunnable`] with the reason.

use serde_json::{Map, Value};
use std::path::Path;

/// Errors while reading YAML.
#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid YAML in {path}: {message}")]
    Yaml { path: String, message: String },
}

/// One request of a case file.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub description: Option<String>,
    pub url: String,
    /// `GET`, `POST`, `POSTJSON`, `PUT`, `PATCH`, `DELETE`; `None` = POST `query` as JSON.
    pub method: Option<String>,
    /// The JSON body (`Null` when the YAML has `query:` with nothing after it or no `query`).
    pub query: Value,
    pub body: Option<Value>,
    /// Request headers, values stringified.
    pub headers: Vec<(String, String)>,
    pub status: u16,
    pub response: Option<Value>,
    pub resp_headers: Vec<(String, String)>,
    pub allowed_responses: Vec<AllowedResponse>,
}

/// One alternative of `allowed_responses`.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowedResponse {
    pub response: Option<Value>,
    pub resp_headers: Vec<(String, String)>,
}

impl Step {
    /// The HTTP method the request goes out with (for reports).
    pub fn method_name(&self) -> &str {
        match self.method.as_deref() {
            Some("POSTJSON") | None => "POST",
            Some(other) => other,
        }
    }
}

/// What a case file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseFile {
    Steps(Vec<Step>),
    NotRunnable(String),
}

const OTHER_BACKENDS: [&str; 6] = [
    "_mssql.yaml",
    "_citus.yaml",
    "_bigquery.yaml",
    "-mssql.yaml",
    "-citus.yaml",
    "-bigquery.yaml",
];

/// Reads a YAML file into JSON, keeping key order and resolving anchors.
pub fn read_yaml(path: &Path) -> Result<Value, CaseFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| CaseFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_yaml(&text).map_err(|message| CaseFileError::Yaml {
        path: path.display().to_string(),
        message,
    })
}

/// Parses YAML text into JSON. An empty document is `null`.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    yaml_to_json(yaml)
}

fn yaml_to_json(yaml: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("number {f} has no JSON form"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut object = Map::new();
            // `<<: *anchor` merge keys, as PyYAML does: merged keys come first, explicit keys
            // override their values.
            let mut explicit = Vec::new();
            for (key, value) in map {
                if key.as_str() == Some("<<") {
                    let sources = match value {
                        Y::Sequence(items) => items,
                        other => vec![other],
                    };
                    for source in sources {
                        let Value::Object(merged) = yaml_to_json(source)? else {
                            return Err("merge key `<<` on a non-mapping".into());
                        };
                        for (k, v) in merged {
                            if !object.contains_key(&k) {
                                object.insert(k, v);
                            }
                        }
                    }
                } else {
                    explicit.push((key, value));
                }
            }
            for (key, value) in explicit {
                let key = match key {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

/// Loads a case file.
pub fn load_case(path: &Path) -> CaseFile {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if OTHER_BACKENDS.iter().any(|suffix| name.ends_with(suffix)) {
        return CaseFile::NotRunnable("file for another backend".into());
    }
    match read_yaml(path) {
        Ok(value) => case_from_value(&value),
        Err(e) => CaseFile::NotRunnable(e.to_string()),
    }
}

/// Interprets a parsed case file.
pub fn case_from_value(value: &Value) -> CaseFile {
    let objects: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![value],
        _ => return CaseFile::NotRunnable("not a request object or list".into()),
    };
    if objects.is_empty() {
        return CaseFile::NotRunnable("empty request list".into());
    }
    let mut steps = Vec::new();
    for (index, object) in objects.into_iter().enumerate() {
        match step_from_value(object) {
            Ok(step) => steps.push(step),
            Err(reason) => {
                return CaseFile::NotRunnable(format!("request {}: {reason}", index + 1));
            }
        }
    }
    CaseFile::Steps(steps)
}

fn step_from_value(value: &Value) -> Result<Step, String> {
    let Value::Object(object) = value else {
        return Err("not a map".into());
    };
    if object.contains_key("live_response") || object.contains_key("stream_response") {
        return Err("subscription step (websocket)".into());
    }
    let url = match object.get("url") {
        Some(Value::String(url)) => url.clone(),
        Some(_) => return Err("`url` is not a string".into()),
        None => return Err("no `url` (request driven by Python code)".into()),
    };
    let status = match object.get("status") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or("`status` is not an HTTP status")?,
        Some(Value::String(s)) => s.parse().map_err(|_| "`status` is not a number")?,
        _ => return Err("no `status`".into()),
    };
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .map(|m| m.to_ascii_uppercase());
    let allowed_responses = match object.get("allowed_responses") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|alt| AllowedResponse {
                response: alt.get("response").cloned(),
                resp_headers: header_pairs(alt.get("resp_headers")),
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Step {
        description: object
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        url,
        method,
        query: object.get("query").cloned().unwrap_or(Value::Null),
        body: object.get("body").cloned().filter(|b| !b.is_null()),
        headers: header_pairs(object.get("headers")),
        status,
        response: object.get("response").cloned(),
        resp_headers: header_pairs(object.get("resp_headers")),
        allowed_responses,
    })
}

/// Header maps with their values stringified like Python's `str(value)`.
fn header_pairs(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| (name.clone(), python_str(value)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Python's `str()` of a YAML scalar, which is what the harness sends as a header value.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn steps(yaml: &str) -> Vec<Step> {
        match case_from_value(&parse_yaml(yaml).unwrap()) {
            CaseFile::Steps(steps) => steps,
            CaseFile::NotRunnable(reason) => panic!("not runnable: {reason}"),
        }
    }

    #[test]
    fn single_request() {
        let s = steps(
            "description: d\nurl: /v1/graphql\nstatus: 200\nheaders:\n  X-Hasura-Role: user\n  X-Hasura-User-Id: 1\nresponse:\n  data: {a: 1}\nquery:\n  query: '{ a }'\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].url, "/v1/graphql");
        assert_eq!(s[0].status, 200);
        assert_eq!(
            s[0].headers,
            vec![
                ("X-Hasura-Role".to_string(), "user".to_string()),
                ("X-Hasura-User-Id".to_string(), "1".to_string())
            ]
        );
        assert_eq!(s[0].query["query"], "{ a }");
        assert_eq!(s[0].response.as_ref().unwrap()["data"]["a"], 1);
    }

    #[test]
    fn list_with_anchor_and_null_query() {
        let s = steps(
            "- url: /api/rest/x\n  method: get\n  status: 200\n  query:\n  response: &r {a: '1'}\n- url: /v1/query\n  status: 400\n  query: {type: x}\n  response: *r\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].method.as_deref(), Some("GET"));
        assert_eq!(s[0].query, Value::Null);
        assert_eq!(s[1].response, Some(serde_json::json!({"a": "1"})));
        assert_eq!(s[1].method_name(), "POST");
    }

    #[test]
    fn merge_keys_like_pyyaml() {
        let v = parse_yaml(
            "- &t {description: a, url: /x, status: 200, query: &q {type: s, args: {n: 1}}}\n- <<: *t\n  query:\n    <<: *q\n    args: {n: 2}\n",
        )
        .unwrap();
        assert_eq!(v[1]["url"], "/x");
        assert_eq!(v[1]["query"]["type"], "s");
        assert_eq!(v[1]["query"]["args"]["n"], 2);
        let keys: Vec<&String> = v[1].as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["description", "url", "status", "query"]);
    }

    #[test]
    fn key_order_is_kept() {
        let v = parse_yaml("b: 1\na: 2\nc: 3\n").unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["b", "a", "c"]);
    }

    #[test]
    fn not_runnable_files() {
        let raw = parse_yaml("type: bulk\nargs: []\n").unwrap();
        assert!(matches!(case_from_value(&raw), CaseFile::NotRunnable(r) if r.contains("url")));
        let sub = parse_yaml("- name: x\n  url: /v1/graphql\n  status: 200\n  live_response: {}\n")
            .unwrap();
        assert!(matches!(case_from_value(&sub), CaseFile::NotRunnable(_)));
        let no_status = parse_yaml("url: /v1/graphql\nquery: {}\n").unwrap();
        assert!(matches!(
            case_from_value(&no_status),
            CaseFile::NotRunnable(_)
        ));
        assert!(matches!(
            load_case(Path::new("/nonexistent/select_mssql.yaml")),
            CaseFile::NotRunnable(r) if r.contains("backend")
        ));
    }

    #[test]
    fn allowed_responses_and_resp_headers() {
        let s = steps(
            "url: /v1/graphql\nstatus: 200\nresp_headers:\n  X-Cache: 1\nallowed_responses:\n- response: {a: 1}\n- response: {a: 2}\n  resp_headers: {x: y}\nquery: {query: '{a}'}\n",
        );
        assert_eq!(s[0].resp_headers, vec![("X-Cache".into(), "1".into())]);
        assert_eq!(s[0].allowed_responses.len(), 2);
        assert_eq!(
            s[0].allowed_responses[1].resp_headers,
            vec![("x".into(), "y".into())]
        );
    }
}
