//! The one SQL printer: [`Statement`] in, SQL text out.
//!
//! All text goes through [`SqlWriter`], which has exactly these ways to emit
//! it:
//! - `syntax`: keywords and punctuation. It takes `&'static str` only, so
//!   nothing that came from a request, metadata or the catalog can become
//!   SQL syntax;
//! - `identifier`: a name, always quoted (see [`identifier`]);
//! - `param`: `$n`;
//! - `string_literal` and `integer`: constants that graft itself writes (json
//!   keys, `-1`), quoted or formatted safely.
//!
//! The output is one line with single spaces. It depends only on the tree,
//! so the same request prints the same text and its prepared statement is
//! reused.

mod expr;
pub mod identifier;
mod inline;
mod statement;

pub use inline::inline_params;

use crate::ast::Statement;
use crate::params::ParamIndex;
use identifier::{IdentifierError, push_quoted_identifier};

/// Why a tree could not be printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    #[error("a string literal contains a NUL character, which Postgres text cannot hold")]
    NulInStringLiteral,
    #[error("{statement} needs at least one column in SET")]
    EmptySet { statement: &'static str },
    #[error("ON CONFLICT DO UPDATE needs a conflict target")]
    MissingConflictTarget,
    #[error("INSERT ... VALUES needs at least one row")]
    EmptyValues,
    #[error("VALUES row {row} has {found} values for {expected} columns")]
    ValuesArity {
        row: usize,
        found: usize,
        expected: usize,
    },
}

/// Prints a statement as SQL text. Parameters stay `$n` placeholders; their
/// values are the caller's [`crate::Params`].
pub fn print(statement: &Statement) -> Result<String, PrintError> {
    let mut writer = SqlWriter::default();
    writer.statement(statement)?;
    Ok(writer.sql)
}

/// What a multiplexed statement's inner statement returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiplexedShape {
    /// One column: the result.
    Live,
    /// Two columns: the result, and the stream's new cursor as text (NULL when no row came).
    Stream,
}

/// Prints `statement` as the body of a multiplexed subscription: one statement that answers
/// many cohorts (subscribers with the same query but different variables or session values).
///
/// Its only parameter, `$1`, is a JSON array with one element per cohort, each the JSON array of
/// that cohort's parameter values (strings or null, in `Params` order). Parameter `$n` of
/// `statement` reads element `n - 1` of its cohort's array, as text, exactly as the one-cohort
/// statement would have received it. The result has one row per cohort: its 1-based position in
/// `$1` (`cohort`, bigint), the statement's result as text (`result`) and, for
/// [`MultiplexedShape::Stream`], its cursor (`cursor`).
///
/// ```sql
/// SELECT "_subs"."cohort", "_live"."result"::text FROM json_array_elements($1::json)
///   WITH ORDINALITY AS "_subs"("params", "cohort")
///   LEFT OUTER JOIN LATERAL (<statement>) AS "_live"("result") ON true
/// ```
pub fn print_multiplexed(
    statement: &Statement,
    shape: MultiplexedShape,
) -> Result<String, PrintError> {
    let mut writer = SqlWriter {
        sql: String::new(),
        params: ParamSource::CohortArray,
    };
    writer.syntax("SELECT \"_subs\".\"cohort\", \"_live\".\"result\"::text AS \"result\"");
    if shape == MultiplexedShape::Stream {
        writer.syntax(", \"_live\".\"cursor\"::text AS \"cursor\"");
    }
    writer.syntax(
        " FROM json_array_elements($1::json) WITH ORDINALITY AS \"_subs\"(\"params\", \"cohort\") \
         LEFT OUTER JOIN LATERAL (",
    );
    writer.statement(statement)?;
    writer.syntax(match shape {
        MultiplexedShape::Live => ") AS \"_live\"(\"result\")",
        MultiplexedShape::Stream => ") AS \"_live\"(\"result\", \"cursor\")",
    });
    writer.syntax(" ON true ORDER BY \"_subs\".\"cohort\"");
    Ok(writer.sql)
}

/// Where a parameter's value comes from.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ParamSource {
    /// `$n`: bound by the caller.
    #[default]
    Placeholder,
    /// Element `n - 1` of the cohort's parameter array (see [`print_multiplexed`]).
    CohortArray,
}

/// Accumulates SQL text; see the module docs for the rules.
#[derive(Debug, Default)]
struct SqlWriter {
    sql: String,
    params: ParamSource,
}

impl SqlWriter {
    fn syntax(&mut self, text: &'static str) {
        self.sql.push_str(text);
    }

    fn identifier(&mut self, name: &str) -> Result<(), PrintError> {
        push_quoted_identifier(&mut self.sql, name)?;
        Ok(())
    }

    fn param(&mut self, index: ParamIndex) {
        match self.params {
            ParamSource::Placeholder => {
                self.sql.push('$');
                self.sql.push_str(&index.one_based().to_string());
            }
            ParamSource::CohortArray => {
                self.sql.push_str("(\"_subs\".\"params\"->>");
                self.sql.push_str(&(index.one_based() - 1).to_string());
                self.sql.push(')');
            }
        }
    }

    /// A string constant. With a backslash in it, an `E''` string is used
    /// (backslashes doubled), which reads the same whatever
    /// `standard_conforming_strings` is set to.
    fn string_literal(&mut self, text: &str) -> Result<(), PrintError> {
        if text.contains('\0') {
            return Err(PrintError::NulInStringLiteral);
        }
        let escape_backslashes = text.contains('\\');
        if escape_backslashes {
            self.sql.push('E');
        }
        self.sql.push('\'');
        for c in text.chars() {
            match c {
                '\'' => self.sql.push_str("''"),
                '\\' if escape_backslashes => self.sql.push_str("\\\\"),
                _ => self.sql.push(c),
            }
        }
        self.sql.push('\'');
        Ok(())
    }

    fn integer(&mut self, value: i64) {
        self.sql.push_str(&value.to_string());
    }

    /// Prints `items` with `separator` between them.
    fn list<T>(
        &mut self,
        items: &[T],
        separator: &'static str,
        mut print_item: impl FnMut(&mut Self, &T) -> Result<(), PrintError>,
    ) -> Result<(), PrintError> {
        for (position, item) in items.iter().enumerate() {
            if position > 0 {
                self.syntax(separator);
            }
            print_item(self, item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn literal(text: &str) -> Result<String, PrintError> {
        let mut writer = SqlWriter::default();
        writer.string_literal(text)?;
        Ok(writer.sql)
    }

    #[test]
    fn string_literals_double_quotes_and_escape_backslashes() {
        assert_eq!(literal("it's").unwrap(), "'it''s'");
        assert_eq!(literal(r"a\'b").unwrap(), r"E'a\\''b'");
        assert_eq!(literal("x\0"), Err(PrintError::NulInStringLiteral));
    }
}
