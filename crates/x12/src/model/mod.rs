//! Typed views of the transactions a provider portal consumes and produces, read from
//! the guide-shaped tree (`tree`) and written back as valid X12 (`write`).
//!
//! Each type has `from_tree` (reading a parsed transaction set) and `to_x12` (writing a
//! complete interchange). Writing then parsing gives the same value back; the property
//! tests in `tests/roundtrip.rs` check it.
//!
//! ```
//! use x12::model::{EligibilityRequest, Envelope, Person};
//! let req = EligibilityRequest {
//!     payer_name: "HEALTH PLAN".into(), payer_id: "HP0001".into(),
//!     provider_name: "FAMILY CLINIC".into(), provider_npi: "1234567893".into(),
//!     subscriber: Person { last: "DOE".into(), first: "JANE".into(), member_id: "M123".into(),
//!                          dob: "19800101".into(), gender: "F".into(), address: None },
//!     trace: "T1".into(), date_of_service: "20240110".into(), service_types: vec!["30".into()],
//! };
//! let x12 = req.to_x12(&Envelope::default());
//! assert!(x12::validate_bytes(x12.as_bytes(), &x12::Options::default()).accepted());
//! let back = x12::model::parse_bytes(x12.as_bytes()).1;
//! assert_eq!(EligibilityRequest::from_tree(&back[0].root), Some(req));
//! ```

mod claims;
mod eligibility;
mod remittance;
mod review;
mod status;
pub mod tree;
mod write;

pub use claims::{Claim, ClaimKind, ServiceLine};
pub use eligibility::{Benefit, DateRef, EligibilityRequest, EligibilityResponse, Entity, Reject};
pub use remittance::{Adjustment, ClaimPayment, LinePayment, Remittance};
pub use review::{ReviewDecision, ReviewReject, ServiceReview};
pub use status::{ClaimAck, ClaimStatus, LineStatus, StatusQuery, StatusRequest, StatusResponse};
pub use tree::{LoopNode, Seg, Transaction, TreeBuilder, parse_bytes, parse_reader};
pub use write::Envelope;

use serde::{Deserialize, Serialize};

/// A person as the transactions carry one: name, member id, birth date, gender.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub last: String,
    pub first: String,
    pub member_id: String,
    /// CCYYMMDD
    pub dob: String,
    /// F, M or U
    pub gender: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// Street address (N3/N4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

pub(crate) fn address(l: &LoopNode) -> Option<Address> {
    let n3 = l.seg("N3", None)?;
    let n4 = l.seg("N4", None);
    Some(Address {
        line: n3.el(1).to_string(),
        city: n4.map(|s| s.el(1).to_string()).unwrap_or_default(),
        state: n4.map(|s| s.el(2).to_string()).unwrap_or_default(),
        zip: n4.map(|s| s.el(3).to_string()).unwrap_or_default(),
    })
}

pub(crate) fn write_address(b: &mut write::Body, a: &Option<Address>) {
    if let Some(a) = a {
        b.s(&["N3", &a.line]);
        b.s(&["N4", &a.city, &a.state, &a.zip]);
    }
}

/// An organisation or provider: name and identifier (NPI, payer id, tax id...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub id: String,
}

/// The typed content of one transaction set, for `portal edi parse`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// One value per transaction set, built to be printed: boxing the large variant saves nothing.
#[allow(clippy::large_enum_variant)]
pub enum Typed {
    Claims {
        guide: Option<&'static str>,
        claims: Vec<Claim>,
    },
    EligibilityRequest(EligibilityRequest),
    EligibilityResponse(EligibilityResponse),
    ClaimStatusRequest(StatusRequest),
    ClaimStatusResponse(StatusResponse),
    ClaimAcknowledgement(ClaimAck),
    ServiceReview(ServiceReview),
    Remittance(Remittance),
    /// Sets without a typed view (999...) or that could not be read: the loop tree.
    Other {
        set: String,
        guide: Option<&'static str>,
        tree: LoopNode,
    },
}

/// The typed view of a parsed transaction set.
pub fn typed(t: &Transaction) -> Typed {
    let r = &t.root;
    let other = || Typed::Other {
        set: t.set.clone(),
        guide: t.guide,
        tree: t.root.clone(),
    };
    match (t.set.as_str(), t.guide) {
        ("837", g) => Typed::Claims {
            guide: g,
            claims: Claim::all_from_tree(r, g == Some("005010X223A2")),
        },
        ("270", _) => {
            EligibilityRequest::from_tree(r).map_or_else(other, Typed::EligibilityRequest)
        }
        ("271", _) => {
            EligibilityResponse::from_tree(r).map_or_else(other, Typed::EligibilityResponse)
        }
        ("276", _) => StatusRequest::from_tree(r).map_or_else(other, Typed::ClaimStatusRequest),
        ("277", Some("005010X214")) => {
            ClaimAck::from_tree(r).map_or_else(other, Typed::ClaimAcknowledgement)
        }
        ("277", _) => StatusResponse::from_tree(r).map_or_else(other, Typed::ClaimStatusResponse),
        ("278", _) => ServiceReview::from_tree(r).map_or_else(other, Typed::ServiceReview),
        ("835", _) => Remittance::from_tree(r).map_or_else(other, Typed::Remittance),
        _ => other(),
    }
}

/// Loops with this id anywhere under `root`.
pub(crate) fn all<'a>(root: &'a LoopNode, id: &str) -> Vec<&'a LoopNode> {
    let mut v = Vec::new();
    root.find_all(id, &mut v);
    v
}

/// NM1-based person in the first segment of a loop.
pub(crate) fn person(l: &LoopNode) -> Person {
    let nm1 = l.seg("NM1", None);
    let dmg = l.seg("DMG", None);
    Person {
        last: nm1.map(|s| s.el(3).to_string()).unwrap_or_default(),
        first: nm1.map(|s| s.el(4).to_string()).unwrap_or_default(),
        member_id: nm1.map(|s| s.el(9).to_string()).unwrap_or_default(),
        dob: dmg.map(|s| s.el(2).to_string()).unwrap_or_default(),
        gender: dmg.map(|s| s.el(3).to_string()).unwrap_or_default(),
        address: address(l),
    }
}

pub(crate) fn party(l: Option<&LoopNode>) -> Party {
    let nm1 = l.and_then(|l| l.seg("NM1", None));
    Party {
        name: nm1.map(|s| s.el(3).to_string()).unwrap_or_default(),
        id: nm1.map(|s| s.el(9).to_string()).unwrap_or_default(),
    }
}
