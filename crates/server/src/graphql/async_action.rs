//! Asynchronous actions. The mutation stores the request in `hdb_catalog.hdb_action_log`
//! (Hasura's table) and answers its id at once; a task then calls the handler and stores the
//! answer or the error; the query `<action>(id: uuid!)` reads it back with `output` cut to the
//! selection like a synchronous answer. Requests left `created` or `processing` by a stopped
//! server are taken up again when it starts.

use super::GraphqlError;
use super::action::{ActionCall, Type, call_handler};
use axum::http::HeaderMap;
use graft_execute::{DbError, Pool};
use graft_gql::Field;
use graft_metadata::{ActionEntry, ActionKind, ActionType};
use graft_schema::Session;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

const LOG_TABLE: &str = "
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_action_log (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  action_name text,
  input_payload jsonb NOT NULL,
  request_headers jsonb NOT NULL,
  session_variables jsonb NOT NULL,
  response_payload jsonb NULL,
  errors jsonb NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  response_received_at timestamptz NULL,
  status text NOT NULL,
  CHECK (status IN ('created', 'processing', 'completed', 'error'))
);";

/// Creates the log table if it is missing.
pub async fn bootstrap(pool: &Pool) -> Result<(), DbError> {
    pool.get().await?.batch_execute(LOG_TABLE).await?;
    Ok(())
}

/// The asynchronous action a mutation root field starts, if it is one.
pub(crate) fn is_async(action: &ActionEntry) -> bool {
    action.definition.action_type() == ActionType::Mutation
        && action.definition.kind() == ActionKind::Asynchronous
}

/// The asynchronous action whose result a query root field reads (`<action>(id: ...)`).
pub(crate) fn find_result<'c>(
    actions: &'c [ActionEntry],
    field: &Field,
) -> Option<&'c ActionEntry> {
    if field.parent_type != "query_root" {
        return None;
    }
    actions.iter().find(|a| a.name == field.name && is_async(a))
}

/// Stores the request and starts the handler call; the field's value is the action id.
pub(crate) async fn enqueue(
    call: &ActionCall<'_>,
    action: &ActionEntry,
    field: &Field,
) -> Result<Value, GraphqlError> {
    let input = Value::Object(field.arguments.clone().into_iter().collect());
    let headers: Map<String, Value> = call
        .client_headers
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), Value::String(v.to_str().ok()?.to_string()))))
        .collect();
    let session = json!(call.session.variables);
    let client = metadata_client(call).await?;
    let row = client
        .query_one(
            "INSERT INTO hdb_catalog.hdb_action_log
               (action_name, input_payload, request_headers, session_variables, status)
             VALUES ($1, $2, $3, $4, 'created') RETURNING id::text",
            &[&action.name, &input, &Value::Object(headers), &session],
        )
        .await
        .map_err(|e| GraphqlError::new("unexpected", "$", format!("metadata database: {e}")))?;
    let id: String = row.get(0);
    tokio::spawn(process(
        call.state.http.clone(),
        call.state.metadata_pool.clone(),
        action.clone(),
        id.clone(),
        call.query.to_string(),
        call.client_headers.clone(),
    ));
    Ok(Value::String(id))
}

/// Takes up requests a stopped server left behind, with the actions of `actions`.
pub fn resume(http: reqwest::Client, pool: Pool, actions: Vec<ActionEntry>) {
    tokio::spawn(async move {
        let Ok(client) = pool.get().await else {
            return;
        };
        let rows = client
            .query(
                "UPDATE hdb_catalog.hdb_action_log SET status = 'created'
                 WHERE status IN ('created', 'processing') RETURNING id::text, action_name",
                &[],
            )
            .await
            .unwrap_or_default();
        drop(client);
        for row in rows {
            let (id, name): (String, Option<String>) = (row.get(0), row.get(1));
            let Some(action) = actions.iter().find(|a| Some(&a.name) == name.as_ref()) else {
                continue;
            };
            process(
                http.clone(),
                pool.clone(),
                action.clone(),
                id,
                String::new(),
                HeaderMap::new(),
            )
            .await;
        }
    });
}

/// Claims one request, calls the handler and stores what it answered.
async fn process(
    http: reqwest::Client,
    pool: Pool,
    action: ActionEntry,
    id: String,
    query: String,
    client_headers: HeaderMap,
) {
    let Ok(client) = pool.get().await else {
        return;
    };
    let claimed = client
        .query_opt(
            "UPDATE hdb_catalog.hdb_action_log SET status = 'processing'
             WHERE id = $1::text::uuid AND status = 'created'
             RETURNING input_payload, session_variables",
            &[&id],
        )
        .await;
    let Ok(Some(row)) = claimed else {
        return;
    };
    let input: Value = row.get(0);
    let session: IndexMap<String, String> =
        serde_json::from_value(row.get::<_, Value>(1)).unwrap_or_default();
    drop(client);
    let outcome = call_handler(&http, &action, &input, &session, &query, &client_headers).await;
    let (sql, value) = match outcome {
        Ok(answer) => (
            "UPDATE hdb_catalog.hdb_action_log SET status = 'completed', response_payload = $2,
               response_received_at = now() WHERE id = $1::text::uuid",
            answer,
        ),
        Err(error) => (
            "UPDATE hdb_catalog.hdb_action_log SET status = 'error', errors = $2,
               response_received_at = now() WHERE id = $1::text::uuid",
            error.errors(),
        ),
    };
    if let Ok(client) = pool.get().await
        && let Err(e) = client.execute(sql, &[&id, &value]).await
    {
        tracing::error!(action = %action.name, error = %e, "could not store an async action's result");
    }
}

/// `<action>(id)`: the stored request as the client selected it; null when there is none the
/// session may see (another role's or another user's requests stay hidden).
pub(crate) async fn result(
    call: &ActionCall<'_>,
    action: &ActionEntry,
    field: &Field,
) -> Result<Value, GraphqlError> {
    let Some(id) = field.arguments.get("id").and_then(Value::as_str) else {
        return Ok(Value::Null);
    };
    let client = metadata_client(call).await?;
    let row = client
        .query_opt(
            "SELECT id::text, to_json(created_at), errors, response_payload, session_variables
             FROM hdb_catalog.hdb_action_log
             WHERE id::text = $1 AND action_name = $2",
            &[&id, &action.name],
        )
        .await
        .map_err(|e| GraphqlError::new("unexpected", "$", format!("metadata database: {e}")))?;
    let Some(row) = row else {
        return Ok(Value::Null);
    };
    let stored: IndexMap<String, String> =
        serde_json::from_value(row.get::<_, Value>(4)).unwrap_or_default();
    if !visible(call.session, &stored) {
        return Ok(Value::Null);
    }
    let output: Option<Value> = row.get(3);
    let mut object = Map::new();
    for selected in &field.selection {
        let value = match selected.name.as_str() {
            "__typename" => Value::String(action.name.clone()),
            "id" => Value::String(row.get(0)),
            "created_at" => row.get(1),
            "errors" => row.get::<_, Option<Value>>(2).unwrap_or(Value::Null),
            "output" => match &output {
                Some(answer) => {
                    let ty = Type::parse(&action.definition.output_type);
                    call.project(answer, &ty, selected).await?
                }
                None => Value::Null,
            },
            _ => Value::Null,
        };
        object.insert(selected.alias.clone(), value);
    }
    Ok(Value::Object(object))
}

async fn metadata_client(call: &ActionCall<'_>) -> Result<deadpool_postgres::Object, GraphqlError> {
    call.state
        .metadata_pool
        .get()
        .await
        .map_err(|e| GraphqlError::new("unexpected", "$", format!("metadata database: {e}")))
}

/// The result of a request is for the role (and user) that made it, and for admins.
fn visible(session: &Session, stored: &IndexMap<String, String>) -> bool {
    if session.is_admin() {
        return true;
    }
    let same = |name: &str| stored.get(name).map(String::as_str) == session.variable(name);
    same("x-hasura-role") && same("x-hasura-user-id")
}
