//! Capture: the Postgres triggers that write an event row for each changed row, in the same
//! transaction as the change, so a committed change always has its event and a rolled-back one
//! never does.
//!
//! Each (event trigger, operation) gets a function `hdb_catalog."notify_hasura_<name>_<OP>"`
//! and a row trigger of the same name on the table, as Hasura names them. The function body is
//! the same text for all of them: what differs (schema, table, trigger name, the columns whose
//! change fires an update, the columns sent, the columns sent in another form) is passed as
//! trigger arguments, so no name or value is ever spliced into PL/pgSQL. The `CREATE TRIGGER`
//! statement itself takes its arguments as literals, which Postgres's `format('%L')` quotes from
//! bind parameters.
//!
//! The row goes out as `row_to_json` writes it, except where Hasura's payload differs
//! ([`PayloadColumns`]): big numbers as strings when the server stringifies numeric types, and
//! PostGIS values as GeoJSON. Those depend on the column types, so the server reinstalls a
//! capture when they change ([`capture_is_current`] tells whether an installed one is up to
//! date).

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

/// Columns whose payload form is not `row_to_json`'s, as Hasura's trigger writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadColumns {
    /// Sent as JSON strings: bigint, numeric, double precision and money when the server runs
    /// with `--stringify-numeric-types` (Hasura casts them to text).
    pub as_text: Vec<String>,
    /// PostGIS geometry and geography, sent as `ST_AsGeoJSON(column, 15, 4)` (GeoJSON with the
    /// long CRS name), as Hasura sends them.
    pub geojson: Vec<String>,
}

/// The trigger function. Arguments: schema, table, trigger name, the columns whose change
/// fires an update (`*` or a JSON array), the columns sent (likewise), the columns sent as
/// text and the GeoJSON columns (JSON arrays). A number's JSON text is its output text, so
/// `value #>> '{}'` is exactly Hasura's `column::text`. GeoJSON needs the value itself and
/// PostGIS, so it is computed by a dynamic statement that is only prepared when a table has
/// such a column; a column dropped since the capture was installed is simply absent from the
/// row and skipped.
const CAPTURE_BODY: &str = r#"
DECLARE
  _changed text[];
  _payload text[];
  _text text[];
  _column text;
  _value json;
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
  IF TG_ARGV[5] <> '[]' THEN
    _text := ARRAY(SELECT json_array_elements_text(TG_ARGV[5]::json));
    _old := (SELECT json_object_agg(key, CASE WHEN key = ANY(_text) AND json_typeof(value) = 'number'
                                              THEN to_json(value #>> '{}') ELSE value END)
             FROM json_each(_old));
    _new := (SELECT json_object_agg(key, CASE WHEN key = ANY(_text) AND json_typeof(value) = 'number'
                                              THEN to_json(value #>> '{}') ELSE value END)
             FROM json_each(_new));
  END IF;
  IF TG_ARGV[6] <> '[]' THEN
    FOR _column IN SELECT json_array_elements_text(TG_ARGV[6]::json) LOOP
      IF coalesce(json_typeof(_old -> _column), 'null') <> 'null' THEN
        EXECUTE format('SELECT ST_AsGeoJSON(($1).%I, 15, 4)::json', _column) INTO _value USING OLD;
        _old := (SELECT json_object_agg(key, CASE WHEN key = _column THEN _value ELSE value END)
                 FROM json_each(_old));
      END IF;
      IF coalesce(json_typeof(_new -> _column), 'null') <> 'null' THEN
        EXECUTE format('SELECT ST_AsGeoJSON(($1).%I, 15, 4)::json', _column) INTO _value USING NEW;
        _new := (SELECT json_object_agg(key, CASE WHEN key = _column THEN _value ELSE value END)
                 FROM json_each(_new));
      END IF;
    END LOOP;
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

/// The arguments of one operation's row trigger, in `CAPTURE_BODY`'s order.
fn trigger_arguments(
    table: &QualifiedTable,
    trigger: &EventTrigger,
    operation: &str,
    spec: &OperationSpec,
    columns: &PayloadColumns,
) -> [String; 7] {
    let changed = if operation == "UPDATE" {
        columns_argument(Some(&spec.columns))
    } else {
        "*".to_string()
    };
    let list = |names: &[String]| serde_json::to_string(names).unwrap_or_default();
    [
        table.schema.clone(),
        table.name.clone(),
        trigger.name.clone(),
        changed,
        columns_argument(spec.payload.as_ref()),
        list(&columns.as_text),
        list(&columns.geojson),
    ]
}

/// What an installed row trigger is checked against: its arguments and the function body, as
/// a comment on the trigger (the body is compared separately, from `pg_proc`).
fn fingerprint(arguments: &[String; 7]) -> String {
    serde_json::to_string(arguments).unwrap_or_default()
}

/// Installs (or re-installs) the capture of one event trigger on its table: drops whatever
/// row triggers of that name exist, then creates one per operation in the definition. Callers
/// run it inside a transaction together with [`crate::install_event_log`].
pub async fn install_capture<C: GenericClient + Sync>(
    client: &C,
    table: &QualifiedTable,
    trigger: &EventTrigger,
    columns: &PayloadColumns,
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
             EXECUTE PROCEDURE hdb_catalog.{name}(%L, %L, %L, %L, %L, %L, %L); \
             COMMENT ON TRIGGER {name} ON {table} IS %L",
            name = escape_format(&name),
            table = escape_format(&table_sql),
        );
        let arguments = trigger_arguments(table, trigger, operation, spec, columns);
        let comment = fingerprint(&arguments);
        let row = client
            .query_one(
                "SELECT format($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, \
                 $7::text, $8::text, $9::text)",
                &[
                    &template,
                    &arguments[0],
                    &arguments[1],
                    &arguments[2],
                    &arguments[3],
                    &arguments[4],
                    &arguments[5],
                    &arguments[6],
                    &comment,
                ],
            )
            .await?;
        let statement: String = row.try_get(0)?;
        client.batch_execute(&statement).await?;
    }
    Ok(())
}

/// Whether the capture of this trigger is installed exactly as [`install_capture`] would
/// install it now: the same row triggers on the same table, with the same arguments and
/// function body, and no others. Lets a start-up skip the reinstall (which takes a lock on
/// every table with a trigger).
pub async fn capture_is_current<C: GenericClient + Sync>(
    client: &C,
    table: &QualifiedTable,
    trigger: &EventTrigger,
    columns: &PayloadColumns,
) -> Result<bool, EventsError> {
    let names: Vec<String> = OPERATIONS
        .iter()
        .map(|op| capture_name(&trigger.name, op))
        .collect();
    let rows = client
        .query(
            "SELECT tg.tgname::text, n.nspname::text, c.relname::text, \
                    coalesce(obj_description(tg.oid, 'pg_trigger'), ''), \
                    p.prosrc = $2::text AND p.proname = tg.tgname \
                    AND p.pronamespace = 'hdb_catalog'::regnamespace \
             FROM pg_trigger tg \
             JOIN pg_class c ON c.oid = tg.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_proc p ON p.oid = tg.tgfoid \
             WHERE tg.tgname = ANY($1::text[]) AND NOT tg.tgisinternal AND tg.tgenabled <> 'D'",
            &[&names, &CAPTURE_BODY],
        )
        .await?;
    let mut expected = Vec::new();
    for operation in OPERATIONS {
        if let Some(spec) = operation_spec(trigger, operation) {
            let arguments = trigger_arguments(table, trigger, operation, spec, columns);
            expected.push((
                capture_name(&trigger.name, operation),
                fingerprint(&arguments),
            ));
        }
    }
    if rows.len() != expected.len() {
        return Ok(false);
    }
    for row in rows {
        let name: String = row.try_get(0)?;
        let schema: String = row.try_get(1)?;
        let relation: String = row.try_get(2)?;
        let comment: String = row.try_get(3)?;
        let same_body: bool = row.try_get(4)?;
        let matches = same_body
            && schema == table.schema
            && relation == table.name
            && expected.iter().any(|(n, f)| *n == name && *f == comment);
        if !matches {
            return Ok(false);
        }
    }
    Ok(true)
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
