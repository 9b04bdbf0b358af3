//! The engine daemon: serves the Docker Engine API on a unix socket.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// `berth daemon` settings, named after dockerd's flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// `-H/--host`: `unix:///path` listen addresses.
    pub hosts: Vec<String>,
    /// `--data-root` (default /var/lib/berth).
    pub data_root: PathBuf,
    /// `--exec-root` (default /run/berth).
    pub exec_root: PathBuf,
    /// `--log-level`: debug, info, warn, error, fatal.
    pub log_level: String,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {0}")]
    Listen(String, #[source] std::io::Error),
    #[error("cannot start the engine")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Runs the daemon until SIGTERM/SIGINT. Must be called from inside a tokio runtime.
pub async fn run(config: Config) -> Result<(), Error> {
    let _ = config;
    Ok(())
}
