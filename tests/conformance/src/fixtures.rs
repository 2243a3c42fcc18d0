//! Fixture files (setup, teardown, schema_*, values_*): a single request body POSTed as admin to
//! the endpoint the folder's [`crate::style::FixturePlan`] chose. Every fixture must answer 200,
//! as `HGECtx.execute_query` asserted.

use crate::case_file::read_yaml;
use crate::compare::compact;
use crate::style::FixtureCall;
use crate::transport::{HttpClient, Request, RequestBody};
use std::path::Path;

/// Errors of one fixture call.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixture {file} failed: cannot read it: {message}")]
    Read { file: String, message: String },
    #[error("fixture {file} failed: {message}")]
    Transport { file: String, message: String },
    #[error("fixture {file} failed: {status} {body}")]
    Status {
        file: String,
        status: u16,
        body: String,
    },
}

/// Sends one fixture file; `Ok` on HTTP 200.
pub async fn run_fixture(
    client: &HttpClient,
    dir: &Path,
    call: &FixtureCall,
    admin_secret: Option<&str>,
) -> Result<(), FixtureError> {
    let body = read_yaml(&dir.join(call.file)).map_err(|e| FixtureError::Read {
        file: call.file.to_string(),
        message: e.to_string(),
    })?;
    let mut request = Request {
        method: "POST".to_string(),
        path: call.url.to_string(),
        headers: Vec::new(),
        body: RequestBody::Json(body),
    };
    if let Some(secret) = admin_secret {
        request.set_header("X-Hasura-Admin-Secret", secret);
    }
    let reply = client
        .send(&request)
        .await
        .map_err(|e| FixtureError::Transport {
            file: call.file.to_string(),
            message: e.to_string(),
        })?;
    if reply.status == 200 {
        Ok(())
    } else {
        Err(FixtureError::Status {
            file: call.file.to_string(),
            status: reply.status,
            body: compact(&reply.body, 300),
        })
    }
}

/// Runs fixture calls in order, stopping at the first failure.
pub async fn run_all(
    client: &HttpClient,
    dir: &Path,
    calls: &[FixtureCall],
    admin_secret: Option<&str>,
) -> Result<(), FixtureError> {
    for call in calls {
        run_fixture(client, dir, call, admin_secret).await?;
    }
    Ok(())
}

/// Runs every teardown call even when one fails; returns the failures.
pub async fn run_teardowns(
    client: &HttpClient,
    dir: &Path,
    calls: &[FixtureCall],
    admin_secret: Option<&str>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for call in calls {
        if let Err(e) = run_fixture(client, dir, call, admin_secret).await {
            failures.push(e.to_string());
        }
    }
    failures
}
