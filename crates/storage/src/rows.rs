//! Row decoding shared by the areas: stored codes back to their enums, identifiers parsed again
//! (a value that fails is `Corrupt`, naming its column, never the value), and the rows more
//! than one area reads (members, eligibility spans, authorization requests). Rows only one area
//! reads stay in that area.

use crate::Result;
use crate::error::corrupt;
use chrono::{DateTime, NaiveDate, Utc};
use domain::auth::{
    Appeal, AuthKind, AuthRequest, AuthStatus, DenialReason, RequestedService, Urgency,
};
use domain::member::{EligibilitySpan, Member, Sex};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, ClaimNumber, MemberId, Npi, Tin};

/// Parses a stored code back into its enum, naming the column if it is not one we know.
pub(crate) fn decode<T>(column: &str, value: &str, from_code: fn(&str) -> Option<T>) -> Result<T> {
    from_code(value).ok_or_else(|| corrupt(column, format!("unknown code '{value}'")))
}

/// Lists are stored comma-separated: the values (codes) never contain commas.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn npi(column: &str, s: &str) -> Result<Npi> {
    Npi::parse(s).map_err(|e| corrupt(column, e))
}

pub(crate) fn tin(column: &str, s: &str) -> Result<Tin> {
    Tin::parse(s).map_err(|e| corrupt(column, e))
}

pub(crate) fn member_id(column: &str, s: &str) -> Result<MemberId> {
    MemberId::parse(s).map_err(|e| corrupt(column, e))
}

pub(crate) fn claim_number(column: &str, s: &str) -> Result<ClaimNumber> {
    ClaimNumber::parse(s).map_err(|e| corrupt(column, e))
}

pub(crate) fn auth_number(column: &str, s: &str) -> Result<AuthNumber> {
    AuthNumber::parse(s).map_err(|e| corrupt(column, e))
}

/// `id, first_name, last_name, birth_date, sex` of `members`.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    pub(crate) id: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) birth_date: NaiveDate,
    pub(crate) sex: String,
}

/// The columns of [`MemberRow`], for `concat!`.
macro_rules! member_columns {
    () => {
        "id, first_name, last_name, birth_date, sex"
    };
}
pub(crate) use member_columns;

impl MemberRow {
    pub(crate) fn into_member(self) -> Result<Member> {
        Ok(Member {
            id: member_id("members.id", &self.id)?,
            first_name: self.first_name,
            last_name: self.last_name,
            birth_date: self.birth_date,
            sex: decode("members.sex", &self.sex, Sex::from_code)?,
        })
    }
}

/// One row of `eligibility_spans`, with its member.
#[derive(sqlx::FromRow)]
pub(crate) struct SpanRow {
    pub(crate) member_id: String,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: Option<NaiveDate>,
    pub(crate) line_of_business: String,
    pub(crate) network: String,
    pub(crate) pcp_npi: Option<String>,
}

/// The columns of [`SpanRow`], for `concat!`.
macro_rules! span_columns {
    () => {
        "member_id, start_date, end_date, line_of_business, network, pcp_npi"
    };
}
pub(crate) use span_columns;

impl SpanRow {
    pub(crate) fn member(&self) -> Result<MemberId> {
        member_id("eligibility_spans.member_id", &self.member_id)
    }

    pub(crate) fn into_span(self) -> Result<EligibilitySpan> {
        Ok(EligibilitySpan {
            start: self.start_date,
            end: self.end_date,
            line_of_business: decode(
                "eligibility_spans.line_of_business",
                &self.line_of_business,
                LineOfBusiness::from_code,
            )?,
            network: self.network,
            pcp: self
                .pcp_npi
                .as_deref()
                .map(|n| npi("eligibility_spans.pcp_npi", n))
                .transpose()?,
        })
    }
}

/// The columns of an authorization request, in the order `push_request!` binds them.
macro_rules! auth_columns {
    () => {
        "number, kind, urgency, member_id, requesting_npi, servicing_npi, diagnoses, place_of_service, from_date, to_date, received_at, status, decided_at, denial_code, denial_text, line_of_business, urgency_reason, clinical_notes, pended_at, info_received_at, due_at, reviewer_id, reviewer_name, auto_rule, appeal_decided_at, appeal_overturned"
    };
}
pub(crate) use auth_columns;

/// One row of `auth_requests` (read by utilization management and by adjudication).
#[derive(sqlx::FromRow)]
pub(crate) struct AuthRow {
    pub(crate) number: String,
    kind: String,
    urgency: String,
    member_id: String,
    requesting_npi: String,
    servicing_npi: String,
    diagnoses: String,
    place_of_service: String,
    from_date: NaiveDate,
    to_date: NaiveDate,
    received_at: DateTime<Utc>,
    status: String,
    decided_at: Option<DateTime<Utc>>,
    denial_code: Option<String>,
    denial_text: Option<String>,
    line_of_business: String,
    urgency_reason: String,
    clinical_notes: String,
    pended_at: Option<DateTime<Utc>>,
    info_received_at: Option<DateTime<Utc>>,
    reviewer_id: Option<i64>,
    reviewer_name: Option<String>,
    auto_rule: Option<String>,
    appeal_decided_at: Option<DateTime<Utc>>,
    appeal_overturned: Option<bool>,
}

/// One row of `auth_services`, with its request's number.
#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    pub(crate) auth_number: String,
    procedure: String,
    units: i64,
    approved_units: Option<i64>,
    approved_from: Option<NaiveDate>,
    approved_to: Option<NaiveDate>,
}

/// The columns of [`ServiceRow`], for `concat!`.
macro_rules! service_columns {
    () => {
        "auth_number, procedure, units, approved_units, approved_from, approved_to"
    };
}
pub(crate) use service_columns;

fn units(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|e| corrupt("auth_services.units", e))
}

impl AuthRow {
    /// The request with its services (in order).
    pub(crate) fn into_request(self, services: Vec<ServiceRow>) -> Result<AuthRequest> {
        let a = self;
        Ok(AuthRequest {
            number: auth_number("auth_requests.number", &a.number)?,
            kind: decode("auth_requests.kind", &a.kind, AuthKind::from_code)?,
            urgency: decode("auth_requests.urgency", &a.urgency, Urgency::from_code)?,
            member: member_id("auth_requests.member_id", &a.member_id)?,
            line_of_business: decode(
                "auth_requests.line_of_business",
                &a.line_of_business,
                LineOfBusiness::from_code,
            )?,
            requesting_npi: npi("auth_requests.requesting_npi", &a.requesting_npi)?,
            servicing_npi: npi("auth_requests.servicing_npi", &a.servicing_npi)?,
            diagnoses: split_list(&a.diagnoses),
            services: services
                .into_iter()
                .map(|s| {
                    Ok(RequestedService {
                        procedure: s.procedure,
                        units: units(s.units)?,
                        approved_units: s.approved_units.map(units).transpose()?,
                        approved_from: s.approved_from,
                        approved_to: s.approved_to,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            place_of_service: a.place_of_service,
            from_date: a.from_date,
            to_date: a.to_date,
            received_at: a.received_at,
            status: decode("auth_requests.status", &a.status, AuthStatus::from_code)?,
            decided_at: a.decided_at,
            denial_reason: match (a.denial_code, a.denial_text) {
                (Some(code), Some(text)) => Some(DenialReason { code, text }),
                _ => None,
            },
            urgency_reason: a.urgency_reason,
            clinical_notes: a.clinical_notes,
            pended_at: a.pended_at,
            info_received_at: a.info_received_at,
            reviewer: a.reviewer_id.zip(a.reviewer_name),
            auto_rule: a.auto_rule,
            appeal: match (a.appeal_decided_at, a.appeal_overturned) {
                (Some(decided_at), Some(overturned)) => Some(Appeal {
                    decided_at,
                    overturned,
                }),
                _ => None,
            },
        })
    }
}
