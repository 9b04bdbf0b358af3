//! HTTP/1.1 client for the Docker Engine API over a unix socket: JSON requests,
//! streamed bodies, hijacked connections (attach, exec) and API-version negotiation.
#![forbid(unsafe_code)]

pub mod hijack;
pub mod stdcopy;

use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncRead;
use tokio::net::UnixStream;

pub use hijack::Hijacked;

/// The socket the CLI uses when neither `-H` nor `DOCKER_HOST` is set.
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";
/// Moves berth's run root (default `/run/berth`), and with it the default socket
/// (`$BERTH_EXEC_ROOT/berth.sock`), for the CLI and the daemon it starts.
pub const EXEC_ROOT_ENV: &str = "BERTH_EXEC_ROOT";
/// Moves berth's data root (default `/var/lib/berth`) for the daemon.
pub const DATA_ROOT_ENV: &str = "BERTH_DATA_ROOT";
/// The newest API version this client speaks.
pub const MAX_API_VERSION: &str = "1.50";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The host is not a unix socket address.
    #[error("unsupported host {0}: only unix:// sockets are supported")]
    Host(String),
    /// The socket could not be reached.
    #[error("Cannot connect to the berth daemon at unix://{}. Is the berth daemon running?", .path.display())]
    Connect {
        /// Socket path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The daemon answered with a non-2xx status.
    #[error("Error response from daemon: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The `message` of the error body (or the body itself).
        message: String,
    },
    /// HTTP protocol error.
    #[error("error during connect: {0}")]
    Http(#[from] hyper::Error),
    /// I/O error on the connection.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The body was not the JSON expected.
    #[error("invalid JSON from daemon: {0}")]
    Json(#[from] serde_json::Error),
    /// A malformed response on a hijacked connection.
    #[error("{0}")]
    Protocol(String),
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    /// True for a 404 API error.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// A request body.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// An empty body.
pub fn empty_body() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

/// A JSON body.
pub fn json_body(v: &serde_json::Value) -> Body {
    Full::new(Bytes::from(serde_json::to_vec(v).unwrap_or_default()))
        .map_err(|never| match never {})
        .boxed()
}

/// A body streamed from a reader (e.g. a tar file for `import`).
pub fn reader_body<R: AsyncRead + Send + Sync + Unpin + 'static>(reader: R) -> Body {
    ReaderBody {
        reader,
        buf: vec![0u8; 64 * 1024],
    }
    .boxed()
}

struct ReaderBody<R> {
    reader: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> hyper::body::Body for ReaderBody<R> {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::io::Result<Frame<Bytes>>>> {
        use std::task::Poll;
        let this = &mut *self;
        let mut rb = tokio::io::ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.reader).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if rb.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => {
                Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(rb.filled())))))
            }
        }
    }
}

/// The default host: [`DEFAULT_HOST`], or `unix://$BERTH_EXEC_ROOT/berth.sock`.
pub fn default_host() -> String {
    match std::env::var(EXEC_ROOT_ENV) {
        Ok(root) if !root.is_empty() => {
            format!("unix://{}/berth.sock", root.trim_end_matches('/'))
        }
        _ => DEFAULT_HOST.to_string(),
    }
}

/// The host to use: `-H`, then `DOCKER_HOST`, then [`default_host`].
pub fn resolve_host(flag: Option<&str>) -> String {
    if let Some(h) = flag.filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h,
        _ => default_host(),
    }
}

/// The socket path of a `unix:///path` (or plain `/path`) host.
pub fn socket_path(host: &str) -> Result<PathBuf> {
    if let Some(p) = host.strip_prefix("unix://") {
        if !p.is_empty() {
            return Ok(PathBuf::from(p));
        }
    } else if host.starts_with('/') {
        return Ok(PathBuf::from(host));
    }
    Err(Error::Host(host.to_string()))
}

/// Parses `1.NN` into a comparable pair.
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The API version to use: the lower of ours and the server's.
pub fn negotiate_version(server: Option<&str>) -> String {
    let ours = parse_version(MAX_API_VERSION).unwrap_or((1, 50));
    match server.and_then(parse_version) {
        Some(theirs) if theirs < ours => format!("{}.{}", theirs.0, theirs.1),
        _ => MAX_API_VERSION.to_string(),
    }
}

/// The message of an error body: `{"message": "..."}`, else the body text.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
    }
    let text = String::from_utf8_lossy(body).trim().to_string();
    if text.is_empty() {
        StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("unknown error")
            .to_string()
    } else {
        text
    }
}

/// The answer to `/_ping`.
#[derive(Debug, Clone, Default)]
pub struct Ping {
    /// `Api-Version` header.
    pub api_version: Option<String>,
    /// `OSType` header.
    pub os_type: Option<String>,
}

/// A streamed response body (logs, events, export, progress).
pub struct ByteStream {
    body: Incoming,
    /// The response's `Content-Type`.
    pub content_type: String,
}

impl ByteStream {
    /// The next chunk, or None at the end.
    pub async fn next(&mut self) -> Option<Result<Bytes>> {
        loop {
            match self.body.frame().await? {
                Err(e) => return Some(Err(e.into())),
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Some(Ok(data));
                        }
                    }
                }
            }
        }
    }

    /// True when the body is multiplexed (stdcopy frames).
    pub fn is_multiplexed(&self) -> bool {
        self.content_type.contains("multiplexed-stream")
    }
}

/// A client of one daemon.
#[derive(Debug)]
pub struct Client {
    host: String,
    socket: PathBuf,
    version: tokio::sync::OnceCell<String>,
}

impl Client {
    /// A client of `host` (`unix:///path` or `/path`). Does not connect.
    pub fn new(host: &str) -> Result<Client> {
        Ok(Client {
            host: host.to_string(),
            socket: socket_path(host)?,
            version: tokio::sync::OnceCell::new(),
        })
    }

    /// The host string.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Opens a connection to the socket.
    pub async fn connect_raw(&self) -> Result<UnixStream> {
        UnixStream::connect(&self.socket)
            .await
            .map_err(|source| Error::Connect {
                path: self.socket.clone(),
                source,
            })
    }

    async fn send(&self, req: Request<Body>) -> Result<Response<Incoming>> {
        let stream = self.connect_raw().await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender.send_request(req).await?)
    }

    /// `GET /_ping` (unversioned).
    pub async fn ping(&self) -> Result<Ping> {
        let req = build_request(Method::GET, "/_ping", empty_body(), None)?;
        let resp = self.send(req).await?;
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let ping = Ping {
            api_version: header("api-version"),
            os_type: header("ostype"),
        };
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() && ping.api_version.is_none() {
            return Err(Error::Api {
                status: status.as_u16(),
                message: error_message(status.as_u16(), &body),
            });
        }
        Ok(ping)
    }

    /// The negotiated API version (pings the daemon once).
    pub async fn api_version(&self) -> Result<&str> {
        self.version
            .get_or_try_init(|| async {
                let ping = self.ping().await?;
                Ok::<_, Error>(negotiate_version(ping.api_version.as_deref()))
            })
            .await
            .map(String::as_str)
    }

    /// Sets the API version without pinging (tests, `--api-version`).
    pub fn set_api_version(&self, v: &str) {
        let _ = self.version.set(v.to_string());
    }

    /// `/v1.NN` + path.
    async fn versioned(&self, path: &str) -> Result<String> {
        Ok(format!("/v{}{}", self.api_version().await?, path))
    }

    /// Sends a request; a non-2xx answer becomes [`Error::Api`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Body,
        content_type: Option<&str>,
    ) -> Result<Response<Incoming>> {
        let uri = self.versioned(path).await?;
        let resp = self
            .send(build_request(method, &uri, body, content_type)?)
            .await?;
        let status = resp.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(resp);
        }
        let body = resp.into_body().collect().await?.to_bytes();
        Err(Error::Api {
            status: status.as_u16(),
            message: error_message(status.as_u16(), &body),
        })
    }

    async fn json_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        let (b, ct) = match body {
            Some(v) => (json_body(v), Some("application/json")),
            None => (empty_body(), None),
        };
        let resp = self.request(method, path, b, ct).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let value = if bytes.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok((status, value))
    }

    /// `GET path` → JSON.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value> {
        Ok(self.json_request(Method::GET, path, None).await?.1)
    }

    /// `POST path` with an optional JSON body → status and JSON (Null when empty).
    pub async fn post(
        &self,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        self.json_request(Method::POST, path, body).await
    }

    /// `DELETE path` → status and JSON (Null when empty).
    pub async fn delete(&self, path: &str) -> Result<(u16, serde_json::Value)> {
        self.json_request(Method::DELETE, path, None).await
    }

    /// A request whose answer is streamed.
    pub async fn stream(
        &self,
        method: Method,
        path: &str,
        body: Body,
        content_type: Option<&str>,
    ) -> Result<ByteStream> {
        let resp = self.request(method, path, body, content_type).await?;
        let content_type = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok(ByteStream {
            body: resp.into_body(),
            content_type,
        })
    }

    /// `POST path` with `Upgrade: tcp`: the connection becomes a raw stream.
    pub async fn hijack(&self, path: &str, body: Option<&serde_json::Value>) -> Result<Hijacked> {
        let uri = self.versioned(path).await?;
        let stream = self.connect_raw().await?;
        hijack::hijack(stream, &uri, body).await
    }
}

fn build_request(
    method: Method,
    uri: &str,
    body: Body,
    content_type: Option<&str>,
) -> Result<Request<Body>> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(hyper::header::HOST, "docker")
        .header(
            hyper::header::USER_AGENT,
            concat!("berth/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(ct) = content_type {
        b = b.header(hyper::header::CONTENT_TYPE, ct);
    }
    b.body(body).map_err(|e| Error::Protocol(e.to_string()))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `?k=v&…` from pairs (values encoded); empty when there are none.
pub fn query(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}

#[cfg(test)]
mod tests;
