//! Root integration tests of the Engine API over the unix socket, with a raw HTTP/1.1
//! client, so requests look exactly like what docker clients send.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use common::Daemon;
use serde_json::{json, Value};

/// A response: status, headers (lowercased names), body (de-chunked).
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn request(d: &Daemon, method: &str, path: &str, body: Option<&str>) -> Resp {
    let mut s = UnixStream::connect(&d.sock).unwrap();
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let len = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .unwrap_or(0);
            if len == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + len]);
            rest = &rest[eol + 2 + len + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

#[test]
fn ping_version_and_negotiation() {
    let d = Daemon::start();
    for path in ["/_ping", "/v1.41/_ping", "/v1.50/_ping"] {
        let r = request(&d, "GET", path, None);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"OK");
        assert_eq!(r.header("api-version"), Some("1.50"));
        assert_eq!(r.header("ostype"), Some("linux"));
    }
    let v = request(&d, "GET", "/v1.41/version", None).json();
    assert_eq!(v["ApiVersion"], "1.50");
    assert_eq!(v["MinAPIVersion"], "1.24");
    assert_eq!(v["Os"], "linux");
    let r = request(&d, "GET", "/v1.99/version", None);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("too new"), "{}", r.message());
    let info = request(&d, "GET", "/info", None).json();
    assert_eq!(info["Driver"], "overlay2");
    assert!(info["CgroupVersion"] == "1" || info["CgroupVersion"] == "2");
}

#[test]
fn head_ping_prefixes_and_common_headers() {
    let d = Daemon::start();
    let r = request(&d, "HEAD", "/_ping", None);
    assert_eq!((r.status, r.body.len()), (200, 0));
    for (name, value) in [
        ("api-version", "1.50"),
        ("swarm", "inactive"),
        ("docker-experimental", "false"),
        ("cache-control", "no-cache, no-store, must-revalidate"),
        ("pragma", "no-cache"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name}");
    }
    // Every version from 1.24 (dockerd's minimum) to 1.50, as a prefix.
    for minor in 24..=50 {
        let r = request(&d, "GET", &format!("/v1.{minor}/containers/json"), None);
        assert_eq!(r.status, 200, "v1.{minor}");
        assert_eq!(r.header("api-version"), Some("1.50"));
    }
    let r = request(&d, "GET", "/v1.23/version", None);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("too old"), "{}", r.message());
    // Errors carry the headers too, and a JSON message.
    let r = request(&d, "GET", "/v1.45/containers/nope/json", None);
    assert_eq!((r.status, r.header("api-version")), (404, Some("1.50")));
    assert_eq!(r.header("content-type"), Some("application/json"));
    // Image shapes follow the requested version (VirtualSize went away in 1.44).
    let tar = common::busybox_tar();
    d.ok(&["import", tar.to_str().unwrap(), "busybox:latest"]);
    let old = request(&d, "GET", "/v1.41/images/json", None).json();
    assert!(old[0]["VirtualSize"].is_i64(), "{old}");
    let new = request(&d, "GET", "/v1.50/images/json", None).json();
    assert!(new[0].get("VirtualSize").is_none(), "{new}");
    let old = request(&d, "GET", "/v1.41/images/busybox/json", None).json();
    assert_eq!(old["Config"]["Hostname"], "");
    assert!(old["ContainerConfig"].is_object(), "{old}");
    let new = request(&d, "GET", "/images/busybox/json", None).json();
    assert!(new["Config"].get("Hostname").is_none(), "{new}");
    // Networks, volumes and plugins berth has (none of the latter two).
    let nets = request(&d, "GET", "/networks", None).json();
    assert_eq!(nets.as_array().unwrap().len(), 2);
    assert_eq!(request(&d, "GET", "/networks/nope", None).status, 404);
    assert_eq!(request(&d, "GET", "/volumes/nope", None).status, 404);
    assert_eq!(request(&d, "GET", "/plugins/nope/json", None).status, 404);
    assert_eq!(request(&d, "GET", "/swarm", None).status, 503);
    assert!(d.leftovers().is_empty());
}

#[test]
fn bodies_and_parameters_like_dockerd() {
    let d = Daemon::with_busybox();
    // Go's decoder: an array is not an object; null members are zero values.
    let r = request(&d, "POST", "/containers/create", Some("[]"));
    assert_eq!(r.status, 400, "{}", r.message());
    let r = request(
        &d,
        "POST",
        "/containers/create?name=nulls",
        Some(
            r#"{"Image":"busybox","Cmd":["sleep","1000"],"User":null,"WorkingDir":null,"HostConfig":{"Memory":null,"Mounts":[{"Type":"tmpfs","Target":"/t","Source":null}]}}"#,
        ),
    );
    assert_eq!(r.status, 201, "{}", r.message());
    let id = r.json()["Id"].as_str().unwrap().to_string();
    assert_eq!(
        request(&d, "POST", &format!("/containers/{id}/start"), None).status,
        204
    );
    // Resizing a container without a tty is a no-op (200), as with dockerd.
    let r = request(
        &d,
        "POST",
        &format!("/containers/{id}/resize?h=10&w=20"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.message());
    // top's ps options are the client's: a bad one is a 400.
    let r = request(
        &d,
        "GET",
        &format!("/containers/{id}/top?ps_args=--nope"),
        None,
    );
    assert_eq!(r.status, 400, "{}", r.message());
    // Unparsable since/until are 400s, not "no bound".
    for q in ["since=bogus", "until=bogus"] {
        let r = request(
            &d,
            "GET",
            &format!("/containers/{id}/logs?stdout=1&{q}"),
            None,
        );
        assert_eq!(r.status, 400, "{q}");
    }
    // docker-py's since/before parameters of the list.
    let r = request(
        &d,
        "POST",
        "/containers/create?name=later",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
    );
    let later = r.json()["Id"].as_str().unwrap().to_string();
    let list = request(
        &d,
        "GET",
        &format!("/containers/json?all=1&since={id}"),
        None,
    )
    .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["Id"], later.as_str());
    let list = request(
        &d,
        "GET",
        &format!("/containers/json?all=1&before={later}"),
        None,
    )
    .json();
    assert_eq!(list[0]["Id"], id.as_str());
    // ExecIDs lists the exec instances not done yet; exec errors are 400s.
    let r = request(
        &d,
        "POST",
        &format!("/containers/{id}/exec"),
        Some(r#"{"Cmd":["true"]}"#),
    );
    let exec = r.json()["Id"].as_str().unwrap().to_string();
    let i = request(&d, "GET", &format!("/containers/{id}/json"), None).json();
    assert_eq!(i["ExecIDs"], json!([exec]));
    let r = request(
        &d,
        "POST",
        &format!("/containers/{id}/exec"),
        Some(r#"{"Cmd":["true"],"WorkingDir":"tmp"}"#),
    );
    assert_eq!(r.status, 400);
    // wait: dockerd omits an empty Error.
    let r = request(&d, "POST", &format!("/containers/{later}/start"), None);
    assert_eq!(r.status, 204);
    let w = request(&d, "POST", &format!("/containers/{later}/wait"), None).json();
    assert_eq!(w, json!({"StatusCode": 0}));
    // A HostConfig with dockerd's keys, and warnings for what is not applied.
    let i = request(&d, "GET", &format!("/containers/{id}/json"), None).json();
    for key in [
        "OomScoreAdj",
        "Links",
        "ContainerIDFile",
        "BlkioWeightDevice",
        "CpuCount",
    ] {
        assert!(i["HostConfig"].get(key).is_some(), "{key}");
    }
    let r = request(
        &d,
        "POST",
        "/containers/create",
        Some(r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"BlkioWeight":300}}"#),
    );
    assert_eq!(r.status, 201);
    assert!(r.json()["Warnings"][0]
        .as_str()
        .unwrap()
        .contains("discarded"));
    assert!(d.leftovers().is_empty());
}

#[test]
fn bad_input_gets_docker_errors() {
    let d = Daemon::with_busybox();
    let r = request(&d, "POST", "/v1.45/containers/create", Some("{not json"));
    assert_eq!(r.status, 400);
    assert!(!r.message().is_empty());
    let r = request(&d, "GET", "/containers/nope/json", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such container: nope");
    let r = request(
        &d,
        "POST",
        "/containers/create",
        Some(r#"{"Image":"nope:1","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such image: nope:1");
    let r = request(
        &d,
        "POST",
        "/containers/create?name=ab",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 201);
    let id = r.json()["Id"].as_str().unwrap().to_string();
    let r = request(
        &d,
        "POST",
        "/containers/create?name=ab",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 409);
    let r = request(
        &d,
        "POST",
        "/containers/create?name=a%20b",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 400);
    let r = request(
        &d,
        "GET",
        "/containers/json?filters=%7B%22foo%22%3A%5B%22x%22%5D%7D",
        None,
    );
    assert_eq!(r.status, 400);
    let r = request(&d, "GET", "/no/such/endpoint", None);
    assert_eq!(r.status, 404);
    let r = request(&d, "POST", &format!("/containers/{id}/kill"), None);
    assert_eq!(r.status, 409);
    let r = request(&d, "DELETE", &format!("/containers/{id}"), None);
    assert_eq!(r.status, 204);
}

#[test]
fn create_start_wait_inspect_logs_over_api() {
    let d = Daemon::with_busybox();
    let body = json!({
        "Image": "busybox", "Cmd": ["sh", "-c", "echo out; echo err >&2; exit 3"],
        "Labels": {"k": "v"}, "Env": ["A=1"], "WorkingDir": "/tmp",
        "HostConfig": {"Memory": 67108864, "NanoCpus": 500000000, "PidsLimit": 50, "NetworkMode": "none"}
    });
    let r = request(
        &d,
        "POST",
        "/v1.41/containers/create?name=apitest",
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["Id"].as_str().unwrap().to_string();
    let i = request(&d, "GET", &format!("/containers/{id}/json"), None).json();
    assert_eq!(i["State"]["Status"], "created");
    assert_eq!(i["Name"], "/apitest");
    assert_eq!(i["HostConfig"]["Memory"], 67108864);
    assert_eq!(i["Config"]["Labels"]["k"], "v");
    assert_eq!(i["GraphDriver"]["Name"], "overlay2");
    assert!(i["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .ends_with("/upper"));
    assert_eq!(
        request(&d, "POST", &format!("/containers/{id}/start"), None).status,
        204
    );
    let w = request(&d, "POST", &format!("/containers/{id}/wait"), None).json();
    assert_eq!(w["StatusCode"], 3);
    let i = request(&d, "GET", &format!("/containers/{id}/json"), None).json();
    assert_eq!(i["State"]["Status"], "exited");
    assert_eq!(i["State"]["ExitCode"], 3);
    assert_ne!(i["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    // Logs in multiplexed frames: stdout is stream 1, stderr 2.
    let logs = request(
        &d,
        "GET",
        &format!("/containers/{id}/logs?stdout=1&stderr=1"),
        None,
    )
    .body;
    assert_eq!(&logs[..8], &[1, 0, 0, 0, 0, 0, 0, 4]);
    assert_eq!(&logs[8..12], b"out\n");
    assert_eq!(&logs[12..20], &[2, 0, 0, 0, 0, 0, 0, 4]);
    let tail = request(
        &d,
        "GET",
        &format!("/containers/{id}/logs?stdout=1&stderr=1&tail=1"),
        None,
    )
    .body;
    assert_eq!(&tail[8..], b"err\n");
    // Start of a started container: 304; list with filters.
    let list = request(
        &d,
        "GET",
        "/containers/json?all=1&filters=%7B%22status%22%3A%5B%22exited%22%5D%7D",
        None,
    )
    .json();
    assert_eq!(list[0]["Id"], id.as_str());
    assert_eq!(list[0]["Command"], "sh -c 'echo out; echo err >&2; exit 3'");
    let list = request(&d, "GET", "/containers/json", None).json();
    assert_eq!(list.as_array().unwrap().len(), 0);
    assert_eq!(
        request(&d, "DELETE", &format!("/containers/{id}?v=1"), None).status,
        204
    );
}

#[test]
fn runc_backend_runs_the_same_container() {
    let d = Daemon::with_busybox();
    let body = json!({
        "Image": "busybox", "Cmd": ["sh", "-c", "cat /proc/self/status | grep -E '^(CapEff|Seccomp):'; hostname; exit 6"],
        "Hostname": "viarunc",
        "HostConfig": {"Runtime": "runc", "Memory": 33554432}
    });
    let r = request(&d, "POST", "/containers/create", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["Id"].as_str().unwrap().to_string();
    assert_eq!(
        request(&d, "POST", &format!("/containers/{id}/start"), None).status,
        204
    );
    let w = request(&d, "POST", &format!("/containers/{id}/wait"), None).json();
    assert_eq!(w["StatusCode"], 6);
    let logs = d.ok(&["logs", &id]);
    assert!(logs.contains("CapEff:\t00000000a80425fb"), "{logs}");
    assert!(logs.contains("Seccomp:\t2"), "{logs}");
    assert!(logs.contains("viarunc"), "{logs}");
    assert_eq!(
        request(&d, "DELETE", &format!("/containers/{id}"), None).status,
        204
    );
}
