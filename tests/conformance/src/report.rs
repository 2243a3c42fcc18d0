//! Results and their presentation: a table per folder, a summary of all folders, totals per
//! transport when more than one ran, the final `N passed, N failed` line, and the JSON file of
//! every case result.

use crate::transport::Transport;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

/// Errors while writing the JSON report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot serialize the results: {0}")]
    Serialize(#[from] serde_json::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Pass,
    Fail,
    NotRunnable,
}

/// The result of one case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// Path under `queries/`, as in the manifest, with `@<transport>` for every transport but
    /// HTTP (see [`Transport::result_key`]); the key of the known-failures list.
    pub path: String,
    pub transport: Transport,
    pub folder: String,
    pub status: CaseStatus,
    /// Why it failed or was not runnable; empty on pass.
    pub reason: String,
    /// Mismatches forgiven by the error leniency, teardown problems.
    pub warnings: Vec<String>,
    pub duration: Duration,
}

/// The results of one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderResult {
    pub folder: String,
    pub style: String,
    pub cases: Vec<CaseResult>,
    /// Folder-level problems that fail no case (teardown failures, engine shutdown).
    pub notes: Vec<String>,
}

impl FolderResult {
    pub fn count(&self, status: CaseStatus) -> usize {
        self.cases.iter().filter(|c| c.status == status).count()
    }
}

/// The table of one folder.
pub fn folder_table(result: &FolderResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== {} ({}): {} passed, {} failed, {} not runnable",
        result.folder,
        result.style,
        result.count(CaseStatus::Pass),
        result.count(CaseStatus::Fail),
        result.count(CaseStatus::NotRunnable),
    );
    for case in &result.cases {
        let name = case
            .path
            .strip_prefix(&format!("{}/", result.folder))
            .unwrap_or(&case.path);
        match case.status {
            CaseStatus::Fail => {
                let _ = writeln!(out, "  FAIL  {name}: {}", one_line(&case.reason, 300));
            }
            CaseStatus::NotRunnable => {
                let _ = writeln!(
                    out,
                    "  SKIP  {name}: not runnable: {}",
                    one_line(&case.reason, 160)
                );
            }
            CaseStatus::Pass => {}
        }
    }
    for note in &result.notes {
        let _ = writeln!(out, "  NOTE  {}", one_line(note, 300));
    }
    out
}

/// The summary table and, as its very last line, `N passed, N failed`.
pub fn summary(results: &[FolderResult]) -> String {
    let mut sorted: Vec<&FolderResult> = results.iter().collect();
    sorted.sort_by(|a, b| a.folder.cmp(&b.folder));
    let transports: BTreeSet<Transport> = results
        .iter()
        .flat_map(|r| r.cases.iter())
        .filter(|c| c.status != CaseStatus::NotRunnable)
        .map(|c| c.transport)
        .collect();
    let transport_label = |t: Transport| format!("transport {}", t.name());
    let width = sorted
        .iter()
        .map(|r| r.folder.chars().count())
        .chain(
            transports
                .iter()
                .filter(|_| transports.len() > 1)
                .map(|t| transport_label(*t).len()),
        )
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>6}  {:>6}",
        "folder", "passed", "failed", "%"
    );
    let (mut passed, mut failed) = (0usize, 0usize);
    for result in sorted {
        let p = result.count(CaseStatus::Pass);
        let f = result.count(CaseStatus::Fail);
        passed += p;
        failed += f;
        let _ = writeln!(
            out,
            "{:<width$}  {p:>6}  {f:>6}  {:>6}",
            result.folder,
            percent(p, f)
        );
    }
    let _ = writeln!(
        out,
        "{:<width$}  {passed:>6}  {failed:>6}  {:>6}",
        "TOTAL",
        percent(passed, failed)
    );
    if transports.len() > 1 {
        for transport in transports {
            let count = |status| {
                results
                    .iter()
                    .flat_map(|r| r.cases.iter())
                    .filter(|c| c.transport == transport && c.status == status)
                    .count()
            };
            let (p, f) = (count(CaseStatus::Pass), count(CaseStatus::Fail));
            let _ = writeln!(
                out,
                "{:<width$}  {p:>6}  {f:>6}  {:>6}",
                transport_label(transport),
                percent(p, f)
            );
        }
    }
    let _ = write!(out, "{passed} passed, {failed} failed");
    out
}

fn percent(passed: usize, failed: usize) -> String {
    let total = passed + failed;
    if total == 0 {
        "-".to_string()
    } else {
        format!("{:.1}", passed as f64 * 100.0 / total as f64)
    }
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[derive(Serialize)]
struct JsonCase<'a> {
    path: &'a str,
    transport: &'static str,
    folder: &'a str,
    status: CaseStatus,
    reason: &'a str,
    warnings: &'a [String],
    duration_ms: u128,
}

/// Every case result as a JSON array.
pub fn to_json(results: &[FolderResult]) -> Result<String, ReportError> {
    let cases: Vec<JsonCase<'_>> = results
        .iter()
        .flat_map(|folder| folder.cases.iter())
        .map(|case| JsonCase {
            path: &case.path,
            transport: case.transport.name(),
            folder: &case.folder,
            status: case.status,
            reason: &case.reason,
            warnings: &case.warnings,
            duration_ms: case.duration.as_millis(),
        })
        .collect();
    Ok(serde_json::to_string_pretty(&cases)?)
}

pub fn write_json(path: &std::path::Path, results: &[FolderResult]) -> Result<(), ReportError> {
    let text = to_json(results)?;
    std::fs::write(path, text).map_err(|source| ReportError::Write {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn case(path: &str, status: CaseStatus, reason: &str) -> CaseResult {
        CaseResult {
            path: path.into(),
            transport: Transport::Http,
            folder: "v1/select".into(),
            status,
            reason: reason.into(),
            warnings: Vec::new(),
            duration: Duration::from_millis(5),
        }
    }

    fn sample() -> Vec<FolderResult> {
        vec![
            FolderResult {
                folder: "v1/select".into(),
                style: "per-class".into(),
                cases: vec![
                    case("v1/select/a.yaml", CaseStatus::Pass, ""),
                    case(
                        "v1/select/b.yaml",
                        CaseStatus::Fail,
                        "step 1/1: status expected 200, got 400",
                    ),
                    case("v1/select/c.yaml", CaseStatus::NotRunnable, "no url"),
                ],
                notes: vec!["teardown.yaml failed".into()],
            },
            FolderResult {
                folder: "a/first".into(),
                style: "mutation".into(),
                cases: vec![case("a/first/x.yaml", CaseStatus::Pass, "")],
                notes: vec![],
            },
        ]
    }

    #[test]
    fn folder_table_lists_failures_and_skips() {
        let table = folder_table(&sample()[0]);
        assert!(table.starts_with("== v1/select (per-class): 1 passed, 1 failed, 1 not runnable"));
        assert!(table.contains("FAIL  b.yaml: step 1/1: status expected 200, got 400"));
        assert!(table.contains("SKIP  c.yaml"));
        assert!(table.contains("NOTE  teardown.yaml failed"));
    }

    #[test]
    fn summary_ends_with_totals() {
        let text = summary(&sample());
        assert_eq!(text.lines().last().unwrap(), "2 passed, 1 failed");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("a/first"));
        assert!(lines[2].contains("50.0"));
        assert!(!text.contains("transport"));
        let mut two = sample();
        two[1].cases.push(CaseResult {
            path: "a/first/x.yaml@websocket".into(),
            transport: Transport::Websocket,
            ..case("a/first/x.yaml", CaseStatus::Fail, "closed")
        });
        let text = summary(&two);
        assert!(text.contains("transport http"));
        let ws_line = text
            .lines()
            .find(|l| l.starts_with("transport websocket"))
            .unwrap();
        assert_eq!(
            ws_line.split_whitespace().collect::<Vec<_>>(),
            vec!["transport", "websocket", "0", "1", "0.0"]
        );
        assert_eq!(text.lines().last().unwrap(), "2 passed, 2 failed");
    }

    #[test]
    fn json_has_every_case() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&sample()).unwrap()).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 4);
        assert_eq!(json[1]["status"], "fail");
        assert_eq!(json[2]["status"], "not_runnable");
        assert_eq!(json[0]["duration_ms"], 5);
    }
}
