//! Quoting of SQL identifiers, and the 63-byte limit.
//!
//! Every identifier graft prints is double-quoted, whatever it looks like:
//! quoting keeps case (`"userId"`), allows keywords (`"user"`, `"order"`) and
//! any character, so one rule covers every name in a user's schema. Inside
//! the quotes a `"` is written twice. NUL cannot be stored in a Postgres name,
//! and `""` (empty) is a syntax error, so both are refused.
//!
//! Postgres keeps at most NAMEDATALEN-1 = 63 bytes of an identifier and
//! silently cuts the rest, so two long aliases that share a 63-byte prefix
//! would become the same name (and an alias built from a long relationship
//! name would no longer match the column it points to). Hasura v2 hits the
//! same limit. Instead of letting the server cut, a name longer than 63 bytes
//! is replaced here by a deterministic short form: a prefix of the name (cut
//! at a character boundary, so it stays readable and valid UTF-8), `_`, and
//! 32 hex digits (128 bits) of the SHA-256 of the whole name. Two different
//! long names therefore get different short forms, and the same name always
//! gets the same one, wherever it is printed.
//!
//! The short form is only right for names graft makes up (aliases). A real
//! table or column longer than 63 bytes cannot exist: Postgres cut it at
//! creation, and the catalog reports the cut name.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// Postgres' identifier limit in bytes (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Hex digits of the hash in a shortened identifier (128 bits).
const HASH_HEX_DIGITS: usize = 32;

/// Bytes left for the readable prefix: 63 - '_' - hash.
const SHORT_PREFIX_BYTES: usize = MAX_IDENTIFIER_BYTES - 1 - HASH_HEX_DIGITS;

/// Why a name cannot be printed as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("identifier {name:?} contains a NUL character, which Postgres names cannot hold")]
    ContainsNul { name: String },
    #[error("an identifier cannot be empty")]
    Empty,
}

/// The name as Postgres will store it: unchanged if it fits in 63 bytes,
/// otherwise the deterministic short form described in the module docs.
pub fn shorten_identifier(name: &str) -> Cow<'_, str> {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return Cow::Borrowed(name);
    }
    let mut cut = SHORT_PREFIX_BYTES;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(name.as_bytes());
    let mut short = String::with_capacity(MAX_IDENTIFIER_BYTES);
    short.push_str(&name[..cut]);
    short.push('_');
    for byte in digest.iter().take(HASH_HEX_DIGITS / 2) {
        short.push(hex_digit(byte >> 4));
        short.push(hex_digit(byte & 0x0f));
    }
    Cow::Owned(short)
}

/// `name` as a quoted identifier: `"name"`, with `"` doubled and long names
/// shortened by [`shorten_identifier`].
pub fn quote_identifier(name: &str) -> Result<String, IdentifierError> {
    let mut quoted = String::with_capacity(name.len().min(MAX_IDENTIFIER_BYTES) + 2);
    push_quoted_identifier(&mut quoted, name)?;
    Ok(quoted)
}

/// Appends `name` quoted to `out`; see [`quote_identifier`]. On error `out`
/// is left unchanged.
pub(crate) fn push_quoted_identifier(out: &mut String, name: &str) -> Result<(), IdentifierError> {
    if name.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if name.contains('\0') {
        return Err(IdentifierError::ContainsNul {
            name: name.to_owned(),
        });
    }
    let stored = shorten_identifier(name);
    out.push('"');
    for c in stored.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    Ok(())
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Undoes the quoting: strips the outer quotes and un-doubles inner ones,
    /// failing if a lone quote appears inside (which would end the identifier).
    fn unquote(quoted: &str) -> Option<String> {
        let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '"' && chars.next()? != '"' {
                return None;
            }
            out.push(c);
        }
        Some(out)
    }

    #[test]
    fn quotes_are_doubled_and_case_is_kept() {
        assert_eq!(quote_identifier("userId").unwrap(), r#""userId""#);
        assert_eq!(quote_identifier(r#"a"b"#).unwrap(), r#""a""b""#);
        assert_eq!(quote_identifier("\"").unwrap(), r#""""""#);
    }

    #[test]
    fn nul_and_empty_are_refused() {
        assert_eq!(
            quote_identifier("a\0b"),
            Err(IdentifierError::ContainsNul {
                name: "a\0b".to_owned()
            })
        );
        assert_eq!(quote_identifier(""), Err(IdentifierError::Empty));
    }

    #[test]
    fn names_of_exactly_63_bytes_are_kept() {
        let name = "x".repeat(63);
        assert_eq!(shorten_identifier(&name), name.as_str());
        assert_ne!(shorten_identifier(&"x".repeat(64)), "x".repeat(64));
    }

    #[test]
    fn long_names_with_a_shared_prefix_stay_distinct() {
        let a = format!("{}_author", "relationship".repeat(6));
        let b = format!("{}_editor", "relationship".repeat(6));
        let (short_a, short_b) = (shorten_identifier(&a), shorten_identifier(&b));
        assert_ne!(short_a, short_b);
        assert!(short_a.len() <= MAX_IDENTIFIER_BYTES);
        assert!(short_a.starts_with("relationship"));
    }

    #[test]
    fn multibyte_names_are_cut_at_a_char_boundary() {
        let name = "é".repeat(40);
        let short = shorten_identifier(&name);
        assert!(short.len() <= MAX_IDENTIFIER_BYTES);
        assert!(short.starts_with(&"é".repeat(15)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_name_without_nul_prints_a_valid_quoted_identifier(
            name in "[^\u{0}]{1,120}|[\"a-zé😀 ]{1,100}"
        ) {
            let quoted = quote_identifier(&name).unwrap();
            let stored = unquote(&quoted).expect("well-formed quoting");
            prop_assert!(stored.len() <= MAX_IDENTIFIER_BYTES);
            prop_assert_eq!(&quoted, &quote_identifier(&name).unwrap());
            if name.len() <= MAX_IDENTIFIER_BYTES {
                prop_assert_eq!(stored, name);
            }
        }

        #[test]
        fn different_names_print_differently(
            a in "[^\u{0}]{1,100}|[\"a-z]{60,70}",
            b in "[^\u{0}]{1,100}|[\"a-z]{60,70}",
        ) {
            prop_assume!(a != b);
            prop_assert_ne!(quote_identifier(&a).unwrap(), quote_identifier(&b).unwrap());
        }

        #[test]
        fn names_with_nul_are_an_error_not_a_panic(
            before in ".{0,40}", after in ".{0,40}"
        ) {
            let name = format!("{before}\0{after}");
            let is_nul_error = matches!(
                quote_identifier(&name),
                Err(IdentifierError::ContainsNul { .. })
            );
            prop_assert!(is_nul_error);
        }
    }
}
