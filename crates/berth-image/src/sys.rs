//! The few raw-fd operations nix 0.29 does not wrap into owned descriptors.
//!
//! This is the only module of the crate allowed to use `unsafe`.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

/// `openat(2)` relative to `dir`, returning an owned descriptor.
pub fn open_at<Fd: AsRawFd>(
    dir: &Fd,
    name: &std::ffi::OsStr,
    flags: OFlag,
    mode: Mode,
) -> nix::Result<OwnedFd> {
    let fd = nix::fcntl::openat(Some(dir.as_raw_fd()), name, flags | OFlag::O_CLOEXEC, mode)?;
    // SAFETY: `openat` just returned this descriptor successfully; nothing else owns
    // it, so transferring its ownership to an `OwnedFd` (closed on drop) is sound.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
