//! Referrals and prior authorizations (the types; the legal clocks come with the review work).

use crate::coded_enum;
use crate::ids::{AuthNumber, MemberId, Npi};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

coded_enum!(
    AuthKind {
        Referral = ("referral", "Referral"),
        PriorAuthorization = ("prior_auth", "Prior authorization"),
    }
);

coded_enum!(
    /// Standard or expedited (urgent) review: sets the legal decision clock.
    Urgency {
        Standard = ("standard", "Standard"),
        Expedited = ("expedited", "Expedited"),
    }
);

coded_enum!(
    AuthStatus {
        Received = ("received", "Received"),
        InReview = ("in_review", "In review"),
        /// Waiting for information from the requester; the clock is extended, not stopped.
        Pended = ("pended", "Pended for information"),
        Approved = ("approved", "Approved"),
        PartiallyApproved = ("partial", "Partially approved"),
        Modified = ("modified", "Approved with modifications"),
        Denied = ("denied", "Denied"),
        Withdrawn = ("withdrawn", "Withdrawn"),
    }
);

impl AuthStatus {
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            Self::Approved
                | Self::PartiallyApproved
                | Self::Modified
                | Self::Denied
                | Self::Withdrawn
        )
    }
}

/// A requested service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedService {
    /// CPT/HCPCS.
    pub procedure: String,
    pub units: u32,
    /// Units the reviewer approved (filled on decision).
    pub approved_units: Option<u32>,
}

/// A referral or prior authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub number: AuthNumber,
    pub kind: AuthKind,
    pub urgency: Urgency,
    pub member: MemberId,
    pub requesting_npi: Npi,
    pub servicing_npi: Npi,
    /// ICD-10-CM, without the dot.
    pub diagnoses: Vec<String>,
    pub services: Vec<RequestedService>,
    pub place_of_service: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub received_at: DateTime<Utc>,
    pub status: AuthStatus,
    pub decided_at: Option<DateTime<Utc>>,
    /// Every denial carries a specific reason (CMS-0057-F): a code and words.
    pub denial_reason: Option<DenialReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialReason {
    pub code: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the service end date is before its start date")]
    DatesReversed,
    #[error("at least one service is required")]
    NoServices,
    #[error("a denial needs a specific reason, coded and in words")]
    DenialWithoutReason,
}

impl AuthRequest {
    /// The invariants every stored request keeps.
    pub fn check(&self) -> Result<(), AuthError> {
        if self.to_date < self.from_date {
            return Err(AuthError::DatesReversed);
        }
        if self.services.is_empty() {
            return Err(AuthError::NoServices);
        }
        if self.status == AuthStatus::Denied
            && self
                .denial_reason
                .as_ref()
                .is_none_or(|r| r.code.is_empty() || r.text.trim().is_empty())
        {
            return Err(AuthError::DenialWithoutReason);
        }
        Ok(())
    }
}
