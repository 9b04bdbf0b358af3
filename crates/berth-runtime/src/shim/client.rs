//! A small blocking client for the shim's control socket (tests, debugging).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::proto::{self, Reply, Request};

/// Errors talking to a shim.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Socket I/O failed.
    #[error("shim connection")]
    Io(#[from] std::io::Error),
    /// The reply was not JSON.
    #[error("bad reply from the shim")]
    Decode(#[from] serde_json::Error),
    /// The shim answered `ok: false`.
    #[error("{0}")]
    Shim(String),
}

/// Connects to the unix socket at `path`, whatever its length (an engine's exec root in
/// a temp dir plus a 64-digit container ID easily passes the 107 bytes of `sun_path`).
pub fn connect_unix(path: &Path) -> std::io::Result<UnixStream> {
    crate::sockpath::with_short_path(path, |p| UnixStream::connect(p))
}

/// A connection to `<state>/shim.sock`.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
}

/// What a stream (attach or exec) produced until its exit frame.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StreamOutput {
    /// Concatenated stdout frames.
    pub stdout: Vec<u8>,
    /// Concatenated stderr frames.
    pub stderr: Vec<u8>,
    /// The exit frame's code (None if the stream ended without one).
    pub exit_code: Option<i32>,
}

impl Client {
    /// Connects to the shim in `state` (any path length, see [`connect_unix`]).
    pub fn connect(state: &Path) -> Result<Self, ClientError> {
        let s = connect_unix(&state.join("shim.sock"))?;
        Ok(Client {
            reader: BufReader::new(s),
        })
    }

    /// Sends `req` and reads the reply line (the raw JSON, so state's nulls survive).
    pub fn request_raw(&mut self, req: &Request) -> Result<serde_json::Value, ClientError> {
        let mut line = serde_json::to_vec(req)?;
        line.push(b'\n');
        self.reader.get_mut().write_all(&line)?;
        let mut reply = String::new();
        self.reader.read_line(&mut reply)?;
        let v: serde_json::Value = serde_json::from_str(reply.trim())?;
        if v["ok"] != true {
            return Err(ClientError::Shim(
                v["error"].as_str().unwrap_or("request failed").to_string(),
            ));
        }
        Ok(v)
    }

    /// Sends `req` and decodes the reply.
    pub fn request(&mut self, req: &Request) -> Result<Reply, ClientError> {
        Ok(serde_json::from_value(self.request_raw(req)?)?)
    }

    /// One request on a fresh connection.
    pub fn call(state: &Path, req: &Request) -> Result<Reply, ClientError> {
        Client::connect(state)?.request(req)
    }

    /// Writes raw stdin bytes (after `attach`/`exec`).
    pub fn write_stdin(&mut self, data: &[u8]) -> Result<(), ClientError> {
        Ok(self.reader.get_mut().write_all(data)?)
    }

    /// Half-closes: the shim sees EOF on stdin.
    pub fn close_stdin(&mut self) -> Result<(), ClientError> {
        Ok(self.reader.get_mut().shutdown(Shutdown::Write)?)
    }

    /// Sets a read timeout for the stream.
    pub fn set_timeout(&mut self, t: Option<Duration>) -> Result<(), ClientError> {
        Ok(self.reader.get_mut().set_read_timeout(t)?)
    }

    /// Reads the next frame of a stream: `(kind, payload)`, or `None` at end of stream.
    pub fn read_frame(&mut self) -> Result<Option<(u8, Vec<u8>)>, ClientError> {
        let mut header = [0u8; 8];
        match self.reader.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let mut payload = vec![0u8; len];
        self.reader.read_exact(&mut payload)?;
        Ok(Some((header[0], payload)))
    }

    /// Reads frames until the exit frame or end of stream.
    pub fn read_stream(&mut self) -> Result<StreamOutput, ClientError> {
        let mut out = StreamOutput::default();
        while let Some((kind, payload)) = self.read_frame()? {
            match kind {
                proto::FRAME_STDOUT => out.stdout.extend_from_slice(&payload),
                proto::FRAME_STDERR => out.stderr.extend_from_slice(&payload),
                proto::FRAME_EXIT => {
                    out.exit_code = proto::exit_code(&payload);
                    break;
                }
                _ => {}
            }
        }
        Ok(out)
    }
}
