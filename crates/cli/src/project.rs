//! The project directory and its `config.yaml` (Hasura CLI config v3):
//!
//! ```yaml
//! version: 3
//! endpoint: http://localhost:8080
//! admin_secret: ...            # optional; flags and HASURA_GRAPHQL_ADMIN_SECRET win
//! metadata_directory: metadata
//! migrations_directory: migrations
//! seeds_directory: seeds
//! actions: {kind: synchronous, handler_webhook_baseurl: http://localhost:3000}
//! ```
//!
//! Keys graft does not use (`api_paths`, `actions.codegen`, ...) are kept as they are.

use crate::metadata_dir::{self, MetadataDirError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "{0} has no config.yaml: run the command inside a project (or pass --project), or create one with `graft init`"
    )]
    NotAProject(PathBuf),
    #[error("could not read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("config.yaml has version {0}; graft supports the Hasura CLI config version 3")]
    Version(u32),
    #[error("{0} already holds a project (config.yaml exists)")]
    AlreadyExists(PathBuf),
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Metadata(#[from] MetadataDirError),
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ProjectConfig {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrations_directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds_directory: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_yaml_ng::Value>,
}

/// The admin secret never appears in debug output.
impl std::fmt::Debug for ProjectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectConfig")
            .field("version", &self.version)
            .field("endpoint", &self.endpoint)
            .field(
                "admin_secret",
                &self.admin_secret.as_ref().map(|_| "<hidden>"),
            )
            .field("metadata_directory", &self.metadata_directory)
            .field("migrations_directory", &self.migrations_directory)
            .field("seeds_directory", &self.seeds_directory)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub config: ProjectConfig,
}

/// What `hasura init` writes.
const INIT_CONFIG: &str = "version: 3
endpoint: http://localhost:8080
metadata_directory: metadata
actions:
  kind: synchronous
  handler_webhook_baseurl: http://localhost:3000
";

impl Project {
    pub fn open(root: &Path) -> Result<Project, ProjectError> {
        let path = root.join("config.yaml");
        if !path.is_file() {
            return Err(ProjectError::NotAProject(root.to_path_buf()));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let config: ProjectConfig =
            serde_yaml_ng::from_str(&text).map_err(|e| ProjectError::Read {
                path: path.clone(),
                message: e.to_string(),
            })?;
        if config.version != 3 {
            return Err(ProjectError::Version(config.version));
        }
        Ok(Project {
            root: root.to_path_buf(),
            config,
        })
    }

    /// `graft init`: config.yaml, an empty metadata directory, `migrations/` and `seeds/`.
    pub fn init(root: &Path, endpoint: Option<&str>) -> Result<Project, ProjectError> {
        let config_path = root.join("config.yaml");
        if config_path.exists() {
            return Err(ProjectError::AlreadyExists(root.to_path_buf()));
        }
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ProjectError::Write { path, source }
        };
        std::fs::create_dir_all(root).map_err(write_err(root))?;
        let config = match endpoint {
            Some(endpoint) => INIT_CONFIG.replace(
                "endpoint: http://localhost:8080",
                &format!("endpoint: {endpoint}"),
            ),
            None => INIT_CONFIG.to_string(),
        };
        let project_files =
            metadata_dir::render(&serde_json::json!({"version": 3, "sources": []}))?;
        metadata_dir::write_dir(&root.join("metadata"), &project_files)?;
        for dir in ["migrations", "seeds"] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path).map_err(write_err(&path))?;
        }
        // Written last: a half-done init is not mistaken for a project.
        std::fs::write(&config_path, config).map_err(write_err(&config_path))?;
        Project::open(root)
    }

    pub fn metadata_dir(&self) -> PathBuf {
        self.dir(self.config.metadata_directory.as_deref(), "metadata")
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.dir(self.config.migrations_directory.as_deref(), "migrations")
    }

    pub fn seeds_dir(&self) -> PathBuf {
        self.dir(self.config.seeds_directory.as_deref(), "seeds")
    }

    fn dir(&self, configured: Option<&str>, default: &str) -> PathBuf {
        self.root.join(configured.unwrap_or(default))
    }
}
