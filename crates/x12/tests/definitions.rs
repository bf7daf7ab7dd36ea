//! Guide definitions checked against the TR3 tables: each case is a set the TR3 accepts
//! (or refuses) that a mistranscribed guide line decided the other way.

use x12::{Options, Report, validate_bytes};

/// One interchange with one transaction set made of `body` (ST and SE added, counted).
fn set(fid: &str, version: &str, st01: &str, body: &[&str]) -> String {
    let mut s = x12::samples::envelope_head(fid, version, 7);
    s.push_str(&format!("ST*{st01}*0001*{version}~\n"));
    for seg in body {
        s.push_str(seg);
        s.push_str("~\n");
    }
    s.push_str(&format!("SE*{}*0001~\n", body.len() + 2));
    s.push_str(&x12::samples::envelope_tail(1, 7));
    s
}

fn errors(r: &Report) -> Vec<String> {
    r.errors_by_offset()
        .iter()
        .map(|i| format!("{} {:?} {}", i.segment, i.element, i.message))
        .collect()
}

fn with(base: &str, after: &str, extra: &str) -> String {
    base.replacen(after, &format!("{after}{extra}"), 1)
}

/// 837P: X222A1 2300 CR2 has CR208 required (patient condition code), CR209 not used.
#[test]
fn cr2_patient_condition_is_cr208() {
    let claim = x12::samples::claim_837p(1);
    let at = "HI*ABK:J069*ABF:R509~\n";
    let good = claim.replacen(at, &format!("CR2********M~\n{at}"), 1);
    let good = fix_se(&good);
    let r = validate_bytes(good.as_bytes(), &Options::default());
    assert!(
        r.accepted(),
        "CR2*...*M (CR208) is what X222A1 wants: {:?}",
        errors(&r)
    );
    let bad = claim.replacen(at, &format!("CR2*********Y~\n{at}"), 1);
    let r = validate_bytes(fix_se(&bad).as_bytes(), &Options::default());
    assert!(!r.accepted(), "CR209 is not used and CR208 is required");
}

/// Recounts SE01 of a one-set sample after inserting segments.
fn fix_se(file: &str) -> String {
    let st = file.find("\nST*").unwrap() + 1;
    let se = file.find("\nSE*").unwrap() + 1;
    let n = file[st..se].matches('~').count() + 1;
    let end = se + file[se..].find('*').unwrap() + 1;
    let end2 = end + file[end..].find('*').unwrap();
    format!("{}{n}{}", &file[..end], &file[end2..])
}

const R278: &[&str] = &[
    "BHT*0007*11*A12345*20240502*1102*18",
    "HL*1**20*1",
    "NM1*X3*2*HEALTH PLAN*****PI*789312",
    "HL*2*1*21*1",
    "NM1*1P*1*GARDENER*JAMES****XX*1234567893",
    "HL*3*2*22*1",
    "NM1*IL*1*SMITH*JOE****MI*12345678901",
    "HL*4*3*EV*0",
    "TRN*2*111099*9012345678",
    "UM*SC*I*3*11:B",
    "HCR*A1*AUTH0001",
];

fn r278(edit: impl Fn(&mut Vec<String>)) -> Report {
    let mut segs: Vec<String> = R278.iter().map(|s| s.to_string()).collect();
    edit(&mut segs);
    let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let f = set("HI", "005010X217", "278", &refs);
    validate_bytes(f.as_bytes(), &Options::default())
}

#[test]
fn base_278_response_is_valid() {
    let r = r278(|_| {});
    assert!(r.accepted(), "{:?}", errors(&r));
}

/// X217 UM06 (level of service, 1338) is ID 1/3: `03` is emergency.
#[test]
fn um06_emergency_03() {
    let r = r278(|s| s[9] = "UM*SC*I*3*11:B**03".into());
    assert!(r.accepted(), "{:?}", errors(&r));
}

/// X217 response 2010C REF: EJ (patient account number) is one of its qualifiers.
#[test]
fn response_2010c_ref_ej() {
    let r = r278(|s| s.insert(7, "REF*EJ*12345".into()));
    assert!(r.accepted(), "{:?}", errors(&r));
}

/// X217 2000E CR1: CR103 (ambulance transport code) is used.
#[test]
fn response_2000e_cr103() {
    let r = r278(|s| s.push("CR1*LB*140*I*A*DH*12".into()));
    assert!(r.accepted(), "{:?}", errors(&r));
}

const CA: &[&str] = &[
    "BHT*0085*08*A1*20240502*1102*TH",
    "HL*1**20*1",
    "NM1*PR*2*HEALTH PLAN*****PI*789312",
    "TRN*1*A1",
    "DTP*050*D8*20240502",
    "DTP*009*D8*20240502",
    "HL*2*1*21*1",
    "NM1*41*2*CLEARINGHOUSE*****46*CH1",
    "TRN*2*B1",
    "STC*A1:20*20240502*WQ*100",
    "HL*3*2*19*0",
    "NM1*85*2*CLINIC*****XX*1234567893",
    "TRN*1*C1",
    "STC*A1:20*20240502*WQ*100",
    "REF*TJ*123456789",
    "QTY*QA*1",
    "AMT*YU*100",
];

/// X214 2200C: TRN, STC, REF, QTY, AMT in that order.
#[test]
fn ca_2200c_ref_after_stc() {
    let f = set("HN", "005010X214", "277", CA);
    let r = validate_bytes(f.as_bytes(), &Options::default());
    assert!(r.accepted(), "{:?}", errors(&r));
}

/// X222A1 2010AB (pay-to address): NM103-NM109 are not used.
#[test]
fn pay_to_address_nm103_not_used() {
    let claim = x12::samples::claim_837p(1);
    let at = "REF*EI*123456789~\n";
    let ok = fix_se(&with(
        &claim,
        at,
        "NM1*87*2~\nN3*PO BOX 1~\nN4*IRVINE*CA*926021234~\n",
    ));
    let r = validate_bytes(ok.as_bytes(), &Options::default());
    assert!(r.accepted(), "{:?}", errors(&r));
    let bad = fix_se(&with(
        &claim,
        at,
        "NM1*87*2*CLINIC~\nN3*PO BOX 1~\nN4*IRVINE*CA*926021234~\n",
    ));
    let r = validate_bytes(bad.as_bytes(), &Options::default());
    assert!(!r.accepted(), "NM103 in 2010AB is not used");
}
