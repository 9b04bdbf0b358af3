//! Root integration tests of `berth shim` on both runtimes (libcontainer, runc): a busybox
//! rootfs in a temp dir, a spec from `berth_runtime::spec`, the shim's protocol end to end.
//! Every test uses its own container id and a Drop guard that kills what is left (by pid:
//! the shim it started, the processes in the container's cgroups) and removes the cgroup
//! `/berth/<id>` and the temp dir, on failure too.
//!
//! Skipped (with a message) when not root, or without `/bin/busybox` (busybox-static) or
//! `runc`. `BERTH_BIN` overrides the binary under test (for example the
//! `berth-runtime` example `berth-shim-dev`, which dispatches `shim`/`init` like `berth`).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use berth_runtime::shim::client::Client;
use berth_runtime::shim::proto::{ExecRequest, Request, FRAME_EXIT, FRAME_STDOUT};
use berth_runtime::spec::{
    self, Mount, SpecInput, DEFAULT_MASKED_PATHS, DEFAULT_PATH, DEFAULT_READONLY_PATHS,
};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Read timeout of every client connection: a broken shim fails the test, never hangs it.
const TIMEOUT: Duration = Duration::from_secs(30);

fn berth_bin() -> PathBuf {
    std::env::var_os("BERTH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_berth")))
}

/// Why the tests cannot run here, if they cannot.
fn unsupported(runtime: &str) -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root".into());
    }
    if !Path::new("/bin/busybox").exists() {
        return Some("needs /bin/busybox (apt-get install busybox-static)".into());
    }
    if runtime == "runc" && Command::new("runc").arg("--version").output().is_err() {
        return Some("needs runc".into());
    }
    None
}

macro_rules! need {
    ($runtime:expr) => {
        if let Some(why) = crate::unsupported($runtime) {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// One test per runtime for a `fn(&'static str)`.
macro_rules! both_runtimes {
    ($($f:ident),* $(,)?) => {
        mod libcontainer {
            $(#[test]
            fn $f() {
                need!("libcontainer");
                crate::$f("libcontainer");
            })*
        }
        mod runc {
            $(#[test]
            fn $f() {
                need!("runc");
                crate::$f("runc");
            })*
        }
    };
}

both_runtimes!(
    output_exit_code_log_attach,
    fast_exits_are_never_missed,
    kill_exec_limits_pause,
    tty_stdin_resize,
    exec_tty_and_stdin_once,
    start_errors,
    security_defaults,
    daemon_crash_and_reconnect,
    init_in_container,
    oom_killed,
);

/// A container's files and the clean-up of everything it may leave behind.
struct Ctr {
    id: String,
    dir: PathBuf,
    state: PathBuf,
    runtime: &'static str,
}

const APPLETS: &[&str] = &[
    "sh", "echo", "cat", "sleep", "true", "false", "ls", "id", "env", "tty", "head", "printf",
    "stty", "grep", "wc", "hostname", "unshare", "touch", "tr",
];

fn connect(state: &Path) -> Client {
    let mut c = Client::connect(state).unwrap();
    c.set_timeout(Some(TIMEOUT)).unwrap();
    c
}

impl Ctr {
    fn new(tag: &str, runtime: &'static str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("rt-{tag}-{}-{}-{n}", &runtime[..2], std::process::id());
        let dir = PathBuf::from(format!("/tmp/berth-rt-test/{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        let rootfs = dir.join("rootfs");
        for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "sbin", "root"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a)).unwrap();
        }
        std::fs::write(
            rootfs.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            rootfs.join("etc/group"),
            "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("bundle")).unwrap();
        std::fs::create_dir_all(dir.join("state")).unwrap();
        let state = dir.join("state");
        Ctr {
            id,
            dir,
            state,
            runtime,
        }
    }

    fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    fn input(&self, args: &[&str]) -> SpecInput {
        SpecInput {
            id: self.id.clone(),
            rootfs: self.rootfs(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec![format!("PATH={DEFAULT_PATH}"), "HOME=/root".into()],
            cwd: "/".into(),
            hostname: "testhost".into(),
            ..Default::default()
        }
    }

    fn state(&self) -> PathBuf {
        self.state.clone()
    }

    /// Puts the shim's state dir (and so its sockets) at a path longer than a unix socket
    /// address can hold (107 bytes), as an exec root in a temp dir plus a 64-digit ID is.
    fn with_long_state(mut self) -> Self {
        self.state = self
            .dir
            .join("state")
            .join("a-state-dir-long-enough-to-exceed-the-sun-path-limit-".repeat(2));
        std::fs::create_dir_all(&self.state).unwrap();
        assert!(self.state.join("console.sock").as_os_str().len() > 108);
        self
    }

    fn log(&self) -> PathBuf {
        self.dir.join("ctr-json.log")
    }

    fn write_spec(&self, input: &SpecInput) {
        let spec = spec::build(input).unwrap();
        std::fs::write(
            self.dir.join("bundle/config.json"),
            serde_json::to_vec(&spec).unwrap(),
        )
        .unwrap();
    }

    fn shim_args(&self, flags: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec!["shim".into(), "--id".into(), self.id.clone()];
        for (k, v) in [
            ("--bundle", self.dir.join("bundle")),
            ("--state", self.state()),
            ("--log", self.log()),
        ] {
            a.push(k.into());
            a.push(v.to_string_lossy().into_owned());
        }
        a.extend(["--runtime".to_string(), self.runtime.to_string()]);
        a.extend(flags.iter().map(|s| s.to_string()));
        a
    }

    /// Writes the spec and spawns the shim; returns the ready line.
    fn spawn(&self, input: &SpecInput, flags: &[&str]) -> serde_json::Value {
        self.write_spec(input);
        let mut child = Command::new(berth_bin())
            .args(self.shim_args(flags))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // The first shim process exits at once; the monitor is its forked child.
        child.wait().unwrap();
        serde_json::from_str(line.trim()).unwrap_or_else(|_| panic!("bad ready line {line:?}"))
    }

    /// Spawns and expects success.
    fn create(&self, input: &SpecInput, flags: &[&str]) -> i64 {
        let ready = self.spawn(input, flags);
        ready["pid"]
            .as_i64()
            .filter(|p| *p > 0)
            .unwrap_or_else(|| panic!("{ready}"))
    }

    fn call(&self, req: Request) -> serde_json::Value {
        connect(&self.state())
            .request_raw(&req)
            .unwrap_or_else(|e| panic!("{req:?}: {e}"))
    }

    fn wait(&self) -> i32 {
        self.call(Request::Wait)["exit_code"].as_i64().unwrap() as i32
    }

    fn exit_json(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.state().join("exit.json")).unwrap()).unwrap()
    }

    fn shim_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.state().join("shim.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Runs an exec and returns its output.
    fn exec(&self, args: &[&str]) -> berth_runtime::shim::client::StreamOutput {
        let mut ex = connect(&self.state());
        ex.request(&Request::Exec(ExecRequest {
            args: args.iter().map(|s| s.to_string()).collect(),
            stdout: true,
            stderr: true,
            ..Default::default()
        }))
        .unwrap();
        ex.read_stream().unwrap()
    }

    fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let mut v = vec![PathBuf::from(format!("/sys/fs/cgroup/berth/{}", self.id))];
        if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
            for e in rd.flatten() {
                v.push(e.path().join("berth").join(&self.id));
            }
        }
        v.into_iter().filter(|p| p.is_dir()).collect()
    }

    /// `shutdown`, then waits for the shim to exit and checks it left nothing behind.
    fn shutdown(&self) {
        let pid = self.shim_pid();
        self.call(Request::Shutdown);
        if let Some(pid) = pid {
            let t = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists()
                && t.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(
                !Path::new(&format!("/proc/{pid}")).exists(),
                "shim {pid} still running"
            );
        }
        assert!(!self.state().join("shim.sock").exists());
        assert!(!self.state().join("shim.pid").exists());
        assert!(!self.state().join("runtime").exists());
        // The runtime deleted the container, cgroup included.
        assert!(self.cgroup_dirs().is_empty(), "{:?}", self.cgroup_dirs());
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        // Kill the container, then the shim (if it is still ours), then whatever is left
        // in its cgroups.
        if let Ok(mut c) = Client::connect(&self.state()) {
            let _ = c.set_timeout(Some(Duration::from_secs(2)));
            let _ = c.request(&Request::Kill {
                signal: 9,
                all: true,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
        if let Some(pid) = self.shim_pid() {
            if std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains(&self.id))
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        for cg in self.cgroup_dirs() {
            for _ in 0..50 {
                if cg.parent().is_some_and(|p| p.ends_with("freezer/berth")) {
                    let _ = std::fs::write(cg.join("freezer.state"), "THAWED");
                }
                if let Ok(procs) = std::fs::read_to_string(cg.join("cgroup.procs")) {
                    for p in procs.lines().filter_map(|l| l.parse::<i32>().ok()) {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(p),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
                if std::fs::remove_dir(&cg).is_ok() || !cg.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Bind mounts the runtimes made are in the container's mount namespace, gone with
        // it; nothing was mounted in ours.
        if std::env::var_os("BERTH_TEST_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
            // The shared parent goes with the last test (fails while others still use it).
            let _ = std::fs::remove_dir("/tmp/berth-rt-test");
        }
    }
}

/// A process this test started: killed (by its pid) and reaped if the test fails first.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A field of /proc/<pid>/status.
fn status_field(pid: i32, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .and_then(|v| v.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default()
}

/// Zombie children of `pid`.
fn zombie_children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may contain spaces.
        let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split(' ').collect();
        if f.first() == Some(&"Z") && f.get(1).and_then(|p| p.parse().ok()) == Some(pid) {
            out.push(e.file_name().to_string_lossy().parse().unwrap_or(0));
        }
    }
    out
}

/// One request on a raw connection; returns the reply line, `ok: false` included.
fn raw_call(state: &Path, req: &Request) -> serde_json::Value {
    use std::io::Write;
    let mut s = std::os::unix::net::UnixStream::connect(state.join("shim.sock")).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut line = serde_json::to_vec(req).unwrap();
    line.push(b'\n');
    s.write_all(&line).unwrap();
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap_or_else(|_| panic!("bad reply {reply:?}"))
}

/// Reads stdout frames until `needle` has appeared; returns the text so far.
fn read_until(c: &mut Client, needle: &str) -> String {
    let mut text = String::new();
    while !text.contains(needle) {
        match c.read_frame().unwrap() {
            Some((FRAME_STDOUT, p)) => text.push_str(&String::from_utf8_lossy(&p)),
            Some((FRAME_EXIT, p)) => panic!("exited ({p:?}) before {needle:?}: {text:?}"),
            Some(_) => {}
            None => panic!("stream ended before {needle:?}: {text:?}"),
        }
    }
    text
}

/// Checks the shim's process: one thread, SIGCHLD blocked (it is read from a signalfd),
/// a child subreaper, no zombie children, `/proc/<pid>/exe` on a read-only mount.
fn check_shim_process(shim: i32) {
    assert_eq!(
        status_field(shim, "Threads"),
        "1",
        "the shim must stay single-threaded"
    );
    let blocked = u64::from_str_radix(&status_field(shim, "SigBlk"), 16).unwrap();
    assert_ne!(
        blocked & (1 << (libc::SIGCHLD - 1)),
        0,
        "SIGCHLD not blocked in the shim"
    );
    assert!(
        zombie_children(shim).is_empty(),
        "zombies: {:?}",
        zombie_children(shim)
    );
    // CVE-2019-5736: the shim (and so libcontainer's init and exec processes, its clones,
    // until they execve) runs the berth binary from a detached read-only mount, so a
    // container process that opens /proc/<pid>/exe cannot write to the host's binary, now
    // or later (a kept O_PATH fd reopened through /proc/self/fd stays on that mount).
    let exe = std::fs::File::open(format!("/proc/{shim}/exe")).unwrap();
    let vfs = nix::sys::statvfs::fstatvfs(&exe).unwrap();
    assert!(
        vfs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
        "the shim's exe is on a writable mount"
    );
    let (a, b) = (
        exe.metadata().unwrap(),
        std::fs::metadata(berth_bin()).unwrap(),
    );
    assert_eq!(
        (a.dev(), a.ino()),
        (b.dev(), b.ino()),
        "the shim does not run the berth binary"
    );
    let err = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{shim}/exe"))
        .unwrap_err();
    assert!(
        matches!(err.raw_os_error(), Some(libc::EROFS) | Some(libc::ETXTBSY)),
        "{err}"
    );
}

fn output_exit_code_log_attach(runtime: &'static str) {
    let c = Ctr::new("out", runtime);
    let t0 = Instant::now();
    c.create(
        &c.input(&[
            "sh",
            "-c",
            "echo hello; echo oops >&2; echo '<tag> & \"q\"'; printf partial; exit 3",
        ]),
        &[],
    );
    let shim = c.shim_pid().unwrap();
    check_shim_process(shim);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: false,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    let st = c.call(Request::State);
    assert_eq!(st["status"], "created");
    assert!(
        st["exit_code"].is_null() && st["finished_at"].is_null(),
        "{st}"
    );
    c.call(Request::Start);
    eprintln!("[{runtime}] create+start: {:?}", t0.elapsed());
    let out = attach.read_stream().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\n<tag> & \"q\"\npartial"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    assert_eq!(out.exit_code, Some(3));
    assert_eq!(c.wait(), 3);
    let st = c.call(Request::State);
    assert_eq!(st["status"], "exited");
    assert_eq!(st["exit_code"], 3);
    assert!(
        st["finished_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{st}"
    );
    assert!(!st["started_at"].as_str().unwrap().is_empty());
    let exit = c.exit_json();
    assert_eq!(exit["exit_code"], 3);
    assert_eq!(exit["oom_killed"], false);
    assert_eq!(exit["finished_at"], st["finished_at"]);
    // docker's json-file format, byte for byte apart from the time.
    let log = std::fs::read_to_string(c.log()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let strip_time = |l: &str| {
        let (head, time) = l
            .rsplit_once(",\"time\":\"")
            .unwrap_or_else(|| panic!("{l}"));
        let time = time.strip_suffix("\"}").unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with('Z'),
            "{time}"
        );
        assert!(
            !time.contains(".") || !time.ends_with("0Z"),
            "trailing zeros: {time}"
        );
        head.to_string()
    };
    let heads: Vec<String> = lines.iter().map(|l| strip_time(l)).collect();
    let stdout: Vec<&String> = heads
        .iter()
        .filter(|h| h.contains("\"stream\":\"stdout\""))
        .collect();
    assert_eq!(
        stdout,
        [
            r#"{"log":"hello\n","stream":"stdout""#,
            r#"{"log":"\u003ctag\u003e \u0026 \"q\"\n","stream":"stdout""#,
            r#"{"log":"partial","stream":"stdout""#
        ],
        "{log}"
    );
    assert!(
        heads
            .iter()
            .any(|h| h == r#"{"log":"oops\n","stream":"stderr""#),
        "{log}"
    );
    assert_eq!(lines.len(), 4, "{log}");
    c.shutdown();
}

fn fast_exits_are_never_missed(runtime: &'static str) {
    // A `true` that exits before the shim looks must still be reaped and reported: SIGCHLD
    // is blocked before the container exists (the youki CLI lost 11 in 100 of these).
    for i in 0..5 {
        let c = Ctr::new("fast", runtime);
        c.create(&c.input(&["true"]), &[]);
        c.call(Request::Start);
        assert_eq!(c.wait(), 0, "run {i}");
        assert_eq!(c.exit_json()["exit_code"], 0);
        c.shutdown();
    }
    // Without a shutdown the shim goes away by itself once nobody is connected.
    let c = Ctr::new("linger", runtime);
    c.create(&c.input(&["false"]), &[]);
    let shim = c.shim_pid().unwrap();
    c.call(Request::Start);
    assert_eq!(c.wait(), 1);
    let t = Instant::now();
    while Path::new(&format!("/proc/{shim}")).exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !Path::new(&format!("/proc/{shim}")).exists(),
        "the shim did not exit"
    );
    assert_eq!(c.exit_json()["exit_code"], 1);
    assert!(c.cgroup_dirs().is_empty(), "{:?}", c.cgroup_dirs());
}

fn read_cg(controller: &str, id: &str, file: &str) -> String {
    std::fs::read_to_string(format!("/sys/fs/cgroup/{controller}/berth/{id}/{file}"))
        .unwrap_or_else(|e| panic!("{controller}/{file}: {e}"))
        .trim()
        .to_string()
}

fn kill_exec_limits_pause(runtime: &'static str) {
    let c = Ctr::new("kill", runtime);
    let mut input = c.input(&["sleep", "1000"]);
    input.memory = 64 << 20;
    input.pids_limit = Some(32);
    input.nano_cpus = 500_000_000;
    input.cpu_shares = 512;
    input.oom_score_adj = 500;
    // The shim inherits this process's oom_score_adj.
    let shim_oom = std::fs::read_to_string("/proc/self/oom_score_adj").unwrap();
    c.create(&input, &[]);
    let shim = c.shim_pid().unwrap();
    c.call(Request::Start);
    // Informational: the shim trims its memory after 1 s without requests.
    std::thread::sleep(Duration::from_millis(1200));
    eprintln!("[{runtime}] shim idle RSS: {}", status_field(shim, "VmRSS"));

    // Limits are in the cgroup /berth/<id>, not under this process's cgroup.
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if v2 {
        let cg = PathBuf::from(format!("/sys/fs/cgroup/berth/{}", c.id));
        let read = |f: &str| {
            std::fs::read_to_string(cg.join(f))
                .unwrap()
                .trim()
                .to_string()
        };
        assert_eq!(read("memory.max"), "67108864");
        assert_eq!(read("pids.max"), "32");
        assert_eq!(read("cpu.max"), "50000 100000");
    } else {
        assert_eq!(
            read_cg("memory", &c.id, "memory.limit_in_bytes"),
            "67108864"
        );
        if Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists() {
            // dockerd: swap defaults to twice the memory limit.
            assert_eq!(
                read_cg("memory", &c.id, "memory.memsw.limit_in_bytes"),
                "134217728"
            );
        }
        assert_eq!(read_cg("pids", &c.id, "pids.max"), "32");
        assert_eq!(read_cg("cpu", &c.id, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read_cg("cpu", &c.id, "cpu.cfs_period_us"), "100000");
        assert_eq!(read_cg("cpu", &c.id, "cpu.shares"), "512");
        let init = c.call(Request::State)["pid"].as_i64().unwrap().to_string();
        for ctl in ["memory", "pids", "cpu", "freezer", "devices"] {
            assert!(
                read_cg(ctl, &c.id, "cgroup.procs")
                    .lines()
                    .any(|p| p == init),
                "init not in {ctl}"
            );
        }
    }
    // The container's oom_score_adj is its own; the shim keeps its value.
    let init = c.call(Request::State)["pid"].as_i64().unwrap();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{init}/oom_score_adj"))
            .unwrap()
            .trim(),
        "500"
    );
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{shim}/oom_score_adj")).unwrap(),
        shim_oom
    );

    // exec: output, exit code, environment and user.
    let t0 = Instant::now();
    let mut ex = connect(&c.state());
    let reply = ex
        .request(&Request::Exec(ExecRequest {
            args: vec![
                "sh".into(),
                "-c".into(),
                "echo in-exec $FOO $HOME; id -u; echo err >&2; exit 3".into(),
            ],
            env: vec!["FOO=bar".into()],
            user: "65534:65534".into(),
            stdout: true,
            stderr: true,
            ..Default::default()
        }))
        .unwrap();
    assert!(reply.pid.unwrap() > 0);
    let out = ex.read_stream().unwrap();
    eprintln!("[{runtime}] exec round trip: {:?}", t0.elapsed());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "in-exec bar /root\n65534\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert_eq!(out.exit_code, Some(3));
    // exec output is not the container's log.
    assert!(!std::fs::read_to_string(c.log())
        .unwrap_or_default()
        .contains("in-exec"));

    // exec with stdin.
    let mut ex = connect(&c.state());
    ex.request(&Request::Exec(ExecRequest {
        args: vec!["cat".into()],
        stdin: true,
        stdout: true,
        ..Default::default()
    }))
    .unwrap();
    ex.write_stdin(b"from-stdin\n").unwrap();
    ex.close_stdin().unwrap();
    let out = ex.read_stream().unwrap();
    assert_eq!(
        (out.stdout.as_slice(), out.exit_code),
        (&b"from-stdin\n"[..], Some(0))
    );

    // An exec killed by a signal reports 128+N.
    let out = c.exec(&["sh", "-c", "kill -9 $$"]);
    assert_eq!(out.exit_code, Some(137));

    // A missing binary fails with dockerd's wording and the code dockerd records.
    let reply = raw_call(
        &c.state(),
        &Request::Exec(ExecRequest {
            args: vec!["nosuchcmd".into()],
            stdout: true,
            ..Default::default()
        }),
    );
    assert_eq!(reply["ok"], false);
    let err = reply["error"].as_str().unwrap();
    assert!(
        err.contains(r#"exec: "nosuchcmd": executable file not found in $PATH"#),
        "{err}"
    );
    assert_eq!(reply["exit_code"], 127);

    // The container's processes start with no blocked or ignored signals (the shim blocks
    // SIGCHLD; Rust ignores SIGPIPE).
    let out = c.exec(&[
        "grep",
        "-E",
        "^Sig(Blk|Ign)",
        "/proc/1/status",
        "/proc/self/status",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for l in text.lines() {
        let v = u64::from_str_radix(l.rsplit('\t').next().unwrap(), 16).unwrap();
        if l.contains("SigBlk") {
            assert_eq!(v, 0, "{text}");
        } else {
            assert_eq!(v & (1 << (libc::SIGPIPE - 1)), 0, "{text}");
        }
    }
    assert_eq!(text.lines().count(), 4, "{text}");

    // Exec processes were reaped; the shim is still single-threaded.
    check_shim_process(shim);

    // pause/resume freeze and thaw the cgroup.
    c.call(Request::Pause);
    assert_eq!(c.call(Request::State)["status"], "paused");
    if !v2 {
        assert_eq!(read_cg("freezer", &c.id, "freezer.state"), "FROZEN");
    }
    let err = connect(&c.state()).request_raw(&Request::Exec(ExecRequest {
        args: vec!["true".into()],
        ..Default::default()
    }));
    assert!(err.unwrap_err().to_string().contains("is paused"));
    c.call(Request::Resume);
    assert_eq!(c.call(Request::State)["status"], "running");
    if !v2 {
        assert_eq!(read_cg("freezer", &c.id, "freezer.state"), "THAWED");
    }

    // Two tty execs in a row (libcontainer names a console socket per exec).
    for _ in 0..2 {
        let mut ex = connect(&c.state());
        ex.request(&Request::Exec(ExecRequest {
            args: vec!["tty".into()],
            tty: true,
            stdout: true,
            ..Default::default()
        }))
        .unwrap();
        let out = ex.read_stream().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("/dev/pts/"),
            "{out:?}"
        );
        assert_eq!(out.exit_code, Some(0));
    }
    // An exec still running when the container dies ends with an exit frame too.
    let mut long_exec = connect(&c.state());
    long_exec
        .request(&Request::Exec(ExecRequest {
            args: vec!["sleep".into(), "1000".into()],
            stdout: true,
            ..Default::default()
        }))
        .unwrap();

    // SIGTERM to a PID 1 without a handler is ignored (as with docker); SIGKILL is not.
    c.call(Request::Kill {
        signal: 15,
        all: false,
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.call(Request::State)["status"], "running");
    c.call(Request::Kill {
        signal: 9,
        all: false,
    });
    assert_eq!(c.wait(), 137);
    assert_eq!(long_exec.read_stream().unwrap().exit_code, Some(137));
    assert_eq!(c.exit_json()["exit_code"], 137);
    let err = connect(&c.state())
        .request_raw(&Request::Kill {
            signal: 9,
            all: false,
        })
        .unwrap_err();
    assert!(err.to_string().contains("is not running"), "{err}");
    c.shutdown();
}

fn tty_stdin_resize(runtime: &'static str) {
    let c = Ctr::new("tty", runtime).with_long_state();
    let mut input = c.input(&[
        "sh",
        "-c",
        "tty; stty size; read line; echo got:$line; stty size; echo oops >&2; exit 0",
    ]);
    input.tty = true;
    input.open_stdin = true;
    c.create(&input, &["--tty", "--stdin"]);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: true,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Resize {
        height: 33,
        width: 101,
    });
    c.call(Request::Start);
    let text = read_until(&mut attach, "33 101\r\n");
    assert!(text.contains("/dev/pts/0\r\n"), "{text:?}");
    c.call(Request::Resize {
        height: 40,
        width: 120,
    });
    attach.write_stdin(b"ping\n").unwrap();
    let out = attach.read_stream().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The terminal echoes the input; all output, stderr too, is one stream.
    assert!(
        text.contains("ping\r\n") && text.contains("got:ping\r\n"),
        "{text:?}"
    );
    assert!(
        text.contains("40 120\r\n") && text.contains("oops\r\n"),
        "{text:?}"
    );
    assert!(out.stderr.is_empty());
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(c.exit_json()["exit_code"], 0);
    let log = std::fs::read_to_string(c.log()).unwrap();
    assert!(
        log.contains(r#"{"log":"got:ping\r\n","stream":"stdout","#),
        "{log}"
    );
    assert!(!log.contains("stderr"), "{log}");
    c.shutdown();
}

fn exec_tty_and_stdin_once(runtime: &'static str) {
    let c = Ctr::new("stdin", runtime).with_long_state();
    let mut input = c.input(&["cat"]);
    input.open_stdin = true;
    c.create(&input, &["--stdin", "--stdin-once"]);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: true,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Start);
    // exec with a tty while the container runs, then resize it.
    let mut ex = connect(&c.state());
    let pid = ex
        .request(&Request::Exec(ExecRequest {
            args: vec![
                "sh".into(),
                "-c".into(),
                "tty; stty size; read x; stty size; exit 4".into(),
            ],
            tty: true,
            stdin: true,
            stdout: true,
            height: 20,
            width: 70,
            ..Default::default()
        }))
        .unwrap()
        .pid
        .unwrap();
    let text = read_until(&mut ex, "20 70\r\n");
    assert!(text.contains("/dev/pts/"), "{text:?}");
    c.call(Request::ExecResize {
        pid,
        height: 25,
        width: 90,
    });
    ex.write_stdin(b"\n").unwrap();
    let out = ex.read_stream().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("25 90\r\n"),
        "{out:?}"
    );
    assert_eq!(out.exit_code, Some(4));
    // stdin-once: closing the attach's write side closes cat's stdin; cat exits 0.
    attach.write_stdin(b"echo me\n").unwrap();
    attach.close_stdin().unwrap();
    let out = attach.read_stream().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "echo me\n");
    assert_eq!(out.exit_code, Some(0));
    c.shutdown();
}

/// dockerd's wording and exit codes for a command that cannot be started: 127 when it
/// does not exist, 126 when it is not executable.
fn start_errors(runtime: &'static str) {
    let cases: &[(&[&str], &str, i64)] = &[
        (
            &["nosuchcmd"],
            r#"exec: "nosuchcmd": executable file not found in $PATH"#,
            127,
        ),
        (
            &["/bin/nosuch"],
            r#"exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory"#,
            127,
        ),
        (
            &["/etc/passwd"],
            r#"exec: "/etc/passwd": permission denied"#,
            126,
        ),
        (&["/tmp"], r#"exec: "/tmp": permission denied"#, 126),
    ];
    for (args, want, code) in cases {
        let c = Ctr::new("nocmd", runtime);
        let ready = c.spawn(&c.input(args), &[]);
        let err = ready["error"].as_str().unwrap_or_else(|| panic!("{ready}"));
        assert!(err.contains(want), "{err}");
        assert!(
            err.starts_with("unable to start container process: "),
            "{err}"
        );
        assert_eq!(ready["exit_code"], *code, "{ready}");
        assert!(ready.get("pid").is_none());
        // Nothing is left: no cgroup, no socket, no runtime state, no shim.
        assert!(c.cgroup_dirs().is_empty(), "{:?}", c.cgroup_dirs());
        assert!(!c.state().join("shim.sock").exists());
        assert!(!c.state().join("shim.pid").exists());
        assert!(!c.state().join("runtime").exists());
    }
    // An executable that only its owner may run is fine (runc's rule: any execute bit).
    let c = Ctr::new("mode", runtime);
    std::fs::write(c.rootfs().join("bin/hello"), "#!/bin/sh\necho hi from $0\n").unwrap();
    std::fs::set_permissions(
        c.rootfs().join("bin/hello"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    c.create(&c.input(&["hello"]), &[]);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: false,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Start);
    let out = attach.read_stream().unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&out.stdout).as_ref(), out.exit_code),
        ("hi from /bin/hello\n", Some(0))
    );
    c.shutdown();
    // An execve that fails after the lookup (here a script without `#!`) happens after
    // `start`: runc's message on the container's stderr, exit status 1.
    let c = Ctr::new("noexec", runtime);
    std::fs::write(c.rootfs().join("bin/noshebang"), "echo hi\n").unwrap();
    std::fs::set_permissions(
        c.rootfs().join("bin/noshebang"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    c.create(&c.input(&["noshebang"]), &[]);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: false,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Start);
    let out = attach.read_stream().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "exec /bin/noshebang: exec format error\n"
    );
    assert_eq!(out.exit_code, Some(1));
    c.shutdown();
}

/// dockerd's defaults inside the container: capabilities, seccomp, masked and read-only
/// paths, read-only /sys, hostname, namespaces.
fn security_defaults(runtime: &'static str) {
    let c = Ctr::new("sec", runtime);
    let masked: Vec<&str> = DEFAULT_MASKED_PATHS
        .iter()
        .copied()
        .filter(|p| Path::new(p).exists())
        .collect();
    let script = format!(
        "cat /proc/self/status; echo ===; cat /proc/self/mountinfo; echo ===; \
         for p in {}; do if [ -d $p ]; then echo \"$p $(ls -A $p | wc -l)\"; else echo \"$p $(cat $p | wc -c)\"; fi; done; echo ===; \
         unshare -U true 2>&1; echo unshare=$?; (echo x > /proc/sys/kernel/domainname) 2>&1; touch /sys/x 2>&1; \
         hostname; id; echo ===; ls /dev",
        masked.join(" ")
    );
    c.create(&c.input(&["sh", "-c", &script]), &[]);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: false,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Start);
    let out = attach.read_stream().unwrap();
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let sections: Vec<&str> = text.split("===\n").collect();
    assert_eq!(
        sections.len(),
        5,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = |k: &str| {
        sections[0]
            .lines()
            .find_map(|l| l.strip_prefix(k).and_then(|v| v.strip_prefix(':')))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{k} not in {}", sections[0]))
    };
    // dockerd's 14 default capabilities.
    for k in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(status(k), "00000000a80425fb", "{k}");
    }
    assert_eq!(status("CapInh"), "0000000000000000");
    assert_eq!(status("CapAmb"), "0000000000000000");
    assert_eq!(status("NoNewPrivs"), "0");
    assert_eq!(status("Seccomp"), "2", "no seccomp filter");
    // The default profile is in force: unprivileged user namespaces are refused.
    assert!(
        sections[3].contains("unshare=1") || sections[3].contains("unshare=2"),
        "{}",
        sections[3]
    );
    assert!(
        sections[3].contains("Operation not permitted"),
        "{}",
        sections[3]
    );

    // mountinfo: masked paths are covered, read-only paths and /sys are read-only.
    let mounts: Vec<(String, Vec<String>)> = sections[1]
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (
                f[4].to_string(),
                f[5].split(',').map(String::from).collect(),
            )
        })
        .collect();
    let mount_at = |p: &str| {
        mounts
            .iter()
            .rev()
            .find(|(m, _)| m == p)
            .map(|(_, o)| o.clone())
    };
    for p in &masked {
        assert!(mount_at(p).is_some(), "{p} not masked:\n{}", sections[1]);
    }
    for p in DEFAULT_READONLY_PATHS
        .iter()
        .filter(|p| Path::new(p).exists())
    {
        let o = mount_at(p).unwrap_or_else(|| panic!("{p} not mounted:\n{}", sections[1]));
        assert!(o.contains(&"ro".to_string()), "{p} is {o:?}");
    }
    assert!(mount_at("/sys").unwrap().contains(&"ro".to_string()));
    assert!(mount_at("/").is_some());
    for l in sections[2].lines() {
        assert!(l.ends_with(" 0"), "masked path readable: {l}");
    }
    assert_eq!(sections[2].lines().count(), masked.len(), "{}", sections[2]);
    let tail: Vec<&str> = sections[3].lines().collect();
    assert!(
        tail.iter()
            .any(|l| l.contains("domainname") && l.contains("Read-only file system")),
        "{tail:?}"
    );
    assert!(
        tail.iter()
            .any(|l| l.contains("/sys/x") && l.contains("Read-only file system")),
        "{tail:?}"
    );
    assert!(tail.contains(&"testhost"), "{tail:?}");
    assert!(
        tail.iter()
            .any(|l| l.starts_with("uid=0(root) gid=0(root)")),
        "{tail:?}"
    );
    // dockerd's /dev: the default devices, no host devices.
    let dev: Vec<&str> = sections[4].lines().collect();
    for d in [
        "null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "mqueue", "fd",
        "stdin",
    ] {
        assert!(dev.contains(&d), "/dev/{d} missing: {dev:?}");
    }
    assert!(
        !dev.contains(&"vda") && !dev.contains(&"kmsg") && !dev.contains(&"mem"),
        "{dev:?}"
    );
    c.shutdown();
}

/// A container killed by the OOM killer: 137 and `oom_killed` in exit.json and `wait`.
fn oom_killed(runtime: &'static str) {
    let c = Ctr::new("oom", runtime);
    let mut input = c.input(&["sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"]);
    input.memory = 8 << 20;
    input.memory_swap = 8 << 20;
    c.create(&input, &[]);
    c.call(Request::Start);
    let reply = c.call(Request::Wait);
    assert_eq!(reply["exit_code"], 137, "{reply}");
    assert_eq!(reply["oom_killed"], true, "{reply}");
    let exit = c.exit_json();
    assert_eq!(
        (exit["exit_code"].as_i64(), exit["oom_killed"].as_bool()),
        (Some(137), Some(true))
    );
    assert_eq!(c.call(Request::State)["oom_killed"], true);
    c.shutdown();
}

/// The daemon dies (its stand-in is SIGKILLed and its connections drop); the container
/// and its shim go on, and a new client finds the shim by its socket.
fn daemon_crash_and_reconnect(runtime: &'static str) {
    let c = Ctr::new("crash", runtime);
    let mut input = c.input(&["sh", "-c", "echo up; while read l; do echo got:$l; done"]);
    input.open_stdin = true;
    c.write_spec(&input);
    // The "daemon": a process that spawns the shim and then lives on, holding the pipe.
    let mut daemon = ChildGuard(
        Command::new("/bin/sh")
            .arg("-c")
            .arg("\"$0\" \"$@\" && exec sleep 1000")
            .arg(berth_bin())
            .args(c.shim_args(&["--stdin"]))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(daemon.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert!(ready["pid"].as_i64().is_some(), "{ready}");
    let shim = c.shim_pid().unwrap();
    // The daemon's connection: attached, then cut mid-stream.
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: true,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Start);
    read_until(&mut attach, "up\n");
    attach.write_stdin(b"one\n").unwrap();
    read_until(&mut attach, "got:one\n");
    drop(attach);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.0.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    daemon.0.wait().unwrap();
    std::thread::sleep(Duration::from_millis(100));

    // A new daemon reconnects.
    assert!(
        Path::new(&format!("/proc/{shim}")).exists(),
        "the shim died with the daemon"
    );
    assert_ne!(status_field(shim, "PPid"), daemon.0.id().to_string());
    let st = c.call(Request::State);
    assert_eq!(st["status"], "running", "{st}");
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: true,
            stdout: true,
            stderr: false,
        })
        .unwrap();
    // The first client's EOF did not close stdin (no --stdin-once).
    attach.write_stdin(b"two\n").unwrap();
    read_until(&mut attach, "got:two\n");
    // A waiter blocks until the end; kill every process of the container.
    let state = c.state();
    let waiter = std::thread::spawn(move || connect(&state).request_raw(&Request::Wait).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    assert!(!waiter.is_finished(), "wait returned early");
    c.call(Request::Kill {
        signal: 9,
        all: true,
    });
    let out = attach.read_stream().unwrap();
    assert_eq!(out.exit_code, Some(137));
    assert_eq!(waiter.join().unwrap()["exit_code"], 137);
    assert_eq!(c.exit_json()["exit_code"], 137);
    let log = std::fs::read_to_string(c.log()).unwrap();
    assert!(log.contains("got:one") && log.contains("got:two"), "{log}");
    c.shutdown();
}

/// Host libraries of the binary under test, bind-mounted read-only where its dynamic
/// loader looks for them (berth is dynamically linked; see `init_in_container`).
fn host_lib_mounts(bin: &Path) -> Vec<Mount> {
    let out = Command::new("ldd")
        .arg(bin)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let mut dirs: Vec<String> = Vec::new();
    for l in out.lines() {
        let path = match l.split_once("=>") {
            Some((_, r)) => r.split_whitespace().next(),
            None => l.split_whitespace().next().filter(|p| p.starts_with('/')),
        };
        if let Some(dir) = path
            .and_then(|p| Path::new(p).parent())
            .and_then(|d| d.to_str())
        {
            if dir.starts_with('/') && !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_string());
            }
        }
    }
    dirs.iter()
        .map(|d| Mount::bind(std::fs::canonicalize(d).unwrap(), d, true))
        .collect()
}

/// `--init`: the berth binary mounted at /sbin/docker-init runs as PID 1, forwards
/// signals to the command and reaps orphans.
fn init_in_container(runtime: &'static str) {
    let c = Ctr::new("init", runtime);
    let mut input = c.input(&["sh", "-c", "(sleep 0.1 &); echo started; exec sleep 1000"]);
    input.init = Some(berth_bin());
    input.mounts = host_lib_mounts(&berth_bin());
    c.create(&input, &[]);
    let mut attach = connect(&c.state());
    attach
        .request(&Request::Attach {
            stdin: false,
            stdout: true,
            stderr: true,
        })
        .unwrap();
    c.call(Request::Start);
    read_until(&mut attach, "started\n");
    std::thread::sleep(Duration::from_millis(400));
    // PID 1 is docker-init; the orphaned `sleep 0.1` was reaped, not left a zombie.
    let out = c.exec(&[
        "sh",
        "-c",
        "cat /proc/1/cmdline | tr '\\0' ' '; echo; grep -l '^State:.*Z' /proc/[0-9]*/status; true",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("/sbin/docker-init -- sh -c"),
        "{text:?} {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.lines().count(), 1, "zombies: {text}");
    // SIGTERM reaches the command through init: 128+15.
    c.call(Request::Kill {
        signal: 15,
        all: false,
    });
    let out = attach.read_stream().unwrap();
    assert_eq!(out.exit_code, Some(143));
    assert_eq!(c.exit_json()["exit_code"], 143);
    c.shutdown();
}

#[test]
fn init_forwards_and_reaps() {
    // `berth init` on the host: exit status, signal forwarding (128+N), zombie reaping,
    // 127 for a missing command, and argv0 `docker-init`.
    let st = Command::new(berth_bin())
        .args(["init", "--", "sh", "-c", "sleep 0 & exit 5"])
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(5));
    let st = Command::new(berth_bin())
        .args(["init", "--", "nosuchcmd-xyz"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(127));
    let dir = PathBuf::from(format!("/tmp/berth-rt-test/init-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("docker-init");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(berth_bin(), &link).unwrap();
    let st = Command::new(&link).args(["sh", "-c", "exit 9"]).status();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir("/tmp/berth-rt-test");
    assert_eq!(st.unwrap().code(), Some(9));
    let mut child = ChildGuard(
        Command::new(berth_bin())
            .args(["init", "--", "sleep", "100"])
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(200));
    let pid = nix::unistd::Pid::from_raw(child.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let t = Instant::now();
    let st = child.0.wait().unwrap();
    assert_eq!(st.code(), Some(143));
    assert!(t.elapsed() < Duration::from_secs(5));
}
