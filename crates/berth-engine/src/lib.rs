//! The engine: containers (records, state machine, lifecycle), exec, logs, events and
//! images, tied together for the daemon's HTTP handlers. Containers run under a
//! per-container `berth shim` process (see docs/architecture.md), so they outlive the
//! daemon; `Engine::open` reconnects to the shims of running containers.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod attach;
pub mod container;
pub mod error;
pub mod events;
pub mod exec;
pub mod hostconfig;
pub mod inspect;
pub mod logs;
pub mod names;
pub mod record;
pub mod shim;
mod spec;
pub mod system;
pub mod time;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use berth_image::ImageStore;
use tokio::sync::watch;

pub use crate::error::{EngineError, Result};
use crate::events::{Event, EventBus};
use crate::record::ContainerRecord;

/// Where the engine keeps things, and which binary runs shims.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `--data-root` (default /var/lib/berth).
    pub data_root: PathBuf,
    /// `--exec-root` (default /run/berth).
    pub exec_root: PathBuf,
    /// The berth binary, spawned as `berth shim`.
    pub exe: PathBuf,
    /// Default runtime backend: `libcontainer` or `runc`.
    pub default_runtime: String,
}

/// A snapshot of what waiters watch: status, the last exit code, and counters.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Whether a process is alive.
    pub running: bool,
    /// Exit code of the last run.
    pub exit_code: i32,
    /// Number of exits seen since the daemon started.
    pub exits: u64,
    /// The container is gone.
    pub removed: bool,
}

/// One container known to the engine.
pub struct Container {
    /// Full ID.
    pub id: String,
    record: Mutex<ContainerRecord>,
    /// Serialises lifecycle operations (start, stop, remove, …) on this container.
    op: tokio::sync::Mutex<()>,
    watch: watch::Sender<Watch>,
    /// Attach requests made before start, connected between create and start.
    pending_attach: Mutex<Vec<attach::Pending>>,
}

impl Container {
    fn new(record: ContainerRecord) -> Arc<Self> {
        let snapshot = Watch {
            running: record.state.is_running(),
            exit_code: record.state.exit_code,
            exits: 0,
            removed: false,
        };
        Arc::new(Self {
            id: record.id.clone(),
            record: Mutex::new(record),
            op: tokio::sync::Mutex::new(()),
            watch: watch::channel(snapshot).0,
            pending_attach: Mutex::new(Vec::new()),
        })
    }

    /// A copy of the record.
    pub fn record(&self) -> ContainerRecord {
        self.record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the record under its lock and returns what the closure returned.
    fn update<T>(&self, f: impl FnOnce(&mut ContainerRecord) -> T) -> T {
        let mut rec = self.record.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rec)
    }

    /// Subscribes to state changes.
    pub fn subscribe(&self) -> watch::Receiver<Watch> {
        self.watch.subscribe()
    }
}

/// The engine.
pub struct Engine {
    config: EngineConfig,
    /// The image store.
    pub images: ImageStore,
    containers: RwLock<BTreeMap<String, Arc<Container>>>,
    execs: Mutex<HashMap<String, Arc<exec::Exec>>>,
    /// Events for `GET /events`.
    pub events: EventBus,
    /// Serialises name reservation (create, rename).
    names: Mutex<()>,
}

impl Engine {
    /// Opens the data root, loads container records and reconnects to running containers.
    pub async fn open(config: EngineConfig) -> Result<Arc<Self>> {
        for dir in [
            config.data_root.join("containers"),
            config.exec_root.join("shims"),
        ] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| EngineError::system(&format!("cannot create {}", dir.display()), e))?;
        }
        let version = config.data_root.join("version");
        if !version.exists() {
            record::write_atomic(&version, b"1\n")
                .map_err(|e| EngineError::system("cannot write the layout version", e))?;
        }
        let images = ImageStore::open(&config.data_root)?;
        let engine = Arc::new(Self {
            config,
            images,
            containers: RwLock::new(BTreeMap::new()),
            execs: Mutex::new(HashMap::new()),
            events: EventBus::new(),
            names: Mutex::new(()),
        });
        engine.restore().await;
        Ok(engine)
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// `containers/<id>` in the data root.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.config.data_root.join("containers").join(id)
    }

    /// `shims/<id>` in the exec root.
    pub fn shim_dir(&self, id: &str) -> PathBuf {
        self.config.exec_root.join("shims").join(id)
    }

    /// The json-file log of a container.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.container_dir(id).join(format!("{id}-json.log"))
    }

    /// All containers, in ID order.
    pub fn all(&self) -> Vec<Arc<Container>> {
        self.containers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Finds a container by full ID, name (with or without `/`), or unique ID prefix,
    /// in dockerd's order of precedence.
    pub fn find(&self, key: &str) -> Result<Arc<Container>> {
        let map = self.containers.read().unwrap_or_else(|e| e.into_inner());
        if key.is_empty() {
            return Err(EngineError::no_such_container(key));
        }
        if let Some(c) = map.get(key) {
            return Ok(c.clone());
        }
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(c) = map.values().find(|c| c.record().name == name) {
            return Ok(c.clone());
        }
        let mut matches = map.iter().filter(|(id, _)| id.starts_with(key));
        match (matches.next(), matches.next()) {
            (Some((_, c)), None) => Ok(c.clone()),
            (Some(_), Some(_)) => Err(EngineError::Invalid(format!(
                "multiple IDs found with provided prefix: {key}"
            ))),
            _ => Err(EngineError::no_such_container(key)),
        }
    }

    fn insert(&self, c: Arc<Container>) {
        self.containers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), c);
    }

    fn forget(&self, id: &str) {
        self.containers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Publishes a container event with docker's attributes (name, image, labels).
    pub fn container_event(&self, rec: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
        let mut attrs: BTreeMap<String, String> = rec
            .config
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        attrs.insert("name".into(), rec.name.clone());
        attrs.insert("image".into(), rec.config.image.clone());
        for (k, v) in extra {
            attrs.insert((*k).to_string(), v.clone());
        }
        self.events
            .publish(Event::new("container", action, &rec.id, attrs));
    }

    /// Publishes an image event.
    pub fn image_event(&self, id: &str, action: &str, name: &str) {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), name.to_string());
        self.events.publish(Event::new("image", action, id, attrs));
    }

    /// Loads every container record and reconnects to the shims of those that were
    /// running; a shim that is gone left its exit status in `exit.json`.
    async fn restore(self: &Arc<Self>) {
        let dir = self.config.data_root.join("containers");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path().join("record.json");
            let rec = match ContainerRecord::load(&path) {
                Ok(rec) => rec,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping unreadable container record");
                    continue;
                }
            };
            let was_running = rec.state.is_running();
            let c = Container::new(rec);
            self.insert(c.clone());
            if was_running {
                let alive = shim::call(&self.shim_dir(&c.id), serde_json::json!({"op": "state"}))
                    .await
                    .ok();
                match alive {
                    Some(state)
                        if state.get("status").and_then(|s| s.as_str()) != Some("exited") =>
                    {
                        let engine = self.clone();
                        tokio::spawn(async move { engine.monitor(c).await });
                    }
                    _ => {
                        let engine = self.clone();
                        engine.reap_lost(&c).await;
                    }
                }
            }
        }
    }

    /// A container whose shim is gone: its exit status is in `exit.json`.
    async fn reap_lost(self: &Arc<Self>, c: &Arc<Container>) {
        let status = container::read_exit_file(&self.shim_dir(&c.id));
        self.on_exit(c, status).await;
    }
}

/// Reads 32 random bytes from the kernel as 64 hex chars (container and exec IDs).
pub fn random_id() -> String {
    use std::io::Read;
    let mut buf = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut buf);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a path is a mount point (listed in /proc/self/mountinfo).
pub fn is_mounted(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let target = path.to_string_lossy();
    info.lines()
        .any(|l| l.split(' ').nth(4).is_some_and(|m| m == target))
}
