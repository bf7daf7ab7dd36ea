//! Referrals and prior authorizations: the request, its decision, the timeline of what happened
//! to it, and the transitions a reviewer may make (each checked here, so the web form and the
//! X12 278 obey the same rules). The legal clocks are in [`crate::clock`]; the plan's
//! auth-required and auto-approval rules in [`crate::auth_rules`]; the public CMS-0057-F
//! metrics in [`crate::auth_metrics`].

use crate::clock::{ClockInput, Deadline, PEND_EXTENSION, decision_deadline};
use crate::coded_enum;
use crate::ids::{AuthNumber, MemberId, Npi};
use crate::plan::LineOfBusiness;
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

    /// Approved in full or in part (what the public metrics count as approved).
    pub fn is_approval(self) -> bool {
        matches!(
            self,
            Self::Approved | Self::PartiallyApproved | Self::Modified
        )
    }

    /// Still on a reviewer's desk.
    pub fn is_open(self) -> bool {
        !self.is_decided()
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
    /// Dates the approval covers (filled on decision; may differ from the request's).
    #[serde(default)]
    pub approved_from: Option<NaiveDate>,
    #[serde(default)]
    pub approved_to: Option<NaiveDate>,
}

impl RequestedService {
    pub fn new(procedure: impl Into<String>, units: u32) -> Self {
        RequestedService {
            procedure: procedure.into(),
            units,
            approved_units: None,
            approved_from: None,
            approved_to: None,
        }
    }
}

/// What came of an appeal of a denial (recorded by a reviewer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub decided_at: DateTime<Utc>,
    /// The denial was reversed: the services are approved after appeal.
    pub overturned: bool,
}

/// A referral or prior authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub number: AuthNumber,
    pub kind: AuthKind,
    pub urgency: Urgency,
    pub member: MemberId,
    /// The member's line of business on the first requested date (sets the clock).
    pub line_of_business: LineOfBusiness,
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
    /// Why the request is urgent (required when expedited).
    pub urgency_reason: String,
    /// The requester's clinical notes (shown to the reviewer and the requesting office only).
    pub clinical_notes: String,
    /// When the plan asked for more information, and when it arrived.
    pub pended_at: Option<DateTime<Utc>>,
    pub info_received_at: Option<DateTime<Utc>>,
    /// The reviewer who took the case (user id and name).
    pub reviewer: Option<(i64, String)>,
    /// The auto-approval rule that decided it at once, in words.
    pub auto_rule: Option<String>,
    pub appeal: Option<Appeal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialReason {
    pub code: String,
    pub text: String,
}

/// The plan's coded denial reasons (each denial names one and explains it in words).
pub const DENIAL_REASONS: &[(&str, &str)] = &[
    (
        "MN01",
        "Medical necessity not shown by the documentation sent",
    ),
    ("MN02", "A less intensive service or setting meets the need"),
    ("CR01", "Clinical criteria for the service are not met"),
    (
        "NC01",
        "Not a covered benefit for the member's line of business",
    ),
    ("EL01", "Member not eligible on the requested dates"),
    (
        "NP01",
        "Servicing provider not in the member's network; an in-network provider is available",
    ),
    ("DU01", "Duplicate of an existing authorization"),
    (
        "IN01",
        "Requested information was not received within the extension",
    ),
];

pub fn denial_reason_label(code: &str) -> Option<&'static str> {
    DENIAL_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the service end date is before its start date")]
    DatesReversed,
    #[error("at least one service is required")]
    NoServices,
    #[error("a denial needs a specific reason, coded and in words")]
    DenialWithoutReason,
    #[error("choose a reason from the plan's list of denial reasons")]
    UnknownDenialCode,
    #[error("this request has already been decided")]
    AlreadyDecided,
    #[error("this request is not waiting for information")]
    NotPended,
    #[error("this request was already pended once; the 14-day extension is used up")]
    AlreadyPended,
    #[error("the decision deadline has passed: a pend can no longer extend it")]
    PendTooLate,
    #[error("say what information is needed")]
    QuestionMissing,
    #[error("approved units must be between 0 and the units requested")]
    UnitsOutOfRange,
    #[error(
        "a partial approval approves fewer units than requested for at least one service, and some units"
    )]
    NotPartial,
    #[error("a modification changes the approved units or dates of at least one service")]
    NotModified,
    #[error("the approved dates are reversed")]
    ApprovedDatesReversed,
    #[error("one entry per requested service is needed")]
    WrongServiceCount,
    #[error("only a denied request can be appealed, once")]
    NotAppealable,
}

/// What a reviewer decides for one service (partial approval or modification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceDecision {
    pub approved_units: u32,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A reviewer's determination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Everything as requested.
    Approve,
    /// Fewer units than requested for some services.
    PartiallyApprove(Vec<ServiceDecision>),
    /// Units or dates changed.
    Modify(Vec<ServiceDecision>),
    Deny(DenialReason),
}

coded_enum!(
    /// What happened to a request, in order, shown as its timeline.
    AuthEventKind {
        Received = ("received", "Received"),
        AutoDecided = ("auto_decided", "Decided automatically"),
        Taken = ("taken", "Taken by a reviewer"),
        Pended = ("pended", "Pended for more information"),
        InformationReceived = ("info_received", "Information received"),
        Decided = ("decided", "Decided"),
        Withdrawn = ("withdrawn", "Withdrawn"),
        Appealed = ("appeal_decided", "Appeal decided"),
    }
);

/// One entry of a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthEvent {
    pub at: DateTime<Utc>,
    pub kind: AuthEventKind,
    /// Who did it ("Olivia Office", "Dr. Uma Reviewer", "EDI 278", "the plan's rules").
    pub actor: String,
    /// What they said (the question asked, the rule applied, the decision in words).
    pub note: String,
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

    pub fn clock_input(&self) -> ClockInput {
        ClockInput {
            line_of_business: self.line_of_business,
            urgency: self.urgency,
            received: self.received_at,
            pended_at: self.pended_at,
            info_received: self.info_received_at,
        }
    }

    /// When the decision is due and the rule that set it.
    pub fn deadline(&self) -> Deadline {
        decision_deadline(&self.clock_input())
    }

    /// Undecided past the deadline, or decided after it.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        crate::clock::is_overdue(&self.deadline(), self.decided_at, now)
    }

    /// What the office reads as the status: an overturned denial reads as approved on appeal.
    pub fn status_label(&self) -> &'static str {
        match (&self.appeal, self.status) {
            (Some(a), AuthStatus::Denied) if a.overturned => "Approved on appeal",
            (Some(_), AuthStatus::Denied) => "Denied (upheld on appeal)",
            (_, s) => s.label(),
        }
    }

    /// A reviewer takes the case.
    pub fn take(&mut self, reviewer: (i64, String)) -> Result<(), AuthError> {
        if self.status.is_decided() {
            return Err(AuthError::AlreadyDecided);
        }
        if self.status == AuthStatus::Received {
            self.status = AuthStatus::InReview;
        }
        self.reviewer = Some(reviewer);
        Ok(())
    }

    /// The plan asks for more information: allowed once, before the deadline; the clock is
    /// extended by up to 14 days (see `clock`).
    pub fn pend(&mut self, at: DateTime<Utc>, question: &str) -> Result<(), AuthError> {
        if self.status.is_decided() {
            return Err(AuthError::AlreadyDecided);
        }
        if self.pended_at.is_some() {
            return Err(AuthError::AlreadyPended);
        }
        if question.trim().is_empty() {
            return Err(AuthError::QuestionMissing);
        }
        if at >= self.deadline().due {
            return Err(AuthError::PendTooLate);
        }
        self.pended_at = Some(at);
        self.status = AuthStatus::Pended;
        Ok(())
    }

    /// The requester sends the information asked for (restarts Medi-Cal's 5 working days).
    pub fn information_received(&mut self, at: DateTime<Utc>) -> Result<(), AuthError> {
        if self.status != AuthStatus::Pended {
            return Err(AuthError::NotPended);
        }
        self.info_received_at = Some(at);
        self.status = AuthStatus::InReview;
        Ok(())
    }

    /// Applies a determination.
    pub fn decide(&mut self, decision: &Decision, at: DateTime<Utc>) -> Result<(), AuthError> {
        if self.status.is_decided() {
            return Err(AuthError::AlreadyDecided);
        }
        let per_service = |ds: &[ServiceDecision]| -> Result<(), AuthError> {
            if ds.len() != self.services.len() {
                return Err(AuthError::WrongServiceCount);
            }
            for (d, s) in ds.iter().zip(&self.services) {
                if d.approved_units > s.units {
                    return Err(AuthError::UnitsOutOfRange);
                }
                if d.to < d.from {
                    return Err(AuthError::ApprovedDatesReversed);
                }
            }
            Ok(())
        };
        match decision {
            Decision::Approve => {
                for s in &mut self.services {
                    s.approved_units = Some(s.units);
                    s.approved_from = Some(self.from_date);
                    s.approved_to = Some(self.to_date);
                }
                self.status = AuthStatus::Approved;
                self.denial_reason = None;
            }
            Decision::PartiallyApprove(ds) => {
                per_service(ds)?;
                let fewer = ds
                    .iter()
                    .zip(&self.services)
                    .any(|(d, s)| d.approved_units < s.units);
                if !fewer || ds.iter().all(|d| d.approved_units == 0) {
                    return Err(AuthError::NotPartial);
                }
                self.apply(ds);
                self.status = AuthStatus::PartiallyApproved;
            }
            Decision::Modify(ds) => {
                per_service(ds)?;
                let changed = ds.iter().zip(&self.services).any(|(d, s)| {
                    d.approved_units != s.units || d.from != self.from_date || d.to != self.to_date
                });
                if !changed || ds.iter().all(|d| d.approved_units == 0) {
                    return Err(AuthError::NotModified);
                }
                self.apply(ds);
                self.status = AuthStatus::Modified;
            }
            Decision::Deny(reason) => {
                let code = reason.code.trim();
                if code.is_empty() || reason.text.trim().is_empty() {
                    return Err(AuthError::DenialWithoutReason);
                }
                if denial_reason_label(code).is_none() {
                    return Err(AuthError::UnknownDenialCode);
                }
                for s in &mut self.services {
                    s.approved_units = Some(0);
                    s.approved_from = None;
                    s.approved_to = None;
                }
                self.status = AuthStatus::Denied;
                self.denial_reason = Some(DenialReason {
                    code: code.to_string(),
                    text: reason.text.trim().to_string(),
                });
            }
        }
        self.decided_at = Some(at);
        Ok(())
    }

    fn apply(&mut self, ds: &[ServiceDecision]) {
        for (d, s) in ds.iter().zip(&mut self.services) {
            s.approved_units = Some(d.approved_units);
            s.approved_from = Some(d.from);
            s.approved_to = Some(d.to);
        }
        self.denial_reason = None;
    }

    /// The requester withdraws an open request (it leaves the queue; no decision is made).
    pub fn withdraw(&mut self, at: DateTime<Utc>) -> Result<(), AuthError> {
        if self.status.is_decided() {
            return Err(AuthError::AlreadyDecided);
        }
        self.status = AuthStatus::Withdrawn;
        self.decided_at = Some(at);
        Ok(())
    }

    /// Records the outcome of an appeal of a denial (overturned: approved after appeal).
    pub fn record_appeal(&mut self, overturned: bool, at: DateTime<Utc>) -> Result<(), AuthError> {
        if self.status != AuthStatus::Denied || self.appeal.is_some() {
            return Err(AuthError::NotAppealable);
        }
        if overturned {
            for s in &mut self.services {
                s.approved_units = Some(s.units);
                s.approved_from = Some(self.from_date);
                s.approved_to = Some(self.to_date);
            }
        }
        self.appeal = Some(Appeal {
            decided_at: at,
            overturned,
        });
        Ok(())
    }

    /// The latest a pend may still be answered within the extension.
    pub fn pend_limit(&self) -> Option<DateTime<Utc>> {
        self.pended_at.map(|_| {
            let base = decision_deadline(&ClockInput {
                pended_at: None,
                info_received: None,
                ..self.clock_input()
            });
            base.due + PEND_EXTENSION
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub(crate) fn request() -> AuthRequest {
        AuthRequest {
            number: AuthNumber::from_sequence(1),
            kind: AuthKind::PriorAuthorization,
            urgency: Urgency::Standard,
            member: MemberId::parse("M100000001").unwrap(),
            line_of_business: LineOfBusiness::MediCal,
            requesting_npi: Npi::parse("1234567893").unwrap(),
            servicing_npi: Npi::parse("1558598797").unwrap(),
            diagnoses: vec!["M545".into()],
            services: vec![
                RequestedService::new("97110", 12),
                RequestedService::new("73721", 1),
            ],
            place_of_service: "11".into(),
            from_date: "2026-10-12".parse().unwrap(),
            to_date: "2026-12-31".parse().unwrap(),
            received_at: at("2026-10-07T17:00:00Z"),
            status: AuthStatus::Received,
            decided_at: None,
            denial_reason: None,
            urgency_reason: String::new(),
            clinical_notes: String::new(),
            pended_at: None,
            info_received_at: None,
            reviewer: None,
            auto_rule: None,
            appeal: None,
        }
    }

    #[test]
    fn a_denial_needs_a_listed_code_and_words() {
        let mut r = request();
        let deny = |code: &str, text: &str| {
            Decision::Deny(DenialReason {
                code: code.into(),
                text: text.into(),
            })
        };
        let now = at("2026-10-08T17:00:00Z");
        assert_eq!(
            r.decide(&deny("", "no"), now),
            Err(AuthError::DenialWithoutReason)
        );
        assert_eq!(
            r.decide(&deny("MN01", "  "), now),
            Err(AuthError::DenialWithoutReason)
        );
        assert_eq!(
            r.decide(&deny("ZZ99", "why"), now),
            Err(AuthError::UnknownDenialCode)
        );
        assert_eq!(r.status, AuthStatus::Received, "nothing changed");
        r.decide(&deny("MN01", "No six weeks of therapy documented."), now)
            .unwrap();
        assert_eq!(r.status, AuthStatus::Denied);
        r.check().unwrap();
        assert_eq!(
            r.decide(&Decision::Approve, now),
            Err(AuthError::AlreadyDecided)
        );
    }

    #[test]
    fn partial_and_modified() {
        let from: NaiveDate = "2026-10-12".parse().unwrap();
        let to: NaiveDate = "2026-12-31".parse().unwrap();
        let now = at("2026-10-08T17:00:00Z");
        let sd = |u, f, t| ServiceDecision {
            approved_units: u,
            from: f,
            to: t,
        };
        let mut r = request();
        // All units as requested is not partial.
        assert_eq!(
            r.decide(
                &Decision::PartiallyApprove(vec![sd(12, from, to), sd(1, from, to)]),
                now
            ),
            Err(AuthError::NotPartial)
        );
        assert_eq!(
            r.decide(
                &Decision::PartiallyApprove(vec![sd(13, from, to), sd(1, from, to)]),
                now
            ),
            Err(AuthError::UnitsOutOfRange)
        );
        assert_eq!(
            r.decide(&Decision::PartiallyApprove(vec![sd(6, from, to)]), now),
            Err(AuthError::WrongServiceCount)
        );
        r.decide(
            &Decision::PartiallyApprove(vec![sd(6, from, to), sd(1, from, to)]),
            now,
        )
        .unwrap();
        assert_eq!(r.services[0].approved_units, Some(6));
        assert_eq!(r.status, AuthStatus::PartiallyApproved);

        let mut r = request();
        let later: NaiveDate = "2026-11-30".parse().unwrap();
        assert_eq!(
            r.decide(
                &Decision::Modify(vec![sd(12, from, to), sd(1, from, to)]),
                now
            ),
            Err(AuthError::NotModified)
        );
        assert_eq!(
            r.decide(
                &Decision::Modify(vec![sd(12, to, from), sd(1, from, to)]),
                now
            ),
            Err(AuthError::ApprovedDatesReversed)
        );
        r.decide(
            &Decision::Modify(vec![sd(12, from, later), sd(1, from, later)]),
            now,
        )
        .unwrap();
        assert_eq!(r.services[1].approved_to, Some(later));
        assert_eq!(r.status, AuthStatus::Modified);
    }

    #[test]
    fn pend_once_before_the_deadline_then_information_restarts_the_clock() {
        let mut r = request();
        let base = r.deadline().due;
        assert_eq!(
            r.pend(at("2026-10-08T17:00:00Z"), " "),
            Err(AuthError::QuestionMissing)
        );
        assert_eq!(r.pend(base, "x-rays?"), Err(AuthError::PendTooLate));
        r.pend(at("2026-10-08T17:00:00Z"), "Please send the x-ray report.")
            .unwrap();
        assert_eq!(r.status, AuthStatus::Pended);
        assert_eq!(r.deadline().due, base + PEND_EXTENSION);
        assert_eq!(r.pend_limit(), Some(base + PEND_EXTENSION));
        assert_eq!(
            r.pend(at("2026-10-09T17:00:00Z"), "more"),
            Err(AuthError::AlreadyPended)
        );
        r.information_received(at("2026-10-13T18:00:00Z")).unwrap();
        assert_eq!(r.status, AuthStatus::InReview);
        assert!(r.deadline().rule.contains("requested information"));
        assert_eq!(
            r.information_received(at("2026-10-14T18:00:00Z")),
            Err(AuthError::NotPended)
        );
    }

    #[test]
    fn only_open_requests_are_withdrawn() {
        let mut r = request();
        let now = at("2026-10-08T17:00:00Z");
        r.withdraw(now).unwrap();
        assert_eq!(r.status, AuthStatus::Withdrawn);
        assert_eq!(r.withdraw(now), Err(AuthError::AlreadyDecided));
        assert_eq!(
            r.decide(&Decision::Approve, now),
            Err(AuthError::AlreadyDecided)
        );
    }

    #[test]
    fn appeals_only_of_denials() {
        let mut r = request();
        let now = at("2026-10-08T17:00:00Z");
        assert_eq!(r.record_appeal(true, now), Err(AuthError::NotAppealable));
        r.decide(
            &Decision::Deny(DenialReason {
                code: "CR01".into(),
                text: "Criteria not met.".into(),
            }),
            now,
        )
        .unwrap();
        r.record_appeal(true, now).unwrap();
        assert_eq!(r.status_label(), "Approved on appeal");
        assert_eq!(r.services[0].approved_units, Some(12));
        assert_eq!(r.record_appeal(false, now), Err(AuthError::NotAppealable));
    }
}
