//! Malformed input gives findings, never a panic or unbounded memory.

use std::io::Read;
use x12::{Options, Report, validate, validate_bytes};

fn v(data: &[u8]) -> Report {
    validate_bytes(data, &Options::default())
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.issues()
        .filter(|i| i.is_error())
        .map(|i| i.code)
        .collect()
}

#[test]
fn valid_sample_is_accepted_and_acknowledged() {
    let r = v(x12::samples::claim_837p(3).as_bytes());
    assert!(r.accepted(), "{:?}", r.errors_by_offset());
    let ack = x12::ack::acknowledgement(&r, &x12::ack::AckOptions::default());
    assert!(ack.contains("AK9*A*1*1*1"), "{ack}");
    assert!(
        v(ack.as_bytes()).accepted(),
        "our 999 validates against X231A1"
    );
}

#[test]
fn truncated_at_every_length_never_panics() {
    let full = x12::samples::claim_837p(2);
    // The last two bytes are "~\n": without them only the final terminator is missing,
    // which is a warning.
    let end = full.len() - 2;
    for n in 0..end {
        let r = v(&full.as_bytes()[..n]);
        assert!(!r.accepted(), "a file cut at {n} bytes must be rejected");
    }
    let r = v(&full.as_bytes()[..end]);
    assert!(r.accepted() && r.warnings == 1);
}

#[test]
fn missing_iea_is_ta1_023() {
    let full = x12::samples::claim_837p(1);
    let cut = &full[..full.find("IEA").unwrap()];
    let r = v(cut.as_bytes());
    assert!(codes(&r).contains(&"023"), "{:?}", codes(&r));
    let ack = x12::ack::acknowledgement(&r, &x12::ack::AckOptions::default());
    assert!(ack.contains("TA1*000000001*"), "{ack}");
    assert!(ack.contains("*R*023"), "{ack}");
}

#[test]
fn wrong_terminator_is_reported() {
    // ISA says '~' but segments end with '!': everything after ISA is one giant segment.
    let full = x12::samples::claim_837p(1);
    let mut bad = full.replacen('~', "\u{1}", 1).replace('~', "!");
    bad = bad.replacen('\u{1}', "~", 1);
    let r = v(bad.as_bytes());
    assert!(!r.accepted());
}

#[test]
fn counts_and_control_numbers() {
    let full = x12::samples::claim_837p(1);
    let r = v(full.replace("SE*", "SE*9").as_bytes());
    let first = r.errors_by_offset()[0].clone();
    assert_eq!(first.code, "4");
    assert!(first.message.contains("SE01"));
    let r = v(full.replace("GE*1*1", "GE*2*7").as_bytes());
    assert!(codes(&r).contains(&"5") && codes(&r).contains(&"4"));
    let r = v(full
        .replace("IEA*1*000000001", "IEA*1*000000002")
        .as_bytes());
    assert!(codes(&r).contains(&"001"));
}

#[test]
fn element_errors_name_position_loop_and_fix() {
    let full = x12::samples::claim_837p(1);
    let r = v(full
        .replace("DMG*D8*19800101*F", "DMG*D8*19801301*X")
        .as_bytes());
    let errs = r.errors_by_offset();
    let dmg02 = errs
        .iter()
        .find(|i| i.reference() == "DMG02")
        .expect("bad date reported");
    assert_eq!(dmg02.code, "8");
    assert_eq!(dmg02.loop_id, "2010BA");
    assert!(dmg02.position > 1);
    assert!(!dmg02.fix.is_empty());
    let dmg03 = errs
        .iter()
        .find(|i| i.reference() == "DMG03")
        .expect("bad code reported");
    assert_eq!(dmg03.code, "7");
    let ack = x12::ack::acknowledgement(&r, &x12::ack::AckOptions::default());
    assert!(
        ack.contains(&format!("IK3*DMG*{}*2010*8", dmg02.position)),
        "{ack}"
    );
    assert!(ack.contains("IK4*2**8*19801301"), "{ack}");
    assert!(ack.contains("IK5*R*5"), "{ack}");
}

#[test]
fn bom_is_a_warning() {
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(x12::samples::claim_837p(1).as_bytes());
    let r = v(&data);
    assert!(r.accepted());
    assert!(r.bom);
    assert_eq!(r.warnings, 1);
}

#[test]
fn garbage() {
    for data in [
        &b""[..],
        b"\0\0\0",
        b"ISA",
        b"ISA*00*",
        b"ISA\xff\xfe",
        &[0xff; 300],
    ] {
        assert!(!v(data).accepted());
    }
    let mut isa_then_garbage = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*000000001*0*T*:~".to_vec();
    isa_then_garbage.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
    assert!(!v(&isa_then_garbage).accepted());
}

/// A reader producing an endless-looking interchange: ISA, GS, then `sets` copies of one
/// 837P set, then GE/IEA, generated on the fly (nothing held in memory).
struct Endless {
    head: Vec<u8>,
    body: Vec<u8>,
    tail: Vec<u8>,
    sets: u64,
    emitted: u64,
    pos: usize,
    stage: u8,
}

impl Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let cur: &[u8] = match self.stage {
                0 => &self.head,
                1 => &self.body,
                2 => &self.tail,
                _ => return Ok(0),
            };
            if self.pos < cur.len() {
                let n = out.len().min(cur.len() - self.pos);
                out[..n].copy_from_slice(&cur[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            self.pos = 0;
            match self.stage {
                1 => {
                    self.emitted += 1;
                    if self.emitted >= self.sets {
                        self.stage = 2;
                    }
                }
                s => self.stage = s + 1,
            }
        }
    }
}

fn endless(sets: u64) -> Endless {
    let one = x12::samples::claim_837p(5);
    let st = one.find("ST*").unwrap();
    let ge = one.find("GE*").unwrap();
    Endless {
        head: one.as_bytes()[..st].to_vec(),
        body: one.as_bytes()[st..ge].to_vec(),
        tail: format!("GE*{sets}*1~\nIEA*1*000000001~\n").into_bytes(),
        sets,
        emitted: 0,
        pos: 0,
        stage: 0,
    }
}

#[test]
fn long_stream_is_accepted_with_bounded_report() {
    let r = validate(endless(2_000), &Options::default()).unwrap();
    assert!(r.accepted(), "{:?}", r.errors_by_offset().first());
    assert_eq!(r.sets, 2_000);
}

#[test]
fn giant_segment_is_an_error_not_growth() {
    let mut data = x12::samples::claim_837p(1).into_bytes();
    let at = data.windows(3).position(|w| w == b"NTE").unwrap_or(200);
    let big = vec![b'X'; 5 << 20];
    data.splice(at..at, big);
    let r = validate(
        &data[..],
        &Options {
            max_segment: 1 << 20,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!r.accepted());
    assert!(
        r.issues()
            .any(|i| i.code == "024" && i.message.contains("exceeds")),
        "{:?}",
        r.errors_by_offset()
    );
}

/// Multi-gigabyte input through the streaming reader: `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn three_gigabytes_stream() {
    let one = endless(1).body.len() as u64;
    let sets = (3u64 << 30) / one;
    let r = validate(endless(sets), &Options::default()).unwrap();
    assert!(r.accepted());
    assert!(r.bytes >= sets * one);
    assert_eq!(r.sets, sets);
}
