//! The crate's only `unsafe` code: raw syscalls that nix 0.29 does not wrap safely.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Errors from the raw system calls.
#[derive(Debug, thiserror::Error)]
pub enum SysError {
    /// fork(2) failed.
    #[error("fork failed")]
    Fork(#[source] nix::Error),
    /// A step of the read-only re-exec failed.
    #[error("cannot re-exec from a read-only mount: {0}")]
    Seal(&'static str, #[source] io::Error),
}

/// Which side of a fork we are on.
#[derive(Debug)]
pub enum Forked {
    /// The parent, with the child's pid.
    Parent(i32),
    /// The child.
    Child,
}

/// fork(2). Call only while the process is single-threaded (the shim before anything else).
pub fn fork() -> Result<Forked, SysError> {
    // SAFETY: the shim and `berth init` call this before any thread exists, so the child
    // inherits no lock held by another thread and may allocate freely.
    match unsafe { nix::unistd::fork() }.map_err(SysError::Fork)? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child.as_raw())),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Sets a terminal's window size (TIOCSWINSZ) so the foreground group gets SIGWINCH.
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which is valid for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Restores the default disposition of SIGPIPE (ignored by Rust's runtime; an ignored
/// disposition survives execve) and unblocks every signal (the shim blocks SIGCHLD, and a
/// mask survives fork and execve): a container process must start like one from runc.
pub fn reset_signals_for_exec() {
    // SAFETY: setting SIG_DFL installs no handler; no Rust code runs on a signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
}

/// Gives freed heap memory back to the kernel (the shim's idle RSS).
pub fn malloc_trim() {
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes no pointers from us.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's malloc arenas. Every thread that allocates otherwise gets its own arena
/// (up to 8 per core), and the daemon's tokio blocking threads would keep megabytes each.
pub fn limit_malloc_arenas(max: i32) {
    // SAFETY: mallopt only changes a glibc tunable; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, max);
    }
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;
const AT_EMPTY_PATH: libc::c_uint = libc::AT_EMPTY_PATH as libc::c_uint;
const MOUNT_ATTR_RDONLY: u64 = 1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Whether `/proc/self/exe` sits on a read-only mount already (so the host binary cannot
/// be opened for writing through it).
pub fn exe_is_readonly() -> bool {
    nix::sys::statvfs::statvfs("/proc/self/exe")
        .map(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
        .unwrap_or(false)
}

/// A detached, read-only bind mount of the file at `path` (open_tree(OPEN_TREE_CLONE) +
/// mount_setattr(MOUNT_ATTR_RDONLY)), as an fd (close-on-exec). Executing it (execveat
/// with AT_EMPTY_PATH, or execve of `/proc/self/fd/<fd>`) gives a process whose
/// `/proc/<pid>/exe` cannot be opened for writing. Needs Linux >= 5.12.
fn readonly_tree(path: &std::ffi::CStr) -> Result<OwnedFd, SysError> {
    let err = |what| move |e| SysError::Seal(what, e);
    // SAFETY: `path` is a NUL-terminated string; the syscall returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(err("open_tree")(io::Error::last_os_error()));
    }
    // SAFETY: open_tree returned a fresh fd that nothing else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: the fd is valid, the empty path is NUL-terminated and `attr` is a
    // `struct mount_attr` whose size we pass along.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(err("mount_setattr")(io::Error::last_os_error()));
    }
    Ok(tree)
}

/// The binary at `path` on a detached read-only mount (see [`reexec_readonly`]), for a
/// parent that spawns shims: it keeps the fd and executes `/proc/self/fd/<fd>`, so
/// the shim starts protected and skips its own re-exec (one execve, dynamic linking and
/// start-up less per container). The mount lives as long as the fd or a process
/// running from it.
pub fn readonly_exe(path: &std::path::Path) -> Result<OwnedFd, SysError> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| SysError::Seal("path", io::ErrorKind::InvalidInput.into()))?;
    readonly_tree(&c)
}

/// CVE-2019-5736 protection. libcontainer 0.7 has none of its own (no memfd or sealing
/// code in the crate: only youki's CLI `main` calls `pentacle::ensure_sealed()`), and its
/// intermediate and init processes are clones of the caller that run the caller's
/// binary until they execve the container's command, so the embedding binary must
/// protect itself. (runc protects itself: its `runc init` runs from a sealed memfd.)
///
/// Re-executes the current binary through a detached, read-only
/// bind mount of itself (open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_RDONLY) +
/// execveat(AT_EMPTY_PATH)). Afterwards `/proc/<pid>/exe` of the shim, of libcontainer's
/// init before it execs, and of exec'd processes resolves to that mount, so a container
/// that opens it for writing gets EROFS instead of overwriting the host's berth binary.
///
/// Why not runc's sealed-memfd copy (pentacle): it copies the whole binary (tens of MB
/// here) per shim, costs ~10–20 ms and keeps that copy in shmem for the shim's life. The
/// detached read-only mount costs three syscalls and no memory (measured ~0.3 ms plus
/// the second execve, ~1 ms in total). This is the idea runc 1.2 took ("overlayfs"
/// sealing: never copy the binary). Needs Linux ≥ 5.12; on older kernels the caller goes
/// on without the protection. Returns only on failure.
pub fn reexec_readonly(args: &[String]) -> SysError {
    let err = |what| move |e| SysError::Seal(what, e);
    let tree = match readonly_tree(c"/proc/self/exe") {
        Ok(t) => t,
        Err(e) => return e,
    };
    let cargs: Vec<CString> = args
        .iter()
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    let cenv: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut s = k.into_encoded_bytes();
            s.push(b'=');
            s.extend(v.into_encoded_bytes());
            CString::new(s).ok()
        })
        .collect();
    let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = cenv.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: argv and envp are NULL-terminated arrays of pointers into `cargs`/`cenv`,
    // which outlive the call; on success execveat does not return.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            tree.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    err("execveat")(io::Error::last_os_error())
}

/// Makes this process the reaper of its orphaned descendants (runc's init after
/// `runc create` exits, double-forked exec children).
pub fn set_child_subreaper() -> nix::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// Takes ownership of a descriptor just received with SCM_RIGHTS.
pub fn owned_from_scm(fd: RawFd) -> OwnedFd {
    // SAFETY: recvmsg installed `fd` in our table for this message only; no other owner
    // exists, so wrapping it closes it exactly once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Makes `cmd`'s child start with an empty signal mask and default SIGPIPE (std's spawn
/// keeps the parent's mask, and the shim and `berth init` block signals).
pub fn clean_signals(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls signal(2) and
    // sigprocmask(2), both async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// Gives the idle shim's memory back: freed heap (`malloc_trim`), clean file-backed
/// pages, and the stack below the caller's frame.
///
/// - Clean file pages (program text and read-only data that were never written): this
///   process's page-table references are dropped, so its RSS counts only what runs again
///   afterwards (each touched page faults back in with its fault-around neighbours, up
///   to 64 KiB). The pages stay in the page cache, shared with every other berth
///   process. Mappings with any anonymous (written, e.g. relocated RELRO) page are left
///   alone: dropping those would lose data.
/// - The stack below the caller (minus a margin): dead by the ABI, but libcontainer's
///   deep calls at create left tens of KiB of it resident. Pages refault as zeroes.
///
/// The ranges are collected first and the heap trimmed before any page is dropped, so
/// the least code runs (and faults back in) afterwards. Call it right before blocking.
/// Measured: see the shim's module docs.
#[inline(never)]
pub fn trim_memory() {
    const MAX: usize = 128;
    let mut ranges = [(0usize, 0usize); MAX];
    let mut n = 0;
    let marker = 0u8;
    let sp = std::hint::black_box(&marker) as *const u8 as usize;
    if let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") {
        let mut current: Option<(usize, usize, bool)> = None;
        let mut push = |c: Option<(usize, usize, bool)>| {
            if let (Some((s, e, true)), true) = (c, n < MAX) {
                ranges[n] = (s, e);
                n += 1;
            }
        };
        for line in smaps.lines() {
            let mut f = line.split_whitespace();
            let first = f.next().unwrap_or("");
            if let Some((s, e)) = first
                .split_once('-')
                .filter(|(s, _)| s.chars().all(|c| c.is_ascii_hexdigit()))
            {
                push(current.take());
                let perms = f.next().unwrap_or("");
                let path = f.nth(3).unwrap_or("");
                let (Ok(s), Ok(e)) = (usize::from_str_radix(s, 16), usize::from_str_radix(e, 16))
                else {
                    continue;
                };
                if path == "[stack]" && (s..e).contains(&sp) {
                    // Keep 16 KiB below this frame (red zone, the calls that follow).
                    let end = (sp.saturating_sub(16 << 10)) & !4095;
                    if end > s {
                        push(Some((s, end, true)));
                    }
                    continue;
                }
                let clean = (perms == "r-xp" || perms == "r--p") && path.starts_with('/');
                current = Some((s, e, clean));
            } else if first == "Anonymous:" && f.next() != Some("0") {
                if let Some(c) = &mut current {
                    c.2 = false;
                }
            }
        }
        push(current.take());
    }
    malloc_trim();
    for &(s, e) in &ranges[..n] {
        // SAFETY: each range is either a whole private, never-written file mapping of this
        // process (no anonymous pages), where MADV_DONTNEED only unmaps pages that re-read
        // identically from the file on the next access, or the part of the main thread's
        // stack more than 16 KiB below the current frame, which no live frame uses (the
        // stack grows down; no signal handler runs on it) and which refaults as zeroes.
        unsafe {
            libc::madvise(s as *mut libc::c_void, e - s, libc::MADV_DONTNEED);
        }
    }
}
