//! The image store on the data root (see docs/architecture.md, "Data root"):
//!
//! ```text
//! content/sha256/<hex>            image configs (image ID = sha256 of the config bytes)
//! layers/<chain-hex>/diff/        unpacked layer (overlay lower dir)
//! layers/<chain-hex>/layer.json   {"diff_id","chain_id","parent","size","short"}
//! l/<short>                       -> ../layers/<chain-hex>/diff
//! images/repositories.json        {"busybox:latest": "sha256:<id>", ...}
//! images/imagedb.json             {"sha256:<id>": {"LastTagTime": …, "Parent": ""}}: the
//!                                 set of images (a config blob alone is not an image:
//!                                 a deleted image still used by containers keeps it)
//! ```
//! Every metadata write is atomic (temp file, fsync, rename, fsync of the directory).
//! The in-memory index sits behind a `Mutex`: the store is `Send + Sync` and its
//! (blocking) methods may be called from several threads at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use berth_api::types::ContainerConfig;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::changes::{apply_changes, ChangeError};
use crate::layer::{apply_layer, hex, LayerError};
use crate::reference::{is_digest, is_full_hex_id, is_lower_hex, Reference, ReferenceError};

/// An image ID, `sha256:<64 hex>`.
pub type ImageId = String;

/// Errors of the image store, by the HTTP status the daemon should answer with.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// 404. The message is dockerd's (`No such image: busybox:latest`).
    #[error("No such image: {0}")]
    NotFound(String),
    /// 409. The full dockerd message (`conflict: unable to delete … (must be forced) - …`).
    #[error("{0}")]
    Conflict(String),
    /// 400. A bad reference, tag, change, filter, platform or layer tar.
    #[error("{0}")]
    InvalidArgument(String),
    /// 500. A filesystem operation on the data root failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// 500. The data root holds something inconsistent.
    #[error("{0}")]
    Internal(String),
}

impl ImageError {
    /// The HTTP status dockerd answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            ImageError::NotFound(_) => 404,
            ImageError::Conflict(_) => 409,
            ImageError::InvalidArgument(_) => 400,
            ImageError::Io { .. } | ImageError::Internal(_) => 500,
        }
    }
}

impl From<ReferenceError> for ImageError {
    fn from(e: ReferenceError) -> Self {
        ImageError::InvalidArgument(e.to_string())
    }
}

impl From<ChangeError> for ImageError {
    fn from(e: ChangeError) -> Self {
        ImageError::InvalidArgument(e.to_string())
    }
}

impl From<LayerError> for ImageError {
    fn from(e: LayerError) -> Self {
        match e {
            LayerError::Io { name, source } => ImageError::Io {
                context: if name.is_empty() {
                    "reading the layer tar".into()
                } else {
                    format!("applying layer entry {name:?}")
                },
                source,
            },
            other => ImageError::InvalidArgument(other.to_string()),
        }
    }
}

fn io_ctx(context: impl Into<String>) -> impl FnOnce(io::Error) -> ImageError {
    let context = context.into();
    move |source| ImageError::Io { context, source }
}

/// `layers/<chain>/layer.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// `sha256:` of the uncompressed layer tar.
    pub diff_id: String,
    /// `sha256:` chain ID (the layer with all its parents).
    pub chain_id: String,
    /// Chain ID of the parent layer, "" for a base layer.
    pub parent: String,
    /// Bytes of regular files in the layer.
    pub size: u64,
    /// Name of its `l/` symlink.
    pub short: String,
}

/// What `import` needs besides the tar (the query of `POST /images/create?fromSrc=-`).
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `repo` (may hold a tag: `busybox:1.36`); `None`/"" imports untagged.
    pub repo: Option<String>,
    /// `tag`, overriding a tag in `repo`.
    pub tag: Option<String>,
    /// `--change` Dockerfile instructions.
    pub changes: Vec<String>,
    /// `--message`: the history comment.
    pub message: String,
    /// `os[/arch[/variant]]`; default `linux/<host arch>`.
    pub platform: Option<String>,
}

/// A container using an image, for [`ImageStore::remove`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUse {
    /// Full container ID.
    pub id: String,
    /// Whether it is running (a running container's image cannot be removed).
    pub running: bool,
}

/// One item of the `DELETE /images/{name}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteItem {
    /// `{"Untagged": "busybox:latest"}`
    Untagged(String),
    /// `{"Deleted": "sha256:…"}` (an image ID or a layer chain ID)
    Deleted(String),
}

/// What [`ImageStore::prepare_rootfs`] set up for a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRootfs {
    /// The overlay `lowerdir=` value (short `l/` links, top layer first).
    pub lowerdir: String,
    /// The container's `GraphDriver.Data` (LowerDir, MergedDir, UpperDir, WorkDir).
    pub graph_driver: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct ImageRecord {
    config: Value,
    created: Option<DateTime<Utc>>,
    diff_ids: Vec<String>,
    chain_ids: Vec<String>,
    parent: String,
    last_tag_time: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImageDbEntry {
    #[serde(default)]
    last_tag_time: Option<String>,
    #[serde(default)]
    parent: String,
}

#[derive(Default)]
struct Index {
    images: BTreeMap<ImageId, ImageRecord>,
    /// Familiar reference (`busybox:latest`, `x@sha256:…`) → image ID.
    repos: BTreeMap<String, ImageId>,
    layers: BTreeMap<String, LayerInfo>,
}

impl Index {
    fn refs_of(&self, id: &str) -> Vec<String> {
        self.repos
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn image_size(&self, rec: &ImageRecord) -> u64 {
        rec.chain_ids
            .iter()
            .filter_map(|c| self.layers.get(c))
            .map(|l| l.size)
            .sum()
    }

    fn children(&self, id: &str) -> Vec<ImageId> {
        self.images
            .iter()
            .filter(|(_, r)| r.parent == id)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// The image store. Cheap to share (`Arc<ImageStore>`); all methods take `&self`.
pub struct ImageStore {
    root: PathBuf,
    index: Mutex<Index>,
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{n}-{nanos:x}", std::process::id())
}

/// Writes `data` to `path` atomically: temp file in the same dir, fsync, rename, fsync
/// of the directory.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", unique()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Go's `time.RFC3339Nano` (trailing zeros of the fraction dropped).
pub(crate) fn rfc3339_nano(t: &DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // "2024-01-01T00:00:00.120000000Z" → "…00.12Z"; ".000000000" disappears.
    match s.rfind('.') {
        Some(dot) => {
            let frac = s[dot + 1..s.len() - 1].trim_end_matches('0');
            if frac.is_empty() {
                format!("{}Z", &s[..dot])
            } else {
                format!("{}.{frac}Z", &s[..dot])
            }
        }
        None => s,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `sha256:` chain ID of `diff_id` on top of `parent`.
pub fn chain_id(parent: Option<&str>, diff_id: &str) -> String {
    match parent {
        None => diff_id.to_string(),
        Some(p) => format!("sha256:{}", sha256_hex(format!("{p} {diff_id}").as_bytes())),
    }
}

/// 26-character upper-case base32 name for `l/` (like overlay2's link ids), derived
/// from the chain ID so that it can be rebuilt.
fn short_name(chain: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(chain.as_bytes());
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = String::new();
    for b in digest.iter() {
        bits = (bits << 8) | u32::from(*b);
        nbits += 8;
        while nbits >= 5 && out.len() < 26 {
            nbits -= 5;
            out.push(ALPHABET[((bits >> nbits) & 31) as usize] as char);
        }
    }
    out
}

fn strip_algo(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// `stringid.TruncateID`: 12 hex digits without the algorithm.
pub fn short_id(id: &str) -> String {
    strip_algo(id).chars().take(12).collect()
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

fn parse_platform(p: Option<&str>) -> Result<(String, String, Option<String>), ImageError> {
    let p = p.unwrap_or("").trim();
    if p.is_empty() {
        return Ok(("linux".into(), host_arch().into(), None));
    }
    let parts: Vec<&str> = p.split('/').collect();
    let bad = || {
        ImageError::InvalidArgument(format!(
            "\"{p}\": unknown operating system or architecture: invalid argument"
        ))
    };
    if parts.len() > 3 || parts.iter().any(|s| s.is_empty()) {
        return Err(bad());
    }
    let os = parts[0].to_lowercase();
    if os != "linux" {
        return Err(ImageError::InvalidArgument(format!(
            "operating system is not supported: {os}"
        )));
    }
    let arch = parts
        .get(1)
        .map(|a| a.to_lowercase())
        .unwrap_or_else(|| host_arch().into());
    let arch = match arch.as_str() {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        _ => arch,
    };
    Ok((os, arch, parts.get(2).map(|v| v.to_lowercase())))
}

/// `httputils.RepoTagReference`: the reference to tag with, from `repo` and `tag`.
fn repo_tag_reference(repo: &str, tag: Option<&str>) -> Result<Reference, ImageError> {
    let mut r = Reference::parse_normalized(repo)?;
    if r.digest.is_some() {
        return Err(ImageError::InvalidArgument(
            "cannot import digest reference".into(),
        ));
    }
    match tag.filter(|t| !t.is_empty()) {
        Some(t) => {
            if !crate::reference::valid_tag(t) {
                return Err(ImageError::InvalidArgument("invalid tag format".into()));
            }
            r.tag = Some(t.to_string());
        }
        None => r = r.with_default_tag(),
    }
    Ok(r)
}

impl ImageStore {
    /// Opens (creating it if needed) the store under `data_root` and loads its index.
    pub fn open(data_root: &Path) -> Result<ImageStore, ImageError> {
        for d in ["content/sha256", "layers", "l", "images"] {
            fs::create_dir_all(data_root.join(d)).map_err(io_ctx(format!("creating {d}")))?;
        }
        let version = data_root.join("version");
        match fs::read_to_string(&version) {
            Ok(v) if v.trim() == "1" => {}
            Ok(v) => {
                return Err(ImageError::Internal(format!(
                    "unsupported data root layout version {:?}",
                    v.trim()
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_atomic(&version, b"1\n").map_err(io_ctx("writing the layout version"))?
            }
            Err(e) => return Err(io_ctx("reading the layout version")(e)),
        }
        let store = ImageStore {
            root: data_root.to_path_buf(),
            index: Mutex::new(Index::default()),
        };
        let index = store.load()?;
        *store.lock() = index;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        // A panic while holding the lock leaves a consistent index (every mutation
        // persists before updating it), so poisoning is ignored.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The data root this store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn layer_dir(&self, chain: &str) -> PathBuf {
        self.root.join("layers").join(strip_algo(chain))
    }

    fn blob_path(&self, id: &str) -> PathBuf {
        self.root.join("content/sha256").join(strip_algo(id))
    }

    fn load(&self) -> Result<Index, ImageError> {
        let mut index = Index::default();
        let layers = self.root.join("layers");
        for entry in fs::read_dir(&layers).map_err(io_ctx("listing layers"))? {
            let entry = entry.map_err(io_ctx("listing layers"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                // An interrupted import or removal.
                let _ = fs::remove_dir_all(entry.path());
                continue;
            }
            let Ok(text) = fs::read(entry.path().join("layer.json")) else {
                tracing::warn!(layer = %name, "layer without layer.json ignored");
                continue;
            };
            let info: LayerInfo = serde_json::from_slice(&text)
                .map_err(|e| ImageError::Internal(format!("layer {name}: bad layer.json: {e}")))?;
            let link = self.root.join("l").join(&info.short);
            if fs::symlink_metadata(&link).is_err() {
                self.make_link(&info.short, &info.chain_id)?;
            }
            index.layers.insert(info.chain_id.clone(), info);
        }
        let db: BTreeMap<String, ImageDbEntry> = read_json(&self.root.join("images/imagedb.json"))?;
        for (id, meta) in db {
            let bytes = match fs::read(self.blob_path(&id)) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(image = %id, error = %e, "image config missing; image dropped");
                    continue;
                }
            };
            match parse_record(&bytes, meta, &index.layers) {
                Ok(rec) => {
                    index.images.insert(id, rec);
                }
                Err(e) => tracing::warn!(image = %id, error = %e, "bad image; dropped"),
            }
        }
        let repos: BTreeMap<String, String> =
            read_json(&self.root.join("images/repositories.json"))?;
        index.repos = repos
            .into_iter()
            .filter(|(_, id)| index.images.contains_key(id))
            .collect();
        Ok(index)
    }

    fn save_repos(&self, index: &Index) -> Result<(), ImageError> {
        let data = serde_json::to_vec_pretty(&index.repos)
            .map_err(|e| ImageError::Internal(e.to_string()))?;
        write_atomic(&self.root.join("images/repositories.json"), &data)
            .map_err(io_ctx("writing repositories.json"))
    }

    fn save_imagedb(&self, index: &Index) -> Result<(), ImageError> {
        let db: BTreeMap<&String, ImageDbEntry> = index
            .images
            .iter()
            .map(|(id, r)| {
                (
                    id,
                    ImageDbEntry {
                        last_tag_time: r.last_tag_time.clone(),
                        parent: r.parent.clone(),
                    },
                )
            })
            .collect();
        let data =
            serde_json::to_vec_pretty(&db).map_err(|e| ImageError::Internal(e.to_string()))?;
        write_atomic(&self.root.join("images/imagedb.json"), &data)
            .map_err(io_ctx("writing imagedb.json"))
    }

    fn make_link(&self, short: &str, chain: &str) -> Result<(), ImageError> {
        let l = self.root.join("l");
        let tmp = l.join(format!(".tmp-{}", unique()));
        let target = Path::new("../layers").join(strip_algo(chain)).join("diff");
        std::os::unix::fs::symlink(&target, &tmp).map_err(io_ctx("creating a layer link"))?;
        fs::rename(&tmp, l.join(short)).map_err(io_ctx("creating a layer link"))
    }

    /// Unpacks a layer tar (plain or gzip) on top of the layer `parent` (a chain ID) and
    /// registers it. Like dockerd's layer store, the tar is applied into a temp dir
    /// before its digest is known; when the resulting chain ID is already present the
    /// copy is dropped and the existing layer returned. A failed or malicious tar
    /// leaves nothing behind.
    pub fn register_layer<R: Read>(
        &self,
        parent: Option<&str>,
        input: R,
    ) -> Result<LayerInfo, ImageError> {
        if let Some(p) = parent {
            if !self.lock().layers.contains_key(p) {
                return Err(ImageError::NotFound(format!("layer {p}")));
            }
        }
        let tmp = self.root.join("layers").join(format!(".tmp-{}", unique()));
        let diff = tmp.join("diff");
        fs::create_dir_all(&diff).map_err(io_ctx("creating a layer directory"))?;
        let cleanup = |e: ImageError| {
            let _ = fs::remove_dir_all(&tmp);
            e
        };
        let applied = apply_layer(input, &diff).map_err(|e| cleanup(e.into()))?;
        let chain = chain_id(parent, &applied.diff_id);
        let mut index = self.lock();
        if let Some(existing) = index.layers.get(&chain) {
            let existing = existing.clone();
            drop(index);
            let _ = fs::remove_dir_all(&tmp);
            return Ok(existing);
        }
        let info = LayerInfo {
            diff_id: applied.diff_id,
            chain_id: chain.clone(),
            parent: parent.unwrap_or("").to_string(),
            size: applied.size,
            short: short_name(&chain),
        };
        let result = (|| {
            let data =
                serde_json::to_vec(&info).map_err(|e| ImageError::Internal(e.to_string()))?;
            write_atomic(&tmp.join("layer.json"), &data).map_err(io_ctx("writing layer.json"))?;
            let dest = self.layer_dir(&chain);
            if dest.exists() {
                // Left by an interrupted removal or a lost layer.json: replace it.
                fs::remove_dir_all(&dest).map_err(io_ctx("removing a stale layer"))?;
            }
            fs::rename(&tmp, &dest).map_err(io_ctx("moving the layer into place"))?;
            fs::File::open(self.root.join("layers"))
                .and_then(|d| d.sync_all())
                .map_err(io_ctx("syncing the layers directory"))?;
            self.make_link(&info.short, &chain)
        })();
        result.map_err(cleanup)?;
        index.layers.insert(chain, info.clone());
        Ok(info)
    }

    /// Stores an image config (its bytes define the ID) whose `rootfs.diff_ids` layers
    /// are registered, and adds the image. Returns its ID.
    pub fn create_image(&self, config: &[u8], parent: Option<&str>) -> Result<ImageId, ImageError> {
        let id = format!("sha256:{}", sha256_hex(config));
        let mut index = self.lock();
        let rec = parse_record(
            config,
            ImageDbEntry {
                last_tag_time: None,
                parent: parent.unwrap_or("").to_string(),
            },
            &index.layers,
        )?;
        if index.images.contains_key(&id) {
            return Ok(id);
        }
        let blob = self.blob_path(&id);
        if !blob.exists() {
            write_atomic(&blob, config).map_err(io_ctx("writing the image config"))?;
        }
        index.images.insert(id.clone(), rec);
        if let Err(e) = self.save_imagedb(&index) {
            index.images.remove(&id);
            return Err(e);
        }
        Ok(id)
    }

    /// `docker import`: a rootfs tar (plain or gzip) → a one-layer image, tagged if
    /// `opts.repo` is given. Returns the image ID (the caller emits the events).
    pub fn import<R: Read>(&self, input: R, opts: &ImportOptions) -> Result<ImageId, ImageError> {
        // Validate everything before reading the stream (dockerd does too).
        let reference = match opts.repo.as_deref().filter(|r| !r.is_empty()) {
            Some(repo) => Some(repo_tag_reference(repo, opts.tag.as_deref())?),
            None => None,
        };
        let (os, arch, variant) = parse_platform(opts.platform.as_deref())?;
        let mut config = ContainerConfig::default();
        apply_changes(&mut config, &opts.changes)?;

        let layer = self.register_layer(None, input)?;
        let created = rfc3339_nano(&Utc::now());
        // dockerd marshals image.Image through a map: keys come out sorted.
        let mut m = Map::new();
        m.insert("architecture".into(), json!(arch));
        if !opts.message.is_empty() {
            m.insert("comment".into(), json!(opts.message));
        }
        m.insert(
            "config".into(),
            serde_json::to_value(&config).map_err(|e| ImageError::Internal(e.to_string()))?,
        );
        m.insert("created".into(), json!(created));
        let mut history = Map::new();
        history.insert("created".into(), json!(created));
        if !opts.message.is_empty() {
            history.insert("comment".into(), json!(opts.message));
        }
        m.insert("history".into(), json!([history]));
        m.insert("os".into(), json!(os));
        m.insert(
            "rootfs".into(),
            json!({"type": "layers", "diff_ids": [layer.diff_id]}),
        );
        if let Some(v) = variant {
            m.insert("variant".into(), json!(v));
        }
        let bytes = serde_json::to_vec(&Value::Object(m))
            .map_err(|e| ImageError::Internal(e.to_string()))?;
        let id = self.create_image(&bytes, None)?;
        if let Some(r) = reference {
            self.add_reference(&id, &r)?;
        }
        Ok(id)
    }

    fn add_reference(&self, id: &str, r: &Reference) -> Result<(), ImageError> {
        if r.name == "docker.io/library/sha256" || r.familiar_name() == "sha256" {
            return Err(ImageError::InvalidArgument(
                "refusing to create an ambiguous tag using digest algorithm as name".into(),
            ));
        }
        let mut index = self.lock();
        let Some(rec) = index.images.get_mut(id) else {
            return Err(ImageError::NotFound(id.to_string()));
        };
        rec.last_tag_time = Some(rfc3339_nano(&Utc::now()));
        index.repos.insert(r.familiar_string(), id.to_string());
        self.save_repos(&index)?;
        self.save_imagedb(&index)
    }

    /// `POST /images/{name}/tag?repo=&tag=`: tags `source` (reference or ID) as
    /// `repo[:tag]` (default tag `latest`), moving the tag if another image had it.
    pub fn tag(&self, source: &str, repo: &str, tag: Option<&str>) -> Result<(), ImageError> {
        if repo.is_empty() {
            return Err(ImageError::InvalidArgument(
                "invalid reference format: repository name must have at least one component".into(),
            ));
        }
        let r = repo_tag_reference(repo, tag)?;
        let id = self.resolve(source)?;
        self.add_reference(&id, &r)
    }

    /// Resolves a reference (`busybox`, `busybox:1`, `docker.io/library/busybox`), a
    /// full ID (`sha256:<hex>` or `<hex>`) or a unique ID prefix to an image ID, like
    /// dockerd's `GetImage`.
    pub fn resolve(&self, name: &str) -> Result<ImageId, ImageError> {
        let index = self.lock();
        resolve_in(&index, name)
    }

    /// `GET /images/json` items, newest first, with the filters `reference`,
    /// `dangling`, `label`, `before`, `since` and `until` (`filters` is the decoded
    /// `filters` query).
    pub fn list(&self, filters: &BTreeMap<String, Vec<String>>) -> Result<Vec<Value>, ImageError> {
        const ACCEPTED: &[&str] = &["dangling", "label", "before", "since", "reference", "until"];
        for key in filters.keys() {
            if !ACCEPTED.contains(&key.as_str()) {
                return Err(ImageError::InvalidArgument(format!(
                    "invalid filter '{key}'"
                )));
            }
        }
        let index = self.lock();
        let dangling = match filters.get("dangling") {
            None => None,
            Some(values) => {
                let t = values.iter().any(|v| v == "true" || v == "1");
                let f = values.iter().any(|v| v == "false" || v == "0");
                if t == f {
                    return Err(ImageError::InvalidArgument(format!(
                        "invalid filter 'dangling={}'",
                        values.join(",")
                    )));
                }
                Some(t)
            }
        };
        let created_of = |name: &str| -> Result<Option<DateTime<Utc>>, ImageError> {
            let id = resolve_in(&index, name)?;
            Ok(index.images[&id].created)
        };
        let mut before = None;
        for v in filters.get("before").into_iter().flatten() {
            before = created_of(v)?;
        }
        let mut since = None;
        for v in filters.get("since").into_iter().flatten() {
            since = created_of(v)?;
        }
        let mut until = None;
        for v in filters.get("until").into_iter().flatten() {
            until = Some(parse_timestamp(v)?);
        }
        let labels = filters.get("label").cloned().unwrap_or_default();
        let patterns = filters.get("reference").cloned().unwrap_or_default();

        let mut out: Vec<(Option<DateTime<Utc>>, Value)> = Vec::new();
        for (id, rec) in &index.images {
            if let Some(b) = before {
                if rec.created.is_none_or(|c| c >= b) {
                    continue;
                }
            }
            if let Some(s) = since {
                if rec.created.is_none_or(|c| c <= s) {
                    continue;
                }
            }
            if let Some(u) = until {
                if rec.created.is_none_or(|c| c >= u) {
                    continue;
                }
            }
            let image_labels = rec
                .config
                .pointer("/config/Labels")
                .and_then(Value::as_object);
            if !labels.iter().all(|want| match want.split_once('=') {
                Some((k, v)) => {
                    image_labels.and_then(|l| l.get(k)).and_then(Value::as_str) == Some(v)
                }
                None => image_labels.is_some_and(|l| l.contains_key(want)),
            }) {
                continue;
            }
            let mut tags = Vec::new();
            let mut digests = Vec::new();
            let refs = index.refs_of(id);
            for r in &refs {
                if !patterns.is_empty() {
                    let parsed = Reference::parse_normalized(r).ok();
                    let fam_name = parsed
                        .as_ref()
                        .map(|p| p.familiar_name())
                        .unwrap_or_default();
                    if !patterns.iter().any(|p| {
                        crate::reference::path_match(p, r)
                            || crate::reference::path_match(p, &fam_name)
                    }) {
                        continue;
                    }
                }
                if r.contains('@') {
                    digests.push(r.clone());
                } else {
                    tags.push(r.clone());
                }
            }
            let is_dangling = refs.is_empty();
            if let Some(d) = dangling {
                if d != is_dangling {
                    continue;
                }
            }
            if !patterns.is_empty() && tags.is_empty() && digests.is_empty() {
                continue;
            }
            if is_dangling && dangling.is_none() && !index.children(id).is_empty() {
                continue; // an intermediate image (docker images hides it without -a)
            }
            let size = index.image_size(rec);
            out.push((
                rec.created,
                json!({
                    "Containers": -1,
                    "Created": rec.created.map(|c| c.timestamp()).unwrap_or(0),
                    "Id": id,
                    "Labels": rec.config.pointer("/config/Labels").cloned().unwrap_or(Value::Null),
                    "ParentId": rec.parent,
                    "RepoDigests": digests,
                    "RepoTags": tags,
                    "SharedSize": -1,
                    "Size": size,
                    "VirtualSize": size,
                }),
            ));
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.0));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// `GET /images/{name}/json` in dockerd's shape.
    pub fn inspect(&self, name: &str) -> Result<Value, ImageError> {
        let index = self.lock();
        let id = resolve_in(&index, name)?;
        let rec = &index.images[&id];
        let refs = index.refs_of(&id);
        let (digests, tags): (Vec<String>, Vec<String>) =
            refs.into_iter().partition(|r| r.contains('@'));
        let c = &rec.config;
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut out = Map::new();
        out.insert("Id".into(), json!(id));
        out.insert("RepoTags".into(), json!(tags));
        out.insert("RepoDigests".into(), json!(digests));
        out.insert("Parent".into(), json!(rec.parent));
        out.insert("Comment".into(), json!(s("comment")));
        out.insert(
            "Created".into(),
            json!(rec.created.map(|t| rfc3339_nano(&t)).unwrap_or_default()),
        );
        out.insert("DockerVersion".into(), json!(s("docker_version")));
        out.insert("Author".into(), json!(s("author")));
        out.insert("Config".into(), image_container_config(c)?);
        out.insert("Architecture".into(), json!(s("architecture")));
        if !s("variant").is_empty() {
            out.insert("Variant".into(), json!(s("variant")));
        }
        out.insert("Os".into(), json!(s("os")));
        if !s("os.version").is_empty() {
            out.insert("OsVersion".into(), json!(s("os.version")));
        }
        out.insert("Size".into(), json!(index.image_size(rec)));
        out.insert(
            "GraphDriver".into(),
            json!({"Data": self.image_graph_driver(rec), "Name": "overlay2"}),
        );
        let mut rootfs = Map::new();
        rootfs.insert("Type".into(), json!("layers"));
        if !rec.diff_ids.is_empty() {
            rootfs.insert("Layers".into(), json!(rec.diff_ids));
        }
        out.insert("RootFS".into(), Value::Object(rootfs));
        out.insert(
            "Metadata".into(),
            json!({"LastTagTime": rec.last_tag_time.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into())}),
        );
        Ok(Value::Object(out))
    }

    /// overlay2's `GetMetadata` for an image's top layer.
    fn image_graph_driver(&self, rec: &ImageRecord) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        let Some((top, lower)) = rec.chain_ids.split_last() else {
            return data;
        };
        let dir = self.layer_dir(top);
        data.insert("MergedDir".into(), dir.join("merged").display().to_string());
        data.insert("UpperDir".into(), dir.join("diff").display().to_string());
        data.insert("WorkDir".into(), dir.join("work").display().to_string());
        if !lower.is_empty() {
            let dirs: Vec<String> = lower
                .iter()
                .rev()
                .map(|c| self.layer_dir(c).join("diff").display().to_string())
                .collect();
            data.insert("LowerDir".into(), dirs.join(":"));
        }
        data
    }

    /// `GET /images/{name}/history`: newest entry first.
    pub fn history(&self, name: &str) -> Result<Vec<Value>, ImageError> {
        let index = self.lock();
        let id = resolve_in(&index, name)?;
        let rec = &index.images[&id];
        let mut items: Vec<Map<String, Value>> = Vec::new();
        let mut layer = 0;
        let empty = Vec::new();
        for h in rec
            .config
            .get("history")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
        {
            let empty_layer = h
                .get("empty_layer")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let mut size = 0;
            if !empty_layer {
                let chain = rec.chain_ids.get(layer).ok_or_else(|| {
                    ImageError::Internal("too many non-empty layers in History section".into())
                })?;
                size = index.layers.get(chain).map(|l| l.size).unwrap_or(0);
                layer += 1;
            }
            let created = h
                .get("created")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp())
                .unwrap_or(0);
            let s = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut m = Map::new();
            m.insert("Comment".into(), json!(s("comment")));
            m.insert("Created".into(), json!(created));
            m.insert("CreatedBy".into(), json!(s("created_by")));
            m.insert("Id".into(), json!("<missing>"));
            m.insert("Size".into(), json!(size));
            m.insert("Tags".into(), Value::Null);
            items.insert(0, m);
        }
        // The newest entry is this image; older ones are its parents', when known.
        let mut cur = Some(id);
        for item in items.iter_mut() {
            let Some(img) = cur.take() else { break };
            let tags: Vec<String> = index
                .refs_of(&img)
                .into_iter()
                .filter(|r| !r.contains('@'))
                .collect();
            item.insert("Id".into(), json!(img));
            item.insert(
                "Tags".into(),
                if tags.is_empty() {
                    Value::Null
                } else {
                    json!(tags)
                },
            );
            cur = index
                .images
                .get(&img)
                .map(|r| r.parent.clone())
                .filter(|p| index.images.contains_key(p));
        }
        Ok(items.into_iter().map(Value::Object).collect())
    }

    /// The image's `config` as a container config (defaults for `docker run`).
    pub fn config(&self, name: &str) -> Result<ContainerConfig, ImageError> {
        let index = self.lock();
        let id = resolve_in(&index, name)?;
        let c = index.images[&id]
            .config
            .get("config")
            .cloned()
            .unwrap_or(Value::Null);
        if c.is_null() {
            return Ok(ContainerConfig::default());
        }
        serde_json::from_value(c)
            .map_err(|e| ImageError::Internal(format!("image {id}: bad config: {e}")))
    }

    /// The raw image config JSON (as stored; its sha256 is the ID).
    pub fn raw_config(&self, name: &str) -> Result<Vec<u8>, ImageError> {
        let id = self.resolve(name)?;
        fs::read(self.blob_path(&id)).map_err(io_ctx("reading the image config"))
    }

    /// Total size of an image's layers (`SizeRootFs` is this plus the container's
    /// `SizeRw`).
    pub fn image_size(&self, name: &str) -> Result<u64, ImageError> {
        let index = self.lock();
        let id = resolve_in(&index, name)?;
        Ok(index.image_size(&index.images[&id]))
    }

    /// `DELETE /images/{name}?force=&noprune=` with dockerd's semantics
    /// (`ImageService.ImageDelete`). `containers_using(image_id)` lists the containers
    /// created from an image; it is called with the store's lock held and must not call
    /// back into the store. Layers still used by an image are kept; an image deleted
    /// while containers use it keeps its config and layers until [`ImageStore::gc`].
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        noprune: bool,
        containers_using: &dyn Fn(&str) -> Vec<ContainerUse>,
    ) -> Result<Vec<DeleteItem>, ImageError> {
        let mut index = self.lock();
        let id = resolve_in(&index, name)?;
        let mut records = Vec::new();
        let repo_refs = index.refs_of(&id);
        let mut removed_repository_ref = false;
        if !is_image_id_prefix(&id, name) {
            if !force && is_single_reference(&repo_refs) {
                if let Some(c) = containers_using(&id).first() {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to remove repository reference {name:?} (must force) - container {} is using its referenced image {}",
                        short_id(&c.id),
                        short_id(&id)
                    )));
                }
            }
            let parsed = Reference::parse_normalized(name)?.with_default_tag();
            let key = parsed.familiar_string();
            if index.repos.get(&key) != Some(&id) {
                return Err(ImageError::NotFound(key));
            }
            index.repos.remove(&key);
            records.push(DeleteItem::Untagged(key));
            // A removed tag takes the digest references of its repository along when
            // no other tag of that repository remains (dockerd).
            if parsed.digest.is_none() {
                let remaining = index.refs_of(&id);
                let same_repo_tag = remaining.iter().any(|r| {
                    !r.contains('@')
                        && Reference::parse_normalized(r)
                            .map(|p| p.name == parsed.name)
                            .unwrap_or(false)
                });
                if !same_repo_tag {
                    for r in remaining {
                        if r.contains('@')
                            && Reference::parse_normalized(&r)
                                .map(|p| p.name == parsed.name)
                                .unwrap_or(false)
                        {
                            index.repos.remove(&r);
                            records.push(DeleteItem::Untagged(r));
                        }
                    }
                }
            }
            self.save_repos(&index)?;
            if !index.refs_of(&id).is_empty() {
                return Ok(records);
            }
            removed_repository_ref = true;
        } else if is_single_reference(&repo_refs) {
            let users = containers_using(&id);
            let mask = if force {
                HARD
            } else {
                HARD | STOPPED_CONTAINER
            };
            if let Some(c) = check_conflict(&index, &id, mask, &users) {
                return Err(ImageError::Conflict(c.message));
            }
            for r in repo_refs {
                index.repos.remove(&r);
                records.push(DeleteItem::Untagged(r));
            }
            self.save_repos(&index)?;
        }
        self.delete_helper(
            &mut index,
            &id,
            &mut records,
            force,
            !noprune,
            removed_repository_ref,
            containers_using,
        )?;
        Ok(records)
    }

    #[allow(clippy::too_many_arguments)]
    fn delete_helper(
        &self,
        index: &mut Index,
        id: &str,
        records: &mut Vec<DeleteItem>,
        force: bool,
        prune: bool,
        quiet: bool,
        containers_using: &dyn Fn(&str) -> Vec<ContainerUse>,
    ) -> Result<(), ImageError> {
        let users = containers_using(id);
        let mask = if force { HARD } else { HARD | SOFT };
        if let Some(c) = check_conflict(index, id, mask, &users) {
            let dangling = index.refs_of(id).is_empty() && index.children(id).is_empty();
            if quiet && (!dangling || c.used) {
                return Ok(());
            }
            return Err(ImageError::Conflict(c.message));
        }
        let Some(rec) = index.images.get(id).cloned() else {
            return Ok(());
        };
        for r in index.refs_of(id) {
            index.repos.remove(&r);
            records.push(DeleteItem::Untagged(r));
        }
        self.save_repos(index)?;
        index.images.remove(id);
        self.save_imagedb(index)?;
        records.push(DeleteItem::Deleted(id.to_string()));
        if users.is_empty() {
            let _ = fs::remove_file(self.blob_path(id));
            let mut used: BTreeSet<&String> = BTreeSet::new();
            for r in index.images.values() {
                used.extend(r.chain_ids.iter());
            }
            let unused: Vec<String> = rec
                .chain_ids
                .iter()
                .rev()
                .filter(|c| !used.contains(c))
                .cloned()
                .collect();
            for chain in unused {
                self.delete_layer(index, &chain)?;
                records.push(DeleteItem::Deleted(chain));
            }
        }
        if prune && !rec.parent.is_empty() && index.images.contains_key(&rec.parent) {
            self.delete_helper(
                index,
                &rec.parent.clone(),
                records,
                false,
                true,
                true,
                containers_using,
            )?;
        }
        Ok(())
    }

    fn delete_layer(&self, index: &mut Index, chain: &str) -> Result<(), ImageError> {
        let Some(info) = index.layers.remove(chain) else {
            return Ok(());
        };
        let _ = fs::remove_file(self.root.join("l").join(&info.short));
        let dir = self.layer_dir(chain);
        // Rename first so that a crash never leaves a half-deleted layer in place.
        let trash = self.root.join("layers").join(format!(".tmp-{}", unique()));
        fs::rename(&dir, &trash).map_err(io_ctx("removing a layer"))?;
        fs::remove_dir_all(&trash).map_err(io_ctx("removing a layer"))
    }

    /// Garbage-collects image configs that are no image anymore and layers no image
    /// uses, keeping those of `images_in_use` (image IDs of existing containers, whose
    /// image may have been force-removed). Returns the removed layers' chain IDs.
    pub fn gc(&self, images_in_use: &[String]) -> Result<Vec<String>, ImageError> {
        let mut index = self.lock();
        let mut used_chains: BTreeSet<String> = BTreeSet::new();
        for r in index.images.values() {
            used_chains.extend(r.chain_ids.iter().cloned());
        }
        let mut keep_blobs: BTreeSet<String> = index
            .images
            .keys()
            .map(|k| strip_algo(k).to_string())
            .collect();
        for id in images_in_use {
            if index.images.contains_key(id) {
                continue;
            }
            if let Ok(bytes) = fs::read(self.blob_path(id)) {
                if let Ok(rec) = parse_record(&bytes, ImageDbEntry::default(), &index.layers) {
                    used_chains.extend(rec.chain_ids);
                }
                keep_blobs.insert(strip_algo(id).to_string());
            }
        }
        let blobs = self.root.join("content/sha256");
        for entry in fs::read_dir(&blobs)
            .map_err(io_ctx("listing content"))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep_blobs.contains(&name) && !name.starts_with('.') {
                let _ = fs::remove_file(entry.path());
            }
        }
        let unused: Vec<String> = index
            .layers
            .keys()
            .filter(|c| !used_chains.contains(*c))
            .cloned()
            .collect();
        // Children before parents.
        let mut removed = Vec::new();
        let mut pending = unused;
        while !pending.is_empty() {
            let parents: BTreeSet<String> = pending
                .iter()
                .filter_map(|c| index.layers.get(c).map(|l| l.parent.clone()))
                .collect();
            let (now, later): (Vec<String>, Vec<String>) =
                pending.into_iter().partition(|c| !parents.contains(c));
            if now.is_empty() {
                break;
            }
            for c in now {
                self.delete_layer(&mut index, &c)?;
                removed.push(c);
            }
            pending = later;
        }
        Ok(removed)
    }

    /// Prepares a container's filesystem dirs for `image` (reference or ID) in
    /// `container_dir`: creates `upper/`, `work/` and `rootfs/` and returns the overlay
    /// `lowerdir` (absolute `l/` links, top layer first; an image without layers gets
    /// an empty `lower/` dir) and the container's `GraphDriver.Data`.
    pub fn prepare_rootfs(
        &self,
        image: &str,
        container_dir: &Path,
    ) -> Result<PreparedRootfs, ImageError> {
        let index = self.lock();
        let id = resolve_in(&index, image)?;
        let rec = &index.images[&id];
        let mk = |d: &str, mode: u32| -> Result<PathBuf, ImageError> {
            use std::os::unix::fs::DirBuilderExt;
            let p = container_dir.join(d);
            fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(&p)
                .map_err(io_ctx(format!("creating the container's {d} dir")))?;
            Ok(p)
        };
        let upper = mk("upper", 0o755)?;
        let work = mk("work", 0o700)?;
        let merged = mk("rootfs", 0o755)?;
        let mut links = Vec::new();
        let mut diffs = Vec::new();
        for chain in rec.chain_ids.iter().rev() {
            let info = index.layers.get(chain).ok_or_else(|| {
                ImageError::Internal(format!("image {id}: layer {chain} missing"))
            })?;
            links.push(self.root.join("l").join(&info.short).display().to_string());
            diffs.push(self.layer_dir(chain).join("diff").display().to_string());
        }
        if links.is_empty() {
            let lower = mk("lower", 0o755)?.display().to_string();
            links.push(lower.clone());
            diffs.push(lower);
        }
        let mut gd = BTreeMap::new();
        gd.insert("LowerDir".to_string(), diffs.join(":"));
        gd.insert("MergedDir".to_string(), merged.display().to_string());
        gd.insert("UpperDir".to_string(), upper.display().to_string());
        gd.insert("WorkDir".to_string(), work.display().to_string());
        Ok(PreparedRootfs {
            lowerdir: links.join(":"),
            graph_driver: gd,
        })
    }
}

fn read_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T, ImageError> {
    match fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| ImageError::Internal(format!("{}: bad JSON: {e}", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(io_ctx(format!("reading {}", path.display()))(e)),
    }
}

fn parse_record(
    bytes: &[u8],
    meta: ImageDbEntry,
    layers: &BTreeMap<String, LayerInfo>,
) -> Result<ImageRecord, ImageError> {
    let config: Value = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::InvalidArgument(format!("invalid image config: {e}")))?;
    let diff_ids: Vec<String> = match config.pointer("/rootfs/diff_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            ImageError::InvalidArgument(format!("invalid image config: rootfs: {e}"))
        })?,
    };
    let mut chain_ids = Vec::new();
    let mut parent: Option<String> = None;
    for d in &diff_ids {
        let c = chain_id(parent.as_deref(), d);
        if !layers.contains_key(&c) {
            return Err(ImageError::NotFound(format!("layer {c}")));
        }
        chain_ids.push(c.clone());
        parent = Some(c);
    }
    let created = config
        .get("created")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(ImageRecord {
        config,
        created,
        diff_ids,
        chain_ids,
        parent: meta.parent,
        last_tag_time: meta.last_tag_time,
    })
}

/// The image's `config` for inspect: dockerd's `container.Config` shape.
fn image_container_config(c: &Value) -> Result<Value, ImageError> {
    let cfg: ContainerConfig = match c.get("config") {
        None | Some(Value::Null) => ContainerConfig::default(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ImageError::Internal(format!("bad image config: {e}")))?,
    };
    serde_json::to_value(cfg).map_err(|e| ImageError::Internal(e.to_string()))
}

fn resolve_in(index: &Index, name: &str) -> Result<ImageId, ImageError> {
    // A full ID, with or without its algorithm.
    if is_full_hex_id(name) || is_digest(name) {
        let id = if name.contains(':') {
            name.to_string()
        } else {
            format!("sha256:{name}")
        };
        return if index.images.contains_key(&id) {
            Ok(id)
        } else {
            Err(ImageError::NotFound(id))
        };
    }
    let r = Reference::parse_normalized(name)?.with_default_tag();
    if let Some(id) = index.repos.get(&r.familiar_string()) {
        return Ok(id.clone());
    }
    // A unique ID prefix (`imageStore.Search`).
    let prefix = name.strip_prefix("sha256:").unwrap_or(name);
    if is_lower_hex(prefix) {
        let mut found = index
            .images
            .keys()
            .filter(|id| strip_algo(id).starts_with(prefix));
        if let (Some(id), None) = (found.next(), found.next()) {
            return Ok(id.clone());
        }
    }
    Err(ImageError::NotFound(r.familiar_string()))
}

fn is_image_id_prefix(id: &str, prefix: &str) -> bool {
    id.starts_with(prefix) || strip_algo(id).starts_with(prefix)
}

/// dockerd's `isSingleReference`: one tag, possibly with digest references of the same
/// repository.
fn is_single_reference(refs: &[String]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let name = |r: &str| {
        Reference::parse_normalized(r)
            .map(|p| p.name)
            .unwrap_or_default()
    };
    let mut single: Option<&String> = None;
    let mut canonical = BTreeSet::new();
    for r in refs {
        if r.contains('@') {
            canonical.insert(name(r));
        } else if single.is_none() {
            single = Some(r);
        } else {
            return false;
        }
    }
    let single = single.unwrap_or(&refs[0]);
    canonical.len() == 1 && canonical.contains(&name(single))
}

const DEPENDENT_CHILD: u8 = 1;
const RUNNING_CONTAINER: u8 = 2;
const ACTIVE_REFERENCE: u8 = 4;
const STOPPED_CONTAINER: u8 = 8;
const HARD: u8 = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT: u8 = ACTIVE_REFERENCE | STOPPED_CONTAINER;

struct Conflict {
    message: String,
    used: bool,
}

/// dockerd's `checkImageDeleteConflict`.
fn check_conflict(index: &Index, id: &str, mask: u8, users: &[ContainerUse]) -> Option<Conflict> {
    let make = |hard: bool, used: bool, msg: String| {
        let force = if hard {
            "cannot be forced"
        } else {
            "must be forced"
        };
        Some(Conflict {
            message: format!(
                "conflict: unable to delete {} ({force}) - {msg}",
                short_id(id)
            ),
            used,
        })
    };
    if mask & DEPENDENT_CHILD != 0 && !index.children(id).is_empty() {
        return make(true, false, "image has dependent child images".into());
    }
    if mask & RUNNING_CONTAINER != 0 {
        if let Some(c) = users.iter().find(|c| c.running) {
            return make(
                true,
                true,
                format!(
                    "image is being used by running container {}",
                    short_id(&c.id)
                ),
            );
        }
    }
    if mask & ACTIVE_REFERENCE != 0 && !index.refs_of(id).is_empty() {
        return make(
            false,
            false,
            "image is referenced in multiple repositories".into(),
        );
    }
    if mask & STOPPED_CONTAINER != 0 {
        if let Some(c) = users.iter().find(|c| !c.running) {
            return make(
                false,
                true,
                format!(
                    "image is being used by stopped container {}",
                    short_id(&c.id)
                ),
            );
        }
    }
    None
}

/// `until` values: unix seconds (with optional fraction) or RFC 3339.
fn parse_timestamp(v: &str) -> Result<DateTime<Utc>, ImageError> {
    if let Ok(secs) = v.split('.').next().unwrap_or("").parse::<i64>() {
        if let Some(t) = DateTime::from_timestamp(secs, 0) {
            return Ok(t);
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    Err(ImageError::InvalidArgument(format!(
        "invalid filter 'until={v}'"
    )))
}
