//! The few calls that need `unsafe`: the terminal size ioctl and `setsid` in a
//! spawned child.
#![allow(unsafe_code)]

use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;

/// The window size (rows, columns) of the terminal on `fd`.
pub fn window_size(fd: RawFd) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the pointer, which points to a live,
    // properly aligned local; an invalid fd only makes the call fail.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) };
    (rc == 0 && ws.ws_row > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Makes the spawned child a session leader (detached from our terminal).
pub fn setsid_on_spawn(cmd: &mut std::process::Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls
    // setsid(2), which is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
