//! Hijacked connections: `POST …/attach` and `POST /exec/{id}/start` turn the HTTP
//! connection into a raw bidirectional stream (`Connection: Upgrade`, `Upgrade: tcp`).
//! Written by hand on the unix stream so that both dockerd answers work (`101
//! UPGRADED`, or the older `200 OK` with a raw-stream content type), and so that the
//! write side can be half-closed when stdin ends.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

use crate::{error_message, Error, Result};

/// Why a hijack failed at the HTTP level.
#[derive(Debug, thiserror::Error)]
pub enum HijackError {
    /// The response head was not HTTP.
    #[error("malformed response from daemon: {0}")]
    Malformed(String),
    /// The connection closed before the response head.
    #[error("connection closed before the response")]
    Closed,
}

impl From<HijackError> for Error {
    fn from(e: HijackError) -> Self {
        Error::Protocol(e.to_string())
    }
}

/// A hijacked connection.
#[derive(Debug)]
pub struct Hijacked {
    stream: UnixStream,
    buffered: Vec<u8>,
    /// The response's `Content-Type` (`application/vnd.docker.multiplexed-stream` when
    /// the stream carries stdcopy frames, `…raw-stream` with a tty).
    pub content_type: String,
}

impl Hijacked {
    /// Splits into the read side (stdout/stderr from the daemon) and the write side
    /// (stdin; `shutdown()` on it half-closes the connection).
    pub fn into_split(self) -> (HijackReader, OwnedWriteHalf) {
        let (r, w) = self.stream.into_split();
        (
            HijackReader {
                buf: self.buffered,
                pos: 0,
                inner: r,
            },
            w,
        )
    }

    /// True when output comes as stdcopy frames.
    pub fn is_multiplexed(&self) -> bool {
        self.content_type.contains("multiplexed-stream")
    }
}

/// The read side of a hijacked connection (bytes already read with the head first).
#[derive(Debug)]
pub struct HijackReader {
    buf: Vec<u8>,
    pos: usize,
    inner: OwnedReadHalf,
}

impl AsyncRead for HijackReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pos < self.buf.len() {
            let n = (self.buf.len() - self.pos).min(out.remaining());
            let start = self.pos;
            out.put_slice(&self.buf[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, out)
    }
}

/// The request head of a hijack.
pub fn request_head(uri: &str, body_len: usize) -> String {
    format!(
        "POST {uri} HTTP/1.1\r\nHost: docker\r\nUser-Agent: berth/{}\r\nContent-Type: application/json\r\n\
         Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: {body_len}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// A parsed response head.
#[derive(Debug, PartialEq)]
pub struct Head {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a response head (without the final blank line).
pub fn parse_head(text: &str) -> std::result::Result<Head, HijackError> {
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let proto = parts.next().unwrap_or("");
    if !proto.starts_with("HTTP/") {
        return Err(HijackError::Malformed(status_line.to_string()));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HijackError::Malformed(status_line.to_string()))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Head { status, headers })
}

/// Decodes a complete chunked body (for error answers).
pub fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size_str = String::from_utf8_lossy(&data[..pos]);
        let size =
            usize::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        data = &data[pos + 2..];
        if size == 0 || data.len() < size {
            out.extend_from_slice(&data[..size.min(data.len())]);
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// Sends the hijack request on `stream` and reads the response head.
pub async fn hijack(
    mut stream: UnixStream,
    uri: &str,
    body: Option<&serde_json::Value>,
) -> Result<Hijacked> {
    let body = body
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut req = request_head(uri, body.len()).into_bytes();
    req.extend_from_slice(&body);
    stream.write_all(&req).await?;
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 64 * 1024 {
            return Err(HijackError::Malformed("response head too long".into()).into());
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HijackError::Closed.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = parse_head(&String::from_utf8_lossy(&buf[..head_end]))?;
    let mut rest = buf[head_end + 4..].to_vec();
    if head.status == 101 || (200..300).contains(&head.status) {
        return Ok(Hijacked {
            content_type: head.header("content-type").unwrap_or("").to_string(),
            stream,
            buffered: rest,
        });
    }
    // An error answer: read its body.
    if let Some(len) = head
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        while rest.len() < len {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        rest.truncate(len);
    } else {
        let chunked = head
            .header("transfer-encoding")
            .is_some_and(|t| t.contains("chunked"));
        loop {
            if chunked && rest.windows(5).any(|w| w == b"0\r\n\r\n") {
                break;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        if chunked {
            rest = dechunk(&rest);
        }
    }
    Err(Error::Api {
        status: head.status,
        message: error_message(head.status, &rest),
    })
}
