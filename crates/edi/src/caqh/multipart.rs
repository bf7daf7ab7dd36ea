//! multipart/form-data (RFC 7578) split into borrowed parts.

use super::envelope::{EnvelopeError, ErrorCode};

/// One multipart/form-data part: its field name and bytes (borrowed from the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
}

/// The boundary parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// Most parts an envelope may have: the rule's request has twelve fields.
pub const MAX_PARTS: usize = 32;
/// Most bytes in one part's header block (a CORE part has one or two short header lines).
pub const MAX_HEADER_BYTES: usize = 4096;
/// Most header lines in one part.
pub const MAX_HEADER_LINES: usize = 8;

/// Splits a multipart/form-data body (RFC 7578) into its parts without copying.
///
/// The body comes from a stranger before any authentication, so the parse is linear in the
/// body's length and bounded: the boundary is found with a two-way search (`memchr::memmem`,
/// no quadratic worst case) that only moves forward, each part's header block is read within
/// [`MAX_HEADER_BYTES`] of its start, and more than [`MAX_PARTS`] parts are refused. (A header
/// search from each part to the end of the body made bodies of many small parts quadratic.)
pub fn parse_multipart<'a>(
    content_type: &str,
    body: &'a [u8],
) -> Result<Vec<Part<'a>>, EnvelopeError> {
    let b = boundary(content_type)
        .ok_or_else(|| bad("Content-Type must be multipart/form-data with a boundary"))?;
    let delim = format!("--{b}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let find = |from: usize| finder.find(&body[from..]).map(|i| i + from);
    let mut parts = Vec::with_capacity(12);
    let Some(first) = find(0) else {
        return Err(bad("the boundary does not occur in the body"));
    };
    let mut pos = first + delim.len();
    loop {
        // After a delimiter: "--" closes the body, else CRLF and a part follows.
        if body[pos..].starts_with(b"--") {
            break;
        }
        if parts.len() == MAX_PARTS {
            return Err(bad(&format!(
                "the envelope has more than {MAX_PARTS} parts"
            )));
        }
        pos = skip_newline(body, pos).ok_or_else(|| bad("a line break must follow a boundary"))?;
        let (name, data_start) = part_headers(body, pos)?;
        let next = find(data_start).ok_or_else(|| bad("the closing boundary is missing"))?;
        let mut data_end = next;
        if data_end >= data_start + 2 && &body[data_end - 2..data_end] == b"\r\n" {
            data_end -= 2;
        } else if data_end > data_start && body[data_end - 1] == b'\n' {
            data_end -= 1;
        }
        parts.push(Part {
            name,
            data: &body[data_start..data_end],
        });
        pos = next + delim.len();
        if pos >= body.len() {
            return Err(bad("the closing boundary is missing"));
        }
    }
    Ok(parts)
}

fn bad(m: &str) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::PayloadTypeRequired,
        format!("the request is not a CORE HTTP MIME multipart envelope: {m}"),
    )
}

/// Reads one part's header block starting at `pos`: its `Content-Disposition` name and where
/// its data starts. Looks no further than [`MAX_HEADER_BYTES`] and [`MAX_HEADER_LINES`].
fn part_headers(body: &[u8], pos: usize) -> Result<(&str, usize), EnvelopeError> {
    let window = &body[pos..body.len().min(pos + MAX_HEADER_BYTES)];
    let mut name = None;
    let mut at = 0;
    for _ in 0..=MAX_HEADER_LINES {
        let Some(nl) = memchr::memchr(b'\n', &window[at..]) else {
            break;
        };
        let line = &window[at..at + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        at += nl + 1;
        if line.is_empty() {
            let name = name.ok_or_else(|| bad("a part has no Content-Disposition name"))?;
            return Ok((name, pos + at));
        }
        let line = std::str::from_utf8(line).map_err(|_| bad("part headers are not text"))?;
        if name.is_none() {
            name = disposition_name(line);
        }
    }
    Err(bad(&format!(
        "a part's header block must end with an empty line within {MAX_HEADER_LINES} lines and {MAX_HEADER_BYTES} bytes"
    )))
}

fn skip_newline(body: &[u8], pos: usize) -> Option<usize> {
    let rest = &body[pos..];
    // Transport padding (spaces) may precede the line break.
    let pad = rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    let rest = &rest[pad..];
    if rest.starts_with(b"\r\n") {
        Some(pos + pad + 2)
    } else if rest.starts_with(b"\n") {
        Some(pos + pad + 1)
    } else {
        None
    }
}

fn disposition_name(line: &str) -> Option<&str> {
    let (h, v) = line.split_once(':')?;
    if !h.trim().eq_ignore_ascii_case("content-disposition") {
        return None;
    }
    v.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim() == "name").then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bodies_are_refused_not_panicked_on() {
        for body in [
            &b""[..],
            b"--x",
            b"--x\r\n",
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
            b"garbage",
        ] {
            assert!(parse_multipart("multipart/form-data; boundary=x", body).is_err());
        }
        assert!(parse_multipart("application/json", b"{}").is_err());
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\""),
            Some("abc")
        );
        let ok = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--x--\r\n";
        let p = parse_multipart("multipart/form-data; boundary=x", ok).unwrap();
        assert_eq!(
            p,
            vec![Part {
                name: "a",
                data: b"v"
            }]
        );
    }

    #[test]
    fn a_body_of_many_small_parts_is_refused_at_the_part_cap() {
        // The attack that stalled the portal: many tiny LF-only parts.
        let mut body = Vec::new();
        for _ in 0..100_000 {
            body.extend_from_slice(b"--x\nContent-Disposition: form-data; name=\"a\"\n\nv\n");
        }
        body.extend_from_slice(b"--x--\n");
        let e = parse_multipart("multipart/form-data; boundary=x", &body).unwrap_err();
        assert!(e.message.contains("more than 32 parts"), "{}", e.message);
        // At the cap it still parses, LF-only line breaks included.
        let mut ok = Vec::new();
        for _ in 0..MAX_PARTS {
            ok.extend_from_slice(b"--x\nContent-Disposition: form-data; name=\"a\"\n\nv\n");
        }
        ok.extend_from_slice(b"--x--\n");
        let p = parse_multipart("multipart/form-data; boundary=x", &ok).unwrap();
        assert_eq!(p.len(), MAX_PARTS);
        assert!(p.iter().all(|p| p.data == b"v"));
    }

    #[test]
    fn a_header_block_is_read_within_its_bounds_only() {
        let ct = "multipart/form-data; boundary=x";
        // No empty line for megabytes: refused after 4 KB, not searched to the end.
        let mut body = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n".to_vec();
        body.resize(body.len() + 6 * 1024 * 1024, b'h');
        body.extend_from_slice(b"\r\n\r\nv\r\n--x--\r\n");
        let e = parse_multipart(ct, &body).unwrap_err();
        assert!(e.message.contains("4096 bytes"), "{}", e.message);
        // Too many header lines.
        let mut many = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n".to_vec();
        for _ in 0..MAX_HEADER_LINES {
            many.extend_from_slice(b"X-Pad: 1\r\n");
        }
        many.extend_from_slice(b"\r\nv\r\n--x--\r\n");
        assert!(parse_multipart(ct, &many).is_err());
        // Several header lines, the name on the second, are fine.
        let two = b"--x\r\nContent-Type: text/plain\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nw\r\n--x--\r\n";
        assert_eq!(
            parse_multipart(ct, two).unwrap(),
            vec![Part {
                name: "b",
                data: b"w"
            }]
        );
    }

    #[test]
    fn boundary_look_alikes_in_the_data_are_data() {
        // Near-misses of the delimiter ("--" and most of the boundary) inside a payload.
        let ct = "multipart/form-data; boundary=abcdef";
        let mut body =
            b"--abcdef\r\nContent-Disposition: form-data; name=\"Payload\"\r\n\r\n".to_vec();
        for _ in 0..1000 {
            body.extend_from_slice(b"--abcde\r\n");
        }
        body.extend_from_slice(b"\r\n--abcdef--\r\n");
        let p = parse_multipart(ct, &body).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].data.len(), 1000 * 9);
    }
}
