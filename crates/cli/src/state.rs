//! Which migrations a server has applied, kept where the Hasura CLI (config v3) keeps it: the
//! `cli_state` of the catalog state (`get_catalog_state` / `set_catalog_state`), so graft and
//! the Hasura CLI can take turns on one database:
//!
//! ```json
//! {"migrations": {"default": {"1700000000000": false}},
//!  "settings": {"migration_mode": "true"},
//!  "isStateCopyCompleted": true}
//! ```
//!
//! The value per version is its dirty flag: true while a migration is being run (or after a run
//! whose outcome is unknown), as in the Hasura CLI. Keys graft does not know are kept.

use crate::client::{ClientError, ServerClient};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the server's cli_state is not an object: {0}")]
    Shape(String),
    #[error(
        "cli_state lists version {version:?} of database \"{database}\", which is not a number"
    )]
    BadVersion { database: String, version: String },
}

#[derive(Debug, Clone)]
pub struct CliState {
    state: Map<String, Value>,
}

impl CliState {
    pub async fn load(client: &ServerClient) -> Result<CliState, StateError> {
        let answer = client.metadata("get_catalog_state", json!({})).await?;
        let state = match answer.get("cli_state") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(other) => return Err(StateError::Shape(other.to_string())),
        };
        Ok(CliState { state })
    }

    pub async fn save(&mut self, client: &ServerClient) -> Result<(), StateError> {
        self.state
            .entry("settings")
            .or_insert_with(|| json!({"migration_mode": "true"}));
        // Nothing to copy from the pre-v3 `hdb_catalog.schema_migrations` table: tells the
        // Hasura CLI not to try.
        self.state
            .insert("isStateCopyCompleted".to_string(), Value::Bool(true));
        client
            .metadata(
                "set_catalog_state",
                json!({"type": "cli", "state": Value::Object(self.state.clone())}),
            )
            .await?;
        Ok(())
    }

    /// Version → dirty, for one database.
    pub fn versions(&self, database: &str) -> Result<BTreeMap<u64, bool>, StateError> {
        let mut out = BTreeMap::new();
        let Some(Value::Object(versions)) =
            self.state.get("migrations").and_then(|m| m.get(database))
        else {
            return Ok(out);
        };
        for (version, dirty) in versions {
            let number = version.parse().map_err(|_| StateError::BadVersion {
                database: database.to_string(),
                version: version.clone(),
            })?;
            out.insert(number, dirty.as_bool().unwrap_or(false));
        }
        Ok(out)
    }

    pub fn set(&mut self, database: &str, version: u64, dirty: bool) {
        let migrations = self.state.entry("migrations").or_insert_with(|| json!({}));
        if !migrations.is_object() {
            *migrations = json!({});
        }
        let per_db = &mut migrations[database];
        if !per_db.is_object() {
            *per_db = json!({});
        }
        per_db[version.to_string()] = Value::Bool(dirty);
    }

    pub fn unset(&mut self, database: &str, version: u64) {
        if let Some(Value::Object(per_db)) = self
            .state
            .get_mut("migrations")
            .and_then(|m| m.get_mut(database))
        {
            per_db.remove(&version.to_string());
        }
    }
}
