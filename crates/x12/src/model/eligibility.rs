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
    /// Primary care provider (2120C NM1*P3): name and NPI. A person's name is written as
    /// `LAST, FIRST` (NM103 and NM104).
    pub pcp: Option<Party>,
    /// Other benefit-related entities (2120C): the health network, a managed care
    /// organisation... (not the PCP, which is `pcp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
}

/// A 2120C benefit-related entity: NM1 with an optional contact telephone (PER).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// NM101: e.g. Y2 managed care organization, I3 independent physicians association,
    /// 13 contracted service provider.
    pub role: String,
    /// NM102 = 1 (a person) rather than 2 (an organisation).
    pub person: bool,
    /// NM103: organisation name or last name.
    pub name: String,
    /// NM108/NM109, e.g. `XX` and an NPI, `PI` and a payer id.
    pub id_qualifier: String,
    pub id: String,
    /// PER*IC ... TE: the entity's (never the member's) telephone.
    pub phone: String,
}

/// A DTP date of the subscriber (2100C): e.g. 346 plan begin, 347 plan end, 356 eligibility
/// begin, 357 eligibility end, 291 plan (date of service).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRef {
    pub qualifier: String,
    /// CCYYMMDD or CCYYMMDD-CCYYMMDD.
    pub date: String,
}

/// An AAA rejection: the request could not be answered, why and what to do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// Loop of the AAA: 2000A (the information source cannot answer), 2100A payer, 2100B
    /// provider (information receiver), 2100C subscriber; written where it says.
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
    /// Subscriber dates (2100C DTP): plan and eligibility begin and end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<DateRef>,
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
                let related: Vec<&LoopNode> = l.children("2120C").collect();
                let pcp_at = related
                    .iter()
                    .position(|p| p.seg("NM1", Some("P3")).is_some());
                let pcp = pcp_at
                    .and_then(|i| related[i].seg("NM1", Some("P3")))
                    .map(|s| Party {
                        name: if s.el(4).is_empty() {
                            s.el(3).to_string()
                        } else {
                            format!("{}, {}", s.el(3), s.el(4))
                        },
                        id: s.el(9).to_string(),
                    });
                let entities = related
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != pcp_at)
                    .filter_map(|(_, p)| {
                        let nm1 = p.seg("NM1", None)?;
                        Some(Entity {
                            role: nm1.el(1).to_string(),
                            person: nm1.el(2) == "1",
                            name: nm1.el(3).to_string(),
                            id_qualifier: nm1.el(8).to_string(),
                            id: nm1.el(9).to_string(),
                            phone: p
                                .seg("PER", None)
                                .map(|s| s.el(4).to_string())
                                .unwrap_or_default(),
                        })
                    })
                    .collect();
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
                    entities,
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
            dates: name
                .map(|n| {
                    n.segs("DTP")
                        .map(|d| DateRef {
                            qualifier: d.el(1).to_string(),
                            date: d.el(3).to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// A complete 271 interchange. Each rejection is written in the loop it names (2000A,
    /// 2100A, 2100B; anything else on the subscriber, 2100C).
    pub fn to_x12(&self, env: &Envelope) -> String {
        let rejects_at = |id: &'static str| self.rejects.iter().filter(move |r| r.loop_id == id);
        let aaa = |b: &mut Body, x: &Reject| b.s(&["AAA", "N", "", &x.reason, &x.follow_up]);
        let mut b = Body::default();
        b.s(&["BHT", "0022", "11", &self.trace, &env.date, &env.time]);
        let a = b.hl(None, "20", true);
        for x in rejects_at("2000A") {
            aaa(&mut b, x);
        }
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
        for x in rejects_at("2100A") {
            aaa(&mut b, x);
        }
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
        for x in rejects_at("2100B") {
            aaa(&mut b, x);
        }
        b.hl(Some(r), "22", false);
        if !self.trace.is_empty() {
            b.s(&["TRN", "2", &self.trace, "9PORTAL000"]);
        }
        subscriber_name(&mut b, &self.subscriber);
        for x in self
            .rejects
            .iter()
            .filter(|r| !matches!(r.loop_id.as_str(), "2000A" | "2100A" | "2100B"))
        {
            aaa(&mut b, x);
        }
        if !self.subscriber.dob.is_empty() {
            b.s(&["DMG", "D8", &self.subscriber.dob, &self.subscriber.gender]);
        }
        for d in &self.dates {
            let format = if d.date.contains('-') { "RD8" } else { "D8" };
            b.s(&["DTP", &d.qualifier, format, &d.date]);
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
            if e.pcp.is_some() || !e.entities.is_empty() {
                b.s(&["LS", "2120"]);
                if let Some(p) = &e.pcp {
                    let (last, first) = p.name.split_once(", ").unwrap_or((&p.name, ""));
                    let q = if p.id.is_empty() { "" } else { "XX" };
                    b.s(&["NM1", "P3", "1", last, first, "", "", "", q, &p.id]);
                }
                for x in &e.entities {
                    let kind = if x.person { "1" } else { "2" };
                    b.s(&[
                        "NM1",
                        &x.role,
                        kind,
                        &x.name,
                        "",
                        "",
                        "",
                        "",
                        &x.id_qualifier,
                        &x.id,
                    ]);
                    if !x.phone.is_empty() {
                        b.s(&["PER", "IC", "", "TE", &x.phone]);
                    }
                }
                b.s(&["LE", "2120"]);
            }
        }
        interchange(env, "HB", "271", "005010X279A1", b)
    }
}
