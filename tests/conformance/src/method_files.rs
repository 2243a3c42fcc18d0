//! Cases whose pytest method posts other files of the folder around them: raw `{type, args}`
//! bodies (HARNESS §2: "a Python test POSTs itself"), such as a function permission the case
//! needs. Reconstructed from the test methods of `test_graphql_mutations.py` and
//! `test_graphql_queries.py`; the YAML alone does not say which case they belong to.

use crate::style::FixtureCall;

/// The files a case's method posts before and after it.
pub struct MethodFiles {
    pub before: &'static [FixtureCall],
    pub after: &'static [FixtureCall],
}

const METADATA: &str = "/v1/metadata";

/// `case_path` is the path under `queries/`, without a transport.
pub fn for_case(case_path: &str) -> Option<MethodFiles> {
    let (before, after): (&'static [FixtureCall], &'static [FixtureCall]) = match case_path {
        "graphql_mutation/functions/function_as_mutations_permissions.yaml" => (
            &[FixtureCall {
                file: "create_function_permission_add_to_score.yaml",
                url: METADATA,
            }],
            &[FixtureCall {
                file: "drop_function_permission_add_to_score.yaml",
                url: METADATA,
            }],
        ),
        "graphql_mutation/functions/single_row_function_as_mutation.yaml" => (
            &[FixtureCall {
                file: "create_function_permission_add_to_score_by_user_id.yaml",
                url: METADATA,
            }],
            &[FixtureCall {
                file: "drop_function_permission_add_to_score_by_user_id.yaml",
                url: METADATA,
            }],
        ),
        "graphql_query/functions/permissions/get_articles_with_permission_configured.yaml" => (
            &[FixtureCall {
                file: "add_function_permission_get_articles.yaml",
                url: METADATA,
            }],
            &[],
        ),
        _ => return None,
    };
    Some(MethodFiles { before, after })
}

#[cfg(test)]
mod tests {
    use super::for_case;

    #[test]
    fn only_listed_cases_have_method_files() {
        let files = for_case("graphql_mutation/functions/single_row_function_as_mutation.yaml")
            .map(|f| (f.before.len(), f.after.len()));
        assert_eq!(files, Some((1, 1)));
        assert!(for_case("graphql_mutation/functions/smoke.yaml").is_none());
    }
}
