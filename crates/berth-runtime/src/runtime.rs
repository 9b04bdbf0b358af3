//! The OCI runtime behind the shim: embedded libcontainer (default) or the runc CLI.
//!
//! Both backends fork: call them only from a single-threaded process (the shim). Both
//! leave the container's processes as children of the caller (libcontainer clones init
//! with CLONE_PARENT; runc's init is reparented to the shim, a child subreaper), so the
//! caller reaps them.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio as StdStdio};

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use oci_spec::runtime::Spec;

/// Errors from a runtime operation. The message is the runtime's own, with dockerd's
/// wording for a missing or non-executable command.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// libcontainer failed (the message includes its error chain).
    #[error("{0}")]
    Libcontainer(String),
    /// runc failed (its last error log line).
    #[error("{0}")]
    Runc(String),
    /// Starting the runc binary failed.
    #[error("cannot run runc")]
    Spawn(#[source] std::io::Error),
    /// A signal number the runtime does not know.
    #[error("invalid signal {0}")]
    Signal(i32),
}

/// The stdio of a process to create.
#[derive(Debug, Default)]
pub struct ProcessIo {
    /// Becomes fd 0 (none: /dev/null).
    pub stdin: Option<OwnedFd>,
    /// Becomes fd 1 (none: /dev/null).
    pub stdout: Option<OwnedFd>,
    /// Becomes fd 2 (none: /dev/null).
    pub stderr: Option<OwnedFd>,
    /// With a tty: the unix socket on which the runtime sends the pty master.
    pub console_socket: Option<PathBuf>,
}

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// youki's libcontainer, in-process.
    Libcontainer,
    /// The `runc` binary.
    Runc,
}

impl std::str::FromStr for RuntimeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "libcontainer" | "" => Ok(RuntimeKind::Libcontainer),
            "runc" => Ok(RuntimeKind::Runc),
            _ => Err(format!("unknown runtime {s:?}")),
        }
    }
}

/// An OCI runtime operating on containers under one state root.
pub trait Runtime {
    /// Creates the container from `bundle` (init waits for `start`); returns init's pid.
    fn create(&mut self, id: &str, bundle: &Path, io: ProcessIo) -> Result<i32, RuntimeError>;
    /// Starts the created container.
    fn start(&mut self, id: &str) -> Result<(), RuntimeError>;
    /// Sends `signal` to init, or to every process of the container with `all`.
    fn kill(&mut self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError>;
    /// Freezes the container.
    fn pause(&mut self, id: &str) -> Result<(), RuntimeError>;
    /// Thaws the container.
    fn resume(&mut self, id: &str) -> Result<(), RuntimeError>;
    /// Removes the container's state and cgroup (`force` kills what is left).
    fn delete(&mut self, id: &str, force: bool) -> Result<(), RuntimeError>;
    /// Runs the process described by `process_json` (an OCI `Process`) in the container;
    /// returns its pid once it has exec'd.
    fn exec(&mut self, id: &str, process_json: &Path, io: ProcessIo) -> Result<i32, RuntimeError>;
}

/// Opens a runtime of `kind` whose state lives under `root`.
pub fn open(kind: RuntimeKind, root: &Path) -> Box<dyn Runtime> {
    match kind {
        RuntimeKind::Libcontainer => Box::new(Libcontainer {
            root: root.to_path_buf(),
        }),
        RuntimeKind::Runc => Box::new(Runc {
            root: root.to_path_buf(),
            binary: "runc".into(),
        }),
    }
}

/// Rewrites a runtime's "command not found" / "not executable" errors to dockerd's
/// wording (`exec: "x": executable file not found in $PATH`), which the CLI maps to exit
/// codes 127 and 126.
pub fn docker_exec_error(msg: &str) -> String {
    const NOT_FOUND: &str = "executable file not found in $PATH";
    if let Some(i) = msg.find("exec: \"") {
        return format!("unable to start container process: {}", &msg[i..]);
    }
    // libcontainer: executable 'x' not found in $PATH / … does not have correct permissions
    if let Some(i) = msg.find("executable '") {
        let rest = &msg[i + 12..];
        let name = rest.split('\'').next().unwrap_or(rest);
        if rest.contains("not found") {
            return format!("unable to start container process: exec: \"{name}\": {NOT_FOUND}");
        }
        if rest.contains("permission") {
            return format!(
                "unable to start container process: exec: \"{name}\": permission denied"
            );
        }
    }
    msg.to_string()
}

/// The exit code dockerd gives a container (or the CLI's `docker run`) whose process could
/// not be started, from the runtime's message (moby `translateContainerdStartErr`): 127
/// when the command does not exist, 126 when it is not executable; `None` otherwise.
pub fn start_error_exit_code(msg: &str) -> Option<i32> {
    let not_found = [
        "executable file not found",
        "no such file or directory",
        "system cannot find the file specified",
    ];
    if not_found.iter().any(|s| msg.contains(s)) {
        return Some(127);
    }
    if msg.contains("permission denied") || msg.contains("is a directory") {
        return Some(126);
    }
    None
}

/// An errno as Go's `syscall.Errno.Error()` spells it (lower case), which dockerd and the
/// docker CLI match on.
fn go_errno(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let d = nix::errno::Errno::from_raw(n).desc();
            let mut c = d.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
        None => e.to_string(),
    }
}

/// Go's `exec.LookPath` as runc 1.1 runs it in the container before `start`: a name with
/// a slash is used as is, others are searched in `path` (the process's `PATH`); a
/// candidate must be a non-directory with any execute bit. Errors are Go's text
/// (`exec: "x": executable file not found in $PATH`, `exec: "/x": stat /x: no such file
/// or directory`, `exec: "/etc": permission denied`).
///
/// libcontainer's own check differs: it accepts only files with the *other* execute bit
/// (so a `0750` entrypoint fails), stops at the first PATH entry that merely exists, and
/// words its errors differently.
pub fn look_path(name: &str, path: &str) -> Result<std::path::PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let check = |file: &Path| -> Result<(), std::io::Error> {
        let m = std::fs::metadata(file)?;
        if !m.is_dir() && m.permissions().mode() & 0o111 != 0 {
            Ok(())
        } else {
            Err(std::io::Error::from_raw_os_error(libc::EACCES))
        }
    };
    if name.contains('/') {
        return match check(Path::new(name)) {
            Ok(()) => Ok(name.into()),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                Err(format!("exec: {name:?}: permission denied"))
            }
            Err(e) => Err(format!("exec: {name:?}: stat {name}: {}", go_errno(&e))),
        };
    }
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        if check(&candidate).is_ok() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "exec: {name:?}: executable file not found in $PATH"
    ))
}

/// libcontainer's default executor with runc's checks and behaviour around it: the
/// command is looked up like runc does ([`look_path`]) before the container is created,
/// the signal state is reset (the shim blocks SIGCHLD and Rust ignores SIGPIPE; both
/// survive execve), and an execve that still fails (no ELF interpreter, a script without
/// `#!`) is reported on the container's stderr as runc does (`exec /x: exec format
/// error`) before the process exits with status 1.
#[derive(Clone, Default)]
struct ShimExecutor {
    /// The container's seccomp profile, for exec processes only: libcontainer 0.7's tenant
    /// builder drops `linux.seccomp` from the spec it runs them with, so this executor
    /// loads the filter itself, right before execve (runc and dockerd filter exec too).
    tenant_seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
}

impl ShimExecutor {
    fn args_and_path(spec: &Spec) -> (Vec<String>, String) {
        let Some(p) = spec.process().as_ref() else {
            return (Vec::new(), String::new());
        };
        let args = p.args().clone().unwrap_or_default();
        let path = p
            .env()
            .iter()
            .flatten()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or_default()
            .to_string();
        (args, path)
    }
}

impl Executor for ShimExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        crate::sys::reset_signals_for_exec();
        if let Some(profile) = &self.tenant_seccomp {
            load_tenant_seccomp(profile)?;
        }
        let (args, path) = Self::args_and_path(spec);
        let Some(name) = args.first() else {
            return Err(ExecutorError::InvalidArg);
        };
        let file = look_path(name, &path).map_err(ExecutorError::Other)?;
        let cargs: Vec<std::ffi::CString> = args
            .iter()
            .map(|a| std::ffi::CString::new(a.as_bytes()))
            .collect::<Result<_, _>>()
            .map_err(|_| ExecutorError::InvalidArg)?;
        let cfile = std::ffi::CString::new(file.as_os_str().as_encoded_bytes())
            .map_err(|_| ExecutorError::InvalidArg)?;
        // The environment is already the container's (libcontainer's setup_envs).
        let err = nix::unistd::execv(&cfile, &cargs).unwrap_err();
        let msg = format!(
            "exec {}: {}\n",
            file.display(),
            go_errno(&std::io::Error::from(err))
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
        std::process::exit(1)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let (args, path) = Self::args_and_path(spec);
        let name = args.first().ok_or_else(|| {
            ExecutorValidationError::ArgValidationError("no command specified".into())
        })?;
        look_path(name, &path)
            .map(|_| ())
            .map_err(ExecutorValidationError::ArgValidationError)
    }
}

/// The error and its sources on one line.
/// Loads the container's seccomp filter in an exec process. Capabilities are already
/// dropped here, so without CAP_SYS_ADMIN the kernel only accepts a filter from a process
/// with no_new_privs: it is set then (setuid binaries run by `exec` do not gain privileges;
/// the alternative, an unfiltered exec, would be a way around the container's filter).
fn load_tenant_seccomp(profile: &oci_spec::runtime::LinuxSeccomp) -> Result<(), ExecutorError> {
    // Decide before compiling: a failed load would cost a second compilation (~14 ms).
    const CAP_SYS_ADMIN: u32 = 21;
    let sys_admin =
        crate::spec::own_capabilities("CapEff").is_some_and(|eff| eff & (1 << CAP_SYS_ADMIN) != 0);
    if !sys_admin {
        nix::sys::prctl::set_no_new_privs()
            .map_err(|e| ExecutorError::Other(format!("cannot set no_new_privs: {e}")))?;
    }
    libcontainer::seccomp::initialize_seccomp(profile)
        .map(|_| ())
        .map_err(|e| ExecutorError::Other(format!("cannot load the seccomp filter: {e}")))
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let m = x.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = x.source();
    }
    s
}

fn lc_err(e: impl std::error::Error) -> RuntimeError {
    RuntimeError::Libcontainer(docker_exec_error(&chain(&e)))
}

/// Embedded youki libcontainer.
#[derive(Debug)]
pub struct Libcontainer {
    root: PathBuf,
}

impl Libcontainer {
    fn builder(&self, id: &str, io: ProcessIo) -> Result<ContainerBuilder, RuntimeError> {
        self.builder_with(id, io, ShimExecutor::default())
    }

    fn builder_with(
        &self,
        id: &str,
        io: ProcessIo,
        executor: ShimExecutor,
    ) -> Result<ContainerBuilder, RuntimeError> {
        let mut b = ContainerBuilder::new(id.to_string(), SyscallType::Linux)
            .with_root_path(&self.root)
            .map_err(lc_err)?
            .with_executor(executor)
            .with_console_socket(io.console_socket.as_deref());
        let null = || {
            std::fs::File::options()
                .read(true)
                .write(true)
                .open("/dev/null")
        };
        if io.console_socket.is_none() {
            let or_null = |fd: Option<OwnedFd>| -> Result<OwnedFd, RuntimeError> {
                match fd {
                    Some(fd) => Ok(fd),
                    None => null()
                        .map(OwnedFd::from)
                        .map_err(|e| RuntimeError::Libcontainer(e.to_string())),
                }
            };
            b = b
                .with_stdin(or_null(io.stdin)?)
                .with_stdout(or_null(io.stdout)?)
                .with_stderr(or_null(io.stderr)?);
        }
        Ok(b)
    }

    /// Runs a libcontainer build step that writes the container's `oomScoreAdj` into the
    /// *calling* process (`/proc/self/oom_score_adj`, inherited by the clones), then puts
    /// the shim's own value back: runc sets it in its init only, and a shim that took a
    /// container's `--oom-score-adj 1000` would be the OOM killer's first victim.
    fn keeping_oom_score<T>(f: impl FnOnce() -> T) -> T {
        const PATH: &str = "/proc/self/oom_score_adj";
        let saved = std::fs::read_to_string(PATH).ok();
        let r = f();
        if let Some(v) = saved {
            if std::fs::read_to_string(PATH).ok().as_deref() != Some(v.as_str()) {
                let _ = std::fs::write(PATH, v.trim());
            }
        }
        r
    }

    fn load(&self, id: &str) -> Result<Container, RuntimeError> {
        Container::load(self.root.join(id)).map_err(lc_err)
    }
}

impl Runtime for Libcontainer {
    fn create(&mut self, id: &str, bundle: &Path, io: ProcessIo) -> Result<i32, RuntimeError> {
        let b = self
            .builder(id, io)?
            .as_init(bundle)
            .with_systemd(false)
            .with_detach(true);
        let c = Self::keeping_oom_score(|| b.build()).map_err(lc_err)?;
        c.pid()
            .map(|p| p.as_raw())
            .ok_or_else(|| RuntimeError::Libcontainer("container has no init pid".into()))
    }

    fn start(&mut self, id: &str) -> Result<(), RuntimeError> {
        self.load(id)?.start().map_err(lc_err)
    }

    fn kill(&mut self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError> {
        let sig = libcontainer::signal::Signal::try_from(signal)
            .map_err(|_| RuntimeError::Signal(signal))?;
        self.load(id)?.kill(sig, all).map_err(lc_err)
    }

    fn pause(&mut self, id: &str) -> Result<(), RuntimeError> {
        self.load(id)?.pause().map_err(lc_err)
    }

    fn resume(&mut self, id: &str) -> Result<(), RuntimeError> {
        self.load(id)?.resume().map_err(lc_err)
    }

    fn delete(&mut self, id: &str, force: bool) -> Result<(), RuntimeError> {
        match Container::load(self.root.join(id)) {
            Ok(mut c) => c.delete(force).map_err(lc_err),
            // Nothing to delete.
            Err(_) if !self.root.join(id).exists() => Ok(()),
            Err(e) => Err(lc_err(e)),
        }
    }

    fn exec(&mut self, id: &str, process_json: &Path, io: ProcessIo) -> Result<i32, RuntimeError> {
        let container = Container::load(self.root.join(id)).map_err(lc_err)?;
        let bundle_spec = Spec::load(container.bundle().join("config.json")).map_err(lc_err)?;
        let executor = ShimExecutor {
            tenant_seccomp: bundle_spec
                .linux()
                .as_ref()
                .and_then(|l| l.seccomp().clone()),
        };
        let b = self
            .builder_with(id, io, executor)?
            .as_tenant()
            .with_process(Some(process_json))
            .with_detach(true);
        Self::keeping_oom_score(|| b.build())
            .map(|p| p.as_raw())
            .map_err(lc_err)
    }
}

/// The runc CLI (`runc --root <state>/runtime …`).
#[derive(Debug)]
pub struct Runc {
    root: PathBuf,
    binary: PathBuf,
}

impl Runc {
    fn log_path(&self) -> PathBuf {
        self.root.join("runc.log")
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("--root")
            .arg(&self.root)
            .arg("--log")
            .arg(self.log_path())
            .arg("--log-format")
            .arg("json");
        // runc's init inherits runc's signal mask: the shim's blocked SIGCHLD must not leak.
        crate::sys::clean_signals(&mut c);
        c
    }

    /// The last error runc logged (it logs to --log, and our stderr may be the container's).
    fn last_error(&self, fallback: &str) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let _ = std::fs::remove_file(self.log_path());
        log.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["level"] == "error" || v["level"] == "fatal")
            .and_then(|v| v["msg"].as_str().map(str::to_string))
            .unwrap_or_else(|| fallback.to_string())
    }

    fn run(&self, mut cmd: Command, what: &str) -> Result<(), RuntimeError> {
        let out = cmd
            .stdin(StdStdio::null())
            .stdout(StdStdio::null())
            .stderr(StdStdio::piped())
            .output()
            .map_err(RuntimeError::Spawn)?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let fallback = if stderr.is_empty() {
            format!("runc {what} failed")
        } else {
            stderr
        };
        Err(RuntimeError::Runc(docker_exec_error(
            &self.last_error(&fallback),
        )))
    }

    /// Runs create/exec with the process's stdio as runc's own (runc passes it on).
    fn run_with_io(
        &self,
        mut cmd: Command,
        io: ProcessIo,
        pid_file: &Path,
        what: &str,
        id: &str,
    ) -> Result<i32, RuntimeError> {
        let ProcessIo {
            stdin,
            stdout,
            stderr,
            console_socket,
        } = io;
        let stdio = |fd: Option<OwnedFd>| fd.map(StdStdio::from).unwrap_or_else(StdStdio::null);
        cmd.stdin(stdio(stdin))
            .stdout(stdio(stdout))
            .stderr(stdio(stderr));
        let mut run = |console: Option<&Path>| {
            if let Some(p) = console {
                cmd.arg("--console-socket").arg(p);
            }
            cmd.arg("--pid-file").arg(pid_file).arg(id).status()
        };
        let status = match console_socket.as_deref() {
            // runc connects to the path it is given (from the bundle dir, its cwd), so a
            // long one goes through a short /proc path, valid while runc runs.
            Some(s) => crate::sockpath::with_short_path(s, |p| run(Some(p))),
            None => run(None),
        }
        .map_err(RuntimeError::Spawn)?;
        if !status.success() {
            let msg = self.last_error(&format!("runc {what} failed"));
            return Err(RuntimeError::Runc(docker_exec_error(&msg)));
        }
        let pid = std::fs::read_to_string(pid_file).unwrap_or_default();
        let _ = std::fs::remove_file(pid_file);
        pid.trim()
            .parse()
            .map_err(|_| RuntimeError::Runc(format!("runc {what}: no pid file")))
    }
}

impl Runtime for Runc {
    fn create(&mut self, id: &str, bundle: &Path, io: ProcessIo) -> Result<i32, RuntimeError> {
        let _ = std::fs::create_dir_all(&self.root);
        let mut cmd = self.command();
        cmd.arg("create").arg("--bundle").arg(bundle);
        let pid_file = self.root.join(format!("{id}.pid"));
        self.run_with_io(cmd, io, &pid_file, "create", id)
    }

    fn start(&mut self, id: &str) -> Result<(), RuntimeError> {
        let mut c = self.command();
        c.arg("start").arg(id);
        self.run(c, "start")
    }

    fn kill(&mut self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError> {
        let mut c = self.command();
        c.arg("kill");
        if all {
            c.arg("--all");
        }
        c.arg(id).arg(signal.to_string());
        self.run(c, "kill")
    }

    fn pause(&mut self, id: &str) -> Result<(), RuntimeError> {
        let mut c = self.command();
        c.arg("pause").arg(id);
        self.run(c, "pause")
    }

    fn resume(&mut self, id: &str) -> Result<(), RuntimeError> {
        let mut c = self.command();
        c.arg("resume").arg(id);
        self.run(c, "resume")
    }

    fn delete(&mut self, id: &str, force: bool) -> Result<(), RuntimeError> {
        if !self.root.join(id).exists() {
            return Ok(());
        }
        let mut c = self.command();
        c.arg("delete");
        if force {
            c.arg("--force");
        }
        c.arg(id);
        self.run(c, "delete")
    }

    fn exec(&mut self, id: &str, process_json: &Path, io: ProcessIo) -> Result<i32, RuntimeError> {
        let mut cmd = self.command();
        cmd.arg("exec")
            .arg("--detach")
            .arg("--process")
            .arg(process_json);
        let pid_file = process_json.with_extension("pid");
        self.run_with_io(cmd, io, &pid_file, "exec", id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn exit_codes_like_dockerd() {
        let code = |m: &str| start_error_exit_code(m);
        assert_eq!(
            code(
                r#"unable to start container process: exec: "x": executable file not found in $PATH"#
            ),
            Some(127)
        );
        assert_eq!(
            code(r#"exec: "/x": stat /x: no such file or directory"#),
            Some(127)
        );
        assert_eq!(code(r#"exec: "/etc": permission denied"#), Some(126));
        assert_eq!(code("cgroup: No such file or directory (os error 2)"), None);
        assert_eq!(code("something else"), None);
    }

    #[test]
    fn runtime_messages_become_dockerds() {
        assert_eq!(
            docker_exec_error(
                r#"runc create failed: unable to start container process: exec: "x": executable file not found in $PATH"#
            ),
            r#"unable to start container process: exec: "x": executable file not found in $PATH"#
        );
        assert_eq!(
            docker_exec_error("failed to create container: executable 'x' not found in $PATH"),
            r#"unable to start container process: exec: "x": executable file not found in $PATH"#
        );
        assert_eq!(docker_exec_error("other"), "other");
    }

    #[test]
    fn look_path_like_go() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let mk = |p: &Path, mode: u32| {
            std::fs::write(p, "").unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        // Not executable in a/, owner-executable in b/: the search goes on to b/.
        mk(&a.join("tool"), 0o644);
        mk(&b.join("tool"), 0o700);
        std::fs::create_dir(a.join("dir")).unwrap();
        let path = format!("{}:{}", a.display(), b.display());
        assert_eq!(look_path("tool", &path).unwrap(), b.join("tool"));
        assert_eq!(
            look_path("dir", &path).unwrap_err(),
            r#"exec: "dir": executable file not found in $PATH"#
        );
        assert_eq!(
            look_path("nope", &path).unwrap_err(),
            r#"exec: "nope": executable file not found in $PATH"#
        );
        let abs = a.join("tool").display().to_string();
        assert_eq!(
            look_path(&abs, "").unwrap_err(),
            format!("exec: {abs:?}: permission denied")
        );
        let dir = a.join("dir").display().to_string();
        assert_eq!(
            look_path(&dir, "").unwrap_err(),
            format!("exec: {dir:?}: permission denied")
        );
        let missing = a.join("missing").display().to_string();
        assert_eq!(
            look_path(&missing, "").unwrap_err(),
            format!("exec: {missing:?}: stat {missing}: no such file or directory")
        );
        let through_file = format!("{abs}/x");
        assert!(look_path(&through_file, "")
            .unwrap_err()
            .ends_with(": not a directory"));
    }
}
