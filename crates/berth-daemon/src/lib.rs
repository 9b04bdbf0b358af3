//! The engine daemon: serves the Docker Engine API on a unix socket.
#![forbid(unsafe_code)]

pub mod handlers;
pub mod http;
pub mod server;

use std::path::PathBuf;
use std::sync::Arc;

use berth_engine::{Engine, EngineConfig};

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
    /// A `-H` value berth can't listen on.
    #[error("unsupported host {0}: only unix:// sockets are supported")]
    Host(String),
    /// Binding the socket failed.
    #[error("cannot listen on {0}")]
    Listen(String, #[source] std::io::Error),
    /// The engine could not start.
    #[error("cannot start the engine: {0}")]
    Engine(String),
}

/// The API handler: parse the route, dispatch to the engine.
struct Api {
    engine: Arc<Engine>,
}

impl server::Handler for Api {
    fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = hyper::Response<http::Body>> + Send>>
    {
        let engine = self.engine.clone();
        Box::pin(async move {
            let parsed =
                berth_api::route::parse(req.method().as_str(), req.uri().path(), req.uri().query());
            match parsed {
                Ok(request) => {
                    let version = request.api_version().to_string();
                    handlers::dispatch(&engine, &version, request.route, req).await
                }
                Err(err) => http::error(err),
            }
        })
    }
}

/// Socket path of a `-H` value.
fn socket_path(host: &str) -> Result<PathBuf, Error> {
    if let Some(p) = host.strip_prefix("unix://") {
        return Ok(PathBuf::from(p));
    }
    if host.starts_with('/') {
        return Ok(PathBuf::from(host));
    }
    Err(Error::Host(host.to_string()))
}

/// Runs the daemon until SIGTERM/SIGINT. Must be called from inside a tokio runtime.
/// Containers keep running when it stops (their shims hold them).
pub async fn run(config: Config) -> Result<(), Error> {
    let exe = std::env::current_exe().map_err(|e| Error::Engine(e.to_string()))?;
    let engine = Engine::open(EngineConfig {
        data_root: config.data_root.clone(),
        exec_root: config.exec_root.clone(),
        exe,
        default_runtime: "libcontainer".into(),
    })
    .await
    .map_err(|e| Error::Engine(e.to_string()))?;
    let hosts = if config.hosts.is_empty() {
        vec!["unix:///run/berth/berth.sock".to_string()]
    } else {
        config.hosts.clone()
    };
    let mut listeners = Vec::new();
    for host in &hosts {
        let path = socket_path(host)?;
        let listener = server::bind_unix(&path).map_err(|e| Error::Listen(host.clone(), e))?;
        listeners.push(listener);
    }
    let _ = std::fs::write(
        config.exec_root.join("berth.pid"),
        format!("{}\n", std::process::id()),
    );
    tracing::info!(hosts = ?hosts, data_root = %config.data_root.display(), "API listen");
    let handler: Arc<dyn server::Handler> = Arc::new(Api { engine });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for listener in listeners {
        let handler = handler.clone();
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            server::serve(listener, handler, async move {
                let _ = stop.changed().await;
            })
            .await
        }));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Engine(e.to_string()))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down; containers keep running");
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    for host in &hosts {
        if let Ok(p) = socket_path(host) {
            let _ = std::fs::remove_file(p);
        }
    }
    let _ = std::fs::remove_file(config.exec_root.join("berth.pid"));
    Ok(())
}
