//! Synthetic, valid HIPAA files for tests, examples and the benchmark. All names,
//! identifiers and NPIs are made up (the NPIs pass the check digit).

use std::io::{self, Write};

/// ISA/GS header for a file of `functional_id` groups in `version`.
pub fn envelope_head(functional_id: &str, version: &str, control: u32) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*PORTALSUBMIT   *ZZ*HEALTHPLAN     *240115*1200*^*00501*{control:09}*0*T*:~\n\
         GS*{functional_id}*PORTALSUBMIT*HEALTHPLAN*20240115*1200*{control}*X*{version}~\n"
    )
}

/// GE/IEA trailer matching `envelope_head`.
pub fn envelope_tail(sets: usize, control: u32) -> String {
    format!("GE*{sets}*{control}~\nIEA*1*{control:09}~\n")
}

fn claim_set(out: &mut String, ctl: usize, claims: usize) {
    let start = out.len();
    let _ = start;
    let mut segs: Vec<String> = vec![
        format!("ST*837*{ctl:04}*005010X222A1"),
        format!("BHT*0019*00*B{ctl}*20240115*1200*CH"),
        "NM1*41*2*PORTAL CLEARINGHOUSE*****46*PPCH001".into(),
        "PER*IC*EDI DESK*TE*5555551234".into(),
        "NM1*40*2*HEALTH PLAN*****46*HP0001".into(),
        "HL*1**20*1".into(),
        "PRV*BI*PXC*207Q00000X".into(),
        "NM1*85*2*FAMILY CLINIC*****XX*1234567893".into(),
        "N3*100 MAIN ST".into(),
        "N4*SANTA ANA*CA*927011234".into(),
        "REF*EI*123456789".into(),
        "HL*2*1*22*0".into(),
        "SBR*P*18*GRP001******CI".into(),
        format!("NM1*IL*1*DOE*JANE****MI*M{ctl:08}"),
        "N3*1 ELM ST".into(),
        "N4*IRVINE*CA*92602".into(),
        "DMG*D8*19800101*F".into(),
        "NM1*PR*2*HEALTH PLAN*****PI*HP0001".into(),
    ];
    for c in 0..claims {
        segs.push(format!("CLM*PCN{ctl}X{c}*150***11:B:1*Y*A*Y*Y"));
        segs.push("HI*ABK:J069*ABF:R509".into());
        segs.push("NM1*82*1*SMITH*JOHN****XX*1558598797".into());
        segs.push("LX*1".into());
        segs.push("SV1*HC:99213*100*UN*1***1:2".into());
        segs.push("DTP*472*D8*20240110".into());
        segs.push("LX*2".into());
        segs.push("SV1*HC:87880*50*UN*1***1".into());
        segs.push("DTP*472*D8*20240110".into());
    }
    let n = segs.len() + 1;
    segs.push(format!("SE*{n}*{ctl:04}"));
    for s in segs {
        out.push_str(&s);
        out.push_str("~\n");
    }
}

/// One interchange with one 837P transaction set of `claims` claims (at most 100).
pub fn claim_837p(claims: usize) -> String {
    let mut s = envelope_head("HC", "005010X222A1", 1);
    claim_set(&mut s, 1, claims);
    s.push_str(&envelope_tail(1, 1));
    s
}

/// Writes one interchange of 837P transaction sets (`claims_per_set` claims each) until
/// at least `bytes` have been written. Returns the bytes written.
pub fn write_837p<W: Write>(mut w: W, bytes: u64, claims_per_set: usize) -> io::Result<u64> {
    let head = envelope_head("HC", "005010X222A1", 1);
    w.write_all(head.as_bytes())?;
    let mut written = head.len() as u64;
    let mut sets = 0;
    let mut buf = String::with_capacity(64 * 1024);
    while written < bytes {
        sets += 1;
        buf.clear();
        claim_set(&mut buf, sets, claims_per_set);
        w.write_all(buf.as_bytes())?;
        written += buf.len() as u64;
    }
    let tail = envelope_tail(sets, 1);
    w.write_all(tail.as_bytes())?;
    Ok(written + tail.len() as u64)
}

/// Writes `n` interchanges of one 837P claim each (ISA13 1..=n), one after the other,
/// as a clearinghouse batch of single-claim files looks. Returns the bytes written.
pub fn write_837p_interchanges<W: Write>(mut w: W, n: u32) -> io::Result<u64> {
    let mut written = 0u64;
    let mut buf = String::with_capacity(4096);
    for i in 1..=n {
        buf.clear();
        buf.push_str(&envelope_head("HC", "005010X222A1", i));
        claim_set(&mut buf, 1, 1);
        buf.push_str(&envelope_tail(1, i));
        w.write_all(buf.as_bytes())?;
        written += buf.len() as u64;
    }
    Ok(written)
}
