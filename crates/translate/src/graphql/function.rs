//! Computed fields and tracked SQL functions → IR: a scalar computed field's call on the row,
//! a table-returning computed field's rows (read from the function, under the returned table's
//! select permission), and tracked functions as root fields (`fn`, `fn_aggregate`).

use super::context::{Access, GqlContext};
use super::error::GraphqlError;
use super::select::{aggregate_select, list_select};
use crate::ir::{ComputedArgument, ComputedScalarField, FunctionSource};
use graft_gql::Field;
use graft_schema::TableModel;
use indexmap::IndexMap;
use serde_json::Value;

/// A scalar computed field: its function called on the row.
pub(crate) fn computed_scalar(
    ctx: &GqlContext<'_>,
    computed: &graft_schema::ComputedFieldInfo,
    field_args: &IndexMap<String, Value>,
    path: &str,
) -> Result<ComputedScalarField, GraphqlError> {
    let function = &computed.function;
    Ok(ComputedScalarField {
        function: qualified_function(function),
        arguments: computed_arguments(computed, field_args, path)?,
        as_text: ctx.stringify_numeric && crate::rql::is_big_number(&function.return_type),
        redaction: None,
    })
}

pub(crate) fn qualified_function(
    function: &graft_catalog::Function,
) -> graft_metadata::QualifiedFunction {
    graft_metadata::QualifiedFunction::new(&function.name.schema, &function.name.name)
}

/// The table-returning computed field `name` of `table`, when the role may select the rows it
/// returns.
pub(crate) fn computed_rows<'a>(
    ctx: &GqlContext<'a>,
    table: &'a TableModel,
    name: &str,
) -> Option<(
    &'a graft_schema::ComputedFieldInfo,
    &'a TableModel,
    Access<'a>,
)> {
    let computed = table.computed_fields.get(name)?;
    let returned = computed.function.return_table.as_ref()?;
    let target = ctx.source.table(&graft_metadata::QualifiedTable::new(
        &returned.schema,
        &returned.name,
    ))?;
    let access = ctx.access(target)?;
    Some((computed, target, access))
}

/// The positional arguments of a computed field's call: the row, the session, and the
/// client's `args` by name.
pub(crate) fn computed_arguments(
    computed: &graft_schema::ComputedFieldInfo,
    field_args: &IndexMap<String, Value>,
    path: &str,
) -> Result<Vec<ComputedArgument>, GraphqlError> {
    call_arguments(&computed.function, field_args, path, |position| {
        if position == computed.table_argument {
            Some(ComputedArgument::Row)
        } else if Some(position) == computed.session_argument {
            Some(ComputedArgument::Session)
        } else {
            None
        }
    })
}

/// A tracked function's root field (`fn` or `fn_aggregate`), when `field` is one: the rows of
/// the returned table the function yields, under the role's select permission on that table.
pub(crate) fn function_root(
    ctx: &GqlContext<'_>,
    field: &Field,
    path: &str,
) -> Result<Option<super::Root>, GraphqlError> {
    let name = field.name.as_str();
    let found = ctx.source.functions.values().find_map(|model| {
        if model.field_name == name {
            Some((model, false))
        } else if !model.is_mutation && model.aggregate_field_name == name {
            Some((model, true))
        } else {
            None
        }
    });
    let Some((model, aggregate)) = found else {
        return Ok(None);
    };
    let not_found = || GraphqlError::field_not_found(name, &field.parent_type, path);
    if !model.permits(&ctx.session.role, ctx.require_function_permissions) {
        return Err(not_found());
    }
    let function = &model.function;
    let table = graft_gql::function_return_table(function)
        .and_then(|t| ctx.source.table(&t))
        .ok_or_else(not_found)?;
    let access = ctx.access(table).ok_or_else(not_found)?;
    let source = FunctionSource {
        function: qualified_function(function),
        arguments: call_arguments(function, &field.arguments, path, |position| {
            (Some(position) == model.session_argument).then_some(ComputedArgument::Session)
        })?,
    };
    if aggregate {
        if !access.allows_aggregations() {
            return Err(not_found());
        }
        let mut ir = aggregate_select(ctx, table, access, field, path)?;
        ir.rows.from_function = Some(source);
        return Ok(Some(super::Root::Aggregate(ir)));
    }
    let mut ir = list_select(ctx, table, access, field, path)?;
    ir.from_function = Some(source);
    Ok(Some(if function.returns_set {
        super::Root::List(ir)
    } else {
        super::Root::ByPk(ir)
    }))
}

/// A function's positional arguments: `fixed` ones (row, session) first, the others from the
/// client's `args` by name (`arg_<n>` when unnamed). Trailing ones left out take their
/// defaults; others left out are NULL.
fn call_arguments(
    function: &graft_catalog::Function,
    field_args: &IndexMap<String, Value>,
    path: &str,
    fixed: impl Fn(usize) -> Option<ComputedArgument>,
) -> Result<Vec<ComputedArgument>, GraphqlError> {
    let args = match field_args.get("args") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(GraphqlError::validation(
                "expected an object for \"args\"",
                format!("{path}.args.args"),
            ));
        }
    };
    let mut arguments: Vec<Option<ComputedArgument>> = function
        .arguments
        .iter()
        .enumerate()
        .map(|(position, argument)| {
            fixed(position).or_else(|| {
                let name = argument
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("arg_{}", position + 1));
                args.get(&name)
                    .map(|value| ComputedArgument::Value(value.clone(), argument.pg_type.clone()))
            })
        })
        .collect();
    while arguments.last().is_some_and(Option::is_none) {
        arguments.pop();
    }
    Ok(arguments
        .into_iter()
        .zip(&function.arguments)
        .map(|(a, declared)| {
            a.unwrap_or_else(|| ComputedArgument::Value(Value::Null, declared.pg_type.clone()))
        })
        .collect())
}
