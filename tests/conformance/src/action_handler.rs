//! The action handler Hasura's suite runs beside the engine (`ACTION_WEBHOOK_HANDLER`): the
//! same routes and answers, re-implemented from the suite's description of them. Some routes
//! call back into the engine's GraphQL API as admin (creating and looking up users), as the
//! original does.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Where the engine answers, and its admin secret.
struct Engine {
    url: String,
    admin_secret: Option<String>,
    client: reqwest::Client,
}

/// A running handler; dropping it stops it.
pub struct ActionHandler {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for ActionHandler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the handler on a free port for the engine at `engine_url`.
pub async fn start(
    engine_url: String,
    admin_secret: Option<String>,
) -> std::io::Result<ActionHandler> {
    let engine = Arc::new(Engine {
        url: engine_url,
        admin_secret,
        client: reqwest::Client::new(),
    });
    let app = Router::new()
        .route("/{route}", post(route))
        .with_state(engine);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(ActionHandler { url, task })
}

async fn route(
    State(engine): State<Arc<Engine>>,
    Path(route): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let input = &request["input"];
    let (status, answer) = match route.as_str() {
        "create-user" => create_user(&engine, input, false).await,
        "create-user-timeout" => {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            create_user(&engine, input, false).await
        }
        "create-user-nested" => create_user(&engine, input, true).await,
        "create-users" => create_users(&engine, input).await,
        "mirror-action" => (StatusCode::OK, input["arg"].clone()),
        "mirror-headers" => (StatusCode::OK, mirror_headers(&headers)),
        "get-user-by-email" => users_by_email(&engine, input, true, false).await,
        "get-user-by-email-nested" => users_by_email(&engine, input, true, true).await,
        "get-users-by-email" => users_by_email(&engine, input, false, false).await,
        "get-users-by-email-nested" => users_by_email(&engine, input, false, true).await,
        "intentional-error" => (StatusCode::BAD_REQUEST, input["blob"].clone()),
        "null-response" => (StatusCode::OK, Value::Null),
        "omitted-response-field" => (StatusCode::OK, json!({"country": "India"})),
        "scalar-response" => (StatusCode::OK, json!("some-string")),
        "json-response" => (StatusCode::OK, json!({"foo": "bar"})),
        "custom-scalar-array-response" => (StatusCode::OK, json!([{"foo": "bar"}])),
        "scalar-array-response" => (StatusCode::OK, json!(["foo", "bar", null])),
        "recursive-output" => (StatusCode::OK, recursive_output()),
        "get-results" => (StatusCode::OK, json!({"result_ids": [1, 2, 3, 4]})),
        "typed-nested-null" => (StatusCode::OK, json!({"id": 1, "child": null})),
        "typed-nested-null-wrong-field" => (StatusCode::OK, json!({"id": null, "child": null})),
        "get_messages" => (
            StatusCode::OK,
            json!([{"content": "baz", "user_name": "foo"}, {"content": "foo", "user_name": "bar"}]),
        ),
        _ => return StatusCode::NO_CONTENT.into_response(),
    };
    let mut response = (status, answer.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::SET_COOKIE, HeaderValue::from_static("abcd"));
    response
}

fn invalid_email(message: String) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"message": message, "code": "invalid-email"}),
    )
}

fn query_failed() -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"message": "GraphQL query execution failed", "code": "unexpected"}),
    )
}

async fn create_user(engine: &Engine, input: &Value, nested: bool) -> (StatusCode, Value) {
    let email = input["email"].as_str().unwrap_or_default();
    if !valid_email(email) {
        return invalid_email("Given email address is not valid".into());
    }
    let query = json!({
        "query": "mutation ($email: String! $name: String!) { insert_user_one(object: {email: $email, name: $name}) { id } }",
        "variables": {"email": email, "name": input["name"]},
    });
    let Some(data) = engine.graphql(&query).await else {
        return query_failed();
    };
    let user = data["insert_user_one"].clone();
    if nested {
        (StatusCode::OK, json!({"userObj": user}))
    } else {
        (StatusCode::OK, user)
    }
}

async fn create_users(engine: &Engine, input: &Value) -> (StatusCode, Value) {
    let users = input["users"].as_array().cloned().unwrap_or_default();
    for user in &users {
        let email = user["email"].as_str().unwrap_or_default();
        if !valid_email(email) {
            return invalid_email(format!("Email address is not valid: {email}"));
        }
    }
    let query = json!({
        "query": "mutation ($insert_inputs: [user_insert_input!]!) { insert_user(objects: $insert_inputs) { returning { id } } }",
        "variables": {"insert_inputs": users},
    });
    match engine.graphql(&query).await {
        Some(data) => (StatusCode::OK, data["insert_user"]["returning"].clone()),
        None => query_failed(),
    }
}

async fn users_by_email(
    engine: &Engine,
    input: &Value,
    single: bool,
    nested: bool,
) -> (StatusCode, Value) {
    let email = input["email"].as_str().unwrap_or_default();
    if !valid_email(email) {
        return invalid_email("Given email address is not valid".into());
    }
    let query = json!({
        "query": "query get_user($email: String!) { user(where: {email: {_eq: $email}}, order_by: {id: asc}) { id } }",
        "variables": {"email": email},
    });
    let Some(data) = engine.graphql(&query).await else {
        return query_failed();
    };
    let mut users = data["user"].as_array().cloned().unwrap_or_default();
    if nested {
        for user in &mut users {
            user["address"] = json!({"city": "New York", "country": "USA"});
            user["addresses"] = json!([
                {"city": "Bangalore", "country": "India"},
                {"city": "Melbourne", "country": "Australia"}
            ]);
            user["user_id"] = json!({"id": user["id"]});
        }
    }
    if single {
        (
            StatusCode::OK,
            users.into_iter().next().unwrap_or(Value::Null),
        )
    } else {
        (StatusCode::OK, Value::Array(users))
    }
}

fn mirror_headers(headers: &HeaderMap) -> Value {
    let list: Vec<Value> = headers
        .iter()
        .map(|(name, value)| json!({"name": name.as_str(), "value": value.to_str().unwrap_or_default()}))
        .collect();
    json!({"headers": list})
}

fn recursive_output() -> Value {
    json!({
        "direct": {"id": 1, "this": {"id": 2, "this": {"id": 3}}},
        "list": {"id": 1, "these": [{"id": 2, "these": [{"id": 3}]}, {"id": 4}]},
        "mutual": {"id": 1, "that": {"id": 2, "other": {"id": 3, "that": {"id": 4}}}}
    })
}

impl Engine {
    /// `data` of a GraphQL request sent as admin; `None` when it failed.
    async fn graphql(&self, query: &Value) -> Option<Value> {
        let mut request = self
            .client
            .post(format!("{}/v1/graphql", self.url))
            .json(query);
        if let Some(secret) = &self.admin_secret {
            request = request.header("X-Hasura-Admin-Secret", secret);
        }
        let response = request.send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body: Value = response.json().await.ok()?;
        body.get("data").filter(|d| !d.is_null()).cloned()
    }
}

/// The suite's email rule: `word([.-]?word)*@word([.-]?word)*(.xx or .xxx)+`, where a word is
/// letters, digits and underscores.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let dotted_words = |text: &str| {
        !text.is_empty()
            && text
                .split(['.', '-'])
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_alphanumeric() || c == '_'))
    };
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    dotted_words(local)
        && dotted_words(domain)
        && (2..=3).contains(&tld.len())
        && tld.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn emails_as_the_suite_judges_them() {
        assert!(valid_email("clarke@gmail.com"));
        assert!(valid_email("a.b-c@x.co.uk"));
        assert!(!valid_email("random-email"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a@b.comm"));
    }
}
