//! Root field names must be unique per root type across tables and actions: a command that
//! would define one twice is refused with Hasura's message (HTTP 500, `unexpected`).

use super::Working;
use crate::error::ApiError;
use axum::http::StatusCode;
use graft_gql::{MutationFieldKind, RootFieldKind, TableNames, mutation_root_field, root_field};
use graft_metadata::{ActionType, DEFAULT_SOURCE};
use std::collections::HashMap;

const QUERY_KINDS: [RootFieldKind; 3] = [
    RootFieldKind::Select,
    RootFieldKind::SelectByPk,
    RootFieldKind::SelectAggregate,
];

/// Checks the working metadata: actions first, then tables in order, as Hasura lists them.
pub fn check_root_fields(working: &Working<'_>) -> Result<(), ApiError> {
    let resolved = graft_schema::resolve(&working.metadata, &working.catalogs);
    let mut fields = RootFields::default();
    for action in &working.metadata.actions {
        let root = match action.definition.action_type() {
            ActionType::Query => "query_root",
            ActionType::Mutation => "mutation_root",
        };
        fields.claim(root, action.name.clone(), format!("action {}", action.name))?;
    }
    let Some(source) = resolved.model.source(DEFAULT_SOURCE) else {
        return Ok(());
    };
    for table in source.tables.values() {
        let names = TableNames::of(table);
        let by = format!("table {} in source {DEFAULT_SOURCE}", table.name);
        for kind in QUERY_KINDS {
            fields.claim(
                "query_root",
                root_field(table, &names, kind).name,
                by.clone(),
            )?;
        }
        for kind in MutationFieldKind::ALL {
            let name = mutation_root_field(table, &names, kind).name;
            fields.claim("mutation_root", name, by.clone())?;
        }
    }
    Ok(())
}

/// (root type, field) → who defines it.
#[derive(Default)]
struct RootFields(HashMap<(&'static str, String), String>);

impl RootFields {
    fn claim(&mut self, root: &'static str, field: String, by: String) -> Result<(), ApiError> {
        if let Some(first) = self.0.get(&(root, field.clone())) {
            // Tables' select fields are in subscription_root too, where Hasura reports a clash
            // between two tables; query actions are in query_root only.
            let reported = if root == "query_root" && !first.starts_with("action ") {
                "subscription_root"
            } else {
                root
            };
            return Err(conflict(reported, &field, first, &by));
        }
        self.0.insert((root, field), by);
        Ok(())
    }
}

fn conflict(root: &str, field: &str, first: &str, second: &str) -> ApiError {
    ApiError::new(
        "unexpected",
        format!(
            "Encountered conflicting definitions in the selection set for '{root}' for field '{field}' defined in [{first}, {second}]. Fields must not be defined more than once across all sources."
        ),
    )
    .at("$.args")
    .with_status(StatusCode::INTERNAL_SERVER_ERROR)
}
