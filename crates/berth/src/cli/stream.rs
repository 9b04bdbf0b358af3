//! Attached I/O: copies a hijacked stream to stdout/stderr and stdin to it, raw
//! terminal mode, window size, detach keys, signal proxying.

use std::io::Write;
use std::os::fd::AsFd;

use berth_client::stdcopy::{Decoder, StreamKind};
use berth_client::{Client, Hijacked};
use nix::sys::termios::{self, SetArg, Termios};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// docker's default detach keys: ctrl-p, ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// docker's `term.ToBytes`: `ctrl-p,ctrl-q`, `a,b`.
pub fn detach_key_bytes(keys: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for key in keys.split(',') {
        if key.len() == 1 {
            out.push(key.as_bytes()[0]);
            continue;
        }
        let lower = key.to_ascii_lowercase();
        let Some(c) = lower
            .strip_prefix("ctrl-")
            .filter(|c| c.len() == 1)
            .map(|c| c.as_bytes()[0])
        else {
            return Err(format!("Unknown character: '{key}'"));
        };
        out.push(match c {
            b'a'..=b'z' => c - b'a' + 1,
            b'@' => 0,
            b'[' => 27,
            b'\\' => 28,
            b']' => 29,
            b'^' => 30,
            b'_' => 31,
            _ => return Err(format!("Unknown character: '{key}'")),
        });
    }
    Ok(out)
}

/// docker's escape proxy: passes input through, holding back a partial detach
/// sequence; reports when the whole sequence was typed.
#[derive(Debug)]
pub struct EscapeProxy {
    keys: Vec<u8>,
    matched: usize,
}

impl EscapeProxy {
    /// A proxy for `keys` (empty: never detaches).
    pub fn new(keys: Vec<u8>) -> Self {
        EscapeProxy { keys, matched: 0 }
    }

    /// Filters `input`; returns the bytes to forward and whether to detach.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return (out, false);
        }
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                if b == self.keys[0] {
                    self.matched = 1;
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

/// Restores the terminal when dropped.
pub struct RawGuard {
    saved: Option<Termios>,
}

impl RawGuard {
    /// Puts stdin in raw mode when it is a terminal.
    pub fn enter() -> RawGuard {
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(stdin.as_fd()) else {
            return RawGuard { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        RawGuard { saved: Some(saved) }
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// True when stdin is a terminal.
pub fn stdin_is_tty() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdin())
}

/// True when stdout is a terminal.
pub fn stdout_is_tty() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdout())
}

/// The terminal's size (rows, columns).
pub fn terminal_size() -> Option<(u16, u16)> {
    crate::sys::window_size(1).or_else(|| crate::sys::window_size(0))
}

/// How an attached stream ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The output ended (the process exited or the daemon closed).
    Eof,
    /// The user typed the detach keys.
    Detached,
}

/// Copies the output of `h` to stdout/stderr and (when `stdin`) stdin to it.
pub async fn pump(
    h: Hijacked,
    stdin: bool,
    tty: bool,
    detach_keys: Vec<u8>,
) -> std::io::Result<End> {
    let multiplexed = h.is_multiplexed() || (!tty && !h.content_type.contains("raw-stream"));
    let (mut reader, mut writer) = h.into_split();
    let output = async move {
        let mut buf = vec![0u8; 32 * 1024];
        let mut dec = Decoder::new();
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            if !multiplexed {
                let mut out = std::io::stdout().lock();
                out.write_all(&buf[..n])?;
                out.flush()?;
                continue;
            }
            dec.push(&buf[..n]);
            while let Some((kind, payload)) = dec.next_frame().map_err(std::io::Error::other)? {
                match kind {
                    StreamKind::Stdout | StreamKind::Stdin => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(&payload)?;
                        out.flush()?;
                    }
                    StreamKind::Stderr | StreamKind::SystemErr => {
                        let mut err = std::io::stderr().lock();
                        err.write_all(&payload)?;
                        err.flush()?;
                    }
                }
            }
        }
    };
    let input = async move {
        if !stdin {
            return std::future::pending::<std::io::Result<End>>().await;
        }
        let mut proxy = EscapeProxy::new(if tty { detach_keys } else { Vec::new() });
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = stdin.read(&mut buf).await?;
            if n == 0 {
                let _ = writer.shutdown().await;
                return std::future::pending().await;
            }
            let (fwd, detach) = proxy.feed(&buf[..n]);
            if !fwd.is_empty() && writer.write_all(&fwd).await.is_err() {
                return std::future::pending().await;
            }
            if detach {
                return Ok(End::Detached);
            }
        }
    };
    tokio::select! {
        r = output => r.map(|_| End::Eof),
        r = input => r,
    }
}

/// Sends the terminal size to `resize_path` (`/containers/{id}/resize` or
/// `/exec/{id}/resize`) now and on every SIGWINCH.
pub async fn monitor_tty_size(client: std::sync::Arc<Client>, resize_path: String) {
    let send = |client: std::sync::Arc<Client>, path: String| async move {
        if let Some((h, w)) = terminal_size() {
            let _ = client.post(&format!("{path}?h={h}&w={w}"), None).await;
        }
    };
    send(client.clone(), resize_path.clone()).await;
    let Ok(mut winch) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
    else {
        return;
    };
    while winch.recv().await.is_some() {
        send(client.clone(), resize_path.clone()).await;
    }
}

/// Forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 to the container.
pub fn proxy_signals(client: std::sync::Arc<Client>, id: String) {
    use tokio::signal::unix::{signal, SignalKind};
    for (kind, name) in [
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::hangup(), "SIGHUP"),
        (SignalKind::quit(), "SIGQUIT"),
        (SignalKind::user_defined1(), "SIGUSR1"),
        (SignalKind::user_defined2(), "SIGUSR2"),
    ] {
        let Ok(mut s) = signal(kind) else { continue };
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move {
            while s.recv().await.is_some() {
                let _ = client
                    .post(&format!("/containers/{id}/kill?signal={name}"), None)
                    .await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(detach_key_bytes(DEFAULT_DETACH_KEYS).unwrap(), vec![16, 17]);
        assert_eq!(detach_key_bytes("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert_eq!(detach_key_bytes("ctrl-@,ctrl-_").unwrap(), vec![0, 31]);
        assert_eq!(
            detach_key_bytes("ctrl-1").unwrap_err(),
            "Unknown character: 'ctrl-1'"
        );
        assert_eq!(
            detach_key_bytes("abc").unwrap_err(),
            "Unknown character: 'abc'"
        );
    }

    #[test]
    fn escape_proxy() {
        let mut p = EscapeProxy::new(vec![16, 17]);
        assert_eq!(p.feed(b"ls\r"), (b"ls\r".to_vec(), false));
        // A partial sequence is held back, then released when it doesn't complete.
        assert_eq!(p.feed(&[16]), (vec![], false));
        assert_eq!(p.feed(b"a"), (vec![16, b'a'], false));
        assert_eq!(p.feed(&[16, 16]), (vec![16], false));
        assert_eq!(p.feed(&[17, b'z']), (vec![], true));
        let mut none = EscapeProxy::new(vec![]);
        assert_eq!(none.feed(&[16, 17]), (vec![16, 17], false));
    }
}
