//! Claim status for offices holding the claims-inquiry entitlement: the office's claims (scoped
//! by TIN in storage) and one claim with its lines, adjustments in plain words and payment.
//!
//! Every view is written to the audit trail *before* it is shown (if the write fails, the page
//! is not shown). A claim that does not exist, lies outside the office's TINs or is not even a
//! well-formed number answers the same 404.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::claims::AdjustmentView;
use crate::kit::format::{money, scope_tins, us_date};
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Scope;
use domain::claim::Claim;
use domain::{ClaimNumber, MemberId};
use serde::Deserialize;

/// Claims listed at once (newest first).
const LIST_LIMIT: i64 = 100;

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
    /// The search form as typed, its errors, and whether this page shows search results.
    pub search: SearchForm,
    pub errors: FieldErrors,
    pub searched: bool,
}

/// The claim status search (POST: member ID and dates of service are PHI and stay out of URLs).
#[derive(Deserialize, Default, Clone)]
pub struct SearchForm {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub member: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// A day as typed: `2026-03-01` (what a date input sends) or `03/01/2026`.
fn parse_day(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%m/%d/%Y"))
        .ok()
}

/// The form as a query, or the message for each field that is wrong.
pub fn parse_search(f: &SearchForm) -> Result<storage::ClaimQuery, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut q = storage::ClaimQuery {
        limit: SEARCH_LIMIT,
        ..storage::ClaimQuery::default()
    };
    let number = f.number.trim();
    if !number.is_empty() {
        match ClaimNumber::parse(number) {
            Ok(n) => q.number = Some(n),
            Err(_) => {
                errors.insert(
                    "number",
                    "Not a claim number: C followed by ten digits, for example C0000012345.".into(),
                );
            }
        }
    }
    let account = f.account.trim();
    if account.chars().count() > 38 {
        errors.insert(
            "account",
            "A patient account number has at most 38 characters (CLM01).".into(),
        );
    } else if !account.is_empty() {
        q.patient_account = Some(account.to_string());
    }
    let member = f.member.trim();
    if !member.is_empty() {
        match MemberId::parse(member) {
            Ok(m) => q.member = Some(m),
            Err(_) => {
                errors.insert(
                    "member",
                    "Not a member ID: M followed by nine digits, as on the member's card.".into(),
                );
            }
        }
    }
    let day = |key: &'static str, v: &str, errors: &mut FieldErrors| {
        if v.trim().is_empty() {
            return None;
        }
        let d = parse_day(v);
        if d.is_none() {
            errors.insert(
                key,
                "Not a date: use MM/DD/YYYY, for example 03/01/2026.".into(),
            );
        }
        d
    };
    q.service_from = day("from", &f.from, &mut errors);
    q.service_to = day("to", &f.to, &mut errors);
    if let (Some(a), Some(b)) = (q.service_from, q.service_to)
        && b < a
    {
        errors.insert("to", "The end of the range is before its start.".into());
    }
    if !member.is_empty() && !errors.contains_key("member") {
        // A member's claims are looked up for a period of care, never all at once.
        if f.from.trim().is_empty() {
            errors.insert(
                "from",
                "With a member ID, give the first date of service to look for.".into(),
            );
        }
        if f.to.trim().is_empty() {
            errors.insert(
                "to",
                "With a member ID, give the last date of service to look for.".into(),
            );
        }
    }
    if errors.is_empty() && number.is_empty() && account.is_empty() && member.is_empty() {
        errors.insert(
            "number",
            "Enter a claim number, a patient account number, or a member ID with dates of service."
                .into(),
        );
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(errors)
    }
}

/// Search results shown at once.
const SEARCH_LIMIT: i64 = 500;

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
    list_page(&state, &signed, lookup, lookup_error, None).await
}

/// `POST /claims`: the search form.
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    Form(f): Form<SearchForm>,
) -> Response {
    list_page(&state, &signed, String::new(), None, Some(f)).await
}

fn row(c: storage::ClaimSummary) -> ClaimRow {
    ClaimRow {
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
    }
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    lookup: String,
    lookup_error: Option<String>,
    form: Option<SearchForm>,
) -> Response {
    let state = state.clone();
    let scope = signed.principal.office_scope();
    let searched = form.is_some();
    let search = form.unwrap_or_default();
    let mut errors = FieldErrors::new();
    let query = if searched {
        match parse_search(&search) {
            Ok(q) => Some(q),
            Err(e) => {
                errors = e;
                None
            }
        }
    } else {
        None
    };
    let tins = match &scope {
        Scope::Tins(t) => t
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Scope::Nothing => String::new(),
    };
    if searched && query.is_none() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ListPage {
                chrome: Chrome::signed(&state, signed, "Claims", "/claims"),
                claims: Vec::new(),
                tins,
                limited: false,
                limit: SEARCH_LIMIT,
                lookup,
                lookup_error,
                search,
                errors,
                searched: false,
            },
        );
    }
    if let Some(q) = query {
        if let Err(page) =
            audit::phi_read(&state, signed, "claim_search", &scope_tins(&scope)).await
        {
            return page;
        }
        let claims = match state.store.search_claims(&scope, &q).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "claim search failed");
                return errors::unavailable(&state);
            }
        };
        return render(
            StatusCode::OK,
            &ListPage {
                chrome: Chrome::signed(&state, signed, "Claim search", "/claims"),
                limited: claims.len() as i64 >= SEARCH_LIMIT,
                limit: SEARCH_LIMIT,
                claims: claims.into_iter().map(row).collect(),
                tins,
                lookup,
                lookup_error,
                search,
                errors,
                searched: true,
            },
        );
    }
    // Recorded before the list is read and shown: one entry naming the TINs listed.
    if let Err(page) = audit::phi_read(&state, signed, "claim_list", &scope_tins(&scope)).await {
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
            chrome: Chrome::signed(&state, signed, "Claims", "/claims"),
            limited: claims.len() as i64 >= LIST_LIMIT,
            limit: LIST_LIMIT,
            claims: claims.into_iter().map(row).collect(),
            tins,
            lookup,
            lookup_error,
            search,
            errors,
            searched: false,
        },
    )
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
    pub patient: String,
    pub adjustments: Vec<AdjustmentView>,
    /// Why the line came out as it did (the adjudication rule and its explanation).
    pub rule: String,
    pub explanation: String,
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
    /// The payment's number, for the link to its remittance (empty when none).
    pub payment_number: String,
    /// What the status means for the office.
    pub status_words: String,
    pub has_adjustments: bool,
}

pub fn lines(claim: &Claim, notes: &[storage::LineExplanation]) -> Vec<LineView> {
    claim
        .lines
        .iter()
        .map(|l| {
            let note = notes.iter().find(|n| n.line_number == l.line_number);
            LineView {
                number: l.line_number,
                procedure: l.procedure.clone(),
                modifiers: l.modifiers.join(" "),
                revenue_code: l.revenue_code.clone().unwrap_or_default(),
                units: l.units,
                service_date: us_date(l.service_date),
                billed: money(l.billed),
                allowed: money(l.allowed),
                paid: money(l.paid),
                patient: money(l.patient_responsibility()),
                rule: note
                    .and_then(|n| domain::adjudication::Rule::from_code(&n.rule))
                    .map(|r| r.label().to_string())
                    .unwrap_or_default(),
                explanation: note.map(|n| n.text.clone()).unwrap_or_default(),
                adjustments: l.adjustments.iter().map(AdjustmentView::of).collect(),
            }
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
    let notes = match state.store.line_explanations(&claim.number).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "claim explanations failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(page) = audit::phi_read(&state, &signed, "claim", number.as_str()).await {
        return page;
    }
    let lines = lines(&claim, &notes);
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
            payment_number: claim
                .payment
                .as_ref()
                .map(|p| p.number.clone())
                .unwrap_or_default(),
            status_words: domain::adjudication::status_words(&claim),
        },
    )
}
