//! Referrals and prior authorizations for provider offices: the submission form (with the
//! "is authorization required?" answer for the codes on it and a provider search that keeps
//! what was typed), the office's list with live deadlines, each request's status and timeline,
//! the answer to a request for more information, attachments, and the office's notifications.
//!
//! Everything is scoped to the office's TINs in storage: another office's request answers the
//! same 404 as a missing one. Every view of member data is audited before it is shown. The
//! submission itself is `um::submit`, shared with the X12 278.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::pacific;
use crate::kit::upload::{self as proof, Upload};
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use domain::auth::{AuthEvent, AuthEventKind, AuthRequest, AuthStatus};
use domain::auth_rules::{self, AuthRule};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, Npi};
use std::collections::BTreeMap;
use storage::{AttachmentMeta, AuthSummary, NewAttachment, ProviderChoice};

/// Service rows on the form.
pub const SERVICE_ROWS: usize = 5;
/// Files per submission or answer.
pub const MAX_FILES: usize = 5;
/// Longest text field (the clinical notes).
const MAX_TEXT: usize = 24 * 1024;
const LIST_LIMIT: i64 = 200;

/// Places of service offices use most (CMS place of service codes).
pub const PLACES: &[(&str, &str)] = &[
    ("11", "11 Office"),
    ("22", "22 On-campus outpatient hospital"),
    ("19", "19 Off-campus outpatient hospital"),
    ("21", "21 Inpatient hospital"),
    ("24", "24 Ambulatory surgical center"),
    ("12", "12 Home"),
    ("31", "31 Skilled nursing facility"),
    ("81", "81 Independent laboratory"),
    ("02", "02 Telehealth (other than home)"),
    ("10", "10 Telehealth in the patient's home"),
];

/// A multipart form with several files (the attachments) and longer text than `proof::receive`
/// allows (clinical notes). Files are checked with `proof::check` (type sniffed, 5 MB each).
#[derive(Default)]
pub struct Received {
    pub text: BTreeMap<String, String>,
    pub files: Vec<(String, Vec<u8>)>,
    pub problem: Option<String>,
}

pub async fn receive(Upload(mut mp): Upload, file_field: &str) -> Received {
    let mut got = Received::default();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                got.problem = Some("The form arrived incomplete or larger than the portal accepts (6 MB in all). Send fewer or smaller files.".into());
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == file_field {
            let filename = field.file_name().unwrap_or("").to_string();
            match field.bytes().await {
                Ok(b) if b.is_empty() => {}
                Ok(b) => got.files.push((filename, b.to_vec())),
                Err(_) => {
                    got.problem = Some("The files are larger than the portal accepts (6 MB in all). Send fewer or smaller files.".into());
                    break;
                }
            }
            continue;
        }
        match field.text().await {
            Ok(v) if v.len() > MAX_TEXT => {
                got.problem = Some("A field of the form is far too long.".into());
                break;
            }
            Ok(v) => {
                got.text.insert(name, v);
            }
            Err(_) => {
                got.problem = Some("The form arrived incomplete. Try again.".into());
                break;
            }
        }
    }
    got
}

/// Checks each file; `Err` is the message for the attachments field.
pub fn attachments(
    files: Vec<(String, Vec<u8>)>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<NewAttachment>, String> {
    if files.len() > MAX_FILES {
        return Err(format!("Attach at most {MAX_FILES} files."));
    }
    files
        .into_iter()
        .map(|(name, bytes)| {
            proof::check(&name, bytes)
                .map(|p| NewAttachment {
                    filename: p.filename,
                    media_type: p.media_type,
                    sha256: p.sha256,
                    bytes: p.bytes,
                    uploaded_by: by.to_string(),
                    uploaded_at: now,
                })
                .map_err(|e| {
                    format!(
                        "{}: {}",
                        name.rsplit(['/', '\\']).next().unwrap_or("file"),
                        e.replace("the letter on your office's letterhead", "clinical records")
                            .replace("Scan the letter", "Scan it")
                    )
                })
        })
        .collect()
}

/// "Required for Medi-Cal, PACE; not for OneCare" — the rules' answer for a code over every
/// line of business, with what to send.
pub fn requirement_words(rules: &[AuthRule], code: &str) -> (bool, String) {
    let answers: Vec<(LineOfBusiness, auth_rules::Requirement)> = LineOfBusiness::ALL
        .iter()
        .map(|l| (*l, auth_rules::requirement(rules, code, *l)))
        .collect();
    let required: Vec<&str> = answers
        .iter()
        .filter(|a| a.1.required)
        .map(|a| a.0.label())
        .collect();
    let note = answers
        .iter()
        .find_map(|a| {
            a.1.rule
                .as_ref()
                .filter(|r| r.required && !r.note.is_empty())
                .map(|r| r.note.clone())
        })
        .unwrap_or_default();
    if required.is_empty() {
        (false, "Not required for any line of business.".into())
    } else if required.len() == answers.len() {
        (true, format!("Required for every line of business. {note}"))
    } else {
        (
            true,
            format!("Required for {} only. {note}", required.join(", ")),
        )
    }
}

pub struct RequirementView {
    pub code: String,
    pub required: bool,
    pub words: String,
}

pub fn requirement_views(rules: &[AuthRule], codes: &[String]) -> Vec<RequirementView> {
    codes
        .iter()
        .filter_map(|c| auth_rules::parse_procedure(c).ok())
        .map(|c| {
            let (required, words) = requirement_words(rules, &c);
            RequirementView {
                code: c,
                required,
                words,
            }
        })
        .collect()
}

/// The form's values, as typed.
#[derive(Default, Clone)]
pub struct FormValues {
    pub kind: String,
    pub member_id: String,
    pub birth_date: String,
    pub requesting_npi: String,
    pub servicing_npi: String,
    pub servicing_q: String,
    pub diagnoses: String,
    pub services: Vec<(String, String)>,
    pub from_date: String,
    pub to_date: String,
    pub place_of_service: String,
    pub urgency: String,
    pub urgency_reason: String,
    pub clinical_notes: String,
}

impl FormValues {
    fn from_text(t: &BTreeMap<String, String>) -> Self {
        let g = |k: &str| t.get(k).cloned().unwrap_or_default();
        FormValues {
            kind: g("kind"),
            member_id: g("member_id").trim().to_string(),
            birth_date: g("birth_date").trim().to_string(),
            requesting_npi: g("requesting_npi").trim().to_string(),
            servicing_npi: g("servicing_npi").trim().to_string(),
            servicing_q: g("servicing_q").trim().chars().take(80).collect(),
            diagnoses: g("diagnoses"),
            services: (1..=SERVICE_ROWS)
                .map(|i| {
                    (
                        g(&format!("code_{i}")).trim().to_string(),
                        g(&format!("units_{i}")).trim().to_string(),
                    )
                })
                .collect(),
            from_date: g("from_date").trim().to_string(),
            to_date: g("to_date").trim().to_string(),
            place_of_service: g("place_of_service"),
            urgency: g("urgency"),
            urgency_reason: g("urgency_reason"),
            clinical_notes: g("clinical_notes"),
        }
    }

    fn submission(&self) -> um::SubmissionForm {
        um::SubmissionForm {
            kind: self.kind.clone(),
            member_id: self.member_id.clone(),
            birth_date: self.birth_date.clone(),
            requesting_npi: self.requesting_npi.clone(),
            servicing_npi: self.servicing_npi.clone(),
            diagnoses: self.diagnoses.clone(),
            services: self.services.clone(),
            from_date: self.from_date.clone(),
            to_date: self.to_date.clone(),
            place_of_service: self.place_of_service.clone(),
            urgency: self.urgency.clone(),
            urgency_reason: self.urgency_reason.clone(),
            clinical_notes: self.clinical_notes.clone(),
            trace: String::new(),
        }
    }
}

pub struct ServiceRow {
    pub n: usize,
    pub code: String,
    pub units: String,
}

#[derive(Template)]
#[template(path = "auth_form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub f: FormValues,
    pub rows: Vec<ServiceRow>,
    pub errors: FieldErrors,
    pub own: Vec<ProviderChoice>,
    pub found: Vec<ProviderChoice>,
    pub searched: bool,
    pub requirements: Vec<RequirementView>,
    pub places: &'static [(&'static str, &'static str)],
    pub problem: Option<String>,
}

async fn form_page(
    state: &AppState,
    s: &Signed,
    f: FormValues,
    errors: FieldErrors,
    found: Option<Vec<ProviderChoice>>,
    problem: Option<String>,
) -> Response {
    let tins = s.principal.tins.clone();
    let (own, rules) = match (
        state.store.providers_of_tins(&tins, 50).await,
        state.store.auth_rules().await,
    ) {
        (Ok(o), Ok(r)) => (o, r),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "authorization form data failed");
            return errors::unavailable(state);
        }
    };
    // The requesting provider is chosen, never assumed (the first of the list was silently
    // taken before), unless the office has only one.
    let mut f = f;
    if f.requesting_npi.is_empty()
        && let [only] = own.as_slice()
    {
        f.requesting_npi = only.npi.to_string();
    }
    let codes: Vec<String> = f
        .services
        .iter()
        .map(|s| s.0.clone())
        .filter(|c| !c.is_empty())
        .collect();
    let rows = f
        .services
        .iter()
        .enumerate()
        .map(|(i, (c, u))| ServiceRow {
            n: i + 1,
            code: c.clone(),
            units: u.clone(),
        })
        .collect();
    let status = if errors.is_empty() && problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &FormPage {
            chrome: Chrome::signed(state, s, "New authorization request", "/authorizations"),
            requirements: requirement_views(&rules, &codes),
            rows,
            f,
            errors,
            own,
            searched: found.is_some(),
            found: found.unwrap_or_default(),
            places: PLACES,
            problem,
        },
    )
}

/// `GET /authorizations/new`
pub async fn new_form(State(state): State<AppState>, s: Signed) -> Response {
    let f = FormValues {
        services: vec![(String::new(), String::new()); SERVICE_ROWS],
        urgency: "standard".into(),
        place_of_service: "11".into(),
        kind: "prior_auth".into(),
        ..FormValues::default()
    };
    form_page(&state, &s, f, FieldErrors::new(), None, None).await
}

/// `POST /authorizations`: submit, or (`action=search`) look up a servicing provider and show
/// the form again with everything typed kept.
pub async fn submit(State(state): State<AppState>, s: Signed, upload: Upload) -> Response {
    let got = receive(upload, "attachments").await;
    let f = FormValues::from_text(&got.text);
    if let Some(p) = got.problem {
        return form_page(&state, &s, f, FieldErrors::new(), None, Some(p)).await;
    }
    if got.text.get("action").map(String::as_str) == Some("check") {
        // Show what the rules say about the codes typed, keeping the form (nothing is sent).
        return form_page(&state, &s, f, FieldErrors::new(), None, None).await;
    }
    // Enter in "Find the servicing provider" submits the form with its default button; with
    // a search typed and no provider chosen the request cannot be complete, so search instead.
    let action = got.text.get("action").map(String::as_str);
    let searching = action == Some("search")
        || (f.servicing_npi.is_empty() && !f.servicing_q.trim().is_empty());
    if searching {
        let mut errors = FieldErrors::new();
        let found = if f.servicing_q.chars().count() < 3 {
            errors.insert(
                "servicing_q",
                "Type at least 3 letters of the name, or the NPI.".into(),
            );
            Vec::new()
        } else {
            match state.store.search_providers(&f.servicing_q, 25).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "provider search failed");
                    return errors::unavailable(&state);
                }
            }
        };
        if action != Some("search") && !found.is_empty() {
            errors.insert(
                "servicing_npi",
                "Choose the servicing provider from the results, then submit.".into(),
            );
        }
        let mut page = form_page(&state, &s, f, errors, Some(found), None).await;
        if page.status() == StatusCode::UNPROCESSABLE_ENTITY {
            return page;
        }
        *page.status_mut() = StatusCode::OK;
        return page;
    }
    let now = Utc::now();
    let files = match attachments(got.files, &s.identity.user.display_name, now) {
        Ok(f) => f,
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.insert("attachments", e);
            match um::validate(&*state.store, &s.principal.office_scope(), &f.submission()).await {
                Err(um::SubmitError::Fields(list)) => {
                    for (k, v) in list {
                        errors.entry(k).or_insert(v);
                    }
                }
                Err(um::SubmitError::Store(e)) => {
                    tracing::error!(error = %e, "authorization check failed");
                    return errors::unavailable(&state);
                }
                Ok(()) => {}
            }
            return form_page(&state, &s, f, errors, None, None).await;
        }
    };
    let actor = um::Actor {
        user_id: Some(s.user_id()),
        name: s.identity.user.display_name.clone(),
    };
    let scope = s.principal.office_scope();
    match um::submit(&*state.store, &scope, &actor, &f.submission(), files, now).await {
        Ok(done) => {
            audit::security(
                &state,
                Some(&s),
                "auth.submit",
                "authorization",
                done.auth.number.as_str(),
                "ok",
            )
            .await;
            Redirect::to(&format!("/authorizations/{}?submitted=1", done.auth.number))
                .into_response()
        }
        Err(um::SubmitError::Fields(list)) => {
            let mut errors = FieldErrors::new();
            for (k, v) in list {
                errors.entry(k).or_insert(v);
            }
            if !errors.is_empty() {
                errors
                    .entry("attachments")
                    .or_insert_with(|| "If you had chosen files, choose them again.".into());
            }
            form_page(&state, &s, f, errors, None, None).await
        }
        Err(um::SubmitError::Store(e)) => {
            tracing::error!(error = %e, "authorization submission failed");
            errors::unavailable(&state)
        }
    }
}

pub struct ListRow {
    pub number: String,
    pub kind: &'static str,
    pub urgency: &'static str,
    pub expedited: bool,
    pub member_name: String,
    pub member: String,
    pub services: String,
    pub received: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub due: String,
    pub overdue: bool,
    pub open: bool,
    pub reviewer: String,
    pub lob: &'static str,
}

pub fn list_row(a: &AuthSummary, now: DateTime<Utc>) -> ListRow {
    let open = a.status.is_open();
    ListRow {
        number: a.number.to_string(),
        kind: a.kind.label(),
        urgency: a.urgency.label(),
        expedited: a.urgency == domain::auth::Urgency::Expedited,
        member_name: a.member_name.clone(),
        member: a.member.to_string(),
        services: a.services.clone(),
        received: pacific(a.received_at),
        status_code: if a.appeal_overturned == Some(true) {
            "approved"
        } else {
            a.status.code()
        },
        status: match (a.appeal_overturned, a.status) {
            (Some(true), AuthStatus::Denied) => "Approved on appeal",
            (_, s) => s.label(),
        },
        due: pacific(a.due_at),
        overdue: if open {
            now > a.due_at
        } else {
            a.decided_at.is_some_and(|d| d > a.due_at)
        },
        open,
        reviewer: a.reviewer.clone().unwrap_or_default(),
        lob: a.line_of_business.label(),
    }
}

#[derive(Template)]
#[template(path = "auth_list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub rows: Vec<ListRow>,
    pub unseen: i64,
    pub may_submit: bool,
    pub limited: bool,
}

/// `GET /authorizations`
pub async fn list(State(state): State<AppState>, s: Signed) -> Response {
    let scope = s.principal.office_scope();
    if let Err(page) = audit::phi_read(
        &state,
        &s,
        "auth_list",
        &crate::kit::format::scope_tins(&scope),
    )
    .await
    {
        return page;
    }
    let (auths, unseen) = match (
        state.store.auths_in_scope(&scope, LIST_LIMIT).await,
        state
            .store
            .unseen_notifications(s.user_id(), s.identity.org.id)
            .await,
    ) {
        (Ok(a), Ok(u)) => (a, u),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "authorization list failed");
            return errors::unavailable(&state);
        }
    };
    let now = Utc::now();
    render(
        StatusCode::OK,
        &ListPage {
            chrome: Chrome::signed(&state, &s, "Authorizations", "/authorizations"),
            limited: auths.len() as i64 >= LIST_LIMIT,
            rows: auths.iter().map(|a| list_row(a, now)).collect(),
            unseen,
            may_submit: s
                .principal
                .may(domain::access::Permission::SubmitAuthorization),
        },
    )
}

pub struct ServiceView {
    pub procedure: String,
    pub units: u32,
    pub approved_units: String,
    pub approved_dates: String,
}

pub struct EventView {
    pub at: String,
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub actor: String,
    pub note: String,
}

pub struct AttachmentView {
    pub id: i64,
    pub filename: String,
    pub size: String,
    pub by: String,
    pub at: String,
}

pub struct ProviderView {
    pub npi: String,
    pub name: String,
    pub detail: String,
}

/// What both the office's and the reviewer's detail pages show of a request.
pub struct CaseView {
    pub number: String,
    pub kind: &'static str,
    pub urgency: &'static str,
    pub expedited: bool,
    pub urgency_reason: String,
    /// The member's coverage on the first requested date: line, network, span.
    pub coverage: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub open: bool,
    pub pended: bool,
    pub received: String,
    pub due: String,
    pub rule: &'static str,
    pub overdue: bool,
    pub decided: String,
    pub member: String,
    pub member_name: String,
    pub birth_date: String,
    pub requesting: ProviderView,
    pub servicing: ProviderView,
    pub diagnoses: String,
    pub place_of_service: String,
    pub dates: String,
    pub services: Vec<ServiceView>,
    pub denial: Option<(String, String)>,
    pub notes: String,
    pub reviewer: String,
    pub auto_rule: String,
    pub events: Vec<EventView>,
    pub attachments: Vec<AttachmentView>,
    pub appealed: bool,
}

fn provider_view(npi: &Npi, p: Option<domain::provider::Provider>) -> ProviderView {
    match p {
        Some(p) => ProviderView {
            npi: npi.to_string(),
            name: p.name,
            detail: format!(
                "{} · {}, {}",
                p.taxonomy.specialty, p.location.city, p.location.state
            ),
        },
        None => ProviderView {
            npi: npi.to_string(),
            name: String::new(),
            detail: String::new(),
        },
    }
}

/// The timeline, with entries made up from the request itself where none was recorded (the
/// seeded history has no events).
fn timeline(a: &AuthRequest, events: Vec<AuthEvent>) -> Vec<EventView> {
    let mut ev = events;
    if !ev.iter().any(|e| e.kind == AuthEventKind::Received) {
        ev.insert(
            0,
            AuthEvent {
                at: a.received_at,
                kind: AuthEventKind::Received,
                actor: String::new(),
                note: String::new(),
            },
        );
    }
    if let Some(p) = a.pended_at
        && !ev.iter().any(|e| e.kind == AuthEventKind::Pended)
    {
        ev.push(AuthEvent {
            at: p,
            kind: AuthEventKind::Pended,
            actor: String::new(),
            note: String::new(),
        });
    }
    if let Some(d) = a.decided_at
        && !ev
            .iter()
            .any(|e| matches!(e.kind, AuthEventKind::Decided | AuthEventKind::AutoDecided))
    {
        ev.push(AuthEvent {
            at: d,
            kind: AuthEventKind::Decided,
            actor: String::new(),
            note: a.status.label().into(),
        });
    }
    ev.sort_by_key(|e| e.at);
    ev.into_iter()
        .map(|e| EventView {
            at: pacific(e.at),
            kind: e.kind.label(),
            kind_code: e.kind.code(),
            actor: e.actor,
            note: e.note,
        })
        .collect()
}

/// ICD-10-CM as people write it: a dot after the third character (M1711 -> M17.11).
pub fn icd10_dotted(code: &str) -> String {
    if code.len() > 3 && code.is_ascii() {
        format!("{}.{}", &code[..3], &code[3..])
    } else {
        code.to_string()
    }
}

/// Loads everything a detail page shows. `Err` is the page to show instead.
pub async fn case_view(state: &AppState, a: &AuthRequest) -> Result<CaseView, Response> {
    let store = &state.store;
    let loaded = async {
        Ok::<_, storage::StorageError>((
            store.member(&a.member).await?,
            store.provider(&a.requesting_npi).await?,
            store.provider(&a.servicing_npi).await?,
            store.auth_events(&a.number).await?,
            store.auth_attachments(&a.number).await?,
        ))
    }
    .await;
    let (member, req, serv, events, files) = match loaded {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "authorization detail failed");
            return Err(errors::unavailable(state));
        }
    };
    let d = a.deadline();
    let now = Utc::now();
    let us = |d: chrono::NaiveDate| d.format("%m/%d/%Y").to_string();
    Ok(CaseView {
        number: a.number.to_string(),
        kind: a.kind.label(),
        urgency: a.urgency.label(),
        expedited: a.urgency == domain::auth::Urgency::Expedited,
        urgency_reason: a.urgency_reason.clone(),
        coverage: member
            .as_ref()
            .and_then(|m| m.spans.iter().find(|s| s.covers(a.from_date)))
            .map(|s| {
                format!(
                    "{} · network {} · covered from {}{}",
                    s.line_of_business.label(),
                    s.network,
                    us(s.start),
                    s.end
                        .map(|e| format!(" to {}", us(e)))
                        .unwrap_or_else(|| ", open-ended".into())
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "{} (not covered on the first requested date)",
                    a.line_of_business.label()
                )
            }),
        status_code: if a.appeal.as_ref().is_some_and(|x| x.overturned) {
            "approved"
        } else {
            a.status.code()
        },
        status: a.status_label(),
        open: a.status.is_open(),
        pended: a.status == AuthStatus::Pended,
        received: pacific(a.received_at),
        due: pacific(d.due),
        rule: d.rule,
        overdue: a.is_overdue(now),
        decided: a.decided_at.map(pacific).unwrap_or_default(),
        member: a.member.to_string(),
        member_name: member
            .as_ref()
            .map(|m| format!("{} {}", m.member.first_name, m.member.last_name))
            .unwrap_or_default(),
        birth_date: member
            .as_ref()
            .map(|m| us(m.member.birth_date))
            .unwrap_or_default(),
        requesting: provider_view(&a.requesting_npi, req),
        servicing: provider_view(&a.servicing_npi, serv),
        diagnoses: a
            .diagnoses
            .iter()
            .map(|d| icd10_dotted(d))
            .collect::<Vec<_>>()
            .join(", "),
        place_of_service: PLACES
            .iter()
            .find(|p| p.0 == a.place_of_service)
            .map(|p| p.1.to_string())
            .unwrap_or_else(|| a.place_of_service.clone()),
        dates: format!("{} to {}", us(a.from_date), us(a.to_date)),
        services: a
            .services
            .iter()
            .map(|s| ServiceView {
                procedure: s.procedure.clone(),
                units: s.units,
                approved_units: s
                    .approved_units
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "—".into()),
                approved_dates: match (s.approved_from, s.approved_to) {
                    (Some(f), Some(t)) => format!("{} to {}", us(f), us(t)),
                    _ => "—".into(),
                },
            })
            .collect(),
        denial: a.denial_reason.as_ref().map(|r| {
            let label = domain::auth::denial_reason_label(&r.code).unwrap_or("");
            (format!("{} {}", r.code, label), r.text.clone())
        }),
        notes: a.clinical_notes.clone(),
        reviewer: a.reviewer.as_ref().map(|r| r.1.clone()).unwrap_or_default(),
        auto_rule: a.auto_rule.clone().unwrap_or_default(),
        events: timeline(a, events),
        attachments: files
            .into_iter()
            .map(|f: AttachmentMeta| AttachmentView {
                id: f.id,
                filename: f.filename,
                size: proof::size_label(f.size),
                by: f.uploaded_by,
                at: pacific(f.uploaded_at),
            })
            .collect(),
        appealed: a.appeal.is_some(),
    })
}

#[derive(Template)]
#[template(path = "auth_status.html")]
pub struct StatusPage {
    pub chrome: Chrome,
    pub c: CaseView,
    pub submitted: bool,
    pub answered: bool,
    pub may_answer: bool,
    pub errors: FieldErrors,
    pub information: String,
}

#[derive(serde::Deserialize, Default)]
pub struct StatusQuery {
    pub submitted: Option<String>,
    pub answered: Option<String>,
}

async fn scoped(state: &AppState, s: &Signed, number: &str) -> Result<AuthRequest, Response> {
    let Ok(n) = AuthNumber::parse(number) else {
        return Err(errors::no_such_record(state, s, "authorization"));
    };
    match state
        .store
        .auth_in_scope(&n, &s.principal.office_scope())
        .await
    {
        Ok(Some(a)) => Ok(a),
        Ok(None) => {
            audit::security(
                state,
                Some(s),
                "auth.not_found",
                "authorization",
                n.as_str(),
                "denied",
            )
            .await;
            Err(errors::no_such_record(state, s, "authorization"))
        }
        Err(e) => {
            tracing::error!(error = %e, "authorization lookup failed");
            Err(errors::unavailable(state))
        }
    }
}

async fn status_page(
    state: &AppState,
    s: &Signed,
    a: &AuthRequest,
    q: StatusQuery,
    errors: FieldErrors,
    information: String,
) -> Response {
    if let Err(page) = audit::phi_read(state, s, "authorization", a.number.as_str()).await {
        return page;
    }
    let c = match case_view(state, a).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &StatusPage {
            chrome: Chrome::signed(
                state,
                s,
                format!("Authorization {}", a.number),
                "/authorizations",
            ),
            c,
            submitted: q.submitted.is_some(),
            answered: q.answered.is_some(),
            may_answer: s
                .principal
                .may(domain::access::Permission::SubmitAuthorization),
            errors,
            information,
        },
    )
}

/// `GET /authorizations/{number}`
pub async fn detail(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    axum::extract::Query(q): axum::extract::Query<StatusQuery>,
) -> Response {
    match scoped(&state, &s, &number).await {
        Ok(a) => status_page(&state, &s, &a, q, FieldErrors::new(), String::new()).await,
        Err(page) => page,
    }
}

/// `POST /authorizations/{number}/information`: the office answers a pend.
pub async fn information(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    upload: Upload,
) -> Response {
    let a = match scoped(&state, &s, &number).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let got = receive(upload, "attachments").await;
    let text = got.text.get("information").cloned().unwrap_or_default();
    let mut errs = FieldErrors::new();
    if let Some(p) = got.problem {
        errs.insert("attachments", p);
        return status_page(&state, &s, &a, StatusQuery::default(), errs, text).await;
    }
    let now = Utc::now();
    let files = match attachments(got.files, &s.identity.user.display_name, now) {
        Ok(f) => f,
        Err(e) => {
            errs.insert("attachments", e);
            return status_page(&state, &s, &a, StatusQuery::default(), errs, text).await;
        }
    };
    if text.trim().is_empty() && files.is_empty() {
        errs.insert(
            "information",
            "Write the information asked for, or attach the records.".into(),
        );
        return status_page(&state, &s, &a, StatusQuery::default(), errs, text).await;
    }
    let actor = um::Actor {
        user_id: Some(s.user_id()),
        name: s.identity.user.display_name.clone(),
    };
    match um::answer(
        &*state.store,
        &s.principal.office_scope(),
        &a.number,
        &actor,
        &text,
        files,
        now,
    )
    .await
    {
        Ok(_) => {
            audit::security(
                &state,
                Some(&s),
                "auth.information",
                "authorization",
                a.number.as_str(),
                "ok",
            )
            .await;
            Redirect::to(&format!("/authorizations/{}?answered=1", a.number)).into_response()
        }
        Err(um::ReviewError::NotFound) => errors::no_such_record(&state, &s, "authorization"),
        Err(um::ReviewError::Store(e)) => {
            tracing::error!(error = %e, "answer failed");
            errors::unavailable(&state)
        }
        Err(e) => {
            errs.insert("information", e.to_string());
            status_page(&state, &s, &a, StatusQuery::default(), errs, text).await
        }
    }
}

/// `POST /authorizations/{number}/withdraw`: `reason` (optional).
pub async fn withdraw(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    axum::Form(form): axum::Form<BTreeMap<String, String>>,
) -> Response {
    let a = match scoped(&state, &s, &number).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let actor = um::Actor {
        user_id: Some(s.user_id()),
        name: s.identity.user.display_name.clone(),
    };
    let reason = form.get("reason").cloned().unwrap_or_default();
    match um::withdraw(
        &*state.store,
        &s.principal.office_scope(),
        &a.number,
        &actor,
        &reason,
        Utc::now(),
    )
    .await
    {
        Ok(_) => {
            audit::security(
                &state,
                Some(&s),
                "auth.withdraw",
                "authorization",
                a.number.as_str(),
                "ok",
            )
            .await;
            Redirect::to(&format!("/authorizations/{}", a.number)).into_response()
        }
        Err(um::ReviewError::NotFound) => errors::no_such_record(&state, &s, "authorization"),
        Err(um::ReviewError::Store(e)) => {
            tracing::error!(error = %e, "withdraw failed");
            errors::unavailable(&state)
        }
        Err(e) => {
            let mut errs = FieldErrors::new();
            errs.insert("withdraw", e.to_string());
            status_page(&state, &s, &a, StatusQuery::default(), errs, String::new()).await
        }
    }
}

/// Serves an attachment as the file it was checked to be, never as HTML, in a sandbox.
fn serve_file(meta: &AttachmentMeta, bytes: Vec<u8>) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    let media_type = match meta.media_type.as_str() {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&crate::pages::verify::disposition(
        media_type,
        &meta.filename,
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res.extensions_mut().insert(crate::headers::DocumentPolicy);
    res
}

/// `GET /authorizations/{number}/attachments/{id}`
pub async fn attachment(
    State(state): State<AppState>,
    s: Signed,
    Path((number, id)): Path<(String, i64)>,
) -> Response {
    match scoped(&state, &s, &number).await {
        Ok(a) => attachment_of(&state, &s, &a.number, id).await,
        Err(page) => page,
    }
}

/// An attachment of a request the user may already see (the caller checked the request):
/// audited, then served as a download; one of another request answers like a missing one.
pub(crate) async fn attachment_of(
    state: &AppState,
    s: &Signed,
    number: &domain::AuthNumber,
    id: i64,
) -> Response {
    match state.store.auth_attachment(id).await {
        Ok(Some(file)) if &file.meta.auth_number == number => {
            if let Err(page) = audit::phi_read(state, s, "auth_attachment", &id.to_string()).await {
                return page;
            }
            serve_file(&file.meta, file.bytes)
        }
        Ok(_) => errors::no_such_record(state, s, "attachment"),
        Err(e) => {
            tracing::error!(error = %e, "attachment lookup failed");
            errors::unavailable(state)
        }
    }
}

pub struct NoticeView {
    pub number: String,
    pub at: String,
    pub text: String,
    pub new: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub chrome: Chrome,
    pub notices: Vec<NoticeView>,
}

/// `GET /notifications`: the office's authorization notices; opening the page marks them seen.
pub async fn notifications(State(state): State<AppState>, s: Signed) -> Response {
    let org = s.identity.org.id;
    let (list, unseen) = match (
        state.store.notifications(org, 100).await,
        state.store.unseen_notifications(s.user_id(), org).await,
    ) {
        (Ok(l), Ok(u)) => (l, u),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "notifications failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(e) = state
        .store
        .mark_notifications_seen(s.user_id(), Utc::now())
        .await
    {
        tracing::error!(error = %e, "marking notifications seen failed");
    }
    render(
        StatusCode::OK,
        &NotificationsPage {
            chrome: Chrome::signed(&state, &s, "Notifications", "/notifications"),
            notices: list
                .into_iter()
                .enumerate()
                .map(|(i, n)| NoticeView {
                    number: n.auth_number.to_string(),
                    at: pacific(n.created_at),
                    text: n.text,
                    new: (i as i64) < unseen,
                })
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_read_with_their_dot() {
        assert_eq!(icd10_dotted("M1711"), "M17.11");
        assert_eq!(icd10_dotted("I10"), "I10");
    }

    #[test]
    fn requirement_in_words_over_every_line() {
        let rule = |codes: &str, lob, required| AuthRule {
            id: 1,
            codes: domain::auth_rules::CodeRange::parse(codes).unwrap(),
            line_of_business: lob,
            required,
            note: "Send notes.".into(),
            description: String::new(),
        };
        let rules = vec![rule("73721", Some(LineOfBusiness::Pace), true)];
        let (req, words) = requirement_words(&rules, "73721");
        assert!(
            req && words.starts_with("Required for PACE only"),
            "{words}"
        );
        assert!(!requirement_words(&rules, "99213").0);
        let rules = vec![rule("70010-76499", None, true)];
        assert!(
            requirement_words(&rules, "73721")
                .1
                .starts_with("Required for every line")
        );
    }

    #[test]
    fn a_bad_attachment_is_named() {
        let e = attachments(
            vec![("evil.pdf".into(), b"<html>".to_vec())],
            "x",
            Utc::now(),
        )
        .unwrap_err();
        assert!(e.starts_with("evil.pdf:"), "{e}");
        assert!(!e.contains("letterhead"), "{e}");
        let many = vec![("a.pdf".to_string(), b"%PDF-1.7".to_vec()); MAX_FILES + 1];
        assert!(attachments(many, "x", Utc::now()).is_err());
    }
}
