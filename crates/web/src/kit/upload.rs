//! Files offices upload (affiliation letters, authorization attachments, batch files): how the
//! multipart forms carrying them are read within the body limit, what is accepted, and how a
//! file is cleaned before storage. The type is sniffed from the bytes, never taken from the upload.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

/// Largest proof accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// Longest text field accepted in a multipart form (names, emails, a denial reason).
const MAX_TEXT: usize = 4 * 1024;

/// A multipart form read within the portal's body limit. Axum's own `Multipart` extractor
/// stops at 2 MB, below the 5 MB a proof may have, and would refuse a good scan.
pub struct Upload(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Response;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        DefaultBodyLimit::max(crate::BODY_LIMIT).apply(&mut req);
        Multipart::from_request(req, state)
            .await
            .map(Upload)
            .map_err(IntoResponse::into_response)
    }
}

/// What a multipart form held: its text fields, and the file of the one file field asked for
/// (absent when none was chosen: browsers send an empty part).
#[derive(Default)]
pub struct Received {
    pub text: BTreeMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
    /// Why the form could not be read completely (`text` holds what was read before).
    pub problem: Option<String>,
}

/// Reads every field; `file_field` names the file input. Text fields longer than 4 KB are
/// refused (nobody types that much into these forms).
pub async fn receive(Upload(mut mp): Upload, file_field: &str) -> Received {
    let mut got = Received::default();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                got.problem = Some(unreadable(&e.body_text()));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == file_field {
            let filename = field.file_name().unwrap_or("").to_string();
            match field.bytes().await {
                Ok(b) if b.is_empty() => {}
                Ok(b) => got.file = Some((filename, b.to_vec())),
                Err(e) => {
                    got.problem = Some(unreadable(&e.body_text()));
                    break;
                }
            }
            continue;
        }
        match field.text().await {
            Ok(v) if v.len() > MAX_TEXT => {
                got.problem = Some("A field of the form is far too long.".into());
                break;
            }
            Ok(v) => {
                got.text.insert(name, v);
            }
            Err(e) => {
                got.problem = Some(unreadable(&e.body_text()));
                break;
            }
        }
    }
    got
}

fn unreadable(why: &str) -> String {
    if why.contains("too large") {
        "The upload is larger than the portal accepts (5 MB for the letter). Scan it at a lower resolution or as a PDF.".into()
    } else {
        "The form arrived incomplete (the connection may have dropped). Choose the file again and resend.".into()
    }
}

/// Media types accepted, by what the bytes are.
const ACCEPTED: &[&str] = &["application/pdf", "image/png", "image/jpeg"];

/// A proof that passed the checks.
pub struct Proof {
    pub filename: String,
    pub media_type: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Checks an uploaded file; `Err` is the message for the file field.
pub fn check(filename: &str, bytes: Vec<u8>) -> Result<Proof, String> {
    if bytes.is_empty() {
        return Err("The file is empty.".into());
    }
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "The file is {:.1} MB; the limit is 5 MB. Scan the letter at a lower resolution or as a PDF.",
            bytes.len() as f64 / 1_048_576.0
        ));
    }
    let media_type = infer::get(&bytes)
        .map(|t| t.mime_type())
        .filter(|m| ACCEPTED.contains(m))
        .ok_or("The file must be a PDF, PNG or JPEG (the letter on your office's letterhead).")?;
    Ok(Proof {
        filename: clean_filename(filename, media_type),
        media_type: media_type.into(),
        sha256: domain::audit::sha256_hex(&bytes),
        bytes,
    })
}

/// Keeps letters, digits, dot, dash and underscore (no paths, no quotes), at most 100
/// characters, with an extension matching the sniffed type.
pub fn clean_filename(name: &str, media_type: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    clean = clean.trim_start_matches('.').chars().take(90).collect();
    let ext = match media_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        _ => "jpg",
    };
    let stem = clean
        .rsplit_once('.')
        .map(|(s, _)| s.to_string())
        .unwrap_or(clean);
    let stem = if stem.is_empty() {
        "proof".to_string()
    } else {
        stem
    };
    format!("{stem}.{ext}")
}

/// A file size as people read it: "812 bytes", "340 KB", "2.4 MB".
pub fn size_label(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    if bytes < KB {
        format!("{bytes} bytes")
    } else if bytes < MB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_label(812), "812 bytes");
        assert_eq!(size_label(340 * 1024 + 100), "340 KB");
        assert_eq!(size_label(2_516_582), "2.4 MB");
    }

    #[test]
    fn jpeg_is_accepted_and_named_for_what_it_is() {
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0].to_vec();
        let p = check("letter.pdf", jpeg).unwrap();
        assert_eq!(p.media_type, "image/jpeg");
        assert_eq!(p.filename, "letter.jpg", "extension follows the bytes");
        let gif = b"GIF89a\x01\x00\x01\x00".to_vec();
        assert!(check("letter.png", gif).is_err(), "GIF is not accepted");
        let zip = [b'P', b'K', 3, 4, 0, 0, 0, 0].to_vec();
        assert!(
            check("letter.pdf", zip).is_err(),
            "a ZIP (or DOCX) is not accepted"
        );
    }

    #[test]
    fn long_names_are_cut() {
        let long = format!("{}.pdf", "a".repeat(300));
        let clean = clean_filename(&long, "application/pdf");
        assert!(clean.len() <= 100, "{}", clean.len());
        assert!(clean.ends_with(".pdf"));
        assert_eq!(
            clean_filename("brief \"quoted\"; x=y.pdf", "application/pdf"),
            "brief__quoted___x_y.pdf",
            "no quote or semicolon can reach the Content-Disposition header"
        );
    }

    #[test]
    fn sniffs_and_refuses() {
        let pdf = b"%PDF-1.7\n1 0 obj\n".to_vec();
        let p = check("Letter from Dr. O'Neil.pdf", pdf).unwrap();
        assert_eq!(p.media_type, "application/pdf");
        assert_eq!(p.filename, "Letter_from_Dr._O_Neil.pdf");
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0].to_vec();
        assert_eq!(check("scan", png).unwrap().filename, "scan.png");
        assert!(
            check("evil.pdf", b"<html><script>".to_vec()).is_err(),
            "named PDF, is HTML"
        );
        assert!(check("x.pdf", Vec::new()).is_err());
        assert!(check("x.pdf", vec![b'%'; MAX_BYTES + 1]).is_err());
    }

    #[test]
    fn filenames_lose_paths() {
        assert_eq!(
            clean_filename("../../etc/passwd", "application/pdf"),
            "passwd.pdf"
        );
        assert_eq!(
            clean_filename("C:\\scans\\letter.JPG", "image/jpeg"),
            "letter.jpg"
        );
        assert_eq!(clean_filename(".hidden", "image/png"), "hidden.png");
        assert_eq!(clean_filename("", "image/png"), "proof.png");
    }
}

#[cfg(test)]
mod receive_tests {
    use super::*;
    use axum::body::Body;

    fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Request {
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        Request::builder()
            .method("POST")
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn reads_text_and_a_large_file() {
        let big = vec![b'A'; 3 * 1024 * 1024];
        let req = multipart(&[
            ("name", None, b"Ana"),
            ("phone", None, b"(949) 555-0100"),
            ("proof", Some("letter.pdf"), &big),
            ("npi", None, b"2000000077"),
        ]);
        let up = Upload::from_request(req, &()).await.ok().unwrap();
        let got = receive(up, "proof").await;
        assert_eq!(got.problem, None);
        assert_eq!(got.text["name"], "Ana");
        assert_eq!(got.text["phone"], "(949) 555-0100");
        assert_eq!(got.text["npi"], "2000000077");
        assert_eq!(
            got.file.unwrap().1.len(),
            3 * 1024 * 1024,
            "past axum's 2 MB default"
        );
    }

    #[tokio::test]
    async fn an_empty_file_part_is_no_file_and_long_text_is_refused() {
        let req = multipart(&[("proof", Some(""), b""), ("name", None, b"Ana")]);
        let got = receive(Upload::from_request(req, &()).await.ok().unwrap(), "proof").await;
        assert!(got.file.is_none() && got.problem.is_none());
        let long = vec![b'x'; MAX_TEXT + 1];
        let req = multipart(&[("name", None, b"Ana"), ("office_name", None, &long)]);
        let got = receive(Upload::from_request(req, &()).await.ok().unwrap(), "proof").await;
        assert!(got.problem.is_some());
        assert_eq!(got.text["name"], "Ana", "what came before is kept");
    }
}
