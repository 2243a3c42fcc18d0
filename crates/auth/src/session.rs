//! Request headers → session variables, and the final [`Session`] with the role recorded as
//! `x-hasura-role` and the admin secret headers never kept as variables.

use graft_schema::Session;
use http::HeaderMap;
use indexmap::IndexMap;

pub(crate) const ROLE_HEADER: &str = "x-hasura-role";
pub(crate) const ADMIN_SECRET_HEADER: &str = "x-hasura-admin-secret";
pub(crate) const ACCESS_KEY_HEADER: &str = "x-hasura-access-key";
pub(crate) const ADMIN_ROLE: &str = "admin";
const SESSION_PREFIX: &str = "x-hasura-";

/// The `x-hasura-*` headers (names lower-cased, the first value of a repeated header), as
/// Hasura's `mkSessionVariablesHeaders`. Values that are not text are skipped.
pub(crate) fn variables_from_headers(headers: &HeaderMap) -> IndexMap<String, String> {
    headers
        .keys()
        .filter(|name| name.as_str().starts_with(SESSION_PREFIX))
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_string(), value.to_string()))
        })
        .collect()
}

/// The role the client asked for with `X-Hasura-Role`; an empty value asks for nothing.
pub(crate) fn requested_role(headers: &HeaderMap) -> Option<String> {
    let role = headers.get(ROLE_HEADER)?.to_str().ok()?.trim();
    (!role.is_empty()).then(|| role.to_string())
}

pub(crate) fn make_session(
    role: String,
    mut variables: IndexMap<String, String>,
    has_admin_credentials: bool,
) -> Session {
    variables.shift_remove(ADMIN_SECRET_HEADER);
    variables.shift_remove(ACCESS_KEY_HEADER);
    variables.insert(ROLE_HEADER.to_string(), role.clone());
    Session {
        role,
        variables,
        has_admin_credentials,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn header_variables_are_lower_cased_and_secrets_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("X-Hasura-User-Id", "7".parse().unwrap());
        headers.insert("X-Hasura-Admin-Secret", "s3cret".parse().unwrap());
        headers.insert("Content-Type", "application/json".parse().unwrap());
        headers.append("x-hasura-org", "first".parse().unwrap());
        headers.append("x-hasura-org", "second".parse().unwrap());
        let session = make_session("user".into(), variables_from_headers(&headers), false);
        assert_eq!(session.role, "user");
        assert_eq!(session.variables.get("x-hasura-user-id").unwrap(), "7");
        assert_eq!(session.variables.get("x-hasura-org").unwrap(), "first");
        assert_eq!(session.variables.get("x-hasura-role").unwrap(), "user");
        assert!(!session.variables.contains_key("x-hasura-admin-secret"));
        assert!(!session.variables.contains_key("content-type"));
    }
}
