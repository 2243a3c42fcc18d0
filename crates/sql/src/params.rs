//! Bind parameters: the only way a value reaches Postgres.
//!
//! Every value (GraphQL variables and literals, permission filter literals,
//! session variables) is sent as a parameter, never spliced into the SQL text.
//! All parameters are sent as TEXT (or NULL): the executor prepares each
//! statement with every parameter typed `text`, and the SQL casts a parameter
//! where its type matters (`$3::int4`). This keeps one code path for every
//! Postgres type, including user-defined ones, and lets Postgres do the
//! parsing it already knows how to do.

use crate::ast::Expr;

/// A 1-based parameter position, printed `$n`.
///
/// Only [`Params::push`] and [`ParamIndex::from_one_based`] make one, so an
/// index is never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamIndex(u32);

impl ParamIndex {
    /// `None` for 0, which is not a valid Postgres parameter position.
    pub fn from_one_based(position: u32) -> Option<Self> {
        (position > 0).then_some(Self(position))
    }

    /// The number printed after `$`.
    pub fn one_based(self) -> u32 {
        self.0
    }
}

/// The parameter list of one statement, in order of position.
///
/// `push` appends a value and returns the expression that reads it. The same
/// `Expr::Param` may be used several times in a statement (the session
/// variables are pushed first as `$1`, one JSON text, and read as
/// `($1::json->>'x-hasura-user-id')` wherever needed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: Vec<Option<String>>,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a value (`None` is SQL NULL) and returns `Expr::Param` for it.
    pub fn push(&mut self, value: Option<String>) -> Expr {
        Expr::Param(self.push_index(value))
    }

    /// Appends a text value and returns `Expr::Param` for it.
    pub fn push_text(&mut self, value: impl Into<String>) -> Expr {
        self.push(Some(value.into()))
    }

    /// Appends a value and returns its position, for callers that read the
    /// same parameter in several places.
    pub fn push_index(&mut self, value: Option<String>) -> ParamIndex {
        self.values.push(value);
        // Postgres caps a statement at 65535 parameters; saturating keeps
        // this total, and such a statement is refused by the server anyway.
        ParamIndex(u32::try_from(self.values.len()).unwrap_or(u32::MAX))
    }

    /// Changes the value at `index` (one pushed earlier); an index past the end is ignored.
    pub fn replace(&mut self, index: ParamIndex, value: Option<String>) {
        let position = (index.one_based() as usize).saturating_sub(1);
        if let Some(slot) = self.values.get_mut(position) {
            *slot = value;
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values in position order (`$1` first).
    pub fn values(&self) -> &[Option<String>] {
        &self.values
    }

    pub fn into_values(self) -> Vec<Option<String>> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_start_at_one_and_follow_push_order() {
        let mut params = Params::new();
        assert_eq!(params.push_text("a"), Expr::Param(ParamIndex(1)));
        assert_eq!(params.push(None), Expr::Param(ParamIndex(2)));
        assert_eq!(params.values(), &[Some("a".to_owned()), None]);
        assert_eq!(ParamIndex::from_one_based(0), None);
    }
}
