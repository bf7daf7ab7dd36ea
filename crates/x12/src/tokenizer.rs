//! Zero-copy tokenizer: segments out of a byte slice, elements out of a segment.

use crate::delimiters::Delimiters;
use memchr::{memchr, memchr_iter};

/// Bytes skipped between segments: line breaks some senders put after each terminator.
#[inline]
pub(crate) fn is_gap(b: u8) -> bool {
    b == b'\r' || b == b'\n' || b == b' ' || b == b'\t'
}

/// Iterates over the segments of an in-memory interchange (terminator excluded,
/// line breaks after terminators skipped). Yields `(byte offset, segment bytes)`.
pub struct Segments<'a> {
    data: &'a [u8],
    pos: usize,
    term: u8,
}

impl<'a> Segments<'a> {
    pub fn new(data: &'a [u8], delims: &Delimiters) -> Self {
        Segments {
            data,
            pos: 0,
            term: delims.segment,
        }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.data.len()
            && is_gap(self.data[self.pos])
            && self.data[self.pos] != self.term
        {
            self.pos += 1;
        }
        if self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.data[start..];
        match memchr(self.term, rest) {
            Some(i) => {
                self.pos = start + i + 1;
                Some((start, &rest[..i]))
            }
            None => {
                self.pos = self.data.len();
                Some((start, rest))
            }
        }
    }
}

/// A segment split into elements. `elements()[0]` is the segment id.
/// The split positions live in a caller-owned buffer so no allocation happens per segment.
pub struct Split<'a, 'b> {
    pub raw: &'a [u8],
    bounds: &'b [(u32, u32)],
}

impl<'a, 'b> Split<'a, 'b> {
    /// Splits `raw` at `sep`, storing bounds into `buf` (cleared first).
    #[inline]
    pub fn new(raw: &'a [u8], sep: u8, buf: &'b mut Vec<(u32, u32)>) -> Self {
        buf.clear();
        let mut s = 0u32;
        for p in memchr_iter(sep, raw) {
            buf.push((s, p as u32));
            s = p as u32 + 1;
        }
        buf.push((s, raw.len() as u32));
        Split { raw, bounds: buf }
    }

    /// The segment id (element 0).
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        self.get(0)
    }

    /// Number of elements after the id (trailing empty ones included).
    #[inline]
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` (1-based, as in `NM109`); empty when absent.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        match self.bounds.get(i) {
            Some(&(s, e)) => &self.raw[s as usize..e as usize],
            None => &[],
        }
    }

    /// Byte offset of element `i` inside the segment.
    pub fn offset(&self, i: usize) -> usize {
        self.bounds.get(i).map_or(self.raw.len(), |b| b.0 as usize)
    }
}

/// Component `n` (1-based) of a composite element; empty when absent.
pub fn component(value: &[u8], sep: u8, n: usize) -> &[u8] {
    value
        .split(|&b| b == sep)
        .nth(n.saturating_sub(1))
        .unwrap_or(&[])
}

/// Counts segments and elements of a whole buffer: the "bare tokenizer" the bench measures.
pub fn count_tokens(data: &[u8], delims: &Delimiters) -> (u64, u64) {
    let (mut segs, mut elems) = (0u64, 0u64);
    for (_, seg) in Segments::new(data, delims) {
        segs += 1;
        elems += memchr_iter(delims.element, seg).count() as u64 + 1;
    }
    (segs, elems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_segments_and_skips_line_breaks() {
        let d = Delimiters::default();
        let segs: Vec<_> = Segments::new(b"ST*837*1~\r\nBHT*0019~\nSE*2*1~", &d)
            .map(|(_, s)| s)
            .collect();
        assert_eq!(segs, vec![&b"ST*837*1"[..], b"BHT*0019", b"SE*2*1"]);
    }

    #[test]
    fn newline_as_terminator() {
        let d = Delimiters {
            segment: b'\n',
            ..Delimiters::default()
        };
        let segs: Vec<_> = Segments::new(b"ST*837*1\nSE*2*1\n", &d)
            .map(|(_, s)| s)
            .collect();
        assert_eq!(segs, vec![&b"ST*837*1"[..], b"SE*2*1"]);
    }

    #[test]
    fn element_access() {
        let mut buf = Vec::new();
        let s = Split::new(b"NM1*85*2*CLINIC*****XX*1234567893", b'*', &mut buf);
        assert_eq!(s.id(), b"NM1");
        assert_eq!(s.len(), 9);
        assert_eq!(s.get(1), b"85");
        assert_eq!(s.get(4), b"");
        assert_eq!(s.get(9), b"1234567893");
        assert_eq!(s.get(12), b"");
        assert_eq!(component(b"HC:99213:25", b':', 2), b"99213");
        assert_eq!(component(b"HC", b':', 3), b"");
    }
}
