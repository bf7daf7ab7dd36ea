//! Checks that are not per-element layout: envelope fields, date formats named by a
//! qualifier, NPI check digits and 835 balancing (X221A1 section 1.10.2.1).

use crate::delimiters::Delimiters;
use crate::error::{ElementPos, Level, Severity, show};
use crate::guide::{Guide, SegDef};
use crate::tokenizer::{Split, component};
use crate::validate::{Ctx, Sinker};

fn ep(e: u8) -> Option<ElementPos> {
    Some(ElementPos {
        element: e,
        component: 0,
        repetition: 0,
    })
}

/// CCYYMMDD (or YYMMDD) that exists in the calendar.
pub fn valid_date(v: &[u8]) -> bool {
    if !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |s: &[u8]| s.iter().fold(0u32, |a, &b| a * 10 + (b - b'0') as u32);
    let (y, m, d) = match v.len() {
        8 => (num(&v[0..4]), num(&v[4..6]), num(&v[6..8])),
        6 => (2000 + num(&v[0..2]), num(&v[2..4]), num(&v[4..6])),
        _ => return false,
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    d >= 1 && d <= days
}

/// HHMM, HHMMSS, HHMMSSD or HHMMSSDD.
pub fn valid_time(v: &[u8]) -> bool {
    if !matches!(v.len(), 4 | 6 | 7 | 8) || !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let two = |i: usize| (v[i] - b'0') * 10 + (v[i + 1] - b'0');
    two(0) < 24 && two(2) < 60 && (v.len() < 6 || two(4) < 60)
}

/// NPI check digit: Luhn over "80840" + the first 9 digits.
pub fn valid_npi(v: &[u8]) -> bool {
    if v.len() != 10 || !v.iter().all(u8::is_ascii_digit) || !matches!(v[0], b'1' | b'2') {
        return false;
    }
    let mut sum = 24u32; // the 80840 prefix contributes 24
    for (i, &b) in v[..9].iter().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    (10 - sum % 10) % 10 == (v[9] - b'0') as u32
}

fn envelope(
    sk: &mut Sinker<'_>,
    code: &'static str,
    offset: u64,
    e: u8,
    v: &[u8],
    msg: String,
    fix: &str,
) {
    let ctx = Ctx {
        seg: b"ISA",
        pos: 0,
        offset,
        loop_id: "",
    };
    sk.push(
        Severity::Error,
        Level::Interchange,
        code,
        &ctx,
        ep(e),
        Some(v),
        msg,
        fix.to_string(),
    );
}

/// ISA field checks (TA105 note codes).
pub fn check_isa(s: &Split<'_, '_>, offset: u64, sk: &mut Sinker<'_>) {
    const QUALS: &[&[u8]] = &[
        b"01", b"14", b"20", b"27", b"28", b"29", b"30", b"33", b"ZZ",
    ];
    let g = |i| s.get(i);
    if s.len() != 16 {
        envelope(
            sk,
            "022",
            offset,
            16,
            b"",
            format!("ISA has {} elements; it must have exactly 16.", s.len()),
            "Send the 16 ISA elements.",
        );
    }
    if !matches!(g(1), b"00" | b"03") {
        envelope(
            sk,
            "010",
            offset,
            1,
            g(1),
            format!("ISA01 '{}' is not 00 or 03.", show(g(1))),
            "Use 00 (no authorization information).",
        );
    }
    if g(2).len() != 10 {
        envelope(
            sk,
            "011",
            offset,
            2,
            g(2),
            "ISA02 must be exactly 10 characters (spaces when unused).".into(),
            "Pad ISA02 to 10 characters.",
        );
    }
    if !matches!(g(3), b"00" | b"01") {
        envelope(
            sk,
            "012",
            offset,
            3,
            g(3),
            format!("ISA03 '{}' is not 00 or 01.", show(g(3))),
            "Use 00 (no security information).",
        );
    }
    if g(4).len() != 10 {
        envelope(
            sk,
            "013",
            offset,
            4,
            g(4),
            "ISA04 must be exactly 10 characters (spaces when unused).".into(),
            "Pad ISA04 to 10 characters.",
        );
    }
    if !QUALS.contains(&g(5)) {
        envelope(
            sk,
            "005",
            offset,
            5,
            g(5),
            format!(
                "ISA05 sender qualifier '{}' is not a valid code.",
                show(g(5))
            ),
            "Use 01, 14, 20, 27, 28, 29, 30, 33 or ZZ.",
        );
    }
    if g(6).len() != 15 || g(6).iter().all(|&b| b == b' ') {
        envelope(
            sk,
            "006",
            offset,
            6,
            g(6),
            "ISA06 sender id must be 15 characters, padded with spaces, and not blank.".into(),
            "Pad ISA06 to 15 characters.",
        );
    }
    if !QUALS.contains(&g(7)) {
        envelope(
            sk,
            "007",
            offset,
            7,
            g(7),
            format!(
                "ISA07 receiver qualifier '{}' is not a valid code.",
                show(g(7))
            ),
            "Use 01, 14, 20, 27, 28, 29, 30, 33 or ZZ.",
        );
    }
    if g(8).len() != 15 || g(8).iter().all(|&b| b == b' ') {
        envelope(
            sk,
            "008",
            offset,
            8,
            g(8),
            "ISA08 receiver id must be 15 characters, padded with spaces, and not blank.".into(),
            "Pad ISA08 to 15 characters.",
        );
    }
    if g(9).len() != 6 || !valid_date(g(9)) {
        envelope(
            sk,
            "014",
            offset,
            9,
            g(9),
            format!("ISA09 '{}' is not a valid YYMMDD date.", show(g(9))),
            "Write the interchange date as YYMMDD.",
        );
    }
    if g(10).len() != 4 || !valid_time(g(10)) {
        envelope(
            sk,
            "015",
            offset,
            10,
            g(10),
            format!("ISA10 '{}' is not a valid HHMM time.", show(g(10))),
            "Write the interchange time as HHMM.",
        );
    }
    if g(12) != b"00501" {
        let code = if g(12).len() == 5 && g(12).iter().all(u8::is_ascii_digit) {
            "003"
        } else {
            "017"
        };
        envelope(
            sk,
            code,
            offset,
            12,
            g(12),
            format!(
                "ISA12 '{}' is not 00501, the only control version HIPAA 5010 uses.",
                show(g(12))
            ),
            "Set ISA12 to 00501.",
        );
    }
    if g(13).len() != 9 || !g(13).iter().all(u8::is_ascii_digit) {
        envelope(
            sk,
            "018",
            offset,
            13,
            g(13),
            format!("ISA13 '{}' must be a 9-digit control number.", show(g(13))),
            "Use 9 digits, zero-padded, in ISA13.",
        );
    }
    if !matches!(g(14), b"0" | b"1") {
        envelope(
            sk,
            "019",
            offset,
            14,
            g(14),
            format!("ISA14 '{}' must be 0 or 1.", show(g(14))),
            "Set ISA14 to 0 (no TA1 wanted) or 1.",
        );
    }
    if !matches!(g(15), b"P" | b"T") {
        envelope(
            sk,
            "020",
            offset,
            15,
            g(15),
            format!(
                "ISA15 '{}' must be P (production) or T (test).",
                show(g(15))
            ),
            "Set ISA15 to P or T.",
        );
    }
}

/// GS checks that are not about the version (that is decided per transaction set).
pub fn check_gs(s: &Split<'_, '_>, offset: u64, sk: &mut Sinker<'_>) {
    let ctx = Ctx {
        seg: b"GS",
        pos: 0,
        offset,
        loop_id: "",
    };
    let c = s.get(6);
    if c.is_empty() || c.len() > 9 || !c.iter().all(u8::is_ascii_digit) {
        sk.push(
            Severity::Error,
            Level::Group,
            "6",
            &ctx,
            ep(6),
            Some(c),
            format!(
                "GS06 group control number '{}' must be 1 to 9 digits.",
                show(c)
            ),
            "Use a numeric control number in GS06.".into(),
        );
    }
    if s.get(7) != b"X" {
        sk.push(
            Severity::Error,
            Level::Group,
            "1",
            &ctx,
            ep(7),
            Some(s.get(7)),
            format!(
                "GS07 '{}' must be X (Accredited Standards Committee X12).",
                show(s.get(7))
            ),
            "Set GS07 to X.".into(),
        );
    }
    if !crate::rules::valid_date(s.get(4)) || s.get(4).len() != 8 {
        sk.push(
            Severity::Error,
            Level::Group,
            "1",
            &ctx,
            ep(4),
            Some(s.get(4)),
            format!("GS04 '{}' is not a valid CCYYMMDD date.", show(s.get(4))),
            "Write the group date as CCYYMMDD.".into(),
        );
    }
}

/// Qualifier-driven formats and identifier checks inside one segment.
pub fn element_rules(
    sd: &SegDef,
    s: &Split<'_, '_>,
    d: &Delimiters,
    ctx: &Ctx<'_>,
    sk: &mut Sinker<'_>,
) {
    match sd.id {
        "DTP" => date_format(s.get(2), s.get(3), 3, sd.id, ctx, sk),
        "DMG" => date_format(s.get(1), s.get(2), 2, sd.id, ctx, sk),
        "NM1" if s.get(8) == b"XX" && !s.get(9).is_empty() => npi(s.get(9), 9, sd.id, ctx, sk),
        "N1" if s.get(3) == b"XX" && !s.get(4).is_empty() => npi(s.get(4), 4, sd.id, ctx, sk),
        _ => {}
    }
    let _ = d;
}

fn npi(v: &[u8], e: u8, id: &str, ctx: &Ctx<'_>, sk: &mut Sinker<'_>) {
    if !valid_npi(v) {
        sk.push(Severity::Warning, Level::Element, "I12", ctx, ep(e), Some(v),
            format!("{id}{e:02} '{}' is qualified as an NPI (XX) but is not a valid NPI (10 digits starting with 1 or 2 with a Luhn check digit).", show(v)),
            "Check the provider's NPI in NPPES.".into());
    }
}

fn date_format(fmt: &[u8], v: &[u8], e: u8, id: &str, ctx: &Ctx<'_>, sk: &mut Sinker<'_>) {
    if v.is_empty() {
        return;
    }
    let ok = match fmt {
        b"D8" => v.len() == 8 && valid_date(v),
        b"RD8" => match v.iter().position(|&b| b == b'-') {
            Some(i) => {
                let (a, b) = (&v[..i], &v[i + 1..]);
                a.len() == 8 && b.len() == 8 && valid_date(a) && valid_date(b) && a <= b
            }
            None => false,
        },
        b"DT" => v.len() == 12 && valid_date(&v[..8]) && valid_time(&v[8..]),
        _ => true,
    };
    if !ok {
        let want = match fmt {
            b"D8" => "a date CCYYMMDD",
            b"RD8" => "a range CCYYMMDD-CCYYMMDD with the start not after the end",
            _ => "CCYYMMDDHHMM",
        };
        sk.push(
            Severity::Error,
            Level::Element,
            "8",
            ctx,
            ep(e),
            Some(v),
            format!(
                "{id}{e:02} '{}' is not {want}, as its format qualifier {} requires.",
                show(v),
                show(fmt)
            ),
            format!("Write {id}{e:02} as {want}."),
        );
    }
}

/// Amount in cents, rounding anything finer.
fn cents(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let f: f64 = s.parse().ok()?;
    Some((f * 100.0).round() as i64)
}

fn money(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
}

#[derive(Default, Debug)]
struct At {
    pos: u32,
    offset: u64,
    loop_id: &'static str,
}

#[derive(Default, Debug)]
struct Line {
    at: At,
    charge: i64,
    paid: i64,
    adj: i64,
}

#[derive(Default, Debug)]
struct Claim {
    at: At,
    charge: i64,
    paid: i64,
    adj: i64,
    line_adj: i64,
}

/// 835 balancing state for the current transaction set.
#[derive(Default, Debug)]
pub struct Balance {
    active: bool,
    bpr: Option<(At, i64)>,
    claims_paid: i64,
    plb: i64,
    claim: Option<Claim>,
    line: Option<Line>,
}

fn at(ctx: &Ctx<'_>) -> At {
    At {
        pos: ctx.pos,
        offset: ctx.offset,
        loop_id: ctx.loop_id,
    }
}

fn push_balance(sk: &mut Sinker<'_>, seg: &'static [u8], a: &At, e: u8, msg: String, fix: String) {
    let ctx = Ctx {
        seg,
        pos: a.pos,
        offset: a.offset,
        loop_id: a.loop_id,
    };
    sk.push(
        Severity::Error,
        Level::Element,
        "I12",
        &ctx,
        ep(e),
        None,
        msg,
        fix,
    );
}

impl Balance {
    fn close_line(&mut self, sk: &mut Sinker<'_>) {
        if let Some(l) = self.line.take() {
            if l.charge - l.adj != l.paid {
                push_balance(sk, b"SVC", &l.at, 3,
                    format!("Service line does not balance: paid {} (SVC03) should equal the charge {} (SVC02) minus the line adjustments {} = {}.", money(l.paid), money(l.charge), money(l.adj), money(l.charge - l.adj)),
                    "Correct SVC02/SVC03 or the line's CAS amounts so that SVC03 = SVC02 - sum of CAS amounts.".into());
            }
            if let Some(c) = self.claim.as_mut() {
                c.line_adj += l.adj;
            }
        }
    }

    fn close_claim(&mut self, sk: &mut Sinker<'_>) {
        self.close_line(sk);
        if let Some(c) = self.claim.take() {
            let expect = c.charge - c.adj - c.line_adj;
            if expect != c.paid {
                push_balance(sk, b"CLP", &c.at, 4,
                    format!("Claim does not balance: paid {} (CLP04) should equal the charge {} (CLP03) minus claim adjustments {} and line adjustments {} = {}.", money(c.paid), money(c.charge), money(c.adj), money(c.line_adj), money(expect)),
                    "Correct CLP03/CLP04 or the CAS amounts so that CLP04 = CLP03 - all claim and line adjustments.".into());
            }
            self.claims_paid += c.paid;
        }
    }
}

/// Segment hooks for transaction-level rules (only 835 balancing today).
pub fn after_segment(
    b: &mut Balance,
    g: &Guide,
    sd: &SegDef,
    s: &Split<'_, '_>,
    d: &Delimiters,
    ctx: &Ctx<'_>,
    sk: &mut Sinker<'_>,
) {
    if g.set != "835" {
        return;
    }
    b.active = true;
    let amt = |i: usize| cents(s.get(i)).unwrap_or(0);
    match sd.id {
        "BPR" => b.bpr = Some((at(ctx), amt(2))),
        "CLP" => {
            b.close_claim(sk);
            b.claim = Some(Claim {
                at: at(ctx),
                charge: amt(3),
                paid: amt(4),
                ..Default::default()
            });
        }
        "SVC" => {
            b.close_line(sk);
            b.line = Some(Line {
                at: at(ctx),
                charge: amt(2),
                paid: amt(3),
                adj: 0,
            });
        }
        "CAS" => {
            let sum: i64 = [3, 6, 9, 12, 15, 18].iter().map(|&i| amt(i)).sum();
            if ctx.loop_id == "2110" {
                if let Some(l) = b.line.as_mut() {
                    l.adj += sum;
                }
            } else if let Some(c) = b.claim.as_mut() {
                c.adj += sum;
            }
        }
        "LX" | "TS3" | "TS2" => b.close_claim(sk),
        "PLB" => {
            b.close_claim(sk);
            b.plb += [4, 6, 8, 10, 12, 14].iter().map(|&i| amt(i)).sum::<i64>();
        }
        "SE" => end_set(b, sk),
        _ => {}
    }
    let _ = (d, component);
}

/// Closes the open claim and checks BPR02 against the claims and provider adjustments.
pub fn end_set(b: &mut Balance, sk: &mut Sinker<'_>) {
    if !b.active {
        return;
    }
    b.close_claim(sk);
    if let Some((a, total)) = b.bpr.take() {
        let expect = b.claims_paid - b.plb;
        if expect != total {
            push_balance(
                sk,
                b"BPR",
                &a,
                2,
                format!(
                    "Payment does not balance: BPR02 {} should equal the sum of claim payments {} minus provider adjustments (PLB) {} = {}.",
                    money(total),
                    money(b.claims_paid),
                    money(b.plb),
                    money(expect)
                ),
                "Correct BPR02, the CLP04 amounts or the PLB adjustments.".into(),
            );
        }
    }
    b.active = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert!(valid_date(b"20240229"));
        assert!(!valid_date(b"20230229"));
        assert!(!valid_date(b"20241301"));
        assert!(valid_date(b"240101"));
        assert!(valid_time(b"2359"));
        assert!(!valid_time(b"2460"));
        assert!(valid_time(b"235959"));
    }

    #[test]
    fn npi_check_digit() {
        assert!(valid_npi(b"1234567893"));
        assert!(valid_npi(b"1558598797"));
        assert!(!valid_npi(b"1234567890"));
    }

    #[test]
    fn amounts() {
        assert_eq!(cents(b"12.5"), Some(1250));
        assert_eq!(cents(b"-3"), Some(-300));
        assert_eq!(money(-1250), "-12.50");
    }
}
