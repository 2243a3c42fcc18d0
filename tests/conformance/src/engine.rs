//! One graft process per folder: started on a free port against the folder's database, waited
//! for on `/healthz`, logged to a file, and stopped with SIGTERM (SIGKILL after 5 s).

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Errors around the engine process.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("graft binary not found at {0}: build it with cargo build --release -p graft")]
    MissingBinary(String),
    #[error("cannot open the log file {path}: {source}")]
    Log {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start {bin}: {source}")]
    Spawn { bin: String, source: std::io::Error },
    #[error("no free TCP port: {0}")]
    Port(std::io::Error),
    #[error("graft exited before it was healthy ({status}); log tail:\n{log_tail}")]
    Exited { status: String, log_tail: String },
    #[error("graft was not healthy after {seconds} s; log tail:\n{log_tail}")]
    Timeout { seconds: u64, log_tail: String },
}

/// How to start one engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub bin: PathBuf,
    pub database_url: String,
    pub admin_secret: Option<String>,
    pub env: Vec<(String, String)>,
    pub log_path: PathBuf,
}

/// A running engine, and the action handler beside it.
pub struct Engine {
    child: Child,
    pub base_url: String,
    log_path: PathBuf,
    _action_handler: crate::action_handler::ActionHandler,
    /// Records the engine's event-trigger calls.
    pub event_webhook: crate::event_webhook::EventWebhook,
}

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16, EngineError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(EngineError::Port)?;
    let port = listener.local_addr().map_err(EngineError::Port)?.port();
    Ok(port)
}

/// The default graft binary: `graft` next to the runner's own executable.
pub fn default_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join("graft"))
}

impl Engine {
    pub async fn start(config: &EngineConfig) -> Result<Engine, EngineError> {
        if !config.bin.is_file() {
            return Err(EngineError::MissingBinary(config.bin.display().to_string()));
        }
        let log_error = |source| EngineError::Log {
            path: config.log_path.display().to_string(),
            source,
        };
        if let Some(parent) = config.log_path.parent() {
            std::fs::create_dir_all(parent).map_err(log_error)?;
        }
        let log = std::fs::File::create(&config.log_path).map_err(log_error)?;
        let log_err = log.try_clone().map_err(log_error)?;
        let port = free_port()?;
        let mut command = Command::new(&config.bin);
        command
            .arg("serve")
            .arg("--database-url")
            .arg(&config.database_url)
            .arg("--server-port")
            .arg(port.to_string())
            .arg("--stringify-numeric-types");
        if let Some(secret) = &config.admin_secret {
            command.arg("--admin-secret").arg(secret);
        }
        let base_url = format!("http://127.0.0.1:{port}");
        let action_handler =
            crate::action_handler::start(base_url.clone(), config.admin_secret.clone())
                .await
                .map_err(EngineError::Port)?;
        command.env("ACTION_WEBHOOK_HANDLER", &action_handler.url);
        let event_webhook = crate::event_webhook::start()
            .await
            .map_err(EngineError::Port)?;
        command.env("EVENT_WEBHOOK_HANDLER", &event_webhook.url);
        // The remote-schema servers do not exist yet: their URL leads to a port nobody listens on.
        command.env(
            "REMOTE_SCHEMAS_WEBHOOK_DOMAIN",
            format!("http://127.0.0.1:{}", free_port()?),
        );
        command
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| EngineError::Spawn {
            bin: config.bin.display().to_string(),
            source,
        })?;
        Ok(Engine {
            child,
            base_url,
            log_path: config.log_path.clone(),
            _action_handler: action_handler,
            event_webhook,
        })
    }

    /// Polls `GET /healthz` until it answers 200, the process exits, or `timeout` passes.
    pub async fn wait_healthy(&mut self, timeout: Duration) -> Result<(), EngineError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .ok();
        let url = format!("{}/healthz", self.base_url);
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(EngineError::Exited {
                    status: status.to_string(),
                    log_tail: log_tail(&self.log_path, 20),
                });
            }
            if let Some(client) = &client
                && let Ok(response) = client.get(&url).send().await
                && response.status().as_u16() == 200
            {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(EngineError::Timeout {
                    seconds: timeout.as_secs(),
                    log_tail: log_tail(&self.log_path, 20),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then SIGKILL after 5 s. Returns a note when the process had to be killed.
    pub async fn stop(mut self) -> Option<String> {
        if let Ok(Some(_)) = self.child.try_wait() {
            return Some("graft had already exited".to_string());
        }
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        match tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
            Ok(_) => None,
            Err(_) => {
                let _ = self.child.kill().await;
                Some("graft ignored SIGTERM for 5 s and was killed".to_string())
            }
        }
    }
}

/// The last `lines` lines of a log file.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The log file of a folder: `<dir>/<folder with / replaced by __>.log`.
pub fn log_path_for(dir: &Path, folder: &str) -> PathBuf {
    let name = if folder.is_empty() { "root" } else { folder };
    dir.join(format!("{}.log", name.replace('/', "__")))
}

/// A random secret for admin-secret mode, from the standard library's random hasher keys.
pub fn random_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for round in 0..2u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(round);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn log_paths_and_tails() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path_for(dir.path(), "v1/select/basic");
        assert!(path.ends_with("v1__select__basic.log"));
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(log_tail(&path, 2), "b\nc");
        assert_eq!(log_tail(&dir.path().join("none"), 2), "");
    }

    #[test]
    fn secrets_differ() {
        let a = random_secret();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_secret());
    }

    #[tokio::test]
    async fn missing_binary_has_a_clear_error() {
        let config = EngineConfig {
            bin: PathBuf::from("/nonexistent/graft"),
            database_url: String::new(),
            admin_secret: None,
            env: Vec::new(),
            log_path: PathBuf::from("/tmp/unused.log"),
        };
        let err = Engine::start(&config).await.err().unwrap();
        assert!(err.to_string().contains("cargo build --release -p graft"));
    }
}
