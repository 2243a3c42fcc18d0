//! `__schema`, `__type` and root `__typename`, answered from the role's schema with
//! apollo-compiler's introspection executor: no database involved.

use crate::operation::ValidOperation;
use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use serde_json::{Value, json};

/// Whether every root field is an introspection meta-field, so the whole request can be
/// answered by `introspect`.
pub fn is_introspection_only(operation: &ValidOperation) -> bool {
    operation
        .root_fields
        .iter()
        .all(|f| f.name.starts_with("__"))
}

/// Executes the introspection part of `operation` and returns the response body
/// (`{"data": ...}` or `{"errors": [...]}`). Concrete root fields are left out of `data`.
pub fn introspect(schema: &Valid<Schema>, operation: &ValidOperation) -> Value {
    let implementers = schema.implementers_map();
    let result = apollo_compiler::introspection::partial_execute(
        schema,
        &implementers,
        &operation.document,
        &operation.operation,
        &operation.coerced,
    );
    match result {
        Ok(response) => serde_json::to_value(&response).unwrap_or(Value::Null),
        Err(error) => json!({
            "errors": [{
                "message": error.message().to_string(),
                "extensions": {"path": "$", "code": "validation-failed"},
            }]
        }),
    }
}
