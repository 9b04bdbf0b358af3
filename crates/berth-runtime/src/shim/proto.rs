//! The shim's control protocol (docs/architecture.md, "Shim command line and protocol"):
//! one JSON request line, one JSON reply line, then for `attach` and `exec` a stream of
//! frames `[kind, 0, 0, 0, len_be32] payload`. Shared by the shim, the engine (tokio) and
//! the blocking test client.

use serde::{Deserialize, Serialize};

/// Frame kind: standard output (all output with a tty).
pub const FRAME_STDOUT: u8 = 1;
/// Frame kind: standard error.
pub const FRAME_STDERR: u8 = 2;
/// Frame kind: exit code as 4 bytes big-endian; the last frame of a stream.
pub const FRAME_EXIT: u8 = 3;

/// A request line, tagged by `op`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Start the created container.
    Start,
    /// Report the container's state ([`StateReply`]).
    State,
    /// Block until the container exits (a [`Reply`] with `exit_code`, `finished_at`,
    /// `oom_killed`).
    Wait,
    /// Send a signal to init, or to every process in the container with `all`.
    Kill {
        /// Signal number.
        signal: i32,
        /// Every process of the container (runc `kill --all`).
        #[serde(default)]
        all: bool,
    },
    /// Freeze the container.
    Pause,
    /// Thaw the container.
    Resume,
    /// Resize the container's tty.
    Resize {
        /// Rows.
        height: u16,
        /// Columns.
        width: u16,
    },
    /// Turn the connection into the container's stdio stream.
    Attach {
        /// Forward the client's bytes to the container's stdin.
        #[serde(default)]
        stdin: bool,
        /// Send stdout frames.
        #[serde(default)]
        stdout: bool,
        /// Send stderr frames.
        #[serde(default)]
        stderr: bool,
    },
    /// Run a process in the container; the connection becomes its stream.
    Exec(ExecRequest),
    /// Resize an exec process's tty.
    ExecResize {
        /// The exec process's pid (as returned by `exec`).
        pid: i32,
        /// Rows.
        height: u16,
        /// Columns.
        width: u16,
    },
    /// Clean up and exit (only once the container has exited).
    Shutdown,
}

/// `{"op":"exec", …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecRequest {
    /// Command line.
    pub args: Vec<String>,
    /// `KEY=value` entries, merged over the container's environment.
    pub env: Vec<String>,
    /// Working directory (empty: the container's).
    pub cwd: String,
    /// `uid:gid[:extra,gids]` (empty: the container's user).
    pub user: String,
    /// Allocate a pty.
    pub tty: bool,
    /// Forward the client's bytes to the process's stdin.
    pub stdin: bool,
    /// Send stdout frames.
    pub stdout: bool,
    /// Send stderr frames.
    pub stderr: bool,
    /// Initial tty rows.
    pub height: u16,
    /// Initial tty columns.
    pub width: u16,
}

/// Any reply, as a client reads it (fields depend on the request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Error message when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `created|running|paused|exited` (state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Init pid (state) or exec pid (exec).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// Exit code (state, wait).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// RFC 3339 start time (state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339 exit time (state, wait).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Killed by the OOM killer (state, wait).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_killed: Option<bool>,
}

/// The reply to `state`: `exit_code` and `finished_at` are `null` while running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateReply {
    /// Always true.
    pub ok: bool,
    /// `created|running|paused|exited`.
    pub status: String,
    /// Init pid.
    pub pid: i32,
    /// Exit code once exited.
    pub exit_code: Option<i32>,
    /// Start time (empty before start).
    pub started_at: String,
    /// Exit time once exited.
    pub finished_at: Option<String>,
    /// Killed by the OOM killer.
    pub oom_killed: bool,
}

/// The line the shim prints on its stdout once the container is created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ready {
    /// Init pid on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// Why creation failed (dockerd-style wording).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `error`: the exit code dockerd records for it, 127 when the command was not
    /// found, 126 when it cannot be executed (see
    /// [`crate::runtime::start_error_exit_code`]); absent for other failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// `<state>/exit.json`, written atomically when init exits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// Exit code, 128+N for signal N.
    pub exit_code: i32,
    /// RFC3339Nano UTC.
    pub finished_at: String,
    /// Killed by the OOM killer.
    pub oom_killed: bool,
}

/// Encodes one frame.
pub fn encode_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    push_frame(&mut out, kind, payload);
    out
}

/// Appends one frame to `out`.
pub fn push_frame(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// Decodes the frame at the start of `buf`: `(kind, payload, bytes used)`, or `None` if
/// `buf` does not hold a whole frame yet.
pub fn decode_frame(buf: &[u8]) -> Option<(u8, &[u8], usize)> {
    let header: &[u8; 8] = buf.get(..8)?.try_into().ok()?;
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let payload = buf.get(8..8 + len)?;
    Some((header[0], payload, 8 + len))
}

/// The exit code carried by an exit frame's payload.
pub fn exit_code(payload: &[u8]) -> Option<i32> {
    let b: [u8; 4] = payload.try_into().ok()?;
    Some(i32::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = encode_frame(FRAME_STDOUT, b"hello\n");
        push_frame(&mut buf, FRAME_EXIT, &7i32.to_be_bytes());
        let (k, p, n) = decode_frame(&buf).unwrap();
        assert_eq!((k, p, n), (1, &b"hello\n"[..], 14));
        let (k, p, _) = decode_frame(&buf[n..]).unwrap();
        assert_eq!((k, exit_code(p)), (3, Some(7)));
        assert!(decode_frame(&buf[..10]).is_none());
    }

    #[test]
    fn requests_parse() {
        let r: Request = serde_json::from_str(r#"{"op":"kill","signal":9,"all":false}"#).unwrap();
        assert_eq!(
            r,
            Request::Kill {
                signal: 9,
                all: false
            }
        );
        let r: Request = serde_json::from_str(
            r#"{"op":"exec","args":["ls"],"env":[],"cwd":"/","user":"0:0","tty":false,"stdin":false,"stdout":true,"stderr":true,"height":0,"width":0}"#,
        )
        .unwrap();
        assert!(matches!(r, Request::Exec(e) if e.args == ["ls"] && e.stdout));
        assert_eq!(
            serde_json::to_string(&Request::Start).unwrap(),
            r#"{"op":"start"}"#
        );
        let s = StateReply {
            ok: true,
            status: "running".into(),
            pid: 5,
            exit_code: None,
            started_at: "t".into(),
            finished_at: None,
            oom_killed: false,
        };
        assert!(serde_json::to_string(&s)
            .unwrap()
            .contains(r#""exit_code":null"#));
    }
}
