//! Unix socket paths of any length. `sun_path` holds at most 107 bytes, and an engine's
//! exec root in a temp dir plus a 64-digit container ID easily passes that; such paths
//! go through `/proc/<pid>/fd/<dir fd>/<name>` instead, a short path to the same place
//! that other processes (runc's `--console-socket`) can use too while the fd is open.

use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Longest path used as is.
const MAX_SOCKET_PATH: usize = 100;

/// Runs `f` on `path`, or, when `path` is too long for a unix socket address, on an
/// equivalent short path through an `O_PATH` descriptor of its directory, open for the
/// duration of `f`.
pub(crate) fn with_short_path<T>(
    path: &Path,
    f: impl FnOnce(&Path) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if path.as_os_str().len() <= MAX_SOCKET_PATH {
        return f(path);
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return f(path);
    };
    let dir = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?;
    let short = format!("/proc/{}/fd/{}", std::process::id(), dir.as_raw_fd());
    f(&Path::new(&short).join(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::{UnixListener, UnixStream};

    #[test]
    fn long_socket_paths() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("x".repeat(120));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("s.sock");
        assert!(UnixListener::bind(&path).is_err());
        let l = with_short_path(&path, |p| UnixListener::bind(p)).unwrap();
        assert!(path.exists());
        let _c = with_short_path(&path, |p| UnixStream::connect(p)).unwrap();
        assert!(l.accept().is_ok());
    }
}
