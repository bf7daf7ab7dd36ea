//! 278 health care services review: request and response (005010X217).

use super::write::{Body, Envelope, interchange};
use super::{LoopNode, Party, Person, all, party, person};
use serde::{Deserialize, Serialize};

/// The reviewer's decision (HCR).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// HCR01: A1 certified in total, A2 partial, A3 not certified, A4 pended, C cancelled...
    pub action: String,
    /// HCR02 certification (authorization) number.
    pub auth_number: String,
    /// HCR03 review decision reason code.
    pub reason: String,
}

/// A prior authorization or referral request, or its response when `decision` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReview {
    pub umo: Party,
    /// Requesting provider name and NPI.
    pub requester: Party,
    pub subscriber: Person,
    pub trace: String,
    /// UM01: HS health services review, AR admission review, SC specialty care (referral).
    pub category: String,
    /// UM02: I initial, 3 cancel, ...
    pub certification_type: String,
    /// UM03 service type code.
    pub service_type: String,
    /// UM04-1 place of service / facility code.
    pub facility_code: String,
    pub diagnoses: Vec<String>,
    /// CCYYMMDD or CCYYMMDD-CCYYMMDD (DTP*AAH event date).
    pub event_date: String,
    /// HCPCS/CPT codes of the service levels (2000F SV1).
    pub procedures: Vec<String>,
    /// SV104 units of each service level, parallel to `procedures` (empty when none sent).
    #[serde(default)]
    pub units: Vec<String>,
    /// UM06 level of service: U urgent, E elective, 03 emergency (empty: not sent).
    #[serde(default)]
    pub level_of_service: String,
    /// The servicing provider (2010EA NM1*SJ): name and NPI.
    #[serde(default)]
    pub service_provider: Party,
    pub decision: Option<ReviewDecision>,
    /// A response that rejects the request (AAA) instead of reviewing it.
    #[serde(default)]
    pub reject: Option<ReviewReject>,
}

/// An AAA rejection in a 278 response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReject {
    /// "2010B" (requester) or "2010C" (subscriber).
    pub level: String,
    /// AAA03, e.g. 75 subscriber not found, 51 provider not on file, 41 authorization/access
    /// restrictions, 15 required application data missing.
    pub reason: String,
}

impl ServiceReview {
    pub fn from_tree(root: &LoopNode) -> Option<Self> {
        let reject = [("2010B", all(root, "2010B")), ("2010C", all(root, "2010C"))]
            .into_iter()
            .find_map(|(level, loops)| {
                loops
                    .first()
                    .and_then(|l| l.seg("AAA", None))
                    .map(|a| ReviewReject {
                        level: level.to_string(),
                        reason: a.el(3).to_string(),
                    })
            });
        let Some(e) = all(root, "2000E").first().copied() else {
            // A rejection answers without a patient event.
            return reject.map(|reject| ServiceReview {
                umo: party(all(root, "2010A").first().copied()),
                requester: party(all(root, "2010B").first().copied()),
                subscriber: all(root, "2010C")
                    .first()
                    .map(|l| person(l))
                    .unwrap_or_default(),
                reject: Some(reject),
                ..ServiceReview::default()
            });
        };
        let um = e.seg("UM", None);
        let diagnoses = e
            .segs("HI")
            .flat_map(|h| {
                h.elements
                    .iter()
                    .filter_map(|x| x.split(':').nth(1).map(str::to_string))
            })
            .collect();
        let sv1: Vec<_> = all(e, "2000F")
            .iter()
            .filter_map(|f| f.seg("SV1", None))
            .collect();
        let procedures = sv1.iter().map(|s| s.comp(1, 2).to_string()).collect();
        let mut units: Vec<String> = sv1.iter().map(|s| s.el(4).to_string()).collect();
        if units.iter().all(String::is_empty) {
            units.clear();
        }
        let service_provider = party(
            all(e, "2010EA")
                .into_iter()
                .find(|l| l.seg("NM1", None).is_some_and(|s| s.el(1) == "SJ")),
        );
        let reject = [("2010B", all(root, "2010B")), ("2010C", all(root, "2010C"))]
            .into_iter()
            .find_map(|(level, loops)| {
                loops
                    .first()
                    .and_then(|l| l.seg("AAA", None))
                    .map(|a| ReviewReject {
                        level: level.to_string(),
                        reason: a.el(3).to_string(),
                    })
            });
        let decision = e.seg("HCR", None).map(|h| ReviewDecision {
            action: h.el(1).to_string(),
            auth_number: h.el(2).to_string(),
            reason: h.el(3).to_string(),
        });
        let mut subscriber = all(root, "2010C")
            .first()
            .map(|l| person(l))
            .unwrap_or_default();
        if subscriber.dob.is_empty() {
            subscriber.dob.clear();
        }
        Some(ServiceReview {
            umo: party(all(root, "2010A").first().copied()),
            requester: party(all(root, "2010B").first().copied()),
            subscriber,
            trace: e
                .seg("TRN", None)
                .map(|s| s.el(2).to_string())
                .unwrap_or_default(),
            category: um.map(|s| s.el(1).to_string()).unwrap_or_default(),
            certification_type: um.map(|s| s.el(2).to_string()).unwrap_or_default(),
            service_type: um.map(|s| s.el(3).to_string()).unwrap_or_default(),
            facility_code: um.map(|s| s.comp(4, 1).to_string()).unwrap_or_default(),
            diagnoses,
            event_date: e
                .seg("DTP", Some("AAH"))
                .map(|s| s.el(3).to_string())
                .unwrap_or_default(),
            procedures,
            units,
            level_of_service: um.map(|s| s.el(6).to_string()).unwrap_or_default(),
            service_provider,
            decision,
            reject,
        })
    }

    /// A complete 278 interchange: a request, or a response when `decision` is set.
    pub fn to_x12(&self, env: &Envelope) -> String {
        let response = self.decision.is_some() || self.reject.is_some();
        let mut b = Body::default();
        b.s(&[
            "BHT",
            "0007",
            if response { "11" } else { "13" },
            &self.trace,
            &env.date,
            &env.time,
        ]);
        let a = b.hl(None, "20", true);
        b.s(&[
            "NM1",
            "X3",
            "2",
            &self.umo.name,
            "",
            "",
            "",
            "",
            "PI",
            &self.umo.id,
        ]);
        let rejected_at = self.reject.as_ref().map(|r| r.level.as_str());
        // X217 allows only HL04=1 at the requester level, even when a rejection ends there.
        let r = b.hl(Some(a), "21", true);
        b.s(&[
            "NM1",
            "1P",
            "2",
            &self.requester.name,
            "",
            "",
            "",
            "",
            "XX",
            &self.requester.id,
        ]);
        if let (Some("2010B"), Some(rej)) = (rejected_at, &self.reject) {
            b.s(&["AAA", "N", "", &rej.reason, "C"]);
            return interchange(env, "HI", "278", "005010X217", b);
        }
        let s = b.hl(Some(r), "22", rejected_at != Some("2010C"));
        let p = &self.subscriber;
        b.s(&[
            "NM1",
            "IL",
            "1",
            &p.last,
            &p.first,
            "",
            "",
            "",
            "MI",
            &p.member_id,
        ]);
        if let (Some("2010C"), Some(rej)) = (rejected_at, &self.reject) {
            b.s(&["AAA", "N", "", &rej.reason, "C"]);
            if !p.dob.is_empty() {
                b.s(&["DMG", "D8", &p.dob, &p.gender]);
            }
            return interchange(env, "HI", "278", "005010X217", b);
        }
        if !p.dob.is_empty() {
            b.s(&["DMG", "D8", &p.dob, &p.gender]);
        }
        let ev = b.hl(Some(s), "EV", !self.procedures.is_empty());
        b.s(&[
            "TRN",
            if response { "2" } else { "1" },
            &self.trace,
            "9PORTAL000",
        ]);
        let um4 = if self.facility_code.is_empty() {
            String::new()
        } else {
            format!("{}:B", self.facility_code)
        };
        b.s(&[
            "UM",
            &self.category,
            &self.certification_type,
            &self.service_type,
            &um4,
            "",
            &self.level_of_service,
        ]);
        if let Some(d) = &self.decision {
            b.s(&["HCR", &d.action, &d.auth_number, &d.reason]);
        }
        if !self.event_date.is_empty() {
            let f = if self.event_date.contains('-') {
                "RD8"
            } else {
                "D8"
            };
            b.s(&["DTP", "AAH", f, &self.event_date]);
        }
        if let Some((first, rest)) = self.diagnoses.split_first() {
            let mut parts: Vec<String> = vec!["HI".into(), format!("ABK:{first}")];
            parts.extend(rest.iter().take(11).map(|d| format!("ABF:{d}")));
            b.s(&parts.iter().map(String::as_str).collect::<Vec<_>>());
        }
        if !self.service_provider.id.is_empty() {
            b.s(&[
                "NM1",
                "SJ",
                "1",
                &self.service_provider.name,
                "",
                "",
                "",
                "",
                "XX",
                &self.service_provider.id,
            ]);
        }
        for (i, proc) in self.procedures.iter().enumerate() {
            b.hl(Some(ev), "SS", false);
            match self.units.get(i).filter(|u| !u.is_empty()) {
                Some(u) => b.s(&["SV1", &format!("HC:{proc}"), "", "UN", u]),
                None => b.s(&["SV1", &format!("HC:{proc}")]),
            }
        }
        interchange(env, "HI", "278", "005010X217", b)
    }
}
