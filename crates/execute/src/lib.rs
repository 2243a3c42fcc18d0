//! Runs SQL on PostgreSQL: connection pools, the one-statement-one-JSON-value path that serves
//! every API operation, raw `run_sql`, and the mapping of database errors to Hasura's codes.
//!
//! In: printed SQL text and its parameters (all sent as TEXT, the SQL casts them), or raw SQL from
//! `run_sql`. Out: the JSON bytes Postgres built, untouched, or rows of text. This is the last
//! stage of the pipeline before the bytes go back to the client; it never sees a role.

mod error;
mod pool;
mod raw;

pub use error::{DbError, DbErrorKind};
pub use pool::{Pool, PoolError, connect_pool};
pub use raw::{RawResult, run_raw_sql};

use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

/// Runs a statement whose single row has a single column: the JSON document Postgres built.
/// The text is returned as it came, so the engine never parses a response.
pub async fn query_json<C: GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[Option<String>],
) -> Result<String, DbError> {
    let types = vec![Type::TEXT; params.len()];
    let statement = client.prepare_typed(sql, &types).await?;
    let values = sql_params(params);
    let row = client.query_one(&statement, &values).await?;
    let value: Option<String> = text_column(&row, 0)?;
    Ok(value.unwrap_or_else(|| "null".to_string()))
}

/// Most distinct statements one connection keeps prepared; beyond it the cache starts over, so
/// a stream of one-off query shapes cannot grow a connection's memory without bound.
const STATEMENT_CACHE_LIMIT: usize = 512;

/// `query_json` on a pooled connection, reusing the connection's prepared statement for the same
/// SQL text: one round trip and no re-planning for repeated query shapes. Safe across DDL since
/// every statement returns one json column (Postgres re-plans invalidated statements itself).
pub async fn query_json_cached(
    client: &deadpool_postgres::ClientWrapper,
    sql: &str,
    params: &[Option<String>],
) -> Result<String, DbError> {
    let bytes = query_json_bytes_cached(client, sql, params).await?;
    String::from_utf8(bytes.to_vec())
        .map_err(|e| DbError::connection(format!("the database sent invalid UTF-8: {e}")))
}

/// As [`query_json_cached`], without copying the result: the bytes are the driver's receive
/// buffer itself, so a 100 MB result is held once, and handed to the HTTP body as it is.
pub async fn query_json_bytes_cached(
    client: &deadpool_postgres::ClientWrapper,
    sql: &str,
    params: &[Option<String>],
) -> Result<bytes::Bytes, DbError> {
    let statement = prepare_cached(client, sql, &vec![Type::TEXT; params.len()]).await?;
    let values = sql_params(params);
    let row = client.query_one(&statement, &values).await?;
    // Checked here, so the owner below can read the column without a way to fail.
    row.try_get::<_, Option<RawSlice>>(0)?;
    Ok(bytes::Bytes::from_owner(JsonColumn(row)))
}

/// A row whose first column is JSON text, as the owner of [`bytes::Bytes`].
struct JsonColumn(tokio_postgres::Row);

impl AsRef<[u8]> for JsonColumn {
    fn as_ref(&self) -> &[u8] {
        match self.0.try_get::<_, Option<RawSlice>>(0) {
            Ok(Some(slice)) => slice.0,
            // SQL NULL (checked readable at construction).
            _ => b"null",
        }
    }
}

/// Statements longer than this are prepared for one use and not kept: the text of a
/// many-row `VALUES` insert (a nested insert of thousands of objects) is a one-off of a megabyte
/// or more, and both graft and the Postgres backend would hold it for as long as it is cached.
const STATEMENT_CACHE_MAX_TEXT: usize = 64 * 1024;

/// The connection's prepared statement for `sql`, prepared now if it is new; the cache starts
/// over beyond `STATEMENT_CACHE_LIMIT` statements.
async fn prepare_cached(
    client: &deadpool_postgres::ClientWrapper,
    sql: &str,
    types: &[Type],
) -> Result<tokio_postgres::Statement, DbError> {
    if sql.len() > STATEMENT_CACHE_MAX_TEXT {
        return Ok(client.prepare_typed(sql, types).await?);
    }
    if client.statement_cache.size() > STATEMENT_CACHE_LIMIT {
        client.statement_cache.clear();
    }
    Ok(client.prepare_typed_cached(sql, types).await?)
}

/// Postgres's plan for a statement with these parameters (`EXPLAIN`, text format), one line per
/// element. The statement is planned, not run.
pub async fn explain<C: GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[Option<String>],
) -> Result<Vec<String>, DbError> {
    let types = vec![Type::TEXT; params.len()];
    let statement = client
        .prepare_typed(&format!("EXPLAIN (FORMAT TEXT) {sql}"), &types)
        .await?;
    let values = sql_params(params);
    let rows = client.query(&statement, &values).await?;
    rows.iter()
        .map(|row| Ok(text_column(row, 0)?.unwrap_or_default()))
        .collect()
}

/// Sets `hasura.user` (the session variables as JSON) for the current transaction only, as
/// Hasura does before a mutation: event-trigger capture and users' own triggers read it.
pub async fn set_session_setting(
    client: &deadpool_postgres::ClientWrapper,
    session_json: &str,
) -> Result<(), DbError> {
    let statement = prepare_cached(
        client,
        "SELECT set_config('hasura.user', $1::text, true)",
        &[Type::TEXT],
    )
    .await?;
    client.execute(&statement, &[&session_json]).await?;
    Ok(())
}

/// One cohort's row of a multiplexed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortRow {
    /// The cohort's 1-based position in the cohorts array.
    pub cohort: i64,
    /// Its result as JSON text (`None` for SQL NULL).
    pub result: Option<String>,
    /// A streaming statement's new cursor (`None` when no row came, or for live queries).
    pub cursor: Option<String>,
}

/// Runs a multiplexed subscription statement (`graft_sql::print_multiplexed`): `cohorts` is the
/// JSON array of every cohort's parameter array.
pub async fn query_multiplexed(
    client: &deadpool_postgres::ClientWrapper,
    sql: &str,
    cohorts: &str,
) -> Result<Vec<CohortRow>, DbError> {
    let statement = prepare_cached(client, sql, &[Type::TEXT]).await?;
    let rows = client.query(&statement, &[&cohorts]).await?;
    rows.iter()
        .map(|row| {
            Ok(CohortRow {
                cohort: row.try_get::<_, i64>(0)?,
                result: text_column(row, 1)?,
                cursor: if row.len() > 2 {
                    text_column(row, 2)?
                } else {
                    None
                },
            })
        })
        .collect()
}

/// The parameters as the driver takes them: every value is sent as text (or NULL).
fn sql_params(params: &[Option<String>]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// Reads a column of any type as text: json and text come back verbatim.
fn text_column(row: &tokio_postgres::Row, index: usize) -> Result<Option<String>, DbError> {
    let raw: Option<RawText> = row.try_get(index)?;
    Ok(raw.map(|r| r.0))
}

/// A column's text form, borrowed from the row (see [`RawText`] for the types).
struct RawSlice<'a>(&'a [u8]);

impl<'a> tokio_postgres::types::FromSql<'a> for RawSlice<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB && raw.first() == Some(&1) {
            return Ok(RawSlice(&raw[1..]));
        }
        Ok(RawSlice(raw))
    }

    fn accepts(ty: &Type) -> bool {
        <RawText as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

/// Accepts any column type and keeps its text form. Only used for `json`, `text` and the like,
/// whose binary and text encodings coincide (`jsonb` binary has a version byte, stripped here).
struct RawText(String);

impl<'a> tokio_postgres::types::FromSql<'a> for RawText {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let slice = RawSlice::from_sql(ty, raw)?;
        Ok(RawText(String::from_utf8(slice.0.to_vec())?))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::JSON | Type::JSONB | Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME
        ) || ty.name() == "citext"
    }
}
