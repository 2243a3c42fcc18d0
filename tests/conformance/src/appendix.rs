//! The pytest class map of `HARNESS.md` (Appendix A): for each class its data folder, its
//! fixtures/markers and its transports. The runner reads it to pick a folder's fixture
//! life-cycle, admin-secret mode and engine environment the way the original classes did.

use std::collections::HashMap;

/// One row of an Appendix-A table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassInfo {
    pub name: String,
    /// Folder under `queries/` without a trailing slash; `None` when the class has no `dir()`.
    pub folder: Option<String>,
    /// Cells of "fixtures / markers", e.g. `per_class_tests_db_state`, `admin_secret`,
    /// `env HASURA_GRAPHQL_UNAUTHORIZED_ROLE`, `hge_env(NAME, value)`.
    pub markers: Vec<String>,
    pub transports: Vec<String>,
}

impl ClassInfo {
    pub fn has_marker(&self, marker: &str) -> bool {
        self.markers.iter().any(|m| m == marker)
    }

    /// Engine environment requested by `env NAME` and `hge_env(NAME, value)` markers, with the
    /// value when the marker gives one.
    pub fn env_markers(&self) -> Vec<(String, Option<String>)> {
        let mut env = Vec::new();
        for marker in &self.markers {
            if let Some(name) = marker.strip_prefix("env ") {
                env.push((name.trim().to_string(), None));
            } else if let Some(inner) = marker
                .strip_prefix("hge_env(")
                .and_then(|rest| rest.strip_suffix(')'))
            {
                let mut parts = inner.splitn(2, ',');
                let name = parts.next().unwrap_or_default().trim();
                let value = parts.next().map(|v| unquote(v.trim()).to_string());
                env.push((unquote(name).to_string(), value));
            }
        }
        env
    }
}

fn unquote(text: &str) -> &str {
    text.trim_matches(|c| c == '\'' || c == '"')
}

/// Parses every markdown table whose header has a `class` and a `folder` column. Markers are
/// split on commas outside parentheses, so `hge_env(A, b)` stays one marker. Later rows for the
/// same class do not replace earlier ones.
pub fn parse_class_tables(markdown: &str) -> HashMap<String, ClassInfo> {
    let mut classes = HashMap::new();
    // `None` outside tables; `Some(None)` inside a table that is not a class table.
    let mut table: Option<Option<TableColumns>> = None;
    for line in markdown.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            table = None;
            continue;
        }
        let cells = split_row(line);
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
        {
            continue;
        }
        match &table {
            None => table = Some(TableColumns::from_header(&cells)),
            Some(None) => {}
            Some(Some(columns)) => {
                if let Some(info) = columns.row(&cells) {
                    classes.entry(info.name.clone()).or_insert(info);
                }
            }
        }
    }
    classes
}

struct TableColumns {
    class: usize,
    folder: usize,
    markers: Option<usize>,
    transports: Option<usize>,
}

impl TableColumns {
    fn from_header(cells: &[String]) -> Option<Self> {
        let find = |pred: &dyn Fn(&str) -> bool| {
            cells
                .iter()
                .position(|c| pred(c.to_ascii_lowercase().as_str()))
        };
        Some(TableColumns {
            class: find(&|c| c == "class")?,
            folder: find(&|c| c.starts_with("folder"))?,
            markers: find(&|c| c.contains("marker") || c.contains("fixture")),
            transports: find(&|c| c.starts_with("transport")),
        })
    }

    fn row(&self, cells: &[String]) -> Option<ClassInfo> {
        let name = cells.get(self.class)?.trim_matches('`').to_string();
        if name.is_empty() {
            return None;
        }
        let folder = cells.get(self.folder).and_then(|f| normalize_folder(f));
        let markers = self
            .markers
            .and_then(|i| cells.get(i))
            .map(|m| split_markers(m))
            .unwrap_or_default();
        let transports = self
            .transports
            .and_then(|i| cells.get(i))
            .map(|t| {
                t.split(',')
                    .map(|p| p.split('(').next().unwrap_or_default().trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Some(ClassInfo {
            name,
            folder,
            markers,
            transports,
        })
    }
}

fn normalize_folder(cell: &str) -> Option<String> {
    let folder = cell.trim().trim_matches('`').trim();
    if folder.is_empty() || folder == "—" || folder == "-" {
        return None;
    }
    let folder = folder
        .strip_prefix("server/tests-py/")
        .unwrap_or(folder)
        .trim_start_matches("./");
    let folder = folder.strip_prefix("queries/").unwrap_or(folder);
    Some(folder.trim_end_matches('/').to_string())
}

fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn split_markers(cell: &str) -> Vec<String> {
    let mut markers = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for ch in cell.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if ch == ',' && depth == 0 {
            markers.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    markers.push(current);
    markers
        .into_iter()
        .map(|m| m.trim().trim_matches('`').trim().to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
## Appendix A — pytest class → folder map

**test_v1_queries.py**

| class | folder (`dir()`) under server/tests-py/ | backends | fixtures / markers | transports | tests |
|---|---|---|---|---|---|
| TestDropNoColsTable | — | postgres |  | http | 1 |
| TestV1SelectBasic | queries/v1/select/basic | postgres | per_class_tests_db_state | http | 8 |
| TestGraphQLQueryFunctionPermissions | queries/graphql_query/functions/permissions/ | postgres | per_method_tests_db_state, admin_secret, env HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS | http,websocket | 3 |
| TestX | queries/x | postgres | hge_env(HASURA_GRAPHQL_UNAUTHORIZED_ROLE, 'anonymous'), admin_secret | http,websocket (per method) | 1 |

Some text.

| other | table |
|---|---|
| class | folder |
| TestNot | queries/not |
";

    #[test]
    fn parses_classes_folders_and_markers() {
        let classes = parse_class_tables(SAMPLE);
        assert_eq!(classes.len(), 4);
        assert_eq!(classes["TestDropNoColsTable"].folder, None);
        assert!(classes["TestDropNoColsTable"].markers.is_empty());
        let basic = &classes["TestV1SelectBasic"];
        assert_eq!(basic.folder.as_deref(), Some("v1/select/basic"));
        assert!(basic.has_marker("per_class_tests_db_state"));
        let functions = &classes["TestGraphQLQueryFunctionPermissions"];
        assert_eq!(
            functions.folder.as_deref(),
            Some("graphql_query/functions/permissions")
        );
        assert!(functions.has_marker("admin_secret"));
        assert_eq!(
            functions.env_markers(),
            vec![(
                "HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS".to_string(),
                None
            )]
        );
        assert_eq!(functions.transports, vec!["http", "websocket"]);
        let x = &classes["TestX"];
        assert_eq!(
            x.env_markers(),
            vec![(
                "HASURA_GRAPHQL_UNAUTHORIZED_ROLE".to_string(),
                Some("anonymous".to_string())
            )]
        );
        assert_eq!(x.transports, vec!["http", "websocket"]);
    }

    #[test]
    fn no_tables_means_no_classes() {
        assert!(parse_class_tables("# nothing here\n").is_empty());
    }
}
