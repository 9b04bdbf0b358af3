//! `GET /containers/{id}/logs`: reads the json-file log the shim writes
//! (`{"log":"…","stream":"stdout","time":"…"}` per line, docker's format).

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::{shim, Engine};

/// Query of the logs endpoint.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Include stdout.
    pub stdout: bool,
    /// Include stderr.
    pub stderr: bool,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// Prefix each line with its RFC3339Nano timestamp.
    pub timestamps: bool,
    /// Only the last N lines.
    pub tail: Option<usize>,
    /// Keep streaming while the container runs.
    pub follow: bool,
}

#[derive(Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

/// Formats one entry for the client, or None when filtered out.
fn render(line: &str, opts: &LogOptions, tty: bool) -> Option<Vec<u8>> {
    let entry: Entry = serde_json::from_str(line).ok()?;
    let kind = match entry.stream.as_str() {
        "stdout" if opts.stdout => 1,
        "stderr" if opts.stderr => 2,
        _ => return None,
    };
    let time = DateTime::parse_from_rfc3339(&entry.time)
        .ok()?
        .with_timezone(&Utc);
    if opts.since.is_some_and(|s| time < s) || opts.until.is_some_and(|u| time >= u) {
        return None;
    }
    let mut payload = Vec::with_capacity(entry.log.len() + 32);
    if opts.timestamps {
        // docker's RFC3339NanoFixed: always nine digits.
        payload.extend_from_slice(time.to_rfc3339_opts(SecondsFormat::Nanos, true).as_bytes());
        payload.push(b' ');
    }
    payload.extend_from_slice(entry.log.as_bytes());
    Some(if tty {
        payload
    } else {
        shim::docker_frame(kind, &payload)
    })
}

/// Renders the whole log (honouring `tail`) into one buffer.
pub fn read_all(path: &Path, opts: &LogOptions, tty: bool) -> Vec<u8> {
    read_from(path, opts, tty).0
}

/// Renders the log and returns the offset where reading stopped.
fn read_from(path: &Path, opts: &LogOptions, tty: bool) -> (Vec<u8>, u64) {
    let Ok(file) = std::fs::File::open(path) else {
        return (Vec::new(), 0);
    };
    let mut reader = BufReader::new(file);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !line.ends_with('\n') {
                    break; // a line being written: pick it up on the next read
                }
                offset += n as u64;
                lines.push(line.clone());
            }
        }
    }
    let rendered: Vec<Vec<u8>> = lines.iter().filter_map(|l| render(l, opts, tty)).collect();
    let skip = match opts.tail {
        Some(n) => rendered.len().saturating_sub(n),
        None => 0,
    };
    (rendered[skip..].concat(), offset)
}

/// Reads complete lines from `offset` on; returns the rendered bytes and the new offset.
fn read_new(path: &PathBuf, offset: u64, opts: &LogOptions, tty: bool) -> (Vec<u8>, u64) {
    let Ok(mut file) = std::fs::File::open(path) else {
        return (Vec::new(), offset);
    };
    if file.seek(SeekFrom::Start(offset)).is_err() {
        return (Vec::new(), offset);
    }
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut offset = offset;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !line.ends_with('\n') {
                    break;
                }
                offset += n as u64;
                if let Some(b) = render(&line, opts, tty) {
                    out.extend_from_slice(&b);
                }
            }
        }
    }
    (out, offset)
}

impl Engine {
    /// Streams a container's log; with `follow`, until the container stops. Returns
    /// whether the container has a tty (raw stream) and the chunks.
    pub fn logs(
        self: &Arc<Self>,
        key: &str,
        opts: LogOptions,
    ) -> Result<(bool, mpsc::Receiver<Bytes>)> {
        let c = self.find(key)?;
        let rec = c.record();
        let tty = rec.config.tty;
        let path = self.log_path(&rec.id);
        let (tx, rx) = mpsc::channel(64);
        let mut watch = c.subscribe();
        tokio::spawn(async move {
            let (first, mut offset) = {
                let path = path.clone();
                let opts = opts.clone();
                tokio::task::spawn_blocking(move || read_from(&path, &opts, tty))
                    .await
                    .unwrap_or_default()
            };
            if !first.is_empty() && tx.send(Bytes::from(first)).await.is_err() {
                return;
            }
            if !opts.follow {
                return;
            }
            // `tail` applies to history only; new lines all follow.
            let opts = LogOptions { tail: None, ..opts };
            loop {
                let running = watch.borrow_and_update().running;
                let (chunk, next) = read_new(&path, offset, &opts, tty);
                offset = next;
                if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                    return;
                }
                if !running {
                    // One last read: the shim flushes the log before reporting the exit.
                    let (chunk, _) = read_new(&path, offset, &opts, tty);
                    if !chunk.is_empty() {
                        let _ = tx.send(Bytes::from(chunk)).await;
                    }
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                    _ = watch.changed() => {}
                    _ = tx.closed() => return,
                }
            }
        });
        Ok((tty, rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_frames_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-json.log");
        std::fs::write(
            &path,
            concat!(
                "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00.5Z\"}\n",
                "{\"log\":\"b\\n\",\"stream\":\"stderr\",\"time\":\"2026-01-01T00:00:01Z\"}\n",
                "{\"log\":\"c\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:02Z\"}\n",
                "{\"log\":\"partial"
            ),
        )
        .unwrap();
        let all = LogOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        assert_eq!(read_all(&path, &all, true), b"a\nb\nc\n");
        let out = read_all(
            &path,
            &LogOptions {
                stderr: false,
                ..all.clone()
            },
            false,
        );
        assert_eq!(
            out,
            [shim::docker_frame(1, b"a\n"), shim::docker_frame(1, b"c\n")].concat()
        );
        let tail = LogOptions {
            tail: Some(1),
            timestamps: true,
            ..all.clone()
        };
        assert_eq!(
            read_all(&path, &tail, true),
            b"2026-01-01T00:00:02.000000000Z c\n"
        );
        let since = LogOptions {
            since: Some(
                DateTime::parse_from_rfc3339("2026-01-01T00:00:01Z")
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            ..all
        };
        assert_eq!(read_all(&path, &since, true), b"b\nc\n");
    }
}
