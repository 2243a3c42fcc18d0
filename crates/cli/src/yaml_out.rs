//! JSON values written as YAML the way the Hasura CLI writes metadata files, so files exported
//! by graft and by the Hasura CLI are byte-identical and a pull request shows only real changes.
//!
//! The Hasura CLI encodes with Go's `gopkg.in/yaml.v3` at indent 2 (sequences under a key are
//! indented, no line folding), after passing the server's JSON through CUE, which double-quotes
//! YAML 1.1 legacy words (`yes`, `on`, ...) and date-like strings. The scalar rules below follow
//! libyaml's scalar analysis (`yaml_emitter_analyze_scalar`) and yaml.v3's style choice:
//! plain when the text reads back as the same string, single quotes when plain is not allowed,
//! double quotes for text that would resolve to another type or contains unprintable
//! characters, and literal blocks (`|-`) for multi-line text.

use serde_json::{Map, Value};

/// How a file refers to another: `"!include public_users.yaml"`.
pub const INCLUDE_PREFIX: &str = "!include ";

/// One YAML document for `value`, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0, false),
        scalar => {
            write_scalar(&mut out, scalar, 2);
            out.push('\n');
        }
    }
    out
}

/// `first_inline`: the first key goes on the current line (right after `- `).
fn write_mapping(out: &mut String, map: &Map<String, Value>, indent: usize, first_inline: bool) {
    for (position, (key, value)) in map.iter().enumerate() {
        if position > 0 || !first_inline {
            push_indent(out, indent);
        }
        write_string(out, key, indent, true);
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_mapping(out, inner, indent + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_sequence(out, items, indent + 2, false);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize, first_inline: bool) {
    for (position, item) in items.iter().enumerate() {
        if position > 0 || !first_inline {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                write_mapping(out, inner, indent + 2, true)
            }
            Value::Array(inner) if !inner.is_empty() => {
                write_sequence(out, inner, indent + 2, true)
            }
            scalar => {
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar or an empty collection; `block_indent` is where a literal block's lines go.
fn write_scalar(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s, block_indent, false),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

fn write_string(out: &mut String, text: &str, block_indent: usize, is_key: bool) {
    match choose_style(text, is_key) {
        Style::Plain => out.push_str(text),
        Style::SingleQuoted => {
            out.push('\'');
            out.push_str(&text.replace('\'', "''"));
            out.push('\'');
        }
        Style::DoubleQuoted => write_double_quoted(out, text),
        Style::Literal => write_literal(out, text, block_indent),
    }
}

fn choose_style(text: &str, is_key: bool) -> Style {
    // The Hasura CLI writes its include references double-quoted (and reads any string holding
    // `!include` as one, so no metadata value can start this way).
    if text.starts_with(INCLUDE_PREFIX) {
        return Style::DoubleQuoted;
    }
    let analysis = Analysis::of(text);
    if text.contains('\n') {
        return if analysis.block_allowed && !is_key {
            Style::Literal
        } else {
            Style::DoubleQuoted
        };
    }
    if resolves_to_other_type(text) || is_legacy_or_date_like(text) {
        return Style::DoubleQuoted;
    }
    if analysis.block_plain_allowed {
        Style::Plain
    } else if analysis.single_quoted_allowed {
        Style::SingleQuoted
    } else {
        Style::DoubleQuoted
    }
}

/// libyaml's view of what a scalar may be written as, in block context.
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

impl Analysis {
    fn of(text: &str) -> Analysis {
        if text.is_empty() {
            return Analysis {
                block_plain_allowed: false,
                single_quoted_allowed: true,
                block_allowed: false,
            };
        }
        let chars: Vec<char> = text.chars().collect();
        let mut block_indicators = text.starts_with("---") || text.starts_with("...");
        let mut special_characters = false;
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut line_breaks = false;
        let mut preceded_by_whitespace = true;
        for (i, &c) in chars.iter().enumerate() {
            let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank(n));
            let last = i + 1 == chars.len();
            if i == 0 {
                if "#,[]{}&*!|>'\"%@`".contains(c) {
                    block_indicators = true;
                }
                if (c == '?' || c == ':' || c == '-') && followed_by_whitespace {
                    block_indicators = true;
                }
            } else {
                if c == ':' && followed_by_whitespace {
                    block_indicators = true;
                }
                if c == '#' && preceded_by_whitespace {
                    block_indicators = true;
                }
            }
            if !is_printable(c) {
                special_characters = true;
            }
            if c == ' ' {
                leading_space |= i == 0;
                trailing_space |= last;
                break_space |= previous_break;
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= i == 0;
                trailing_break |= last;
                space_break |= previous_space;
                previous_break = true;
                previous_space = false;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blank(c);
        }
        let mut block_plain_allowed = true;
        let mut single_quoted_allowed = true;
        let mut block_allowed = true;
        if leading_space || leading_break || trailing_space || trailing_break {
            block_plain_allowed = false;
        }
        if trailing_space {
            block_allowed = false;
        }
        if break_space {
            block_plain_allowed = false;
            single_quoted_allowed = false;
        }
        if space_break || special_characters {
            block_plain_allowed = false;
            single_quoted_allowed = false;
            block_allowed = false;
        }
        if line_breaks || block_indicators {
            block_plain_allowed = false;
        }
        Analysis {
            block_plain_allowed,
            single_quoted_allowed,
            block_allowed,
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || is_break(c)
}

fn is_printable(c: char) -> bool {
    matches!(c,
        '\n' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
        && c != '\u{FEFF}'
}

/// yaml.v3's `resolve`: text that would read back as null, a bool, a number or a merge key.
fn resolves_to_other_type(text: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "<<",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN",
    ];
    if SPECIAL.contains(&text) {
        return true;
    }
    let Some(first) = text.chars().next() else {
        return true;
    };
    if !"+-.0123456789".contains(first) {
        return false;
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    let unsigned = plain.trim_start_matches(['+', '-']);
    let radix = |prefix: &str, radix: u32| {
        unsigned
            .strip_prefix(prefix)
            .is_some_and(|digits| !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok())
    };
    if radix("0x", 16) || radix("0o", 8) || radix("0b", 2) {
        return true;
    }
    if !unsigned.is_empty() && unsigned.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    is_yaml_float(&plain)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && fraction.chars().all(|c| c.is_ascii_digit()),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// CUE's `shouldQuote`: YAML 1.1 booleans and anything that looks like a date, time or
/// base-60 number.
fn is_legacy_or_date_like(text: &str) -> bool {
    const LEGACY: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    if LEGACY.contains(&text) {
        return true;
    }
    // ^[-+0-9:. \t]+([-:]|[tT])[-+0-9:. \t]+[zZ]?$
    let body = text.strip_suffix(['z', 'Z']).unwrap_or(text);
    let in_class = |c: char| "-+0123456789:. \t".contains(c);
    let chars: Vec<char> = body.chars().collect();
    (1..chars.len().saturating_sub(1)).any(|i| {
        matches!(chars[i], '-' | ':' | 't' | 'T')
            && chars[..i].iter().all(|&c| in_class(c))
            && chars[i + 1..].iter().all(|&c| in_class(c))
    })
}

fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{B}' => out.push_str("\\v"),
            '\u{C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1B}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{A0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !is_printable(c) => {
                let code = c as u32;
                if code <= 0xFF {
                    out.push_str(&format!("\\x{code:02X}"));
                } else if code <= 0xFFFF {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_literal(out: &mut String, text: &str, indent: usize) {
    out.push('|');
    if text.starts_with(' ') || text.starts_with('\n') {
        out.push('2');
    }
    let body = if !text.ends_with('\n') {
        out.push('-');
        text
    } else {
        let stripped = &text[..text.len() - 1];
        if stripped.is_empty() || stripped.ends_with('\n') {
            out.push('+');
        }
        stripped
    };
    // The caller ends the last line.
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_mappings_and_indented_sequences() {
        let value = json!({
            "table": {"schema": "public", "name": "t1"},
            "insert_permissions": [{"role": "user", "permission": {
                "check": {"id": {"_eq": "X-Hasura-User-Id"}}, "columns": [], "backend_only": false}}],
            "event_triggers": [{"definition": {"insert": {"columns": "*"}},
                "request_transform": {"body": "{\n  \"a\": 1\n}", "query_params": {}}}]
        });
        let expected = "table:
  schema: public
  name: t1
insert_permissions:
  - role: user
    permission:
      check:
        id:
          _eq: X-Hasura-User-Id
      columns: []
      backend_only: false
event_triggers:
  - definition:
      insert:
        columns: '*'
    request_transform:
      body: |-
        {
          \"a\": 1
        }
      query_params: {}
";
        assert_eq!(to_yaml(&value), expected);
    }

    #[test]
    fn scalars_that_need_quotes() {
        let cases = [
            ("", "\"\""),
            ("true", "\"true\""),
            ("123", "\"123\""),
            ("1.5", "\"1.5\""),
            ("0x1F", "\"0x1F\""),
            ("yes", "\"yes\""),
            ("12:30", "\"12:30\""),
            ("2021-01-01", "\"2021-01-01\""),
            ("!include public_t1.yaml", "\"!include public_t1.yaml\""),
            ("!x", "'!x'"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            (" lead", "' lead'"),
            ("tab\there", "\"tab\\there\""),
            ("it's", "it's"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            ("X-Hasura-User-Id", "X-Hasura-User-Id"),
            ("http://localhost:3000", "http://localhost:3000"),
        ];
        for (text, expected) in cases {
            let mut out = String::new();
            write_string(&mut out, text, 2, false);
            assert_eq!(out, expected, "for {text:?}");
        }
    }

    #[test]
    fn literal_chomping() {
        assert_eq!(to_yaml(&json!({"a": "x\ny\n"})), "a: |\n  x\n  y\n");
        assert_eq!(to_yaml(&json!({"a": "x\n\n"})), "a: |+\n  x\n\n");
        assert_eq!(to_yaml(&json!({"a": "x \ny"})), "a: \"x \\ny\"\n");
        assert_eq!(to_yaml(&json!({"a": "x\n\ny"})), "a: |-\n  x\n\n  y\n");
    }

    #[test]
    fn top_level_documents() {
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!([["a", "b"], "c"])), "- - a\n  - b\n- c\n");
        assert_eq!(to_yaml(&json!({"version": 3})), "version: 3\n");
    }

    #[test]
    fn output_reads_back_as_the_same_value() {
        let value = json!({"k": ["", "true", "a: b", "x \ny", "  two", "é", "\u{1}", "l1\nl2\n\n"],
            "n": null, "f": 1.25, "neg": -3});
        let back: Value = serde_yaml_ng::from_str(&to_yaml(&value)).unwrap();
        assert_eq!(back, value);
    }
}
