//! The checked-in list of cases known to fail, each with its reason, so that a regression shows
//! up as a new failure. Format: one `case_path<TAB>reason` per line, `#` comments allowed.

use crate::report::{CaseResult, CaseStatus};
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap};

/// Errors while reading the list.
#[derive(Debug, thiserror::Error)]
pub enum KnownFailuresError {
    #[error("known failures line {line}: empty case path")]
    EmptyPath { line: usize },
}

/// Case path → reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    pub entries: IndexMap<String, String>,
}

impl KnownFailures {
    pub fn parse(text: &str) -> Result<KnownFailures, KnownFailuresError> {
        let mut entries = IndexMap::new();
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (path, reason) = match line.split_once('\t') {
                Some((path, reason)) => (path.trim(), reason.trim()),
                None => (trimmed, ""),
            };
            if path.is_empty() {
                return Err(KnownFailuresError::EmptyPath { line: index + 1 });
            }
            entries.insert(path.to_string(), reason.to_string());
        }
        Ok(KnownFailures { entries })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }
}

/// How the results stand against the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Failed and not in the list (or every failure when there is no list).
    pub new_failures: Vec<String>,
    /// In the list but passed in this run.
    pub now_passing: Vec<String>,
}

impl Verdict {
    pub fn exit_code(&self) -> i32 {
        if self.new_failures.is_empty() { 0 } else { 1 }
    }
}

/// Compares results with the list (none = every failure is new).
pub fn judge(results: &[CaseResult], known: Option<&KnownFailures>) -> Verdict {
    let mut verdict = Verdict::default();
    for result in results {
        let listed = known.is_some_and(|k| k.contains(&result.path));
        match result.status {
            CaseStatus::Fail if !listed => verdict.new_failures.push(result.path.clone()),
            CaseStatus::Pass if listed => verdict.now_passing.push(result.path.clone()),
            _ => {}
        }
    }
    verdict
}

/// The rewritten list: entries still failing keep their reason, entries now passing go, new
/// failures come in with `TODO: <first line of the failure>`; entries for cases that did not
/// run stay. Sorted by path.
pub fn updated(results: &[CaseResult], known: Option<&KnownFailures>) -> String {
    let by_path: HashMap<&str, &CaseResult> =
        results.iter().map(|r| (r.path.as_str(), r)).collect();
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    if let Some(known) = known {
        for (path, reason) in &known.entries {
            let keep = match by_path.get(path.as_str()) {
                Some(result) => result.status != CaseStatus::Pass,
                None => true,
            };
            if keep {
                entries.insert(path.clone(), reason.clone());
            }
        }
    }
    for result in results {
        if result.status == CaseStatus::Fail && !entries.contains_key(&result.path) {
            let first_line = result.reason.lines().next().unwrap_or_default();
            let first_line = first_line.replace('\t', " ");
            entries.insert(result.path.clone(), format!("TODO: {first_line}"));
        }
    }
    let mut text = String::from(
        "# Conformance cases known to fail: case_path<TAB>reason (see tests/conformance).\n",
    );
    for (path, reason) in entries {
        text.push_str(&format!("{path}\t{reason}\n"));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn result(path: &str, status: CaseStatus, reason: &str) -> CaseResult {
        CaseResult {
            path: path.into(),
            transport: crate::transport::Transport::Http,
            folder: "f".into(),
            status,
            reason: reason.into(),
            warnings: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn parses_entries_and_comments() {
        let known =
            KnownFailures::parse("# header\n\na/b.yaml\tneeds postgis\nc/d.yaml\n").unwrap();
        assert_eq!(known.entries.len(), 2);
        assert_eq!(known.entries["a/b.yaml"], "needs postgis");
        assert_eq!(known.entries["c/d.yaml"], "");
        assert!(KnownFailures::parse("\treason\n").is_err());
    }

    #[test]
    fn exit_code_only_for_unlisted_failures() {
        let results = vec![
            result("a.yaml", CaseStatus::Fail, "x"),
            result("b.yaml", CaseStatus::Pass, ""),
            result("c.yaml", CaseStatus::NotRunnable, "no url"),
        ];
        assert_eq!(judge(&results, None).exit_code(), 1);
        let known = KnownFailures::parse("a.yaml\tknown\nb.yaml\tfixed now\n").unwrap();
        let verdict = judge(&results, Some(&known));
        assert_eq!(verdict.exit_code(), 0);
        assert_eq!(verdict.now_passing, vec!["b.yaml"]);
        let only_b = KnownFailures::parse("b.yaml\tx\n").unwrap();
        let verdict = judge(&results, Some(&only_b));
        assert_eq!(verdict.new_failures, vec!["a.yaml"]);
        assert_eq!(verdict.exit_code(), 1);
    }

    #[test]
    fn update_keeps_drops_and_adds() {
        let results = vec![
            result(
                "z.yaml",
                CaseStatus::Fail,
                "step 1: status expected 200, got 400\nmore",
            ),
            result("a.yaml", CaseStatus::Fail, "new reason"),
            result("b.yaml", CaseStatus::Pass, ""),
        ];
        let known =
            KnownFailures::parse("a.yaml\tkept reason\nb.yaml\tgone\nnot_run.yaml\tstays\n")
                .unwrap();
        let text = updated(&results, Some(&known));
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            vec![
                "a.yaml\tkept reason",
                "not_run.yaml\tstays",
                "z.yaml\tTODO: step 1: status expected 200, got 400",
            ]
        );
        let reparsed = KnownFailures::parse(&text).unwrap();
        assert_eq!(reparsed.entries.len(), 3);
    }
}
