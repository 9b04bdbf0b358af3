//! Compatibility: the Docker SDK for Python (Debian's `python3-docker`, docker-py 5) against
//! berth. Each test runs one group of `compat/docker_py_compat.py` against its own daemon,
//! with DOCKER_HOST pointing at it; the script also checks the JSON it gets against the
//! Engine API spec (`../shared/docker-engine-api/v1.50.yaml`, when present). Every failed
//! check of the script is printed in the test's failure message.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Daemon;

const PYTHON: &str = "/usr/bin/python3";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/docker_py_compat.py")
}

/// The spec the script checks responses against: `BERTH_API_SPEC`, else the shared copy
/// next to the repository.
fn spec() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("BERTH_API_SPEC") {
        return Some(PathBuf::from(p));
    }
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/docker-engine-api/v1.50.yaml");
    p.exists().then_some(p)
}

/// docker-py is there (scripts/deps.sh installs python3-docker).
fn have_docker_py() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import docker, yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs one group of the script against a fresh daemon with busybox imported; fails with
/// the script's report (and the daemon log's tail) if any case failed, the script hung,
/// or containers left mounts, cgroups or processes behind.
fn run_group(group: &str) {
    run_group_at(group, None);
}

/// Runs a group with docker-py pinned at `version` (no negotiation, the way
/// `docker.from_env()` talks by default: /v1.41), or negotiating when `None`.
fn run_group_at(group: &str, version: Option<&str>) {
    if !have_docker_py() {
        eprintln!(
            "skipping: python3-docker (and python3-yaml) are not installed; run scripts/deps.sh"
        );
        return;
    }
    let d = Daemon::with_busybox();
    let out_path = d.dir.join(format!("docker-py-{group}.out"));
    let out = std::fs::File::create(&out_path).unwrap();
    let mut cmd = Command::new(PYTHON);
    cmd.arg("-u")
        .arg(script())
        .arg(group)
        .env("DOCKER_HOST", d.host())
        .env("BUSYBOX_TAR", common::busybox_tar())
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    // The spec is 1.50's: responses at another version are not checked against it.
    match spec().filter(|_| version.is_none()) {
        Some(p) => cmd.env("BERTH_API_SPEC", p),
        None => cmd.env("BERTH_API_SPEC", ""),
    };
    if let Some(v) = version {
        cmd.env("DOCKER_PY_API_VERSION", v);
    }
    let mut child = cmd.spawn().expect("run python3");
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let report = std::fs::read_to_string(&out_path).unwrap_or_default();
    eprintln!("---- docker-py {group} ----\n{report}");
    let log_tail = {
        let log = d.daemon_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    match status {
        None => panic!(
            "docker-py {group}: timed out after 600s\n{report}\ndaemon log tail:\n{log_tail}"
        ),
        Some(st) if !st.success() => {
            let failures: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL ")).collect();
            panic!(
                "docker-py {group}: {st}\n{}\n\nfull report:\n{report}\ndaemon log tail:\n{log_tail}",
                failures.join("\n")
            );
        }
        Some(_) => {}
    }
    let left = d.leftovers();
    assert!(left.is_empty(), "left behind after {group}: {left:#?}");
}

#[test]
fn docker_py_system() {
    run_group("system");
}

#[test]
fn docker_py_images() {
    run_group("images");
}

#[test]
fn docker_py_run() {
    run_group("run");
}

#[test]
fn docker_py_lifecycle() {
    run_group("lifecycle");
}

#[test]
fn docker_py_streams() {
    run_group("streams");
}

#[test]
fn docker_py_events() {
    run_group("events");
}

#[test]
fn docker_py_errors() {
    run_group("errors");
}

#[test]
fn docker_py_fuzz() {
    run_group("fuzz");
}

#[test]
fn docker_py_lifecycle_at_api_1_41() {
    run_group_at("lifecycle", Some("1.41"));
}
