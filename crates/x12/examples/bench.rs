//! Throughput benchmark: generates an 837P of many ST/SE sets in one interchange and
//! reports MB/s for tokenizing and for full validation, and the peak memory.
//!
//! `cargo run --release -p x12 --example bench [-- SIZE_MB]` (default 100)
//! `cargo run --release -p x12 --example bench -- --write FILE SIZE_MB` only writes the file.
//! `cargo run --release -p x12 --example bench -- --validate FILE` validates a file, prints MB/s.
//! `cargo run --release -p x12 --example bench -- --interchanges N` validates one file of N
//! one-claim interchanges: time, MB/s and peak memory against the number of interchanges.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn validate_file(path: &std::path::Path) -> (f64, x12::Report) {
    let t = Instant::now();
    let f = File::open(path).expect("open");
    let report = x12::validate(
        BufReader::with_capacity(1 << 20, f),
        &x12::Options::default(),
    )
    .expect("read");
    (t.elapsed().as_secs_f64(), report)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--write") {
        let path = &args[1];
        let mb: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
        let w = BufWriter::new(File::create(path).expect("create"));
        let n = x12::samples::write_837p(w, mb << 20, 20).expect("write");
        println!("wrote {path}: {n} bytes");
        return;
    }
    if args.first().map(String::as_str) == Some("--validate") {
        let path = std::path::Path::new(&args[1]);
        let (secs, report) = validate_file(path);
        let mb = report.bytes as f64 / 1e6;
        println!(
            "validate {}: {:.1} MB in {secs:.3} s = {:.1} MB/s, accepted={}",
            path.display(),
            mb,
            mb / secs,
            report.accepted()
        );
        return;
    }
    if args.first().map(String::as_str) == Some("--interchanges") {
        let n: u32 = args
            .get(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        let path = std::env::temp_dir().join(format!("x12-bench-isa-{}.edi", std::process::id()));
        let w = BufWriter::new(File::create(&path).expect("create"));
        let bytes = x12::samples::write_837p_interchanges(w, n).expect("write");
        let (secs, report) = validate_file(&path);
        let _ = std::fs::remove_file(&path);
        assert!(report.accepted(), "{:?}", report.errors_by_offset().first());
        let mb = bytes as f64 / 1e6;
        println!(
            "validate {n} one-claim interchanges: {mb:.1} MB in {secs:.3} s = {:.1} MB/s; {} interchanges in the report; peak memory (VmHWM) {:.1} MB",
            mb / secs,
            report.interchanges.len(),
            peak_rss_mb().unwrap_or(f64::NAN)
        );
        return;
    }
    let mb: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(100);
    let path = std::env::temp_dir().join(format!("x12-bench-837p-{}.edi", std::process::id()));
    let t = Instant::now();
    let bytes = x12::samples::write_837p(
        BufWriter::new(File::create(&path).expect("create")),
        mb << 20,
        20,
    )
    .expect("write");
    println!(
        "generated {:.1} MB 837P ({} claims per set) in {:.1} s",
        bytes as f64 / 1e6,
        20,
        t.elapsed().as_secs_f64()
    );
    let size = bytes as f64 / 1e6;

    // Warm the page cache, then validate (streaming, bounded memory).
    let _ = validate_file(&path);
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..3 {
        let (secs, report) = validate_file(&path);
        best = best.min(secs);
        last = Some(report);
    }
    let report = last.expect("ran");
    assert!(
        report.accepted(),
        "generated file must validate: {:?}",
        report.errors_by_offset().first()
    );
    let peak = peak_rss_mb();
    println!(
        "validate (guide 005010X222A1, streaming from file): {size:.1} MB in {best:.3} s = {:.1} MB/s; {} sets, {} segments",
        size / best,
        report.sets,
        report.segments
    );

    // Tokenizer, streaming from the same file: segments and elements.
    let mut best_tok = f64::MAX;
    let mut counts = (0u64, 0u64);
    for _ in 0..3 {
        let t = Instant::now();
        let f = File::open(&path).expect("open");
        let (mut rd, _) =
            x12::reader::SegmentReader::open(BufReader::with_capacity(1 << 20, f)).expect("read");
        let sep = rd.delimiters().element;
        let (mut segs, mut elems) = (0u64, 0u64);
        while let Some(item) = rd.next_item().expect("read") {
            if let x12::reader::Item::Segment { bytes, .. } = item {
                segs += 1;
                elems += memchr_count(sep, bytes) + 1;
            }
        }
        best_tok = best_tok.min(t.elapsed().as_secs_f64());
        counts = (segs, elems);
    }
    println!(
        "tokenize (streaming from file): {size:.1} MB in {best_tok:.3} s = {:.1} MB/s; {} segments, {} elements",
        size / best_tok,
        counts.0,
        counts.1
    );
    println!(
        "peak memory (VmHWM) after streaming validation and tokenizing: {:.1} MB",
        peak.unwrap_or(f64::NAN)
    );

    // Tokenizer on an in-memory 16 MB slice (no I/O), repeated.
    let mut chunk = Vec::with_capacity(16 << 20);
    let chunk = File::open(&path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 16 << 20), &mut chunk))
        .map(|_| chunk);
    if let Ok(chunk) = chunk {
        let d = x12::Delimiters::default();
        let t = Instant::now();
        let mut total = 0usize;
        let mut n = 0;
        while t.elapsed().as_secs_f64() < 2.0 {
            let (s, _) = x12::tokenizer::count_tokens(&chunk, &d);
            total += chunk.len();
            n += s;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "tokenize (in memory, 16 MB slice): {:.1} MB/s ({} segments)",
            total as f64 / 1e6 / secs,
            n
        );
    }
    let _ = std::fs::remove_file(&path);
}

fn memchr_count(b: u8, hay: &[u8]) -> u64 {
    hay.iter().filter(|&&c| c == b).count() as u64
}
