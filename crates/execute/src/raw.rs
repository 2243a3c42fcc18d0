//! `run_sql`: user SQL run with the simple query protocol, results as rows of text, the way
//! Hasura answers (`TuplesOk` with a header row of column names, `CommandOk` otherwise).

use crate::DbError;
use tokio_postgres::{Client, SimpleQueryMessage};

#[derive(Debug, Clone, PartialEq)]
pub enum RawResult {
    /// The last statement returned rows: the column names, then each row as text (NULL as None).
    Tuples {
        columns: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
    },
    Command,
}

/// Column names and rows of text of one statement's result.
type TextTable = (Vec<String>, Vec<Vec<Option<String>>>);

/// Runs possibly many statements; the result is the last statement's, as in Hasura.
pub async fn run_raw_sql(client: &Client, sql: &str) -> Result<RawResult, DbError> {
    let messages = client.simple_query(sql).await?;
    let mut result = RawResult::Command;
    let mut current: Option<TextTable> = None;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                let names = columns.iter().map(|c| c.name().to_string()).collect();
                current = Some((names, Vec::new()));
            }
            SimpleQueryMessage::Row(row) => {
                let values: Vec<Option<String>> = (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect();
                match &mut current {
                    Some((_, rows)) => rows.push(values),
                    None => {
                        let names = row.columns().iter().map(|c| c.name().to_string()).collect();
                        current = Some((names, vec![values]));
                    }
                }
            }
            SimpleQueryMessage::CommandComplete(_) => {
                result = match current.take() {
                    Some((columns, rows)) => RawResult::Tuples { columns, rows },
                    None => RawResult::Command,
                };
            }
            _ => {}
        }
    }
    Ok(result)
}
