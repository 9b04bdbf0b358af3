//! Root integration tests of `berth shim` on both runtimes (libcontainer, runc): a busybox
//! rootfs in a temp dir, a spec from `berth_runtime::spec`, the shim's protocol end to end.
//! Every test uses its own container id and a Drop guard that kills what is left and
//! removes the cgroup `/berth/<id>` and the temp dir, on failure too.
//!
//! Skipped (with a message) when not root. `BERTH_BIN` overrides the binary under test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use berth_runtime::shim::client::Client;
use berth_runtime::shim::proto::{ExecRequest, Request};
use berth_runtime::spec::{self, SpecInput, DEFAULT_PATH};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn berth_bin() -> PathBuf {
    std::env::var_os("BERTH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(option_env!("CARGO_BIN_EXE_berth").expect("BERTH_BIN")))
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A container's files and the clean-up of everything it may leave behind.
struct Ctr {
    id: String,
    dir: PathBuf,
    runtime: &'static str,
}

const APPLETS: &[&str] = &["sh", "echo", "cat", "sleep", "true", "ls", "id", "env", "tty", "head", "printf", "stty", "grep"];

impl Ctr {
    fn new(tag: &str, runtime: &'static str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("rt-{tag}-{}-{n}", std::process::id());
        let dir = PathBuf::from(format!("/tmp/berth-rt-test/{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        let rootfs = dir.join("rootfs");
        for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "sbin"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a)).unwrap();
        }
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n").unwrap();
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n").unwrap();
        std::fs::create_dir_all(dir.join("bundle")).unwrap();
        std::fs::create_dir_all(dir.join("state")).unwrap();
        Ctr { id, dir, runtime }
    }

    fn input(&self, args: &[&str]) -> SpecInput {
        SpecInput {
            id: self.id.clone(),
            rootfs: self.dir.join("rootfs"),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec![format!("PATH={DEFAULT_PATH}"), "HOME=/root".into()],
            cwd: "/".into(),
            hostname: "testhost".into(),
            ..Default::default()
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("ctr-json.log")
    }

    /// Writes the spec and spawns the shim; returns the ready line.
    fn spawn(&self, input: &SpecInput, flags: &[&str]) -> serde_json::Value {
        let spec = spec::build(input).unwrap();
        std::fs::write(self.dir.join("bundle/config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
        let mut child = Command::new(berth_bin())
            .arg("shim")
            .args(["--id", &self.id])
            .arg("--bundle")
            .arg(self.dir.join("bundle"))
            .arg("--state")
            .arg(self.state())
            .arg("--log")
            .arg(self.log())
            .args(["--runtime", self.runtime])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        child.wait().unwrap();
        serde_json::from_str(line.trim()).unwrap_or_else(|_| panic!("bad ready line {line:?}"))
    }

    fn call(&self, req: Request) -> serde_json::Value {
        Client::connect(&self.state()).unwrap().request_raw(&req).unwrap()
    }

    fn wait(&self) -> i32 {
        self.call(Request::Wait)["exit_code"].as_i64().unwrap() as i32
    }

    fn shim_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.state().join("shim.pid")).ok()?.trim().parse().ok()
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

    /// Waits for the shim to exit after `shutdown`.
    fn shutdown(&self) {
        let pid = self.shim_pid();
        let _ = Client::connect(&self.state()).and_then(|mut c| c.request(&Request::Shutdown));
        if let Some(pid) = pid {
            let t = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists() && t.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        // Kill the container, then the shim, then whatever is left in its cgroups.
        if let Ok(mut c) = Client::connect(&self.state()) {
            let _ = c.request(&Request::Kill { signal: 9, all: true });
        }
        std::thread::sleep(Duration::from_millis(50));
        if let Some(pid) = self.shim_pid() {
            if std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains(&self.id)) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        for cg in self.cgroup_dirs() {
            for _ in 0..50 {
                if let Ok(procs) = std::fs::read_to_string(cg.join("cgroup.procs")) {
                    for p in procs.lines().filter_map(|l| l.parse::<i32>().ok()) {
                        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), nix::sys::signal::Signal::SIGKILL);
                    }
                }
                if std::fs::remove_dir(&cg).is_ok() || !cg.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if std::env::var_os("BERTH_TEST_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

macro_rules! need_root {
    () => {
        if !is_root() {
            eprintln!("skipped: needs root");
            return;
        }
    };
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

fn output_exit_logs_and_attach(runtime: &'static str) {
    let c = Ctr::new("out", runtime);
    let t0 = Instant::now();
    let ready = c.spawn(&c.input(&["sh", "-c", "echo hello; echo oops >&2; printf partial; exit 7"]), &[]);
    assert!(ready["pid"].as_i64().is_some_and(|p| p > 0), "{ready}");
    let mut attach = Client::connect(&c.state()).unwrap();
    attach.request(&Request::Attach { stdin: false, stdout: true, stderr: true }).unwrap();
    let st = c.call(Request::State);
    assert_eq!(st["status"], "created");
    assert!(st["exit_code"].is_null());
    c.call(Request::Start);
    eprintln!("[{runtime}] create+start: {:?}", t0.elapsed());
    let out = attach.read_stream().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\npartial");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    assert_eq!(out.exit_code, Some(7));
    assert_eq!(c.wait(), 7);
    let st = c.call(Request::State);
    assert_eq!(st["status"], "exited");
    assert_eq!(st["exit_code"], 7);
    let exit: serde_json::Value = serde_json::from_slice(&std::fs::read(c.state().join("exit.json")).unwrap()).unwrap();
    assert_eq!(exit["exit_code"], 7);
    assert_eq!(exit["oom_killed"], false);
    let log = std::fs::read_to_string(c.log()).unwrap();
    let lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let find = |s: &str| lines.iter().find(|l| l["log"] == s).unwrap_or_else(|| panic!("{s:?} not in {log}"));
    assert_eq!(find("hello\n")["stream"], "stdout");
    assert_eq!(find("oops\n")["stream"], "stderr");
    assert_eq!(find("partial")["stream"], "stdout");
    assert!(find("hello\n")["time"].as_str().unwrap().ends_with('Z'));
    c.shutdown();
    assert!(!c.state().join("shim.sock").exists());
    // The runtime deleted the container, cgroup included (waiters are answered first).
    assert!(c.cgroup_dirs().is_empty(), "{:?}", c.cgroup_dirs());
}

#[test]
fn libcontainer_output_exit_code_log_attach() {
    need_root!();
    output_exit_logs_and_attach("libcontainer");
}

#[test]
fn runc_output_exit_code_log_attach() {
    need_root!();
    output_exit_logs_and_attach("runc");
}

fn kill_exec_limits(runtime: &'static str) {
    let c = Ctr::new("kill", runtime);
    let mut input = c.input(&["sleep", "1000"]);
    input.memory = 64 << 20;
    input.pids_limit = Some(32);
    input.nano_cpus = 500_000_000;
    let ready = c.spawn(&input, &[]);
    assert!(ready["pid"].as_i64().is_some(), "{ready}");
    c.call(Request::Start);
    let shim = c.shim_pid().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    eprintln!("[{runtime}] shim idle RSS: {} KiB", rss_kib(shim));

    // Limits are in the cgroup /berth/<id>, not under this process's cgroup.
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        let cg = PathBuf::from(format!("/sys/fs/cgroup/berth/{}", c.id));
        assert_eq!(std::fs::read_to_string(cg.join("memory.max")).unwrap().trim(), "67108864");
        assert_eq!(std::fs::read_to_string(cg.join("pids.max")).unwrap().trim(), "32");
    } else {
        let mem = format!("/sys/fs/cgroup/memory/berth/{}/memory.limit_in_bytes", c.id);
        assert_eq!(std::fs::read_to_string(mem).unwrap().trim(), "67108864");
        let pids = format!("/sys/fs/cgroup/pids/berth/{}/pids.max", c.id);
        assert_eq!(std::fs::read_to_string(pids).unwrap().trim(), "32");
        let quota = format!("/sys/fs/cgroup/cpu/berth/{}/cpu.cfs_quota_us", c.id);
        assert_eq!(std::fs::read_to_string(quota).unwrap().trim(), "50000");
    }

    // exec: output, exit code, environment and user.
    let t0 = Instant::now();
    let mut ex = Client::connect(&c.state()).unwrap();
    let reply = ex
        .request(&Request::Exec(ExecRequest {
            args: vec!["sh".into(), "-c".into(), "echo in-exec $FOO; id -u; exit 3".into()],
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
    assert_eq!(String::from_utf8_lossy(&out.stdout), "in-exec bar\n65534\n");
    assert_eq!(out.exit_code, Some(3));

    // exec with stdin.
    let mut ex = Client::connect(&c.state()).unwrap();
    ex.request(&Request::Exec(ExecRequest { args: vec!["cat".into()], stdin: true, stdout: true, ..Default::default() }))
        .unwrap();
    ex.write_stdin(b"from-stdin\n").unwrap();
    ex.close_stdin().unwrap();
    let out = ex.read_stream().unwrap();
    assert_eq!((out.stdout.as_slice(), out.exit_code), (&b"from-stdin\n"[..], Some(0)));

    // A missing binary fails with dockerd's wording (the CLI maps it to 127).
    let err = Client::connect(&c.state())
        .unwrap()
        .request(&Request::Exec(ExecRequest { args: vec!["nosuchcmd".into()], stdout: true, ..Default::default() }))
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"exec: "nosuchcmd": executable file not found in $PATH"#), "{err}");

    // The container's processes start with no blocked or ignored signals (the shim blocks
    // SIGCHLD; Rust ignores SIGPIPE).
    let mut ex = Client::connect(&c.state()).unwrap();
    ex.request(&Request::Exec(ExecRequest {
        args: vec!["grep".into(), "-E".into(), "^Sig(Blk|Ign)".into(), "/proc/1/status".into()],
        stdout: true,
        ..Default::default()
    }))
    .unwrap();
    let out = ex.read_stream().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.starts_with("SigBlk:\t0000000000000000\n"), "{text}");
    let ign = u64::from_str_radix(text.lines().nth(1).unwrap().trim_start_matches("SigIgn:\t"), 16).unwrap();
    assert_eq!(ign & (1 << (libc::SIGPIPE - 1)), 0, "{text}");

    // CVE-2019-5736: the shim's /proc/<pid>/exe cannot be opened for writing.
    let err = std::fs::OpenOptions::new().write(true).open(format!("/proc/{shim}/exe")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");

    // pause/resume.
    c.call(Request::Pause);
    assert_eq!(c.call(Request::State)["status"], "paused");
    c.call(Request::Resume);
    assert_eq!(c.call(Request::State)["status"], "running");

    c.call(Request::Kill { signal: 9, all: false });
    assert_eq!(c.wait(), 137);
    c.shutdown();
    assert!(c.cgroup_dirs().is_empty(), "{:?}", c.cgroup_dirs());
}

#[test]
fn libcontainer_kill_exec_limits() {
    need_root!();
    kill_exec_limits("libcontainer");
}

#[test]
fn runc_kill_exec_limits() {
    need_root!();
    kill_exec_limits("runc");
}

fn tty(runtime: &'static str) {
    let c = Ctr::new("tty", runtime);
    let mut input = c.input(&["sh", "-c", "tty; stty size; echo done"]);
    input.tty = true;
    let ready = c.spawn(&input, &["--tty"]);
    assert!(ready["pid"].as_i64().is_some(), "{ready}");
    let mut attach = Client::connect(&c.state()).unwrap();
    attach.request(&Request::Attach { stdin: false, stdout: true, stderr: true }).unwrap();
    c.call(Request::Resize { height: 33, width: 101 });
    c.call(Request::Start);
    let out = attach.read_stream().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/0\r\n"), "{text:?}");
    assert!(text.contains("33 101\r\n"), "{text:?}");
    assert!(text.contains("done\r\n"), "{text:?}");
    assert_eq!(out.exit_code, Some(0));
    assert!(out.stderr.is_empty());
    c.shutdown();
}

#[test]
fn libcontainer_tty() {
    need_root!();
    tty("libcontainer");
}

#[test]
fn runc_tty() {
    need_root!();
    tty("runc");
}

#[test]
fn libcontainer_exec_tty_and_stdin_once() {
    need_root!();
    let c = Ctr::new("stdin", "libcontainer");
    let ready = c.spawn(&c.input(&["cat"]), &["--stdin", "--stdin-once"]);
    assert!(ready["pid"].as_i64().is_some(), "{ready}");
    let mut attach = Client::connect(&c.state()).unwrap();
    attach.request(&Request::Attach { stdin: true, stdout: true, stderr: true }).unwrap();
    c.call(Request::Start);
    // exec with a tty while the container runs.
    let mut ex = Client::connect(&c.state()).unwrap();
    ex.request(&Request::Exec(ExecRequest {
        args: vec!["sh".into(), "-c".into(), "tty; stty size".into()],
        tty: true,
        stdout: true,
        height: 20,
        width: 70,
        ..Default::default()
    }))
    .unwrap();
    let out = ex.read_stream().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/") && text.contains("20 70"), "{text:?}");
    assert_eq!(out.exit_code, Some(0));
    // stdin-once: closing the attach's write side closes cat's stdin; cat exits 0.
    attach.write_stdin(b"echo me\n").unwrap();
    attach.close_stdin().unwrap();
    let out = attach.read_stream().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "echo me\n");
    assert_eq!(out.exit_code, Some(0));
    c.shutdown();
}

fn missing_command(runtime: &'static str) {
    let c = Ctr::new("nocmd", runtime);
    let ready = c.spawn(&c.input(&["nosuchcmd"]), &[]);
    let err = ready["error"].as_str().unwrap_or_else(|| panic!("{ready}"));
    assert!(err.contains(r#"exec: "nosuchcmd": executable file not found in $PATH"#), "{err}");
    assert!(c.cgroup_dirs().is_empty(), "{:?}", c.cgroup_dirs());
    assert!(!c.state().join("shim.sock").exists());
}

#[test]
fn libcontainer_missing_command() {
    need_root!();
    missing_command("libcontainer");
}

#[test]
fn runc_missing_command() {
    need_root!();
    missing_command("runc");
}

#[test]
fn init_forwards_and_reaps() {
    // `berth init` on the host: exit status, signal forwarding (128+N) and zombie reaping.
    let st = Command::new(berth_bin()).args(["init", "--", "sh", "-c", "sleep 0 & exit 5"]).status().unwrap();
    assert_eq!(st.code(), Some(5));
    let st = Command::new(berth_bin()).args(["init", "--", "nosuchcmd-xyz"]).stderr(Stdio::null()).status().unwrap();
    assert_eq!(st.code(), Some(127));
    let mut child = Command::new(berth_bin()).args(["init", "--", "sleep", "100"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let t = Instant::now();
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(143));
    assert!(t.elapsed() < Duration::from_secs(5));
}
