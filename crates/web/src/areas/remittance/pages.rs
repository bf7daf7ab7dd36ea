//! Remittance for offices holding the claims-inquiry entitlement: the payments made to payees
//! under the office's TINs, newest first, all of them (paged, never cut to a recent window); a
//! payment with its claims and their adjustments explained; and its 835 to download.
//!
//! A payment that does not exist or belongs to another office's TIN answers the same 404. The
//! payment page and the 835 carry member data and are written to the audit trail before they
//! are sent.

use crate::audit;
use crate::kit::claims::AdjustmentView;
use crate::kit::format::{money, us_date};
use crate::kit::{Page, PageError, PageResult};
use crate::pages::{Chrome, render};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
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
#[template(path = "remittance/list.html")]
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
pub async fn list(page: Page, Query(q): Query<ListQuery>) -> PageResult {
    let Page { state, signed } = &page;
    let number = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let scope = signed.principal.office_scope();
    let storage::PaymentPage { payments, total } = state
        .store
        .payments_in_scope(&scope, (number - 1) * PAGE, PAGE)
        .await?;
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    let first = if total == 0 {
        0
    } else {
        (number - 1) * PAGE + 1
    };
    Ok(render(
        if number > pages {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        },
        &ListPage {
            chrome: page.chrome("Remittance", "/remittance"),
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
            page: number,
            pages,
            first,
            has_tins: matches!(&scope, domain::access::Scope::Tins(t) if !t.is_empty()),
        },
    ))
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
#[template(path = "remittance/detail.html")]
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
pub async fn detail(page: Page, Path(number): Path<String>) -> PageResult {
    let Page { state, signed } = &page;
    let number: String = number.chars().take(50).collect();
    let payment = find_payment(&page, &number).await?;
    let claims = state.store.payment_claims(payment.id).await?;
    let file = state.store.remittance_file(payment.id).await?;
    // Patient names for the claims, one lookup per member (a payment holds a few dozen claims).
    let mut views = Vec::with_capacity(claims.len());
    for c in &claims {
        let patient = match state.store.member(&c.member).await? {
            Some(m) => format!("{} {}", m.member.first_name, m.member.last_name),
            None => String::new(),
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
                    adjustments: l.adjustments.iter().map(AdjustmentView::of).collect(),
                })
                .collect(),
        });
    }
    if let Err(refused) = audit::phi_read(state, signed, "remittance", &payment.number).await {
        return Ok(refused);
    }
    let billed: domain::Cents = claims.iter().map(|c| c.billed()).sum();
    Ok(render(
        StatusCode::OK,
        &DetailPage {
            chrome: page.chrome(format!("Payment {}", payment.number), "/remittance"),
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
    ))
}
/// The payment with this number under the office's TINs; another office's or an unknown one
/// is the same "not found", and the attempt is audited.
async fn find_payment(page: &Page, number: &str) -> PageResult<storage::PaymentSummary> {
    let Page { state, signed } = page;
    let scope = signed.principal.office_scope();
    match state.store.payment_in_scope(number, &scope).await? {
        Some(p) => Ok(p),
        None => {
            audit::security(
                state,
                Some(signed),
                "remittance.not_found",
                "remittance",
                number,
                "denied",
            )
            .await;
            Err(PageError::NotFound("payment"))
        }
    }
}

/// `GET /remittance/{number}/835`: the 835 as sent, as a file.
pub async fn download(page: Page, Path(number): Path<String>) -> PageResult {
    let Page { state, signed } = &page;
    let number: String = number.chars().take(50).collect();
    let payment = find_payment(&page, &number).await?;
    let Some(storage::RemittanceFile {
        filename,
        x835: content,
    }) = state.store.remittance_file(payment.id).await?
    else {
        return Err(PageError::NotFound("payment"));
    };
    if let Err(refused) = audit::phi_read(state, signed, "remittance_835", &number).await {
        return Ok(refused);
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
    Ok(res)
}
