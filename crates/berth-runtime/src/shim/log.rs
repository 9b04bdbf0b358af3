//! The json-file log writer, byte-compatible with docker's json-file driver: one JSON
//! object per line of output, `{"log":"…\n","stream":"stdout","time":"RFC3339Nano"}`.
//! Lines longer than 16 KiB are split into partial entries without the trailing newline
//! (docker's `bufio` line limit), and a partial last line is written at exit.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

/// docker's json-file splits a line after this many bytes.
const MAX_LINE: usize = 16 * 1024;

/// Formats a time like Go's `time.RFC3339Nano` in UTC (trailing zeros of the fraction
/// trimmed, as docker writes it).
pub fn rfc3339_nano(t: DateTime<Utc>) -> String {
    let s = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}Z")
}

/// Appends `s` JSON-escaped the way Go's encoding/json does: `<`, `>`, `&`, U+2028 and
/// U+2029 as `\u` escapes, invalid UTF-8 as U+FFFD.
pub fn escape_json(out: &mut Vec<u8>, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                }
                c => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
}

/// Writes the container's output to `<id>-json.log`.
#[derive(Debug)]
pub struct LogWriter {
    file: Option<File>,
    /// Unterminated output per stream (0 = stdout, 1 = stderr).
    partial: [Vec<u8>; 2],
}

impl LogWriter {
    /// Opens (appends to) the log file; a file that cannot be opened disables logging.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(LogWriter {
            file: Some(file),
            partial: [Vec::new(), Vec::new()],
        })
    }

    /// A writer that drops everything.
    pub fn disabled() -> Self {
        LogWriter {
            file: None,
            partial: [Vec::new(), Vec::new()],
        }
    }

    fn entry(out: &mut Vec<u8>, stderr: bool, line: &[u8], now: &str) {
        out.extend_from_slice(b"{\"log\":\"");
        escape_json(out, line);
        out.extend_from_slice(if stderr {
            b"\",\"stream\":\"stderr\",\"time\":\""
        } else {
            b"\",\"stream\":\"stdout\",\"time\":\""
        });
        out.extend_from_slice(now.as_bytes());
        out.extend_from_slice(b"\"}\n");
    }

    /// Logs a chunk of output of one stream.
    pub fn write(&mut self, stderr: bool, data: &[u8]) {
        if self.file.is_none() {
            return;
        }
        let now = rfc3339_nano(Utc::now());
        let mut out = Vec::new();
        let buf = &mut self.partial[stderr as usize];
        let mut rest = data;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(i + 1);
            if buf.is_empty() {
                Self::entry(&mut out, stderr, line, &now);
            } else {
                buf.extend_from_slice(line);
                Self::entry(&mut out, stderr, buf, &now);
                buf.clear();
            }
            rest = tail;
        }
        buf.extend_from_slice(rest);
        while buf.len() >= MAX_LINE {
            let tail = buf.split_off(MAX_LINE);
            Self::entry(&mut out, stderr, buf, &now);
            *buf = tail;
        }
        if buf.capacity() > MAX_LINE * 2 {
            buf.shrink_to(MAX_LINE);
        }
        self.append(&out);
    }

    /// Writes unterminated last lines (at exit).
    pub fn flush_partial(&mut self) {
        let now = rfc3339_nano(Utc::now());
        let mut out = Vec::new();
        for (i, buf) in self.partial.iter_mut().enumerate() {
            if !buf.is_empty() {
                Self::entry(&mut out, i == 1, buf, &now);
                *buf = Vec::new();
            }
        }
        self.append(&out);
    }

    fn append(&mut self, out: &[u8]) {
        if let (Some(f), false) = (&mut self.file, out.is_empty()) {
            // A full disk must not stop the container: drop the entry like docker does.
            let _ = f.write_all(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        let t = DateTime::parse_from_rfc3339("2024-05-01T10:00:00.120000000Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339_nano(t), "2024-05-01T10:00:00.12Z");
        let t = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339_nano(t), "2024-05-01T10:00:00Z");
    }

    #[test]
    fn escaping_like_go() {
        let mut out = Vec::new();
        escape_json(&mut out, b"a\"<b>&\x01\t\xff\xe2\x80\xa8\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"a\"\u003cb\u003e\u0026\u0001\t�\u2028\n"#
        );
    }

    #[test]
    fn lines_and_partials() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x-json.log");
        let mut w = LogWriter::open(&p).unwrap();
        w.write(false, b"hel");
        w.write(false, b"lo\nwor");
        w.write(true, b"err\n");
        w.write(false, &vec![b'x'; MAX_LINE + 1]);
        w.flush_partial();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["log"], "hello\n");
        assert_eq!(lines[0]["stream"], "stdout");
        assert_eq!(lines[1]["log"], "err\n");
        assert_eq!(lines[1]["stream"], "stderr");
        // The unterminated "wor" and the x's fill one 16 KiB partial entry (docker's
        // copier buffer), the rest is written at exit.
        let long = lines[2]["log"].as_str().unwrap();
        assert_eq!(long.len(), MAX_LINE);
        assert!(long.starts_with("worxxx"));
        assert_eq!(lines[3]["log"], "xxxx");
        assert_eq!(lines.len(), 4);
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
    }
}
