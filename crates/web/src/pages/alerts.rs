//! Clinical alerts at a glance: the care gaps (`domain::care_gaps`) of the office's assigned
//! members, i.e. members whose PCP on the span covering today is a provider under one of the
//! office's TINs. Counts per gap and a worklist of open gaps, filterable by gap, a page at a
//! time; only the alert itself is shown (no diagnoses, no clinical summary). Every member listed
//! is written to the audit trail before the page is shown.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::{thousands, us_date};
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use domain::care_gaps::{Diagnosis, Gap, Measure, Patient, Service, earliest_relevant, evaluate};
use domain::member::Member;
use serde::Deserialize;
use std::collections::HashMap;
use storage::ServiceFact;

/// Worklist rows per page.
pub const PAGE_SIZE: usize = 100;

/// The rules' inputs for one member from their claim lines.
pub fn gaps_for<'a>(
    member: &Member,
    facts: impl IntoIterator<Item = &'a ServiceFact>,
    today: NaiveDate,
) -> Vec<Gap> {
    let mut services = Vec::new();
    let mut diagnoses = Vec::new();
    for f in facts {
        services.push(Service {
            date: f.date,
            procedure: f.procedure.clone(),
        });
        diagnoses.extend(f.diagnoses.iter().map(|c| Diagnosis {
            date: f.date,
            code: c.clone(),
        }));
    }
    let patient = Patient {
        birth_date: member.birth_date,
        sex: member.sex,
    };
    evaluate(&patient, &services, &diagnoses, today)
}

pub struct MeasureCount {
    pub code: &'static str,
    pub label: &'static str,
    pub open: String,
    pub closed: String,
    pub selected: bool,
}

pub struct WorkRow {
    pub member_name: String,
    pub member_id: String,
    pub birth_date: String,
    pub measure_code: &'static str,
    pub gap: String,
    pub last_service: String,
    pub due_by: String,
    pub pcp: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    pub counts: Vec<MeasureCount>,
    pub members: String,
    pub rows: Vec<WorkRow>,
    pub open_total: usize,
    pub gap: String,
    pub gap_label: String,
    pub gap_error: Option<String>,
    pub page: usize,
    pub pages: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub first_row: usize,
    pub last_row: usize,
    pub today: String,
    pub year: i32,
    pub has_tins: bool,
}

#[derive(Deserialize, Default)]
pub struct AlertQuery {
    #[serde(default)]
    pub gap: String,
    pub page: Option<String>,
}

fn link(gap: &str, page: usize) -> String {
    if gap.is_empty() {
        format!("/alerts?page={page}")
    } else {
        format!("/alerts?gap={gap}&page={page}")
    }
}

/// `GET /alerts` (`?gap=<measure code>&page=N`).
pub async fn dashboard(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<AlertQuery>,
) -> Response {
    let today = domain::eligibility::california_today(Utc::now());
    let (filter, gap_error) = match q.gap.trim() {
        "" => (None, None),
        code => match Measure::from_code(code) {
            Some(m) => (Some(m), None),
            None => (None, Some("Choose one of the alerts listed.".to_string())),
        },
    };
    let page: usize = q
        .page
        .as_deref()
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let scope = signed.principal.office_scope();
    let inputs = match state
        .store
        .care_gap_inputs(&scope, today, earliest_relevant(today))
        .await
    {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "care-gap inputs failed");
            return errors::unavailable(&state);
        }
    };
    let mut facts: HashMap<&str, Vec<&ServiceFact>> = HashMap::new();
    for f in &inputs.services {
        facts.entry(f.member.as_str()).or_default().push(f);
    }
    let mut open: HashMap<Measure, usize> = HashMap::new();
    let mut closed: HashMap<Measure, usize> = HashMap::new();
    // (member index, gap) of every open gap, in member name order.
    let mut worklist: Vec<(usize, Gap)> = Vec::new();
    for (i, a) in inputs.members.iter().enumerate() {
        let mine = facts.remove(a.member.id.as_str()).unwrap_or_default();
        for g in gaps_for(&a.member, mine, today) {
            if g.open {
                *open.entry(g.measure).or_default() += 1;
                if filter.is_none_or(|m| m == g.measure) {
                    worklist.push((i, g));
                }
            } else {
                *closed.entry(g.measure).or_default() += 1;
            }
        }
    }
    let open_total = worklist.len();
    let pages = open_total.div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages);
    let shown =
        &worklist[((page - 1) * PAGE_SIZE).min(open_total)..(page * PAGE_SIZE).min(open_total)];

    let mut pcps: Vec<domain::Npi> = shown.iter().map(|(i, _)| inputs.members[*i].pcp).collect();
    pcps.sort();
    pcps.dedup();
    let names: HashMap<domain::Npi, String> = match state.store.providers_by_npi(&pcps).await {
        Ok(p) => p.into_iter().map(|p| (p.npi, p.name)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "PCP names failed");
            return errors::unavailable(&state);
        }
    };
    let mut ids: Vec<String> = shown
        .iter()
        .map(|(i, _)| inputs.members[*i].member.id.to_string())
        .collect();
    ids.dedup();
    // Every member on this page, recorded before it is shown.
    if let Err(page) = audit::phi_reads(&state, &signed, "care_gap.read", "member", &ids).await {
        return page;
    }
    let rows = shown
        .iter()
        .map(|(i, g)| {
            let a = &inputs.members[*i];
            WorkRow {
                member_name: format!("{}, {}", a.member.last_name, a.member.first_name),
                member_id: a.member.id.to_string(),
                birth_date: us_date(a.member.birth_date),
                measure_code: g.measure.code(),
                gap: g.words(),
                last_service: g.last_service.map(us_date).unwrap_or_default(),
                due_by: us_date(g.due_by),
                pcp: names
                    .get(&a.pcp)
                    .cloned()
                    .unwrap_or_else(|| a.pcp.to_string()),
            }
        })
        .collect();
    let gap = filter.map(|m| m.code()).unwrap_or("");
    render(
        if gap_error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &AlertsPage {
            chrome: Chrome::signed(&state, &signed, "Clinical alerts", "/alerts"),
            counts: Measure::ALL
                .iter()
                .map(|m| MeasureCount {
                    code: m.code(),
                    label: m.label(),
                    open: thousands(open.get(m).copied().unwrap_or(0) as i64),
                    closed: thousands(closed.get(m).copied().unwrap_or(0) as i64),
                    selected: filter == Some(*m),
                })
                .collect(),
            members: thousands(inputs.members.len() as i64),
            rows,
            open_total,
            gap: gap.to_string(),
            gap_label: filter
                .map(|m| m.label())
                .unwrap_or("All alerts")
                .to_string(),
            gap_error,
            page,
            pages,
            prev: (page > 1).then(|| link(gap, page - 1)),
            next: (page < pages).then(|| link(gap, page + 1)),
            first_row: if open_total == 0 {
                0
            } else {
                (page - 1) * PAGE_SIZE + 1
            },
            last_row: (page * PAGE_SIZE).min(open_total),
            today: us_date(today),
            year: domain::care_gaps::measurement_year(today),
            has_tins: matches!(&scope, domain::access::Scope::Tins(t) if !t.is_empty()),
        },
    )
}
