//! The engine's record of a container (`containers/<id>/record.json`), written atomically.

use std::fs;
use std::io::Write;
use std::path::Path;

use berth_api::types::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};

use crate::time;

/// Docker's container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, never started (or reset).
    #[default]
    Created,
    /// Its process runs.
    Running,
    /// Frozen.
    Paused,
    /// Waiting to be restarted by its restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Its process ended.
    Exited,
    /// Could not be cleaned up.
    Dead,
}

impl Status {
    /// The lowercase name docker prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

/// `State` of a container, persisted and shown by inspect.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct State {
    /// Current status.
    pub status: Status,
    /// Pid of the container's init on the host (0 when not running).
    pub pid: i32,
    /// Exit code of the last run.
    pub exit_code: i32,
    /// Killed by the OOM killer in its last run.
    pub oom_killed: bool,
    /// Why the last start failed.
    pub error: String,
    /// RFC3339Nano of the last start, or Go's zero time.
    pub started_at: String,
    /// RFC3339Nano of the last exit, or Go's zero time.
    pub finished_at: String,
}

impl State {
    /// Whether a process is alive (running or paused).
    pub fn is_running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Paused)
    }
}

/// Everything the engine knows about one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// 64 hex chars.
    pub id: String,
    /// Without the leading slash.
    pub name: String,
    /// RFC3339Nano creation time.
    pub created: String,
    /// Image ID (`sha256:…`).
    pub image_id: String,
    /// The merged config (image defaults + request); `Image` is what the user typed.
    pub config: ContainerConfig,
    /// The host config as requested.
    pub host_config: HostConfig,
    /// Current state.
    pub state: State,
    /// Number of restarts done by the restart policy.
    pub restart_count: u64,
    /// Overlay lower dirs, for `GraphDriver`.
    pub lower_dir: String,
    /// Executables run by `exec` that are still known.
    #[serde(default)]
    pub exec_ids: Vec<String>,
    /// Runtime backend: `libcontainer` or `runc`.
    #[serde(default)]
    pub runtime: String,
}

impl ContainerRecord {
    /// The process and arguments that run: Entrypoint + Cmd.
    pub fn command_line(&self) -> Vec<String> {
        let mut argv = self.config.entrypoint.clone().unwrap_or_default();
        argv.extend(self.config.cmd.clone().unwrap_or_default());
        argv
    }

    /// Reads a record.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let bytes = fs::read(path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// Writes the record atomically to `<dir>/record.json`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&dir.join("record.json"), &bytes)
    }

    /// A fresh state for a new container.
    pub fn new_state() -> State {
        State {
            started_at: time::ZERO.into(),
            finished_at: time::ZERO.into(),
            ..State::default()
        }
    }
}

/// Writes a file atomically: temp file in the same dir, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}
