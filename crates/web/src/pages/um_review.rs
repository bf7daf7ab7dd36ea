//! The plan's utilization review: the queue ordered by the legal deadline (overdue flagged,
//! filters by urgency, status and line of business), a case with everything the reviewer
//! needs, and the actions (take, approve, partially approve or modify per service, deny with a
//! coded reason and words, ask for more information, record an appeal). The plan's
//! auth-required and auto-approval rules are maintained here too.
//!
//! The actions are `um::review`, the same as the X12 side would use.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::authorizations::{CaseView, ListRow, attachment_of, case_view, list_row};
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::AuthNumber;
use domain::auth::{
    AuthRequest, AuthStatus, DENIAL_REASONS, Decision, DenialReason, ServiceDecision, Urgency,
};
use domain::auth_rules::{AuthRule, AutoRule, CodeRange, parse_procedure};
use domain::plan::LineOfBusiness;
use serde::Deserialize;
use std::collections::BTreeMap;
use storage::QueueFilter;

const QUEUE_LIMIT: i64 = 500;

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    pub urgency: Option<String>,
    pub status: Option<String>,
    pub lob: Option<String>,
    pub mine: Option<String>,
}

#[derive(Template)]
#[template(path = "um_queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    pub rows: Vec<ListRow>,
    pub overdue: usize,
    pub urgency: String,
    pub status: String,
    pub lob: String,
    pub mine: bool,
    pub lobs: &'static [LineOfBusiness],
}

/// `GET /plan/authorizations`
pub async fn queue(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<QueueQuery>,
) -> Response {
    let urgency = q.urgency.as_deref().and_then(Urgency::from_code);
    let status = q.status.as_deref().and_then(AuthStatus::from_code);
    let lob = q.lob.as_deref().and_then(LineOfBusiness::from_code);
    let mine = q.mine.is_some_and(|m| !m.is_empty());
    if let Err(page) = audit::phi_read(&state, &s, "auth_queue", "").await {
        return page;
    }
    let filter = QueueFilter {
        urgency,
        status,
        line_of_business: lob,
        reviewer: mine.then(|| s.user_id()),
        limit: QUEUE_LIMIT,
    };
    let rows = match state.store.auth_queue(&filter).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "authorization queue failed");
            return errors::unavailable(&state);
        }
    };
    let now = Utc::now();
    let rows: Vec<ListRow> = rows.iter().map(|a| list_row(a, now)).collect();
    render(
        StatusCode::OK,
        &QueuePage {
            chrome: Chrome::signed(&state, &s, "Utilization review", "/plan/authorizations"),
            overdue: rows.iter().filter(|r| r.overdue).count(),
            rows,
            urgency: urgency.map(|u| u.code().to_string()).unwrap_or_default(),
            status: status.map(|u| u.code().to_string()).unwrap_or_default(),
            lob: lob.map(|u| u.code().to_string()).unwrap_or_default(),
            mine,
            lobs: LineOfBusiness::ALL,
        },
    )
}

#[derive(Template)]
#[template(path = "um_case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    pub c: CaseView,
    pub mine: bool,
    pub denied: bool,
    pub errors: FieldErrors,
    pub notice: String,
    pub reasons: &'static [(&'static str, &'static str)],
    pub form: BTreeMap<String, String>,
    pub rows: Vec<DecisionRow>,
    pub decision: String,
    pub reason_code: String,
}

pub struct DecisionRow {
    pub i: usize,
    pub procedure: String,
    pub units: String,
    pub from: String,
    pub to: String,
}

async fn load(state: &AppState, s: &Signed, number: &str) -> Result<AuthRequest, Response> {
    let Ok(n) = AuthNumber::parse(number) else {
        return Err(errors::no_such_record(state, s, "authorization"));
    };
    match state.store.auth(&n).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(errors::no_such_record(state, s, "authorization")),
        Err(e) => {
            tracing::error!(error = %e, "authorization lookup failed");
            Err(errors::unavailable(state))
        }
    }
}

async fn case_page(
    state: &AppState,
    s: &Signed,
    a: &AuthRequest,
    errors: FieldErrors,
    notice: &str,
    form: BTreeMap<String, String>,
) -> Response {
    if let Err(page) = audit::phi_read(state, s, "authorization", a.number.as_str()).await {
        return page;
    }
    let c = match case_view(state, a).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let rows = a
        .services
        .iter()
        .enumerate()
        .map(|(i, sv)| DecisionRow {
            i,
            procedure: sv.procedure.clone(),
            units: form
                .get(&format!("units_{i}"))
                .cloned()
                .unwrap_or_else(|| sv.units.to_string()),
            from: form
                .get(&format!("from_{i}"))
                .cloned()
                .unwrap_or_else(|| a.from_date.to_string()),
            to: form
                .get(&format!("to_{i}"))
                .cloned()
                .unwrap_or_else(|| a.to_date.to_string()),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &CasePage {
            chrome: Chrome::signed(
                state,
                s,
                format!("Review {}", a.number),
                "/plan/authorizations",
            ),
            mine: a.reviewer.as_ref().is_some_and(|r| r.0 == s.user_id()),
            denied: a.status == AuthStatus::Denied,
            c,
            errors,
            notice: notice.to_string(),
            reasons: DENIAL_REASONS,
            decision: form.get("decision").cloned().unwrap_or_default(),
            reason_code: form.get("reason_code").cloned().unwrap_or_default(),
            form,
            rows,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    pub done: Option<String>,
}

/// `GET /plan/authorizations/{number}`
pub async fn case(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let a = match load(&state, &s, &number).await {
        Ok(a) => a,
        Err(p) => return p,
    };
    let notice = match q.done.as_deref() {
        Some("taken") => "The case is assigned to you.",
        Some("decided") => "Decision recorded; the office was notified.",
        Some("pended") => "Pended: the office was asked for the information and notified.",
        Some("appeal") => "Appeal outcome recorded; the office was notified.",
        _ => "",
    };
    case_page(&state, &s, &a, FieldErrors::new(), notice, BTreeMap::new()).await
}

fn reviewer(s: &Signed) -> um::Actor {
    um::Actor {
        user_id: Some(s.user_id()),
        name: s.identity.user.display_name.clone(),
    }
}

async fn act(
    state: &AppState,
    s: &Signed,
    a: &AuthRequest,
    action: um::Action,
    done: &str,
    field: &'static str,
    form: BTreeMap<String, String>,
) -> Response {
    match um::review(&*state.store, &a.number, &reviewer(s), &action, Utc::now()).await {
        Ok(_) => {
            audit::security(
                state,
                Some(s),
                &format!("auth.{done}"),
                "authorization",
                a.number.as_str(),
                "ok",
            )
            .await;
            Redirect::to(&format!("/plan/authorizations/{}?done={done}", a.number)).into_response()
        }
        Err(um::ReviewError::NotFound) => errors::no_such_record(state, s, "authorization"),
        Err(um::ReviewError::Store(e)) => {
            tracing::error!(error = %e, "review action failed");
            errors::unavailable(state)
        }
        Err(e) => {
            let fresh = match load(state, s, a.number.as_str()).await {
                Ok(f) => f,
                Err(p) => return p,
            };
            let mut errs = FieldErrors::new();
            errs.insert(field, e.to_string());
            case_page(state, s, &fresh, errs, "", form).await
        }
    }
}

/// `POST /plan/authorizations/{number}/take`
pub async fn take(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
) -> Response {
    let a = match load(&state, &s, &number).await {
        Ok(a) => a,
        Err(p) => return p,
    };
    act(
        &state,
        &s,
        &a,
        um::Action::Take,
        "taken",
        "take",
        BTreeMap::new(),
    )
    .await
}

/// `POST /plan/authorizations/{number}/pend`: `question`.
pub async fn pend(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let a = match load(&state, &s, &number).await {
        Ok(a) => a,
        Err(p) => return p,
    };
    let question = form.get("question").cloned().unwrap_or_default();
    if question.trim().is_empty() {
        let mut errs = FieldErrors::new();
        errs.insert(
            "question",
            "Say what information the office should send.".into(),
        );
        return case_page(&state, &s, &a, errs, "", form).await;
    }
    act(
        &state,
        &s,
        &a,
        um::Action::Pend { question },
        "pended",
        "question",
        form,
    )
    .await
}

/// `POST /plan/authorizations/{number}/decide`: `decision` (approve, partial, modify, deny),
/// `units_{i}`, `from_{i}`, `to_{i}` per service, `reason_code` and `reason_text` for a denial,
/// `note`.
pub async fn decide(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let a = match load(&state, &s, &number).await {
        Ok(a) => a,
        Err(p) => return p,
    };
    let g = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errs = FieldErrors::new();
    let per_service = |errs: &mut FieldErrors| -> Vec<ServiceDecision> {
        let mut out = Vec::new();
        for i in 0..a.services.len() {
            let units = g(&format!("units_{i}")).parse::<u32>();
            let from = um::parse_date(&g(&format!("from_{i}")));
            let to = um::parse_date(&g(&format!("to_{i}")));
            match (units, from, to) {
                (Ok(u), Some(f), Some(t)) => out.push(ServiceDecision {
                    approved_units: u,
                    from: f,
                    to: t,
                }),
                _ => {
                    errs.insert(
                        "services",
                        format!(
                            "Service {}: enter the approved units and both dates.",
                            i + 1
                        ),
                    );
                    break;
                }
            }
        }
        out
    };
    let decision = match g("decision").as_str() {
        "approve" => Some(Decision::Approve),
        "partial" => {
            let ds = per_service(&mut errs);
            errs.is_empty().then_some(Decision::PartiallyApprove(ds))
        }
        "modify" => {
            let ds = per_service(&mut errs);
            errs.is_empty().then_some(Decision::Modify(ds))
        }
        "deny" => {
            let code = g("reason_code");
            let text = g("reason_text");
            if code.is_empty() {
                errs.insert(
                    "reason_code",
                    "Choose the coded reason for the denial.".into(),
                );
            }
            if text.is_empty() {
                errs.insert("reason_text", "Explain the denial in words the office can act on: what is missing or why the criteria are not met.".into());
            } else if text.chars().count() > 2000 {
                errs.insert("reason_text", "Keep it under 2,000 characters.".into());
            }
            errs.is_empty()
                .then_some(Decision::Deny(DenialReason { code, text }))
        }
        _ => {
            errs.insert("decision", "Choose a decision.".into());
            None
        }
    };
    let Some(decision) = decision else {
        return case_page(&state, &s, &a, errs, "", form).await;
    };
    let field = match decision {
        Decision::Deny(_) => "reason_code",
        Decision::Approve => "decision",
        _ => "services",
    };
    act(
        &state,
        &s,
        &a,
        um::Action::Decide {
            decision,
            note: g("note"),
        },
        "decided",
        field,
        form,
    )
    .await
}

/// `POST /plan/authorizations/{number}/appeal`: `outcome` (overturned, upheld), `note`.
pub async fn appeal(
    State(state): State<AppState>,
    s: Signed,
    Path(number): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let a = match load(&state, &s, &number).await {
        Ok(a) => a,
        Err(p) => return p,
    };
    let overturned = match form.get("outcome").map(String::as_str) {
        Some("overturned") => true,
        Some("upheld") => false,
        _ => {
            let mut errs = FieldErrors::new();
            errs.insert("outcome", "Choose the outcome of the appeal.".into());
            return case_page(&state, &s, &a, errs, "", form).await;
        }
    };
    let note = form.get("note").cloned().unwrap_or_default();
    act(
        &state,
        &s,
        &a,
        um::Action::Appeal { overturned, note },
        "appeal",
        "outcome",
        form,
    )
    .await
}

/// `GET /plan/authorizations/{number}/attachments/{id}`
pub async fn attachment(
    State(state): State<AppState>,
    s: Signed,
    Path((number, id)): Path<(String, i64)>,
) -> Response {
    match load(&state, &s, &number).await {
        Ok(a) => attachment_of(&state, &s, &a.number, id).await,
        Err(p) => p,
    }
}

// ----- rules -----

pub struct RuleView {
    pub id: i64,
    pub codes: String,
    pub lob: &'static str,
    pub required: bool,
    pub note: String,
    pub description: String,
}

pub struct AutoView {
    pub id: i64,
    pub words: String,
}

#[derive(Template)]
#[template(path = "um_rules.html")]
pub struct RulesPage {
    pub chrome: Chrome,
    pub rules: Vec<RuleView>,
    pub autos: Vec<AutoView>,
    pub errors: FieldErrors,
    pub form: BTreeMap<String, String>,
    pub lobs: &'static [LineOfBusiness],
    pub notice: String,
}

async fn rules_page(
    state: &AppState,
    s: &Signed,
    errors: FieldErrors,
    form: BTreeMap<String, String>,
    notice: &str,
) -> Response {
    let (rules, autos) = match (
        state.store.auth_rules().await,
        state.store.auto_rules().await,
    ) {
        (Ok(r), Ok(a)) => (r, a),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "rules failed");
            return errors::unavailable(state);
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &RulesPage {
            chrome: Chrome::signed(state, s, "Authorization rules", "/plan/auth-rules"),
            rules: rules
                .into_iter()
                .map(|r| RuleView {
                    id: r.id,
                    codes: r.codes.to_string(),
                    lob: r
                        .line_of_business
                        .map_or("Every line of business", |l| l.label()),
                    required: r.required,
                    note: r.note,
                    description: r.description,
                })
                .collect(),
            autos: autos
                .into_iter()
                .map(|a| AutoView {
                    id: a.id,
                    words: a.describe(),
                })
                .collect(),
            errors,
            form,
            lobs: LineOfBusiness::ALL,
            notice: notice.into(),
        },
    )
}

#[derive(Deserialize, Default)]
pub struct RulesQuery {
    pub done: Option<String>,
}

/// `GET /plan/auth-rules`
pub async fn rules(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<RulesQuery>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("added") => "Rule added.",
        Some("deleted") => "Rule removed.",
        _ => "",
    };
    rules_page(&state, &s, FieldErrors::new(), BTreeMap::new(), notice).await
}

fn lob_of(v: Option<&String>) -> Option<LineOfBusiness> {
    v.and_then(|l| LineOfBusiness::from_code(l))
}

/// `POST /plan/auth-rules`: `codes` (a code or range), `lob` (empty: every line), `required`
/// (yes/no), `note`, `description`.
pub async fn add_rule(
    State(state): State<AppState>,
    s: Signed,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let g = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errs = FieldErrors::new();
    let codes = CodeRange::parse(&g("codes"))
        .map_err(|e| errs.insert("codes", format!("Enter a code or a range: {e}.")));
    let required = match g("required").as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            errs.insert("required", "Say whether authorization is required.".into());
            false
        }
    };
    if g("description").is_empty() {
        errs.insert(
            "description",
            "Name the service as the public list should show it.".into(),
        );
    }
    let (Ok(codes), true) = (codes, errs.is_empty()) else {
        return rules_page(&state, &s, errs, form, "").await;
    };
    let rule = AuthRule {
        id: 0,
        codes,
        line_of_business: lob_of(form.get("lob")),
        required,
        note: g("note"),
        description: g("description"),
    };
    match state.store.add_auth_rule(&rule).await {
        Ok(id) => rule_changed(&state, &s, "auth_rule.add", "auth_rule", id, "added").await,
        Err(e) => {
            tracing::error!(error = %e, "adding a rule failed");
            errors::unavailable(&state)
        }
    }
}

/// `POST /plan/auto-rules`: `name`, `lob`, `auto_codes` (comma separated), `max_units`,
/// `include_expedited`.
pub async fn add_auto_rule(
    State(state): State<AppState>,
    s: Signed,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let g = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errs = FieldErrors::new();
    if g("name").is_empty() {
        errs.insert("name", "Give the rule a name the timeline can show.".into());
    }
    let mut codes = Vec::new();
    for c in g("auto_codes").split([',', ' ']).filter(|c| !c.is_empty()) {
        match parse_procedure(c) {
            Ok(c) => codes.push(c),
            Err(e) => {
                errs.insert("auto_codes", format!("“{c}”: {e}."));
                break;
            }
        }
    }
    if codes.is_empty() && !errs.contains_key("auto_codes") {
        errs.insert("auto_codes", "Enter the codes the rule approves.".into());
    }
    let max = g("max_units")
        .parse::<u32>()
        .ok()
        .filter(|u| (1..=999).contains(u));
    if max.is_none() {
        errs.insert(
            "max_units",
            "Enter the most units per service, 1 to 999.".into(),
        );
    }
    if !errs.is_empty() {
        return rules_page(&state, &s, errs, form, "").await;
    }
    let rule = AutoRule {
        id: 0,
        name: g("name"),
        line_of_business: lob_of(form.get("lob")),
        codes,
        max_units: max.unwrap_or(1),
        include_expedited: form.contains_key("include_expedited"),
    };
    match state.store.add_auto_rule(&rule).await {
        Ok(id) => rule_changed(&state, &s, "auto_rule.add", "auto_rule", id, "added").await,
        Err(e) => {
            tracing::error!(error = %e, "adding an auto rule failed");
            errors::unavailable(&state)
        }
    }
}

/// `POST /plan/auth-rules/{id}/delete`
pub async fn delete_rule(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
) -> Response {
    match state.store.delete_auth_rule(id).await {
        Ok(true) => rule_changed(&state, &s, "auth_rule.delete", "auth_rule", id, "deleted").await,
        Ok(false) => errors::no_such_record(&state, &s, "rule"),
        Err(e) => {
            tracing::error!(error = %e, "deleting a rule failed");
            errors::unavailable(&state)
        }
    }
}

/// `POST /plan/auto-rules/{id}/delete`
pub async fn delete_auto_rule(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
) -> Response {
    match state.store.delete_auto_rule(id).await {
        Ok(true) => rule_changed(&state, &s, "auto_rule.delete", "auto_rule", id, "deleted").await,
        Ok(false) => errors::no_such_record(&state, &s, "rule"),
        Err(e) => {
            tracing::error!(error = %e, "deleting an auto rule failed");
            errors::unavailable(&state)
        }
    }
}

/// A rule added or deleted: audited, then back to the rules page with the notice.
async fn rule_changed(
    state: &AppState,
    s: &Signed,
    action: &str,
    kind: &str,
    id: i64,
    done: &str,
) -> Response {
    audit::security(state, Some(s), action, kind, &id.to_string(), "ok").await;
    Redirect::to(&format!("/plan/auth-rules?done={done}")).into_response()
}
