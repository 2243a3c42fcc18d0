//! A folder's fixture life-cycle: which fixture files run, when, and on which endpoint.
//!
//! This reproduces the pytest fixtures of the original suite (HARNESS 3.2, 4.1):
//! per-class (`setup.yaml` once), per-method (`setup.yaml` around every case file) and
//! mutation (`schema_setup.yaml` once, `values_*.yaml` around every case file). A folder with
//! both `schema_setup.yaml` and `setup.yaml` uses the "v2" endpoints: schema and values files
//! go to `/v2/query` (they are plain `run_sql`) and `setup`/`teardown` to `/v1/metadata`
//! (they use `pg_*` metadata calls that `/v1/query` does not know).

use crate::appendix::ClassInfo;

/// When the fixture files of a folder run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    PerClass,
    PerMethod,
    Mutation,
}

/// Which fixture files a folder holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FixtureFiles {
    pub setup: bool,
    pub teardown: bool,
    pub schema_setup: bool,
    pub schema_teardown: bool,
    pub values_setup: bool,
    pub values_teardown: bool,
}

impl FixtureFiles {
    pub fn in_dir(dir: &std::path::Path) -> Self {
        let has = |name: &str| dir.join(name).is_file();
        FixtureFiles {
            setup: has("setup.yaml"),
            teardown: has("teardown.yaml"),
            schema_setup: has("schema_setup.yaml"),
            schema_teardown: has("schema_teardown.yaml"),
            values_setup: has("values_setup.yaml"),
            values_teardown: has("values_teardown.yaml"),
        }
    }

    pub fn any_setup(&self) -> bool {
        self.setup || self.schema_setup
    }

    fn v2(&self) -> bool {
        self.schema_setup && self.setup
    }
}

/// One fixture request: a file of the folder POSTed to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureCall {
    pub file: &'static str,
    pub url: &'static str,
}

/// The fixture calls of a folder, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixturePlan {
    pub lifecycle: Lifecycle,
    pub v2: bool,
    pub once_before: Vec<FixtureCall>,
    pub before_each: Vec<FixtureCall>,
    pub after_each: Vec<FixtureCall>,
    pub once_after: Vec<FixtureCall>,
}

impl FixturePlan {
    /// Short name for reports, e.g. `per-class` or `mutation+v2`.
    pub fn style_name(&self) -> String {
        let base = match self.lifecycle {
            Lifecycle::PerClass => "per-class",
            Lifecycle::PerMethod => "per-method",
            Lifecycle::Mutation => "mutation",
        };
        if self.v2 {
            format!("{base}+v2")
        } else {
            base.to_string()
        }
    }
}

/// The life-cycle a class asks for through its fixture markers, if any.
pub fn lifecycle_from_markers(class: &ClassInfo) -> Option<Lifecycle> {
    if class.has_marker("per_class_db_schema_for_mutation_tests")
        || class.has_marker("use_mutation_fixtures")
        || class.has_marker("use_action_fixtures")
    {
        Some(Lifecycle::Mutation)
    } else if class.has_marker("per_method_tests_db_state") {
        Some(Lifecycle::PerMethod)
    } else if class.has_marker("per_class_tests_db_state") {
        Some(Lifecycle::PerClass)
    } else {
        None
    }
}

/// The life-cycle guessed from the files alone.
pub fn lifecycle_from_files(files: &FixtureFiles) -> Lifecycle {
    if files.schema_setup && (files.values_setup || files.values_teardown || !files.setup) {
        Lifecycle::Mutation
    } else {
        Lifecycle::PerClass
    }
}

/// Builds the plan for a folder from its files and the class markers (when known).
pub fn plan(files: &FixtureFiles, class: Option<&ClassInfo>) -> FixturePlan {
    let lifecycle = class
        .and_then(lifecycle_from_markers)
        .unwrap_or_else(|| lifecycle_from_files(files));
    let v2 = files.v2();
    let (schema_url, setup_url) = if v2 {
        ("/v2/query", "/v1/metadata")
    } else {
        ("/v1/query", "/v1/query")
    };
    let call = |present: bool, file: &'static str, url: &'static str| {
        present.then_some(FixtureCall { file, url })
    };
    let schema_setup = call(files.schema_setup, "schema_setup.yaml", schema_url);
    let schema_teardown = call(files.schema_teardown, "schema_teardown.yaml", schema_url);
    let setup = call(files.setup, "setup.yaml", setup_url);
    let teardown = call(files.teardown, "teardown.yaml", setup_url);
    let values_setup = call(files.values_setup, "values_setup.yaml", schema_url);
    let values_teardown = call(files.values_teardown, "values_teardown.yaml", schema_url);

    let mut plan = FixturePlan {
        lifecycle,
        v2,
        once_before: Vec::new(),
        before_each: Vec::new(),
        after_each: Vec::new(),
        once_after: Vec::new(),
    };
    match lifecycle {
        Lifecycle::PerClass => {
            plan.once_before
                .extend([schema_setup, setup].into_iter().flatten());
            plan.once_after
                .extend([teardown, schema_teardown].into_iter().flatten());
        }
        Lifecycle::PerMethod => {
            plan.before_each
                .extend([schema_setup, setup].into_iter().flatten());
            plan.after_each
                .extend([teardown, schema_teardown].into_iter().flatten());
        }
        Lifecycle::Mutation => {
            plan.once_before
                .extend([schema_setup, setup].into_iter().flatten());
            plan.before_each.extend(values_setup);
            plan.after_each.extend(values_teardown);
            plan.once_after
                .extend([teardown, schema_teardown].into_iter().flatten());
        }
    }
    plan
}

/// Values for `env NAME` markers that carry no value in the class table: what the original
/// classes set through `hge_env(NAME, value)`.
pub fn default_env_value(name: &str) -> &'static str {
    match name {
        "HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS" => "false",
        "HASURA_GRAPHQL_UNAUTHORIZED_ROLE" => "anonymous",
        "HASURA_GRAPHQL_EXPERIMENTAL_FEATURES" => {
            "naming_convention,streaming_subscriptions,apollo_federation"
        }
        "HASURA_GRAPHQL_DEFAULT_NAMING_CONVENTION" => "graphql-default",
        "HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE" => "100",
        "HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE" => "8",
        "EVENT_WEBHOOK_HEADER" => "MyEnvValue",
        _ => "true",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn class(markers: &[&str]) -> ClassInfo {
        ClassInfo {
            name: "TestX".into(),
            folder: Some("x".into()),
            markers: markers.iter().map(|m| m.to_string()).collect(),
            transports: vec!["http".into()],
        }
    }

    fn files(list: &[&str]) -> FixtureFiles {
        let has = |n: &str| list.contains(&n);
        FixtureFiles {
            setup: has("setup"),
            teardown: has("teardown"),
            schema_setup: has("schema_setup"),
            schema_teardown: has("schema_teardown"),
            values_setup: has("values_setup"),
            values_teardown: has("values_teardown"),
        }
    }

    fn names(calls: &[FixtureCall]) -> Vec<String> {
        calls
            .iter()
            .map(|c| format!("{} {}", c.file, c.url))
            .collect()
    }

    #[test]
    fn per_class_from_marker() {
        let plan = plan(
            &files(&["setup", "teardown"]),
            Some(&class(&["per_class_tests_db_state"])),
        );
        assert_eq!(plan.lifecycle, Lifecycle::PerClass);
        assert_eq!(names(&plan.once_before), vec!["setup.yaml /v1/query"]);
        assert_eq!(names(&plan.once_after), vec!["teardown.yaml /v1/query"]);
        assert!(plan.before_each.is_empty() && plan.after_each.is_empty());
        assert_eq!(plan.style_name(), "per-class");
    }

    #[test]
    fn per_method_from_marker() {
        let plan = plan(
            &files(&["setup", "teardown"]),
            Some(&class(&["per_method_tests_db_state", "admin_secret"])),
        );
        assert_eq!(plan.lifecycle, Lifecycle::PerMethod);
        assert_eq!(names(&plan.before_each), vec!["setup.yaml /v1/query"]);
        assert_eq!(names(&plan.after_each), vec!["teardown.yaml /v1/query"]);
        assert!(plan.once_before.is_empty());
    }

    #[test]
    fn mutation_from_marker_or_files() {
        let all = files(&[
            "schema_setup",
            "schema_teardown",
            "values_setup",
            "values_teardown",
        ]);
        for class_info in [Some(class(&["use_mutation_fixtures"])), None] {
            let plan = plan(&all, class_info.as_ref());
            assert_eq!(plan.lifecycle, Lifecycle::Mutation);
            assert_eq!(
                names(&plan.once_before),
                vec!["schema_setup.yaml /v1/query"]
            );
            assert_eq!(
                names(&plan.before_each),
                vec!["values_setup.yaml /v1/query"]
            );
            assert_eq!(
                names(&plan.after_each),
                vec!["values_teardown.yaml /v1/query"]
            );
            assert_eq!(
                names(&plan.once_after),
                vec!["schema_teardown.yaml /v1/query"]
            );
        }
    }

    #[test]
    fn v2_style_when_schema_setup_and_setup() {
        let plan = plan(
            &files(&["schema_setup", "schema_teardown", "setup", "teardown"]),
            Some(&class(&["per_class_tests_db_state"])),
        );
        assert!(plan.v2);
        assert_eq!(
            names(&plan.once_before),
            vec!["schema_setup.yaml /v2/query", "setup.yaml /v1/metadata"]
        );
        assert_eq!(
            names(&plan.once_after),
            vec![
                "teardown.yaml /v1/metadata",
                "schema_teardown.yaml /v2/query"
            ]
        );
        assert_eq!(plan.style_name(), "per-class+v2");
        let by_files = plan_without_class(&["schema_setup", "setup"]);
        assert_eq!(by_files.lifecycle, Lifecycle::PerClass);
        assert!(by_files.v2);
    }

    fn plan_without_class(list: &[&str]) -> FixturePlan {
        plan(&files(list), None)
    }

    #[test]
    fn file_fallbacks() {
        assert_eq!(
            plan_without_class(&["setup", "teardown"]).lifecycle,
            Lifecycle::PerClass
        );
        assert_eq!(plan_without_class(&[]).lifecycle, Lifecycle::PerClass);
        assert!(plan_without_class(&[]).once_before.is_empty());
        assert_eq!(
            plan_without_class(&["schema_setup", "values_teardown"]).lifecycle,
            Lifecycle::Mutation
        );
        // A class without fixture markers falls back on files too.
        let plan = plan(&files(&["setup"]), Some(&class(&["env X"])));
        assert_eq!(plan.lifecycle, Lifecycle::PerClass);
    }
}
