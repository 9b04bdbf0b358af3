//! Attaching clients to a container's stdio through its shim: log replay, the stream
//! proxy (docker's multiplexed frames, or raw with a tty), stdin with detach keys.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

use crate::error::{EngineError, Result};
use crate::{logs, shim, Container, Engine};

/// Default detach sequence: ctrl-p, ctrl-q.
pub const DEFAULT_DETACH_KEYS: &[u8] = &[16, 17];

/// Query of `POST /containers/{id}/attach`.
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// Forward the client's input to the container's stdin.
    pub stdin: bool,
    /// Send the container's stdout.
    pub stdout: bool,
    /// Send the container's stderr.
    pub stderr: bool,
    /// Stream live output (else only `logs`).
    pub stream: bool,
    /// Replay the log first.
    pub logs: bool,
    /// Override of the detach sequence (`ctrl-p,ctrl-q` form).
    pub detach_keys: Option<String>,
}

/// An attach waiting for the container to start.
pub(crate) struct Pending {
    request: Value,
    reply: oneshot::Sender<Result<BufReader<UnixStream>>>,
}

/// Connects the attaches made before start, between shim creation and start.
pub(crate) async fn connect_pending(engine: &Engine, c: &Arc<Container>) {
    let pending: Vec<Pending> =
        std::mem::take(&mut *c.pending_attach.lock().unwrap_or_else(|e| e.into_inner()));
    for p in pending {
        if p.reply.is_closed() {
            continue;
        }
        let conn = shim::open(&engine.shim_dir(&c.id), &p.request)
            .await
            .map(|(_, s)| s);
        let _ = p.reply.send(conn);
    }
}

/// Parses docker's detach key syntax: comma-separated single characters or `ctrl-X`.
pub fn parse_detach_keys(spec: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for key in spec.split(',') {
        let lower = key.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("ctrl-") {
            let b = match rest.as_bytes() {
                [c @ b'a'..=b'z'] => c - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => {
                    return Err(EngineError::Invalid(format!(
                        "Invalid escape keys ({spec}) provided"
                    )))
                }
            };
            out.push(b);
        } else if key.len() == 1 {
            out.push(key.as_bytes()[0]);
        } else {
            return Err(EngineError::Invalid(format!(
                "Invalid escape keys ({spec}) provided"
            )));
        }
    }
    Ok(out)
}

/// How a proxied stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The process exited with this code.
    Exited(i32),
    /// The client typed the detach sequence.
    Detached,
    /// The shim's stream ended without an exit frame.
    Closed,
}

/// A validated attach, ready to run on the hijacked connection.
pub struct AttachPlan {
    engine: Arc<Engine>,
    container: Arc<Container>,
    opts: AttachOptions,
    tty: bool,
    detach_keys: Vec<u8>,
    /// For a container not running yet: the stream its next start connects. Registered
    /// before the 101 answer, so that a start the client sends right after cannot run
    /// ahead of the attach (`docker run` attaches, then starts at once).
    pending: Option<oneshot::Receiver<Result<BufReader<UnixStream>>>>,
}

fn attach_request(opts: &AttachOptions) -> Value {
    json!({
        "op": "attach",
        "stdin": opts.stdin,
        "stdout": opts.stdout,
        "stderr": opts.stderr,
    })
}

impl AttachPlan {
    /// Whether the container has a tty (raw stream instead of multiplexed frames).
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// Runs the attach on the client connection until exit, detach or disconnect.
    pub async fn run<T>(mut self, mut client: T) -> StreamEnd
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let rec = self.container.record();
        if self.opts.logs {
            let opts = logs::LogOptions {
                stdout: self.opts.stdout,
                stderr: self.opts.stderr,
                ..Default::default()
            };
            let path = self.engine.log_path(&rec.id);
            let tty = self.tty;
            if let Ok(bytes) =
                tokio::task::spawn_blocking(move || logs::read_all(&path, &opts, tty)).await
            {
                if !bytes.is_empty() {
                    // The log is ready at once, and bytes that reach a client in the same
                    // read as the 101 response's head are lost by clients that read the
                    // head through a buffer and the stream from the raw socket (docker-py,
                    // compose 1.x). dockerd's slower log reader leaves them time; so do we.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                if client.write_all(&bytes).await.is_err() {
                    return StreamEnd::Closed;
                }
            }
        }
        // dockerd logs `attach` after the log replay, streaming or not.
        self.engine.container_event(&rec, "attach", &[]);
        if !self.opts.stream {
            let _ = client.shutdown().await;
            return StreamEnd::Closed;
        }
        let request = attach_request(&self.opts);
        let shim_dir = self.engine.shim_dir(&rec.id);
        let conn = match self.pending.take() {
            None => shim::open(&shim_dir, &request).await.map(|(_, s)| s),
            Some(mut rx) => {
                // Wait for the start. The client is not read meanwhile: docker's CLI
                // half-closes its side at once when stdin is not attached, so EOF does not
                // mean it left, and early stdin bytes must stay queued for the container. A
                // client that left is noticed at the first write.
                let mut watch = self.container.subscribe();
                loop {
                    let w = watch.borrow_and_update().clone();
                    if w.removed {
                        break Err(EngineError::System("container removed".into()));
                    }
                    if w.running {
                        // A start connects the pending attaches before it reports the
                        // container running: if ours was not among them (that start was
                        // already under way), attach to the running container now.
                        break match rx.try_recv() {
                            Ok(r) => r,
                            Err(_) => shim::open(&shim_dir, &request).await.map(|(_, s)| s),
                        };
                    }
                    tokio::select! {
                        r = &mut rx => {
                            break r.unwrap_or_else(|_| {
                                Err(EngineError::System("container removed".into()))
                            })
                        }
                        changed = watch.changed() => {
                            if changed.is_err() {
                                break Err(EngineError::System("container removed".into()));
                            }
                        }
                    }
                }
            }
        };
        let Ok(conn) = conn else {
            let _ = client.shutdown().await;
            return StreamEnd::Closed;
        };
        let end = proxy(conn, client, self.tty, self.opts.stdin, self.detach_keys).await;
        end
    }
}

impl Engine {
    /// Validates an attach request before the connection is hijacked.
    pub fn attach_prepare(self: &Arc<Self>, key: &str, opts: AttachOptions) -> Result<AttachPlan> {
        let c = self.find(key)?;
        let rec = c.record();
        if rec.state.status == crate::record::Status::Paused && opts.stream {
            return Err(EngineError::Conflict(
                "You cannot attach to a paused container, unpause it first".to_string(),
            ));
        }
        let detach_keys = match opts.detach_keys.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => parse_detach_keys(k)?,
            None => DEFAULT_DETACH_KEYS.to_vec(),
        };
        let pending = (opts.stream && !rec.state.is_running()).then(|| {
            let (tx, rx) = oneshot::channel();
            c.pending_attach
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Pending {
                    request: attach_request(&opts),
                    reply: tx,
                });
            rx
        });
        Ok(AttachPlan {
            engine: self.clone(),
            container: c,
            tty: rec.config.tty,
            opts,
            detach_keys,
            pending,
        })
    }
}

/// Relays a shim stream to a client: output frames to the client (docker frames, or raw
/// with a tty), the client's input to the shim (watching for the detach sequence).
pub async fn proxy<T>(
    conn: BufReader<UnixStream>,
    client: T,
    tty: bool,
    stdin: bool,
    detach_keys: Vec<u8>,
) -> StreamEnd
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Frames that arrived with the reply line are already in the BufReader's buffer
    // (a fast exec's whole output can be): read them first.
    let buffered = std::io::Cursor::new(conn.buffer().to_vec());
    let (shim_read, mut shim_write) = conn.into_inner().into_split();
    let mut shim_read = buffered.chain(shim_read);
    let (mut client_read, mut client_write) = tokio::io::split(client);

    let output = async move {
        let end = loop {
            match shim::read_frame(&mut shim_read).await {
                Ok(Some((shim::FRAME_EXIT, payload))) => {
                    break StreamEnd::Exited(shim::exit_code(&payload))
                }
                Ok(Some((kind, payload))) => {
                    let bytes = if tty {
                        payload
                    } else {
                        shim::docker_frame(kind, &payload)
                    };
                    if client_write.write_all(&bytes).await.is_err() {
                        break StreamEnd::Closed;
                    }
                    let _ = client_write.flush().await;
                }
                Ok(None) | Err(_) => break StreamEnd::Closed,
            }
        };
        let _ = client_write.shutdown().await;
        end
    };

    let input = async move {
        let mut buf = vec![0u8; 32 * 1024];
        let mut matched = 0usize;
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    // Client closed its side: close the container's stdin (stdin-once).
                    let _ = shim_write.shutdown().await;
                    return false;
                }
                Ok(n) => n,
            };
            if !stdin {
                continue;
            }
            let mut out = Vec::with_capacity(n);
            for &b in &buf[..n] {
                if !detach_keys.is_empty() && b == detach_keys[matched] {
                    matched += 1;
                    if matched == detach_keys.len() {
                        if !out.is_empty() {
                            let _ = shim_write.write_all(&out).await;
                        }
                        return true;
                    }
                    continue;
                }
                if matched > 0 {
                    out.extend_from_slice(&detach_keys[..matched]);
                    matched = 0;
                }
                if !detach_keys.is_empty() && b == detach_keys[0] {
                    matched = 1;
                    if matched == detach_keys.len() {
                        return true;
                    }
                    continue;
                }
                out.push(b);
            }
            if !out.is_empty() && shim_write.write_all(&out).await.is_err() {
                return false;
            }
        }
    };

    tokio::pin!(output);
    tokio::pin!(input);
    let mut input_done = false;
    loop {
        tokio::select! {
            end = &mut output => return end,
            detached = &mut input, if !input_done => {
                if detached {
                    return StreamEnd::Detached;
                }
                input_done = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-@,a").unwrap(), vec![0, b'a']);
        assert_eq!(parse_detach_keys("ctrl-[").unwrap(), vec![27]);
        assert!(parse_detach_keys("ctrl-1").is_err());
        assert!(parse_detach_keys("ab").is_err());
    }
}
