//! Printed SQL with its parameters written in as literals: only for showing a statement to a
//! person (`/v1/graphql/explain`), who can paste it into psql. Never executed by graft, which
//! always sends values as bind parameters.

/// `sql` with every `$n` outside quoted text replaced by the n-th value as a quoted literal
/// (`'it''s'`, or `NULL`). The printer's SQL has no dollar-quoted strings, so single and double
/// quotes are the only contexts where `$` is not a parameter.
pub fn inline_params(sql: &str, params: &[Option<String>]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '$') => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                let value = digits
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| params.get(i));
                match value {
                    Some(Some(text)) => {
                        out.push('\'');
                        out.push_str(&text.replace('\'', "''"));
                        out.push('\'');
                    }
                    Some(None) => out.push_str("NULL"),
                    None => {
                        out.push('$');
                        out.push_str(&digits);
                    }
                }
            }
            (None, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::inline_params;

    #[test]
    fn parameters_become_quoted_literals() {
        let params = vec![Some("{\"x-hasura-role\":\"user\"}".to_string()), None];
        assert_eq!(
            inline_params("SELECT $1::json, $2::int, $10", &params),
            "SELECT '{\"x-hasura-role\":\"user\"}'::json, NULL::int, $10"
        );
    }

    #[test]
    fn quotes_are_doubled_and_quoted_dollars_kept() {
        let params = vec![Some("it's".to_string())];
        assert_eq!(
            inline_params("SELECT '$1', \"$1\", $1", &params),
            "SELECT '$1', \"$1\", 'it''s'"
        );
    }
}
