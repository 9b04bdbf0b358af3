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
    // exec processes are filtered too (dockerd/runc do it; libcontainer's tenant path
    // does not, berth loads the filter itself).
    let exec_status = d.ok(&["exec", &id, "cat", "/proc/self/status"]);
    assert!(exec_status.contains("Seccomp:\t2"), "{exec_status}");
    assert!(
        exec_status.contains("CapEff:\t00000000a80425fb"),
        "{exec_status}"
    );
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

/// A berth process in the background with its output collected (logs -f, events,
/// attach); killed (by pid) when dropped.
struct Bg {
    child: std::process::Child,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    err: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Bg {
    fn spawn(d: &Daemon, args: &[&str]) -> Bg {
        let mut cmd = std::process::Command::new(common::BERTH);
        cmd.arg("-H").arg(d.host()).args(args);
        Bg::spawn_cmd(cmd)
    }

    fn spawn_cmd(mut cmd: std::process::Command) -> Bg {
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn berth");
        let collect = |mut r: Box<dyn std::io::Read + Send>| {
            let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let b = buf.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = r.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    b.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            });
            buf
        };
        let out = collect(Box::new(child.stdout.take().unwrap()));
        let err = collect(Box::new(child.stderr.take().unwrap()));
        Bg { child, out, err }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    fn wait_stdout(&self, needle: &str) {
        assert!(
            wait_until(Duration::from_secs(10), || self.stdout().contains(needle)),
            "no {needle:?} in stdout {:?}, stderr {:?}",
            self.stdout(),
            self.stderr()
        );
    }

    /// The exit code, waiting at most 10 s.
    fn wait(&mut self) -> Option<i32> {
        let mut code = None;
        wait_until(Duration::from_secs(10), || {
            code = self
                .child
                .try_wait()
                .unwrap()
                .map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        code
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn out_err(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// An RFC 3339 (UTC, nano) timestamp of `logs -t` as (unix seconds, nanoseconds).
fn unix_time(rfc3339: &str) -> (u64, u64) {
    let (date, frac) = rfc3339.trim_end_matches('Z').split_once('.').unwrap();
    let secs = std::process::Command::new("date")
        .args(["-u", "-d", &format!("{date}Z"), "+%s"])
        .output()
        .unwrap();
    let secs = String::from_utf8_lossy(&secs.stdout)
        .trim()
        .parse()
        .unwrap();
    (secs, format!("{frac:0<9}").parse().unwrap())
}

#[test]
fn logs_follow_tail_timestamps_since_and_streams() {
    let d = Daemon::with_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "lg",
        "busybox",
        "sh",
        "-c",
        "echo out1; echo err1 >&2; while [ ! -f /tmp/go ]; do sleep 0.05; done; echo out2; exit 3",
    ]);
    assert!(wait_until(Duration::from_secs(10), || d
        .ok(&["logs", "lg"])
        .contains("out1")
        && out_err(&d.berth(&["logs", "lg"])).1.contains("err1")));
    // stdout and stderr of the container stay apart.
    let (o, e) = out_err(&d.berth(&["logs", "lg"]));
    assert_eq!((o.as_str(), e.as_str()), ("out1\n", "err1\n"));
    // -t: docker's RFC 3339 (nano) timestamp before each line.
    let stamped = d.ok(&["logs", "-t", "lg"]);
    let ts = stamped.split(' ').next().unwrap().to_string();
    assert!(
        ts.len() >= 20 && ts.ends_with('Z') && ts.contains('T') && stamped.ends_with(" out1"),
        "{stamped}"
    );
    let last_ts = out_err(&d.berth(&["logs", "-t", "lg"]))
        .1
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    // One nanosecond after the later of the two lines.
    let (secs, nanos) = std::cmp::max(unix_time(&ts), unix_time(&last_ts));
    let (secs, nanos) = if nanos == 999_999_999 {
        (secs + 1, 0)
    } else {
        (secs, nanos + 1)
    };
    let since = format!("{secs}.{nanos:09}");
    // logs -f follows until the container exits.
    let mut follow = Bg::spawn(&d, &["logs", "-f", "lg"]);
    follow.wait_stdout("out1\n");
    assert_eq!(
        follow.child.try_wait().unwrap(),
        None,
        "logs -f exited early"
    );
    d.ok(&["exec", "lg", "touch", "/tmp/go"]);
    follow.wait_stdout("out2\n");
    assert_eq!(
        follow.wait(),
        Some(0),
        "logs -f did not end with the container"
    );
    assert_eq!(follow.stdout(), "out1\nout2\n");
    assert_eq!(follow.stderr(), "err1\n");
    assert_eq!(d.ok(&["wait", "lg"]), "3");
    // --tail.
    let (o, e) = out_err(&d.berth(&["logs", "--tail", "1", "lg"]));
    assert_eq!((o.as_str(), e.as_str()), ("out2\n", ""));
    let (o, e) = out_err(&d.berth(&["logs", "-n", "2", "lg"]));
    assert_eq!((o.as_str(), e.as_str()), ("out2\n", "err1\n"));
    assert_eq!(out_err(&d.berth(&["logs", "--tail", "0", "lg"])).0, "");
    // --since: an absolute time, and a relative one.
    let (o, e) = out_err(&d.berth(&["logs", "--since", &since, "lg"]));
    assert_eq!((o.as_str(), e.as_str()), ("out2\n", ""), "since {since}");
    assert_eq!(d.ok(&["logs", "--since", "1h", "lg"]), "out1\nout2");
    let (code, err) = d.fails(&["logs", "--since", "bogus", "lg"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "invalid value for \"since\": failed to parse value as time or duration: \"bogus\"\n"
    );
    let (code, err) = d.fails(&["logs", "nosuch"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "Error response from daemon: No such container: nosuch\n")
    );
}

#[test]
fn ps_filters_flags_and_formats() {
    let d = Daemon::with_busybox();
    let alpha = d.ok(&[
        "run", "-d", "--name", "alpha", "-l", "app=x", "busybox", "sleep", "1000",
    ]);
    let bravo = d.ok(&[
        "run", "-d", "--name", "bravo", "busybox", "sh", "-c", "exit 3",
    ]);
    assert_eq!(d.ok(&["wait", "bravo"]), "3");
    let charlie = d.ok(&["create", "--name", "charlie", "busybox", "true"]);
    let short = |id: &str| id[..12].to_string();
    let names = |args: &[&str]| {
        let mut a = vec!["ps", "--format", "{{.Names}}"];
        a.extend_from_slice(args);
        d.ok(&a)
    };
    assert_eq!(names(&[]), "alpha");
    assert_eq!(names(&["-a"]), "charlie\nbravo\nalpha");
    assert_eq!(names(&["-a", "--filter", "status=exited"]), "bravo");
    assert_eq!(names(&["-a", "--filter", "status=created"]), "charlie");
    assert_eq!(names(&["-a", "--filter", "status=running"]), "alpha");
    assert_eq!(names(&["-a", "--filter", "exited=3"]), "bravo");
    assert_eq!(names(&["-a", "--filter", "exited=0"]), "");
    assert_eq!(names(&["-a", "-f", "name=rav"]), "bravo");
    assert_eq!(names(&["-a", "--filter", "label=app"]), "alpha");
    assert_eq!(names(&["-a", "--filter", "label=app=x"]), "alpha");
    assert_eq!(names(&["-a", "--filter", "label=app=y"]), "");
    assert_eq!(
        names(&["-a", "--filter", "ancestor=busybox"]),
        "charlie\nbravo\nalpha"
    );
    assert_eq!(
        names(&["-a", "--filter", &format!("id={}", &bravo[..6])]),
        "bravo"
    );
    assert_eq!(
        names(&[
            "-a",
            "--filter",
            "status=exited",
            "--filter",
            "status=created"
        ]),
        "charlie\nbravo"
    );
    // -n and -l include every state.
    assert_eq!(names(&["-n", "2"]), "charlie\nbravo");
    assert_eq!(names(&["-l"]), "charlie");
    assert_eq!(d.ok(&["ps", "-q"]), short(&alpha));
    assert_eq!(d.ok(&["ps", "-q", "--no-trunc", "-l"]), charlie);
    // The default table.
    let table = d.ok(&["ps", "-a"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
        "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES"
    );
    assert!(lines[1].starts_with(&short(&charlie)) && lines[1].contains("Created"));
    assert!(lines[2].contains("Exited (3) ") && lines[2].ends_with("bravo"));
    assert!(lines[3].contains("\"sleep 1000\"") && lines[3].contains("Up "));
    // --no-trunc: the whole ID and command.
    let full = d.ok(&["ps", "--no-trunc"]);
    assert!(full.contains(&alpha), "{full}");
    // -s: a SIZE column.
    let sized = d.ok(&["ps", "-s"]);
    assert!(sized.lines().next().unwrap().ends_with("SIZE"), "{sized}");
    assert!(sized.contains("(virtual "), "{sized}");
    // Formats.
    assert_eq!(
        d.ok(&["ps", "--format", "{{.ID}}\\t{{.Names}}"]),
        format!("{}\talpha", short(&alpha))
    );
    assert_eq!(
        d.ok(&[
            "ps",
            "-a",
            "--format",
            "table {{.Names}}\\t{{.Status}}",
            "-f",
            "name=alpha"
        ])
        .lines()
        .next()
        .unwrap(),
        "NAMES     STATUS"
    );
    assert_eq!(
        d.ok(&["ps", "--format", "{{.Label \"app\"}} {{.Labels}}"]),
        "x app=x"
    );
    let j: serde_json::Value =
        serde_json::from_str(&d.ok(&["ps", "--format", "{{json .}}"])).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "Command",
            "CreatedAt",
            "ID",
            "Image",
            "Labels",
            "LocalVolumes",
            "Mounts",
            "Names",
            "Networks",
            "Platform",
            "Ports",
            "RunningFor",
            "Size",
            "State",
            "Status"
        ]
    );
    assert_eq!(j["Names"], "alpha");
    assert_eq!(j["State"], "running");
    assert!(j["Size"].as_str().unwrap().contains("virtual"), "{j}");
    let j2: serde_json::Value = serde_json::from_str(&d.ok(&["ps", "--format", "json"])).unwrap();
    assert_eq!(j2["ID"], short(&alpha));
    // -q wins over --format, with docker's warning.
    let (o, e) = out_err(&d.berth(&["ps", "-q", "--format", "{{.Names}}"]));
    assert_eq!(o, format!("{}\n", short(&alpha)));
    assert_eq!(
        e,
        "WARNING: Ignoring custom format, because both --format and --quiet are set.\n"
    );
    // Template errors.
    assert_eq!(
        d.fails(&["ps", "--format", "{{.Names"]),
        (
            1,
            "failed to parse template: template: :1: unclosed action\n".into()
        )
    );
    assert_eq!(
        d.fails(&["ps", "--format", "{{.Bogus}}"]),
        (
            1,
            "failed to execute template: template: :1:2: executing \"\" at <.Bogus>: can't evaluate field Bogus in type *formatter.ContainerContext\n"
                .into()
        )
    );
    assert_eq!(
        d.fails(&["ps", "-n", "x"]).1,
        "invalid argument \"x\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"
    );
    let _ = bravo;
}

#[test]
fn inspect_images_version_info_formats() {
    let d = Daemon::with_busybox();
    let id = d.ok(&[
        "run", "-d", "--name", "insp", "-e", "FOO=bar", "-e", "B=2", "-l", "app=x", "-l", "k=v",
        "busybox", "sleep", "1000",
    ]);
    // {{json .Config}}: dockerd's Config, field order kept.
    let config: serde_json::Value =
        serde_json::from_str(&d.ok(&["inspect", "-f", "{{json .Config}}", "insp"])).unwrap();
    assert_eq!(config["Env"], serde_json::json!(["FOO=bar", "B=2"]));
    assert_eq!(config["Labels"], serde_json::json!({"app": "x", "k": "v"}));
    assert_eq!(config["Cmd"], serde_json::json!(["sleep", "1000"]));
    assert_eq!(config["Image"], "busybox");
    let keys: Vec<&str> = config
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..3], ["Hostname", "Domainname", "User"]);
    assert_eq!(
        d.ok(&[
            "inspect",
            "-f",
            "{{range .Config.Env}}[{{.}}]{{end}}",
            "insp"
        ]),
        "[FOO=bar][B=2]"
    );
    assert_eq!(
        d.ok(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"app\"}}|{{index .Config.Labels \"none\"}}|",
            "insp"
        ]),
        "x||"
    );
    assert_eq!(
        d.ok(&[
            "inspect",
            "-f",
            "{{.Id}} {{.State.Running}} {{.HostConfig.PidsLimit}}",
            "insp"
        ]),
        format!("{id} true <nil>")
    );
    assert_eq!(
        d.ok(&[
            "inspect",
            "-f",
            "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}",
            "insp"
        ]),
        "app=x;k=v;"
    );
    // The default output: an indented array; --format json: compact.
    let all: serde_json::Value = serde_json::from_str(&d.ok(&["inspect", "insp"])).unwrap();
    assert_eq!(all[0]["Id"], id.as_str());
    assert!(d
        .ok(&["inspect", "insp"])
        .starts_with("[\n    {\n        \"Id\": "));
    let compact = d.ok(&["inspect", "--format", "json", "insp", "busybox"]);
    assert!(
        compact.starts_with("[{\"Id\":") && !compact.contains('\n'),
        "{compact}"
    );
    // Both kinds, and a missing one.
    let out = d.berth(&["inspect", "-f", "{{.Id}}", "insp", "busybox", "nothing"]);
    let (o, e) = out_err(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(o.lines().count(), 2);
    assert!(o.lines().nth(1).unwrap().starts_with("sha256:"), "{o}");
    assert_eq!(e, "Error: No such object: nothing\n");
    assert_eq!(
        d.fails(&["inspect", "--type", "image", "insp"]).1,
        "Error response from daemon: No such image: insp:latest\n"
    );
    assert_eq!(
        d.fails(&["inspect", "-f", "{{.Nope", "insp"]),
        (
            64,
            "template parsing error: template: :1: unclosed action\n".into()
        )
    );
    assert_eq!(
        d.fails(&["inspect", "-f", "{{.Nope}}", "insp"]),
        (
            1,
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"\n"
                .into()
        )
    );

    // images.
    let img = d.ok(&["images", "-q"]);
    assert_eq!(img.len(), 12, "{img}");
    assert!(d.ok(&["images", "--no-trunc", "-q"]).starts_with("sha256:"));
    assert_eq!(
        d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]),
        format!("busybox:latest {img}")
    );
    let table = d.ok(&["images"]);
    assert_eq!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    );
    assert!(table
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("busybox      latest    "));
    let j: serde_json::Value =
        serde_json::from_str(&d.ok(&["images", "--format", "json"])).unwrap();
    assert_eq!(j["Repository"], "busybox");
    assert_eq!(j["Digest"], "<none>");
    assert!(!j.as_object().unwrap().contains_key("LabelMap"));
    assert!(d
        .ok(&["images", "--format", "{{json .}}"])
        .contains("\"Digest\":\"\\u003cnone\\u003e\""));
    assert_eq!(d.ok(&["image", "ls", "-q", "nosuch"]), "");
    assert_eq!(d.ok(&["history", "-q", "busybox"]), img);

    // version and info.
    assert_eq!(
        d.ok(&[
            "version",
            "--format",
            "{{.Server.Version}}|{{.Client.Version}}"
        ]),
        format!("{v}|{v}", v = env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        d.ok(&[
            "version",
            "-f",
            "{{.Server.APIVersion}} {{.Client.APIVersion}}"
        ]),
        "1.50 1.50"
    );
    let v: serde_json::Value =
        serde_json::from_str(&d.ok(&["version", "--format", "json"])).unwrap();
    assert!(v["Client"].get("APIVersion").is_none() && v["Client"]["ApiVersion"] == "1.50");
    let text = d.ok(&["version"]);
    assert!(text.starts_with("Client:\n Version:           "), "{text}");
    assert!(text.contains("\nServer: "), "{text}");
    assert_eq!(d.fails(&["version", "--format", "{{.Nope"]).0, 64);
    let out = d.berth(&["info"]);
    let (o, e) = out_err(&out);
    assert!(out.status.success());
    assert!(o.starts_with("Client:\n Version:    "), "{o}");
    assert!(
        o.contains(
            "\nServer:\n Containers: 1\n  Running: 1\n  Paused: 0\n  Stopped: 0\n Images: 1\n"
        ),
        "{o}"
    );
    assert!(
        o.contains(&format!(
            " Docker Root Dir: {}\n",
            d.dir.join("data").display()
        )),
        "{o}"
    );
    assert!(
        o.contains(" Security Options:\n  seccomp\n   Profile: builtin\n"),
        "{o}"
    );
    assert!(o.ends_with("\n\n"), "{o:?}");
    // The daemon's warnings (no bridge networking yet) go to stderr, as in docker.
    assert!(
        e.starts_with("WARNING: ") && e.contains("--network none"),
        "{e}"
    );
    assert_eq!(
        d.ok(&[
            "info",
            "--format",
            "{{.Containers}} {{.ContainersRunning}} {{.Driver}} {{.ClientInfo.Context}}"
        ]),
        "1 1 overlay2 default"
    );
    d.ok(&["rm", "-f", "insp"]);
}

#[test]
fn run_flags_rm_wait_and_errors() {
    let d = Daemon::with_busybox();
    let env_file = d.dir.join("env.list");
    std::fs::write(&env_file, "# comment\nA=1\nB=two words\n\nHOSTVAR\n").unwrap();
    let out = std::process::Command::new(common::BERTH)
        .env("HOSTVAR", "fromhost")
        .args(["-H", &d.host(), "run", "--rm", "--env-file"])
        .arg(&env_file)
        .args([
            "-e",
            "C=3",
            "busybox",
            "sh",
            "-c",
            "echo \"$A|$B|$HOSTVAR|$C\"",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out_err(&out).0,
        "1|two words|fromhost|3\n",
        "{:?}",
        out_err(&out)
    );
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "--entrypoint",
            "echo",
            "busybox",
            "hi",
            "there"
        ]),
        "hi there"
    );
    assert_eq!(
        d.ok(&["run", "--rm", "--entrypoint", "", "busybox", "echo", "x"]),
        "x"
    );
    assert!(d
        .ok(&["run", "--rm", "-u", "1000:1000", "busybox", "id"])
        .starts_with("uid=1000 gid=1000"));
    assert_eq!(
        d.ok(&["run", "--rm", "-u", "nobody", "busybox", "sh", "-c", "id -un"]),
        "nobody"
    );
    assert_eq!(
        d.ok(&["run", "--rm", "-w", "/tmp/new/dir", "busybox", "pwd"]),
        "/tmp/new/dir"
    );
    assert_eq!(
        d.ok(&["run", "--rm", "--hostname", "hh", "busybox", "hostname"]),
        "hh"
    );
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "--ulimit",
            "nofile=100:200",
            "busybox",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn"
        ]),
        "100\n200"
    );
    // --rm removes the container once it exited.
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    // -d prints the ID; wait prints the exit code.
    let id = d.ok(&[
        "run",
        "-d",
        "--name",
        "waiter",
        "busybox",
        "sh",
        "-c",
        "sleep 0.2; exit 9",
    ]);
    assert_eq!(id.len(), 64);
    assert_eq!(d.ok(&["wait", "waiter"]), "9");
    assert_eq!(d.ok(&["wait", &id, "waiter"]), "9\n9");
    // --rm with -d: gone after the exit.
    d.ok(&["run", "-d", "--rm", "--name", "gone", "busybox", "true"]);
    assert!(wait_until(Duration::from_secs(10), || d
        .ok(&["ps", "-aq", "-f", "name=gone"])
        .is_empty()));

    // Errors, word for word.
    let (code, err) = d.fails(&["run", "--name", "waiter", "busybox", "true"]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        format!("berth: Error response from daemon: Conflict. The container name \"/waiter\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.\n\nRun 'berth run --help' for more information\n")
    );
    let (code, err) = d.fails(&["run", "--name", "x", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("Invalid container name (x)"), "{err}");
    // A refused create leaves nothing in the data root.
    let dirs = std::fs::read_dir(d.dir.join("data/containers"))
        .unwrap()
        .count();
    assert_eq!(dirs, d.ok(&["ps", "-aq"]).lines().count());
    assert_eq!(
        d.fails(&["run", "--no-such-flag", "busybox"]),
        (125, "unknown flag: --no-such-flag\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n".into())
    );
    assert_eq!(
        d.fails(&["run", "-x", "busybox"]).1,
        "unknown shorthand flag: 'x' in -x\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
    );
    assert_eq!(
        d.fails(&["run", "-m", "lots", "busybox"]),
        (125, "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n".into())
    );
    assert_eq!(
        d.fails(&["run", "--rm", "--restart", "always", "busybox"]),
        (125, "berth: conflicting options: cannot specify both --restart and --rm\n\nRun 'berth run --help' for more information\n".into())
    );
    assert_eq!(
        d.fails(&["run", "-d", "-a", "stdout", "busybox"]),
        (
            1,
            "conflicting options: cannot specify both --attach and --detach\n".into()
        )
    );
    let (code, err) = d.fails(&["run", "--rm", "--env-file", "/nonexistent/env", "busybox"]);
    assert_eq!(code, 125);
    assert!(
        err.starts_with("berth: open /nonexistent/env: no such file or directory\n"),
        "{err}"
    );
    let (code, err) = d.fails(&["run", "--rm", "nosuchimage"]);
    assert_eq!(code, 125);
    assert!(
        err.starts_with("Unable to find image 'nosuchimage:latest' locally\nberth: Error response from daemon: "),
        "{err}"
    );
    assert!(
        err.ends_with("\n\nRun 'berth run --help' for more information\n"),
        "{err}"
    );
    // 127: command not found; 126: not executable.
    let (code, err) = d.fails(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!(code, 127);
    assert!(
        err.starts_with("berth: Error response from daemon: ") && err.contains("nosuchcmd"),
        "{err}"
    );
    let (code, err) = d.fails(&["run", "--rm", "busybox", "/etc"]);
    assert_eq!(code, 126, "{err}");
    let (code, _) = d.fails(&["run", "--rm", "busybox", "/etc/passwd"]);
    assert_eq!(code, 126);
    let (code, _) = d.fails(&["run", "--rm", "busybox", "sh", "-c", "exit 127"]);
    assert_eq!(code, 127);
    // Not a terminal.
    assert_eq!(
        d.fails(&["run", "-it", "--rm", "busybox", "true"]),
        (1, "the input device is not a TTY\n".into())
    );
    assert_eq!(d.ok(&["run", "-t", "--rm", "busybox", "tty"]), "/dev/pts/0");
    assert_eq!(d.ok(&["ps", "-aq", "-f", "status=created"]), "");
}

#[test]
fn events_stream_with_filters_and_formats() {
    let d = Daemon::with_busybox();
    d.ok(&["create", "--name", "evt", "busybox", "true"]);
    let mut ev = Bg::spawn(
        &d,
        &[
            "events",
            "--filter",
            "event=start",
            "--filter",
            "type=container",
        ],
    );
    let mut fmt = Bg::spawn(
        &d,
        &[
            "events",
            "--filter",
            "event=die",
            "--format",
            "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}",
        ],
    );
    let mut json = Bg::spawn(&d, &["events", "--format", "json"]);
    // The subscriptions are live once an event shows up: start until one does.
    let id = d.ok(&["inspect", "-f", "{{.Id}}", "evt"]);
    assert!(
        wait_until(Duration::from_secs(10), || {
            d.ok(&["start", "evt"]);
            d.ok(&["wait", "evt"]);
            ev.stdout().contains(" container start ")
                && fmt.stdout().contains("die evt 0")
                && json.stdout().contains("\"Action\":\"die\"")
        }),
        "events: {:?} {:?} {:?}",
        ev.stdout(),
        fmt.stdout(),
        json.stdout()
    );
    // docker's line: TIME TYPE ACTION ID (attributes, sorted).
    let line = ev.stdout().lines().next().unwrap().to_string();
    let (time, rest) = line.split_once(' ').unwrap();
    assert!(time.ends_with('Z') && time.len() == 30, "{line}");
    assert_eq!(
        rest,
        format!("container start {id} (image=busybox, name=evt)")
    );
    assert!(ev.stdout().lines().all(|l| l.contains(" container start ")));
    assert!(
        fmt.stdout().lines().all(|l| l == "die evt 0"),
        "{}",
        fmt.stdout()
    );
    let first: serde_json::Value =
        serde_json::from_str(json.stdout().lines().next().unwrap()).unwrap();
    assert_eq!(first["Type"], "container");
    // Still streaming: kill the followers.
    for b in [&mut ev, &mut fmt, &mut json] {
        assert_eq!(b.child.try_wait().unwrap(), None);
        b.child.kill().unwrap();
        b.child.wait().unwrap();
    }
    assert_eq!(
        d.fails(&["events", "--since", "bogus"]),
        (
            1,
            "failed to parse value as time or duration: \"bogus\"\n".into()
        )
    );
    assert_eq!(
        d.fails(&["events", "--format", "{{.Bogus"]),
        (
            64,
            "Error parsing format: template: :1: unclosed action\n".into()
        )
    );
}

#[test]
fn attach_and_start_attach_without_tty() {
    let d = Daemon::with_busybox();
    // attach: output, then signals are proxied (SIGTERM to attach → the container's trap)
    // and attach exits with the container's exit code.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "att",
        "busybox",
        "sh",
        "-c",
        "trap 'echo bye; exit 5' TERM; while true; do echo tick; sleep 0.1; done",
    ]);
    let mut a = Bg::spawn(&d, &["attach", "att"]);
    a.wait_stdout("tick\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(a.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(a.wait(), Some(5), "{:?}", a.stderr());
    assert!(a.stdout().ends_with("bye\n"), "{:?}", a.stdout());
    assert_eq!(
        d.fails(&["attach", "att"]),
        (
            1,
            "You cannot attach to a stopped container, start it first\n".into()
        )
    );
    // create, then start -a: the container's streams and exit code.
    d.ok(&[
        "create",
        "--name",
        "sa",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 4",
    ]);
    let out = d.berth(&["start", "-a", "sa"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out_err(&out), ("out\n".into(), "err\n".into()));
    // start -a -i with stdin.
    d.ok(&[
        "create",
        "-i",
        "--name",
        "sai",
        "busybox",
        "sh",
        "-c",
        "cat; exit 2",
    ]);
    let out = d.berth_stdin(&["start", "-a", "-i", "sai"], Some(b"piped in\n"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out_err(&out).0, "piped in\n");
    // start of several, one missing: docker's message lists the failed ones.
    let (code, err) = d.fails(&["start", "sa", "nosuch"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n"
    );
    assert_eq!(
        d.fails(&["start", "-a", "sa", "sai"]).1,
        "you cannot start and attach multiple containers at once\n"
    );
}

#[test]
fn command_line_errors_match_docker() {
    let d = Daemon::start();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["logs"], 1, "berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] CONTAINER\n\nRun 'berth logs --help' for more information\n"),
        (&["logs", "a", "b"], 1, "berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] CONTAINER\n\nRun 'berth logs --help' for more information\n"),
        (&["exec", "c"], 1, "berth: 'berth exec' requires at least 2 arguments\n\nUsage:  berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'berth exec --help' for more information\n"),
        (&["run"], 1, "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information\n"),
        (&["rename", "a"], 1, "berth: 'berth rename' requires 2 arguments\n\nUsage:  berth rename CONTAINER NEW_NAME\n\nRun 'berth rename --help' for more information\n"),
        (&["ps", "x"], 1, "berth: 'berth ps' accepts no arguments\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"),
        (&["container", "ls", "x"], 1, "berth: 'berth container ls' accepts no arguments\n\nUsage:  berth container ls [OPTIONS]\n\nRun 'berth container ls --help' for more information\n"),
        (&["image", "inspect"], 1, "berth: 'berth image inspect' requires at least 1 argument\n\nUsage:  berth image inspect [OPTIONS] IMAGE [IMAGE...]\n\nSee 'berth image inspect --help' for more information\n"),
        (&["bogus"], 1, "berth: unknown command: berth bogus\n\nRun 'berth --help' for more information\n"),
        (&["container", "bogus"], 1, "berth: unknown command: berth container bogus\n\nUsage:  berth container\n\nRun 'berth container --help' for more information\n"),
        (&["ps", "--bogus"], 125, "unknown flag: --bogus\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"),
        (&["--bogus", "ps"], 125, "unknown flag: --bogus\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n"),
        (&["run", "--name"], 125, "flag needs an argument: --name\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"),
        (&["ps", "-n"], 125, "flag needs an argument: 'n' in -n\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"),
        (&["stop", "-t", "x", "c"], 125, "invalid argument \"x\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n\nUsage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth stop --help' for more information\n"),
        (&["run", "--sig-proxy=x", "busybox"], 125, "invalid argument \"x\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"x\": invalid syntax\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"),
    ];
    for (args, code, text) in cases {
        assert_eq!(d.fails(args), (*code, text.to_string()), "berth {args:?}");
    }
    // No command: the help on stdout, exit 0, like docker.
    for args in [&[][..], &["container"][..], &["image"][..]] {
        let out = d.berth(args);
        assert_eq!(out.status.code(), Some(0), "berth {args:?}");
        assert!(
            out_err(&out).0.contains("Usage: berth"),
            "{:?}",
            out_err(&out)
        );
    }
    // pflag: a repeated flag takes the last value.
    assert_eq!(d.ok(&["version", "--format", "A", "--format", "B"]), "B");
    // Client-side checks that need no container.
    assert_eq!(
        d.fails(&["exec", "--env-file", "/nonexistent", "c", "true"])
            .1,
        "open /nonexistent: no such file or directory\n"
    );
    assert_eq!(
        d.fails(&["import", "/nonexistent.tar"]).1,
        "open /nonexistent.tar: no such file or directory\n"
    );
    // -H honoured; an absent socket that is not the default is not auto-started.
    let (code, err) = d.fails(&["-H", "unix:///nonexistent/berth.sock", "ps"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n"
    );
}

/// The roots of an auto-started daemon; its daemon is killed (by the pid it wrote)
/// and its files removed when dropped.
struct AutoRoots {
    dir: std::path::PathBuf,
}

impl AutoRoots {
    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("exec/berth.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    fn berth(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(common::BERTH)
            .env_remove("DOCKER_HOST")
            .env("BERTH_EXEC_ROOT", self.dir.join("exec"))
            .env("BERTH_DATA_ROOT", self.dir.join("data"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    fn kill_daemon(&self, sig: nix::sys::signal::Signal) {
        if let Some(pid) = self.pid() {
            let pid = nix::unistd::Pid::from_raw(pid);
            if nix::sys::signal::kill(pid, sig).is_ok() {
                wait_until(Duration::from_secs(10), || {
                    nix::sys::signal::kill(pid, None).is_err()
                });
            }
        }
    }
}

impl Drop for AutoRoots {
    fn drop(&mut self) {
        self.kill_daemon(nix::sys::signal::Signal::SIGKILL);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn cli_starts_the_daemon_when_the_default_socket_is_absent() {
    let roots = AutoRoots {
        dir: std::path::PathBuf::from(format!("/tmp/berth-it-auto-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&roots.dir);
    let sock = roots.dir.join("exec/berth.sock");
    assert!(!sock.exists());
    // No daemon, no socket: the CLI starts one and waits for it.
    let out = roots.berth(&["version", "--format", "{{.Server.Version}}"]);
    assert!(out.status.success(), "{:?}", out_err(&out));
    assert_eq!(out_err(&out).0.trim(), env!("CARGO_PKG_VERSION"));
    assert!(sock.exists());
    let pid = roots.pid().expect("the daemon wrote its pid");
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(cmdline.contains("daemon"), "{cmdline:?}");
    // It uses the data root it was given, and logs there.
    let out = roots.berth(&["info", "--format", "{{.DockerRootDir}}"]);
    assert_eq!(
        out_err(&out).0.trim(),
        roots.dir.join("data").display().to_string()
    );
    assert!(roots.dir.join("data/berth.log").exists());
    // The next command uses the running daemon.
    assert!(roots.berth(&["ps", "-a"]).status.success());
    assert_eq!(roots.pid(), Some(pid));
    // A daemon that died (socket left behind) is replaced.
    roots.kill_daemon(nix::sys::signal::Signal::SIGKILL);
    assert!(sock.exists());
    let out = roots.berth(&["ps", "-q"]);
    assert!(out.status.success(), "{:?}", out_err(&out));
    let pid2 = roots.pid().unwrap();
    assert_ne!(pid2, pid);
    assert!(std::path::Path::new(&format!("/proc/{pid2}")).exists());
    // A stopped daemon removes its socket.
    roots.kill_daemon(nix::sys::signal::Signal::SIGTERM);
    assert!(!sock.exists());
}

#[test]
fn references_and_more_docker_messages() {
    let d = Daemon::with_busybox();
    // Image references are checked by the CLI, like docker's.
    assert_eq!(
        d.fails(&["run", "BAD"]),
        (125, "berth: invalid reference format: repository name (library/BAD) must be lowercase\n\nRun 'berth run --help' for more information\n".into())
    );
    assert_eq!(
        d.fails(&["create", "bad::x"]),
        (1, "invalid reference format\n".into())
    );
    assert_eq!(
        d.fails(&["tag", "busybox", "a/B"]),
        (1, "Error parsing reference: \"a/B\" is not a valid repository/tag: invalid reference format: repository name (a/B) must be lowercase\n".into())
    );
    assert_eq!(
        d.fails(&["import", common::busybox_tar().to_str().unwrap(), "x::y"]),
        (1, "invalid reference format\n".into())
    );
    // create's daemon errors are printed alone (exit 1); run's with the hint (125).
    d.ok(&["create", "--name", "twice", "busybox", "true"]);
    let (code, err) = d.fails(&["create", "--name", "twice", "busybox", "true"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(
            "Error response from daemon: Conflict. The container name \"/twice\" is already in use"
        ),
        "{err}"
    );
    let (code, err) = d.fails(&["create", "nosuchimage"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(
            "Unable to find image 'nosuchimage:latest' locally\nError response from daemon: "
        ),
        "{err}"
    );
    // run -d prints the ID before the start fails.
    let out = d.berth(&["run", "-d", "--name", "nocmd", "busybox", "nosuchcmd"]);
    assert_eq!(out.status.code(), Some(127));
    let id = d.ok(&["inspect", "-f", "{{.Id}}", "nocmd"]);
    assert_eq!(out_err(&out).0, format!("{id}\n"));
    // rename, rm -f of a missing container, export -o.
    assert_eq!(
        d.fails(&["rename", "nosuch", "other"]),
        (1, "Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n".into())
    );
    let out = d.berth(&["rm", "-f", "nosuch", "twice"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out_err(&out),
        (
            "twice\n".into(),
            "Error response from daemon: No such container: nosuch\n".into()
        )
    );
    assert_eq!(
        d.fails(&["rm", "nosuch"]),
        (
            1,
            "Error response from daemon: No such container: nosuch\n".into()
        )
    );
    assert_eq!(
        d.fails(&["export", "-o", "/nonexistent/dir/x.tar", "nocmd"]).1,
        "failed to export container: invalid output path: stat /nonexistent/dir: no such file or directory\n"
    );
    let tar = d.dir.join("nocmd.tar");
    d.ok(&["export", "-o", tar.to_str().unwrap(), "nocmd"]);
    assert!(std::fs::metadata(&tar).unwrap().len() > 100_000);
    // A missing container leaves no file behind.
    let none = d.dir.join("none.tar");
    d.fails(&["export", "-o", none.to_str().unwrap(), "nosuch"]);
    assert!(!none.exists());
    assert_eq!(
        d.fails(&["ps", "--filter", "bogus"]),
        (125, "invalid argument \"bogus\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n".into())
    );
    // top: docker's wider columns.
    d.ok(&["run", "-d", "--name", "topper", "busybox", "sleep", "1000"]);
    let top = d.ok(&["top", "topper", "-o", "pid,comm"]);
    assert!(top.starts_with("PID                 COMMAND\n"), "{top}");
    assert!(top.lines().nth(1).unwrap().ends_with("sleep"), "{top}");
    // exec -d returns at once, prints nothing; -u; -i with stdin; an exit code.
    assert_eq!(
        d.ok(&[
            "exec",
            "-d",
            "topper",
            "sh",
            "-c",
            "sleep 0.2; touch /tmp/done"
        ]),
        ""
    );
    assert!(wait_until(Duration::from_secs(10), || d
        .berth(&["exec", "topper", "test", "-f", "/tmp/done"])
        .status
        .success()));
    assert_eq!(
        d.ok(&["exec", "-u", "1000:1000", "topper", "id", "-u"]),
        "1000"
    );
    let out = d.berth_stdin(
        &["exec", "-i", "topper", "sh", "-c", "cat; exit 9"],
        Some(b"in\n"),
    );
    assert_eq!(
        (out.status.code(), out_err(&out).0),
        (Some(9), "in\n".into())
    );
    let (code, err) = d.fails(&["exec", "topper", "nosuchcmd"]);
    assert_eq!(code, 127);
    assert!(err.contains("executable file not found"), "{err}");
}
