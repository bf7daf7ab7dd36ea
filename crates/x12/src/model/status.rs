//! 276 claim status request, 277 response (005010X212) and 277CA claim
//! acknowledgement (005010X214).

use super::write::{Body, Envelope, interchange};
use super::{LoopNode, Party, Person, all, party, person};
use serde::{Deserialize, Serialize};

/// One claim asked about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusQuery {
    pub trace: String,
    /// Patient control number (REF*EJ).
    pub claim_id: String,
    /// Payer claim control number (REF*1K).
    pub payer_claim_id: String,
    /// AMT*T3 total submitted charges.
    pub charge: String,
    /// CCYYMMDD or CCYYMMDD-CCYYMMDD.
    pub service_date: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    pub payer: Party,
    pub receiver: Party,
    /// Provider of service name and NPI.
    pub provider: Party,
    pub subscriber: Person,
    pub queries: Vec<StatusQuery>,
}

/// One STC answer about a claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimStatus {
    pub trace: String,
    /// STC01-1 category (A1 acknowledged, F1 finalized/paid, P1 pending...).
    pub category: String,
    /// STC01-2 status code (claim status codes, code source 508).
    pub code: String,
    /// STC01-3 entity, when the code needs one.
    pub entity: String,
    /// STC02 CCYYMMDD
    pub date: String,
    pub charge: String,
    pub paid: String,
    pub claim_id: String,
    pub payer_claim_id: String,
    /// 277CA: the patient of the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Person>,
    /// 277: STC06 adjudication or payment date (CCYYMMDD).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub adjudicated: String,
    /// 277: STC07 payment method (ACH, BOP, CHK, NON).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payment_method: String,
    /// 277: STC08 check issue or EFT effective date (CCYYMMDD).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payment_date: String,
    /// 277: STC09 check or EFT trace number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub check_number: String,
    /// 277: DTP*472 claim service date, CCYYMMDD or CCYYMMDD-CCYYMMDD.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_date: String,
    /// 277: per-line status (2220D).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineStatus>,
}

/// One service line's status in a 277 (2220D: SVC, STC, REF*FJ, DTP*472).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineStatus {
    /// SVC01: qualifier and code with modifiers, e.g. `HC:99214:25`.
    pub procedure: String,
    /// SVC02 line charge.
    pub charge: String,
    /// SVC03 line payment.
    pub paid: String,
    /// SVC04 revenue code (institutional).
    pub revenue_code: String,
    /// SVC07 original units of service.
    pub units: String,
    pub category: String,
    pub code: String,
    /// REF*FJ line item control number.
    pub line_id: String,
    /// DTP*472, CCYYMMDD or CCYYMMDD-CCYYMMDD.
    pub service_date: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    pub payer: Party,
    pub receiver: Party,
    pub provider: Party,
    pub subscriber: Person,
    pub statuses: Vec<ClaimStatus>,
}

/// 277CA: which claims of a batch were accepted into adjudication or rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimAck {
    pub payer: Party,
    pub receiver: Party,
    pub billing_provider: Party,
    /// CCYYMMDD the batch was received.
    pub received: String,
    pub claims: Vec<ClaimStatus>,
}

fn refv(l: &LoopNode, q: &str) -> String {
    l.seg("REF", Some(q))
        .map(|s| s.el(2).to_string())
        .unwrap_or_default()
}

fn status_of(l: &LoopNode) -> ClaimStatus {
    let stc = l.seg("STC", None);
    ClaimStatus {
        trace: l
            .seg("TRN", None)
            .map(|s| s.el(2).to_string())
            .unwrap_or_default(),
        category: stc.map(|s| s.comp(1, 1).to_string()).unwrap_or_default(),
        code: stc.map(|s| s.comp(1, 2).to_string()).unwrap_or_default(),
        entity: stc.map(|s| s.comp(1, 3).to_string()).unwrap_or_default(),
        date: stc.map(|s| s.el(2).to_string()).unwrap_or_default(),
        charge: stc.map(|s| s.el(4).to_string()).unwrap_or_default(),
        paid: stc.map(|s| s.el(5).to_string()).unwrap_or_default(),
        claim_id: refv(l, "EJ"),
        payer_claim_id: refv(l, "1K"),
        patient: None,
        adjudicated: stc.map(|s| s.el(6).to_string()).unwrap_or_default(),
        payment_method: stc.map(|s| s.el(7).to_string()).unwrap_or_default(),
        payment_date: stc.map(|s| s.el(8).to_string()).unwrap_or_default(),
        check_number: stc.map(|s| s.el(9).to_string()).unwrap_or_default(),
        service_date: l
            .seg("DTP", Some("472"))
            .map(|s| s.el(3).to_string())
            .unwrap_or_default(),
        lines: l
            .children("2220D")
            .map(|v| {
                let svc = v.seg("SVC", None);
                let stc = v.seg("STC", None);
                let el =
                    |s: Option<&super::Seg>, i| s.map(|s| s.el(i).to_string()).unwrap_or_default();
                LineStatus {
                    procedure: el(svc, 1),
                    charge: el(svc, 2),
                    paid: el(svc, 3),
                    revenue_code: el(svc, 4),
                    units: el(svc, 7),
                    category: stc.map(|s| s.comp(1, 1).to_string()).unwrap_or_default(),
                    code: stc.map(|s| s.comp(1, 2).to_string()).unwrap_or_default(),
                    line_id: refv(v, "FJ"),
                    service_date: v
                        .seg("DTP", Some("472"))
                        .map(|s| s.el(3).to_string())
                        .unwrap_or_default(),
                }
            })
            .collect(),
    }
}

fn subscriber_of(root: &LoopNode) -> Person {
    let d = all(root, "2000D").first().copied();
    let mut p = d
        .and_then(|d| d.child("2100D"))
        .map(person)
        .unwrap_or_default();
    if let Some(dmg) = d.and_then(|d| d.seg("DMG", None)) {
        p.dob = dmg.el(2).to_string();
        p.gender = dmg.el(3).to_string();
    }
    p
}

fn header(b: &mut Body, payer: &Party, receiver: &Party, provider: &Party, sub: &Person) {
    let a = b.hl(None, "20", true);
    b.s(&[
        "NM1",
        "PR",
        "2",
        &payer.name,
        "",
        "",
        "",
        "",
        "PI",
        &payer.id,
    ]);
    let r = b.hl(Some(a), "21", true);
    b.s(&[
        "NM1",
        "41",
        "2",
        &receiver.name,
        "",
        "",
        "",
        "",
        "46",
        &receiver.id,
    ]);
    let p = b.hl(Some(r), "19", true);
    b.s(&[
        "NM1",
        "1P",
        "2",
        &provider.name,
        "",
        "",
        "",
        "",
        "XX",
        &provider.id,
    ]);
    b.hl(Some(p), "22", false);
    if !sub.dob.is_empty() {
        b.s(&["DMG", "D8", &sub.dob, &sub.gender]);
    }
    b.s(&[
        "NM1",
        "IL",
        "1",
        &sub.last,
        &sub.first,
        "",
        "",
        "",
        "MI",
        &sub.member_id,
    ]);
}

fn date_parts(d: &str) -> (&'static str, &str) {
    if d.contains('-') {
        ("RD8", d)
    } else {
        ("D8", d)
    }
}

impl StatusRequest {
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        let queries = all(root, "2200D")
            .into_iter()
            .map(|l| StatusQuery {
                trace: l
                    .seg("TRN", None)
                    .map(|s| s.el(2).to_string())
                    .unwrap_or_default(),
                claim_id: refv(l, "EJ"),
                payer_claim_id: refv(l, "1K"),
                charge: l
                    .seg("AMT", Some("T3"))
                    .map(|s| s.el(2).to_string())
                    .unwrap_or_default(),
                service_date: l
                    .seg("DTP", Some("472"))
                    .map(|s| s.el(3).to_string())
                    .unwrap_or_default(),
            })
            .collect();
        Some(StatusRequest {
            payer: party(all(root, "2100A").first().copied()),
            receiver: party(all(root, "2100B").first().copied()),
            provider: party(all(root, "2100C").first().copied()),
            subscriber: subscriber_of(root),
            queries,
        })
    }

    /// A complete 276 interchange.
    pub fn to_x12(&self, env: &Envelope) -> String {
        let mut b = Body::default();
        b.s(&["BHT", "0010", "13", "R0001", &env.date, &env.time]);
        header(
            &mut b,
            &self.payer,
            &self.receiver,
            &self.provider,
            &self.subscriber,
        );
        for q in &self.queries {
            b.s(&["TRN", "1", &q.trace]);
            if !q.payer_claim_id.is_empty() {
                b.s(&["REF", "1K", &q.payer_claim_id]);
            }
            if !q.claim_id.is_empty() {
                b.s(&["REF", "EJ", &q.claim_id]);
            }
            if !q.charge.is_empty() {
                b.s(&["AMT", "T3", &q.charge]);
            }
            if !q.service_date.is_empty() {
                let (f, d) = date_parts(&q.service_date);
                b.s(&["DTP", "472", f, d]);
            }
        }
        interchange(env, "HR", "276", "005010X212", b)
    }
}

impl StatusResponse {
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        Some(StatusResponse {
            payer: party(all(root, "2100A").first().copied()),
            receiver: party(all(root, "2100B").first().copied()),
            provider: party(all(root, "2100C").first().copied()),
            subscriber: subscriber_of(root),
            statuses: all(root, "2200D").into_iter().map(status_of).collect(),
        })
    }

    /// A complete 277 interchange.
    pub fn to_x12(&self, env: &Envelope) -> String {
        let mut b = Body::default();
        b.s(&["BHT", "0010", "08", "R0001", &env.date, &env.time, "DG"]);
        let mut sub = self.subscriber.clone();
        sub.dob.clear();
        header(&mut b, &self.payer, &self.receiver, &self.provider, &sub);
        for s in &self.statuses {
            b.s(&["TRN", "2", &s.trace]);
            let stc1 = stc01(s);
            b.s(&[
                "STC",
                &stc1,
                &s.date,
                "",
                &s.charge,
                &s.paid,
                &s.adjudicated,
                &s.payment_method,
                &s.payment_date,
                &s.check_number,
            ]);
            if !s.payer_claim_id.is_empty() {
                b.s(&["REF", "1K", &s.payer_claim_id]);
            }
            if !s.claim_id.is_empty() {
                b.s(&["REF", "EJ", &s.claim_id]);
            }
            if !s.service_date.is_empty() {
                let (f, d) = date_parts(&s.service_date);
                b.s(&["DTP", "472", f, d]);
            }
            for l in &s.lines {
                b.s(&[
                    "SVC",
                    &l.procedure,
                    &l.charge,
                    &l.paid,
                    &l.revenue_code,
                    "",
                    "",
                    &l.units,
                ]);
                let mut stc = format!("{}:{}", l.category, l.code);
                if stc == ":" {
                    stc.clear();
                }
                b.s(&["STC", &stc, &s.date]);
                if !l.line_id.is_empty() {
                    b.s(&["REF", "FJ", &l.line_id]);
                }
                let (f, d) = date_parts(&l.service_date);
                b.s(&["DTP", "472", f, d]);
            }
        }
        interchange(env, "HN", "277", "005010X212", b)
    }
}

fn stc01(s: &ClaimStatus) -> String {
    let mut v = format!("{}:{}", s.category, s.code);
    if !s.entity.is_empty() {
        v.push(':');
        v.push_str(&s.entity);
    }
    v
}

impl ClaimAck {
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        let claims = all(root, "2000D")
            .into_iter()
            .flat_map(|d| {
                let p = d.child("2100D").map(person);
                d.children("2200D")
                    .map(move |l| ClaimStatus {
                        patient: p.clone(),
                        ..status_of(l)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        Some(ClaimAck {
            payer: party(all(root, "2100A").first().copied()),
            receiver: party(all(root, "2100B").first().copied()),
            billing_provider: party(all(root, "2100C").first().copied()),
            received: all(root, "2200A")
                .first()
                .and_then(|l| l.seg("DTP", Some("050")))
                .map(|s| s.el(3).to_string())
                .unwrap_or_default(),
            claims,
        })
    }

    /// A complete 277CA interchange: each claim under the billing provider, with its
    /// own patient level.
    pub fn to_x12(&self, env: &Envelope) -> String {
        let mut b = Body::default();
        b.s(&["BHT", "0085", "08", "A0001", &env.date, &env.time, "TH"]);
        let a = b.hl(None, "20", true);
        b.s(&[
            "NM1",
            "PR",
            "2",
            &self.payer.name,
            "",
            "",
            "",
            "",
            "PI",
            &self.payer.id,
        ]);
        b.s(&["TRN", "1", "A0001"]);
        b.s(&["DTP", "050", "D8", &self.received]);
        b.s(&["DTP", "009", "D8", &env.date]);
        let r = b.hl(Some(a), "21", true);
        b.s(&[
            "NM1",
            "41",
            "2",
            &self.receiver.name,
            "",
            "",
            "",
            "",
            "46",
            &self.receiver.id,
        ]);
        b.s(&["TRN", "2", "A0001"]);
        let p = b.hl(Some(r), "19", !self.claims.is_empty());
        b.s(&[
            "NM1",
            "85",
            "2",
            &self.billing_provider.name,
            "",
            "",
            "",
            "",
            "XX",
            &self.billing_provider.id,
        ]);
        for c in &self.claims {
            b.hl(Some(p), "PT", false);
            let pat = c.patient.clone().unwrap_or_default();
            b.s(&[
                "NM1",
                "QC",
                "1",
                &pat.last,
                &pat.first,
                "",
                "",
                "",
                "MI",
                &pat.member_id,
            ]);
            b.s(&["TRN", "2", &c.trace]);
            let action = if c.category.starts_with("A3") || c.category.starts_with("A7") {
                "U"
            } else {
                "WQ"
            };
            // 277CA carries the patient control number in TRN02 and no paid amount.
            b.s(&["STC", &stc01(c), &c.date, action, &c.charge]);
            if !c.payer_claim_id.is_empty() {
                b.s(&["REF", "1K", &c.payer_claim_id]);
            }
        }
        interchange(env, "HN", "277", "005010X214", b)
    }
}
