//! Streaming segment reader over any `io::Read` with a bounded buffer.
//!
//! Memory stays at most `max_segment + CHUNK` bytes whatever the input size: a segment
//! longer than `max_segment` is reported and skipped, never buffered whole.

use crate::delimiters::{self, DelimiterError, DelimiterNote, Delimiters};
use crate::tokenizer::is_gap;
use memchr::memchr;
use std::io::{self, Read};

const CHUNK: usize = 256 * 1024;
/// Default limit for one segment; real segments are well under 1 KB.
pub const MAX_SEGMENT: usize = 1 << 20;

/// What the reader found at the start of the stream.
#[derive(Debug)]
pub enum Start {
    /// An ISA with usable delimiters.
    Isa {
        delims: Delimiters,
        notes: Vec<DelimiterNote>,
        bom: bool,
    },
    /// The stream is empty (or only whitespace).
    Empty { bom: bool },
    /// The first bytes are not `ISA`; holds up to 40 of them for the message.
    NotIsa { head: Vec<u8>, bom: bool },
    /// An ISA whose delimiters cannot be used.
    BadIsa { error: DelimiterError, bom: bool },
}

/// One item from the reader.
#[derive(Debug)]
pub enum Item<'a> {
    /// A segment (terminator excluded), with its byte offset in the stream.
    Segment { offset: u64, bytes: &'a [u8] },
    /// Bytes at end of input without a segment terminator (a truncated file).
    Unterminated { offset: u64, bytes: &'a [u8] },
    /// An ISA segment with the delimiters it declares (already in force for what follows).
    Isa {
        offset: u64,
        bytes: &'a [u8],
        delims: Delimiters,
    },
    /// A segment longer than the limit; its bytes were skipped.
    TooLong { offset: u64, len: u64 },
}

pub struct SegmentReader<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[0]`.
    base: u64,
    delims: Delimiters,
    max_segment: usize,
}

impl<R: Read> SegmentReader<R> {
    /// Reads the beginning of `src` to find the ISA and its delimiters.
    pub fn open(src: R) -> io::Result<(Self, Start)> {
        Self::with_limit(src, MAX_SEGMENT)
    }

    pub fn with_limit(src: R, max_segment: usize) -> io::Result<(Self, Start)> {
        let mut r = SegmentReader {
            src,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            base: 0,
            delims: Delimiters::default(),
            max_segment: max_segment.max(1024),
        };
        // Enough for an ISA even with unpadded or over-padded fields.
        while r.end < 512 && !r.eof {
            r.fill()?;
        }
        let mut bom = false;
        if r.buf[..r.end].starts_with(b"\xEF\xBB\xBF") {
            bom = true;
            r.start = 3;
        }
        while r.start < r.end
            && (is_gap(r.buf[r.start]) || r.buf[r.start] == b' ' || r.buf[r.start] == b'\t')
        {
            r.start += 1;
        }
        let head = &r.buf[r.start..r.end];
        if head.is_empty() {
            return Ok((r, Start::Empty { bom }));
        }
        if !head.starts_with(b"ISA") {
            let head = head[..head.len().min(40)].to_vec();
            return Ok((r, Start::NotIsa { head, bom }));
        }
        match delimiters::from_isa(head) {
            Ok((delims, _, notes)) => {
                r.delims = delims;
                Ok((r, Start::Isa { delims, notes, bom }))
            }
            Err(error) => Ok((r, Start::BadIsa { error, bom })),
        }
    }

    pub fn delimiters(&self) -> Delimiters {
        self.delims
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    fn fill(&mut self) -> io::Result<usize> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            } else {
                let cap = (self.buf.len() * 2).min(self.max_segment + CHUNK);
                if cap <= self.buf.len() {
                    return Ok(0);
                }
                self.buf.resize(cap, 0);
            }
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// At a segment starting `ISA` (or too few bytes to tell): reads the delimiters that
    /// ISA declares and returns it terminated by its own terminator. `None` when it is
    /// not an ISA or its delimiters are unusable (then the current ones stay).
    fn isa(&mut self) -> io::Result<Option<(usize, usize, Delimiters)>> {
        while self.end - self.start < 512 && !self.eof {
            if self.fill()? == 0 && !self.eof {
                break;
            }
        }
        let head = &self.buf[self.start..self.end];
        if !head.starts_with(b"ISA") {
            return Ok(None);
        }
        let Ok((delims, len, _)) = delimiters::from_isa(head) else {
            return Ok(None);
        };
        self.delims = delims;
        let s = self.start;
        self.start += len;
        Ok(Some((s, len, delims)))
    }

    /// The next segment, or `None` at end of input.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        let term = self.delims.segment;
        // Skip line breaks between segments.
        loop {
            while self.start < self.end
                && is_gap(self.buf[self.start])
                && self.buf[self.start] != term
            {
                self.start += 1;
            }
            if self.start < self.end {
                break;
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
        if (self.buf[self.start..self.end].starts_with(b"ISA")
            || (self.end - self.start < 3 && !self.eof))
            && let Some((s, len, delims)) = self.isa()?
        {
            return Ok(Some(Item::Isa {
                offset: self.base + s as u64,
                bytes: &self.buf[s..s + len - 1],
                delims,
            }));
        }
        let term = self.delims.segment;
        let mut scanned = self.start;
        let mut skipping: Option<(u64, u64)> = None;
        loop {
            if let Some(i) = memchr(term, &self.buf[scanned..self.end]) {
                let pos = scanned + i;
                let (s, offset) = (self.start, self.base + self.start as u64);
                self.start = pos + 1;
                if let Some((off, len)) = skipping {
                    return Ok(Some(Item::TooLong {
                        offset: off,
                        len: len + (pos - s) as u64,
                    }));
                }
                return Ok(Some(Item::Segment {
                    offset,
                    bytes: &self.buf[s..pos],
                }));
            }
            if self.eof {
                let (s, offset) = (self.start, self.base + self.start as u64);
                self.start = self.end;
                if let Some((off, len)) = skipping {
                    return Ok(Some(Item::TooLong {
                        offset: off,
                        len: len + (self.end - s) as u64,
                    }));
                }
                return Ok(Some(Item::Unterminated {
                    offset,
                    bytes: &self.buf[s..self.end],
                }));
            }
            if self.end - self.start >= self.max_segment {
                // Drop what we have of this oversized segment and keep scanning for its end.
                let dropped = (self.end - self.start) as u64;
                let entry = skipping.get_or_insert((self.base + self.start as u64, 0));
                entry.1 += dropped;
                self.start = self.end;
            }
            let rel = scanned.max(self.end) - self.start;
            self.fill()?;
            scanned = self.start + rel.min(self.end - self.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *200101*1253*^*00501*000000905*0*T*:~";

    fn collect(data: &[u8], limit: usize) -> Vec<String> {
        let (mut r, start) = SegmentReader::with_limit(data, limit).unwrap();
        assert!(matches!(start, Start::Isa { .. }));
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(match item {
                Item::Segment { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
                Item::Unterminated { bytes, .. } => {
                    format!("UNTERMINATED {}", String::from_utf8_lossy(bytes))
                }
                Item::TooLong { len, .. } => format!("TOOLONG {len}"),
                Item::Isa { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
            });
        }
        out
    }

    #[test]
    fn reads_segments_with_bom_and_newlines() {
        let data = format!("\u{feff}{ISA}\r\nGS*HC~\nIEA*1*000000905~\n");
        let (_, start) = SegmentReader::open(data.as_bytes()).unwrap();
        assert!(matches!(start, Start::Isa { bom: true, .. }));
        let segs = collect(data.trim_start_matches('\u{feff}').as_bytes(), MAX_SEGMENT);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[1], "GS*HC");
    }

    #[test]
    fn long_segment_is_skipped_with_bounded_buffer() {
        let big = "X".repeat(3 * CHUNK);
        let data = format!("{ISA}NTE*{big}~IEA*1*000000905~");
        let segs = collect(data.as_bytes(), 4096);
        assert_eq!(segs[1], format!("TOOLONG {}", big.len() + 4));
        assert_eq!(segs[2], "IEA*1*000000905");
    }

    #[test]
    fn truncated_tail_is_reported() {
        let data = format!("{ISA}GS*HC*A~ST*837");
        let segs = collect(data.as_bytes(), MAX_SEGMENT);
        assert_eq!(segs.last().unwrap(), "UNTERMINATED ST*837");
    }

    #[test]
    fn not_isa() {
        let (_, start) = SegmentReader::open(&b"GS*HC~"[..]).unwrap();
        assert!(matches!(start, Start::NotIsa { .. }));
        let (_, start) = SegmentReader::open(&b""[..]).unwrap();
        assert!(matches!(start, Start::Empty { .. }));
    }
}
