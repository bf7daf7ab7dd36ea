//! Claims: header and lines as received (837P/837I), their status lifecycle, adjustments with
//! CARC/RARC codes, and payment.

use crate::coded_enum;
use crate::ids::{ClaimNumber, MemberId, Npi};
use crate::money::Cents;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

coded_enum!(
    ClaimForm {
        /// 837P / CMS-1500.
        Professional = ("P", "Professional"),
        /// 837I / UB-04.
        Institutional = ("I", "Institutional"),
    }
);

coded_enum!(
    /// Where a claim stands. Moves forward only (see [`ClaimStatus::can_become`]).
    ClaimStatus {
        Received = ("received", "Received"),
        /// Rejected at intake (277CA): never entered adjudication.
        Rejected = ("rejected", "Rejected at intake"),
        Pended = ("pended", "In review"),
        Paid = ("paid", "Paid"),
        Denied = ("denied", "Denied"),
        /// Some lines paid, some denied or reduced.
        PartiallyPaid = ("partial", "Partially paid"),
        /// Reopened after a dispute or correction; adjudicated again.
        Adjusted = ("adjusted", "Adjusted"),
    }
);

impl ClaimStatus {
    /// True once adjudication reached a decision a remittance reports.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Denied | Self::PartiallyPaid | Self::Adjusted | Self::Rejected
        )
    }

    /// The lifecycle: received -> (rejected | pended | decided); pended -> decided;
    /// decided -> adjusted (after a dispute or corrected claim); adjusted -> decided again.
    pub fn can_become(self, next: ClaimStatus) -> bool {
        use ClaimStatus::*;
        let decided = matches!(next, Paid | Denied | PartiallyPaid);
        match self {
            Received => next == Rejected || next == Pended || decided,
            Pended => decided,
            Paid | Denied | PartiallyPaid => next == Adjusted,
            Adjusted => decided,
            Rejected => false,
        }
    }
}

coded_enum!(
    /// CAS01 claim adjustment group codes (X12).
    AdjustmentGroup {
        ContractualObligation = ("CO", "Contractual obligation (provider write-off)"),
        PatientResponsibility = ("PR", "Patient responsibility"),
        OtherAdjustment = ("OA", "Other adjustment"),
        PayerInitiated = ("PI", "Payer-initiated reduction"),
        Correction = ("CR", "Correction or reversal"),
    }
);

/// One adjustment on a line: group, Claim Adjustment Reason Code, amount, and optionally a
/// Remittance Advice Remark Code that says more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub group: AdjustmentGroup,
    /// CARC, e.g. `45`, `97`, `29`.
    pub reason: String,
    pub amount: Cents,
    /// RARC, e.g. `N130`, `M15`.
    pub remark: Option<String>,
}

/// A service line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimLine {
    pub line_number: u16,
    /// CPT/HCPCS (professional) or HCPCS with revenue code (institutional).
    pub procedure: String,
    pub modifiers: Vec<String>,
    pub revenue_code: Option<String>,
    pub units: u32,
    pub service_date: NaiveDate,
    pub billed: Cents,
    /// Filled by adjudication.
    pub allowed: Cents,
    pub paid: Cents,
    pub adjustments: Vec<Adjustment>,
}

impl ClaimLine {
    pub fn patient_responsibility(&self) -> Cents {
        self.adjustments
            .iter()
            .filter(|a| a.group == AdjustmentGroup::PatientResponsibility)
            .map(|a| a.amount)
            .sum()
    }

    /// Billed = paid + every adjustment: the 835 balancing rule, per line.
    pub fn balances(&self) -> bool {
        self.billed == self.paid + self.adjustments.iter().map(|a| a.amount).sum()
    }
}

/// A claim, as received and as adjudicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub number: ClaimNumber,
    pub form: ClaimForm,
    /// CLM01: the office's own patient account number.
    pub patient_account: String,
    pub member: MemberId,
    pub billing_npi: Npi,
    pub rendering_npi: Option<Npi>,
    /// ICD-10-CM codes, principal first, without the dot (`E119`).
    pub diagnoses: Vec<String>,
    /// Place of service (professional) or facility type code (institutional).
    pub place_of_service: String,
    pub received: NaiveDate,
    pub status: ClaimStatus,
    pub lines: Vec<ClaimLine>,
    /// Set when paid: the check or EFT trace number and its date.
    pub payment: Option<PaymentRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRef {
    pub number: String,
    pub date: NaiveDate,
}

impl Claim {
    pub fn billed(&self) -> Cents {
        self.lines.iter().map(|l| l.billed).sum()
    }
    pub fn paid(&self) -> Cents {
        self.lines.iter().map(|l| l.paid).sum()
    }
    pub fn allowed(&self) -> Cents {
        self.lines.iter().map(|l| l.allowed).sum()
    }
    pub fn patient_responsibility(&self) -> Cents {
        self.lines
            .iter()
            .map(ClaimLine::patient_responsibility)
            .sum()
    }
    /// First date of service on the claim.
    pub fn from_date(&self) -> Option<NaiveDate> {
        self.lines.iter().map(|l| l.service_date).min()
    }

    /// Moves the claim forward, refusing a step the lifecycle does not allow.
    pub fn set_status(&mut self, next: ClaimStatus) -> Result<(), ClaimError> {
        if !self.status.can_become(next) {
            return Err(ClaimError::Transition {
                from: self.status,
                to: next,
            });
        }
        self.status = next;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("a claim cannot go from {from} to {to}")]
    Transition { from: ClaimStatus, to: ClaimStatus },
}

/// Plain-language explanation of the CARCs the plan uses most (X12 external code list 139,
/// reworded for an office). Unknown codes fall back to the code itself.
pub fn explain_carc(code: &str) -> &'static str {
    match code {
        "1" => "Deductible amount.",
        "2" => "Coinsurance amount.",
        "3" => "Co-payment amount.",
        "4" => "The procedure code is inconsistent with the modifier used.",
        "16" => {
            "The claim lacks information needed for adjudication; see the remark code for what is missing."
        }
        "18" => "Exact duplicate of a claim already received.",
        "22" => "This care may be covered by another payer (coordination of benefits).",
        "27" => "Expenses incurred after coverage ended.",
        "26" => "Expenses incurred before coverage began.",
        "29" => "The time limit for filing has expired.",
        "31" => "The patient cannot be identified as our member.",
        "45" => {
            "Charge exceeds the fee schedule or contracted amount; the difference is a contractual write-off."
        }
        "50" => "Not deemed a medical necessity by the payer.",
        "96" => "Non-covered charge.",
        "97" => {
            "The benefit for this service is included in the payment for another service already adjudicated."
        }
        "109" => {
            "Not covered by this payer; submit to the member's health network or correct payer."
        }
        "151" => "The number of services billed is more than the payer considers supported.",
        "197" => "Precertification, authorization or notification was absent.",
        "198" => {
            "Precertification, notification or authorization was exceeded (its units are used up)."
        }
        "204" => "This service is not covered under the member's current benefit plan.",
        "242" => "Services not provided by network or primary care providers.",
        _ => "See the X12 Claim Adjustment Reason Code list.",
    }
}

/// Plain-language explanation of the Remittance Advice Remark Codes the plan uses (X12 external
/// code list 411, reworded). Unknown codes fall back to a pointer to the list.
pub fn explain_rarc(code: &str) -> &'static str {
    match code {
        "M15" => {
            "Separately billed services or tests have been bundled, as they are considered components of the same procedure."
        }
        "M51" => "Missing, incomplete or invalid procedure code.",
        "M62" => "Missing, incomplete or invalid treatment authorization.",
        "N54" => {
            "The claim does not match the authorized services (procedure, provider, dates or units)."
        }
        "N130" => "Consult the plan's benefit documents for restrictions on this service.",
        "N418" => {
            "Misrouted claim: see the payer's claim submission instructions (bill the responsible network)."
        }
        _ => "See the X12 Remittance Advice Remark Code list.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        use ClaimStatus::*;
        assert!(Received.can_become(Paid));
        assert!(Received.can_become(Rejected));
        assert!(!Rejected.can_become(Paid));
        assert!(!Paid.can_become(Denied));
        assert!(Paid.can_become(Adjusted));
        assert!(Adjusted.can_become(Denied));
        for &s in ClaimStatus::ALL {
            assert!(!s.can_become(Received), "{s} must not go back to received");
        }
    }

    #[test]
    fn line_balances() {
        let line = ClaimLine {
            line_number: 1,
            procedure: "99213".into(),
            modifiers: vec![],
            revenue_code: None,
            units: 1,
            service_date: "2026-01-05".parse().unwrap(),
            billed: Cents(15000),
            allowed: Cents(9000),
            paid: Cents(8000),
            adjustments: vec![
                Adjustment {
                    group: AdjustmentGroup::ContractualObligation,
                    reason: "45".into(),
                    amount: Cents(6000),
                    remark: None,
                },
                Adjustment {
                    group: AdjustmentGroup::PatientResponsibility,
                    reason: "3".into(),
                    amount: Cents(1000),
                    remark: None,
                },
            ],
        };
        assert!(line.balances());
        assert_eq!(line.patient_responsibility(), Cents(1000));
    }
}
