//! Mutations: one statement per mutation root field, all in ONE transaction, in the order
//! written; a failed permission check or any error rolls everything back.

use super::{GraphqlError, connection, database_error, default_source, options};
use crate::state::{AppState, SchemaCache};
use graft_gql::ValidOperation;
use graft_schema::Session;
use graft_translate::graphql_mutation::{
    MutationStatement, ResultShape, translate_graphql_mutation,
};

/// Runs the mutation and returns the JSON text of `data` (database fields only).
pub async fn run(
    state: &AppState,
    cache: &SchemaCache,
    session: &Session,
    operation: &ValidOperation,
) -> Result<String, GraphqlError> {
    let statements =
        translate_graphql_mutation(operation, default_source(cache)?, session, &options(state))
            .map_err(|e| GraphqlError::new(e.code, e.path, e.message))?;
    let object = connection(cache).await?;
    let client: &deadpool_postgres::ClientWrapper = &object;
    let begin = |e: tokio_postgres::Error| {
        GraphqlError::new(
            "unexpected",
            "$",
            format!("could not start a transaction: {e}"),
        )
    };
    let session_json = session.variables_json();
    // Sent together (the driver pipelines requests polled at the same time, in order): one
    // round trip to open the transaction and set `hasura.user`, not two.
    let (began, setting) = tokio::join!(
        client.batch_execute("BEGIN"),
        graft_execute::set_session_setting(client, &session_json)
    );
    began.map_err(begin)?;
    let outcome = match setting {
        Ok(()) => run_all(state, session, client, &statements).await,
        Err(e) => Err(GraphqlError::new(
            "unexpected",
            "$",
            format!("could not start a transaction: {e}"),
        )),
    };
    let values = match outcome {
        Ok(values) => match client.batch_execute("COMMIT").await {
            Ok(()) => values,
            // A deferred constraint or a serialization failure can still fail the commit; the
            // transaction is over either way.
            Err(e) => return Err(commit_error(state, session, e)),
        },
        Err(error) => {
            // The first error is the answer. If even ROLLBACK fails the connection is broken
            // (then Postgres has rolled back already, as it does for a lost client) or in an
            // unknown state: either way it must not go back to the pool.
            if client.batch_execute("ROLLBACK").await.is_err() {
                discard(object);
            }
            return Err(error);
        }
    };
    Ok(assemble(operation, &statements, values))
}

/// Takes a connection out of the pool for good, so the next request gets a fresh one.
fn discard(object: deadpool_postgres::Object) {
    drop(deadpool_postgres::Object::take(object));
}

/// A failed COMMIT: the client's error (a deferred constraint, a serialization failure) keeps
/// its code and message, as a failed statement's would; anything else is Hasura's 500-class
/// "database query error".
fn commit_error(state: &AppState, session: &Session, e: tokio_postgres::Error) -> GraphqlError {
    super::statement_error(
        state,
        session,
        "COMMIT",
        &[],
        &graft_execute::DbError::from(e),
    )
}

async fn run_all(
    state: &AppState,
    session: &Session,
    client: &deadpool_postgres::ClientWrapper,
    statements: &[MutationStatement],
) -> Result<Vec<String>, GraphqlError> {
    let mut values = Vec::with_capacity(statements.len());
    for statement in statements {
        let prepared = &statement.prepared;
        let text = graft_execute::query_json_cached(client, &prepared.sql, &prepared.params)
            .await
            .map_err(|e| database_error(state, session, prepared, e))?;
        if !prepared.has_check {
            values.push(text);
            continue;
        }
        // Only here is a result parsed: to read the check beside the data.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            GraphqlError::new(
                "unexpected",
                "$",
                format!("invalid JSON from the database: {e}"),
            )
        })?;
        if value.get("check").and_then(serde_json::Value::as_bool) != Some(true) {
            return Err(GraphqlError::new(
                "permission-error",
                "$",
                "check constraint of an insert/update permission has failed",
            ));
        }
        values.push(value.get("data").cloned().unwrap_or_default().to_string());
    }
    Ok(values)
}

/// `{"key": value, ...}` in root-field order; `update_t_many` entries (ArrayItem) become one
/// array per field, `[]` when it had no updates.
fn assemble(
    operation: &ValidOperation,
    statements: &[MutationStatement],
    values: Vec<String>,
) -> String {
    let mut out = String::from("{");
    let mut first = true;
    for field in &operation.root_fields {
        if field.name.starts_with("__") {
            continue;
        }
        let key = &field.alias;
        let mine: Vec<(&MutationStatement, &String)> = statements
            .iter()
            .zip(values.iter())
            .filter(|(s, _)| &s.response_key == key)
            .collect();
        let value = match mine.first() {
            Some((s, v)) if s.shape == ResultShape::Value => (*v).clone(),
            _ => format!(
                "[{}]",
                mine.iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&serde_json::Value::String(key.clone()).to_string());
        out.push(':');
        out.push_str(&value);
    }
    out.push('}');
    out
}
