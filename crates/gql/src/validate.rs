//! Request document → `ValidOperation`: parse, Hasura-style checks, apollo-compiler's full
//! validation, operation selection, variable coercion and, for mutations, the argument checks
//! Hasura makes while parsing (`mutation_check`), in that order. Errors come out in
//! Hasura's shape; Hasura reports one error per request, so the list holds the first found.

use crate::error::GqlError;
use crate::hasura_check::HasuraCheck;
use crate::mutation_check::check_mutation_fields;
use crate::operation::{ValidOperation, normalize};
use apollo_compiler::ast;
use apollo_compiler::executable::Operation;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use serde::Deserialize;
use std::sync::Arc;

/// Hasura's directive that allows several root fields in one subscription.
const MULTIPLE_ROOTS: &str = "_multiple_top_level_fields";

/// Parses and validates `query` against the role's schema, picks the operation and coerces
/// `variables` (a JSON object, or null) against its variable definitions.
pub fn parse_and_validate(
    schema: &Valid<Schema>,
    query: &str,
    operation_name: Option<&str>,
    variables: Option<&serde_json::Value>,
) -> Result<ValidOperation, Vec<GqlError>> {
    let prepared = prepare_document(schema, query, operation_name)?;
    bind_variables(schema, &prepared, variables)
}

/// A request document that passed parsing, Hasura's checks and validation against one schema,
/// with its operation picked. It depends only on (schema, document, operation name), so a
/// server may keep it for the next request with the same three and go straight to
/// [`bind_variables`].
#[derive(Debug, Clone)]
pub struct PreparedDocument {
    document: Arc<Valid<ExecutableDocument>>,
    operation: Node<Operation>,
}

/// The part of [`parse_and_validate`] that does not look at the variables.
pub fn prepare_document(
    schema: &Valid<Schema>,
    query: &str,
    operation_name: Option<&str>,
) -> Result<PreparedDocument, Vec<GqlError>> {
    let document = ast::Document::parse(query, "query.graphql")
        .map_err(|_| vec![GqlError::validation("$.query", "not a valid graphql query")])?;
    let operation = select_operation(&document, operation_name).map_err(|e| vec![e])?;
    HasuraCheck::new(schema, &document)
        .operation(operation)
        .map_err(|e| vec![e])?;

    let multiple_roots = operation.directives.get(MULTIPLE_ROOTS).is_some();
    if operation.operation_type == ast::OperationType::Subscription
        && operation.selection_set.len() > 1
        && !multiple_roots
    {
        return Err(vec![GqlError::validation(
            "$",
            "subscriptions must select one top level field",
        )]);
    }
    // The AST parsed above becomes the executable document as it is: parsing twice would
    // double the cost of every uncached request.
    let executable = match document.to_executable_validate(schema) {
        Ok(valid) => valid,
        Err(with_errors) => {
            // Rules of the GraphQL spec Hasura does not enforce, and neither does graft: one
            // root field per subscription, for operations marked `@_multiple_top_level_fields`;
            // every declared variable used (Hasura accepts and ignores unused ones).
            let enforced: Vec<String> = with_errors
                .errors
                .iter()
                .map(|d| d.error.to_string())
                .filter(|message| {
                    !(message.starts_with("unused variable: ")
                        || (multiple_roots && message.contains("can only have one root field")))
                })
                .collect();
            match enforced.into_iter().next() {
                None => Valid::assume_valid(with_errors.partial),
                Some(message) => return Err(vec![GqlError::validation("$", message)]),
            }
        }
    };
    let operation = executable
        .operations
        .get(operation_name)
        .map_err(|e| vec![GqlError::validation("$", e.message().to_string())])?
        .clone();
    Ok(PreparedDocument {
        document: Arc::new(executable),
        operation,
    })
}

/// Coerces `variables` (a JSON object, or null) against the prepared operation's variable
/// definitions and normalizes its root fields: the per-request part of [`parse_and_validate`].
pub fn bind_variables(
    schema: &Valid<Schema>,
    prepared: &PreparedDocument,
    variables: Option<&serde_json::Value>,
) -> Result<ValidOperation, Vec<GqlError>> {
    let values: JsonMap = match variables {
        None | Some(serde_json::Value::Null) => JsonMap::new(),
        // Read through the reference: a bulk insert's objects are not copied first.
        Some(value @ serde_json::Value::Object(_)) => JsonMap::deserialize(value)
            .map_err(|e| vec![GqlError::validation("$.variables", e.to_string())])?,
        Some(_) => {
            return Err(vec![GqlError::validation(
                "$.variables",
                "expected an object for variables",
            )]);
        }
    };
    let operation = &prepared.operation;
    let coerced = apollo_compiler::request::coerce_variable_values(schema, operation, &values)
        .map_err(|e| vec![GqlError::validation("$", e.message().to_string())])?;
    drop(values);
    let root_fields = normalize(schema, &prepared.document, operation, &coerced);
    if operation.operation_type == ast::OperationType::Mutation {
        check_mutation_fields(&root_fields).map_err(|e| vec![e])?;
    }
    Ok(ValidOperation::new(
        Arc::clone(&prepared.document),
        operation.clone(),
        coerced,
        root_fields,
    ))
}

/// Hasura's rules and messages for picking the operation to run.
fn select_operation<'a>(
    document: &'a ast::Document,
    operation_name: Option<&str>,
) -> Result<&'a ast::OperationDefinition, GqlError> {
    let operations: Vec<&ast::OperationDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            ast::Definition::OperationDefinition(op) => Some(&**op),
            _ => None,
        })
        .collect();
    match operation_name {
        Some(name) => operations
            .into_iter()
            .find(|op| op.name.as_ref().is_some_and(|n| n == name))
            .ok_or_else(|| {
                GqlError::validation(
                    "$",
                    format!("no such operation found in the document: \"{name}\""),
                )
            }),
        None => match operations.as_slice() {
            [single] => Ok(single),
            _ => Err(GqlError::validation(
                "$",
                "exactly one operation has to be present in the document when operationName is not specified",
            )),
        },
    }
}
