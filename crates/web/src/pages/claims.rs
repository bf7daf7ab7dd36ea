//! Claim status for offices holding the claims-inquiry entitlement: the office's claims (scoped
//! by TIN in storage) and one claim with its lines, adjustments in plain words and payment. Every
//! view is written to the audit trail before it is shown. Issue 5 extends this with search,
//! remittance and 276/277.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ClaimNumber;
use domain::access::Scope;
use domain::claim::{Claim, explain_carc};
use serde::Deserialize;
use storage::ClaimSummary;

/// Claims listed at once (newest first).
const LIST_LIMIT: i64 = 100;

#[derive(Template)]
#[template(path = "claims_list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub claims: Vec<ClaimSummary>,
    pub tins: String,
    pub lookup: String,
    pub lookup_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// A claim number typed into the lookup box.
    pub number: Option<String>,
}

fn scope_label(scope: &Scope) -> String {
    match scope {
        Scope::Tins(t) => t
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Scope::Nothing => String::new(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Response {
    let lookup = q.number.unwrap_or_default().trim().to_ascii_uppercase();
    let mut lookup_error = None;
    if !lookup.is_empty() {
        match ClaimNumber::parse(&lookup) {
            Ok(n) => return Redirect::to(&format!("/claims/{n}")).into_response(),
            Err(e) => lookup_error = Some(format!("Claim number: {e}")),
        }
    }
    let scope = signed.principal.office_scope();
    let tins = scope_label(&scope);
    if let Err(page) = audit::phi_read(&state, &signed, "claim_list", &tins).await {
        return page;
    }
    let claims = match state.store.claims_in_scope(&scope, LIST_LIMIT).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "claim list failed");
            return errors::unavailable(&state);
        }
    };
    render(
        if lookup_error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &ListPage {
            chrome: Chrome::signed(&state, &signed, "Claims", "/claims"),
            claims,
            tins,
            lookup,
            lookup_error,
        },
    )
}

/// One adjustment as the page shows it.
pub struct AdjustmentView {
    pub group: String,
    pub reason: String,
    pub words: &'static str,
    pub amount: String,
    pub remark: String,
}

pub struct LineView {
    pub number: u16,
    pub procedure: String,
    pub modifiers: String,
    pub units: u32,
    pub service_date: String,
    pub billed: String,
    pub allowed: String,
    pub paid: String,
    pub adjustments: Vec<AdjustmentView>,
}

#[derive(Template)]
#[template(path = "claim_detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub claim: Claim,
    pub member_name: String,
    pub lines: Vec<LineView>,
    pub billed: String,
    pub allowed: String,
    pub paid: String,
    pub patient: String,
}

fn lines(claim: &Claim) -> Vec<LineView> {
    claim
        .lines
        .iter()
        .map(|l| LineView {
            number: l.line_number,
            procedure: l.procedure.clone(),
            modifiers: l.modifiers.join(" "),
            units: l.units,
            service_date: l.service_date.format("%m/%d/%Y").to_string(),
            billed: l.billed.to_string(),
            allowed: l.allowed.to_string(),
            paid: l.paid.to_string(),
            adjustments: l
                .adjustments
                .iter()
                .map(|a| AdjustmentView {
                    group: a.group.code().to_string(),
                    reason: a.reason.clone(),
                    words: explain_carc(&a.reason),
                    amount: a.amount.to_string(),
                    remark: a.remark.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

pub async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(number): Path<String>,
) -> Response {
    let Ok(number) = ClaimNumber::parse(&number) else {
        return errors::no_such_record(&state, &signed, "claim");
    };
    let scope = signed.principal.office_scope();
    let claim = match state.store.claim_in_scope(&number, &scope).await {
        Ok(Some(c)) => c,
        Ok(None) => return errors::no_such_record(&state, &signed, "claim"),
        Err(e) => {
            tracing::error!(error = %e, "claim lookup failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(page) = audit::phi_read(&state, &signed, "claim", number.as_str()).await {
        return page;
    }
    let member_name = match state.store.member(&claim.member).await {
        Ok(Some(m)) => format!("{} {}", m.member.first_name, m.member.last_name),
        _ => String::new(),
    };
    render(
        StatusCode::OK,
        &DetailPage {
            chrome: Chrome::signed(&state, &signed, format!("Claim {number}"), "/claims"),
            lines: lines(&claim),
            billed: claim.billed().to_string(),
            allowed: claim.allowed().to_string(),
            paid: claim.paid().to_string(),
            patient: claim.patient_responsibility().to_string(),
            member_name,
            claim,
        },
    )
}
