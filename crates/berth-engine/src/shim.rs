//! The daemon's side of the shim protocol (docs/architecture.md, "Shim command line and
//! protocol"): spawning a shim, one-line JSON requests, and framed streams.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use crate::error::{EngineError, Result};

pub use berth_runtime::shim::proto::{FRAME_EXIT, FRAME_STDERR, FRAME_STDOUT};

/// What `berth shim` needs to start a container.
#[derive(Debug, Clone)]
pub struct SpawnArgs {
    /// The berth binary.
    pub exe: PathBuf,
    /// Container ID.
    pub id: String,
    /// Bundle dir (config.json).
    pub bundle: PathBuf,
    /// Shim state dir under the exec root.
    pub state: PathBuf,
    /// json-file log path.
    pub log: PathBuf,
    /// `libcontainer` or `runc`.
    pub runtime: String,
    /// Allocate a pty.
    pub tty: bool,
    /// Keep stdin open.
    pub stdin: bool,
    /// Close stdin when the first attached client closes it.
    pub stdin_once: bool,
}

/// Spawns a shim and waits for its ready line; returns the container's init pid.
pub async fn spawn(args: &SpawnArgs) -> Result<i32> {
    tokio::fs::create_dir_all(&args.state)
        .await
        .map_err(|e| EngineError::system("cannot create the shim state dir", e))?;
    let mut cmd = tokio::process::Command::new(program(&args.exe));
    // argv[0] stays the binary's path (ps, pgrep), whatever path is executed.
    cmd.arg0(&args.exe)
        .arg("shim")
        .arg("--id")
        .arg(&args.id)
        .arg("--bundle")
        .arg(&args.bundle)
        .arg("--state")
        .arg(&args.state)
        .arg("--log")
        .arg(&args.log)
        .arg("--runtime")
        .arg(&args.runtime);
    if args.tty {
        cmd.arg("--tty");
    }
    if args.stdin {
        cmd.arg("--stdin");
    }
    if args.stdin_once {
        cmd.arg("--stdin-once");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(false);
    let mut child = cmd
        .spawn()
        .map_err(|e| EngineError::system("cannot start the shim", e))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .map_err(|e| EngineError::system("cannot read from the shim", e))?;
    // The first shim process exits right after forking the real one.
    let _ = child.wait().await;
    let reply: Value = serde_json::from_str(line.trim()).map_err(|_| {
        EngineError::System(format!(
            "shim failed to start the container: {}",
            line.trim()
        ))
    })?;
    if let Some(err) = reply.get("error").and_then(Value::as_str) {
        return Err(EngineError::System(format!(
            "failed to create task for container: {err}: unknown"
        )));
    }
    reply
        .get("pid")
        .and_then(Value::as_i64)
        .map(|p| p as i32)
        .ok_or_else(|| EngineError::System(format!("unexpected shim reply: {line}")))
}

/// What to execute for a shim: `exe` through a detached read-only mount of it that the
/// daemon opens once and keeps (`/proc/self/fd/<fd>`, valid in the child until its
/// execve), so the shim starts with CVE-2019-5736 protection and skips its own re-exec.
/// Falls back to `exe` itself (the shim then re-executes itself read-only) when the
/// kernel lacks open_tree/mount_setattr (< 5.12).
fn program(exe: &Path) -> PathBuf {
    static SEALED: OnceLock<Option<(PathBuf, OwnedFd)>> = OnceLock::new();
    let sealed = SEALED.get_or_init(|| {
        berth_runtime::sys::readonly_exe(exe)
            .map_err(|e| tracing::warn!(error = %e, "shims will re-execute themselves"))
            .ok()
            .map(|fd| (exe.to_path_buf(), fd))
    });
    match sealed {
        Some((path, fd)) if path == exe => format!("/proc/self/fd/{}", fd.as_raw_fd()).into(),
        _ => exe.to_path_buf(),
    }
}

/// Path of a shim's control socket.
pub fn socket_path(state: &Path) -> PathBuf {
    state.join("shim.sock")
}

/// Opens a connection and sends one request; returns the reply and the connection
/// (which, for `attach` and `exec`, continues as a framed stream).
pub async fn open(state: &Path, request: &Value) -> Result<(Value, BufReader<UnixStream>)> {
    // Socket paths may exceed sun_path's 108 bytes (deep exec roots + 64-char ids):
    // the runtime's connect goes through /proc/self/fd. A unix connect does not block.
    let stream = berth_runtime::shim::client::connect_unix(&socket_path(state))
        .and_then(|s| {
            s.set_nonblocking(true)?;
            UnixStream::from_std(s)
        })
        .map_err(|e| EngineError::system("cannot reach the container's shim", e))?;
    let mut stream = BufReader::new(stream);
    let mut line = serde_json::to_vec(request).map_err(|e| EngineError::system("encode", e))?;
    line.push(b'\n');
    stream
        .get_mut()
        .write_all(&line)
        .await
        .map_err(|e| EngineError::system("cannot talk to the shim", e))?;
    let mut reply = String::new();
    stream
        .read_line(&mut reply)
        .await
        .map_err(|e| EngineError::system("cannot read from the shim", e))?;
    if reply.is_empty() {
        return Err(EngineError::System("the shim closed the connection".into()));
    }
    let reply: Value = serde_json::from_str(reply.trim())
        .map_err(|e| EngineError::system("bad reply from the shim", e))?;
    if reply.get("ok").and_then(Value::as_bool) != Some(true) {
        let msg = reply
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("shim request failed");
        return Err(EngineError::System(msg.to_string()));
    }
    Ok((reply, stream))
}

/// One request, one reply.
pub async fn call(state: &Path, request: Value) -> Result<Value> {
    open(state, &request).await.map(|(reply, _)| reply)
}

/// Reads one frame: `(kind, payload)`; `None` at end of stream.
pub async fn read_frame<R: AsyncReadExt + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut header = [0u8; 8];
    match r.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await?;
    Ok(Some((header[0], payload)))
}

/// Exit code carried by an exit frame.
pub fn exit_code(payload: &[u8]) -> i32 {
    berth_runtime::shim::proto::exit_code(payload).unwrap_or(-1)
}

/// Docker's stdcopy frame (`[stream, 0, 0, 0, len_be32]` + payload): the same layout as
/// the shim's own frames.
pub fn docker_frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    berth_runtime::shim::proto::encode_frame(stream, payload)
}
