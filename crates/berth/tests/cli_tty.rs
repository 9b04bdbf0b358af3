//! Root integration tests of the interactive CLI: berth runs on a real pseudo-terminal
//! (the test holds the master side, berth's session has the slave as its controlling
//! terminal), with real containers: `run -it`, `exec -it`, raw mode, window size and
//! resize, detach keys, `attach`, `start -a -i`.
#![allow(unsafe_code)]

mod common;

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{wait_until, Daemon, BERTH};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, LocalFlags};

const T: Duration = Duration::from_secs(15);

/// The berth CLI on a pseudo-terminal of `rows` x `cols`.
struct Pty {
    master: File,
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// Output before this offset was already matched by `expect`.
    mark: usize,
}

fn winsize(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    fn spawn(d: &Daemon, args: &[&str], rows: u16, cols: u16) -> Pty {
        let pty = openpty(&winsize(rows, cols), None).expect("openpty");
        let slave: OwnedFd = pty.slave;
        let mut cmd = Command::new(BERTH);
        cmd.arg("-H").arg(d.host()).args(args);
        cmd.stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        // SAFETY: runs in the forked child before exec; setsid(2) and ioctl(2) are
        // async-signal-safe and allocate nothing. The child's stdin is the pty slave,
        // which becomes its controlling terminal (so that resizes send SIGWINCH).
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn berth on a pty");
        drop(cmd);
        let master = File::from(pty.master);
        let out = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let mut m = master.try_clone().unwrap();
            let out = out.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                use std::io::Read;
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let mut fds = [PollFd::new(m.as_fd(), PollFlags::POLLIN)];
                    match poll(&mut fds, PollTimeout::from(100u16)) {
                        Ok(0) => continue,
                        Ok(_) => {}
                        Err(_) => break,
                    }
                    match m.read(&mut buf) {
                        Ok(0) | Err(_) => break, // EIO: the slave side is closed.
                        Ok(n) => out.lock().unwrap().extend_from_slice(&buf[..n]),
                    }
                }
            })
        };
        Pty {
            master,
            child,
            out,
            stop,
            reader: Some(reader),
            mark: 0,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn send(&mut self, s: &[u8]) {
        self.master.write_all(s).unwrap();
    }

    /// Waits for `needle` in the output after the last match; moves the mark past it.
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + T;
        loop {
            let text = self.text();
            if let Some(p) = text.get(self.mark..).and_then(|t| t.find(needle)) {
                self.mark += p + needle.len();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; output: {:?}",
                text.get(self.mark..).unwrap_or("")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a shell command line and waits for its marker output.
    fn sh(&mut self, cmd: &str, expect: &str) {
        self.send(format!("{cmd}\r").as_bytes());
        self.expect(expect);
    }

    /// Sets the terminal size on the master: the kernel sends SIGWINCH to berth.
    fn resize(&self, rows: u16, cols: u16) {
        let ws = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads a `winsize` from a pointer to a live local.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        assert_eq!(rc, 0, "TIOCSWINSZ");
    }

    /// Local flags of the terminal (shared by both sides of the pty).
    fn lflags(&self) -> LocalFlags {
        tcgetattr(self.master.as_fd()).unwrap().local_flags
    }

    /// Waits for berth to exit; its exit code.
    fn wait(&mut self) -> i32 {
        let deadline = Instant::now() + T;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "berth did not exit; output: {:?}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn status(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.State.Status}}", name])
}

#[test]
fn run_it_raw_mode_tty_size_resize_and_exit_code() {
    let d = Daemon::with_busybox();
    let mut p = Pty::spawn(
        &d,
        &["run", "-it", "--name", "ttyrun", "busybox", "sh"],
        30,
        100,
    );
    p.expect("/ # ");
    // berth put the outer terminal in raw mode (no echo, no canonical input).
    let lf = p.lflags();
    assert!(!lf.contains(LocalFlags::ECHO) && !lf.contains(LocalFlags::ICANON));
    p.sh("tty; echo T-$?", "T-0");
    assert!(p.text().contains("/dev/pts/0"), "{}", p.text());
    // The container's terminal has the outer size from the start...
    p.sh("echo S-$(stty size)-S", "S-30 100-S");
    // ...and follows a resize of the outer terminal.
    p.resize(40, 120);
    let mut tries = 0;
    loop {
        tries += 1;
        p.send(b"echo R-$(stty size)-R\r");
        p.expect("R-");
        p.expect("-R");
        let t = p.text();
        let last = &t[t[..p.mark].rfind("R-").unwrap()..p.mark];
        if last == "R-40 120-R" {
            break;
        }
        assert!(tries < 50, "resize not forwarded: {last:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Raw mode: ^C reaches the container's terminal (interrupting sleep), not berth.
    p.send(b"sleep 100\r");
    assert!(wait_until(T, || d
        .ok(&["top", "ttyrun"])
        .contains("sleep 100")));
    p.send(b"\x03");
    p.sh("echo after-$?", "after-130");
    assert_eq!(status(&d, "ttyrun"), "running");
    // The exit code of the container is berth's.
    p.send(b"exit 3\r");
    assert_eq!(p.wait(), 3);
    // The terminal is restored.
    assert!(p.lflags().contains(LocalFlags::ECHO));
    assert_eq!(status(&d, "ttyrun"), "exited");
}

#[test]
fn exec_it_tty_size_resize_and_exit_code() {
    let d = Daemon::with_busybox();
    d.ok(&["run", "-d", "--name", "ttyexec", "busybox", "sleep", "1000"]);
    let mut p = Pty::spawn(&d, &["exec", "-it", "ttyexec", "sh"], 24, 80);
    p.expect("/ # ");
    let lf = p.lflags();
    assert!(!lf.contains(LocalFlags::ECHO) && !lf.contains(LocalFlags::ICANON));
    p.sh("echo TTY-$(tty)-TTY", "TTY-/dev/pts/");
    p.sh("echo S-$(stty size)-S", "S-24 80-S");
    p.resize(33, 111);
    assert!(
        wait_until(T, || {
            p.send(b"echo R-$(stty size)-R\r");
            std::thread::sleep(Duration::from_millis(100));
            p.text().contains("R-33 111-R")
        }),
        "exec resize not forwarded: {}",
        p.text()
    );
    p.send(b"exit 4\r");
    assert_eq!(p.wait(), 4);
    assert!(p.lflags().contains(LocalFlags::ECHO));
    // The container keeps running.
    assert_eq!(status(&d, "ttyexec"), "running");
    drop(p);
    // Ctrl-P Ctrl-Q leaves an exec session like docker: "read escape sequence", 1.
    let mut p = Pty::spawn(&d, &["exec", "-it", "ttyexec", "sh"], 24, 80);
    p.expect("/ # ");
    p.send(b"\x10\x11");
    p.expect("read escape sequence");
    assert_eq!(p.wait(), 1);
}

#[test]
fn detach_keys_attach_and_reattach() {
    let d = Daemon::with_busybox();
    // run -it, then Ctrl-P Ctrl-Q: berth exits 0, the container keeps running.
    let mut p = Pty::spawn(
        &d,
        &["run", "-it", "--name", "det", "busybox", "sh"],
        24,
        80,
    );
    p.expect("/ # ");
    p.sh("echo one-$((40+2))", "one-42");
    p.send(b"\x10\x11");
    assert_eq!(p.wait(), 0);
    assert!(p.lflags().contains(LocalFlags::ECHO));
    drop(p);
    assert_eq!(status(&d, "det"), "running");

    // attach: the shell redraws its prompt (berth nudges the size), input works, and
    // Ctrl-P Ctrl-Q detaches like docker ("read escape sequence", exit 1).
    let mut p = Pty::spawn(&d, &["attach", "det"], 24, 80);
    p.expect("/ # ");
    p.sh("echo two-$((40+3))", "two-43");
    // A lone Ctrl-P followed by something else is passed through (to the shell's
    // line editor; Ctrl-C then drops the line) and does not detach.
    p.send(b"\x10");
    p.send(b"\x03");
    p.sh("echo three-$((1+2))", "three-3");
    p.send(b"\x10\x11");
    p.expect("read escape sequence");
    assert_eq!(p.wait(), 1);
    drop(p);
    assert_eq!(status(&d, "det"), "running");

    // Custom keys; the default sequence is then ordinary input.
    let mut p = Pty::spawn(&d, &["attach", "--detach-keys", "ctrl-a,x", "det"], 24, 80);
    p.send(b"\r");
    p.expect("/ # ");
    p.send(b"\x01x");
    p.expect("read escape sequence");
    assert_eq!(p.wait(), 1);
    drop(p);
    assert_eq!(status(&d, "det"), "running");

    // attach, then the container exits: attach exits with its code.
    let mut p = Pty::spawn(&d, &["attach", "det"], 24, 80);
    p.send(b"\r");
    p.expect("/ # ");
    p.send(b"exit 6\r");
    assert_eq!(p.wait(), 6);
    assert_eq!(status(&d, "det"), "exited");

    // run -it --detach-keys.
    let mut p = Pty::spawn(
        &d,
        &[
            "run",
            "-it",
            "--detach-keys",
            "ctrl-x,y",
            "--name",
            "det2",
            "busybox",
            "sh",
        ],
        24,
        80,
    );
    p.expect("/ # ");
    p.send(b"\x18y");
    assert_eq!(p.wait(), 0);
    assert_eq!(status(&d, "det2"), "running");
}

#[test]
fn create_it_then_start_ai() {
    let d = Daemon::with_busybox();
    d.ok(&["create", "-it", "--name", "sai", "busybox", "sh"]);
    let mut p = Pty::spawn(&d, &["start", "-ai", "sai"], 20, 70);
    p.expect("/ # ");
    let lf = p.lflags();
    assert!(!lf.contains(LocalFlags::ECHO));
    p.sh("echo S-$(stty size)-$(tty)", "S-20 70-/dev/pts/0");
    p.send(b"exit 7\r");
    assert_eq!(p.wait(), 7);
    assert!(p.lflags().contains(LocalFlags::ECHO));
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.ExitCode}}", "sai"]), "7");
}
