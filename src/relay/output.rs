//! A run's captured output: stdout and stderr in the order they arrived,
//! capped in size, and the live tail shown while the program runs.
//!
//! The two streams are separate pipes read at once, so "arrived" means
//! "was read": writes apart in time (a line, a pause, an error) keep their
//! order; what a program writes to both in the same instant may be read
//! either way round.

use std::collections::VecDeque;

/// Which of the program's output streams a chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Consecutive bytes from one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The stream the bytes came from.
    pub stream: Stream,
    /// The bytes, as the program wrote them (not necessarily UTF-8).
    pub bytes: Vec<u8>,
}

/// Everything a program wrote, up to a cap; beyond it bytes are counted only.
#[derive(Clone, Debug)]
pub struct Output {
    chunks: Vec<Chunk>,
    kept: usize,
    seen: u64,
    cap: usize,
}

impl Output {
    /// An empty buffer that keeps at most `cap` bytes of both streams together.
    pub fn new(cap: usize) -> Self {
        Self {
            chunks: Vec::new(),
            kept: 0,
            seen: 0,
            cap,
        }
    }

    /// Appends what `stream` delivered; whatever exceeds the cap is counted and dropped.
    pub fn push(&mut self, stream: Stream, bytes: &[u8]) {
        self.seen += bytes.len() as u64;
        let take = bytes.len().min(self.cap - self.kept);
        if take == 0 {
            return;
        }
        self.kept += take;
        match self.chunks.last_mut() {
            // One chunk per run of the same stream: a chatty program that
            // writes line by line must not cost a Vec per line.
            Some(last) if last.stream == stream => last.bytes.extend_from_slice(&bytes[..take]),
            _ => self.chunks.push(Chunk {
                stream,
                bytes: bytes[..take].to_vec(),
            }),
        }
    }

    /// The kept output, alternating between streams in arrival order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Both streams interleaved as they arrived.
    pub fn merged(&self) -> Vec<u8> {
        let mut all = Vec::with_capacity(self.kept);
        for chunk in &self.chunks {
            all.extend_from_slice(&chunk.bytes);
        }
        all
    }

    /// One stream on its own.
    pub fn stream(&self, stream: Stream) -> Vec<u8> {
        let mut bytes = Vec::new();
        for chunk in self.chunks.iter().filter(|c| c.stream == stream) {
            bytes.extend_from_slice(&chunk.bytes);
        }
        bytes
    }

    /// How many bytes are kept.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// How many bytes the program wrote, kept or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Whether the program wrote more than was kept.
    pub fn was_cut(&self) -> bool {
        self.seen > self.kept as u64
    }
}

/// The last bytes written, whatever the cap: what a live view shows.
pub(crate) struct Tail {
    bytes: VecDeque<u8>,
    limit: usize,
}

impl Tail {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            bytes: VecDeque::with_capacity(limit),
            limit,
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(self.limit)..];
        let overflow = (self.bytes.len() + bytes.len()).saturating_sub(self.limit);
        self.bytes.drain(..overflow);
        self.bytes.extend(bytes);
    }

    /// The tail as text; a character cut at the front is dropped rather than
    /// shown as a replacement mark.
    pub(crate) fn text(&self) -> String {
        let start = self
            .bytes
            .iter()
            .position(|b| b & 0b1100_0000 != 0b1000_0000)
            .unwrap_or(self.bytes.len());
        let bytes: Vec<u8> = self.bytes.iter().skip(start).copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_the_first_bytes_up_to_the_cap_and_counts_the_rest() {
        let mut output = Output::new(5);
        output.push(Stream::Stdout, b"abc");
        output.push(Stream::Stderr, b"defg");
        output.push(Stream::Stdout, b"hij");
        assert_eq!(output.merged(), b"abcde");
        assert_eq!(output.kept(), 5);
        assert_eq!(output.seen(), 10);
        assert!(output.was_cut());
        assert_eq!(
            output.chunks(),
            [
                Chunk {
                    stream: Stream::Stdout,
                    bytes: b"abc".to_vec()
                },
                Chunk {
                    stream: Stream::Stderr,
                    bytes: b"de".to_vec()
                },
            ]
        );
    }

    #[test]
    fn output_joins_consecutive_writes_of_one_stream() {
        let mut output = Output::new(100);
        output.push(Stream::Stderr, b"a");
        output.push(Stream::Stderr, b"b");
        output.push(Stream::Stdout, b"c");
        assert_eq!(output.chunks().len(), 2);
        assert_eq!(output.stream(Stream::Stderr), b"ab");
        assert!(!output.was_cut());
    }

    #[test]
    fn tail_keeps_the_last_bytes_and_drops_a_character_cut_in_half() {
        let mut tail = Tail::new(4);
        tail.push(b"xx");
        tail.push("a!".as_bytes());
        assert_eq!(tail.text(), "xxa!");
        tail.push("é€".as_bytes());
        // The last 4 bytes start with the second half of 'é': it is dropped.
        assert_eq!(tail.text(), "€");
    }
}
