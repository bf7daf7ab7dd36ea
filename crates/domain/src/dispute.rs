//! Provider disputes and complaints (the types and routing; deadlines come with the dispute work).

use crate::calendar::add_working_days;
use crate::coded_enum;
use crate::ids::{ClaimNumber, DisputeNumber, Npi, Tin};
use crate::plan::{HealthNetwork, NetworkKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

coded_enum!(
    DisputeKind {
        ClaimPayment = ("claim_payment", "Claim payment dispute"),
        UtilizationManagement = ("um_decision", "Utilization-management decision dispute"),
        Other = ("other", "Other (non-payment) complaint"),
    }
);

coded_enum!(
    /// Who reviews a dispute at its current level.
    Reviewer {
        /// The plan's Grievance and Appeals Resolution Services.
        PlanGars = ("plan_gars", "Plan Grievance and Appeals"),
        /// A delegated health network's own first-level review.
        DelegatedNetwork = ("network", "Delegated health network"),
    }
);

coded_enum!(
    DisputeStatus {
        Received = ("received", "Received"),
        Acknowledged = ("acknowledged", "Acknowledged"),
        InReview = ("in_review", "In review"),
        Upheld = ("upheld", "Decided: original decision upheld"),
        Overturned = ("overturned", "Decided: in the provider's favour"),
        PartiallyOverturned = ("partial", "Decided: partly in the provider's favour"),
        Withdrawn = ("withdrawn", "Withdrawn"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub number: DisputeNumber,
    pub kind: DisputeKind,
    pub provider_npi: Npi,
    pub provider_tin: Tin,
    pub contracted_provider: bool,
    pub claim: Option<ClaimNumber>,
    /// 1 = first review; 2 = the plan's second-level review after a delegated network's decision.
    pub level: u8,
    pub reviewer: Reviewer,
    pub received: NaiveDate,
    pub electronic: bool,
    pub status: DisputeStatus,
    pub description: String,
}

/// Filing limit: 365 days from the plan's action (28 CCR §1300.71.38(d)).
pub const FILING_LIMIT_DAYS: u64 = 365;
/// Acknowledgement: 15 working days, or 2 when filed electronically.
pub const ACK_WORKING_DAYS: u32 = 15;
pub const ACK_WORKING_DAYS_ELECTRONIC: u32 = 2;
/// Written determination: 45 working days from receipt.
pub const DECIDE_WORKING_DAYS: u32 = 45;

/// The regulated dates of a dispute received on `received`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DisputeDeadlines {
    pub acknowledge_by: NaiveDate,
    pub decide_by: NaiveDate,
}

pub fn deadlines(received: NaiveDate, electronic: bool) -> DisputeDeadlines {
    let ack = if electronic {
        ACK_WORKING_DAYS_ELECTRONIC
    } else {
        ACK_WORKING_DAYS
    };
    DisputeDeadlines {
        acknowledge_by: add_working_days(received, ack),
        decide_by: add_working_days(received, DECIDE_WORKING_DAYS),
    }
}

/// Whether a dispute about an action taken on `action_date` may still be filed on `filed`.
pub fn within_filing_limit(action_date: NaiveDate, filed: NaiveDate) -> bool {
    filed >= action_date && (filed - action_date).num_days() <= FILING_LIMIT_DAYS as i64
}

/// First-level routing (plan notice, since 1 Jan 2024): a claim dispute about a delegated
/// network's claim goes to that network first; everything else to the plan's GARS unit.
pub fn first_reviewer(kind: DisputeKind, network: Option<&HealthNetwork>) -> Reviewer {
    match (kind, network.map(|n| n.kind)) {
        (DisputeKind::ClaimPayment, Some(NetworkKind::Delegated)) => Reviewer::DelegatedNetwork,
        _ => Reviewer::PlanGars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn deadlines_in_working_days() {
        // Filed electronically Wed 2026-11-25: Thanksgiving and the day after are holidays.
        let e = deadlines(d("2026-11-25"), true);
        assert_eq!(e.acknowledge_by, d("2026-12-01"));
        let p = deadlines(d("2026-11-25"), false);
        // Nov 30, Dec 1-4, 7-11, 14-18: the fifteenth working day is Friday Dec 18.
        assert_eq!(p.acknowledge_by, d("2026-12-18"));
        assert!(p.decide_by > d("2027-01-25"));
    }

    #[test]
    fn filing_limit_and_routing() {
        assert!(within_filing_limit(d("2025-12-01"), d("2026-12-01")));
        assert!(!within_filing_limit(d("2025-12-01"), d("2026-12-02")));
        let delegated = HealthNetwork {
            code: "HHN".into(),
            name: "x".into(),
            kind: NetworkKind::Delegated,
            phone: String::new(),
        };
        assert_eq!(
            first_reviewer(DisputeKind::ClaimPayment, Some(&delegated)),
            Reviewer::DelegatedNetwork
        );
        assert_eq!(
            first_reviewer(DisputeKind::UtilizationManagement, Some(&delegated)),
            Reviewer::PlanGars
        );
        assert_eq!(
            first_reviewer(DisputeKind::ClaimPayment, None),
            Reviewer::PlanGars
        );
    }
}
