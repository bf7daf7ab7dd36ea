//! Provider disputes and complaints (the types and routing; deadlines come with the dispute work).

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

/// First-level routing (plan notice, since 1 Jan 2024): a claim dispute about a delegated
/// network's claim goes to that network first; everything else to the plan's GARS unit.
pub fn first_reviewer(kind: DisputeKind, network: Option<&HealthNetwork>) -> Reviewer {
    match (kind, network.map(|n| n.kind)) {
        (DisputeKind::ClaimPayment, Some(NetworkKind::Delegated)) => Reviewer::DelegatedNetwork,
        _ => Reviewer::PlanGars,
    }
}
