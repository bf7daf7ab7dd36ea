//! Validates every file of the public sample corpus and prints a table.
//!
//! Run with `X12_CORPUS=../shared/x12-samples cargo test -p x12 --release --test corpus -- --nocapture`
//! (the path is relative to the workspace root; relative paths are resolved from there).
//! Without `X12_CORPUS` the test prints that it was skipped and passes.
//!
//! Expectations: `INVALID` files must be rejected; `example` files must be accepted
//! unless `corpus_expectations.tsv` says otherwise with a reason checked against the
//! guide; `quirk` files must give the verdict written there. Expected-error companions
//! (`*.expected-errors.txt`) must each be matched by one of our findings.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

fn corpus_dir() -> Option<PathBuf> {
    let v = std::env::var_os("X12_CORPUS")?;
    let p = PathBuf::from(v);
    if p.is_absolute() {
        return Some(p);
    }
    // Relative to the workspace root (two levels above this crate).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Some(root.join(p))
}

struct Expect {
    verdict: String,
    reason: String,
}

fn expectations() -> HashMap<String, Expect> {
    let text = include_str!("corpus_expectations.tsv");
    let mut m = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut f = line.splitn(3, '\t');
        let file = f.next().unwrap_or("").to_string();
        let verdict = f.next().unwrap_or("").to_string();
        let reason = f.next().unwrap_or("").to_string();
        assert!(
            verdict == "accept" || verdict == "reject",
            "bad verdict in expectations: {line}"
        );
        assert!(
            !reason.trim().is_empty(),
            "expectation without a reason: {line}"
        );
        m.insert(file, Expect { verdict, reason });
    }
    m
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

#[test]
fn corpus() {
    let Some(dir) = corpus_dir() else {
        println!(
            "corpus test skipped: set X12_CORPUS to the sample folder (CI: ../shared/x12-samples)"
        );
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest.tsv");
    let expect = expectations();
    let verbose = std::env::var_os("X12_VERBOSE").is_some();
    let mut failures = Vec::new();
    let (mut accepted, mut rejected, mut n) = (0, 0, 0);
    let mut seen = Vec::new();
    println!(
        "{:<78} {:<5} {:<8} {:<8} first error",
        "file", "set", "status", "verdict"
    );
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, set, status) = (cols[0], cols[1], cols[2]);
        if file.ends_with(".expected-errors.txt") {
            continue;
        }
        n += 1;
        seen.push(file.to_string());
        let f = File::open(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let report = x12::validate(BufReader::new(f), &x12::Options::default()).expect("read");
        let ok = report.accepted();
        if ok {
            accepted += 1
        } else {
            rejected += 1
        }
        let errors = report.errors_by_offset();
        let first = errors.first().map(|i| i.to_string()).unwrap_or_else(|| {
            report
                .issues()
                .next()
                .map(|i| i.to_string())
                .unwrap_or_default()
        });
        let verdict = if ok { "accept" } else { "reject" };
        println!(
            "{:<78} {:<5} {:<8} {:<8} {}",
            short(file, 78),
            set,
            status,
            verdict,
            short(&first, 160)
        );
        if verbose && !ok {
            for e in errors.iter().take(12) {
                println!("      {e}");
            }
        }
        let want = match (status, expect.get(file)) {
            (_, Some(e)) => Some(e.verdict.as_str()),
            ("INVALID", None) => Some("reject"),
            ("example", None) => Some("accept"),
            _ => None,
        };
        if status == "INVALID" && ok {
            failures.push(format!("{file}: INVALID sample accepted"));
        }
        match want {
            Some(w) if w != verdict => {
                failures.push(format!("{file}: expected {w}, got {verdict}: {first}"))
            }
            None => failures.push(format!(
                "{file}: quirk without an entry in corpus_expectations.tsv (got {verdict}: {first})"
            )),
            _ => {}
        }
        if !ok && first.is_empty() {
            failures.push(format!("{file}: rejected without a message"));
        }
    }
    for k in expect.keys() {
        if !seen.contains(k) {
            failures.push(format!(
                "corpus_expectations.tsv names {k}, which is not in the manifest"
            ));
        }
    }
    // Expected-error companions.
    let mut companions = Vec::new();
    for sub in std::fs::read_dir(&dir).expect("corpus dir").flatten() {
        if let Ok(files) = std::fs::read_dir(sub.path()) {
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.ends_with(".expected-errors.txt") {
                    companions.push(format!("{}/{name}", sub.file_name().to_string_lossy()));
                }
            }
        }
    }
    companions.sort();
    assert!(
        !companions.is_empty(),
        "no *.expected-errors.txt companion found in the corpus"
    );
    for file in &companions {
        if let Some(base) = file.strip_suffix(".expected-errors.txt") {
            let data = dir.join(format!("{base}.edi"));
            let report = x12::validate(
                BufReader::new(File::open(&data).expect("companion data")),
                &x12::Options::default(),
            )
            .unwrap();
            let ours: Vec<String> = report
                .issues()
                .map(|i| format!("{} {} {}", i.reference(), i.segment, i.message))
                .collect();
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let mut matched = 0;
            for ann in text.lines().filter(|l| l.starts_with("!!")) {
                let key = companion_key(ann);
                let hit = ours
                    .iter()
                    .any(|o| o.split(' ').take(2).any(|w| w == key) || o.starts_with(&key));
                println!(
                    "  companion {base}: {:<8} {} -> {}",
                    key,
                    short(ann, 110),
                    if hit { "matched" } else { "MISSING" }
                );
                if hit {
                    matched += 1
                } else {
                    failures.push(format!("{file}: expected error not reported: {ann}"))
                }
            }
            println!("  companion {base}: {matched} expected errors matched");
        }
    }
    println!(
        "\ncorpus: {n} files, {accepted} accepted, {rejected} rejected, {} expectation entries",
        expect.len()
    );
    for (k, e) in &expect {
        if e.verdict == "reject" {
            println!("  documented rejection: {k}: {}", e.reason);
        }
    }
    if !failures.is_empty() {
        for f in &failures {
            println!("FAIL {f}");
        }
        panic!("{} corpus expectation(s) not met", failures.len());
    }
}

/// What an annotation line points at: `TRN` for "Required segment TRN", `CAS02` for an
/// element, else the segment id.
fn companion_key(ann: &str) -> String {
    if let Some(i) = ann.find("Required segment ") {
        return ann[i + 17..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
    }
    if let Some(i) = ann.find("Unknown segment '") {
        return ann[i + 17..].split('\'').next().unwrap_or("").to_string();
    }
    if let Some(i) = ann.find("Element:") {
        let e = ann[i + 8..]
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap_or("");
        return e.to_string();
    }
    if let Some(i) = ann.find("Segment:") {
        return ann[i + 8..]
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_string();
    }
    String::new()
}
