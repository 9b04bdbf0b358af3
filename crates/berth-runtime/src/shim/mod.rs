//! `berth shim`: the per-container monitor (docs/architecture.md, "Shim command line and
//! protocol").
//!
//! One single-threaded process per container, no async runtime and no threads: a `poll(2)`
//! loop over a signalfd (SIGCHLD, blocked before the container is created so a fast exit
//! is never missed), the control socket, client connections and the container's output.
//! It is a child subreaper, so it reaps init (libcontainer clones it with CLONE_PARENT; runc
//! leaves it to be reparented) and exec processes, and records exit codes as 128+N for a
//! signal, as dockerd/containerd do.
//!
//! The shim runs from a detached read-only mount of its binary (CVE-2019-5736, see
//! [`sys::reexec_readonly`]): the daemon opens that mount once and executes shims from it
//! ([`sys::readonly_exe`]); a shim started any other way re-executes itself from one
//! before anything else. It makes its paths absolute and moves to `/`. Unix socket paths may be longer than `sun_path` (they go through
//! `/proc/<pid>/fd/<dir>`).
//!
//! Memory (kernel 6.18, cgroup v1, `bench/run.sh`): release build, idle container,
//! 0.86 MiB RSS / 0.68 MiB PSS once idle for [`IDLE_TRIM`] ([`sys::trim_memory`]: heap,
//! clean file pages, dead stack; the read buffer is freed too). What is left is mostly
//! the binary's relocated RELRO (~470 KiB of anonymous pages every PIE process of this
//! binary has) and the 64 KiB fault-around windows of the code the poll loop runs.
//! The debug build is bigger (about 2.7 MB).

pub mod client;
pub mod log;
pub mod proto;

use std::fs::File;
use std::io::{ErrorKind, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use self::log::{rfc3339_nano, LogWriter};
use self::proto::{
    ExecRequest, ExitStatus, Ready, Reply, Request, StateReply, FRAME_EXIT, FRAME_STDERR,
    FRAME_STDOUT,
};
use crate::runtime::{self, ProcessIo, Runtime, RuntimeKind};
use crate::sys;

/// Errors of the shim's set-up (before the ready line).
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// Bad command line.
    #[error("usage: {0}")]
    Usage(String),
    /// A system call failed.
    #[error("{0}")]
    Io(&'static str, #[source] std::io::Error),
    /// The runtime refused to create the container.
    #[error("{0}")]
    Runtime(#[from] runtime::RuntimeError),
}

fn io_err(what: &'static str) -> impl FnOnce(std::io::Error) -> ShimError {
    move |e| ShimError::Io(what, e)
}

fn nix_err(what: &'static str) -> impl FnOnce(nix::Error) -> ShimError {
    move |e| ShimError::Io(what, e.into())
}

/// The shim's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimArgs {
    /// Container ID.
    pub id: String,
    /// Bundle directory (config.json).
    pub bundle: PathBuf,
    /// State directory (shim.sock, shim.pid, exit.json, runtime/).
    pub state: PathBuf,
    /// json-file log.
    pub log: PathBuf,
    /// Backend.
    pub runtime: RuntimeKind,
    /// Allocate a pty.
    pub tty: bool,
    /// Keep stdin open (a pipe the attach clients write to).
    pub stdin: bool,
    /// Close stdin when the first attached writer closes its side.
    pub stdin_once: bool,
}

impl ShimArgs {
    /// Makes the paths absolute (against the current directory), so the shim can work
    /// from `/`.
    pub fn absolute(mut self) -> Result<Self, ShimError> {
        for p in [&mut self.bundle, &mut self.state, &mut self.log] {
            *p = std::path::absolute(&*p).map_err(io_err("invalid path"))?;
        }
        Ok(self)
    }

    /// Parses the arguments after `shim`.
    pub fn parse(args: &[String]) -> Result<Self, ShimError> {
        let mut id = None;
        let mut bundle = None;
        let mut state = None;
        let mut log = None;
        let mut rt = RuntimeKind::Libcontainer;
        let (mut tty, mut stdin, mut stdin_once) = (false, false, false);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| ShimError::Usage(format!("{a} needs a value")))
            };
            match a.as_str() {
                "--id" => id = Some(val()?),
                "--bundle" => bundle = Some(val()?),
                "--state" => state = Some(val()?),
                "--log" => log = Some(val()?),
                "--runtime" => rt = val()?.parse().map_err(ShimError::Usage)?,
                "--tty" => tty = true,
                "--stdin" => stdin = true,
                "--stdin-once" => stdin_once = true,
                _ => return Err(ShimError::Usage(format!("unknown argument {a:?}"))),
            }
        }
        let need =
            |v: Option<_>, n: &str| v.ok_or_else(|| ShimError::Usage(format!("{n} is required")));
        Ok(ShimArgs {
            id: need(id, "--id")?,
            bundle: need(bundle, "--bundle")?.into(),
            state: need(state, "--state")?.into(),
            log: need(log, "--log")?.into(),
            runtime: rt,
            tty,
            stdin,
            stdin_once,
        })
    }
}

/// Entry point of `berth shim …` (`args` without the leading `shim`); returns the exit
/// status. Must run before any other thread exists.
pub fn main(args: &[String]) -> i32 {
    let parsed = match ShimArgs::parse(args).and_then(ShimArgs::absolute) {
        Ok(a) => a,
        Err(e) => {
            ready_line(&Ready {
                error: Some(e.to_string()),
                ..Default::default()
            });
            return 2;
        }
    };
    // Hold no directory of the daemon's busy, and keep libcontainer working: it saves and
    // restores the cwd around its console and notify sockets (`current_dir().unwrap()`
    // panics when the cwd was deleted).
    let _ = nix::unistd::chdir("/");
    // CVE-2019-5736: never let container processes see the host binary writable through
    // /proc/<pid>/exe (see sys::reexec_readonly for the choice and its cost).
    if !sys::exe_is_readonly() && std::env::var_os("BERTH_SHIM_NO_SEAL").is_none() {
        let mut argv: Vec<String> = std::env::args().collect();
        if argv.is_empty() {
            argv.push("berth".into());
        }
        let e = sys::reexec_readonly(&argv);
        // Old kernel (< 5.12): carry on unprotected rather than fail every container.
        let _ = writeln!(std::io::stderr(), "berth shim: {e}");
    }
    match sys::fork() {
        Ok(sys::Forked::Parent(_)) => return 0,
        Ok(sys::Forked::Child) => {}
        Err(e) => {
            ready_line(&Ready {
                error: Some(e.to_string()),
                ..Default::default()
            });
            return 1;
        }
    }
    let _ = nix::unistd::setsid();
    // `ps -o comm` tells shims from the daemon (both run the berth binary), as benchmarks
    // and operators count them apart.
    let _ = nix::sys::prctl::set_name(c"berth-shim");
    match Shim::create(parsed) {
        Ok(mut shim) => {
            let pid = shim.init.pid;
            ready_line(&Ready {
                pid: Some(pid),
                ..Default::default()
            });
            // The pipe to the daemon is done; the daemon may be gone later.
            if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
                let _ = nix::unistd::dup2(null.as_raw_fd(), 0);
                let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
                let _ = nix::unistd::dup2(null.as_raw_fd(), 2);
            }
            // Trimmed once idle (the daemon's `start` usually follows at once).
            shim.trim = true;
            shim.run();
            0
        }
        Err(e) => {
            let error = e.to_string();
            // dockerd records 127/126 as the container's exit code for these.
            let exit_code = match e {
                ShimError::Runtime(_) => runtime::start_error_exit_code(&error),
                _ => None,
            };
            ready_line(&Ready {
                pid: None,
                error: Some(error),
                exit_code,
            });
            1
        }
    }
}

fn ready_line(r: &Ready) {
    let mut line = serde_json::to_vec(r).unwrap_or_default();
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&line);
    let _ = out.flush();
}

/// Writes `data` to `path` atomically (temp file in the same dir, rename): a reader sees
/// the old file or the whole new one, also after a crash of the shim. No fsync: every
/// file the shim writes (shim.pid, exit.json, exec specs) is under the exec root, run
/// state that a reboot makes meaningless (`/run` is a tmpfs), and an fsync cost ~0.5 ms
/// on a container's start and exit paths.
fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(data)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

fn pipe() -> Result<(File, File), ShimError> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(nix_err("pipe"))?;
    Ok((File::from(r), File::from(w)))
}

fn set_nonblock(fd: BorrowedFd<'_>) {
    if let Ok(fl) = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::F_GETFL) {
        let fl = OFlag::from_bits_truncate(fl) | OFlag::O_NONBLOCK;
        let _ = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::F_SETFL(fl));
    }
}

/// Listens on the unix socket `path`, whatever its length (see [`client::connect_unix`]).
fn bind_unix(path: &Path) -> std::io::Result<UnixListener> {
    crate::sockpath::with_short_path(path, |p| UnixListener::bind(p))
}

/// Waits (up to 10 s) for the runtime to connect to `listener` and pass the pty master.
fn receive_pty(listener: &UnixListener) -> Result<File, ShimError> {
    let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    let n = nix::poll::poll(&mut fds, PollTimeout::from(10_000u16)).map_err(nix_err("poll"))?;
    if n == 0 {
        return Err(ShimError::Io("console socket", ErrorKind::TimedOut.into()));
    }
    let (conn, _) = listener.accept().map_err(io_err("accept"))?;
    conn.set_nonblocking(false)
        .map_err(io_err("console socket"))?;
    let mut buf = [0u8; 256];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(nix_err("recvmsg"))?;
    for c in msg.cmsgs().map_err(nix_err("recvmsg"))? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                for &extra in &fds[1..] {
                    drop(File::from(nix_fd(extra)));
                }
                return Ok(File::from(nix_fd(fd)));
            }
        }
    }
    Err(ShimError::Io(
        "console socket",
        ErrorKind::InvalidData.into(),
    ))
}

/// Takes ownership of an fd received with SCM_RIGHTS.
fn nix_fd(fd: std::os::fd::RawFd) -> OwnedFd {
    // recvmsg just installed this descriptor in our table; nothing else owns it.
    crate::sys::owned_from_scm(fd)
}

/// One process the shim watches: init or an exec.
#[derive(Debug)]
struct Proc {
    pid: i32,
    /// Exec key (0 for init).
    key: u64,
    tty: bool,
    /// stdout pipe or pty master.
    out: Option<File>,
    err: Option<File>,
    /// Where client stdin goes (pipe write end, or a dup of the pty master).
    stdin: Option<File>,
    stdin_buf: Vec<u8>,
    close_stdin_after_flush: bool,
    exit: Option<i32>,
    exited_at: Option<Instant>,
    finished: bool,
}

impl Proc {
    fn new(pid: i32, key: u64, tty: bool) -> Self {
        Proc {
            pid,
            key,
            tty,
            out: None,
            err: None,
            stdin: None,
            stdin_buf: Vec::new(),
            close_stdin_after_flush: false,
            exit: None,
            exited_at: None,
            finished: false,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Status {
    Created,
    Running,
    Paused,
    Exited,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Exited => "exited",
        }
    }
}

#[derive(Debug)]
enum ConnMode {
    /// Reading the request line.
    Request(Vec<u8>),
    /// Streaming for process `key`.
    Stream {
        key: u64,
        stdin: bool,
        stdout: bool,
        stderr: bool,
        stdin_eof: bool,
    },
    /// Blocked in `wait`.
    Waiting,
    /// Flush the output, then close.
    Closing,
}

#[derive(Debug)]
struct Conn {
    sock: UnixStream,
    out: Vec<u8>,
    mode: ConnMode,
    dead: bool,
}

/// Output buffered for a slow client beyond this closes the connection (instead of
/// stalling the container or growing without bound).
const MAX_CLIENT_BUFFER: usize = 8 << 20;

/// How long the shim waits for output to drain after a process exits (a background
/// child may hold the pipe open).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an exited shim lingers for clients that have not asked to shut down.
const LINGER: Duration = Duration::from_secs(5);

/// Idle time (ms) after a request before the shim trims its memory (see
/// `sys::trim_memory`).
const IDLE_TRIM: u16 = 250;

/// Poll tokens.
#[derive(Debug, Clone, Copy)]
enum Token {
    Signal,
    Listener,
    Conn(usize),
    Out(u64),
    Err(u64),
    Stdin(u64),
}

struct Shim {
    args: ShimArgs,
    rt: Box<dyn Runtime>,
    sigfd: SignalFd,
    listener: UnixListener,
    status: Status,
    init: Proc,
    execs: Vec<Proc>,
    next_key: u64,
    conns: Vec<Conn>,
    log: LogWriter,
    started_at: String,
    finished_at: Option<String>,
    oom_killed: bool,
    finalized_at: Option<Instant>,
    shutdown: bool,
    /// A request ran (runtime calls touch megabytes of libcontainer code and heap, a
    /// JSON reply hundreds of KiB of serde code): give the memory back once the loop has
    /// been idle for [`IDLE_TRIM`].
    trim: bool,
    /// Trim right before the next poll blocks (so the least code runs after it).
    trim_due: bool,
}

impl Shim {
    fn create(args: ShimArgs) -> Result<Self, ShimError> {
        sys::set_child_subreaper().map_err(nix_err("PR_SET_CHILD_SUBREAPER"))?;
        // Block SIGCHLD before anything can fork: its arrival is then queued for the
        // signalfd, so a container that exits at once is never missed (the youki CLI and
        // runc both had that race).
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGCHLD);
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
            .map_err(nix_err("sigprocmask"))?;
        let sigfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(nix_err("signalfd"))?;
        std::fs::create_dir_all(&args.state).map_err(io_err("cannot create the state dir"))?;
        let sock_path = args.state.join("shim.sock");
        let _ = std::fs::remove_file(&sock_path);
        let listener = bind_unix(&sock_path).map_err(io_err("cannot listen on shim.sock"))?;
        listener
            .set_nonblocking(true)
            .map_err(io_err("shim.sock"))?;
        let rt_root = args.state.join("runtime");
        std::fs::create_dir_all(&rt_root).map_err(io_err("cannot create the runtime dir"))?;
        let mut rt = runtime::open(args.runtime, &rt_root);
        let log = LogWriter::open(&args.log).unwrap_or_else(|_| LogWriter::disabled());

        let mut init = Proc::new(0, 0, args.tty);
        let result = if args.tty {
            let cs_path = args.state.join("console.sock");
            let _ = std::fs::remove_file(&cs_path);
            let cs = bind_unix(&cs_path).map_err(io_err("cannot listen on the console socket"))?;
            let io = ProcessIo {
                console_socket: Some(cs_path.clone()),
                ..Default::default()
            };
            let r = rt
                .create(&args.id, &args.bundle, io)
                .map_err(ShimError::from)
                .and_then(|pid| {
                    let master = receive_pty(&cs)?;
                    set_nonblock(master.as_fd());
                    init.stdin = master.try_clone().ok();
                    init.out = Some(master);
                    Ok(pid)
                });
            let _ = std::fs::remove_file(&cs_path);
            r
        } else {
            let (out_r, out_w) = pipe()?;
            let (err_r, err_w) = pipe()?;
            let stdin = if args.stdin {
                let (r, w) = pipe()?;
                set_nonblock(w.as_fd());
                init.stdin = Some(w);
                Some(OwnedFd::from(r))
            } else {
                None
            };
            set_nonblock(out_r.as_fd());
            set_nonblock(err_r.as_fd());
            init.out = Some(out_r);
            init.err = Some(err_r);
            let io = ProcessIo {
                stdin,
                stdout: Some(out_w.into()),
                stderr: Some(err_w.into()),
                console_socket: None,
            };
            rt.create(&args.id, &args.bundle, io)
                .map_err(ShimError::from)
        };
        let pid = match result {
            Ok(pid) => pid,
            Err(e) => {
                let _ = rt.delete(&args.id, true);
                let _ = std::fs::remove_file(&sock_path);
                let _ = std::fs::remove_dir_all(&rt_root);
                reap_all();
                return Err(e);
            }
        };
        init.pid = pid;
        let _ = write_atomic(
            &args.state.join("shim.pid"),
            std::process::id().to_string().as_bytes(),
        );
        Ok(Shim {
            args,
            rt,
            sigfd,
            listener,
            status: Status::Created,
            init,
            execs: Vec::new(),
            next_key: 1,
            conns: Vec::new(),
            log,
            started_at: String::new(),
            finished_at: None,
            oom_killed: false,
            finalized_at: None,
            shutdown: false,
            trim: false,
            trim_due: false,
        })
    }

    fn proc_mut(&mut self, key: u64) -> Option<&mut Proc> {
        if key == 0 {
            Some(&mut self.init)
        } else {
            self.execs.iter_mut().find(|p| p.key == key)
        }
    }

    fn run(&mut self) {
        // Read buffer, allocated while there is traffic and freed before a trim.
        let mut buf = Vec::new();
        loop {
            if self.should_exit() {
                break;
            }
            let (tokens, ready) = match self.poll_once() {
                Ok(x) => x,
                Err(_) => continue,
            };
            if ready.iter().all(|f| f.is_empty()) {
                if self.trim {
                    // Idle for IDLE_TRIM: the next poll trims right before it blocks.
                    self.trim = false;
                    self.trim_due = true;
                    buf = Vec::new();
                }
            } else if buf.is_empty() {
                buf = vec![0u8; 32 * 1024];
            }
            for (tok, flags) in tokens.into_iter().zip(ready) {
                if flags.is_empty() {
                    continue;
                }
                match tok {
                    Token::Signal => self.on_signal(),
                    Token::Listener => self.accept(),
                    Token::Conn(i) => self.on_conn(i, flags, &mut buf),
                    Token::Out(k) => self.on_output(k, false, &mut buf),
                    Token::Err(k) => self.on_output(k, true, &mut buf),
                    Token::Stdin(k) => self.flush_stdin(k),
                }
            }
            self.check_finished();
            self.conns.retain(|c| !c.dead);
        }
        self.cleanup();
    }

    fn should_exit(&self) -> bool {
        let Some(at) = self.finalized_at else {
            return false;
        };
        let pending = self.conns.iter().any(|c| !c.out.is_empty());
        let busy = self
            .conns
            .iter()
            .any(|c| !matches!(c.mode, ConnMode::Closing) || !c.out.is_empty());
        if self.shutdown && !pending {
            return true;
        }
        // Nobody left: linger briefly for a late `wait`/`state`, then go.
        (!busy && at.elapsed() >= Duration::from_millis(500)) || at.elapsed() >= LINGER
    }

    /// Polls once; returns the tokens and their events.
    fn poll_once(&mut self) -> nix::Result<(Vec<Token>, Vec<PollFlags>)> {
        let mut tokens = Vec::new();
        let mut fds: Vec<PollFd<'_>> = Vec::new();
        let r = PollFlags::POLLIN;
        fds.push(PollFd::new(self.sigfd.as_fd(), r));
        tokens.push(Token::Signal);
        if self.finalized_at.is_none() || !self.shutdown {
            fds.push(PollFd::new(self.listener.as_fd(), r));
            tokens.push(Token::Listener);
        }
        let stdin_full = |key: u64, init: &Proc, execs: &[Proc]| {
            let p = if key == 0 {
                Some(init)
            } else {
                execs.iter().find(|p| p.key == key)
            };
            p.is_none_or(|p| p.stdin_buf.len() > 64 * 1024)
        };
        for (i, c) in self.conns.iter().enumerate() {
            let mut ev = PollFlags::empty();
            match &c.mode {
                ConnMode::Request(_) => ev |= r,
                ConnMode::Stream {
                    key,
                    stdin: true,
                    stdin_eof: false,
                    ..
                } if !stdin_full(*key, &self.init, &self.execs) => ev |= r,
                _ => {}
            }
            if !c.out.is_empty() {
                ev |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(c.sock.as_fd(), ev));
            tokens.push(Token::Conn(i));
        }
        for p in std::iter::once(&self.init).chain(self.execs.iter()) {
            if let Some(f) = &p.out {
                fds.push(PollFd::new(f.as_fd(), r));
                tokens.push(Token::Out(p.key));
            }
            if let Some(f) = &p.err {
                fds.push(PollFd::new(f.as_fd(), r));
                tokens.push(Token::Err(p.key));
            }
            if let (Some(f), false) = (&p.stdin, p.stdin_buf.is_empty()) {
                fds.push(PollFd::new(f.as_fd(), PollFlags::POLLOUT));
                tokens.push(Token::Stdin(p.key));
            }
        }
        // Wake up for drain deadlines and the linger timer.
        let waiting = std::iter::once(&self.init)
            .chain(self.execs.iter())
            .any(|p| p.exit.is_some() && !p.finished);
        let timeout = if waiting || self.finalized_at.is_some() {
            PollTimeout::from(100u16)
        } else if self.trim {
            PollTimeout::from(IDLE_TRIM)
        } else {
            PollTimeout::NONE
        };
        if std::mem::take(&mut self.trim_due) {
            sys::trim_memory();
        }
        nix::poll::poll(&mut fds, timeout)?;
        let ready = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        Ok((tokens, ready))
    }

    fn on_signal(&mut self) {
        while let Ok(Some(_)) = self.sigfd.read_signal() {}
        self.reap();
    }

    /// Reaps every exited child, recording the exit codes of init and exec processes.
    fn reap(&mut self) {
        loop {
            let st = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) => st,
            };
            let (pid, code) = match st {
                WaitStatus::Exited(p, c) => (p.as_raw(), c),
                WaitStatus::Signaled(p, s, _) => (p.as_raw(), 128 + s as i32),
                _ => continue,
            };
            let now = Instant::now();
            if pid == self.init.pid && self.init.exit.is_none() {
                self.init.exit = Some(code);
                self.init.exited_at = Some(now);
                self.finished_at = Some(rfc3339_nano(Utc::now()));
            } else if let Some(p) = self
                .execs
                .iter_mut()
                .find(|p| p.pid == pid && p.exit.is_none())
            {
                p.exit = Some(code);
                p.exited_at = Some(now);
            }
        }
    }

    fn accept(&mut self) {
        while let Ok((sock, _)) = self.listener.accept() {
            let _ = sock.set_nonblocking(true);
            self.conns.push(Conn {
                sock,
                out: Vec::new(),
                mode: ConnMode::Request(Vec::new()),
                dead: false,
            });
        }
    }

    fn on_conn(&mut self, i: usize, flags: PollFlags, buf: &mut [u8]) {
        if flags.contains(PollFlags::POLLOUT) {
            let c = &mut self.conns[i];
            while !c.out.is_empty() {
                match c.sock.write(&c.out) {
                    Ok(n) => {
                        c.out.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        c.dead = true;
                        break;
                    }
                }
            }
            if c.out.is_empty() {
                c.out = Vec::new();
                if matches!(c.mode, ConnMode::Closing) {
                    c.dead = true;
                }
            }
        }
        if flags.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
            let n = match self.conns[i].sock.read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => 0,
            };
            match &mut self.conns[i].mode {
                ConnMode::Request(line) => {
                    if n == 0 {
                        self.conns[i].dead = true;
                        return;
                    }
                    line.extend_from_slice(&buf[..n]);
                    if let Some(pos) = line.iter().position(|&b| b == b'\n') {
                        let req: Vec<u8> = line[..pos].to_vec();
                        self.handle_request(i, &req);
                    } else if line.len() > 1 << 20 {
                        self.conns[i].dead = true;
                    }
                }
                ConnMode::Stream { key, stdin_eof, .. } => {
                    let key = *key;
                    if n == 0 {
                        *stdin_eof = true;
                        self.stdin_eof(key);
                    } else if let Some(p) = self.proc_mut(key) {
                        p.stdin_buf.extend_from_slice(&buf[..n]);
                        self.flush_stdin(key);
                    }
                }
                ConnMode::Waiting | ConnMode::Closing => {
                    if n == 0
                        && self.conns[i].out.is_empty()
                        && matches!(self.conns[i].mode, ConnMode::Waiting)
                    {
                        self.conns[i].dead = true;
                    }
                }
            }
        }
    }

    fn stdin_eof(&mut self, key: u64) {
        let once = self.args.stdin_once;
        if let Some(p) = self.proc_mut(key) {
            // Closing a pty master would hang up the terminal: with a tty, EOF is ignored.
            if !p.tty && (key != 0 || once) {
                p.close_stdin_after_flush = true;
            }
        }
        self.flush_stdin(key);
    }

    fn flush_stdin(&mut self, key: u64) {
        let Some(p) = self.proc_mut(key) else { return };
        if let Some(f) = &mut p.stdin {
            while !p.stdin_buf.is_empty() {
                match f.write(&p.stdin_buf) {
                    Ok(n) => {
                        p.stdin_buf.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        p.stdin_buf.clear();
                        p.stdin = None;
                        break;
                    }
                }
            }
        } else {
            p.stdin_buf.clear();
        }
        if p.stdin_buf.is_empty() {
            p.stdin_buf = Vec::new();
            if p.close_stdin_after_flush {
                p.stdin = None;
            }
        }
    }

    fn on_output(&mut self, key: u64, is_err: bool, buf: &mut [u8]) {
        let Some(p) = self.proc_mut(key) else { return };
        let tty = p.tty;
        let slot = if is_err { &mut p.err } else { &mut p.out };
        let Some(f) = slot else { return };
        let n = match f.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => 0, // EIO on a pty master once the slave side is gone
        };
        if n == 0 {
            *slot = None;
            if tty {
                // The master is shared with stdin; the terminal is gone.
                p.stdin = None;
            }
            return;
        }
        let data = &buf[..n];
        let kind = if is_err && !tty {
            FRAME_STDERR
        } else {
            FRAME_STDOUT
        };
        if key == 0 {
            self.log.write(kind == FRAME_STDERR, data);
        }
        for c in &mut self.conns {
            if let ConnMode::Stream {
                key: k,
                stdout,
                stderr,
                ..
            } = c.mode
            {
                if k == key
                    && ((kind == FRAME_STDOUT && stdout) || (kind == FRAME_STDERR && stderr))
                {
                    proto::push_frame(&mut c.out, kind, data);
                    if c.out.len() > MAX_CLIENT_BUFFER {
                        c.dead = true;
                    }
                }
            }
        }
    }

    /// Finishes processes that exited and whose output is drained (or whose drain timed out).
    fn check_finished(&mut self) {
        let ready = |p: &Proc| {
            p.exit.is_some()
                && !p.finished
                && ((p.out.is_none() && p.err.is_none())
                    || p.exited_at.is_some_and(|t| t.elapsed() >= DRAIN_TIMEOUT))
        };
        let keys: Vec<u64> = self
            .execs
            .iter()
            .filter(|p| ready(p))
            .map(|p| p.key)
            .collect();
        for k in keys {
            let code = self
                .execs
                .iter()
                .find(|p| p.key == k)
                .and_then(|p| p.exit)
                .unwrap_or(-1);
            self.send_exit(k, code);
        }
        self.execs
            .retain(|p| p.exit.is_none() || !ready(p) && !p.finished);
        if ready(&self.init) {
            self.finalize();
        }
    }

    fn send_exit(&mut self, key: u64, code: i32) {
        if let Some(p) = self.proc_mut(key) {
            p.finished = true;
            p.out = None;
            p.err = None;
            p.stdin = None;
        }
        for c in &mut self.conns {
            if matches!(c.mode, ConnMode::Stream { key: k, .. } if k == key) {
                proto::push_frame(&mut c.out, FRAME_EXIT, &code.to_be_bytes());
                c.mode = ConnMode::Closing;
            }
        }
    }

    /// Init exited and its output is drained: log, exit.json, frames, waiters, delete.
    fn finalize(&mut self) {
        let code = self.init.exit.unwrap_or(-1);
        self.log.flush_partial();
        self.status = Status::Exited;
        self.oom_killed = oom_killed(&self.args.id);
        let finished_at = self
            .finished_at
            .clone()
            .unwrap_or_else(|| rfc3339_nano(Utc::now()));
        let exit = ExitStatus {
            exit_code: code,
            finished_at: finished_at.clone(),
            oom_killed: self.oom_killed,
        };
        let _ = write_atomic(
            &self.args.state.join("exit.json"),
            &serde_json::to_vec(&exit).unwrap_or_default(),
        );
        self.send_exit(0, code);
        let reply = Reply {
            ok: true,
            exit_code: Some(code),
            finished_at: Some(finished_at),
            oom_killed: Some(self.oom_killed),
            ..Default::default()
        };
        for c in &mut self.conns {
            if matches!(c.mode, ConnMode::Waiting) {
                push_json(&mut c.out, &reply);
                c.mode = ConnMode::Closing;
            }
        }
        // Flush replies before the (slow: cgroup rmdir) delete.
        for i in 0..self.conns.len() {
            self.on_conn(i, PollFlags::POLLOUT, &mut []);
        }
        if let Err(e) = self.rt.delete(&self.args.id, true) {
            self.note(&format!("runtime delete failed: {e}"));
        }
        // Exec processes died with the container's PID namespace: record their codes
        // (their clients get exit frames once the output is drained).
        self.reap();
        self.finalized_at = Some(Instant::now());
        self.trim = true;
    }

    /// Records a problem nobody is waiting to hear about in `<state>/shim.log` (the
    /// shim's stdio is /dev/null once it is ready).
    fn note(&self, msg: &str) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.args.state.join("shim.log"))
        {
            let _ = writeln!(f, "{} {msg}", rfc3339_nano(Utc::now()));
        }
    }

    fn cleanup(&mut self) {
        for c in &mut self.conns {
            let _ = c.sock.set_nonblocking(false);
            let _ = c.sock.set_write_timeout(Some(Duration::from_millis(500)));
            let _ = c.sock.write_all(&c.out);
        }
        let _ = std::fs::remove_file(self.args.state.join("shim.sock"));
        let _ = std::fs::remove_file(self.args.state.join("shim.pid"));
        let _ = std::fs::remove_dir_all(self.args.state.join("runtime"));
    }

    fn reply(&mut self, i: usize, r: &Reply) {
        let c = &mut self.conns[i];
        push_json(&mut c.out, r);
    }

    fn error(&mut self, i: usize, msg: String) {
        self.reply(
            i,
            &Reply {
                ok: false,
                error: Some(msg),
                ..Default::default()
            },
        );
        self.conns[i].mode = ConnMode::Closing;
    }

    fn ok(&mut self, i: usize) {
        self.reply(
            i,
            &Reply {
                ok: true,
                ..Default::default()
            },
        );
        self.conns[i].mode = ConnMode::Closing;
    }

    fn handle_request(&mut self, i: usize, line: &[u8]) {
        let req: Request = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => return self.error(i, format!("bad request: {e}")),
        };
        let exited = self.init.exit.is_some() || self.status == Status::Exited;
        let id = self.args.id.clone();
        self.trim = true;
        match req {
            Request::Start => {
                if self.status != Status::Created {
                    return self.error(i, format!("container {id} is not in created state"));
                }
                match self.rt.start(&id) {
                    Ok(()) => {
                        self.status = Status::Running;
                        self.started_at = rfc3339_nano(Utc::now());
                        self.ok(i)
                    }
                    Err(e) => self.error(i, e.to_string()),
                }
            }
            Request::State => {
                let s = StateReply {
                    ok: true,
                    status: if exited {
                        "exited"
                    } else {
                        self.status.as_str()
                    }
                    .into(),
                    pid: self.init.pid,
                    exit_code: self.init.exit,
                    started_at: self.started_at.clone(),
                    finished_at: self.finished_at.clone(),
                    oom_killed: self.oom_killed,
                };
                let c = &mut self.conns[i];
                push_json(&mut c.out, &s);
                c.mode = ConnMode::Closing;
            }
            Request::Wait => {
                if self.finalized_at.is_some() {
                    let r = Reply {
                        ok: true,
                        exit_code: self.init.exit,
                        finished_at: self.finished_at.clone(),
                        oom_killed: Some(self.oom_killed),
                        ..Default::default()
                    };
                    self.reply(i, &r);
                    self.conns[i].mode = ConnMode::Closing;
                } else {
                    self.conns[i].mode = ConnMode::Waiting;
                }
            }
            Request::Kill { signal, all } => {
                if exited {
                    return self.error(i, format!("container {id} is not running"));
                }
                match self.rt.kill(&id, signal, all) {
                    Ok(()) => self.ok(i),
                    Err(e) => self.error(i, e.to_string()),
                }
            }
            Request::Pause | Request::Resume => {
                let pause = matches!(req, Request::Pause);
                if exited {
                    return self.error(i, format!("container {id} is not running"));
                }
                let r = if pause {
                    self.rt.pause(&id)
                } else {
                    self.rt.resume(&id)
                };
                match r {
                    Ok(()) => {
                        self.status = if pause {
                            Status::Paused
                        } else {
                            Status::Running
                        };
                        self.ok(i)
                    }
                    Err(e) => self.error(i, e.to_string()),
                }
            }
            Request::Resize { height, width } => self.resize(i, 0, height, width),
            Request::ExecResize { pid, height, width } => {
                match self.execs.iter().find(|p| p.pid == pid).map(|p| p.key) {
                    Some(k) => self.resize(i, k, height, width),
                    None => self.error(i, format!("no such exec process {pid}")),
                }
            }
            Request::Attach {
                stdin,
                stdout,
                stderr,
            } => {
                if self.finalized_at.is_some() {
                    // Attaching to an exited container: just the exit frame.
                    let code = self.init.exit.unwrap_or(0);
                    let c = &mut self.conns[i];
                    push_json(
                        &mut c.out,
                        &Reply {
                            ok: true,
                            ..Default::default()
                        },
                    );
                    proto::push_frame(&mut c.out, FRAME_EXIT, &code.to_be_bytes());
                    c.mode = ConnMode::Closing;
                    return;
                }
                let stdin = stdin && self.init.stdin.is_some();
                let c = &mut self.conns[i];
                push_json(
                    &mut c.out,
                    &Reply {
                        ok: true,
                        ..Default::default()
                    },
                );
                c.mode = ConnMode::Stream {
                    key: 0,
                    stdin,
                    stdout,
                    stderr,
                    stdin_eof: false,
                };
            }
            Request::Exec(e) => {
                if exited || self.status != Status::Running {
                    let msg = if self.status == Status::Paused {
                        format!("Container {id} is paused, unpause the container before exec")
                    } else {
                        format!("container {id} is not running")
                    };
                    return self.error(i, msg);
                }
                match self.exec(&e) {
                    Ok((pid, key)) => {
                        let c = &mut self.conns[i];
                        push_json(
                            &mut c.out,
                            &Reply {
                                ok: true,
                                pid: Some(pid),
                                ..Default::default()
                            },
                        );
                        c.mode = ConnMode::Stream {
                            key,
                            stdin: e.stdin,
                            stdout: e.stdout,
                            stderr: e.stderr,
                            stdin_eof: !e.stdin,
                        };
                    }
                    Err(msg) => {
                        // As for a container, the code dockerd records (127/126).
                        let exit_code = runtime::start_error_exit_code(&msg);
                        self.reply(
                            i,
                            &Reply {
                                ok: false,
                                error: Some(msg),
                                exit_code,
                                ..Default::default()
                            },
                        );
                        self.conns[i].mode = ConnMode::Closing;
                    }
                }
            }
            Request::Shutdown => {
                if self.finalized_at.is_none() {
                    return self.error(i, format!("container {id} is still running"));
                }
                self.shutdown = true;
                self.ok(i)
            }
        }
    }

    fn resize(&mut self, i: usize, key: u64, h: u16, w: u16) {
        let r = match self.proc_mut(key) {
            Some(p) if p.tty => match &p.out {
                Some(m) => sys::set_winsize(m.as_fd(), h, w).map_err(|e| e.to_string()),
                None => Ok(()),
            },
            _ => Err("the process has no tty".to_string()),
        };
        match r {
            Ok(()) => self.ok(i),
            Err(e) => self.error(i, e),
        }
    }

    /// Starts an exec process; returns (pid, key) or dockerd-style error text.
    fn exec(&mut self, e: &ExecRequest) -> Result<(i32, u64), String> {
        if e.args.is_empty() {
            return Err("no command specified".into());
        }
        let key = self.next_key;
        self.next_key += 1;
        let pjson = self.args.state.join(format!("exec-{key}.json"));
        let process =
            exec_process(&self.args.bundle, e).map_err(|m| format!("cannot prepare exec: {m}"))?;
        write_atomic(&pjson, process.as_bytes())
            .map_err(|m| format!("cannot write exec spec: {m}"))?;
        let mut p = Proc::new(0, key, e.tty);
        let result = if e.tty {
            let cs_path = self.args.state.join(format!("exec-{key}.sock"));
            let _ = std::fs::remove_file(&cs_path);
            let r = bind_unix(&cs_path)
                .map_err(|e| e.to_string())
                .and_then(|cs| {
                    let io = ProcessIo {
                        console_socket: Some(cs_path.clone()),
                        ..Default::default()
                    };
                    let pid = self
                        .rt
                        .exec(&self.args.id, &pjson, io)
                        .map_err(|e| e.to_string())?;
                    let master = receive_pty(&cs).map_err(|e| e.to_string())?;
                    set_nonblock(master.as_fd());
                    if e.height > 0 && e.width > 0 {
                        let _ = sys::set_winsize(master.as_fd(), e.height, e.width);
                    }
                    p.stdin = master.try_clone().ok();
                    p.out = Some(master);
                    Ok(pid)
                });
            let _ = std::fs::remove_file(&cs_path);
            r
        } else {
            let pipes = (|| -> Result<_, ShimError> {
                Ok((pipe()?, pipe()?, if e.stdin { Some(pipe()?) } else { None }))
            })();
            let ((out_r, out_w), (err_r, err_w), stdin) = pipes.map_err(|e| e.to_string())?;
            set_nonblock(out_r.as_fd());
            set_nonblock(err_r.as_fd());
            p.out = Some(out_r);
            p.err = Some(err_r);
            let stdin_r = stdin.map(|(r, w)| {
                set_nonblock(w.as_fd());
                p.stdin = Some(w);
                OwnedFd::from(r)
            });
            let io = ProcessIo {
                stdin: stdin_r,
                stdout: Some(out_w.into()),
                stderr: Some(err_w.into()),
                console_socket: None,
            };
            self.rt
                .exec(&self.args.id, &pjson, io)
                .map_err(|e| e.to_string())
        };
        let _ = std::fs::remove_file(&pjson);
        let pid = result?;
        p.pid = pid;
        self.execs.push(p);
        Ok((pid, key))
    }
}

fn push_json<T: serde::Serialize>(out: &mut Vec<u8>, v: &T) {
    if let Ok(mut line) = serde_json::to_vec(v) {
        line.push(b'\n');
        out.extend_from_slice(&line);
    }
}

/// Reaps whatever exited (after a failed create or a delete).
fn reap_all() {
    while let Ok(st) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if st == WaitStatus::StillAlive {
            break;
        }
    }
}

/// Whether the container's memory cgroup recorded an OOM kill (v1 `memory.oom_control`,
/// v2 `memory.events`), which is how dockerd reports `OOMKilled`.
fn oom_killed(id: &str) -> bool {
    let files = [
        format!("/sys/fs/cgroup/memory/berth/{id}/memory.oom_control"),
        format!("/sys/fs/cgroup/berth/{id}/memory.events"),
    ];
    files.iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|s| {
            s.lines()
                .any(|l| l.strip_prefix("oom_kill ").is_some_and(|n| n.trim() != "0"))
        })
    })
}

/// The OCI process for an exec: the container's process (capabilities, rlimits,
/// no_new_privileges, …) with the exec's args, env (merged over the container's, as
/// dockerd does), cwd, user and terminal, like dockerd's exec spec.
fn exec_process(bundle: &Path, e: &ExecRequest) -> Result<String, String> {
    let spec = std::fs::read(bundle.join("config.json")).map_err(|e| e.to_string())?;
    let mut spec: serde_json::Value = serde_json::from_slice(&spec).map_err(|e| e.to_string())?;
    let mut p = spec["process"].take();
    p["args"] = serde_json::json!(e.args);
    let mut env: Vec<String> = serde_json::from_value(p["env"].take()).unwrap_or_default();
    for kv in &e.env {
        let k = kv.split('=').next().unwrap_or(kv);
        env.retain(|x| x.split('=').next() != Some(k));
        env.push(kv.clone());
    }
    p["env"] = serde_json::json!(env);
    if !e.cwd.is_empty() {
        p["cwd"] = e.cwd.clone().into();
    }
    if !e.user.is_empty() {
        let mut parts = e.user.splitn(3, ':');
        let uid: u32 = parts
            .next()
            .unwrap_or("0")
            .parse()
            .map_err(|_| format!("invalid user {:?}", e.user))?;
        let gid: u32 = parts
            .next()
            .unwrap_or("0")
            .parse()
            .map_err(|_| format!("invalid user {:?}", e.user))?;
        let extra: Vec<u32> = parts
            .next()
            .map(|s| s.split(',').filter_map(|g| g.parse().ok()).collect())
            .unwrap_or_default();
        p["user"] = serde_json::json!({"uid": uid, "gid": gid, "additionalGids": extra});
    }
    p["terminal"] = e.tty.into();
    if e.tty && e.height > 0 && e.width > 0 {
        p["consoleSize"] = serde_json::json!({"height": e.height, "width": e.width});
    } else if let Some(o) = p.as_object_mut() {
        o.remove("consoleSize");
    }
    serde_json::to_string(&p).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_args() {
        let a: Vec<String> =
            "--id x --bundle /b --state /s --log /l --runtime runc --tty --stdin-once"
                .split(' ')
                .map(String::from)
                .collect();
        let p = ShimArgs::parse(&a).unwrap();
        assert_eq!(p.runtime, RuntimeKind::Runc);
        assert!(p.tty && p.stdin_once && !p.stdin);
        assert!(ShimArgs::parse(&a[..2]).is_err());
        assert!(ShimArgs::parse(&["--bogus".to_string()]).is_err());
    }

    #[test]
    fn exec_process_merges() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("config.json"),
            r#"{"process":{"args":["sh"],"env":["PATH=/bin","A=1"],"cwd":"/","user":{"uid":0,"gid":0},"capabilities":{"bounding":["CAP_KILL"]}}}"#,
        )
        .unwrap();
        let e = ExecRequest {
            args: vec!["ls".into()],
            env: vec!["A=2".into(), "B=3".into()],
            user: "1:2:3,4".into(),
            ..Default::default()
        };
        let p: serde_json::Value =
            serde_json::from_str(&exec_process(d.path(), &e).unwrap()).unwrap();
        assert_eq!(p["args"], serde_json::json!(["ls"]));
        assert_eq!(p["env"], serde_json::json!(["PATH=/bin", "A=2", "B=3"]));
        assert_eq!(p["user"]["additionalGids"], serde_json::json!([3, 4]));
        assert_eq!(p["capabilities"]["bounding"][0], "CAP_KILL");
    }
}
