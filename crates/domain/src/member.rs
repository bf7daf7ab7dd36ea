//! Members and their eligibility history.

use crate::coded_enum;
use crate::ids::{MemberId, Npi};
use crate::plan::LineOfBusiness;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

coded_enum!(
    Sex {
        Female = ("F", "Female"),
        Male = ("M", "Male"),
        Unknown = ("U", "Unknown"),
    }
);

/// A member as the portal may show them: no street address, no telephone, no clinical data.
/// The contact details live in [`MemberContact`], a separate type that no view model accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
}

/// Contact details kept for the plan's own use (mailings, outreach). Never shown by the portal:
/// the type deliberately implements neither `Serialize` nor `Display`, and its `Debug` is redacted,
/// so it cannot end up in a page, a JSON body or a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct MemberContact {
    pub street: String,
    pub city: String,
    pub zip: String,
    pub phone: String,
}

impl std::fmt::Debug for MemberContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberContact(<redacted>)")
    }
}

/// A period of coverage: one line of business, one health network and one PCP.
/// `end` is inclusive; `None` means open-ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilitySpan {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub line_of_business: LineOfBusiness,
    /// Health network code.
    pub network: String,
    pub pcp: Option<Npi>,
}

coded_enum!(
    /// How a span stands relative to a date.
    SpanState {
        Active = ("active", "Active"),
        Termed = ("termed", "Terminated"),
        Future = ("future", "Future"),
    }
);

impl EligibilitySpan {
    pub fn new(
        start: NaiveDate,
        end: Option<NaiveDate>,
        lob: LineOfBusiness,
        network: String,
        pcp: Option<Npi>,
    ) -> Result<Self, SpanError> {
        if end.is_some_and(|e| e < start) {
            return Err(SpanError::EndsBeforeStart);
        }
        Ok(Self {
            start,
            end,
            line_of_business: lob,
            network,
            pcp,
        })
    }

    pub fn covers(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }

    pub fn state_on(&self, day: NaiveDate) -> SpanState {
        if day < self.start {
            SpanState::Future
        } else if self.covers(day) {
            SpanState::Active
        } else {
            SpanState::Termed
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("an eligibility span cannot end before it starts")]
    EndsBeforeStart,
    #[error("eligibility spans overlap ({0} and {1})")]
    Overlap(NaiveDate, NaiveDate),
}

/// Checks a member's history: spans sorted by start and never overlapping (a member has one
/// line of business and network on any day).
pub fn check_history(spans: &[EligibilitySpan]) -> Result<(), SpanError> {
    for w in spans.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.end.is_none_or(|e| e >= b.start) {
            return Err(SpanError::Overlap(a.start, b.start));
        }
    }
    Ok(())
}

/// The span that covers `day`, if any.
pub fn coverage_on(spans: &[EligibilitySpan], day: NaiveDate) -> Option<&EligibilitySpan> {
    spans.iter().find(|s| s.covers(day))
}

/// Age in whole years on `day` (for care-gap rules and eligibility displays).
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> u32 {
    day.years_since(birth).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn span(a: &str, b: Option<&str>) -> EligibilitySpan {
        EligibilitySpan::new(d(a), b.map(d), LineOfBusiness::MediCal, "CCN".into(), None).unwrap()
    }

    #[test]
    fn span_states() {
        let s = span("2025-01-01", Some("2025-12-31"));
        assert_eq!(s.state_on(d("2024-12-31")), SpanState::Future);
        assert_eq!(s.state_on(d("2025-12-31")), SpanState::Active);
        assert_eq!(s.state_on(d("2026-01-01")), SpanState::Termed);
        assert!(span("2025-01-01", None).covers(d("2099-01-01")));
    }

    #[test]
    fn history_rejects_overlap() {
        let ok = [
            span("2024-01-01", Some("2024-12-31")),
            span("2025-01-01", None),
        ];
        assert!(check_history(&ok).is_ok());
        let bad = [
            span("2024-01-01", Some("2025-01-01")),
            span("2025-01-01", None),
        ];
        assert!(check_history(&bad).is_err());
        assert!(
            EligibilitySpan::new(
                d("2025-01-02"),
                Some(d("2025-01-01")),
                LineOfBusiness::Pace,
                "X".into(),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn contact_is_redacted_in_debug() {
        let c = MemberContact {
            street: "1 Main".into(),
            city: "Irvine".into(),
            zip: "92618".into(),
            phone: "7145550100".into(),
        };
        assert!(!format!("{c:?}").contains("Main"));
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d("2000-06-15"), d("2026-06-14")), 25);
        assert_eq!(age_on(d("2000-06-15"), d("2026-06-15")), 26);
    }
}
