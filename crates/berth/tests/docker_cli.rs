//! Compatibility: the real Docker CLI (/usr/local/bin/docker, 28.x) against berth's socket.
//!
//! Each test has its own daemon. Every docker command runs with a time limit, so a stream
//! that never ends fails the test instead of hanging it. Not covered, because the CLI
//! needs a terminal for them: `run -it`, `exec -it`, `attach` to a tty container
//! ("the input device is not a TTY").

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{wait_until, Daemon};

const DOCKER: &str = "/usr/local/bin/docker";

/// What a docker command did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self, args: &[&str]) -> String {
        assert!(
            self.code == Some(0),
            "docker {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            self.code,
            self.stdout,
            self.stderr
        );
        self.stdout.trim_end().to_string()
    }
}

fn have_docker() -> bool {
    if Path::new(DOCKER).exists() {
        return true;
    }
    eprintln!("skipping: {DOCKER} is not installed");
    false
}

/// Starts `docker -H <berth> args…` with stdout and stderr going to files in the daemon's
/// dir (big outputs such as `export` never block on a pipe).
fn spawn(d: &Daemon, args: &[&str], tag: &str) -> Child {
    let out = std::fs::File::create(d.dir.join(format!("{tag}.out"))).unwrap();
    let err = std::fs::File::create(d.dir.join(format!("{tag}.err"))).unwrap();
    Command::new(DOCKER)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .env("DOCKER_CONFIG", d.dir.join("docker-config"))
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("run docker")
}

fn read(d: &Daemon, tag: &str, ext: &str) -> String {
    std::fs::read_to_string(d.dir.join(format!("{tag}.{ext}"))).unwrap_or_default()
}

/// Waits for a spawned docker command, killing it after `secs`.
fn finish(d: &Daemon, mut child: Child, tag: &str, secs: u64) -> Run {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "docker {tag} did not finish in {secs}s\nstdout: {}\nstderr: {}",
                read(d, tag, "out"),
                read(d, tag, "err")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code,
        stdout: read(d, tag, "out"),
        stderr: read(d, tag, "err"),
    }
}

fn docker(d: &Daemon, args: &[&str]) -> Run {
    let child = spawn(d, args, "cmd");
    finish(d, child, "cmd", 60)
}

fn ok(d: &Daemon, args: &[&str]) -> String {
    docker(d, args).ok(args)
}

/// `docker import` of the busybox rootfs.
fn import_busybox(d: &Daemon) {
    let tar = common::busybox_tar();
    ok(d, &["import", tar.to_str().unwrap(), "busybox:latest"]);
}

fn finish_clean(d: Daemon) {
    let left = d.leftovers();
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn docker_cli_drives_berth() {
    if !have_docker() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let images = ok(&d, &["images"]);
    assert!(
        images.contains("busybox") && images.contains("latest"),
        "{images}"
    );
    assert_eq!(
        ok(&d, &["run", "--rm", "busybox", "echo", "hi from docker"]),
        "hi from docker"
    );
    let out = docker(&d, &["run", "--rm", "busybox", "sh", "-c", "exit 9"]);
    assert_eq!(out.code, Some(9));
    let id = ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "dk",
            "busybox",
            "sh",
            "-c",
            "echo logged; sleep 1000",
        ],
    );
    assert_eq!(id.len(), 64);
    assert!(ok(&d, &["ps"]).contains("dk"));
    assert!(wait_until(Duration::from_secs(5), || ok(
        &d,
        &["logs", "dk"]
    ) == "logged"));
    assert_eq!(ok(&d, &["exec", "dk", "echo", "exec ok"]), "exec ok");
    assert_eq!(
        ok(
            &d,
            &[
                "inspect",
                "-f",
                "{{.State.Running}} {{.Config.Image}}",
                "dk"
            ]
        ),
        "true busybox"
    );
    ok(&d, &["stop", "-t", "1", "dk"]);
    assert_eq!(
        ok(&d, &["inspect", "-f", "{{.State.Status}}", "dk"]),
        "exited"
    );
    ok(&d, &["rm", "dk"]);
    assert_eq!(ok(&d, &["ps", "-aq"]), "");
    let v = ok(&d, &["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(v, "1.50");
    // Errors: docker's messages and exit codes.
    let r = docker(&d, &["run", "--rm", "nope:1", "true"]);
    assert_eq!(r.code, Some(125), "{}", r.stderr);
    assert!(r.stderr.contains("nope:1"), "{}", r.stderr);
    let r = docker(&d, &["inspect", "nope-container"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("No such object: nope-container"),
        "{}",
        r.stderr
    );
    let r = docker(&d, &["run", "--rm", "busybox", "nope-command"]);
    assert_eq!(r.code, Some(127), "{}", r.stderr);
    // --mount, --dns*, resources: the CLI's flags reach the container.
    let src = d.dir.join("bind-src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("f"), "host file\n").unwrap();
    let bind = format!("type=bind,src={},dst=/data,readonly", src.display());
    let out = ok(
        &d,
        &[
            "run",
            "--rm",
            "--mount",
            &bind,
            "--mount",
            "type=tmpfs,dst=/scratch,tmpfs-size=1m",
            "--dns",
            "192.0.2.53",
            "--dns-search",
            "example.test",
            "--dns-option",
            "ndots:3",
            "busybox",
            "sh",
            "-c",
            "cat /data/f; touch /data/x 2>/dev/null || echo ro; grep -c ' /scratch tmpfs ' /proc/mounts; cat /etc/resolv.conf",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], ["host file", "ro", "1"], "{out}");
    for want in [
        "nameserver 192.0.2.53",
        "search example.test",
        "options ndots:3",
    ] {
        assert!(lines.contains(&want), "{want} not in {out}");
    }
    // What berth cannot do yet: docker's 125 with the daemon's reason.
    let r = docker(&d, &["run", "--rm", "--pid", "host", "busybox", "true"]);
    assert_eq!(r.code, Some(125), "{}", r.stderr);
    assert!(
        r.stderr.contains("PID mode host is not supported yet"),
        "{}",
        r.stderr
    );
    let r = docker(&d, &["run", "--rm", "-v", "named:/x", "busybox", "true"]);
    assert_eq!(r.code, Some(125), "{}", r.stderr);
    // `docker inspect` tries every object type: unknown ones are 404s, not errors.
    let r = docker(&d, &["inspect", "--type", "network", "host"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        ok(&d, &["network", "ls", "--format", "{{.Name}}"]),
        "host\nnone"
    );
    assert_eq!(ok(&d, &["volume", "ls", "-q"]), "");
    finish_clean(d);
}

#[test]
fn docker_cli_attach_logs_follow_wait() {
    if !have_docker() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    // run -d, then attach (no tty): the attach ends with the container and exits with its
    // code; stdout and stderr keep apart.
    ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "att",
            "busybox",
            "sh",
            "-c",
            "while [ ! -e /tmp/go ]; do echo tick; sleep 0.1; done; echo done-out; echo done-err >&2; exit 3",
        ],
    );
    let attach = spawn(&d, &["attach", "att"], "attach");
    assert!(
        wait_until(Duration::from_secs(15), || read(&d, "attach", "out")
            .contains("tick")),
        "attach shows no output: {}",
        read(&d, "attach", "err")
    );
    ok(&d, &["exec", "att", "touch", "/tmp/go"]);
    let r = finish(&d, attach, "attach", 30);
    assert_eq!(r.code, Some(3), "attach exit code; stderr: {}", r.stderr);
    assert!(r.stdout.ends_with("done-out\n"), "{}", r.stdout);
    assert!(!r.stdout.contains("done-err"), "{}", r.stdout);
    assert_eq!(r.stderr, "done-err\n");
    // logs -f ends with the container.
    ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "lf",
            "busybox",
            "sh",
            "-c",
            "for i in 1 2 3; do echo line$i; sleep 0.2; done; echo err-line >&2; exit 4",
        ],
    );
    let follow = spawn(&d, &["logs", "-f", "lf"], "follow");
    let r = finish(&d, follow, "follow", 30);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "line1\nline2\nline3\n");
    assert_eq!(r.stderr, "err-line\n");
    // wait prints the exit code (the container is gone by now: it answers at once).
    assert_eq!(ok(&d, &["wait", "lf"]), "4");
    ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "waiter",
            "busybox",
            "sh",
            "-c",
            "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 6",
        ],
    );
    let wait = spawn(&d, &["wait", "waiter"], "wait");
    ok(&d, &["exec", "waiter", "touch", "/tmp/go"]);
    let r = finish(&d, wait, "wait", 30);
    assert_eq!((r.code, r.stdout.trim()), (Some(0), "6"), "{}", r.stderr);
    // logs options.
    // --tail counts lines of both streams.
    let r = docker(&d, &["logs", "--tail", "2", "lf"]);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("line3\n", "err-line\n")
    );
    let r = docker(&d, &["logs", "--tail", "1", "lf"]);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", "err-line\n"));
    let ts = ok(&d, &["logs", "-t", "--tail", "2", "lf"]);
    for line in ts.lines() {
        let (stamp, text) = line.split_once(' ').unwrap();
        assert!(stamp.len() == 30 && stamp.ends_with('Z'), "{line}");
        assert!(text.starts_with("line"), "{line}");
    }
    assert_eq!(
        ok(&d, &["logs", "--since", "2000-01-01T00:00:00Z", "lf"]),
        "line1\nline2\nline3"
    );
    assert_eq!(
        ok(&d, &["logs", "--since", "1s", "--until", "3s", "lf"]),
        ""
    );
    // docker's errors.
    let r = docker(&d, &["logs", "nope"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("No such container: nope"), "{}", r.stderr);
    finish_clean(d);
}

#[test]
fn docker_cli_exec_top_signals_lifecycle() {
    if !have_docker() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "life",
            "-e",
            "FROMRUN=1",
            "busybox",
            "sh",
            "-c",
            "trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done",
        ],
    );
    // USR1 before the trap is set would kill the shell.
    assert!(wait_until(Duration::from_secs(15), || ok(
        &d,
        &["logs", "life"]
    ) == "ready"));
    // exec -e -w -u, exit codes, -d.
    assert_eq!(
        ok(
            &d,
            &[
                "exec",
                "-e",
                "A=b",
                "-w",
                "/tmp",
                "-u",
                "nobody",
                "life",
                "sh",
                "-c",
                "echo $A $FROMRUN; pwd; id -u"
            ]
        ),
        "b 1\n/tmp\n65534"
    );
    assert_eq!(
        ok(&d, &["exec", "-u", "1000:1000", "life", "id", "-u"]),
        "1000"
    );
    let r = docker(&d, &["exec", "life", "sh", "-c", "exit 5"]);
    assert_eq!(r.code, Some(5));
    let r = docker(&d, &["exec", "life", "nope-command"]);
    assert!(
        matches!(r.code, Some(126) | Some(127)),
        "{:?} {}",
        r.code,
        r.stderr
    );
    ok(&d, &["exec", "-d", "life", "touch", "/tmp/detached"]);
    assert!(wait_until(Duration::from_secs(10), || docker(
        &d,
        &["exec", "life", "test", "-e", "/tmp/detached"]
    )
    .code
        == Some(0)));
    // top, with and without ps options.
    let top = ok(&d, &["top", "life"]);
    assert!(top.starts_with("UID") && top.contains("PID"), "{top}");
    assert!(top.contains("while true"), "{top}");
    let top = ok(&d, &["top", "life", "-o", "pid,comm"]);
    assert!(top.lines().next().unwrap().contains("COMMAND"), "{top}");
    assert!(top.contains("sh"), "{top}");
    // kill -s: the container's handler runs.
    ok(&d, &["kill", "-s", "USR1", "life"]);
    assert!(wait_until(Duration::from_secs(10), || ok(
        &d,
        &["logs", "life"]
    )
    .contains("got-usr1")));
    ok(&d, &["kill", "--signal", "SIGUSR1", "life"]);
    assert!(wait_until(Duration::from_secs(10), || ok(
        &d,
        &["logs", "life"]
    )
    .matches("got-usr1")
    .count()
        == 2));
    let r = docker(&d, &["kill", "-s", "NOPE", "life"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("Invalid signal: NOPE"), "{}", r.stderr);
    // pause / unpause.
    ok(&d, &["pause", "life"]);
    assert_eq!(
        ok(
            &d,
            &["ps", "--filter", "status=paused", "--format", "{{.Names}}"]
        ),
        "life"
    );
    let status = ok(&d, &["ps", "--format", "{{.Status}}"]);
    assert!(
        status.starts_with("Up ") && status.ends_with(" (Paused)"),
        "{status}"
    );
    let r = docker(&d, &["exec", "life", "true"]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("is paused"), "{}", r.stderr);
    ok(&d, &["unpause", "life"]);
    assert_eq!(
        ok(&d, &["inspect", "-f", "{{.State.Status}}", "life"]),
        "running"
    );
    // restart: a new process.
    let pid = ok(&d, &["inspect", "-f", "{{.State.Pid}}", "life"]);
    ok(&d, &["restart", "-t", "1", "life"]);
    assert_eq!(
        ok(&d, &["inspect", "-f", "{{.State.Status}}", "life"]),
        "running"
    );
    assert_ne!(ok(&d, &["inspect", "-f", "{{.State.Pid}}", "life"]), pid);
    // rename.
    ok(&d, &["rename", "life", "life2"]);
    assert_eq!(ok(&d, &["inspect", "-f", "{{.Name}}", "life2"]), "/life2");
    let r = docker(&d, &["inspect", "life"]);
    assert_eq!(r.code, Some(1));
    // rm refuses a running container; rm -f removes it.
    let r = docker(&d, &["rm", "life2"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("stop the container before removing or force remove"),
        "{}",
        r.stderr
    );
    assert_eq!(ok(&d, &["rm", "-f", "life2"]), "life2");
    assert_eq!(ok(&d, &["ps", "-aq"]), "");
    // kill a stopped container: docker's 409 text.
    ok(&d, &["create", "--name", "idle", "busybox", "true"]);
    let r = docker(&d, &["kill", "idle"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("is not running"), "{}", r.stderr);
    finish_clean(d);
}

#[test]
fn docker_cli_ps_images_export() {
    if !have_docker() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let r = docker(
        &d,
        &[
            "run", "--name", "ex3", "-l", "k=v", "busybox", "sh", "-c", "exit 3",
        ],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    ok(&d, &["run", "--name", "ex0", "busybox", "true"]);
    ok(
        &d,
        &["run", "-d", "--name", "up", "busybox", "sleep", "1000"],
    );
    ok(&d, &["create", "--name", "new", "busybox", "true"]);
    let ps = ok(
        &d,
        &[
            "ps",
            "-a",
            "--filter",
            "status=exited",
            "--format",
            "{{.Names}}|{{.Status}}|{{.Image}}",
        ],
    );
    let mut lines: Vec<&str> = ps.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{ps}");
    assert!(
        lines[0].starts_with("ex0|Exited (0) ") && lines[0].ends_with("|busybox"),
        "{ps}"
    );
    assert!(lines[1].starts_with("ex3|Exited (3) "), "{ps}");
    assert_eq!(
        ok(
            &d,
            &["ps", "-a", "--filter", "exited=3", "--format", "{{.Names}}"]
        ),
        "ex3"
    );
    assert_eq!(
        ok(
            &d,
            &[
                "ps",
                "-a",
                "--filter",
                "label=k=v",
                "--format",
                "{{.Names}} {{.Label \"k\"}}"
            ]
        ),
        "ex3 v"
    );
    assert_eq!(
        ok(&d, &["ps", "-a", "--filter", "status=created", "-q"]).len(),
        12
    );
    assert_eq!(
        ok(&d, &["ps", "--format", "{{.Names}} {{.State}}"]),
        "up running"
    );
    assert_eq!(
        ok(&d, &["ps", "-a", "-n", "1", "--format", "{{.Names}}"]),
        "new"
    );
    assert_eq!(ok(&d, &["ps", "-l", "--format", "{{.Names}}"]), "new");
    let table = ok(&d, &["ps", "-a"]);
    assert!(table.starts_with("CONTAINER ID   IMAGE"), "{table}");
    assert_eq!(table.lines().count(), 5, "{table}");
    let r = docker(&d, &["ps", "--filter", "bogus=1"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("invalid filter 'bogus'"), "{}", r.stderr);

    // image tag / inspect / history / rm.
    let id = ok(&d, &["image", "inspect", "-f", "{{.Id}}", "busybox"]);
    assert!(id.starts_with("sha256:"), "{id}");
    ok(&d, &["image", "tag", "busybox", "mybox:v1"]);
    ok(&d, &["tag", "busybox", "example.com/team/mybox"]);
    assert_eq!(
        ok(&d, &["image", "inspect", "-f", "{{.Id}}", "mybox:v1"]),
        id
    );
    assert_eq!(
        ok(
            &d,
            &["image", "inspect", "-f", "{{json .RepoTags}}", "busybox"]
        ),
        r#"["busybox:latest","example.com/team/mybox:latest","mybox:v1"]"#
    );
    let images = ok(&d, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut names: Vec<&str> = images.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "busybox:latest",
            "example.com/team/mybox:latest",
            "mybox:v1"
        ]
    );
    assert_eq!(ok(&d, &["images", "-q", "--no-trunc", "mybox"]), id);
    let hist = ok(
        &d,
        &[
            "image",
            "history",
            "--no-trunc",
            "--format",
            "{{.ID}}|{{.Comment}}",
            "busybox",
        ],
    );
    assert_eq!(hist, format!("{id}|Imported from -"));
    let hist = ok(&d, &["history", "busybox"]);
    assert!(
        hist.starts_with("IMAGE") && hist.contains("Imported from -"),
        "{hist}"
    );
    assert_eq!(ok(&d, &["image", "rm", "mybox:v1"]), "Untagged: mybox:v1");
    let r = docker(&d, &["image", "rm", "mybox:v1"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("No such image: mybox:v1"), "{}", r.stderr);
    // Tagged twice, and used by containers: refused without -f.
    let r = docker(&d, &["image", "rm", &id]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("conflict"), "{}", r.stderr);
    assert_eq!(
        ok(&d, &["rmi", "example.com/team/mybox"]),
        "Untagged: example.com/team/mybox:latest"
    );
    let r = docker(&d, &["image", "inspect", "nope:1"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("No such image: nope:1"), "{}", r.stderr);

    // export, to a file and to stdout, of a running and a stopped container.
    ok(
        &d,
        &["exec", "up", "sh", "-c", "echo mine > /tmp/made-here"],
    );
    let file = d.dir.join("up.tar");
    ok(&d, &["export", "-o", file.to_str().unwrap(), "up"]);
    let list = Command::new("tar").arg("-tf").arg(&file).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        list.lines()
            .any(|l| l.trim_start_matches("./") == "tmp/made-here"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.trim_start_matches("./") == "bin/busybox"),
        "{list}"
    );
    let child = spawn(&d, &["export", "ex3"], "export");
    let r = finish(&d, child, "export", 60);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let size = std::fs::metadata(d.dir.join("export.out")).unwrap().len();
    assert!(
        size > 1 << 20,
        "export of a stopped container: {size} bytes"
    );
    finish_clean(d);
}

#[test]
fn docker_cli_events_version_info() {
    if !have_docker() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let t0 = now().to_string();
    // A live stream, started before the container.
    let live = spawn(
        &d,
        &[
            "events",
            "--filter",
            "container=evc",
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ],
        "live",
    );
    // `events` shows nothing until something happens: give it time to connect by
    // producing events until the stream shows one.
    let mut n = 0;
    assert!(
        wait_until(Duration::from_secs(15), || {
            n += 1;
            let name = format!("probe{n}");
            ok(&d, &["create", "--name", &name, "busybox", "true"]);
            ok(&d, &["rm", &name]);
            let r = docker(
                &d,
                &[
                    "run", "--rm", "--name", "evc", "-l", "evl=1", "busybox", "sh", "-c", "exit 2",
                ],
            );
            assert_eq!(r.code, Some(2), "{}", r.stderr);
            read(&d, "live", "out").contains("container destroy evc")
        }),
        "live events: {}",
        read(&d, "live", "out")
    );
    let mut live = live;
    let _ = live.kill();
    let _ = live.wait();
    let out = read(&d, "live", "out");
    // `docker run` attaches before it starts the container.
    let last: Vec<&str> = out.lines().rev().take(5).collect();
    assert_eq!(
        last,
        [
            "container destroy evc",
            "container die evc",
            "container start evc",
            "container attach evc",
            "container create evc",
        ],
        "{out}"
    );
    // since/until: history, and the command ends by itself.
    let t1 = (now() + 1).to_string();
    let hist = ok(
        &d,
        &[
            "events",
            "--since",
            &t0,
            "--until",
            &t1,
            "--filter",
            "container=evc",
            "--filter",
            "event=die",
            "--format",
            "{{.Action}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.evl}}",
        ],
    );
    let dies: Vec<&str> = hist.lines().collect();
    assert!(
        !dies.is_empty() && dies.iter().all(|l| *l == "die 2 1"),
        "{hist}"
    );
    let hist = ok(
        &d,
        &[
            "events",
            "--since",
            &t0,
            "--until",
            &t1,
            "--filter",
            "type=image",
            "--format",
            "{{.Type}} {{.Action}}",
        ],
    );
    // The import may fall in t0's second; nothing else touched images.
    assert!(
        hist.lines()
            .all(|l| l == "image import" || l == "image tag"),
        "{hist}"
    );
    let plain = ok(
        &d,
        &[
            "events",
            "--since",
            &t0,
            "--until",
            &t1,
            "--filter",
            "event=create",
        ],
    );
    assert!(
        plain
            .lines()
            .all(|l| l.contains(" container create ") && l.contains("image=busybox")),
        "{plain}"
    );
    let r = docker(&d, &["events", "--since", "bogus", "--until", &t1]);
    assert_ne!(r.code, Some(0));

    // version and info, plain and formatted.
    let v = docker(&d, &["version"]);
    assert_eq!(v.code, Some(0), "{}", v.stderr);
    assert!(v.stdout.contains("Server: Berth Engine"), "{}", v.stdout);
    assert!(
        v.stdout
            .contains("API version:      1.50 (minimum version 1.24)"),
        "{}",
        v.stdout
    );
    assert_eq!(
        ok(
            &d,
            &[
                "version",
                "--format",
                "{{.Server.Os}}/{{.Server.Arch}} {{.Client.APIVersion}}"
            ]
        ),
        format!("linux/{} 1.50", berth_arch())
    );
    let info = docker(&d, &["info"]);
    assert_eq!(info.code, Some(0), "{}", info.stderr);
    for want in [
        "Storage Driver: overlay2",
        "Logging Driver: json-file",
        "Cgroup Driver: cgroupfs",
        "Swarm: inactive",
        "OSType: linux",
        &format!("Docker Root Dir: {}", d.dir.join("data").display()),
    ] {
        assert!(
            info.stdout.contains(want),
            "{want} not in:\n{}",
            info.stdout
        );
    }
    assert!(!info.stdout.contains("ERROR"), "{}", info.stdout);
    assert_eq!(
        ok(
            &d,
            &[
                "info",
                "--format",
                "{{.OSType}} {{.Driver}} {{.Images}} {{.Containers}}"
            ]
        ),
        "linux overlay2 1 0"
    );
    assert_eq!(
        ok(
            &d,
            &["system", "info", "--format", "{{json .CgroupVersion}}"]
        ),
        format!("\"{}\"", berth_engine_cgroup())
    );
    finish_clean(d);
}

fn berth_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn berth_engine_cgroup() -> &'static str {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    }
}
