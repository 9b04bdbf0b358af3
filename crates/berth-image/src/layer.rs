//! Layer tar application: docker layer tars → an overlay lower directory.
//!
//! The applier is our own (not `tar::Archive::unpack`) so that it can never write
//! outside its target: names with `..` components or absolute names are refused,
//! every parent directory is opened component by component with `O_NOFOLLOW` (a
//! symlink in a parent path is an error, never followed), and each entry is created
//! with `*at` calls relative to its parent's descriptor. Docker whiteouts are
//! converted to the overlay format as dockerd's overlay2 driver does
//! (`.wh.NAME` → character device 0/0 `NAME`; `.wh..wh..opq` → the parent gets
//! `trusted.overlay.opaque=y`).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{self, FchmodatFlags, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{self, Gid, Uid, UnlinkatFlags};
use sha2::{Digest, Sha256};
use xattr::FileExt;

use crate::sys;

/// Docker's whiteout prefix (`.wh.NAME` deletes `NAME` from the layers below).
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// Docker's opaque-directory marker.
pub const WHITEOUT_OPAQUE: &str = ".wh..wh..opq";
/// Prefix of docker's internal whiteout metadata names (other than the opaque marker).
const WHITEOUT_META_PREFIX: &str = ".wh..wh.";

/// Errors of layer application.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The tar holds a name or link that would escape the target, or is malformed.
    #[error("invalid layer entry {name:?}: {reason}")]
    InvalidEntry {
        /// The entry's name as found in the tar.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The compression format is not supported.
    #[error("unsupported layer compression: {0}")]
    Unsupported(&'static str),
    /// Reading the stream or writing the target failed.
    #[error("applying layer entry {name:?}")]
    Io {
        /// The entry being applied ("" for the stream itself).
        name: String,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
}

/// What applying a layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedLayer {
    /// `sha256:<hex>` of the uncompressed tar stream (the layer's DiffID).
    pub diff_id: String,
    /// Sum of the sizes of the regular files written (hard links counted once).
    pub size: u64,
}

/// A reader that hashes everything read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Wraps `input` in a decompressor chosen by its magic bytes (gzip or plain tar).
pub fn decompress<'a, R: Read + 'a>(input: R) -> Result<Box<dyn Read + 'a>, LayerError> {
    let mut buffered = BufReader::with_capacity(128 * 1024, input);
    let head = buffered.fill_buf().map_err(|e| io_err("", e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Err(LayerError::Unsupported("zstd"))
    } else if head.starts_with(b"BZh") {
        Err(LayerError::Unsupported("bzip2"))
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Err(LayerError::Unsupported("xz"))
    } else {
        Ok(Box::new(buffered))
    }
}

fn io_err(name: &str, source: io::Error) -> LayerError {
    LayerError::Io {
        name: name.to_string(),
        source,
    }
}

fn nix_err(name: &str, e: Errno) -> LayerError {
    io_err(name, io::Error::from(e))
}

fn invalid(name: &str, reason: impl Into<String>) -> LayerError {
    LayerError::InvalidEntry {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// Splits a tar name into its components, refusing absolute names and `..`.
/// `./a//b/` → `[a, b]`; `.` → `[]` (the root itself).
fn clean_components(raw: &[u8], display: &str) -> Result<Vec<OsString>, LayerError> {
    if raw.first() == Some(&b'/') {
        return Err(invalid(display, "absolute name"));
    }
    let mut out = Vec::new();
    for comp in raw.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err(invalid(display, "name with a '..' component")),
            c => out.push(OsString::from_vec(c.to_vec())),
        }
    }
    Ok(out)
}

/// Opens (creating as needed, mode 0755 like dockerd) the directory `comps` below
/// `root`, one component at a time with `O_NOFOLLOW`: a symlink or a non-directory on
/// the way is an error, never followed.
fn open_dir(
    root: &File,
    comps: &[OsString],
    create: bool,
    display: &str,
) -> Result<File, LayerError> {
    let mut cur = root.try_clone().map_err(|e| io_err(display, e))?;
    for comp in comps {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
        let fd = match sys::open_at(&cur, comp, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create => {
                match stat::mkdirat(
                    Some(cur.as_raw_fd()),
                    comp.as_os_str(),
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(nix_err(display, e)),
                }
                sys::open_at(&cur, comp, flags, Mode::empty()).map_err(|e| path_err(display, e))?
            }
            Err(e) => return Err(path_err(display, e)),
        };
        cur = File::from(fd);
    }
    Ok(cur)
}

/// Maps the errors of a no-follow walk: a symlink or file in a parent path is refused.
fn path_err(display: &str, e: Errno) -> LayerError {
    match e {
        Errno::ELOOP | Errno::ENOTDIR => invalid(
            display,
            "parent path goes through a symlink or a non-directory",
        ),
        e => nix_err(display, e),
    }
}

/// `/proc/self/fd/<dir>/<name>`: a path to `name` inside an open directory, for the
/// calls that have no `*at` form (`lsetxattr`). Only the directory's magic link is
/// followed; `name` itself is not.
fn proc_path(dir: &File, name: &OsStr) -> PathBuf {
    Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

/// Removes whatever is at `name` in `dir` (recursively for a directory).
fn remove_entry(dir: &File, name: &OsStr, display: &str) -> Result<(), LayerError> {
    match stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(nix_err(display, e)),
        Ok(st)
            if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR =>
        {
            // std's remove_dir_all does not follow symlinks (openat-based since 1.58.1).
            std::fs::remove_dir_all(proc_path(dir, name)).map_err(|e| io_err(display, e))
        }
        Ok(_) => unistd::unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir)
            .map_err(|e| nix_err(display, e)),
    }
}

fn is_dir_at(dir: &File, name: &OsStr) -> bool {
    stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map(|st| SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR)
        .unwrap_or(false)
}

/// Metadata of one entry, gathered before its data is read.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// Applies the tar `input` (plain or gzip) onto the existing directory `target`.
///
/// On error the target is left half-written: callers extract into a fresh temp dir
/// and remove it on failure (as [`crate::ImageStore`] does).
pub fn apply_layer<R: Read>(input: R, target: &Path) -> Result<AppliedLayer, LayerError> {
    let reader = decompress(input)?;
    let mut hashing = HashingReader {
        inner: reader,
        hasher: Sha256::new(),
    };
    let size = apply_tar(&mut hashing, target)?;
    // Hash the whole stream, the end-of-archive blocks and any padding included, as
    // dockerd's layer store does.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| io_err("", e))?;
    Ok(AppliedLayer {
        diff_id: format!("sha256:{}", hex(&hashing.hasher.finalize())),
        size,
    })
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies an uncompressed tar; returns the size of the regular files written.
fn apply_tar<R: Read>(input: R, target: &Path) -> Result<u64, LayerError> {
    let root = File::open(target).map_err(|e| io_err("", e))?;
    let mut archive = tar::Archive::new(input);
    let mut size = 0u64;
    let mut dirs: Vec<(Vec<OsString>, i64)> = Vec::new();
    for entry in archive.entries().map_err(|e| io_err("", e))? {
        let mut entry = entry.map_err(|e| io_err("", e))?;
        let raw_name = entry.path_bytes().into_owned();
        let display = String::from_utf8_lossy(&raw_name).into_owned();
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader
                | tar::EntryType::XHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink
        ) {
            continue;
        }
        let comps = clean_components(&raw_name, &display)?;
        let meta = read_meta(&mut entry, &display)?;

        let Some((name, parents)) = comps.split_last() else {
            // The root itself ("./"): only its metadata applies.
            if kind.is_dir() {
                set_meta_fd(&root, &meta, &display)?;
                dirs.push((Vec::new(), meta.mtime));
            }
            continue;
        };
        let parent = open_dir(&root, parents, true, &display)?;
        let name_bytes = name.as_bytes();

        // Whiteouts, converted to the overlay format (dockerd overlay2's
        // overlayWhiteoutConverter.ConvertRead).
        if name_bytes == WHITEOUT_OPAQUE.as_bytes() {
            parent
                .set_xattr("trusted.overlay.opaque", b"y")
                .map_err(|e| io_err(&display, e))?;
            continue;
        }
        if name_bytes.starts_with(WHITEOUT_META_PREFIX.as_bytes()) {
            continue; // aufs hard-link metadata: meaningless here, dockerd skips it too
        }
        if let Some(hidden) = name_bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            let hidden = OsStr::from_bytes(hidden);
            remove_entry(&parent, hidden, &display)?;
            stat::mknodat(
                Some(parent.as_raw_fd()),
                hidden,
                SFlag::S_IFCHR,
                Mode::empty(),
                0,
            )
            .map_err(|e| nix_err(&display, e))?;
            chown_at(&parent, hidden, meta.uid, meta.gid, &display)?;
            continue;
        }

        // An existing entry is replaced, except a directory by a directory (dockerd).
        if !(kind.is_dir() && is_dir_at(&parent, name)) {
            remove_entry(&parent, name, &display)?;
        }

        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
                let fd = sys::open_at(&parent, name, flags, Mode::from_bits_truncate(0o600))
                    .map_err(|e| nix_err(&display, e))?;
                let mut file = File::from(fd);
                size += io::copy(&mut entry, &mut file).map_err(|e| io_err(&display, e))?;
                set_meta_fd(&file, &meta, &display)?;
            }
            tar::EntryType::Directory => {
                match stat::mkdirat(
                    Some(parent.as_raw_fd()),
                    name.as_os_str(),
                    Mode::from_bits_truncate(0o700),
                ) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(nix_err(&display, e)),
                }
                let dir = open_dir(&parent, std::slice::from_ref(name), false, &display)?;
                set_meta_fd(&dir, &meta, &display)?;
                dirs.push((comps.clone(), meta.mtime));
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name_bytes()
                    .ok_or_else(|| invalid(&display, "symlink without a target"))?
                    .into_owned();
                unistd::symlinkat(
                    OsStr::from_bytes(&link),
                    Some(parent.as_raw_fd()),
                    name.as_os_str(),
                )
                .map_err(|e| nix_err(&display, e))?;
                set_meta_at(&parent, name, &meta, false, &display)?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name_bytes()
                    .ok_or_else(|| invalid(&display, "hard link without a target"))?
                    .into_owned();
                let link_comps = clean_components(&link, &display).map_err(|_| {
                    invalid(
                        &display,
                        format!(
                            "hard link to {:?} outside the layer",
                            String::from_utf8_lossy(&link)
                        ),
                    )
                })?;
                let Some((link_name, link_parents)) = link_comps.split_last() else {
                    return Err(invalid(&display, "hard link to the layer root"));
                };
                let link_parent = open_dir(&root, link_parents, false, &display)?;
                // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
                unistd::linkat(
                    Some(link_parent.as_raw_fd()),
                    link_name.as_os_str(),
                    Some(parent.as_raw_fd()),
                    name.as_os_str(),
                    AtFlags::empty(),
                )
                .map_err(|e| nix_err(&display, e))?;
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let (sflag, dev) = match kind {
                    tar::EntryType::Char | tar::EntryType::Block => {
                        let major = entry.header().device_major().ok().flatten().unwrap_or(0);
                        let minor = entry.header().device_minor().ok().flatten().unwrap_or(0);
                        let f = if kind == tar::EntryType::Char {
                            SFlag::S_IFCHR
                        } else {
                            SFlag::S_IFBLK
                        };
                        (f, stat::makedev(major.into(), minor.into()))
                    }
                    _ => (SFlag::S_IFIFO, 0),
                };
                stat::mknodat(
                    Some(parent.as_raw_fd()),
                    name.as_os_str(),
                    sflag,
                    Mode::from_bits_truncate(0o600),
                    dev,
                )
                .map_err(|e| nix_err(&display, e))?;
                set_meta_at(&parent, name, &meta, true, &display)?;
            }
            other => {
                let shown: &str = &display;
                tracing::debug!(entry = shown, kind = ?other, "skipping unsupported tar entry type");
            }
        }
    }
    // Directory times last: creating their children changed them (dockerd does the same).
    for (comps, mtime) in dirs.iter().rev() {
        let dir = open_dir(&root, comps, false, "")?;
        let ts = TimeSpec::new(*mtime, 0);
        stat::futimens(dir.as_raw_fd(), &ts, &ts).map_err(|e| nix_err("", e))?;
    }
    Ok(size)
}

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>, display: &str) -> Result<Meta, LayerError> {
    let h = entry.header();
    let bad = |what: &str| invalid(display, format!("bad {what} field"));
    let mut meta = Meta {
        mode: h.mode().map_err(|_| bad("mode"))? & 0o7777,
        uid: h.uid().map_err(|_| bad("uid"))? as u32,
        gid: h.gid().map_err(|_| bad("gid"))? as u32,
        mtime: h.mtime().map_err(|_| bad("mtime"))? as i64,
        xattrs: Vec::new(),
    };
    if let Some(exts) = entry.pax_extensions().map_err(|e| io_err(display, e))? {
        for ext in exts {
            let ext = ext.map_err(|e| io_err(display, e))?;
            let Ok(key) = ext.key() else { continue };
            let value = ext.value_bytes();
            if let Some(attr) = key.strip_prefix("SCHILY.xattr.") {
                meta.xattrs.push((attr.to_string(), value.to_vec()));
            } else if key == "uid" || key == "gid" || key == "mtime" {
                let text = String::from_utf8_lossy(value);
                let whole = text.split('.').next().unwrap_or("");
                if let Ok(n) = whole.parse::<i64>() {
                    match key {
                        "uid" => meta.uid = n as u32,
                        "gid" => meta.gid = n as u32,
                        _ => meta.mtime = n,
                    }
                }
            }
        }
    }
    Ok(meta)
}

fn chown_at(dir: &File, name: &OsStr, uid: u32, gid: u32, display: &str) -> Result<(), LayerError> {
    unistd::fchownat(
        Some(dir.as_raw_fd()),
        name,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| nix_err(display, e))
}

/// Owner, mode (after chown, which clears setuid), xattrs and times of an open file or
/// directory.
fn set_meta_fd(file: &File, m: &Meta, display: &str) -> Result<(), LayerError> {
    unistd::fchown(
        file.as_raw_fd(),
        Some(Uid::from_raw(m.uid)),
        Some(Gid::from_raw(m.gid)),
    )
    .map_err(|e| nix_err(display, e))?;
    stat::fchmod(file.as_raw_fd(), Mode::from_bits_truncate(m.mode))
        .map_err(|e| nix_err(display, e))?;
    for (k, v) in &m.xattrs {
        file.set_xattr(k, v).map_err(|e| io_err(display, e))?;
    }
    let ts = TimeSpec::new(m.mtime, 0);
    stat::futimens(file.as_raw_fd(), &ts, &ts).map_err(|e| nix_err(display, e))
}

/// The same for an entry that cannot be opened (symlink, device, fifo), by name in its
/// parent, never following it.
fn set_meta_at(
    dir: &File,
    name: &OsStr,
    m: &Meta,
    chmod: bool,
    display: &str,
) -> Result<(), LayerError> {
    chown_at(dir, name, m.uid, m.gid, display)?;
    if chmod {
        stat::fchmodat(
            Some(dir.as_raw_fd()),
            name,
            Mode::from_bits_truncate(m.mode),
            FchmodatFlags::FollowSymlink,
        )
        .map_err(|e| nix_err(display, e))?;
    }
    for (k, v) in &m.xattrs {
        xattr::set(proc_path(dir, name), k, v).map_err(|e| io_err(display, e))?;
    }
    let ts = TimeSpec::new(m.mtime, 0);
    stat::utimensat(
        Some(dir.as_raw_fd()),
        name,
        &ts,
        &ts,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| nix_err(display, e))
}
