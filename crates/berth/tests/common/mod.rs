//! Harness for the root integration tests: a private berth daemon per test (own data
//! root, exec root and socket under a unique temp dir), a busybox image imported from
//! Debian's busybox-static, and a Drop guard that removes every container, shim, mount,
//! cgroup and file the test made, on failure too.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The busybox rootfs tar, built once per test process.
pub fn busybox_tar() -> &'static Path {
    static TAR: OnceLock<PathBuf> = OnceLock::new();
    TAR.get_or_init(|| {
        let tar = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busybox-rootfs.tar");
        if !tar.exists() {
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-rootfs.sh");
            let partial = tar.with_extension(format!("{}.part", std::process::id()));
            let st = Command::new("bash")
                .arg(script)
                .arg(&partial)
                .status()
                .expect("run busybox-rootfs.sh");
            assert!(st.success(), "busybox-rootfs.sh failed");
            std::fs::rename(&partial, &tar).unwrap();
        }
        tar
    })
}

/// A private daemon.
pub struct Daemon {
    pub dir: PathBuf,
    pub sock: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    /// Starts a daemon with an empty data root.
    pub fn start() -> Daemon {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = PathBuf::from(format!("/tmp/berth-it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut d = Daemon {
            sock: dir.join("berth.sock"),
            dir,
            child: None,
        };
        d.spawn();
        d
    }

    /// Starts a daemon and imports `busybox:latest`.
    pub fn with_busybox() -> Daemon {
        let d = Daemon::start();
        let tar = busybox_tar();
        d.ok(&["import", tar.to_str().unwrap(), "busybox:latest"]);
        d
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    fn spawn(&mut self) {
        let _ = std::fs::remove_file(&self.sock);
        let log = std::fs::File::create(self.dir.join("daemon.log")).unwrap();
        let child = Command::new(BERTH)
            .args(["daemon", "-H"])
            .arg(self.host())
            .arg("--data-root")
            .arg(self.dir.join("data"))
            .arg("--exec-root")
            .arg(self.dir.join("exec"))
            .arg("--log-level")
            .arg("debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn berth daemon");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::os::unix::net::UnixStream::connect(&self.sock).is_err() {
            assert!(
                Instant::now() < deadline,
                "daemon did not start: {}",
                self.daemon_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    /// Kills the daemon with SIGKILL (containers must survive).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts a new daemon on the same roots.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Runs the berth CLI against this daemon.
    pub fn berth(&self, args: &[&str]) -> Output {
        self.berth_stdin(args, None)
    }

    pub fn berth_stdin(&self, args: &[&str], input: Option<&[u8]>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(BERTH);
        cmd.arg("-H").arg(self.host()).args(args);
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run berth");
        if let Some(data) = input {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(data).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs the CLI, asserts success, returns trimmed stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(
            out.status.success(),
            "berth {args:?} failed ({:?}):\nstdout: {}\nstderr: {}\ndaemon log tail: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.daemon_log(), 30),
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// Runs the CLI, asserts failure, returns (exit code, stderr).
    pub fn fails(&self, args: &[&str]) -> (i32, String) {
        let out = self.berth(args);
        assert!(
            !out.status.success(),
            "berth {args:?} unexpectedly succeeded"
        );
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Runs the real Docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("/usr/local/bin/docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::null())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .output()
            .expect("run docker")
    }

    /// Container IDs in this daemon's data root.
    fn container_ids(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.join("data/containers"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Daemon {
    /// One GET on the API socket; the body (de-chunked), or "" on any failure.
    pub fn api_get(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(&self.sock) else {
            return String::new();
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let req = format!("GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n");
        let mut raw = Vec::new();
        if s.write_all(req.as_bytes()).is_err() || s.read_to_end(&mut raw).is_err() {
            return String::new();
        }
        let text = String::from_utf8_lossy(&raw).to_string();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return String::new();
        };
        if !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return body.to_string();
        }
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    }

    /// Every container ID this daemon created (its event history).
    pub fn created_ids(&self) -> Vec<String> {
        let until = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1;
        let body = self.api_get(&format!(
            "/events?since=1&until={until}&filters=%7B%22type%22%3A%5B%22container%22%5D%2C%22event%22%3A%5B%22create%22%5D%7D"
        ));
        let mut ids: Vec<String> = body
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["Actor"]["ID"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Removes every container through the API, then checks that the daemon left nothing
    /// behind for the containers it ever created: no mount under its dirs, no cgroup
    /// `/berth/<id>`, no process in such a cgroup, no shim. Returns what is left.
    pub fn leftovers(&self) -> Vec<String> {
        let created = self.created_ids();
        let live = self.container_ids();
        if !live.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(live.iter().map(String::as_str));
            let _ = self.berth(&args);
        }
        // With the slash: /tmp/berth-it-P-1 must not match /tmp/berth-it-P-10.
        let prefix = format!("{}/", self.dir.display());
        let exec = self.dir.join("exec").to_string_lossy().to_string();
        let scan = || -> Vec<String> {
            let mut left = Vec::new();
            let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
            for m in info.lines().filter_map(|l| l.split(' ').nth(4)) {
                if m.starts_with(&prefix) {
                    left.push(format!("mount {m}"));
                }
            }
            for id in &created {
                for root in cgroup_roots() {
                    let dir = root.join("berth").join(id);
                    if dir.exists() {
                        left.push(format!("cgroup {}", dir.display()));
                    }
                }
            }
            for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let pid = p.file_name().to_string_lossy().to_string();
                if pid.parse::<u32>().is_err() {
                    continue;
                }
                let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                if cmdline.starts_with(BERTH)
                    && cmdline.contains(" shim ")
                    && cmdline.contains(&exec)
                {
                    left.push(format!("shim process {pid}: {cmdline}"));
                }
                let cgroup = std::fs::read_to_string(p.path().join("cgroup")).unwrap_or_default();
                if created
                    .iter()
                    .any(|id| cgroup.contains(&format!("/berth/{id}")))
                {
                    left.push(format!("container process {pid}: {cmdline}"));
                }
            }
            left
        };
        // Shims exit a moment after their container is removed.
        let mut left = Vec::new();
        wait_until(Duration::from_secs(10), || {
            left = scan();
            left.is_empty()
        });
        left
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let ids = self.container_ids();
        if self.child.is_some() && !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            let _ = self.berth(&args);
        }
        self.kill9();
        // Shims of this daemon that are still alive (a failed test): end them by pid.
        let exec = self.dir.join("exec");
        if let Ok(procs) = std::fs::read_dir("/proc") {
            for p in procs.flatten() {
                let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                if cmdline.starts_with(BERTH) && cmdline.contains(exec.to_str().unwrap()) {
                    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                }
            }
        }
        for id in &ids {
            // Container processes left by a killed shim.
            for pid in cgroup_pids(id) {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        // Mounts under our dir, deepest first.
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        // With the slash: /tmp/berth-it-P-1 must not match /tmp/berth-it-P-10.
        let prefix = format!("{}/", self.dir.display());
        let mut mounts: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").arg("-l").arg(&m).status();
        }
        for id in &ids {
            for root in cgroup_roots() {
                let _ = std::fs::remove_dir(root.join("berth").join(id));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// cgroup hierarchies (v1 controllers, or the v2 root).
pub fn cgroup_roots() -> Vec<PathBuf> {
    let base = Path::new("/sys/fs/cgroup");
    if base.join("cgroup.controllers").exists() {
        return vec![base.to_path_buf()];
    }
    std::fs::read_dir(base)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// Pids in a container's cgroup.
pub fn cgroup_pids(id: &str) -> Vec<i32> {
    for root in cgroup_roots() {
        if let Ok(s) = std::fs::read_to_string(root.join("berth").join(id).join("cgroup.procs")) {
            let pids: Vec<i32> = s.lines().filter_map(|l| l.parse().ok()).collect();
            if !pids.is_empty() {
                return pids;
            }
        }
    }
    Vec::new()
}

/// Waits until `f` is true or the timeout passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}
