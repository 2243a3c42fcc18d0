//! The `path` argument of json/jsonb columns (`c(path: "$.a.b[0]")`), Hasura's JSONPath subset:
//! an optional `$`, then `.key`, `[index]`, `['key']` or `["key"]` steps (a leading key may omit
//! its dot, and a dot may precede a bracket). The steps become the text array of Postgres's
//! `#>` operator.

/// The steps of `path` (`"$.obj.c1"` → `["obj", "c1"]`), or a message saying where it is wrong.
pub(crate) fn parse(path: &str) -> Result<Vec<String>, String> {
    let mut chars = path.chars().peekable();
    if chars.peek() == Some(&'$') {
        chars.next();
    }
    let mut steps = Vec::new();
    let mut first = true;
    while let Some(&c) = chars.peek() {
        match c {
            '.' => {
                chars.next();
                if chars.peek() != Some(&'[') {
                    steps.push(key(&mut chars)?);
                }
            }
            '[' => {
                chars.next();
                steps.push(bracket(&mut chars)?);
            }
            _ if first => steps.push(key(&mut chars)?),
            other => return Err(format!("unexpected character '{other}' in json path")),
        }
        first = false;
    }
    Ok(steps)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn key(chars: &mut Chars<'_>) -> Result<String, String> {
    let mut key = String::new();
    while let Some(&c) = chars.peek() {
        if c == '.' || c == '[' {
            break;
        }
        key.push(c);
        chars.next();
    }
    if key.is_empty() {
        return Err("empty key in json path".to_string());
    }
    Ok(key)
}

/// After `[`: a quoted key or an index, then `]`.
fn bracket(chars: &mut Chars<'_>) -> Result<String, String> {
    let step = match chars.peek() {
        Some(&quote @ ('\'' | '"')) => {
            chars.next();
            let mut key = String::new();
            loop {
                match chars.next() {
                    Some('\\') => key.extend(chars.next()),
                    Some(c) if c == quote => break,
                    Some(c) => key.push(c),
                    None => return Err("unterminated string in json path".to_string()),
                }
            }
            key
        }
        _ => {
            let mut index = String::new();
            while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
                index.push(c);
                chars.next();
            }
            if index.is_empty() {
                return Err("expected an index or a quoted key after '[' in json path".to_string());
            }
            index
        }
    };
    match chars.next() {
        Some(']') => Ok(step),
        _ => Err("expected ']' in json path".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn hasura_path_forms() {
        let ok = |p: &str| parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(ok("$"), Vec::<String>::new());
        assert_eq!(ok(".obj.c1"), ["obj", "c1"]);
        assert_eq!(ok("$.obj.c1"), ["obj", "c1"]);
        assert_eq!(ok("a"), ["a"]);
        assert_eq!(ok("arr[0]"), ["arr", "0"]);
        assert_eq!(ok("._underscore"), ["_underscore"]);
        assert_eq!(ok("['!@#$%^']"), ["!@#$%^"]);
        assert_eq!(
            ok("translations['hello world!']"),
            ["translations", "hello world!"]
        );
        assert_eq!(ok("objs[0]['你好']"), ["objs", "0", "你好"]);
        assert_eq!(ok("objs[0].[\"你好\"]"), ["objs", "0", "你好"]);
        assert_eq!(ok("objs.[0].[\"你好\"]"), ["objs", "0", "你好"]);
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["a..b", "a[", "a[x]", "a['x", "arr[0]b"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
