//! Capture: the Postgres triggers that write an event row for each changed row, in the same
//! transaction as the change, so a committed change always has its event and a rolled-back one
//! never does.
//!
//! Each (event trigger, operation) gets a function `hdb_catalog."notify_hasura_<name>_<OP>"`
//! and a row trigger of the same name on the table, as Hasura names them. The function body is
//! the same text for all of them: what differs (schema, table, trigger name, the columns whose
//! change fires an update, the columns sent) is passed as trigger arguments, so no name or value
//! is ever spliced into PL/pgSQL. The `CREATE TRIGGER` statement itself takes its arguments as
//! literals, which Postgres's `format('%L')` quotes from bind parameters.

use crate::EventsError;
use graft_metadata::{Columns, EventTrigger, OperationSpec, QualifiedTable};
use graft_sql::quote_identifier;
use tokio_postgres::GenericClient;

/// Hasura's limit: `notify_hasura_` + name + `_INSERT` must fit Postgres's 63-byte names.
pub const MAX_TRIGGER_NAME_BYTES: usize = 42;

pub const OPERATIONS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

/// Checks an event trigger name as Hasura does: letters, digits, `_` and `-`, at most 42 bytes.
pub fn validate_trigger_name(name: &str) -> Result<(), EventsError> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || !valid_chars {
        return Err(EventsError::InvalidName(format!(
            "\"{name}\": only letters, digits, underscores and hyphens are allowed"
        )));
    }
    if name.len() > MAX_TRIGGER_NAME_BYTES {
        return Err(EventsError::InvalidName(format!(
            "\"{name}\" is longer than {MAX_TRIGGER_NAME_BYTES} characters"
        )));
    }
    Ok(())
}

/// `notify_hasura_<name>_<OP>`: the name of both the function and the row trigger.
pub fn capture_name(trigger: &str, operation: &str) -> String {
    format!("notify_hasura_{trigger}_{operation}")
}

const CAPTURE_BODY: &str = r#"
DECLARE
  _changed text[];
  _payload text[];
  _old json;
  _new json;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF TG_ARGV[3] = '*' THEN
      IF to_jsonb(OLD) = to_jsonb(NEW) THEN RETURN NULL; END IF;
    ELSE
      _changed := ARRAY(SELECT json_array_elements_text(TG_ARGV[3]::json));
      IF (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(OLD)) WHERE key = ANY(_changed))
         IS NOT DISTINCT FROM
         (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(NEW)) WHERE key = ANY(_changed))
      THEN
        RETURN NULL;
      END IF;
    END IF;
  END IF;
  IF TG_OP <> 'INSERT' THEN _old := row_to_json(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN _new := row_to_json(NEW); END IF;
  IF TG_ARGV[4] <> '*' THEN
    _payload := ARRAY(SELECT json_array_elements_text(TG_ARGV[4]::json));
    _old := (SELECT json_object_agg(key, value) FROM json_each(_old) WHERE key = ANY(_payload));
    _new := (SELECT json_object_agg(key, value) FROM json_each(_new) WHERE key = ANY(_payload));
  END IF;
  PERFORM hdb_catalog.insert_event_log(TG_ARGV[0], TG_ARGV[1], TG_ARGV[2], TG_OP,
    json_build_object('old', _old, 'new', _new));
  RETURN NULL;
END;
"#;

/// `"*"` or the JSON array of names, as the trigger function reads its arguments.
fn columns_argument(columns: Option<&Columns>) -> String {
    match columns {
        None | Some(Columns::All) => "*".to_string(),
        Some(Columns::List(list)) => serde_json::to_string(list).unwrap_or_default(),
    }
}

fn operation_spec<'t>(trigger: &'t EventTrigger, operation: &str) -> Option<&'t OperationSpec> {
    let definition = &trigger.definition;
    match operation {
        "INSERT" => definition.insert.as_ref(),
        "UPDATE" => definition.update.as_ref(),
        _ => definition.delete.as_ref(),
    }
}

/// `format()` treats `%` as its own; identifiers may contain one.
fn escape_format(text: &str) -> String {
    text.replace('%', "%%")
}

/// Installs (or re-installs) the capture of one event trigger on its table: drops whatever
/// row triggers of that name exist, then creates one per operation in the definition. Callers
/// run it inside a transaction together with [`crate::install_event_log`].
pub async fn install_capture<C: GenericClient + Sync>(
    client: &C,
    table: &QualifiedTable,
    trigger: &EventTrigger,
) -> Result<(), EventsError> {
    validate_trigger_name(&trigger.name)?;
    remove_capture(client, &trigger.name).await?;
    let table_sql = format!(
        "{}.{}",
        quote_identifier(&table.schema)?,
        quote_identifier(&table.name)?
    );
    for operation in OPERATIONS {
        let Some(spec) = operation_spec(trigger, operation) else {
            continue;
        };
        let name = quote_identifier(&capture_name(&trigger.name, operation))?;
        client
            .batch_execute(&format!(
                "CREATE OR REPLACE FUNCTION hdb_catalog.{name}() RETURNS trigger \
                 LANGUAGE plpgsql AS $graft_capture${CAPTURE_BODY}$graft_capture$"
            ))
            .await?;
        let template = format!(
            "CREATE TRIGGER {name} AFTER {operation} ON {table} FOR EACH ROW \
             EXECUTE PROCEDURE hdb_catalog.{name}(%L, %L, %L, %L, %L)",
            name = escape_format(&name),
            table = escape_format(&table_sql),
        );
        let changed = if operation == "UPDATE" {
            columns_argument(Some(&spec.columns))
        } else {
            "*".to_string()
        };
        let payload = columns_argument(spec.payload.as_ref());
        let row = client
            .query_one(
                "SELECT format($1::text, $2::text, $3::text, $4::text, $5::text, $6::text)",
                &[
                    &template,
                    &table.schema,
                    &table.name,
                    &trigger.name,
                    &changed,
                    &payload,
                ],
            )
            .await?;
        let statement: String = row.try_get(0)?;
        client.batch_execute(&statement).await?;
    }
    Ok(())
}

/// Drops the row triggers and functions of an event trigger, wherever they are (the table may
/// have been renamed or moved since).
pub async fn remove_capture<C: GenericClient + Sync>(
    client: &C,
    trigger_name: &str,
) -> Result<(), EventsError> {
    let names: Vec<String> = OPERATIONS
        .iter()
        .map(|op| capture_name(trigger_name, op))
        .collect();
    let rows = client
        .query(
            "SELECT tg.tgname::text, tg.tgrelid::regclass::text FROM pg_trigger tg \
             WHERE tg.tgname = ANY($1::text[]) AND NOT tg.tgisinternal",
            &[&names],
        )
        .await?;
    for row in rows {
        let trigger: String = row.try_get(0)?;
        // regclass output is already a quoted, schema-qualified name
        let relation: String = row.try_get(1)?;
        client
            .batch_execute(&format!(
                "DROP TRIGGER IF EXISTS {} ON {relation}",
                quote_identifier(&trigger)?
            ))
            .await?;
    }
    for name in &names {
        client
            .batch_execute(&format!(
                "DROP FUNCTION IF EXISTS hdb_catalog.{}()",
                quote_identifier(name)?
            ))
            .await?;
    }
    Ok(())
}
