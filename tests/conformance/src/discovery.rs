//! From the manifest rows to folder plans: which cases run together against one database and
//! one engine, with which fixture life-cycle, admin-secret mode and environment.
//!
//! A case belongs to the folder of its pytest class (Appendix A) when it lives under it;
//! otherwise to the nearest enclosing folder holding fixture files; otherwise to its own
//! folder. A folder takes its settings from the class that covers most of its cases.

use crate::appendix::ClassInfo;
use crate::manifest::{ManifestRow, Selection};
use crate::style::{FixtureFiles, FixturePlan, default_env_value, plan};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One case file to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCase {
    /// Path under `queries/`.
    pub path: String,
    pub file: PathBuf,
    /// The transports its pytest classes list (Appendix A), e.g. `http`, `websocket`.
    pub transports: Vec<String>,
}

/// Everything needed to run one folder.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderPlan {
    /// Folder under `queries/` (empty for files directly in `queries/`).
    pub folder: String,
    pub dir: PathBuf,
    pub fixtures: FixturePlan,
    pub class: Option<ClassInfo>,
    pub admin_secret: bool,
    /// Extra engine environment from the class markers.
    pub env: Vec<(String, String)>,
    pub cases: Vec<PlannedCase>,
}

/// Groups the selected live cases into folder plans, sorted by folder.
pub fn discover(
    queries_dir: &Path,
    rows: &[ManifestRow],
    selection: &Selection,
    classes: &HashMap<String, ClassInfo>,
) -> Vec<FolderPlan> {
    let mut groups: IndexMap<String, Vec<&ManifestRow>> = IndexMap::new();
    for row in rows
        .iter()
        .filter(|r| r.is_live_case() && selection.selects(r))
    {
        let folder = folder_of(queries_dir, row, classes);
        groups.entry(folder).or_default().push(row);
    }
    let mut plans: Vec<FolderPlan> = groups
        .into_iter()
        .map(|(folder, rows)| folder_plan(queries_dir, folder, &rows, classes))
        .collect();
    plans.sort_by(|a, b| a.folder.cmp(&b.folder));
    plans
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("")
}

/// The folder a case runs in.
pub fn folder_of(
    queries_dir: &Path,
    row: &ManifestRow,
    classes: &HashMap<String, ClassInfo>,
) -> String {
    for name in row.class_names() {
        if let Some(folder) = classes.get(name).and_then(|c| c.folder.as_deref())
            && row.path.starts_with(&format!("{folder}/"))
        {
            return folder.to_string();
        }
    }
    let own = parent_of(&row.path);
    let mut dir = own;
    loop {
        if FixtureFiles::in_dir(&queries_dir.join(dir)).any_setup() {
            return dir.to_string();
        }
        if dir.is_empty() {
            return own.to_string();
        }
        dir = parent_of(dir);
    }
}

fn folder_plan(
    queries_dir: &Path,
    folder: String,
    rows: &[&ManifestRow],
    classes: &HashMap<String, ClassInfo>,
) -> FolderPlan {
    let mut votes: IndexMap<&str, usize> = IndexMap::new();
    for row in rows {
        for name in row.class_names() {
            if classes
                .get(name)
                .is_some_and(|c| c.folder.as_deref() == Some(folder.as_str()))
            {
                *votes.entry(name).or_default() += 1;
            }
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (name, count) in votes {
        if best.is_none_or(|(_, best_count)| count > best_count) {
            best = Some((name, count));
        }
    }
    let class = best.and_then(|(name, _)| classes.get(name)).cloned();
    let mut folder_plan = settings_plan(queries_dir, folder, class);
    folder_plan.cases = rows
        .iter()
        .map(|row| {
            let mut transports: Vec<String> = Vec::new();
            for name in row.class_names() {
                for transport in classes
                    .get(name)
                    .map(|c| &c.transports)
                    .into_iter()
                    .flatten()
                {
                    if !transports.contains(transport) {
                        transports.push(transport.clone());
                    }
                }
            }
            PlannedCase {
                path: row.path.clone(),
                file: queries_dir.join(&row.path),
                transports,
            }
        })
        .collect();
    folder_plan
}

/// A folder's plan without cases: fixtures, admin secret and environment from `class`.
fn settings_plan(queries_dir: &Path, folder: String, class: Option<ClassInfo>) -> FolderPlan {
    let dir = queries_dir.join(&folder);
    let fixtures = plan(&FixtureFiles::in_dir(&dir), class.as_ref());
    let admin_secret = class.as_ref().is_some_and(|c| c.has_marker("admin_secret"));
    let env = class
        .as_ref()
        .map(|c| {
            c.env_markers()
                .into_iter()
                .map(|(name, value)| {
                    let value = value.unwrap_or_else(|| default_env_value(&name).to_string());
                    (name, value)
                })
                .collect()
        })
        .unwrap_or_default();
    FolderPlan {
        folder,
        dir,
        fixtures,
        class,
        admin_secret,
        env,
        cases: Vec::new(),
    }
}

/// Plans for `folders` that hold no case file, only fixtures for tests written in Python (see
/// [`crate::scenarios::PYTHON_ONLY_FOLDERS`]): those with a selected manifest row and no plan
/// yet, with the settings of the class whose folder it is. Returned sorted by folder.
pub fn python_only_plans(
    queries_dir: &Path,
    folders: &[&str],
    rows: &[ManifestRow],
    selection: &Selection,
    classes: &HashMap<String, ClassInfo>,
    existing: &[FolderPlan],
) -> Vec<FolderPlan> {
    folders
        .iter()
        .filter(|folder| !existing.iter().any(|p| p.folder == **folder))
        .filter(|folder| {
            rows.iter()
                .any(|r| r.path.starts_with(&format!("{folder}/")) && selection.selects(r))
        })
        .map(|folder| {
            let class = classes
                .values()
                .filter(|c| c.folder.as_deref() == Some(*folder))
                .min_by(|a, b| a.name.cmp(&b.name))
                .cloned();
            settings_plan(queries_dir, folder.to_string(), class)
        })
        .collect()
}

/// A plan in a few lines, for `--list`: folder, style, class, settings, fixture calls, and
/// each case that cannot run with the reason.
pub fn describe(plan: &FolderPlan) -> String {
    use crate::case_file::{CaseFile, load_case};
    let calls = |calls: &[crate::style::FixtureCall]| {
        calls
            .iter()
            .map(|c| format!("{}→{}", c.file, c.url))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut not_runnable = Vec::new();
    for case in &plan.cases {
        if let CaseFile::NotRunnable(reason) = load_case(&case.file) {
            not_runnable.push(format!("  SKIP  {}: {reason}", case.path));
        }
    }
    let mut text = format!(
        "== {} ({}): {} cases, {} runnable; class {}{}{}\n  once before [{}] each before [{}] each after [{}] once after [{}]\n",
        plan.folder,
        plan.fixtures.style_name(),
        plan.cases.len(),
        plan.cases.len() - not_runnable.len(),
        plan.class.as_ref().map(|c| c.name.as_str()).unwrap_or("-"),
        if plan.admin_secret {
            ", admin secret"
        } else {
            ""
        },
        plan.env
            .iter()
            .map(|(k, v)| format!(", {k}={v}"))
            .collect::<String>(),
        calls(&plan.fixtures.once_before),
        calls(&plan.fixtures.before_each),
        calls(&plan.fixtures.after_each),
        calls(&plan.fixtures.once_after),
    );
    for line in not_runnable {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::appendix::parse_class_tables;
    use crate::manifest::parse_manifest;
    use crate::style::Lifecycle;

    fn touch(root: &Path, path: &str) {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, "type: bulk\nargs: []\n").unwrap();
    }

    #[test]
    fn groups_cases_by_class_folder_and_fixture_files() {
        let tmp = tempfile::tempdir().unwrap();
        let q = tmp.path();
        for f in [
            "relay/basic/setup.yaml",
            "relay/basic/a.yaml",
            "relay/basic/paging/forward/page_1.yaml",
            "mut/schema_setup.yaml",
            "mut/values_setup.yaml",
            "mut/m.yaml",
            "bare/x.yaml",
            "sec/setup.yaml",
            "sec/s.yaml",
        ] {
            touch(q, f);
        }
        let manifest = parse_manifest(
            "path\ttier\tsplit\tkind\tlive_or_dead\trequests\tpytest_classes\n\
relay/basic/setup.yaml\tT1\tpublic\tsetup\tlive\t0\tt::TestRelay\n\
relay/basic/a.yaml\tT1\tpublic\tcase\tlive\t1\tt::TestRelay\n\
relay/basic/paging/forward/page_1.yaml\tT1\tpublic\tcase\tlive\t1\t\n\
mut/m.yaml\tT1\tpublic\tcase\tlive\t1\tt::TestMut\n\
bare/x.yaml\tT2-feature\tpublic\tcase\tlive\t1\t\n\
sec/s.yaml\tT1\tpublic\tcase\tlive\t1\tt::TestOther;t::TestSec\n\
sec/dead.yaml\tT1\tpublic\tcase\tdead\t1\tt::TestSec\n",
        )
        .unwrap();
        let classes = parse_class_tables(
            "| class | folder | backends | fixtures / markers | transports | tests |\n\
|---|---|---|---|---|---|\n\
| TestRelay | queries/relay/basic | postgres | per_class_tests_db_state | http | 1 |\n\
| TestMut | queries/mut | postgres | use_mutation_fixtures | http | 1 |\n\
| TestOther | queries/elsewhere | postgres | per_method_tests_db_state | http | 1 |\n\
| TestSec | queries/sec/ | postgres | per_method_tests_db_state, admin_secret, env HASURA_GRAPHQL_UNAUTHORIZED_ROLE | http,websocket,subscription (per method) | 1 |\n",
        );
        let plans = discover(q, &manifest, &Selection::default(), &classes);
        let folders: Vec<&str> = plans.iter().map(|p| p.folder.as_str()).collect();
        assert_eq!(folders, vec!["bare", "mut", "relay/basic", "sec"]);

        let relay = &plans[2];
        assert_eq!(relay.cases.len(), 2);
        assert_eq!(relay.fixtures.lifecycle, Lifecycle::PerClass);
        assert_eq!(relay.class.as_ref().unwrap().name, "TestRelay");
        assert_eq!(relay.cases[0].transports, vec!["http"]);
        assert!(relay.cases[1].transports.is_empty());

        assert_eq!(plans[1].fixtures.lifecycle, Lifecycle::Mutation);
        assert!(plans[0].fixtures.once_before.is_empty());

        let sec = &plans[3];
        assert_eq!(sec.cases.len(), 1);
        assert_eq!(
            sec.cases[0].transports,
            vec!["http", "websocket", "subscription"]
        );
        assert!(sec.admin_secret);
        assert_eq!(sec.fixtures.lifecycle, Lifecycle::PerMethod);
        assert_eq!(
            sec.env,
            vec![(
                "HASURA_GRAPHQL_UNAUTHORIZED_ROLE".to_string(),
                "anonymous".to_string()
            )]
        );

        let filtered = discover(
            q,
            &manifest,
            &Selection {
                prefixes: vec!["relay".into()],
                tiers: vec![],
            },
            &classes,
        );
        assert_eq!(filtered.len(), 1);
        let extra = python_only_plans(
            q,
            &["relay/basic", "udf"],
            &parse_manifest(
                "path\ttier\tsplit\tkind\tlive_or_dead\trequests\tpytest_classes\n\
udf/setup.yaml\tT2\tpublic\tsetup\tlive\t0\tt::TestUdf\n",
            )
            .unwrap(),
            &Selection::default(),
            &parse_class_tables(
                "| class | folder | backends | fixtures / markers | transports | tests |\n\
|---|---|---|---|---|---|\n\
| TestUdf | queries/udf | postgres | per_class_tests_db_state, admin_secret | http | 1 |\n",
            ),
            &plans,
        );
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].folder, "udf");
        assert!(extra[0].admin_secret);
        assert!(extra[0].cases.is_empty());
        // Without the class table, files decide.
        let plans = discover(q, &manifest, &Selection::default(), &HashMap::new());
        assert_eq!(plans[1].fixtures.lifecycle, Lifecycle::Mutation);
        assert!(!plans[3].admin_secret);
    }
}
