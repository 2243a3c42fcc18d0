//! The session a request runs as: a role and its `x-hasura-*` variables. Built by the auth layer
//! at the edge; every later stage reads it and none can change it.

use indexmap::IndexMap;

pub const ADMIN_ROLE: &str = "admin";

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub role: String,
    /// Lower-cased names (`x-hasura-user-id`) to their string values, role included.
    pub variables: IndexMap<String, String>,
    /// Set when the request carried admin credentials (even when it acts as another role).
    pub has_admin_credentials: bool,
}

impl Session {
    pub fn admin() -> Session {
        let mut variables = IndexMap::new();
        variables.insert("x-hasura-role".to_string(), ADMIN_ROLE.to_string());
        Session {
            role: ADMIN_ROLE.to_string(),
            variables,
            has_admin_credentials: true,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == ADMIN_ROLE
    }

    pub fn variable(&self, name: &str) -> Option<&str> {
        self.variables
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The variables as one JSON object: the single session parameter of every statement.
    pub fn variables_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}
