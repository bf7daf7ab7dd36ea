//! Affiliation proofs (a letter on the office's letterhead): what is accepted and how it is
//! cleaned before storage. The type is sniffed from the bytes, never taken from the upload.

/// Largest proof accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

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

#[cfg(test)]
mod tests {
    use super::*;

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
