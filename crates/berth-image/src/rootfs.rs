//! Container filesystems: the overlay mount of a container (`containers/<id>/rootfs`
//! over `upper/`, `work/` and the image's layers), `docker export` tars and sizes.
//!
//! [`crate::ImageStore::prepare_rootfs`] creates the dirs and computes `lowerdir`; this
//! module mounts, unmounts and reads them.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

/// Errors of container filesystem operations (all HTTP 500 for the daemon).
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// Mounting the overlay failed.
    #[error("mounting the overlay on {path}")]
    Mount {
        /// The mount point.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// Unmounting failed.
    #[error("unmounting {path}")]
    Unmount {
        /// The mount point.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// Reading the tree or writing the tar failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

fn io_ctx(context: impl Into<String>) -> impl FnOnce(io::Error) -> RootfsError {
    let context = context.into();
    move |source| RootfsError::Io { context, source }
}

/// Unescapes the octal escapes (`\040`) of `/proc/self/mountinfo` fields.
fn unescape_mountinfo(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Whether `path` is a mount point (listed in `/proc/self/mountinfo`).
pub fn is_mounted(path: &Path) -> Result<bool, RootfsError> {
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let info = fs::read_to_string("/proc/self/mountinfo")
        .map_err(io_ctx("reading /proc/self/mountinfo"))?;
    Ok(info.lines().any(|line| {
        line.split(' ')
            .nth(4)
            .is_some_and(|mp| unescape_mountinfo(mp) == path.as_os_str().as_bytes())
    }))
}

/// Mounts the container's overlay: `container_dir/rootfs` = `lowerdir` +
/// `container_dir/upper` (work dir `container_dir/work`). Does nothing when `rootfs`
/// is already a mount point (a daemon restart).
pub fn mount(lowerdir: &str, container_dir: &Path) -> Result<(), RootfsError> {
    let target = container_dir.join("rootfs");
    if is_mounted(&target)? {
        return Ok(());
    }
    let mut options = format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        container_dir.join("upper").display(),
        container_dir.join("work").display()
    );
    // dockerd's overlay2 turns the inodes index off where the kernel has it: layers are
    // shared by many mounts, and a stale index makes later mounts fail with EBUSY.
    if Path::new("/sys/module/overlay/parameters/index").exists() {
        options.push_str(",index=off");
    }
    nix::mount::mount(
        Some("overlay"),
        &target,
        Some("overlay"),
        MsFlags::empty(),
        Some(options.as_str()),
    )
    .map_err(|e| RootfsError::Mount {
        path: target.clone(),
        source: io::Error::from(e),
    })
}

/// Unmounts `container_dir/rootfs` (lazily, like dockerd). Not mounted is success.
pub fn unmount(container_dir: &Path) -> Result<(), RootfsError> {
    let target = container_dir.join("rootfs");
    if !is_mounted(&target)? {
        return Ok(());
    }
    match nix::mount::umount2(&target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(RootfsError::Unmount {
            path: target,
            source: io::Error::from(e),
        }),
    }
}

/// Size in bytes of the regular files and symlinks under `dir` (hard links counted
/// once, mount points below it not crossed): `SizeRw` of `ps -s` for the `upper` dir,
/// like dockerd's `directory.Size`.
pub fn dir_size(dir: &Path) -> Result<u64, RootfsError> {
    let root_dev = match fs::symlink_metadata(dir) {
        Ok(m) => m.dev(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_ctx(format!("reading {}", dir.display()))(e)),
    };
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_ctx(format!("reading {}", d.display()))(e)),
        };
        for entry in entries.flatten() {
            let Ok(m) = entry.metadata() else { continue };
            if m.is_dir() {
                if m.dev() == root_dev {
                    stack.push(entry.path());
                }
                continue;
            }
            if m.nlink() > 1 && !seen.insert((m.dev(), m.ino())) {
                continue;
            }
            total += m.size();
        }
    }
    Ok(total)
}

/// `SizeRw` of `docker ps -s`: the size of a container's `upper` dir. `SizeRootFs` is
/// this plus [`crate::ImageStore::image_size`].
pub fn size_rw(upper: &Path) -> Result<u64, RootfsError> {
    dir_size(upper)
}

/// `docker export`: writes a tar of the tree at `dir` (a container's merged rootfs)
/// to `out`. Names are relative (`bin/sh`, dirs end in `/`), owners numeric, hard
/// links kept as links, devices and fifos kept, sockets skipped (as dockerd), xattrs
/// kept as PAX `SCHILY.xattr.*` (overlay's own `trusted.overlay.*` excluded), and
/// overlay whiteouts (char 0/0) never appear.
pub fn export<W: Write>(dir: &Path, out: W) -> Result<W, RootfsError> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let mut links: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let root_dev = fs::symlink_metadata(dir)
        .map_err(io_ctx(format!("reading {}", dir.display())))?
        .dev();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        let mut entries: Vec<_> = fs::read_dir(&abs)
            .map_err(io_ctx(format!("reading {}", abs.display())))?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        // Depth-first in name order: push in reverse.
        let mut subdirs = Vec::new();
        for entry in entries {
            let name = rel.join(entry.file_name());
            let path = entry.path();
            let m = fs::symlink_metadata(&path)
                .map_err(io_ctx(format!("reading {}", path.display())))?;
            let ft = m.file_type();
            if ft.is_socket() || (ft.is_char_device() && m.rdev() == 0) {
                continue;
            }
            let mut header = tar::Header::new_gnu();
            header.set_mode(m.mode() & 0o7777);
            header.set_uid(m.uid().into());
            header.set_gid(m.gid().into());
            header.set_mtime(m.mtime().max(0) as u64);
            header.set_size(0);
            let xattrs = read_xattrs(&path);
            if !xattrs.is_empty() {
                let pax: Vec<(String, Vec<u8>)> = xattrs
                    .into_iter()
                    .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v))
                    .collect();
                builder
                    .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                    .map_err(io_ctx("writing the tar"))?;
            }
            let werr = || io_ctx(format!("writing {} to the tar", name.display()));
            if !ft.is_dir() && m.nlink() > 1 {
                if let Some(first) = links.get(&(m.dev(), m.ino())) {
                    header.set_entry_type(tar::EntryType::Link);
                    builder
                        .append_link(&mut header, &name, first)
                        .map_err(werr())?;
                    continue;
                }
                links.insert((m.dev(), m.ino()), name.clone());
            }
            if ft.is_dir() {
                header.set_entry_type(tar::EntryType::Directory);
                let mut dname = name.clone().into_os_string();
                dname.push("/");
                builder
                    .append_data(&mut header, &dname, io::empty())
                    .map_err(werr())?;
                if m.dev() == root_dev {
                    subdirs.push(name);
                }
            } else if ft.is_symlink() {
                let target =
                    fs::read_link(&path).map_err(io_ctx(format!("reading {}", path.display())))?;
                header.set_entry_type(tar::EntryType::Symlink);
                builder
                    .append_link(&mut header, &name, &target)
                    .map_err(werr())?;
            } else if ft.is_file() {
                let f =
                    fs::File::open(&path).map_err(io_ctx(format!("reading {}", path.display())))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(m.size());
                builder.append_data(&mut header, &name, f).map_err(werr())?;
            } else {
                let kind = if ft.is_char_device() {
                    tar::EntryType::Char
                } else if ft.is_block_device() {
                    tar::EntryType::Block
                } else {
                    tar::EntryType::Fifo
                };
                header.set_entry_type(kind);
                if kind != tar::EntryType::Fifo {
                    let dev = m.rdev();
                    header
                        .set_device_major(nix::sys::stat::major(dev) as u32)
                        .map_err(werr())?;
                    header
                        .set_device_minor(nix::sys::stat::minor(dev) as u32)
                        .map_err(werr())?;
                }
                builder
                    .append_data(&mut header, &name, io::empty())
                    .map_err(werr())?;
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    builder.into_inner().map_err(io_ctx("finishing the tar"))
}

fn read_xattrs(path: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(names) = xattr::list(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in names {
        let name = n.to_string_lossy().into_owned();
        if name.starts_with("trusted.overlay.") {
            continue;
        }
        if let Ok(Some(v)) = xattr::get(path, &n) {
            out.push((name, v));
        }
    }
    out.sort();
    out
}
