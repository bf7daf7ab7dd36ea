//! Member eligibility for provider offices: one member by ID or by name, always with the birth
//! date (the lookup is plan-wide, as in commercial portals, so the birth date is what limits
//! it), as of a date of service. Batch eligibility (a CSV file) is `eligibility_batch`.
//!
//! Every lookup goes through the lookup guard (`edi::lookups`) after the member is looked up
//! and before anything is shown: a user (or office) whose lookups found nobody too often in the
//! last day is refused, found member or not, with the time they may look up again; each miss is
//! audited.
//!
//! The criteria are PHI, so every search is a POST form (never a query string), picking one of
//! several name matches too. A member's street address, telephone and clinical data are never
//! read here (`MemberStore::member` does not carry them). Every member shown is written to the
//! audit trail before the page (or the CSV) is sent.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::phone_label;
use crate::kit::format::us_date;
use crate::pages::alerts::gaps_for;
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use domain::care_gaps::earliest_relevant;
use domain::eligibility::{
    Criteria, Lookup, LookupForm, PlanNotice, california_today, first_name_matches,
    has_future_span, notices_for, span_for,
};
use domain::lookup_limits::{OFFICE_MISSES, USER_MISSES, WINDOW_HOURS};
use domain::member::{EligibilitySpan, Member, SpanState};
use domain::plan::{HealthNetwork, NetworkKind};
use domain::provider::Provider;
use edi::lookups::{Attempt, Channel, Looker};
use serde::Deserialize;
use storage::MemberRecord;

/// The lookup form as posted (every field optional: the domain says what is missing).
#[derive(Deserialize, Default)]
pub struct LookupFields {
    #[serde(default)]
    pub member_id: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub date_of_service: String,
}

impl LookupFields {
    fn form(&self) -> LookupForm {
        let clip = |s: &str| s.chars().take(100).collect::<String>();
        LookupForm {
            member_id: clip(&self.member_id),
            last_name: clip(&self.last_name),
            first_name: clip(&self.first_name),
            birth_date: clip(&self.birth_date),
            date_of_service: clip(&self.date_of_service),
        }
    }
}

pub struct TextField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub placeholder: &'static str,
    pub inputmode: &'static str,
    /// An "or" divider before this field (member ID or name).
    pub or_before: bool,
}

fn fields(f: &LookupForm, errors: &FieldErrors) -> Vec<TextField> {
    let field = |name, label, hint, value: &str, placeholder, inputmode, or_before| TextField {
        name,
        label,
        hint,
        value: value.to_string(),
        error: errors.get(name).cloned(),
        placeholder,
        inputmode,
        or_before,
    };
    vec![
        field(
            "member_id",
            "Member ID",
            "As on the member's card, e.g. M000012345 or M482109375618.",
            &f.member_id,
            "M000012345",
            "text",
            false,
        ),
        field(
            "last_name",
            "Last name",
            "If you do not have the member ID.",
            &f.last_name,
            "",
            "text",
            true,
        ),
        field(
            "first_name",
            "First name (optional)",
            "Narrows a name search; the beginning of the name is enough.",
            &f.first_name,
            "",
            "text",
            false,
        ),
        field(
            "birth_date",
            "Birth date",
            "Required. MM/DD/YYYY or YYYY-MM-DD.",
            &f.birth_date,
            "MM/DD/YYYY",
            "numeric",
            false,
        ),
        field(
            "date_of_service",
            "Date of service (optional)",
            "Leave empty for today (California time).",
            &f.date_of_service,
            "MM/DD/YYYY",
            "numeric",
            false,
        ),
    ]
}

pub struct SpanView {
    pub start: String,
    pub end: String,
    pub line_of_business: &'static str,
    pub network: String,
    pub pcp: String,
    pub state_code: &'static str,
    pub state: &'static str,
    pub answers: bool,
}

pub struct NoticeView {
    pub level: &'static str,
    pub level_label: &'static str,
    pub title: String,
    pub body: String,
}

pub struct ResultView {
    pub name: String,
    pub birth_date: String,
    pub member_id: String,
    pub line_of_business: String,
    /// `active`, `termed`, `future` or `none`.
    pub status_code: &'static str,
    pub headline: String,
    pub date_of_service: String,
    pub spans: Vec<SpanView>,
    pub network_name: String,
    pub network_payer: String,
    pub network_phone: String,
    pub pcp_name: String,
    pub pcp_npi: String,
    pub pcp_phone: String,
    pub pcp_specialty: String,
    pub notices: Vec<NoticeView>,
    pub open_gaps: usize,
    /// The member's PCP is in this office (their gaps are on the alerts page).
    pub assigned_here: bool,
}

pub struct MatchView {
    pub name: String,
    pub birth_date: String,
    pub member_id: String,
    pub birth_iso: String,
}

#[derive(Template)]
#[template(path = "eligibility.html")]
pub struct EligibilityPage {
    pub chrome: Chrome,
    pub fields: Vec<TextField>,
    pub error_count: usize,
    /// No match, or too many: said above the form.
    pub problem: Option<String>,
    /// Lookups refused: the budget of not-found lookups is spent.
    pub limit: Option<String>,
    pub matches: Vec<MatchView>,
    pub dos_iso: String,
    pub result: Option<ResultView>,
}

/// What a search answered, beyond the form itself.
#[derive(Default)]
struct Answer {
    /// No match, or too many: said above the form.
    problem: Option<String>,
    limit: Option<String>,
    matches: Vec<MatchView>,
    dos_iso: String,
    result: Option<ResultView>,
}

fn page(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    form: &LookupForm,
    errors: &FieldErrors,
    answer: Answer,
) -> Response {
    let title = match &answer.result {
        Some(r) => format!("Eligibility: {}", r.name),
        None => "Eligibility".to_string(),
    };
    render(
        status,
        &EligibilityPage {
            chrome: Chrome::signed(state, signed, title, "/eligibility"),
            fields: fields(form, errors),
            error_count: errors.len(),
            problem: answer.problem,
            limit: answer.limit,
            matches: answer.matches,
            dos_iso: answer.dos_iso,
            result: answer.result,
        },
    )
}

/// `GET /eligibility`: the lookup form.
pub async fn form(State(state): State<AppState>, signed: Signed) -> Response {
    page(
        &state,
        &signed,
        StatusCode::OK,
        &LookupForm::default(),
        &FieldErrors::new(),
        Answer::default(),
    )
}

const NO_MATCH: &str = "No member matches. Check the member ID (or the spelling of the last name) and the birth date against the member's card; the birth date must match exactly.";

/// `POST /eligibility`: a search, or the pick of one of several name matches.
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    Form(fields): Form<LookupFields>,
) -> Response {
    let form = fields.form();
    let today = california_today(Utc::now());
    let lookup = match form.parse(today) {
        Ok(l) => l,
        Err(e) => {
            return page(
                &state,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &e,
                Answer::default(),
            );
        }
    };
    let none = FieldErrors::new();
    let found = match find(&state, &lookup).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "eligibility lookup failed");
            return errors::unavailable(&state);
        }
    };
    // Counted (and refused once the budget is spent) before anything is shown.
    let attempt = Attempt {
        member_id: match &lookup.criteria {
            Criteria::Id(id) => Some(id.clone()),
            Criteria::Name { .. } => None,
        },
        found: !matches!(found, Found::None),
    };
    let verdict = match edi::lookups::admit(
        &*state.store,
        &looker(&signed),
        Channel::Page,
        &[attempt],
        Utc::now(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "eligibility lookup not admitted");
            return errors::unavailable(&state);
        }
    };
    crate::mail::deliver_queued(&state, &verdict.alerts).await;
    if verdict.answered == 0 {
        return page(
            &state,
            &signed,
            StatusCode::TOO_MANY_REQUESTS,
            &form,
            &none,
            Answer {
                limit: Some(limit_message(verdict.retry_at)),
                ..Answer::default()
            },
        );
    }
    let record = match found {
        Found::One(r) => r,
        Found::None => {
            return page(
                &state,
                &signed,
                StatusCode::OK,
                &form,
                &none,
                Answer {
                    problem: Some(NO_MATCH.into()),
                    ..Answer::default()
                },
            );
        }
        Found::Several(members) => {
            let ids: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
            if let Err(p) = audit::phi_reads(&state, &signed, "member.read", "member", &ids).await {
                return p;
            }
            let matches = members
                .iter()
                .map(|m| MatchView {
                    name: format!("{} {}", m.first_name, m.last_name),
                    birth_date: us_date(m.birth_date),
                    member_id: m.id.to_string(),
                    birth_iso: m.birth_date.to_string(),
                })
                .collect();
            return page(
                &state,
                &signed,
                StatusCode::OK,
                &form,
                &none,
                Answer {
                    problem: Some(format!(
                        "{} members have this name and birth date. Choose the member, or search by member ID.",
                        members.len()
                    )),
                    matches,
                    dos_iso: lookup.date_of_service.to_string(),
                    ..Answer::default()
                },
            );
        }
    };
    let result = match result_view(&state, &signed, &record, lookup.date_of_service).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "eligibility details failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(p) = audit::phi_read(&state, &signed, "member", record.member.id.as_str()).await {
        return p;
    }
    page(
        &state,
        &signed,
        StatusCode::OK,
        &form,
        &none,
        Answer {
            result: Some(result),
            ..Answer::default()
        },
    )
}

/// Who is looking, for the lookup guard.
pub(crate) fn looker(signed: &Signed) -> Looker {
    Looker {
        user_id: signed.identity.user.id,
        username: signed.identity.user.username.clone(),
        org_id: signed.identity.org.id,
        source: signed.source.clone(),
    }
}

/// Why lookups are refused, and until when (California time).
pub(crate) fn limit_message(retry_at: Option<DateTime<Utc>>) -> String {
    let until = match retry_at {
        Some(t) => {
            let local = t.with_timezone(&domain::clock::pacific_offset(t));
            format!(
                "until {} (California time)",
                local.format("%-I:%M %p on %b %-d")
            )
        }
        None => "for now".to_string(),
    };
    format!(
        "Lookups are paused {until}: too many members were not found in the last {WINDOW_HOURS} \
         hours (the limit is {USER_MISSES} a person and {OFFICE_MISSES} an office). This protects \
         members' birth dates from guessing. Check the member ID and birth date against the \
         member's card; if you need a member checked now, call the plan's Provider Relations."
    )
}

enum Found {
    None,
    One(MemberRecord),
    Several(Vec<Member>),
}

async fn find(state: &AppState, lookup: &Lookup) -> Result<Found, storage::StorageError> {
    match &lookup.criteria {
        Criteria::Id(id) => Ok(match state.store.member(id).await? {
            // An ID with another birth date answers exactly like an unknown ID.
            Some(r) if r.member.birth_date == lookup.birth_date => Found::One(r),
            _ => Found::None,
        }),
        Criteria::Name { last, first } => {
            let mut found = state.store.find_members(last, lookup.birth_date).await?;
            found.retain(|m| first_name_matches(m, first.as_deref()));
            Ok(match found.len() {
                0 => Found::None,
                1 => match state.store.member(&found[0].id).await? {
                    Some(r) => Found::One(r),
                    None => Found::None,
                },
                _ => Found::Several(found),
            })
        }
    }
}

fn span_state_label(s: SpanState) -> &'static str {
    match s {
        SpanState::Active => "Active",
        SpanState::Termed => "Ended",
        SpanState::Future => "Starts later",
    }
}

fn end_label(s: &EligibilitySpan) -> String {
    s.end.map(us_date).unwrap_or_else(|| "Open-ended".into())
}

/// Who pays a network's claims, in words.
fn payer(n: &HealthNetwork) -> String {
    match n.kind {
        NetworkKind::Community => "The plan pays claims (plan community network)".into(),
        NetworkKind::Delegated => format!("{} pays claims (delegated health network)", n.name),
    }
}

pub(crate) fn pcp_label(p: &Provider) -> String {
    if p.credential.is_empty() {
        p.name.clone()
    } else {
        format!("{}, {}", p.name, p.credential)
    }
}

async fn result_view(
    state: &AppState,
    signed: &Signed,
    record: &MemberRecord,
    dos: NaiveDate,
) -> Result<ResultView, storage::StorageError> {
    let m = &record.member;
    let networks = state.store.networks().await?;
    let net = |code: &str| networks.iter().find(|n| n.code == code);
    let answering = span_for(&record.spans, dos);
    let pcp = match answering.and_then(|s| s.pcp) {
        Some(npi) => state.store.provider(&npi).await?,
        None => None,
    };
    let notices = state.store.plan_notices().await?;
    let today = california_today(Utc::now());
    let facts = state
        .store
        .member_care_facts(&m.id, today, earliest_relevant(today))
        .await?;
    let open_gaps = gaps_for(m, &facts, today).iter().filter(|g| g.open).count();
    let assigned_here = pcp
        .as_ref()
        .is_some_and(|p| signed.principal.office_scope().allows_tin(&p.tin))
        && answering.is_some_and(|s| s.covers(today));

    let (status_code, headline) = match answering {
        None => ("none", "No coverage on file".to_string()),
        Some(s) => match s.state_on(dos) {
            SpanState::Active => ("active", format!("Eligible on {}", us_date(dos))),
            SpanState::Termed => (
                "termed",
                format!(
                    "Not eligible on {}: coverage ended {}",
                    us_date(dos),
                    end_label(s)
                ),
            ),
            SpanState::Future => (
                "future",
                format!(
                    "Not eligible on {}: coverage starts {}",
                    us_date(dos),
                    us_date(s.start)
                ),
            ),
        },
    };
    let mut shown: Vec<&PlanNotice> = Vec::new();
    if let Some(s) = answering {
        let kind = net(&s.network)
            .map(|n| n.kind)
            .unwrap_or(NetworkKind::Community);
        shown.extend(notices_for(&notices, s, kind, dos));
        if s.state_on(dos) != SpanState::Future && has_future_span(&record.spans, dos) {
            for f in record.spans.iter().filter(|f| f.start > dos) {
                let kind = net(&f.network)
                    .map(|n| n.kind)
                    .unwrap_or(NetworkKind::Community);
                shown.extend(
                    notices_for(&notices, f, kind, dos)
                        .into_iter()
                        .filter(|n| n.span_state == Some(SpanState::Future)),
                );
            }
        }
    }
    shown.dedup_by(|a, b| a.code == b.code);
    let network = answering.and_then(|s| net(&s.network));
    Ok(ResultView {
        name: format!("{} {}", m.first_name, m.last_name),
        birth_date: us_date(m.birth_date),
        member_id: m.id.to_string(),
        line_of_business: answering
            .map(|s| s.line_of_business.label().to_string())
            .unwrap_or_default(),
        status_code,
        headline,
        date_of_service: us_date(dos),
        spans: record
            .spans
            .iter()
            .rev()
            .map(|s| {
                let st = s.state_on(dos);
                SpanView {
                    start: us_date(s.start),
                    end: end_label(s),
                    line_of_business: s.line_of_business.label(),
                    network: net(&s.network)
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| s.network.clone()),
                    pcp: s.pcp.map(|n| n.to_string()).unwrap_or_default(),
                    state_code: st.code(),
                    state: span_state_label(st),
                    answers: answering.is_some_and(|a| a.start == s.start),
                }
            })
            .collect(),
        network_name: network.map(|n| n.name.clone()).unwrap_or_default(),
        network_payer: network.map(payer).unwrap_or_default(),
        network_phone: network.map(|n| phone_label(&n.phone)).unwrap_or_default(),
        pcp_name: pcp.as_ref().map(pcp_label).unwrap_or_default(),
        pcp_npi: answering
            .and_then(|s| s.pcp)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        pcp_phone: pcp
            .as_ref()
            .map(|p| phone_label(&p.location.phone))
            .unwrap_or_default(),
        pcp_specialty: pcp
            .as_ref()
            .map(|p| p.taxonomy.specialty.clone())
            .unwrap_or_default(),
        notices: shown
            .into_iter()
            .map(|n| NoticeView {
                level: n.level.code(),
                level_label: n.level.label(),
                title: n.title.clone(),
                body: n.body.clone(),
            })
            .collect(),
        open_gaps,
        assigned_here,
    })
}
