//! Docker's multiplexed stream format: frames `[stream, 0, 0, 0, len (u32 BE)] payload`,
//! stream 0 = stdin, 1 = stdout, 2 = stderr (3 = systemerr).

/// A malformed frame.
#[derive(Debug, thiserror::Error)]
pub enum StdCopyError {
    /// Unknown stream byte.
    #[error("Unrecognized input header: {0}")]
    BadStream(u8),
}

/// The stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// 0.
    Stdin,
    /// 1.
    Stdout,
    /// 2.
    Stderr,
    /// 3: an error from the daemon, to print on stderr.
    SystemErr,
}

/// Push-based frame decoder: feed bytes with [`Decoder::push`], take frames with
/// [`Decoder::next_frame`].
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// A new decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> Result<Option<(StreamKind, Vec<u8>)>, StdCopyError> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let kind = match self.buf[0] {
            0 => StreamKind::Stdin,
            1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            3 => StreamKind::SystemErr,
            b => return Err(StdCopyError::BadStream(b)),
        };
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        let payload = self.buf[8..8 + len].to_vec();
        self.buf.drain(..8 + len);
        Ok(Some((kind, payload)))
    }

    /// Bytes buffered that are not a complete frame yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Encodes one frame (tests and fake servers).
pub fn encode(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}
