//! A `down.sql` generated from an `up.sql`, for the DDL a schema editor typically produces:
//! `CREATE TABLE`, `CREATE VIEW`, `CREATE SCHEMA`, `CREATE INDEX`, `ALTER TABLE ... ADD COLUMN`.
//! Anything else (or SQL this simple reader cannot split safely: dollar quoting, string
//! literals) gets no guess: the file says so and lists the up SQL commented out, as Hasura's
//! console does, so a reviewer writes it by hand.

/// The down step for `up`, statements undone in reverse order.
pub fn generate(up: &str) -> String {
    match reverse_statements(up) {
        Some(statements) if !statements.is_empty() => {
            let mut out = statements.join("\n");
            out.push('\n');
            out
        }
        _ => {
            let mut out = String::from(
                "-- Could not auto-generate a down migration.\n-- Please write an appropriate down migration for the SQL below:\n",
            );
            for line in up.lines() {
                out.push_str("-- ");
                out.push_str(line);
                out.push('\n');
            }
            out
        }
    }
}

fn reverse_statements(up: &str) -> Option<Vec<String>> {
    if up.contains('$') || up.contains('\'') || up.contains("--") || up.contains("/*") {
        return None;
    }
    let mut downs = Vec::new();
    for statement in up.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        downs.push(undo(statement)?);
    }
    downs.reverse();
    Some(downs)
}

fn undo(statement: &str) -> Option<String> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let is = |at: usize, word: &str| upper.get(at).is_some_and(|w| w == word);
    // Skips optional words (`IF NOT EXISTS`, `UNIQUE`, `CONCURRENTLY`, `COLUMN`).
    let skip = |mut at: usize, optional: &[&str]| {
        if optional == ["IF", "NOT", "EXISTS"] {
            if is(at, "IF") && is(at + 1, "NOT") && is(at + 2, "EXISTS") {
                at += 3;
            }
        } else {
            while optional.iter().any(|w| is(at, w)) {
                at += 1;
            }
        }
        at
    };
    let name_at = |at: usize| -> Option<String> {
        let word = words.get(at)?;
        let name = word.split('(').next().unwrap_or("");
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '"');
        valid.then(|| name.to_string())
    };
    if is(0, "CREATE") {
        let at = skip(1, &["OR", "REPLACE", "UNIQUE", "MATERIALIZED"]);
        let kind = upper.get(at)?.clone();
        let at = skip(at + 1, &["CONCURRENTLY"]);
        let at = skip(at, &["IF", "NOT", "EXISTS"]);
        let name = name_at(at)?;
        let materialized = upper.iter().take(at).any(|w| w == "MATERIALIZED");
        return match kind.as_str() {
            "TABLE" => Some(format!("DROP TABLE {name};")),
            "VIEW" if materialized => Some(format!("DROP MATERIALIZED VIEW {name};")),
            "VIEW" => Some(format!("DROP VIEW {name};")),
            "SCHEMA" => Some(format!("DROP SCHEMA {name};")),
            "INDEX" => Some(format!("DROP INDEX {name};")),
            _ => None,
        };
    }
    if is(0, "ALTER") && is(1, "TABLE") {
        let at = skip(2, &["IF", "NOT", "EXISTS"]);
        let table = name_at(at)?;
        if !is(at + 1, "ADD") || statement.contains(',') {
            return None;
        }
        let at = skip(at + 2, &["COLUMN"]);
        let at = skip(at, &["IF", "NOT", "EXISTS"]);
        let column = name_at(at)?;
        let constraint_words = ["CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK"];
        if constraint_words.contains(&column.to_ascii_uppercase().as_str()) {
            return None;
        }
        return Some(format!("ALTER TABLE {table} DROP COLUMN {column};"));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::generate;

    #[test]
    fn common_ddl_is_undone_in_reverse_order() {
        let up = "CREATE TABLE public.author (id serial PRIMARY KEY, name text);\n\
                  CREATE UNIQUE INDEX IF NOT EXISTS author_name ON public.author (name);\n\
                  ALTER TABLE public.author ADD COLUMN bio text NOT NULL DEFAULT now();";
        assert_eq!(
            generate(up),
            "ALTER TABLE public.author DROP COLUMN bio;\nDROP INDEX author_name;\nDROP TABLE public.author;\n"
        );
        assert_eq!(
            generate("create materialized view v as select 1"),
            "DROP MATERIALIZED VIEW v;\n"
        );
    }

    #[test]
    fn anything_else_is_left_to_a_human() {
        for up in [
            "UPDATE t SET a = 1;",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
            "INSERT INTO t VALUES ('x');",
        ] {
            let down = generate(up);
            assert!(down.starts_with("-- Could not auto-generate"), "{up}");
            assert!(down.contains(&format!("-- {up}")), "{down}");
        }
    }
}
