//! Claim status for offices holding the claims-inquiry entitlement: the office's claims (scoped
//! by TIN in storage) and one claim with its lines, adjustments in plain words and payment.
//!
//! Every view is written to the audit trail *before* it is shown (if the write fails, the page
//! is not shown). A claim that does not exist, lies outside the office's TINs or is not even a
//! well-formed number answers the same 404.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Scope;
use domain::claim::{Claim, explain_carc};
use domain::{Cents, ClaimNumber};
use serde::Deserialize;

/// Claims listed at once (newest first).
const LIST_LIMIT: i64 = 100;

/// An amount as a page shows it: `$1,234.50`, `-$12.00`.
pub fn money(c: Cents) -> String {
    let sign = if c.0 < 0 { "-" } else { "" };
    let plain = Cents(c.0.abs()).to_string();
    let (whole, cents) = plain.split_once('.').unwrap_or((&plain, "00"));
    let whole: i64 = whole.parse().unwrap_or(0);
    format!("{sign}${}.{cents}", crate::pages::thousands(whole))
}

/// A date of service or receipt as offices write it.
fn us_date(d: chrono::NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// The TINs a scope allows, for the page and the audit record.
pub fn scope_tins(scope: &Scope) -> String {
    match scope {
        Scope::Tins(t) => t
            .iter()
            .map(|t| t.digits().to_string())
            .collect::<Vec<_>>()
            .join(","),
        Scope::Nothing => String::new(),
    }
}

pub struct ClaimRow {
    pub number: String,
    pub member_name: String,
    pub member: String,
    pub billing_npi: String,
    pub service_from: String,
    pub received: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub billed: String,
    pub paid: String,
}

#[derive(Template)]
#[template(path = "claims_list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub claims: Vec<ClaimRow>,
    /// The TINs shown, "95-1234567, ..." (empty: none).
    pub tins: String,
    pub limited: bool,
    pub limit: i64,
    pub lookup: String,
    pub lookup_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// A claim number typed into the lookup box.
    pub number: Option<String>,
}

/// `GET /claims` (and `?number=` from the lookup box, which goes to the claim when the number
/// is well formed).
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Response {
    let lookup: String = q
        .number
        .unwrap_or_default()
        .trim()
        .chars()
        .take(40)
        .collect();
    let mut lookup_error = None;
    if !lookup.is_empty() {
        match ClaimNumber::parse(&lookup) {
            Ok(n) => return Redirect::to(&format!("/claims/{n}")).into_response(),
            Err(e) => {
                lookup_error = Some(format!(
                    "That is not a claim number: {e}, for example C0000012345."
                ))
            }
        }
    }
    let scope = signed.principal.office_scope();
    // Recorded before the list is read and shown: one entry naming the TINs listed.
    if let Err(page) = audit::phi_read(&state, &signed, "claim_list", &scope_tins(&scope)).await {
        return page;
    }
    let claims = match state.store.claims_in_scope(&scope, LIST_LIMIT).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "claim list failed");
            return errors::unavailable(&state);
        }
    };
    let tins = match &scope {
        Scope::Tins(t) => t
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Scope::Nothing => String::new(),
    };
    render(
        if lookup_error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &ListPage {
            chrome: Chrome::signed(&state, &signed, "Claims", "/claims"),
            limited: claims.len() as i64 >= LIST_LIMIT,
            limit: LIST_LIMIT,
            claims: claims
                .into_iter()
                .map(|c| ClaimRow {
                    number: c.number.to_string(),
                    member_name: c.member_name,
                    member: c.member.to_string(),
                    billing_npi: c.billing_npi.to_string(),
                    service_from: us_date(c.service_from),
                    received: us_date(c.received),
                    status_code: c.status.code(),
                    status: c.status.label(),
                    billed: money(c.billed),
                    paid: money(c.paid),
                })
                .collect(),
            tins,
            lookup,
            lookup_error,
        },
    )
}

/// One adjustment as the page shows it.
pub struct AdjustmentView {
    pub group: &'static str,
    pub group_label: &'static str,
    pub reason: String,
    pub words: &'static str,
    pub amount: String,
    pub remark: String,
}

pub struct LineView {
    pub number: u16,
    pub procedure: String,
    pub modifiers: String,
    pub revenue_code: String,
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
    pub number: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub form: &'static str,
    pub member_name: String,
    pub member: String,
    pub patient_account: String,
    pub billing_npi: String,
    pub rendering_npi: String,
    pub place_of_service: String,
    pub diagnoses: String,
    pub received: String,
    pub service_from: String,
    pub lines: Vec<LineView>,
    pub billed: String,
    pub allowed: String,
    pub paid: String,
    pub patient: String,
    /// "check or EFT number on MM/DD/YYYY", or empty when not paid.
    pub payment: String,
    pub has_adjustments: bool,
}

pub fn lines(claim: &Claim) -> Vec<LineView> {
    claim
        .lines
        .iter()
        .map(|l| LineView {
            number: l.line_number,
            procedure: l.procedure.clone(),
            modifiers: l.modifiers.join(" "),
            revenue_code: l.revenue_code.clone().unwrap_or_default(),
            units: l.units,
            service_date: us_date(l.service_date),
            billed: money(l.billed),
            allowed: money(l.allowed),
            paid: money(l.paid),
            adjustments: l
                .adjustments
                .iter()
                .map(|a| AdjustmentView {
                    group: a.group.code(),
                    group_label: a.group.label(),
                    reason: a.reason.clone(),
                    words: explain_carc(&a.reason),
                    amount: money(a.amount),
                    remark: a.remark.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// `GET /claims/{number}`.
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
        Ok(None) => {
            // Not shown to the user (same 404 either way), but someone trying numbers shows up.
            audit::security(
                &state,
                Some(&signed),
                "claim.not_found",
                "claim",
                number.as_str(),
                "denied",
            )
            .await;
            return errors::no_such_record(&state, &signed, "claim");
        }
        Err(e) => {
            tracing::error!(error = %e, "claim lookup failed");
            return errors::unavailable(&state);
        }
    };
    let member_name = match state.store.member(&claim.member).await {
        Ok(Some(m)) => format!("{} {}", m.member.first_name, m.member.last_name),
        Ok(None) => String::new(),
        Err(e) => {
            tracing::error!(error = %e, "member lookup failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(page) = audit::phi_read(&state, &signed, "claim", number.as_str()).await {
        return page;
    }
    let lines = lines(&claim);
    render(
        StatusCode::OK,
        &DetailPage {
            chrome: Chrome::signed(&state, &signed, format!("Claim {number}"), "/claims"),
            number: number.to_string(),
            status_code: claim.status.code(),
            status: claim.status.label(),
            form: claim.form.label(),
            member_name,
            member: claim.member.to_string(),
            patient_account: claim.patient_account.clone(),
            billing_npi: claim.billing_npi.to_string(),
            rendering_npi: claim
                .rendering_npi
                .map(|n| n.to_string())
                .unwrap_or_default(),
            place_of_service: claim.place_of_service.clone(),
            diagnoses: claim.diagnoses.join(", "),
            received: us_date(claim.received),
            service_from: claim.from_date().map(us_date).unwrap_or_default(),
            has_adjustments: lines.iter().any(|l| !l.adjustments.is_empty()),
            lines,
            billed: money(claim.billed()),
            allowed: money(claim.allowed()),
            paid: money(claim.paid()),
            patient: money(claim.patient_responsibility()),
            payment: claim
                .payment
                .as_ref()
                .map(|p| format!("{} on {}", p.number, us_date(p.date)))
                .unwrap_or_default(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Tin;

    #[test]
    fn amounts() {
        assert_eq!(money(Cents(0)), "$0.00");
        assert_eq!(money(Cents(5)), "$0.05");
        assert_eq!(money(Cents(123_456)), "$1,234.56");
        assert_eq!(money(Cents(-1200)), "-$12.00");
        assert_eq!(money(Cents(100_000_000)), "$1,000,000.00");
    }

    #[test]
    fn scope_as_recorded() {
        let a = Tin::parse("951234567").unwrap();
        let b = Tin::parse("331234567").unwrap();
        assert_eq!(scope_tins(&Scope::Tins(vec![a, b])), "951234567,331234567");
        assert_eq!(scope_tins(&Scope::Nothing), "");
    }
}
