//! Actions: root fields answered by an HTTP handler.
//!
//! The handler receives Hasura's payload (`action.name`, `input`, `session_variables`,
//! `request_query`) and the configured headers (plus the client's, when
//! `forward_client_headers`). Its JSON answer is checked against the action's output type and cut
//! down to the selection; the output objects' relationships to tables are then read in ONE
//! statement for the whole response (`graft_translate::graphql::translate_related`). A handler
//! error (a non-2xx answer with a `message`) becomes a GraphQL error with its `extensions`.

use super::{
    GraphqlError, async_action, connection, default_source, mutation, options, run_query,
    statement_error,
};
use crate::state::{AppState, SchemaCache};
use axum::http::HeaderMap;
use graft_events::transform::{RequestTransform, TemplateContext, render_json};
use graft_gql::Field;
use graft_gql::apollo_compiler::Schema;
use graft_gql::apollo_compiler::validation::Valid;
use graft_gql::{OperationKind, ValidOperation};
use graft_metadata::{ActionEntry, ActionType, CustomObjectType, TypeRelationshipKind};
use graft_schema::Session;
use graft_translate::graphql::{RelatedFetch, translate_related};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Hasura's default handler timeout.
const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Whether a root field is answered by an action (a call, or an async action's result).
pub(crate) fn is_action_field(cache: &SchemaCache, field: &Field) -> bool {
    find(cache, field).is_some()
        || async_action::find_result(&cache.metadata.actions, field).is_some()
}

/// The action a root field calls, if it is one.
pub(crate) fn find<'c>(cache: &'c SchemaCache, field: &Field) -> Option<&'c ActionEntry> {
    let wanted = match field.parent_type.as_str() {
        "query_root" => ActionType::Query,
        "mutation_root" => ActionType::Mutation,
        _ => return None,
    };
    cache
        .metadata
        .actions
        .iter()
        .find(|a| a.name == field.name && a.definition.action_type() == wanted)
}

/// Runs an operation some of whose root fields are actions: the database fields in one
/// statement (or one transaction, for a mutation), then each action, merged in the order the
/// root fields were written. Returns the response body.
pub(crate) async fn execute_with_actions(
    call: &ActionCall<'_>,
    schema: &Valid<Schema>,
    operation: &ValidOperation,
) -> Result<String, GraphqlError> {
    let mut database = operation.clone();
    database
        .root_fields
        .retain(|f| !f.name.starts_with("__") && !is_action_field(call.cache, f));
    let mut rows: Map<String, Value> = Map::new();
    if !database.root_fields.is_empty() {
        let text = if operation.kind == OperationKind::Mutation {
            mutation::run(call.state, call.cache, call.session, &database)
                .await?
                .into_bytes()
                .into()
        } else {
            run_query(call.state, call.cache, call.session, &database).await?
        };
        rows = serde_json::from_slice(&text).map_err(|e| {
            GraphqlError::new(
                "unexpected",
                "$",
                format!("invalid JSON from the database: {e}"),
            )
        })?;
    }
    let meta = if operation
        .root_fields
        .iter()
        .any(|f| f.name.starts_with("__"))
    {
        graft_gql::introspect(schema, operation)
            .get("data")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    } else {
        Map::new()
    };
    let mut data = Map::new();
    for field in &operation.root_fields {
        let outcome = if let Some(action) = find(call.cache, field) {
            Some(if async_action::is_async(action) {
                async_action::enqueue(call, action, field).await
            } else {
                call.run(action, field).await
            })
        } else if let Some(action) = async_action::find_result(&call.cache.metadata.actions, field)
        {
            Some(async_action::result(call, action, field).await)
        } else {
            None
        };
        let value = match outcome {
            Some(outcome) => match outcome {
                Ok(value) => value,
                Err(error) => {
                    // The action's name, code and message only: never its URL or headers.
                    tracing::info!(action = %field.name, code = %error.code, message = %error.message, "action failed");
                    if operation.kind == OperationKind::Mutation {
                        // Hasura answers a failed mutation action with `data: null` beside it.
                        return Ok(json!({"data": null, "errors": error.errors()}).to_string());
                    }
                    return Err(error);
                }
            },
            None => rows
                .remove(&field.alias)
                .or_else(|| meta.get(&field.alias).cloned())
                .unwrap_or(Value::Null),
        };
        data.insert(field.alias.clone(), value);
    }
    Ok(json!({"data": data}).to_string())
}

/// What one request needs to call its actions.
pub(crate) struct ActionCall<'a> {
    pub state: &'a AppState,
    pub cache: &'a SchemaCache,
    pub session: &'a Session,
    pub query: &'a str,
    pub client_headers: &'a HeaderMap,
}

impl ActionCall<'_> {
    /// Calls the handler of `action` for `field` and returns the field's value.
    pub async fn run(&self, action: &ActionEntry, field: &Field) -> Result<Value, GraphqlError> {
        let answer = self.call_handler(action, field).await?;
        let output = Type::parse(&action.definition.output_type);
        if answer.is_null() && output.non_null {
            return Err(GraphqlError::new(
                "unexpected",
                "$",
                "got null for the action webhook response",
            ));
        }
        self.project(&answer, &output, field).await
    }

    /// Cuts a handler's answer of type `ty` down to `field`'s selection, with the output
    /// objects' relationships read from the database.
    pub async fn project(
        &self,
        answer: &Value,
        ty: &Type,
        field: &Field,
    ) -> Result<Value, GraphqlError> {
        let mut projection = Projection {
            objects: &self.cache.metadata.custom_types.objects,
            fetches: Vec::new(),
        };
        let mut value = projection.value(answer, ty, field, "")?;
        if !projection.fetches.is_empty() {
            self.fill_related(&mut value, projection.fetches).await?;
        }
        Ok(value)
    }

    async fn call_handler(
        &self,
        action: &ActionEntry,
        field: &Field,
    ) -> Result<Value, GraphqlError> {
        let input = Value::Object(field.arguments.clone().into_iter().collect());
        call_handler(
            &self.state.http,
            action,
            &input,
            &self.session.variables,
            self.query,
            self.client_headers,
        )
        .await
    }

    /// Reads every related row in one statement and puts each where its relationship was.
    async fn fill_related(
        &self,
        value: &mut Value,
        fetches: Vec<(String, RelatedFetch)>,
    ) -> Result<(), GraphqlError> {
        let (pointers, fetches): (Vec<String>, Vec<RelatedFetch>) = fetches.into_iter().unzip();
        let statement = translate_related(
            &fetches,
            default_source(self.cache)?,
            self.session,
            &options(self.state),
        )
        .map_err(|e| GraphqlError::new(e.code, e.path, e.message))?;
        let client = connection(self.cache).await?;
        let prepared = &statement.prepared;
        let text = graft_execute::query_json_cached(&client, &prepared.sql, &prepared.params)
            .await
            .map_err(|e| {
                statement_error(
                    self.state,
                    self.session,
                    &prepared.sql,
                    &prepared.params,
                    &e,
                )
            })?;
        let mut rows: Map<String, Value> = serde_json::from_str(&text).map_err(|e| {
            GraphqlError::new(
                "unexpected",
                "$",
                format!("invalid JSON from the database: {e}"),
            )
        })?;
        for (pointer, fetch) in pointers.iter().zip(&fetches) {
            if let (Some(slot), Some(row)) = (value.pointer_mut(pointer), rows.remove(&fetch.key)) {
                *slot = row;
            }
        }
        Ok(())
    }
}

/// POSTs Hasura's action payload to the handler and returns its JSON answer.
pub(crate) async fn call_handler(
    http: &reqwest::Client,
    action: &ActionEntry,
    input: &Value,
    session_variables: &indexmap::IndexMap<String, String>,
    query: &str,
    client_headers: &HeaderMap,
) -> Result<Value, GraphqlError> {
    let definition = &action.definition;
    let url = resolve_template(&definition.handler)?;
    let payload = json!({
        "action": {"name": action.name},
        "input": input,
        "session_variables": session_variables,
        "request_query": query,
    });
    let session = json!(session_variables);
    let mut headers: Vec<(String, String)> = Vec::new();
    if definition.forward_client_headers {
        for (name, value) in client_headers {
            if !graft_auth::IGNORED_HEADERS.contains(&name.as_str())
                && let Ok(value) = value.to_str()
            {
                headers.push((name.to_string(), value.to_string()));
            }
        }
    }
    for header in &definition.headers {
        let value = match (&header.value, &header.value_from_env) {
            (Some(value), _) => value.clone(),
            (None, Some(env)) => std::env::var(env).map_err(|_| {
                GraphqlError::new(
                    "not-found",
                    "$",
                    format!("environment variable \"{env}\" not set"),
                )
            })?,
            (None, None) => continue,
        };
        headers.push((header.name.clone(), value));
    }
    let (method, url, body, headers) = match &definition.request_transform {
        Some(transform) => {
            let transform: RequestTransform = serde_json::from_value(transform.clone())
                .map_err(|e| transform_error(&e.to_string()))?;
            let context = TemplateContext {
                body: &payload,
                base_url: &url,
                session_variables: &session,
            };
            let out = transform
                .apply(&context, &headers)
                .map_err(|e| transform_error(&e.to_string()))?;
            let body = out.body.unwrap_or_else(|| payload.to_string().into_bytes());
            (out.method, out.url, body, out.headers)
        }
        None => (None, url, payload.to_string().into_bytes(), headers),
    };
    let method = reqwest::Method::from_bytes(method.as_deref().unwrap_or("POST").as_bytes())
        .map_err(|e| transform_error(&e.to_string()))?;
    let timeout = Duration::from_secs(definition.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS));
    let mut request = http
        .request(method, &url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let exception = |e: reqwest::Error| {
        GraphqlError::new(
            "unexpected",
            "$",
            format!("http exception when calling webhook: {}", without_url(&e)),
        )
    };
    let response = request.send().await.map_err(exception)?;
    let status = response.status();
    let body = response.bytes().await.map_err(exception)?;
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    if !status.is_success() {
        return Err(handler_error(status.as_u16(), parsed.ok()));
    }
    let answer = parsed.map_err(|_| {
        GraphqlError::new(
            "unexpected",
            "$",
            "invalid json returned by the action webhook",
        )
    })?;
    // `response_transform`: the answer rewritten by its body template.
    let template = definition
        .response_transform
        .as_ref()
        .and_then(|t| t.get("body"))
        .filter(|b| b.get("action").and_then(Value::as_str) == Some("transform"))
        .and_then(|b| b.get("template"))
        .and_then(Value::as_str);
    match template {
        Some(template) => {
            let context = TemplateContext {
                body: &answer,
                base_url: &url,
                session_variables: &session,
            };
            render_json(template, &context).map_err(|e| transform_error(&e.to_string()))
        }
        None => Ok(answer),
    }
}

fn transform_error(reason: &str) -> GraphqlError {
    GraphqlError::new(
        "unexpected",
        "$",
        format!("the action's transform failed: {reason}"),
    )
}

/// `{{NAME}}` in a handler URL is the environment variable NAME.
fn resolve_template(template: &str) -> Result<String, GraphqlError> {
    graft_events::webhook::expand_env_template(template)
        .map_err(|e| GraphqlError::new("not-found", "$", e.to_string()))
}

/// reqwest's message names the URL, which may carry credentials from the environment.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<webhook>");
    }
    text
}

/// A handler's error answer, as Hasura reports it: `message`, and either the handler's own
/// `extensions` or `{path, code}` with its top-level `code` (else `unexpected`).
fn handler_error(status: u16, body: Option<Value>) -> GraphqlError {
    let message = body
        .as_ref()
        .and_then(|b| b.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(message) = message else {
        return GraphqlError::new(
            "unexpected",
            "$",
            format!("the action webhook answered with status {status}"),
        );
    };
    let body = body.unwrap_or(Value::Null);
    if let Some(extensions) = body.get("extensions").filter(|e| e.is_object()) {
        return GraphqlError::with_extensions(message, extensions.clone());
    }
    let code = body
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("unexpected")
        .to_string();
    GraphqlError::new(code, "$", message)
}

/// An action type: `[UserId!]!` and the like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Type {
    non_null: bool,
    list: Option<Box<Type>>,
    name: String,
}

impl Type {
    pub(crate) fn parse(text: &str) -> Type {
        let text = text.trim();
        let (text, non_null) = match text.strip_suffix('!') {
            Some(inner) => (inner.trim(), true),
            None => (text, false),
        };
        match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(inner) => Type {
                non_null,
                list: Some(Box::new(Type::parse(inner))),
                name: String::new(),
            },
            None => Type {
                non_null,
                list: None,
                name: text.to_string(),
            },
        }
    }
}

/// Cuts a handler's answer down to the selection, and notes the relationships to read.
struct Projection<'a> {
    objects: &'a [CustomObjectType],
    /// (JSON pointer of the slot, what to read into it)
    fetches: Vec<(String, RelatedFetch)>,
}

impl Projection<'_> {
    fn value(
        &mut self,
        value: &Value,
        ty: &Type,
        field: &Field,
        pointer: &str,
    ) -> Result<Value, GraphqlError> {
        if value.is_null() {
            if ty.non_null {
                return Err(GraphqlError::new(
                    "unexpected",
                    "$",
                    format!("expecting not null value for field \"{}\"", field.name),
                ));
            }
            return Ok(Value::Null);
        }
        if let Some(item_type) = &ty.list {
            let Value::Array(items) = value else {
                return Err(GraphqlError::new(
                    "unexpected",
                    "$",
                    format!("expecting array for field \"{}\"", field.name),
                ));
            };
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                out.push(self.value(item, item_type, field, &format!("{pointer}/{index}"))?);
            }
            return Ok(Value::Array(out));
        }
        let Some(object_type) = self.objects.iter().find(|o| o.name == ty.name) else {
            if value.is_object() && !field.selection.is_empty() {
                return Err(GraphqlError::new(
                    "unexpected",
                    "$",
                    format!("expecting a scalar for field \"{}\"", field.name),
                ));
            }
            return Ok(value.clone());
        };
        let Value::Object(object) = value else {
            return Err(GraphqlError::new(
                "unexpected",
                "$",
                format!(
                    "expecting object for action webhook response field \"{}\"",
                    field.name
                ),
            ));
        };
        let mut out = Map::new();
        for selected in &field.selection {
            let slot = format!("{pointer}/{}", escape_pointer(&selected.alias));
            if selected.name == "__typename" {
                out.insert(
                    selected.alias.clone(),
                    Value::String(object_type.name.clone()),
                );
                continue;
            }
            if let Some(relationship) = object_type
                .relationships
                .iter()
                .find(|r| r.name == selected.name)
            {
                let object_rel = relationship.kind == TypeRelationshipKind::Object;
                let mut mapping = Vec::with_capacity(relationship.field_mapping.len());
                for (from, column) in &relationship.field_mapping {
                    match object.get(from) {
                        Some(v) if !v.is_null() => mapping.push((column.clone(), v.clone())),
                        _ => break,
                    }
                }
                let empty = if object_rel { Value::Null } else { json!([]) };
                if mapping.len() == relationship.field_mapping.len() {
                    let key = format!("r{}", self.fetches.len());
                    self.fetches.push((
                        slot,
                        RelatedFetch {
                            key,
                            table: relationship.remote_table.clone(),
                            object: object_rel,
                            mapping,
                            field: selected.clone(),
                        },
                    ));
                }
                out.insert(selected.alias.clone(), empty);
                continue;
            }
            let Some(definition) = object_type.fields.iter().find(|f| f.name == selected.name)
            else {
                continue;
            };
            let field_value = object.get(&selected.name).unwrap_or(&Value::Null);
            let projected =
                self.value(field_value, &Type::parse(&definition.ty), selected, &slot)?;
            out.insert(selected.alias.clone(), projected);
        }
        Ok(Value::Object(out))
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_with_their_wrappers() {
        let t = Type::parse("[UserId!]!");
        assert!(t.non_null);
        let item = t.list.unwrap();
        assert!(item.non_null);
        assert_eq!(item.name, "UserId");
        assert_eq!(Type::parse("Int").name, "Int");
    }

    #[test]
    fn handler_errors_keep_their_extensions_or_code() {
        let e = handler_error(400, Some(json!({"message": "m", "code": "c"})));
        assert_eq!(
            e.body(),
            r#"{"errors":[{"extensions":{"path":"$","code":"c"},"message":"m"}]}"#
        );
        let e = handler_error(
            400,
            Some(json!({"message": "m", "code": "c", "extensions": {"foo": "bar"}})),
        );
        assert_eq!(
            e.body(),
            r#"{"errors":[{"extensions":{"foo":"bar"},"message":"m"}]}"#
        );
        let e = handler_error(500, None);
        assert_eq!(e.code, "unexpected");
    }

    #[test]
    fn handler_templates_read_the_environment() {
        assert_eq!(resolve_template("http://x/y").unwrap(), "http://x/y");
        assert!(resolve_template("{{GRAFT_TEST_SURELY_UNSET_VARIABLE}}/a").is_err());
    }
}
