//! Root integration tests: the berth CLI against a private daemon, real containers.

mod common;

use std::time::Duration;

use common::{cgroup_pids, cgroup_roots, wait_until, Daemon};

#[test]
fn run_prints_output_and_exit_codes() {
    let d = Daemon::with_busybox();
    assert_eq!(d.ok(&["run", "--rm", "busybox", "echo", "hello"]), "hello");
    let out = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    // --rm removed them.
    assert_eq!(d.ok(&["ps", "-aq"]), "");
}

#[test]
fn run_stdin_is_forwarded() {
    let d = Daemon::with_busybox();
    let out = d.berth_stdin(
        &["run", "--rm", "-i", "busybox", "cat"],
        Some(b"piped input\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "piped input\n");
}

#[test]
fn detached_lifecycle_ps_logs_exec_stop_rm() {
    let d = Daemon::with_busybox();
    let id = d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-e",
        "FOO=bar",
        "-l",
        "app=x",
        "busybox",
        "sh",
        "-c",
        "echo started; trap 'echo bye; exit 3' TERM; while true; do sleep 0.1; done",
    ]);
    assert_eq!(id.len(), 64, "run -d prints the full id: {id}");
    assert!(wait_until(Duration::from_secs(5), || d
        .ok(&["logs", "web"])
        .contains("started")));
    let ps = d.ok(&["ps"]);
    assert!(ps.starts_with("CONTAINER ID"), "{ps}");
    assert!(
        ps.contains("web") && ps.contains(&id[..12]) && ps.contains("Up "),
        "{ps}"
    );
    assert_eq!(d.ok(&["ps", "-q", "--no-trunc"]), id);
    assert_eq!(d.ok(&["ps", "-q", "--filter", "label=app=x"]), id[..12]);
    assert_eq!(d.ok(&["ps", "-q", "--filter", "label=app=y"]), "");
    assert_eq!(
        d.ok(&["inspect", "-f", "{{.State.Status}} {{.Name}}", "web"]),
        "running /web"
    );
    assert_eq!(d.ok(&["exec", "web", "sh", "-c", "echo $FOO"]), "bar");
    let out = d.berth(&["exec", "web", "sh", "-c", "exit 5"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        d.ok(&[
            "exec",
            "-e",
            "X=1",
            "-w",
            "/tmp",
            "web",
            "sh",
            "-c",
            "echo $X $(pwd)"
        ]),
        "1 /tmp"
    );
    d.ok(&["stop", "-t", "5", "web"]);
    assert_eq!(
        d.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            "web"
        ]),
        "exited 3"
    );
    assert!(d.ok(&["logs", "web"]).ends_with("bye"));
    assert!(d.ok(&["ps", "-a"]).contains("Exited (3)"));
    d.ok(&["rm", "web"]);
    assert_eq!(d.ok(&["ps", "-aq"]), "");
}

#[test]
fn kill_wait_restart_pause_rename() {
    let d = Daemon::with_busybox();
    // dockerd's name rule needs two characters at least: "k" alone is refused.
    let (code, err) = d.fails(&["run", "-d", "--name", "k", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("Invalid container name (k)"), "{err}");
    d.ok(&["run", "-d", "--name", "k1", "busybox", "sleep", "1000"]);
    d.ok(&["pause", "k1"]);
    assert_eq!(
        d.ok(&["inspect", "-f", "{{.State.Status}}", "k1"]),
        "paused"
    );
    assert!(d.ok(&["ps"]).contains("(Paused)"));
    d.ok(&["unpause", "k1"]);
    d.ok(&["rename", "k1", "k2"]);
    assert_eq!(d.ok(&["inspect", "-f", "{{.Name}}", "k2"]), "/k2");
    let pid1 = d.ok(&["inspect", "-f", "{{.State.Pid}}", "k2"]);
    d.ok(&["restart", "-t", "0", "k2"]);
    let pid2 = d.ok(&["inspect", "-f", "{{.State.Pid}}", "k2"]);
    assert_ne!(pid1, pid2);
    d.ok(&["kill", "-s", "KILL", "k2"]);
    assert_eq!(d.ok(&["wait", "k2"]), "137");
    let (code, err) = d.fails(&["kill", "k2"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not running"), "{err}");
}

#[test]
fn errors_match_docker() {
    let d = Daemon::with_busybox();
    let (code, err) = d.fails(&["run", "--rm", "nosuchimage"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("Unable to find image 'nosuchimage:latest' locally"),
        "{err}"
    );
    let (code, _) = d.fails(&["run", "--no-such-flag", "busybox"]);
    assert_eq!(code, 125);
    let (code, err) = d.fails(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!(code, 127, "{err}");
    assert!(err.contains("executable file not found"), "{err}");
    d.ok(&["run", "-d", "--name", "dup", "busybox", "sleep", "100"]);
    let (code, err) = d.fails(&["run", "-d", "--name", "dup", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("is already in use"), "{err}");
    let (code, err) = d.fails(&["rm", "dup"]);
    assert_eq!(code, 1);
    assert!(err.contains("container is running"), "{err}");
    d.ok(&["rm", "-f", "dup"]);
    let (_, err) = d.fails(&["inspect", "nothing-here"]);
    assert!(
        err.contains("No such object: nothing-here") || err.contains("No such container"),
        "{err}"
    );
    let (code, err) = d.fails(&["run", "-m", "1k", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("Minimum memory limit allowed is 6MB"), "{err}");
}

#[test]
fn isolation_and_limits() {
    let d = Daemon::with_busybox();
    let id = d.ok(&[
        "run",
        "-d",
        "-m",
        "64m",
        "--pids-limit",
        "32",
        "--cpus",
        "0.5",
        "--hostname",
        "boxy",
        "--ulimit",
        "nofile=512:1024",
        "busybox",
        "sleep",
        "1000",
    ]);
    let mem = cgroup_roots()
        .into_iter()
        .find_map(|r| {
            std::fs::read_to_string(r.join("berth").join(&id).join("memory.limit_in_bytes"))
                .ok()
                .or_else(|| {
                    std::fs::read_to_string(r.join("berth").join(&id).join("memory.max")).ok()
                })
        })
        .expect("memory cgroup under /berth/<id>");
    assert_eq!(mem.trim(), "67108864");
    let pids = cgroup_roots()
        .into_iter()
        .find_map(|r| std::fs::read_to_string(r.join("berth").join(&id).join("pids.max")).ok())
        .expect("pids cgroup");
    assert_eq!(pids.trim(), "32");
    assert!(!cgroup_pids(&id).is_empty());
    assert_eq!(d.ok(&["exec", &id, "hostname"]), "boxy");
    assert_eq!(d.ok(&["exec", &id, "cat", "/etc/hostname"]), "boxy");
    assert!(d
        .ok(&["exec", &id, "cat", "/etc/hosts"])
        .contains("localhost"));
    assert_eq!(d.ok(&["exec", &id, "sh", "-c", "ulimit -n"]), "512");
    // pid 1 is the container's command, in its own pid namespace.
    assert!(d
        .ok(&["exec", &id, "cat", "/proc/1/cmdline"])
        .starts_with("sleep"));
    // Only loopback with the default (none) network.
    let links = d.ok(&["exec", &id, "ls", "/sys/class/net"]);
    assert_eq!(links.split_whitespace().collect::<Vec<_>>(), vec!["lo"]);
    // docker's default capabilities: CapEff 0x00000000a80425fb.
    let status = d.ok(&["exec", &id, "cat", "/proc/1/status"]);
    assert!(status.contains("CapEff:\t00000000a80425fb"), "{status}");
    assert!(status.contains("Seccomp:\t2"), "{status}");
    // Masked and read-only paths.
    // Masked like dockerd (/dev/null over it); /proc/kcore is absent on this kernel.
    assert_eq!(d.ok(&["exec", &id, "cat", "/proc/timer_list"]), "");
    let out = d.berth(&[
        "exec",
        &id,
        "sh",
        "-c",
        "echo 1 > /proc/sys/kernel/domainname",
    ]);
    assert!(!out.status.success());
    d.ok(&["rm", "-f", &id]);
    assert!(cgroup_pids(&id).is_empty());
}

#[test]
fn host_network_and_init() {
    let d = Daemon::with_busybox();
    let host_links = std::fs::read_dir("/sys/class/net").unwrap().count();
    let out = d.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(out.split_whitespace().count(), host_links);
    let out = d.ok(&["run", "--rm", "--init", "busybox", "cat", "/proc/1/cmdline"]);
    assert!(out.starts_with("/sbin/docker-init"), "{out:?}");
}

#[test]
fn images_import_tag_history_rmi() {
    let d = Daemon::with_busybox();
    let tar = common::busybox_tar();
    d.ok(&[
        "import",
        "-c",
        "CMD [\"echo\", \"from-cmd\"]",
        "-c",
        "ENV A=b",
        tar.to_str().unwrap(),
        "mine:v1",
    ]);
    assert_eq!(d.ok(&["run", "--rm", "mine:v1"]), "from-cmd");
    assert_eq!(
        d.ok(&["run", "--rm", "mine:v1", "sh", "-c", "echo $A"]),
        "b"
    );
    let images = d.ok(&["images"]);
    assert!(images.starts_with("REPOSITORY"), "{images}");
    assert!(
        images.contains("mine") && images.contains("v1") && images.contains("busybox"),
        "{images}"
    );
    d.ok(&["tag", "mine:v1", "mine:v2"]);
    assert_eq!(d.ok(&["images", "-q", "mine"]).lines().count(), 2);
    assert!(d.ok(&["history", "mine:v2"]).contains("IMAGE"));
    d.ok(&["rmi", "mine:v2"]);
    let id = d.ok(&["run", "-d", "mine:v1", "sleep", "100"]);
    let (_, err) = d.fails(&["rmi", "mine:v1"]);
    assert!(
        err.contains("container") && err.contains("is using its referenced image")
            || err.contains("being used"),
        "{err}"
    );
    d.ok(&["rm", "-f", &id]);
    d.ok(&["rmi", "mine:v1"]);
    assert!(!d.ok(&["images"]).contains("mine"));
}

#[test]
fn export_top_events() {
    let d = Daemon::with_busybox();
    let id = d.ok(&["run", "-d", "busybox", "sleep", "1000"]);
    let top = d.ok(&["top", &id]);
    assert!(top.contains("sleep 1000"), "{top}");
    let out = d.berth(&["export", &id]);
    assert!(out.status.success());
    let listing = std::process::Command::new("tar")
        .arg("-t")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&out.stdout)?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("bin/busybox"));
    // A relative --until ("1s") means one second ago, as in docker: use a timestamp.
    let until = (chrono_free_now() + 1).to_string();
    let events = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "type=container",
        "--format",
        "{{.Action}}",
    ]);
    assert!(
        events.contains("create") && events.contains("start"),
        "{events}"
    );
    d.ok(&["rm", "-f", &id]);
}

#[test]
fn containers_survive_a_daemon_crash() {
    let mut d = Daemon::with_busybox();
    let id = d.ok(&[
        "run",
        "-d",
        "--name",
        "survivor",
        "busybox",
        "sh",
        "-c",
        "echo before; sleep 1000",
    ]);
    let id2 = d.ok(&[
        "run",
        "-d",
        "--name",
        "ender",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 4",
    ]);
    let pid = d.ok(&["inspect", "-f", "{{.State.Pid}}", "survivor"]);
    d.kill9();
    // The container keeps running without the daemon.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    std::thread::sleep(Duration::from_millis(1500));
    d.restart();
    assert_eq!(
        d.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Pid}}",
            "survivor"
        ]),
        format!("running {pid}")
    );
    // The one that exited while the daemon was down has its exit code.
    assert!(wait_until(Duration::from_secs(5), || d.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        &id2
    ]) == "exited 4"));
    assert!(d.ok(&["logs", "survivor"]).contains("before"));
    assert_eq!(
        d.ok(&["exec", "survivor", "echo", "still here"]),
        "still here"
    );
    d.ok(&["stop", "-t", "1", "survivor"]);
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.Status}}", &id]), "exited");
}

fn chrono_free_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
