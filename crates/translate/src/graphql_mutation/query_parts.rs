//! The GraphQL query builders mutations reuse: `where` (a `<t>_bool_exp` → `BoolExp`) and
//! `returning` (a selection set → `FieldIr`s, relationships and aggregates included).

pub(crate) use crate::graphql::{context, filter, function, select};
