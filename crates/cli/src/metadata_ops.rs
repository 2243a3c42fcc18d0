//! `metadata export | apply | diff | reload | clear | inconsistency`: the metadata directory
//! against a server's `/v1/metadata`.

use crate::client::{ClientError, ServerClient};
use crate::metadata_dir::{self, FileSet, MetadataDirError};
use serde_json::{Value, json};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MetadataOpsError {
    #[error(transparent)]
    Dir(#[from] MetadataDirError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Writes the server's metadata into the directory; returns the number of files.
pub async fn export(client: &ServerClient, dir: &Path) -> Result<usize, MetadataOpsError> {
    let files = server_files(client).await?;
    metadata_dir::write_dir(dir, &files)?;
    Ok(files.len())
}

/// The server's metadata rendered as the directory's files.
pub async fn server_files(client: &ServerClient) -> Result<FileSet, MetadataOpsError> {
    let metadata = client.export_metadata().await?;
    Ok(metadata_dir::render(&metadata_dir::normalize(&metadata))?)
}

/// What `apply` did: the inconsistencies the server accepted (empty when consistent).
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    pub inconsistent_objects: Vec<Value>,
}

/// Reads and checks the whole directory, then replaces the server's metadata in one request.
/// With `allow_inconsistent` the server keeps objects that do not match the database yet
/// (reported back); without it, it refuses them and changes nothing.
pub async fn apply(
    client: &ServerClient,
    dir: &Path,
    allow_inconsistent: bool,
) -> Result<ApplyOutcome, MetadataOpsError> {
    let metadata = metadata_dir::read_dir(dir)?;
    let answer = client
        .replace_metadata(&metadata, allow_inconsistent)
        .await?;
    Ok(ApplyOutcome {
        inconsistent_objects: inconsistent_objects(&answer),
    })
}

/// A unified diff from the server's metadata to the directory's (empty: no drift).
pub async fn diff(client: &ServerClient, dir: &Path) -> Result<String, MetadataOpsError> {
    let local = metadata_dir::render(&metadata_dir::read_dir(dir)?)?;
    let server = server_files(client).await?;
    Ok(metadata_dir::diff(&server, &local, "server", "project"))
}

pub async fn reload(client: &ServerClient) -> Result<Vec<Value>, MetadataOpsError> {
    let answer = client
        .metadata(
            "reload_metadata",
            json!({"reload_remote_schemas": true, "reload_sources": true}),
        )
        .await?;
    Ok(inconsistent_objects(&answer))
}

pub async fn clear(client: &ServerClient) -> Result<(), MetadataOpsError> {
    client.metadata("clear_metadata", json!({})).await?;
    Ok(())
}

pub async fn inconsistencies(client: &ServerClient) -> Result<Vec<Value>, MetadataOpsError> {
    let answer = client
        .metadata("get_inconsistent_metadata", json!({}))
        .await?;
    Ok(inconsistent_objects(&answer))
}

pub async fn drop_inconsistent(client: &ServerClient) -> Result<(), MetadataOpsError> {
    client
        .metadata("drop_inconsistent_metadata", json!({}))
        .await?;
    Ok(())
}

fn inconsistent_objects(answer: &Value) -> Vec<Value> {
    answer
        .get("inconsistent_objects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// One line per inconsistent object: its type, name and reason.
pub fn describe(object: &Value) -> String {
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            object
                .get("definition")
                .map(Value::to_string)
                .unwrap_or_default()
        });
    let reason = object.get("reason").and_then(Value::as_str).unwrap_or("");
    format!("{kind} {name}: {reason}")
}
