//! Several interchanges in one input: each read with its own delimiters, in time
//! linear in their number.

use std::time::Instant;
use x12::{Options, validate_bytes};

/// The sample claim with other delimiters: `|` elements, `>` components, `!` segments.
fn other_delimiters(control: u32) -> String {
    x12::samples::claim_837p(1)
        .replace("000000001", &format!("{control:09}"))
        .replace('*', "|")
        .replace(':', ">")
        .replace('~', "!")
}

#[test]
fn second_interchange_read_with_its_own_delimiters() {
    let mut file = x12::samples::claim_837p(1);
    file.push_str(&other_delimiters(2));
    let r = validate_bytes(file.as_bytes(), &Options::default());
    assert!(r.accepted(), "{:?}", r.errors_by_offset());
    assert_eq!(r.interchanges.len(), 2);
    assert_eq!(r.sets, 2);
    // And the first set again after it, back to '*' and '~'.
    file.push_str(&x12::samples::claim_837p(1).replace("000000001", "000000003"));
    let r = validate_bytes(file.as_bytes(), &Options::default());
    assert!(r.accepted(), "{:?}", r.errors_by_offset());
    assert_eq!(r.interchanges.len(), 3);
}

#[test]
fn error_in_second_interchange_found_on_its_own() {
    let mut file = x12::samples::claim_837p(1);
    file.push_str(&other_delimiters(2).replace("DMG|D8|19800101|F", "DMG|D8|19801301|F"));
    let r = validate_bytes(file.as_bytes(), &Options::default());
    let errs = r.errors_by_offset();
    assert_eq!(errs.len(), 1, "only the bad date: {errs:?}");
    assert_eq!(errs[0].segment, "DMG");
}

fn many(n: u32) -> Vec<u8> {
    let mut v = Vec::new();
    x12::samples::write_837p_interchanges(&mut v, n).unwrap();
    v
}

fn best_secs(data: &[u8]) -> f64 {
    (0..2)
        .map(|_| {
            let t = Instant::now();
            let r = validate_bytes(data, &Options::default());
            assert!(r.accepted());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

/// Four times the interchanges must not take much more than four times as long (it took
/// about sixteen: every set summed the kept sets over all interchanges before it).
#[test]
fn time_linear_in_interchanges() {
    let (small, large) = (many(3_000), many(12_000));
    let (a, b) = (best_secs(&small), best_secs(&large));
    assert!(b < a * 7.0, "3,000 interchanges {a:.3} s, 12,000 {b:.3} s");
}
