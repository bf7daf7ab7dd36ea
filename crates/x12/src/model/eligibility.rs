//! 270 eligibility inquiry and 271 response (005010X279A1).

use super::write::{Body, Envelope, interchange};
use super::{LoopNode, Party, Person, all, party, person, write_address};
use serde::{Deserialize, Serialize};

/// What the portal asks: is this member covered on this date for these services?
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityRequest {
    pub payer_name: String,
    pub payer_id: String,
    pub provider_name: String,
    pub provider_npi: String,
    pub subscriber: Person,
    /// TRN02, echoed in the 271.
    pub trace: String,
    /// CCYYMMDD (DTP*291); empty for "today".
    pub date_of_service: String,
    /// Service type codes (EQ01), e.g. 30 = health benefit plan coverage.
    pub service_types: Vec<String>,
}

/// One EB segment (with its MSG lines and primary care provider when sent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    /// EB01: 1 active coverage, 6 inactive, A co-insurance, B co-payment, C deductible...
    pub info: String,
    /// EB02: IND, FAM...
    pub coverage_level: String,
    pub service_types: Vec<String>,
    /// EB04: MC Medicaid, HM HMO...
    pub insurance_type: String,
    /// EB05: plan name.
    pub plan: String,
    /// EB06 time period qualifier.
    pub period: String,
    /// EB07 amount.
    pub amount: String,
    /// EB08 percent.
    pub percent: String,
    /// EB12: Y in network, N out of network, W not applicable.
    pub in_network: String,
    pub messages: Vec<String>,
    /// Primary care provider (2120C NM1*P3): name and NPI.
    pub pcp: Option<Party>,
}

/// An AAA rejection: the request could not be answered, why and what to do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// Loop of the AAA (2100A payer, 2100B provider, 2100C subscriber...).
    pub loop_id: String,
    /// AAA03 reject reason (e.g. 72 invalid member id, 75 subscriber not found).
    pub reason: String,
    /// AAA04 follow-up action (C please correct and resubmit, N resubmission not allowed...).
    pub follow_up: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityResponse {
    pub payer: Party,
    pub provider: Party,
    pub subscriber: Person,
    pub trace: String,
    pub benefits: Vec<Benefit>,
    pub rejects: Vec<Reject>,
}

fn trn_value(l: &LoopNode) -> String {
    l.seg("TRN", None)
        .map(|s| s.el(2).to_string())
        .unwrap_or_default()
}

impl EligibilityRequest {
    /// Reads the first subscriber of a 270.
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        let payer = party(all(root, "2100A").first().copied());
        let provider = party(all(root, "2100B").first().copied());
        let c = *all(root, "2000C").first()?;
        let name = c.child("2100C")?;
        let mut dos = name
            .seg("DTP", Some("291"))
            .map(|s| s.el(3).to_string())
            .unwrap_or_default();
        let eqs: Vec<&LoopNode> = name.children("2110C").collect();
        if dos.is_empty() {
            dos = eqs
                .iter()
                .find_map(|l| l.seg("DTP", Some("291")))
                .map(|s| s.el(3).to_string())
                .unwrap_or_default();
        }
        let service_types = eqs
            .iter()
            .filter_map(|l| l.seg("EQ", None))
            .flat_map(|s| s.el(1).split('^').map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect();
        Some(EligibilityRequest {
            payer_name: payer.name,
            payer_id: payer.id,
            provider_name: provider.name,
            provider_npi: provider.id,
            subscriber: person(name),
            trace: trn_value(c),
            date_of_service: dos,
            service_types,
        })
    }

    /// A complete 270 interchange.
    pub fn to_x12(&self, env: &Envelope) -> String {
        let mut b = Body::default();
        b.s(&["BHT", "0022", "13", &self.trace, &env.date, &env.time]);
        let a = b.hl(None, "20", true);
        b.s(&[
            "NM1",
            "PR",
            "2",
            &self.payer_name,
            "",
            "",
            "",
            "",
            "PI",
            &self.payer_id,
        ]);
        let r = b.hl(Some(a), "21", true);
        b.s(&[
            "NM1",
            "1P",
            "2",
            &self.provider_name,
            "",
            "",
            "",
            "",
            "XX",
            &self.provider_npi,
        ]);
        b.hl(Some(r), "22", false);
        b.s(&["TRN", "1", &self.trace, "9PORTAL000"]);
        subscriber_name(&mut b, &self.subscriber);
        if !self.subscriber.dob.is_empty() {
            b.s(&["DMG", "D8", &self.subscriber.dob, &self.subscriber.gender]);
        }
        if !self.date_of_service.is_empty() {
            b.s(&["DTP", "291", "D8", &self.date_of_service]);
        }
        let eq = if self.service_types.is_empty() {
            "30".to_string()
        } else {
            self.service_types.join("^")
        };
        b.s(&["EQ", &eq]);
        interchange(env, "HS", "270", "005010X279A1", b)
    }
}

fn subscriber_name(b: &mut Body, p: &Person) {
    b.s(&[
        "NM1",
        "IL",
        "1",
        &p.last,
        &p.first,
        "",
        "",
        "",
        if p.member_id.is_empty() { "" } else { "MI" },
        &p.member_id,
    ]);
    write_address(b, &p.address);
}

impl EligibilityResponse {
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        let payer = party(all(root, "2100A").first().copied());
        let provider = party(all(root, "2100B").first().copied());
        let mut rejects = Vec::new();
        let mut walk = vec![root];
        while let Some(l) = walk.pop() {
            for s in l.segs("AAA") {
                rejects.push(Reject {
                    loop_id: l.id.to_string(),
                    reason: s.el(3).to_string(),
                    follow_up: s.el(4).to_string(),
                });
            }
            walk.extend(l.loops.iter().rev());
        }
        let c = all(root, "2000C").first().copied();
        let name = c.and_then(|c| c.child("2100C"));
        let mut benefits = Vec::new();
        if let Some(n) = name {
            for l in n.children("2110C") {
                let Some(eb) = l.seg("EB", None) else {
                    continue;
                };
                let pcp = l
                    .children("2120C")
                    .find_map(|p| p.seg("NM1", Some("P3")))
                    .map(|s| Party {
                        name: s.el(3).to_string(),
                        id: s.el(9).to_string(),
                    });
                benefits.push(Benefit {
                    info: eb.el(1).to_string(),
                    coverage_level: eb.el(2).to_string(),
                    service_types: eb
                        .el(3)
                        .split('^')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    insurance_type: eb.el(4).to_string(),
                    plan: eb.el(5).to_string(),
                    period: eb.el(6).to_string(),
                    amount: eb.el(7).to_string(),
                    percent: eb.el(8).to_string(),
                    in_network: eb.el(12).to_string(),
                    messages: l.segs("MSG").map(|m| m.el(1).to_string()).collect(),
                    pcp,
                });
            }
        }
        Some(EligibilityResponse {
            payer,
            provider,
            subscriber: name.map(person).unwrap_or_default(),
            trace: c.map(trn_value).unwrap_or_default(),
            benefits,
            rejects,
        })
    }

    /// A complete 271 interchange. Rejections are written on the subscriber (2100C).
    pub fn to_x12(&self, env: &Envelope) -> String {
        let mut b = Body::default();
        b.s(&["BHT", "0022", "11", &self.trace, &env.date, &env.time]);
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
        let r = b.hl(Some(a), "21", true);
        b.s(&[
            "NM1",
            "1P",
            "2",
            &self.provider.name,
            "",
            "",
            "",
            "",
            "XX",
            &self.provider.id,
        ]);
        b.hl(Some(r), "22", false);
        if !self.trace.is_empty() {
            b.s(&["TRN", "2", &self.trace, "9PORTAL000"]);
        }
        subscriber_name(&mut b, &self.subscriber);
        for x in &self.rejects {
            b.s(&["AAA", "N", "", &x.reason, &x.follow_up]);
        }
        if !self.subscriber.dob.is_empty() {
            b.s(&["DMG", "D8", &self.subscriber.dob, &self.subscriber.gender]);
        }
        for e in &self.benefits {
            let st = e.service_types.join("^");
            b.s(&[
                "EB",
                &e.info,
                &e.coverage_level,
                &st,
                &e.insurance_type,
                &e.plan,
                &e.period,
                &e.amount,
                &e.percent,
                "",
                "",
                "",
                &e.in_network,
            ]);
            for m in &e.messages {
                b.s(&["MSG", m]);
            }
            if let Some(p) = &e.pcp {
                b.s(&["LS", "2120"]);
                b.s(&["NM1", "P3", "1", &p.name, "", "", "", "", "XX", &p.id]);
                b.s(&["LE", "2120"]);
            }
        }
        interchange(env, "HB", "271", "005010X279A1", b)
    }
}
