//! 835 payment and remittance advice (005010X221A1).

use super::write::{Body, Envelope, interchange};
use super::{LoopNode, Party, Person, all};
use serde::{Deserialize, Serialize};

/// One CAS adjustment: group (CO, PR, OA, PI), reason (CARC) and amount.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub group: String,
    pub reason: String,
    pub amount: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinePayment {
    pub procedure: String,
    pub charge: String,
    pub paid: String,
    pub units: String,
    /// CCYYMMDD (DTM*472)
    pub service_date: String,
    pub adjustments: Vec<Adjustment>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPayment {
    /// CLP01 patient control number (the provider's claim id).
    pub claim_id: String,
    /// CLP02: 1 processed as primary, 2 secondary, 4 denied, 22 reversal...
    pub status: String,
    pub charge: String,
    pub paid: String,
    pub patient_responsibility: String,
    /// CLP07 payer claim control number.
    pub payer_claim_id: String,
    pub patient: Person,
    pub adjustments: Vec<Adjustment>,
    pub lines: Vec<LinePayment>,
}

/// A payment (BPR) and the claims it pays.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remittance {
    pub payer: Party,
    /// Payee name and NPI.
    pub payee: Party,
    /// BPR04: CHK, ACH, NON...
    pub method: String,
    /// BPR02 total actual provider payment.
    pub amount: String,
    /// BPR16 CCYYMMDD
    pub date: String,
    /// TRN02 check or EFT trace number.
    pub trace: String,
    pub claims: Vec<ClaimPayment>,
}

fn adjustments(l: &LoopNode) -> Vec<Adjustment> {
    let mut out = Vec::new();
    for cas in l.segs("CAS") {
        for k in 0..6 {
            let reason = cas.el(2 + 3 * k);
            if !reason.is_empty() {
                out.push(Adjustment {
                    group: cas.el(1).to_string(),
                    reason: reason.to_string(),
                    amount: cas.el(3 + 3 * k).to_string(),
                });
            }
        }
    }
    out
}

fn write_cas(b: &mut Body, adj: &[Adjustment]) {
    for a in adj {
        b.s(&["CAS", &a.group, &a.reason, &a.amount]);
    }
}

impl Remittance {
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        let bpr = root.seg("BPR", None)?;
        let n1 = |id: &str| {
            root.child(id)
                .and_then(|l| l.seg("N1", None))
                .map(|s| Party {
                    name: s.el(2).to_string(),
                    id: s.el(4).to_string(),
                })
                .unwrap_or_default()
        };
        let claims = all(root, "2100")
            .into_iter()
            .map(|c| {
                let clp = c.seg("CLP", None);
                let el = |i| clp.map(|s| s.el(i).to_string()).unwrap_or_default();
                let qc = c.seg("NM1", Some("QC"));
                ClaimPayment {
                    claim_id: el(1),
                    status: el(2),
                    charge: el(3),
                    paid: el(4),
                    patient_responsibility: el(5),
                    payer_claim_id: el(7),
                    patient: Person {
                        last: qc.map(|s| s.el(3).to_string()).unwrap_or_default(),
                        first: qc.map(|s| s.el(4).to_string()).unwrap_or_default(),
                        member_id: qc.map(|s| s.el(9).to_string()).unwrap_or_default(),
                        ..Default::default()
                    },
                    adjustments: adjustments(c),
                    lines: c
                        .children("2110")
                        .map(|l| {
                            let svc = l.seg("SVC", None);
                            let e = |i| svc.map(|s| s.el(i).to_string()).unwrap_or_default();
                            LinePayment {
                                procedure: svc
                                    .map(|s| s.comp(1, 2).to_string())
                                    .unwrap_or_default(),
                                charge: e(2),
                                paid: e(3),
                                units: e(5),
                                service_date: l
                                    .seg("DTM", Some("472"))
                                    .map(|s| s.el(2).to_string())
                                    .unwrap_or_default(),
                                adjustments: adjustments(l),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Some(Remittance {
            payer: n1("1000A"),
            payee: n1("1000B"),
            method: bpr.el(4).to_string(),
            amount: bpr.el(2).to_string(),
            date: bpr.el(16).to_string(),
            trace: root
                .seg("TRN", None)
                .map(|s| s.el(2).to_string())
                .unwrap_or_default(),
            claims,
        })
    }

    /// A complete 835 interchange. Amounts are written as given: the validator checks
    /// that they balance.
    pub fn to_x12(&self, env: &Envelope) -> String {
        let mut b = Body::default();
        // BPR01: I (remittance with payment) or H (notification only) when nothing is paid.
        let handling = if self.method == "NON" { "H" } else { "I" };
        let mut bpr = vec!["BPR", handling, &self.amount, "C", &self.method];
        bpr.extend(std::iter::repeat_n("", 11));
        bpr.push(&self.date);
        b.s(&bpr);
        b.s(&["TRN", "1", &self.trace, "1999999999"]);
        b.s(&["N1", "PR", &self.payer.name, "XV", &self.payer.id]);
        b.s(&["N3", "1 PLAN WAY"]);
        b.s(&["N4", "ORANGE", "CA", "92868"]);
        b.s(&["PER", "BL", "EDI SUPPORT", "TE", "5555550100"]);
        b.s(&["N1", "PE", &self.payee.name, "XX", &self.payee.id]);
        if !self.claims.is_empty() {
            b.s(&["LX", "1"]);
        }
        for c in &self.claims {
            b.s(&[
                "CLP",
                &c.claim_id,
                &c.status,
                &c.charge,
                &c.paid,
                &c.patient_responsibility,
                "MC",
                &c.payer_claim_id,
            ]);
            write_cas(&mut b, &c.adjustments);
            let p = &c.patient;
            b.s(&[
                "NM1",
                "QC",
                "1",
                &p.last,
                &p.first,
                "",
                "",
                "",
                if p.member_id.is_empty() { "" } else { "MI" },
                &p.member_id,
            ]);
            for l in &c.lines {
                b.s(&[
                    "SVC",
                    &format!("HC:{}", l.procedure),
                    &l.charge,
                    &l.paid,
                    "",
                    &l.units,
                ]);
                if !l.service_date.is_empty() {
                    b.s(&["DTM", "472", &l.service_date]);
                }
                write_cas(&mut b, &l.adjustments);
            }
        }
        interchange(env, "HP", "835", "005010X221A1", b)
    }
}
