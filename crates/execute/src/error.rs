//! Database errors, classified as Hasura classifies them.

/// What kind of failure a database error is, in Hasura's terms (`extensions.code` / `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// unique, foreign key, not null, check, exclusion violations (class 23)
    ConstraintViolation,
    /// bad input values, overflow, division by zero (class 22)
    DataException,
    /// SQL syntax or reference errors in user-given SQL (class 42)
    SyntaxOrReference,
    /// insufficient privilege, read-only transaction
    PermissionDenied,
    /// a connection that broke or could not be had
    Connection,
    /// deadlock or serialization failure (class 40): Postgres aborted the transaction because of
    /// a concurrent one; the request may succeed if sent again
    TransactionRollback,
    /// anything else Postgres reported
    Other,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub kind: DbErrorKind,
    /// Postgres's message (no secrets: Postgres does not echo connection strings).
    pub message: String,
    pub sqlstate: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl DbError {
    pub fn connection(message: impl Into<String>) -> Self {
        DbError {
            kind: DbErrorKind::Connection,
            message: message.into(),
            sqlstate: None,
            detail: None,
            hint: None,
        }
    }

    /// Errors the client caused (constraints, bad values, privileges) or may retry (deadlock,
    /// serialization failure): they keep their message and class, as in Hasura; any other
    /// failure of a statement graft built is hidden.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self.kind,
            DbErrorKind::ConstraintViolation
                | DbErrorKind::DataException
                | DbErrorKind::PermissionDenied
                | DbErrorKind::TransactionRollback
        )
    }

    /// Hasura's `internal` details of a failed statement (shown to admins only).
    pub fn internal(
        &self,
        statement: &str,
        arguments: &[Option<String>],
        prepared: bool,
    ) -> serde_json::Value {
        serde_json::json!({
            "arguments": arguments,
            "error": {
                "description": self.detail,
                "exec_status": "FatalError",
                "hint": self.hint,
                "message": self.message,
                "status_code": self.sqlstate,
            },
            "prepared": prepared,
            "statement": statement,
        })
    }

    /// Hasura's code for this error on the wire.
    pub fn code(&self) -> &'static str {
        match self.kind {
            DbErrorKind::ConstraintViolation => "constraint-violation",
            DbErrorKind::DataException => "data-exception",
            DbErrorKind::PermissionDenied => "permission-error",
            DbErrorKind::SyntaxOrReference | DbErrorKind::Other => "postgres-error",
            DbErrorKind::Connection => "connection-error",
            DbErrorKind::TransactionRollback => "concurrent-update",
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        let Some(db) = error.as_db_error() else {
            return DbError::connection(error.to_string());
        };
        let code = db.code().code();
        let kind = match &code[..2] {
            "23" => DbErrorKind::ConstraintViolation,
            "22" => DbErrorKind::DataException,
            "42" if code == "42501" => DbErrorKind::PermissionDenied,
            "42" => DbErrorKind::SyntaxOrReference,
            "25" if code == "25006" => DbErrorKind::PermissionDenied,
            "08" => DbErrorKind::Connection,
            "40" => DbErrorKind::TransactionRollback,
            // Operator intervention: the server is shutting down, crashed, or not accepting
            // connections yet; the query may well succeed on a fresh connection later.
            "57" if matches!(code, "57P01" | "57P02" | "57P03") => DbErrorKind::Connection,
            _ => DbErrorKind::Other,
        };
        // Hasura's wording for a serialization failure; other rollbacks keep Postgres's.
        let message = if code == "40001" {
            "serialization failure due to concurrent update".to_string()
        } else {
            db.message().to_string()
        };
        DbError {
            kind,
            message,
            sqlstate: Some(code.to_string()),
            detail: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        DbError::connection(format!("could not get a database connection: {error}"))
    }
}
