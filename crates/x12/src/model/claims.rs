//! 837P and 837I claims: billing provider, subscriber, payer, patient, claim and lines.

use super::write::{Body, Envelope, interchange};
use super::{Address, LoopNode, Party, Person, address, all, party, person, write_address};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// 837P, 005010X222A1
    #[default]
    Professional,
    /// 837I, 005010X223A2
    Institutional,
}

/// One service line (loop 2400).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLine {
    /// HCPCS/CPT code (SV101-2 or SV202-2).
    pub procedure: String,
    pub modifiers: Vec<String>,
    /// 837I revenue code (SV201); empty on 837P.
    pub revenue_code: String,
    /// Line charge as sent (decimal text).
    pub charge: String,
    pub units: String,
    /// CCYYMMDD (DTP*472).
    pub service_date: String,
}

/// One claim (loop 2300) with the parties around it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub kind: ClaimKind,
    /// Billing provider name and NPI (2010AA).
    pub billing_provider: Party,
    pub billing_tax_id: String,
    pub billing_address: Address,
    pub subscriber: Person,
    pub payer: Party,
    /// The patient when not the subscriber (2000C), with PAT01 relationship code.
    pub patient: Option<Person>,
    pub relationship: String,
    /// Patient control number (CLM01).
    pub claim_id: String,
    pub total_charge: String,
    /// Place of service (837P) or facility type + bill classification (837I), CLM05-1.
    pub facility_code: String,
    /// Claim frequency (CLM05-3): 1 original, 7 replacement, 8 void.
    pub frequency: String,
    /// ICD-10-CM codes, principal first.
    pub diagnoses: Vec<String>,
    /// 837I statement date (DTP*434, from = to); empty on 837P.
    pub statement_date: String,
    /// Rendering provider NPI (2310B/2310D), when sent.
    pub rendering_npi: String,
    pub lines: Vec<ServiceLine>,
}

impl Claim {
    /// Every claim of a parsed 837 transaction set.
    pub fn all_from_tree(root: &LoopNode, institutional: bool) -> Vec<Claim> {
        let mut out = Vec::new();
        for a in all(root, "2000A") {
            let bp = a.child("2010AA");
            let billing_provider = party(bp);
            let billing_tax_id = bp
                .and_then(|l| {
                    l.seg("REF", Some("EI"))
                        .or_else(|| l.seg("REF", Some("SY")))
                })
                .map(|s| s.el(2).to_string())
                .unwrap_or_default();
            let billing_address = bp.and_then(address).unwrap_or_default();
            for b in a.children("2000B") {
                let subscriber = b.child("2010BA").map(person).unwrap_or_default();
                let payer = party(b.child("2010BB"));
                let base = Claim {
                    kind: if institutional {
                        ClaimKind::Institutional
                    } else {
                        ClaimKind::Professional
                    },
                    billing_provider: billing_provider.clone(),
                    billing_tax_id: billing_tax_id.clone(),
                    billing_address: billing_address.clone(),
                    subscriber,
                    payer,
                    ..Default::default()
                };
                for c in b.children("2300") {
                    out.push(claim(c, base.clone()));
                }
                for p in b.children("2000C") {
                    let mut with_patient = base.clone();
                    with_patient.patient = p.child("2010CA").map(person);
                    with_patient.relationship = p
                        .seg("PAT", None)
                        .map(|s| s.el(1).to_string())
                        .unwrap_or_default();
                    for c in p.children("2300") {
                        out.push(claim(c, with_patient.clone()));
                    }
                }
            }
        }
        out
    }

    /// Writes the claims as one 837 (P or I after the first claim's kind), each claim
    /// under its own billing provider and subscriber levels.
    pub fn to_x12(claims: &[Claim], env: &Envelope) -> String {
        let inst = claims
            .first()
            .is_some_and(|c| c.kind == ClaimKind::Institutional);
        let version = if inst { "005010X223A2" } else { "005010X222A1" };
        let mut b = Body::default();
        b.s(&["BHT", "0019", "00", "B0001", &env.date, &env.time, "CH"]);
        b.s(&[
            "NM1",
            "41",
            "2",
            &env.sender,
            "",
            "",
            "",
            "",
            "46",
            &env.sender,
        ]);
        b.s(&["PER", "IC", "EDI", "TE", "5555550100"]);
        b.s(&[
            "NM1",
            "40",
            "2",
            &env.receiver,
            "",
            "",
            "",
            "",
            "46",
            &env.receiver,
        ]);
        for c in claims {
            let a = b.hl(None, "20", true);
            b.s(&[
                "NM1",
                "85",
                "2",
                &c.billing_provider.name,
                "",
                "",
                "",
                "",
                "XX",
                &c.billing_provider.id,
            ]);
            write_address(&mut b, &Some(c.billing_address.clone()));
            b.s(&["REF", "EI", &c.billing_tax_id]);
            let sub = b.hl(Some(a), "22", c.patient.is_some());
            let rel = if c.patient.is_some() { "" } else { "18" };
            b.s(&["SBR", "P", rel, "", "", "", "", "", "", "CI"]);
            write_person(&mut b, "IL", &c.subscriber);
            b.s(&[
                "NM1",
                "PR",
                "2",
                &c.payer.name,
                "",
                "",
                "",
                "",
                "PI",
                &c.payer.id,
            ]);
            if let Some(p) = &c.patient {
                b.hl(Some(sub), "23", false);
                b.s(&["PAT", &c.relationship]);
                write_person(&mut b, "QC", p);
            }
            let clm05 = format!(
                "{}:{}:{}",
                c.facility_code,
                if inst { "A" } else { "B" },
                c.frequency
            );
            if inst {
                b.s(&[
                    "CLM",
                    &c.claim_id,
                    &c.total_charge,
                    "",
                    "",
                    &clm05,
                    "",
                    "A",
                    "Y",
                    "Y",
                ]);
                b.s(&["DTP", "434", "RD8", &format!("{0}-{0}", c.statement_date)]);
            } else {
                b.s(&[
                    "CLM",
                    &c.claim_id,
                    &c.total_charge,
                    "",
                    "",
                    &clm05,
                    "Y",
                    "A",
                    "Y",
                    "Y",
                ]);
            }
            if let Some((first, rest)) = c.diagnoses.split_first() {
                if inst {
                    b.s(&["HI", &format!("ABK:{first}")]);
                    for chunk in rest.chunks(12) {
                        let mut parts: Vec<String> = vec!["HI".into()];
                        parts.extend(chunk.iter().map(|d| format!("ABF:{d}")));
                        b.s(&parts.iter().map(String::as_str).collect::<Vec<_>>());
                    }
                } else {
                    let mut parts: Vec<String> = vec!["HI".into(), format!("ABK:{first}")];
                    parts.extend(rest.iter().take(11).map(|d| format!("ABF:{d}")));
                    b.s(&parts.iter().map(String::as_str).collect::<Vec<_>>());
                }
            }
            if !c.rendering_npi.is_empty() {
                b.s(&[
                    "NM1",
                    "82",
                    "1",
                    "RENDERING",
                    "PROVIDER",
                    "",
                    "",
                    "",
                    "XX",
                    &c.rendering_npi,
                ]);
            }
            for (i, l) in c.lines.iter().enumerate() {
                b.s(&["LX", &(i + 1).to_string()]);
                let mut proc = format!("HC:{}", l.procedure);
                for m in &l.modifiers {
                    proc.push(':');
                    proc.push_str(m);
                }
                if inst {
                    b.s(&["SV2", &l.revenue_code, &proc, &l.charge, "UN", &l.units]);
                } else {
                    b.s(&["SV1", &proc, &l.charge, "UN", &l.units, "", "", "1"]);
                }
                if !l.service_date.is_empty() {
                    b.s(&["DTP", "472", "D8", &l.service_date]);
                }
            }
        }
        interchange(env, "HC", "837", version, b)
    }
}

fn write_person(b: &mut Body, entity: &str, p: &Person) {
    // 2010CA has no identifier in 5010 (NM108/NM109 not used): the patient is found
    // through the subscriber.
    let (q, id) = if p.member_id.is_empty() || entity == "QC" {
        ("", "")
    } else {
        ("MI", p.member_id.as_str())
    };
    b.s(&["NM1", entity, "1", &p.last, &p.first, "", "", "", q, id]);
    write_address(b, &p.address);
    if !p.dob.is_empty() {
        b.s(&["DMG", "D8", &p.dob, &p.gender]);
    }
}

fn claim(c: &LoopNode, mut base: Claim) -> Claim {
    if let Some(clm) = c.seg("CLM", None) {
        base.claim_id = clm.el(1).to_string();
        base.total_charge = clm.el(2).to_string();
        base.facility_code = clm.comp(5, 1).to_string();
        base.frequency = clm.comp(5, 3).to_string();
    }
    for hi in c.segs("HI") {
        for e in &hi.elements {
            let mut parts = e.split(':');
            if let (Some(q), Some(code)) = (parts.next(), parts.next())
                && matches!(q, "ABK" | "ABF" | "BK" | "BF")
            {
                base.diagnoses.push(code.to_string());
            }
        }
    }
    base.statement_date = c
        .seg("DTP", Some("434"))
        .map(|s| s.el(3).split('-').next().unwrap_or("").to_string())
        .unwrap_or_default();
    base.rendering_npi = c
        .child("2310B")
        .or_else(|| c.child("2310D"))
        .and_then(|l| l.seg("NM1", Some("82")))
        .map(|s| s.el(9).to_string())
        .unwrap_or_default();
    for l in c.children("2400") {
        let mut line = ServiceLine::default();
        if let Some(sv) = l.seg("SV1", None) {
            line.procedure = sv.comp(1, 2).to_string();
            line.modifiers = (3..=6)
                .map(|i| sv.comp(1, i).to_string())
                .filter(|m| !m.is_empty())
                .collect();
            line.charge = sv.el(2).to_string();
            line.units = sv.el(4).to_string();
        } else if let Some(sv) = l.seg("SV2", None) {
            line.revenue_code = sv.el(1).to_string();
            line.procedure = sv.comp(2, 2).to_string();
            line.modifiers = (3..=6)
                .map(|i| sv.comp(2, i).to_string())
                .filter(|m| !m.is_empty())
                .collect();
            line.charge = sv.el(3).to_string();
            line.units = sv.el(5).to_string();
        }
        line.service_date = l
            .seg("DTP", Some("472"))
            .map(|s| s.el(3).to_string())
            .unwrap_or_default();
        base.lines.push(line);
    }
    base
}
