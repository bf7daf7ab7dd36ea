//! Remittance for offices holding the claims-inquiry entitlement: the payments made to payees
//! under the office's TINs, newest first, all of them (paged, never cut to a recent window); a
//! payment with its claims and their adjustments explained; and its 835 to download.
//!
//! A payment that does not exist or belongs to another office's TIN answers the same 404. The
//! payment page and the 835 carry member data and are written to the audit trail before they
//! are sent.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::claims::{AdjustmentView, money, us_date};
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::claim::{explain_carc, explain_rarc};
use serde::Deserialize;

/// Payments per page.
const PAGE: i64 = 50;

pub struct PaymentRow {
    pub number: String,
    pub date: String,
    pub method: &'static str,
    pub amount: String,
    pub claims: i64,
    pub payee: String,
}

/// BPR04 in words.
fn method_words(code: &str) -> &'static str {
    match code {
        "CHK" => "Check",
        "ACH" => "EFT",
        "NON" => "No payment (denials reported)",
        _ => "Other",
    }
}

#[derive(Template)]
#[template(path = "remittance_list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub payments: Vec<PaymentRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub first: i64,
    pub last: i64,
    pub has_tins: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub page: Option<String>,
}

/// `GET /remittance?page=N`.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Response {
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let scope = signed.principal.office_scope();
    let storage::PaymentPage { payments, total } = match state
        .store
        .payments_in_scope(&scope, (page - 1) * PAGE, PAGE)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "remittance list failed");
            return errors::unavailable(&state);
        }
    };
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    let first = if total == 0 { 0 } else { (page - 1) * PAGE + 1 };
    render(
        if page > pages {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        },
        &ListPage {
            chrome: Chrome::signed(&state, &signed, "Remittance", "/remittance"),
            last: first + payments.len() as i64 - 1,
            payments: payments
                .into_iter()
                .map(|p| PaymentRow {
                    date: us_date(p.paid_on),
                    method: method_words(&p.method),
                    amount: money(p.amount),
                    claims: p.claim_count,
                    payee: format!("{} (NPI {})", p.payee_name, p.payee_npi),
                    number: p.number,
                })
                .collect(),
            total,
            page,
            pages,
            first,
            has_tins: matches!(&scope, domain::access::Scope::Tins(t) if !t.is_empty()),
        },
    )
}

pub struct LineRow {
    pub number: u16,
    pub procedure: String,
    pub service_date: String,
    pub billed: String,
    pub allowed: String,
    pub paid: String,
    pub patient: String,
    pub adjustments: Vec<AdjustmentView>,
}

pub struct ClaimView {
    pub number: String,
    pub patient_account: String,
    pub member: String,
    pub patient: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub billed: String,
    pub paid: String,
    pub lines: Vec<LineRow>,
}

#[derive(Template)]
#[template(path = "remittance_detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub number: String,
    pub date: String,
    pub method: &'static str,
    pub amount: String,
    pub payee: String,
    pub payee_tin: String,
    pub claims: Vec<ClaimView>,
    pub billed: String,
    pub filename: String,
}

/// `GET /remittance/{number}`.
pub async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(number): Path<String>,
) -> Response {
    let number: String = number.chars().take(50).collect();
    let scope = signed.principal.office_scope();
    let payment = match state.store.payment_in_scope(&number, &scope).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            audit::security(
                &state,
                Some(&signed),
                "remittance.not_found",
                "remittance",
                &number,
                "denied",
            )
            .await;
            return errors::no_such_record(&state, &signed, "payment");
        }
        Err(e) => {
            tracing::error!(error = %e, "payment lookup failed");
            return errors::unavailable(&state);
        }
    };
    let claims = match state.store.payment_claims(payment.id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "payment claims failed");
            return errors::unavailable(&state);
        }
    };
    let file = match state.store.remittance_file(payment.id).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "remittance file lookup failed");
            return errors::unavailable(&state);
        }
    };
    // Patient names for the claims, one lookup per member (a payment holds a few dozen claims).
    let mut views = Vec::with_capacity(claims.len());
    for c in &claims {
        let patient = match state.store.member(&c.member).await {
            Ok(Some(m)) => format!("{} {}", m.member.first_name, m.member.last_name),
            Ok(None) => String::new(),
            Err(e) => {
                tracing::error!(error = %e, "member lookup failed");
                return errors::unavailable(&state);
            }
        };
        views.push(ClaimView {
            number: c.number.to_string(),
            patient_account: c.patient_account.clone(),
            member: c.member.to_string(),
            patient,
            status_code: c.status.code(),
            status: c.status.label(),
            billed: money(c.billed()),
            paid: money(c.paid()),
            lines: c
                .lines
                .iter()
                .map(|l| LineRow {
                    number: l.line_number,
                    procedure: l.procedure.clone(),
                    service_date: us_date(l.service_date),
                    billed: money(l.billed),
                    allowed: money(l.allowed),
                    paid: money(l.paid),
                    patient: money(l.patient_responsibility()),
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
                            remark_words: a.remark.as_deref().map(explain_rarc).unwrap_or(""),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    if let Err(page) = audit::phi_read(&state, &signed, "remittance", &payment.number).await {
        return page;
    }
    let billed: domain::Cents = claims.iter().map(|c| c.billed()).sum();
    render(
        StatusCode::OK,
        &DetailPage {
            chrome: Chrome::signed(
                &state,
                &signed,
                format!("Payment {}", payment.number),
                "/remittance",
            ),
            date: us_date(payment.paid_on),
            method: method_words(&payment.method),
            amount: money(payment.amount),
            payee: format!("{} (NPI {})", payment.payee_name, payment.payee_npi),
            payee_tin: domain::Tin::parse(&payment.payee_tin)
                .map(|t| t.to_string())
                .unwrap_or(payment.payee_tin.clone()),
            claims: views,
            billed: money(billed),
            filename: file.map(|f| f.filename).unwrap_or_default(),
            number: payment.number,
        },
    )
}

/// `GET /remittance/{number}/835`: the 835 as sent, as a file.
pub async fn download(
    State(state): State<AppState>,
    signed: Signed,
    Path(number): Path<String>,
) -> Response {
    let number: String = number.chars().take(50).collect();
    let scope = signed.principal.office_scope();
    let file = match state.store.payment_in_scope(&number, &scope).await {
        Ok(Some(p)) => state.store.remittance_file(p.id).await,
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    let storage::RemittanceFile {
        filename,
        x835: content,
    } = match file {
        Ok(Some(f)) => f,
        Ok(None) => {
            audit::security(
                &state,
                Some(&signed),
                "remittance.not_found",
                "remittance",
                &number,
                "denied",
            )
            .await;
            return errors::no_such_record(&state, &signed, "payment");
        }
        Err(e) => {
            tracing::error!(error = %e, "remittance download failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(page) = audit::phi_read(&state, &signed, "remittance_835", &number).await {
        return page;
    }
    let mut res = (StatusCode::OK, content).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/edi-x12"),
    );
    // The file name is ours (digits, dashes, ".x12"): safe in the header.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
