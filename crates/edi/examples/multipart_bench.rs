//! Times `edi::caqh::parse_multipart` on hostile 6 MB bodies (the shapes that made the old parser
//! quadratic) and on a well-formed envelope of the same size, and prints the figures.
//!
//!     cargo run --release -p edi --example multipart_bench

use std::time::Instant;

fn hostile_bodies(size: usize) -> Vec<(&'static str, String, Vec<u8>)> {
    let ct = |b: &str| format!("multipart/form-data; boundary={b}");
    let mut out = Vec::new();
    // Many tiny LF-only parts (the reported attack).
    let mut b = Vec::with_capacity(size);
    while b.len() < size {
        b.extend_from_slice(b"--x\nContent-Disposition: form-data; name=\"a\"\n\nv\n");
    }
    b.extend_from_slice(b"--x--\n");
    out.push(("many small LF-only parts", ct("x"), b));
    // Parts whose header block never ends.
    let mut b = Vec::with_capacity(size);
    while b.len() < size {
        b.extend_from_slice(b"--x\nContent-Disposition: form-data; name=\"a\"\n");
    }
    out.push(("header blocks without an end", ct("x"), b));
    // One part full of near-misses of a long boundary.
    let boundary = "q".repeat(70);
    let near = format!("\r\n--{}", &boundary[..69]);
    let mut b = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"Payload\"\r\n\r\n")
        .into_bytes();
    while b.len() < size {
        b.extend_from_slice(near.as_bytes());
    }
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out.push(("near-miss boundaries in one part", ct(&boundary), b));
    // A boundary that never closes, after many newlines.
    let mut b = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
    b.resize(size, b'\n');
    out.push(("no closing boundary", ct("x"), b));
    // A well-formed envelope with a 6 MB payload.
    let payload = vec![b'A'; size];
    let (ct, b) = edi::caqh::request_multipart(&[
        ("PayloadType", b"X12_837_Request_005010X222A1"),
        ("ProcessingMode", b"Batch"),
        ("Payload", &payload),
    ]);
    out.push(("well-formed envelope", ct, b));
    out
}

fn main() {
    let size = 6 * 1024 * 1024;
    println!(
        "{:<36} {:>10} {:>12} {:>10}",
        "body (6 MB)", "outcome", "best of 20", "MB/s"
    );
    for (name, ct, body) in hostile_bodies(size) {
        let mut best = f64::MAX;
        let mut outcome = String::new();
        for _ in 0..20 {
            let t = Instant::now();
            let r = edi::caqh::parse_multipart(&ct, &body);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            best = best.min(ms);
            outcome = match r {
                Ok(p) => format!("{} parts", p.len()),
                Err(_) => "refused".into(),
            };
        }
        let mbps = body.len() as f64 / 1e6 / (best / 1e3);
        println!("{name:<36} {outcome:>10} {best:>9.3} ms {mbps:>10.0}");
    }
}
