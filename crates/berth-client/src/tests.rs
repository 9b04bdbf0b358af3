use super::*;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

#[test]
fn hosts() {
    assert_eq!(
        socket_path("unix:///run/x.sock").unwrap(),
        PathBuf::from("/run/x.sock")
    );
    assert_eq!(
        socket_path("/run/y.sock").unwrap(),
        PathBuf::from("/run/y.sock")
    );
    assert!(matches!(
        socket_path("tcp://1.2.3.4:2375"),
        Err(Error::Host(_))
    ));
    assert_eq!(resolve_host(Some("unix:///a")), "unix:///a");
}

#[test]
fn version_negotiation() {
    assert_eq!(negotiate_version(Some("1.51")), "1.50");
    assert_eq!(negotiate_version(Some("1.50")), "1.50");
    assert_eq!(negotiate_version(Some("1.41")), "1.41");
    assert_eq!(negotiate_version(None), "1.50");
    assert_eq!(negotiate_version(Some("garbage")), "1.50");
}

#[test]
fn error_messages() {
    assert_eq!(
        error_message(404, br#"{"message":"No such container: x"}"#),
        "No such container: x"
    );
    assert_eq!(error_message(500, b"plain text\n"), "plain text");
    assert_eq!(error_message(404, b""), "Not Found");
    let e = Error::Api {
        status: 409,
        message: "conflict".into(),
    };
    assert_eq!(e.to_string(), "Error response from daemon: conflict");
}

#[test]
fn query_encoding() {
    assert_eq!(query(&[]), "");
    assert_eq!(
        query(&[
            ("filters", r#"{"label":["a=b"]}"#.into()),
            ("all", "1".into())
        ]),
        "?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&all=1"
    );
}

#[test]
fn stdcopy_decoder_handles_split_frames() {
    let mut data = stdcopy::encode(1, b"hello");
    data.extend(stdcopy::encode(2, b"err"));
    data.extend(stdcopy::encode(1, b""));
    let mut d = stdcopy::Decoder::new();
    let mut got = Vec::new();
    for b in &data {
        d.push(std::slice::from_ref(b));
        while let Some(f) = d.next_frame().unwrap() {
            got.push(f);
        }
    }
    assert_eq!(
        got,
        vec![
            (stdcopy::StreamKind::Stdout, b"hello".to_vec()),
            (stdcopy::StreamKind::Stderr, b"err".to_vec()),
            (stdcopy::StreamKind::Stdout, vec![]),
        ]
    );
    assert_eq!(d.pending(), 0);
    let mut bad = stdcopy::Decoder::new();
    bad.push(&[9, 0, 0, 0, 0, 0, 0, 0]);
    assert!(bad.next_frame().is_err());
}

#[test]
fn head_parsing_and_dechunk() {
    let h = hijack::parse_head(
        "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nUpgrade: tcp",
    )
    .unwrap();
    assert_eq!(h.status, 101);
    assert_eq!(
        h.header("content-type"),
        Some("application/vnd.docker.raw-stream")
    );
    assert!(hijack::parse_head("garbage").is_err());
    assert_eq!(
        hijack::dechunk(b"5\r\nhello\r\n3\r\n ab\r\n0\r\n\r\n"),
        b"hello ab"
    );
}

/// Removes the fake daemon's socket file.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fake daemon: records request heads (and bodies), answers by path.
async fn fake_server(name: &str) -> (String, Arc<Mutex<Vec<String>>>) {
    let path = std::env::temp_dir().join(format!(
        "berth-client-test-{}-{name}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    // Dropped with the task when the test's runtime shuts down.
    let socket_file = RemoveOnDrop(path.clone());
    tokio::spawn(async move {
        let _socket_file = socket_file;
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let log = log2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let end = loop {
                    let mut c = [0u8; 1024];
                    let n = s.read(&mut c).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&c[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                let mut body = buf[end + 4..].to_vec();
                while body.len() < len {
                    let mut c = [0u8; 1024];
                    let n = s.read(&mut c).await.unwrap();
                    body.extend_from_slice(&c[..n]);
                }
                let line = head.lines().next().unwrap().to_string();
                log.lock()
                    .unwrap()
                    .push(format!("{line} {}", String::from_utf8_lossy(&body)));
                let path = line.split(' ').nth(1).unwrap().to_string();
                let resp: Vec<u8> = if path == "/_ping" {
                    b"HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nContent-Length: 2\r\n\r\nOK".to_vec()
                } else if path.contains("/containers/json") {
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n[{\"Id\":\"a\"}]"
                        .to_vec()
                } else if path.contains("/missing") {
                    let b = r#"{"message":"No such container: missing"}"#;
                    format!(
                        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                        b.len()
                    )
                    .into_bytes()
                } else if path.contains("/logs") {
                    let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                    for (k, p) in [(1u8, &b"one\n"[..]), (2, b"two\n")] {
                        let f = stdcopy::encode(k, p);
                        r.extend(format!("{:x}\r\n", f.len()).bytes());
                        r.extend(f);
                        r.extend(b"\r\n");
                    }
                    r.extend(b"0\r\n\r\n");
                    r
                } else if path.contains("/attach") {
                    // Upgrade, then echo stdin as a stdout frame once the client half-closes.
                    let mut r = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
                    r.extend(stdcopy::encode(2, b"early"));
                    s.write_all(&r).await.unwrap();
                    let mut input = Vec::new();
                    s.read_to_end(&mut input).await.unwrap();
                    s.write_all(&stdcopy::encode(1, &input)).await.unwrap();
                    return;
                } else if path.contains("/nohijack") {
                    let b = r#"{"message":"container x is not running"}"#;
                    format!(
                        "HTTP/1.1 409 Conflict\r\nContent-Length: {}\r\n\r\n{b}",
                        b.len()
                    )
                    .into_bytes()
                } else {
                    b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()
                };
                let _ = s.write_all(&resp).await;
            });
        }
    });
    (format!("unix://{}", path.display()), log)
}

#[tokio::test]
async fn requests_are_versioned_and_errors_mapped() {
    let (host, log) = fake_server("req").await;
    let c = Client::new(&host).unwrap();
    let v = c.get("/containers/json?all=1").await.unwrap();
    assert_eq!(v[0]["Id"], "a");
    let (status, v) = c
        .post("/containers/x/start", Some(&serde_json::json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!((status, v), (204, serde_json::Value::Null));
    let err = c.get("/containers/missing/json").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        "Error response from daemon: No such container: missing"
    );
    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], "GET /_ping HTTP/1.1 ");
    assert_eq!(log[1], "GET /v1.45/containers/json?all=1 HTTP/1.1 ");
    assert_eq!(log[2], r#"POST /v1.45/containers/x/start HTTP/1.1 {"a":1}"#);
    assert_eq!(log.len(), 4, "the version is negotiated once");
}

#[tokio::test]
async fn streaming_bodies() {
    let (host, _) = fake_server("stream").await;
    let c = Client::new(&host).unwrap();
    let mut s = c
        .stream(
            Method::GET,
            "/containers/x/logs?stdout=1",
            empty_body(),
            None,
        )
        .await
        .unwrap();
    assert!(s.is_multiplexed());
    let mut d = stdcopy::Decoder::new();
    let mut frames = Vec::new();
    while let Some(chunk) = s.next().await {
        d.push(&chunk.unwrap());
        while let Some(f) = d.next_frame().unwrap() {
            frames.push(f);
        }
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1], (stdcopy::StreamKind::Stderr, b"two\n".to_vec()));
}

#[tokio::test]
async fn hijack_and_half_close() {
    let (host, log) = fake_server("hijack").await;
    let c = Client::new(&host).unwrap();
    let h = c
        .hijack("/containers/x/attach?stream=1&stdin=1", None)
        .await
        .unwrap();
    assert!(h.is_multiplexed());
    let (mut r, mut w) = h.into_split();
    w.write_all(b"typed input").await.unwrap();
    w.shutdown().await.unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).await.unwrap();
    let mut d = stdcopy::Decoder::new();
    d.push(&out);
    assert_eq!(
        d.next_frame().unwrap().unwrap(),
        (stdcopy::StreamKind::Stderr, b"early".to_vec())
    );
    assert_eq!(
        d.next_frame().unwrap().unwrap(),
        (stdcopy::StreamKind::Stdout, b"typed input".to_vec())
    );
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("POST /v1.45/containers/x/attach?stream=1&stdin=1 ")));
    let err = c
        .hijack("/nohijack", Some(&serde_json::json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.to_string().contains("is not running"));
}
