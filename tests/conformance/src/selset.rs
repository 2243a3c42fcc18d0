//! Selection-set shapes: which response objects must keep their key order.
//!
//! GraphQL answers keys in query order, and the Python harness checks that order only for
//! objects that correspond to selection sets of the first operation; everything else (JSON
//! column values, `errors`, the top level) compares without key order. Like the harness, the
//! shape is found by field name, so an alias, a fragment, or a response key that is not a
//! selected field name gives up on order for the whole body.

use apollo_parser::{Parser, cst};
use serde_json::Value;
use std::collections::HashMap;

/// The fields of one selection set, by name; `None` for a leaf field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionShape {
    pub fields: HashMap<String, Option<SelectionShape>>,
}

/// The shape of the first operation of a GraphQL document, or `None` when the document does not
/// parse, has no operation, or uses aliases or fragments.
pub fn shape_of_first_operation(query: &str) -> Option<SelectionShape> {
    let tree = Parser::new(query).parse();
    if tree.errors().len() > 0 {
        return None;
    }
    let operation = tree.document().definitions().find_map(|d| match d {
        cst::Definition::OperationDefinition(op) => Some(op),
        _ => None,
    })?;
    shape_of(&operation.selection_set()?)
}

fn shape_of(selection_set: &cst::SelectionSet) -> Option<SelectionShape> {
    let mut shape = SelectionShape::default();
    for selection in selection_set.selections() {
        let cst::Selection::Field(field) = selection else {
            return None;
        };
        if field.alias().is_some() {
            return None;
        }
        let name = field.name()?.text().to_string();
        let child = match field.selection_set() {
            Some(set) => Some(shape_of(&set)?),
            None => None,
        };
        shape.fields.insert(name, child);
    }
    Some(shape)
}

/// Whether every object key of `value` (a `data` value) is a selected field name, recursively
/// through selection sets: the harness's walk, which must succeed to keep key order.
pub fn walk_matches(value: &Value, shape: &SelectionShape) -> bool {
    match value {
        Value::Object(object) => object
            .iter()
            .all(|(key, child)| match shape.fields.get(key) {
                None => false,
                Some(None) => true,
                Some(Some(child_shape)) => walk_matches(child, child_shape),
            }),
        Value::Array(items) => items.iter().all(|item| walk_matches(item, shape)),
        _ => true,
    }
}

/// The shape to use for `data` of a GraphQL request body, if key order must be checked.
pub fn ordered_data_shape(
    query: &Value,
    expected: &Value,
    actual: &Value,
) -> Option<SelectionShape> {
    let text = query.get("query")?.as_str()?;
    let shape = shape_of_first_operation(text)?;
    let data_ok = |body: &Value| {
        body.get("data")
            .is_none_or(|data| walk_matches(data, &shape))
    };
    (data_ok(expected) && data_ok(actual)).then_some(shape)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape_of_nested_query() {
        let shape =
            shape_of_first_operation("query { article(limit: 1) { id author { id name } } }")
                .unwrap();
        let article = shape.fields["article"].as_ref().unwrap();
        assert_eq!(article.fields["id"], None);
        assert!(article.fields["author"].is_some());
    }

    #[test]
    fn aliases_and_fragments_give_up() {
        assert!(shape_of_first_operation("{ a: article { id } }").is_none());
        assert!(
            shape_of_first_operation("{ article { ...F } } fragment F on article { id }").is_none()
        );
        assert!(shape_of_first_operation("{ article { ... on article { id } } }").is_none());
        assert!(shape_of_first_operation("{ article { id ").is_none());
    }

    #[test]
    fn walk_requires_selected_names() {
        let shape = shape_of_first_operation("{ article { id info } }").unwrap();
        assert!(walk_matches(
            &json!({"article": [{"id": 1, "info": {"z": 1, "a": 2}}]}),
            &shape
        ));
        assert!(!walk_matches(&json!({"article": [{"idx": 1}]}), &shape));
        let query = json!({"query": "{ article { id } }"});
        assert!(
            ordered_data_shape(
                &query,
                &json!({"data": {"article": []}}),
                &json!({"errors": []})
            )
            .is_some()
        );
        assert!(ordered_data_shape(&query, &json!({"data": {"x": 1}}), &json!({})).is_none());
        assert!(ordered_data_shape(&json!({"type": "select"}), &json!({}), &json!({})).is_none());
    }
}
