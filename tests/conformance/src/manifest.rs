//! `manifest.tsv`: one row per YAML file of the data set, with its tier, its kind (case or
//! setup), whether the original suite still runs it, and the pytest classes that use it.

use std::path::Path;

/// Errors while reading the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("manifest line {line}: expected at least 5 tab-separated columns, found {found}")]
    Columns { line: usize, found: usize },
}

/// One row of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    /// Path under `queries/`, e.g. `v1/select/basic/select_article.yaml`.
    pub path: String,
    pub tier: String,
    pub kind: String,
    pub live_or_dead: String,
    /// Pytest classes as `module::Class`, in manifest order.
    pub classes: Vec<String>,
}

impl ManifestRow {
    /// A request case that the original suite still runs.
    pub fn is_live_case(&self) -> bool {
        self.kind == "case" && self.live_or_dead == "live"
    }

    /// Class names without their module prefix.
    pub fn class_names(&self) -> impl Iterator<Item = &str> {
        self.classes
            .iter()
            .map(|c| c.rsplit("::").next().unwrap_or(c.as_str()))
    }
}

/// Reads and parses `<data>/manifest.tsv`.
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestRow>, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_manifest(&text)
}

/// Parses the manifest text. The header line (first column starting with `path`), blank lines
/// and `#` comments are skipped. Columns: path, tier, split, kind, live_or_dead, requests,
/// pytest_classes (`;`-separated, may be empty or missing).
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestRow>, ManifestError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        if index == 0 && columns.first().is_some_and(|c| c.starts_with("path")) {
            continue;
        }
        if columns.len() < 5 {
            return Err(ManifestError::Columns {
                line: index + 1,
                found: columns.len(),
            });
        }
        let classes = columns
            .get(6)
            .map(|cell| {
                cell.split([';', ','])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        rows.push(ManifestRow {
            path: columns[0].trim().to_string(),
            tier: columns[1].trim().to_string(),
            kind: columns[3].trim().to_string(),
            live_or_dead: columns[4].trim().to_string(),
            classes,
        });
    }
    Ok(rows)
}

/// Which cases the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Path prefixes under `queries/`; empty = everything.
    pub prefixes: Vec<String>,
    /// Tiers; empty = every tier.
    pub tiers: Vec<String>,
}

impl Selection {
    pub fn selects(&self, row: &ManifestRow) -> bool {
        let prefix_ok = self.prefixes.is_empty()
            || self
                .prefixes
                .iter()
                .any(|p| row.path.starts_with(p.trim_start_matches("queries/")));
        let tier_ok = self.tiers.is_empty() || self.tiers.contains(&row.tier);
        prefix_ok && tier_ok
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = "path_under_server/tests-py/queries\ttier\tsplit\tkind\tlive_or_dead\trequests\tpytest_classes\n\
v1/select/basic/setup.yaml\tT1\tpublic\tsetup\tlive\t0\ttest_v1_queries::TestV1SelectBasic\n\
v1/select/basic/select_article.yaml\tT1\tpublic\tcase\tlive\t1\ttest_v1_queries::TestV1SelectBasic\n\
actions/sync/a.yaml\tT2-helper\tpublic\tcase\tlive\t1\ttest_actions::TestActionsSync;test_actions::TestQueryActions\n\
graphql_query/basic/dead.yaml\tT1\tpublic\tcase\tdead\t1\t\n\
relay/page_1.yaml\tT2-feature\tpublic\tcase\tlive\t1\n";

    #[test]
    fn parses_rows_and_classes() {
        let rows = parse_manifest(SAMPLE).unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[1].path, "v1/select/basic/select_article.yaml");
        assert!(rows[1].is_live_case());
        assert!(!rows[0].is_live_case());
        assert!(!rows[3].is_live_case());
        assert_eq!(
            rows[2].class_names().collect::<Vec<_>>(),
            vec!["TestActionsSync", "TestQueryActions"]
        );
        assert!(rows[3].classes.is_empty());
        assert!(rows[4].classes.is_empty());
    }

    #[test]
    fn rejects_short_lines() {
        let err = parse_manifest("a\tb\n").unwrap_err();
        assert!(matches!(err, ManifestError::Columns { line: 1, found: 2 }));
    }

    #[test]
    fn selection_by_prefix_and_tier() {
        let rows = parse_manifest(SAMPLE).unwrap();
        let select = Selection {
            prefixes: vec!["v1/select".into()],
            tiers: vec![],
        };
        assert!(select.selects(&rows[1]));
        assert!(!select.selects(&rows[2]));
        let tiers = Selection {
            prefixes: vec![],
            tiers: vec!["T2-helper".into(), "T2-feature".into()],
        };
        assert!(!tiers.selects(&rows[1]));
        assert!(tiers.selects(&rows[2]));
        assert!(tiers.selects(&rows[4]));
        assert!(Selection::default().selects(&rows[0]));
    }
}
