//! Actions in the schema: each action the role may run becomes a `query_root` or
//! `mutation_root` field with its arguments, and the custom types it reaches are declared (objects
//! with their relationships to the tables the role can see, input objects, enums, scalars).

use super::Builder;
use crate::sdl::{FieldDef, TypeKind};
use graft_metadata::{
    ActionEntry, ActionKind, ActionType, CustomObjectType, CustomTypes, QualifiedTable,
    TypeRelationshipKind,
};
use graft_schema::ADMIN_ROLE;

/// The named type inside list and non-null wrappers: `[UserId!]!` → `UserId`.
pub fn action_base_type(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

impl Builder<'_> {
    pub(super) fn build_actions(&mut self, role: &str) {
        let actions: Vec<&ActionEntry> = self
            .options
            .actions
            .iter()
            .filter(|a| role == ADMIN_ROLE || a.permissions.iter().any(|p| p.role == role))
            .collect();
        for action in actions {
            let definition = &action.definition;
            self.declare_type(action_base_type(&definition.output_type), false);
            let mut field =
                FieldDef::described(definition.output_type.clone(), action.comment.clone());
            for argument in &definition.arguments {
                self.declare_type(action_base_type(&argument.ty), true);
                field = field.arg(
                    &argument.name,
                    &argument.ty,
                    argument.description.as_deref(),
                );
            }
            let root = match definition.action_type() {
                ActionType::Query => "query_root",
                ActionType::Mutation => "mutation_root",
            };
            if root == "mutation_root" && definition.kind() == ActionKind::Asynchronous {
                // The mutation answers the action id; `<action>(id)` reads the result.
                field.ty = "uuid!".to_string();
                self.ensure_scalar("uuid");
                self.async_result_field(action);
            }
            // A schema whose only mutations are actions gets its mutation_root here.
            self.sdl.add(root, TypeKind::Object, None);
            if root == "query_root" {
                self.sdl.remove_field("query_root", "no_queries_available");
            }
            self.sdl.field(root, &action.name, field);
        }
    }

    /// `<action>(id: uuid!): <action>` in query_root, and the type holding the stored result.
    fn async_result_field(&mut self, action: &ActionEntry) {
        let name = action.name.clone();
        for scalar in ["uuid", "timestamptz", "json"] {
            self.ensure_scalar(scalar);
        }
        if self.sdl.add(
            &name,
            TypeKind::Object,
            Some(format!("fields of action: \"{name}\"")),
        ) {
            let output = action
                .definition
                .output_type
                .trim_end_matches('!')
                .to_string();
            let fields = [
                (
                    "created_at",
                    "timestamptz!",
                    "the time at which this action was created",
                ),
                ("errors", "json", "errors related to the invocation"),
                ("id", "uuid!", "the unique id of an action"),
                (
                    "output",
                    output.as_str(),
                    "the output fields of this action",
                ),
            ];
            for (field, ty, description) in fields {
                self.sdl.field(
                    &name,
                    field,
                    FieldDef::described(ty, Some(description.to_string())),
                );
            }
        }
        self.sdl.add("query_root", TypeKind::Object, None);
        self.sdl.remove_field("query_root", "no_queries_available");
        self.sdl.field(
            "query_root",
            &name,
            FieldDef::described(name.clone(), action.comment.clone()).arg("id", "uuid!", None),
        );
    }

    /// Declares a custom type (and what it reaches) unless it is a built-in scalar.
    fn declare_type(&mut self, name: &str, input: bool) {
        let types: &CustomTypes = &self.options.custom_types;
        if input {
            if let Some(object) = types.input_objects.iter().find(|t| t.name == name) {
                let object = object.clone();
                if self
                    .sdl
                    .add(&object.name, TypeKind::Input, object.description.clone())
                {
                    for field in &object.fields {
                        self.declare_type(action_base_type(&field.ty), true);
                        self.sdl.field(
                            &object.name,
                            &field.name,
                            FieldDef::described(field.ty.clone(), field.description.clone()),
                        );
                    }
                }
                return;
            }
        } else if let Some(object) = types.objects.iter().find(|t| t.name == name) {
            let object = object.clone();
            self.declare_object(&object);
            return;
        }
        if let Some(custom_enum) = types.enums.iter().find(|t| t.name == name) {
            let custom_enum = custom_enum.clone();
            if self
                .sdl
                .add(name, TypeKind::Enum, custom_enum.description.clone())
            {
                for value in &custom_enum.values {
                    self.sdl
                        .value(name, &value.value, value.description.clone());
                }
            }
            return;
        }
        let description = types
            .scalars
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.description.clone());
        if !crate::scalars::is_builtin_scalar(name) {
            self.sdl.add(name, TypeKind::Scalar, description);
        }
    }

    fn declare_object(&mut self, object: &CustomObjectType) {
        if !self
            .sdl
            .add(&object.name, TypeKind::Object, object.description.clone())
        {
            return;
        }
        for field in &object.fields {
            self.declare_type(action_base_type(&field.ty), false);
            self.sdl.field(
                &object.name,
                &field.name,
                FieldDef::described(field.ty.clone(), field.description.clone()),
            );
        }
        for relationship in &object.relationships {
            let table: &QualifiedTable = &relationship.remote_table;
            if !self.views.contains_key(table) {
                continue;
            }
            let target = self.object_type(table);
            let field = match relationship.kind {
                TypeRelationshipKind::Object => FieldDef::new(target),
                TypeRelationshipKind::Array => {
                    let args = self.select_args(table);
                    let mut field = FieldDef::new(format!("[{target}!]!"));
                    field.args = args.args;
                    field
                }
            };
            self.sdl.field(&object.name, &relationship.name, field);
        }
    }
}
