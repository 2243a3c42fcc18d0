//! The validated operation in the shape later stages want: root fields with their response
//! keys, arguments as JSON with variables substituted, fragments inlined and `@skip`/`@include`
//! applied. The apollo-compiler document stays available for introspection.

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema, ast};
use indexmap::IndexMap;
use serde_json::{Map, Number, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

/// One field of the normalized operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The response key: the alias, else the name.
    pub alias: String,
    pub name: String,
    /// The object type the field belongs to (`query_root`, `author`, ...).
    pub parent_type: String,
    /// The named type under any list/non-null wrappers.
    pub type_name: String,
    /// Given arguments in document order, variables substituted, enums as strings.
    pub arguments: IndexMap<String, Value>,
    /// Sub-selection; fields with the same response key are merged.
    pub selection: Vec<Field>,
}

/// A request operation that passed validation, ready for `ir`.
#[derive(Debug, Clone)]
pub struct ValidOperation {
    pub kind: OperationKind,
    pub name: Option<String>,
    pub root_fields: Vec<Field>,
    /// The coerced variables as JSON.
    pub variables: Map<String, Value>,
    pub(crate) document: Arc<Valid<ExecutableDocument>>,
    pub(crate) operation: Node<Operation>,
    pub(crate) coerced: Valid<JsonMap>,
}

impl ValidOperation {
    /// Whether the operation itself carries the directive `name` (e.g.
    /// `subscription @_multiple_top_level_fields { ... }`).
    pub fn has_directive(&self, name: &str) -> bool {
        self.operation.directives.get(name).is_some()
    }

    pub(crate) fn new(
        document: Arc<Valid<ExecutableDocument>>,
        operation: Node<Operation>,
        coerced: Valid<JsonMap>,
        root_fields: Vec<Field>,
    ) -> Self {
        let kind = match operation.operation_type {
            ast::OperationType::Query => OperationKind::Query,
            ast::OperationType::Mutation => OperationKind::Mutation,
            ast::OperationType::Subscription => OperationKind::Subscription,
        };
        let variables = coerced
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), to_serde(v)))
            .collect();
        ValidOperation {
            kind,
            name: operation.name.as_ref().map(|n| n.to_string()),
            root_fields,
            variables,
            document,
            operation,
            coerced,
        }
    }

    /// The validated apollo-compiler document, for callers that need more than the fields.
    pub fn document(&self) -> &Valid<ExecutableDocument> {
        &self.document
    }
}

pub(crate) fn normalize(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    variables: &Valid<JsonMap>,
) -> Vec<Field> {
    let context = Context {
        schema,
        document,
        variables,
    };
    let mut fields = Vec::new();
    context.collect(&operation.selection_set, &mut fields);
    fields
}

struct Context<'a> {
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    variables: &'a JsonMap,
}

impl Context<'_> {
    fn collect(&self, set: &SelectionSet, out: &mut Vec<Field>) {
        for selection in &set.selections {
            if !self.included(selection.directives()) {
                continue;
            }
            match selection {
                Selection::Field(field) => {
                    let mut selection = Vec::new();
                    self.collect(&field.selection_set, &mut selection);
                    let alias = field.response_key().to_string();
                    if let Some(existing) = out.iter_mut().find(|f| f.alias == alias) {
                        merge(&mut existing.selection, selection);
                        continue;
                    }
                    out.push(Field {
                        alias,
                        name: field.name.to_string(),
                        parent_type: set.ty.to_string(),
                        type_name: field.ty().inner_named_type().to_string(),
                        arguments: field
                            .arguments
                            .iter()
                            .map(|a| (a.name.to_string(), self.value(&a.value)))
                            .collect(),
                        selection,
                    });
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = spread.fragment_def(self.document) {
                        let mut nested = Vec::new();
                        self.collect(&fragment.selection_set, &mut nested);
                        merge(out, nested);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let mut nested = Vec::new();
                    self.collect(&inline.selection_set, &mut nested);
                    merge(out, nested);
                }
            }
        }
        let _ = self.schema;
    }

    fn included(&self, directives: &ast::DirectiveList) -> bool {
        let flag = |name: &str| {
            directives
                .get(name)
                .and_then(|d| d.specified_argument_by_name("if"))
                .map(|v| self.value(v) == Value::Bool(true))
        };
        flag("skip") != Some(true) && flag("include") != Some(false)
    }

    fn value(&self, value: &ast::Value) -> Value {
        match value {
            ast::Value::Null => Value::Null,
            ast::Value::Enum(name) => Value::String(name.to_string()),
            ast::Value::Variable(name) => self
                .variables
                .get(name.as_str())
                .map(to_serde)
                .unwrap_or(Value::Null),
            ast::Value::String(s) => Value::String(s.clone()),
            ast::Value::Float(f) => f
                .try_to_f64()
                .ok()
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number),
            ast::Value::Int(i) => i
                .as_str()
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| i.as_str().parse::<f64>().map(Value::from))
                .unwrap_or(Value::Null),
            ast::Value::Boolean(b) => Value::Bool(*b),
            ast::Value::List(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            ast::Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.value(v)))
                    .collect(),
            ),
        }
    }
}

fn merge(into: &mut Vec<Field>, fields: Vec<Field>) {
    for field in fields {
        if let Some(existing) = into.iter_mut().find(|f| f.alias == field.alias) {
            merge(&mut existing.selection, field.selection);
        } else {
            into.push(field);
        }
    }
}

pub(crate) fn to_serde(value: &JsonValue) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
