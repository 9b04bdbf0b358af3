//! Compatibility: the real Docker CLI (/usr/local/bin/docker) against berth's socket.

mod common;

use common::Daemon;

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "docker failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn docker_cli_drives_berth() {
    if !std::path::Path::new("/usr/local/bin/docker").exists() {
        eprintln!("skipping: /usr/local/bin/docker is not installed");
        return;
    }
    let d = Daemon::start();
    let tar = common::busybox_tar();
    ok(d.docker(&["import", tar.to_str().unwrap(), "busybox:latest"]));
    let images = ok(d.docker(&["images"]));
    assert!(
        images.contains("busybox") && images.contains("latest"),
        "{images}"
    );
    assert_eq!(
        ok(d.docker(&["run", "--rm", "busybox", "echo", "hi from docker"])),
        "hi from docker"
    );
    let out = d.docker(&["run", "--rm", "busybox", "sh", "-c", "exit 9"]);
    assert_eq!(out.status.code(), Some(9));
    let id = ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "dk",
        "busybox",
        "sh",
        "-c",
        "echo logged; sleep 1000",
    ]));
    assert_eq!(id.len(), 64);
    assert!(ok(d.docker(&["ps"])).contains("dk"));
    assert!(common::wait_until(
        std::time::Duration::from_secs(5),
        || ok(d.docker(&["logs", "dk"])) == "logged"
    ));
    assert_eq!(ok(d.docker(&["exec", "dk", "echo", "exec ok"])), "exec ok");
    assert_eq!(
        ok(d.docker(&[
            "inspect",
            "-f",
            "{{.State.Running}} {{.Config.Image}}",
            "dk"
        ])),
        "true busybox"
    );
    ok(d.docker(&["stop", "-t", "1", "dk"]));
    assert_eq!(
        ok(d.docker(&["inspect", "-f", "{{.State.Status}}", "dk"])),
        "exited"
    );
    ok(d.docker(&["rm", "dk"]));
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    let v = ok(d.docker(&["version", "--format", "{{.Server.APIVersion}}"]));
    assert_eq!(v, "1.50");
}
