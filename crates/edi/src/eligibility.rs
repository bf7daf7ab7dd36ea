//! 270 in, 271 out (005010X279A1), answered from the plan's eligibility records.
//!
//! The member is found by member ID (checked against the birth date and last name when they
//! are sent) or by last name, first name and birth date. The date of service is DTP*291 (the
//! start of a range), or today. The answer:
//!
//! - active coverage on that date: `EB*1` with the line of business (EB04 insurance type, EB05
//!   plan), the plan begin/end dates (DTP*346/347), the health network (2120C NM1*Y2 with its
//!   provider services telephone) and the primary care provider (2120C NM1*P3 with the NPI);
//! - no coverage on that date: `EB*6` (inactive) with the eligibility begin/end of the span
//!   nearest to it (DTP*356/357);
//! - a request that cannot be answered: AAA segments in the loop at fault (2100A payer id,
//!   2100B provider, 2100C subscriber) with the TR3's reject reason codes;
//! - a partner whose not-found lookups spent their budget (`crate::lookups`): `AAA*N**04*N` in
//!   2000A, "authorized quantity exceeded", for every request until the window frees, found or
//!   not, so the refusal tells nothing about the member asked for.
//!
//! A 271 never carries the member's street address or telephone (no subscriber N3/N4/PER):
//! [`storage::Coverage`] does not even hold them.

use crate::Partner;
use crate::caqh::{Accepted, Plan};
use crate::lookups::{self, Attempt, Channel, Looker};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::member::SpanState;
use domain::plan::{LineOfBusiness, NetworkKind};
use domain::{MemberId, Npi};
use storage::{
    Coverage, CoverageSpan, EligibilityLookup, MemberKey, NewMessage, StorageError, Store,
};
use x12::model::{
    Benefit, DateRef, EligibilityRequest, EligibilityResponse, Entity, Party, Person, Reject,
};

/// A 271 and what it discloses (to audit before it is sent).
#[derive(Debug, Clone)]
pub struct Answer {
    pub x12: String,
    /// Members whose coverage the 271 shows.
    pub disclosed: Vec<MemberId>,
    /// For the audit trail: `active`, `inactive`, or `AAA <loop> <code>`.
    pub outcome: String,
    /// Plan alerts the lookup guard queued (outbox id, message), for a mail transport.
    pub alerts: Vec<(i64, NewMessage)>,
}

/// A 271 before it is written: the response, the members it shows, the outcome, the alerts.
pub type Responded = (
    EligibilityResponse,
    Vec<MemberId>,
    String,
    Vec<(i64, NewMessage)>,
);

/// AAA03 reject reasons (005010X279A1, 2100A/2100B/2100C AAA).
pub mod reject {
    /// 2000A: Authorized Quantity Exceeded (more requests than the trading partner agreement
    /// allows): the lookup budget is spent.
    pub const QUANTITY_EXCEEDED: &str = "04";
    /// 2100A: Invalid/Missing Payer Id... (information source) participant identification.
    pub const INVALID_PARTICIPANT: &str = "79";
    /// 2100B: Authorization/Access Restrictions.
    pub const ACCESS_RESTRICTED: &str = "41";
    /// 2100B: Invalid/Missing Provider Identification.
    pub const INVALID_PROVIDER: &str = "43";
    /// 2100B: Provider Not on File.
    pub const PROVIDER_NOT_ON_FILE: &str = "51";
    /// 2100C: Invalid/Missing Date-of-Birth.
    pub const INVALID_BIRTH_DATE: &str = "58";
    /// 2100C: Date of Service Not Within Allowable Inquiry Period.
    pub const DATE_OUT_OF_RANGE: &str = "62";
    /// 2100C: Patient Birth Date Does Not Match That for the Patient on the Database.
    pub const BIRTH_DATE_MISMATCH: &str = "71";
    /// 2100C: Invalid/Missing Subscriber/Insured ID.
    pub const INVALID_MEMBER_ID: &str = "72";
    /// 2100C: Invalid/Missing Subscriber/Insured Name.
    pub const INVALID_NAME: &str = "73";
    /// 2100C: Subscriber/Insured Not Found.
    pub const NOT_FOUND: &str = "75";
}

/// AAA04 follow-up: C please correct and resubmit; N resubmission not allowed.
const CORRECT: &str = "C";
const NO_RESUBMIT: &str = "N";

fn x12_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..8)?, "%Y%m%d").ok()
}

/// EB04 insurance type for a line of business: Medicaid, or Medicare risk HMO for the D-SNP.
fn insurance_type(lob: LineOfBusiness) -> &'static str {
    match lob {
        LineOfBusiness::MediCal | LineOfBusiness::Pace => "MC",
        LineOfBusiness::OneCare | LineOfBusiness::OneCareConnect => "HN",
    }
}

/// Answers the first 270 of an accepted payload for `partner` (looking as `who`).
pub async fn answer(
    store: &dyn Store,
    partner: &Partner,
    who: &Looker,
    plan: &Plan,
    payload: &Accepted,
    now: DateTime<Utc>,
) -> Result<Answer, StorageError> {
    let req = payload
        .sets
        .first()
        .and_then(|t| EligibilityRequest::from_tree(&t.root))
        .unwrap_or_default();
    let (resp, disclosed, outcome, alerts) = respond(store, partner, who, plan, &req, now).await?;
    Ok(Answer {
        x12: resp.to_x12(&payload.envelope),
        disclosed,
        outcome,
        alerts,
    })
}

/// The 271 for one request, with the members it discloses. Every request that reaches the
/// member records goes through the lookup guard before its answer is decided.
pub async fn respond(
    store: &dyn Store,
    partner: &Partner,
    who: &Looker,
    plan: &Plan,
    req: &EligibilityRequest,
    now: DateTime<Utc>,
) -> Result<Responded, StorageError> {
    let today = now.date_naive();
    let mut resp = EligibilityResponse {
        payer: Party {
            name: plan.name.clone(),
            id: plan.payer_id.clone(),
        },
        provider: Party {
            name: req.provider_name.clone(),
            id: req.provider_npi.clone(),
        },
        // Echo what was asked (never an address: the request's N3/N4 are dropped).
        subscriber: Person {
            address: None,
            ..req.subscriber.clone()
        },
        trace: req.trace.clone(),
        ..EligibilityResponse::default()
    };
    let refuse = |mut resp: EligibilityResponse, loop_id: &str, reason: &str, follow_up: &str| {
        resp.rejects.push(Reject {
            loop_id: loop_id.into(),
            reason: reason.into(),
            follow_up: follow_up.into(),
        });
        let outcome = format!("AAA {loop_id} {reason}");
        Ok((resp, Vec::new(), outcome, Vec::new()))
    };

    if !req.payer_id.trim().eq_ignore_ascii_case(&plan.payer_id) {
        return refuse(resp, "2100A", reject::INVALID_PARTICIPANT, CORRECT);
    }
    let Ok(npi) = Npi::parse(&req.provider_npi) else {
        return refuse(resp, "2100B", reject::INVALID_PROVIDER, CORRECT);
    };

    let sub = &req.subscriber;
    let birth = if sub.dob.is_empty() {
        None
    } else {
        match parse_date(&sub.dob) {
            Some(d) if d <= today => Some(d),
            _ => return refuse(resp, "2100C", reject::INVALID_BIRTH_DATE, CORRECT),
        }
    };
    let key = if !sub.member_id.trim().is_empty() {
        match MemberId::parse(&sub.member_id) {
            Ok(id) => MemberKey::Id(id),
            Err(_) => return refuse(resp, "2100C", reject::INVALID_MEMBER_ID, CORRECT),
        }
    } else if sub.last.trim().is_empty() || sub.first.trim().is_empty() {
        return refuse(resp, "2100C", reject::INVALID_NAME, CORRECT);
    } else {
        match birth {
            Some(b) => MemberKey::NameBirth {
                last_name: sub.last.clone(),
                birth_date: b,
            },
            None => return refuse(resp, "2100C", reject::INVALID_BIRTH_DATE, CORRECT),
        }
    };
    // DTP*291 (the start of a range), else today. CAQH CORE eligibility data content: inquiries
    // are answered for dates up to the end of the current month.
    let service = if req.date_of_service.is_empty() {
        today
    } else {
        match parse_date(&req.date_of_service) {
            Some(d) => d,
            None => return refuse(resp, "2100C", reject::DATE_OUT_OF_RANGE, CORRECT),
        }
    };
    if service > end_of_month(today) {
        return refuse(resp, "2100C", reject::DATE_OUT_OF_RANGE, CORRECT);
    }

    let found = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi),
            member: key.clone(),
        })
        .await?;
    // The partner acts only for its TINs' providers.
    match found.provider_tin {
        None => return refuse(resp, "2100B", reject::PROVIDER_NOT_ON_FILE, CORRECT),
        Some(t) if !partner.scope.allows_tin(&t) => {
            return refuse(resp, "2100B", reject::ACCESS_RESTRICTED, NO_RESUBMIT);
        }
        Some(_) => {}
    }
    let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
    // Who the request names, or why nobody: decided before the guard, shown after it.
    let matched: Result<&Coverage, &str> = match &key {
        MemberKey::Id(_) => match found.members.first() {
            None => Err(reject::NOT_FOUND),
            Some(c) if birth.is_some_and(|b| b != c.member.birth_date) => {
                Err(reject::BIRTH_DATE_MISMATCH)
            }
            Some(c) if !sub.last.trim().is_empty() && !same(&sub.last, &c.member.last_name) => {
                Err(reject::INVALID_NAME)
            }
            Some(c) => Ok(c),
        },
        MemberKey::NameBirth { .. } => {
            let mut matching = found
                .members
                .iter()
                .filter(|c| same(&c.member.first_name, &sub.first));
            match (matching.next(), matching.next()) {
                (Some(c), None) => Ok(c),
                // None, or several people of that name and birth date: the member ID is needed.
                _ => Err(reject::NOT_FOUND),
            }
        }
    };
    let attempt = Attempt {
        member_id: match &key {
            MemberKey::Id(id) => Some(id.clone()),
            MemberKey::NameBirth { .. } => None,
        },
        found: matched.is_ok(),
    };
    let verdict = lookups::admit(store, who, Channel::Core, &[attempt], now).await?;
    if verdict.answered == 0 {
        let (resp, d, outcome, _) = refuse(resp, "2000A", reject::QUANTITY_EXCEEDED, NO_RESUBMIT)?;
        return Ok((resp, d, outcome, verdict.alerts));
    }
    let coverage: &Coverage = match matched {
        Ok(c) => c,
        Err(reason) => {
            let (resp, d, outcome, _) = refuse(resp, "2100C", reason, CORRECT)?;
            return Ok((resp, d, outcome, verdict.alerts));
        }
    };

    let m = &coverage.member;
    resp.subscriber = Person {
        last: m.last_name.clone(),
        first: m.first_name.clone(),
        member_id: m.id.as_str().to_string(),
        dob: x12_date(m.birth_date),
        gender: m.sex.code().to_string(),
        address: None,
    };
    let active = coverage.spans.iter().find(|s| s.span.covers(service));
    let outcome = match active {
        Some(s) => {
            resp.dates.push(DateRef {
                qualifier: "346".into(),
                date: x12_date(s.span.start),
            });
            if let Some(end) = s.span.end {
                resp.dates.push(DateRef {
                    qualifier: "347".into(),
                    date: x12_date(end),
                });
            }
            resp.benefits.push(active_benefit(s));
            "active"
        }
        None => {
            let nearest = nearest_span(&coverage.spans, service);
            if let Some(s) = nearest {
                resp.dates.push(DateRef {
                    qualifier: "356".into(),
                    date: x12_date(s.span.start),
                });
                if let Some(end) = s.span.end {
                    resp.dates.push(DateRef {
                        qualifier: "357".into(),
                        date: x12_date(end),
                    });
                }
            }
            resp.benefits.push(Benefit {
                info: "6".into(),
                coverage_level: "IND".into(),
                service_types: vec!["30".into()],
                insurance_type: nearest
                    .map(|s| insurance_type(s.span.line_of_business).to_string())
                    .unwrap_or_default(),
                plan: nearest
                    .map(|s| s.span.line_of_business.label().to_string())
                    .unwrap_or_default(),
                messages: vec![match nearest.map(|s| s.span.state_on(service)) {
                    Some(SpanState::Future) => {
                        "COVERAGE HAS NOT STARTED ON THE DATE OF SERVICE".into()
                    }
                    Some(_) => "COVERAGE ENDED BEFORE THE DATE OF SERVICE".into(),
                    None => "NO COVERAGE ON FILE".into(),
                }],
                ..Benefit::default()
            });
            "inactive"
        }
    };
    Ok((
        resp,
        vec![m.id.clone()],
        outcome.to_string(),
        verdict.alerts,
    ))
}

fn end_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.pred_opt())
        .unwrap_or(d)
}

/// The span that ended last before `day`, else the first that starts after it.
fn nearest_span(spans: &[CoverageSpan], day: NaiveDate) -> Option<&CoverageSpan> {
    spans
        .iter()
        .filter(|s| s.span.start <= day)
        .max_by_key(|s| s.span.start)
        .or_else(|| spans.iter().min_by_key(|s| s.span.start))
}

fn active_benefit(s: &CoverageSpan) -> Benefit {
    let lob = s.span.line_of_business;
    let network = Entity {
        // Y2: Managed Care Organization (the health network the member is assigned to).
        role: "Y2".into(),
        person: false,
        name: s.network_name.clone(),
        id_qualifier: String::new(),
        id: String::new(),
        phone: s.network_phone.clone(),
    };
    Benefit {
        info: "1".into(),
        coverage_level: "IND".into(),
        service_types: vec!["30".into()],
        insurance_type: insurance_type(lob).into(),
        plan: lob.label().into(),
        messages: vec![match s.network_kind {
            NetworkKind::Delegated => format!(
                "HEALTH NETWORK {} ({}) PAYS CLAIMS AND AUTHORIZES SERVICES",
                s.network_name, s.span.network
            ),
            NetworkKind::Community => format!(
                "HEALTH NETWORK {} ({}): THE PLAN PAYS CLAIMS",
                s.network_name, s.span.network
            ),
        }],
        // NM103 is required: a PCP missing from the directory is left out rather than unnamed.
        pcp: match (s.span.pcp, &s.pcp_name) {
            (Some(npi), Some(name)) => Some(Party {
                name: name.clone(),
                id: npi.as_str().to_string(),
            }),
            _ => None,
        },
        entities: vec![network],
        ..Benefit::default()
    }
}
