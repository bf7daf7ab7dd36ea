//! Claim submission for office staff with claims access and EDI partners: upload an 837P or
//! 837I file, see how each claim came out (accepted with its plan claim number, or rejected and
//! why) and what the 999 found (segment and element, in words), the office's history of
//! submissions newest first, and the 999 and 277CA of each to download.
//!
//! The file goes through `edi::intake` exactly as a CORE batch or `portal edi ingest` would:
//! claims only for billing providers under the user's TINs, one transaction, a resubmission
//! recognised. A submission's page names members, so viewing it is written to the audit trail
//! first; a submission of another organisation answers 404 like one that does not exist.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::{pacific, thousands};
use crate::kit::upload as proof;
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use edi::Partner;
use edi::intake::{Submitter, Verdict};
use serde::Deserialize;
use storage::{InterchangeRecord, InterchangeStatus};

/// Largest 837 file taken from the page (a CORE batch or `portal edi ingest` takes more).
pub const MAX_FILE: usize = 50 * 1024 * 1024;
/// The route's body limit: the file plus the form around it. Between the two the page says
/// how large the file was; beyond, the portal's "too large" page.
pub const BODY_LIMIT: usize = MAX_FILE + 64 * 1024;
/// Submissions listed on the page.
const HISTORY: i64 = 50;

/// The multipart form, read within this route's limit (axum's own stops at 2 MB).
pub struct ClaimsUpload(Multipart);

impl<S: Send + Sync> FromRequest<S> for ClaimsUpload {
    type Rejection = Response;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        DefaultBodyLimit::max(BODY_LIMIT).apply(&mut req);
        Multipart::from_request(req, state)
            .await
            .map(ClaimsUpload)
            .map_err(IntoResponse::into_response)
    }
}

pub struct HistoryRow {
    pub id: i64,
    pub received: String,
    pub file_name: String,
    pub sender: String,
    pub control: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub accepted: String,
    pub rejected: String,
    pub has_277ca: bool,
}

fn status_words(s: InterchangeStatus) -> (&'static str, &'static str) {
    match s {
        InterchangeStatus::Accepted => ("accepted", "Accepted"),
        InterchangeStatus::Partial => ("partial", "Partly rejected"),
        InterchangeStatus::Rejected => ("rejected", "Rejected"),
    }
}

fn history_row(r: &InterchangeRecord) -> HistoryRow {
    let (status_code, status) = status_words(r.status);
    HistoryRow {
        id: r.id,
        received: pacific(r.received_at),
        file_name: if r.file_name.is_empty() {
            "(no name)".into()
        } else {
            r.file_name.clone()
        },
        sender: r.sender_id.clone(),
        control: r.control_number.clone(),
        status_code,
        status,
        accepted: thousands(r.claims_accepted),
        rejected: thousands(r.claims_rejected),
        has_277ca: r.has_277ca,
    }
}

#[derive(Template)]
#[template(path = "submissions.html")]
pub struct Page {
    pub chrome: Chrome,
    pub errors: FieldErrors,
    pub history: Vec<HistoryRow>,
    pub tins: String,
    pub max_mb: usize,
}

fn partner(s: &Signed) -> Partner {
    Partner {
        user_id: s.user_id(),
        org_id: s.principal.org_id,
        scope: s.principal.office_scope(),
    }
}

async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    errors: FieldErrors,
) -> Response {
    let history = match state
        .store
        .interchanges_of_org(signed.principal.org_id, HISTORY)
        .await
    {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "submission history failed");
            return errors::unavailable(state);
        }
    };
    let tins = match signed.principal.office_scope() {
        domain::access::Scope::Tins(t) => t
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        domain::access::Scope::Nothing => String::new(),
    };
    render(
        status,
        &Page {
            chrome: Chrome::signed(state, signed, "Submit claims", "/submissions"),
            errors,
            history: history.iter().map(history_row).collect(),
            tins,
            max_mb: MAX_FILE / (1024 * 1024),
        },
    )
}

/// `GET /submissions`: the upload form and the office's submissions.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    show(&state, &signed, StatusCode::OK, FieldErrors::new()).await
}

fn file_error(message: String) -> FieldErrors {
    let mut e = FieldErrors::new();
    e.insert("file", message);
    e
}

/// `POST /submissions`: takes the file in and shows how it came out.
pub async fn upload(State(state): State<AppState>, signed: Signed, form: ClaimsUpload) -> Response {
    let got = proof::receive(proof::Upload(form.0), "file").await;
    if let Some(problem) = got.problem {
        let message = if problem.contains("larger") {
            format!(
                "The file is larger than the {} MB this page takes. Split it into smaller files and send each.",
                MAX_FILE / (1024 * 1024)
            )
        } else {
            "The file arrived incomplete (the connection may have dropped). Choose it again and resend.".into()
        };
        return show(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            file_error(message),
        )
        .await;
    }
    let Some((name, bytes)) = got.file else {
        return show(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            file_error("Choose the 837 file to send.".into()),
        )
        .await;
    };
    if bytes.len() > MAX_FILE {
        let message = format!(
            "The file is {:.1} MB; this page takes files up to {} MB. Split it into smaller files and send each (each file is one interchange, ISA to IEA).",
            bytes.len() as f64 / 1_048_576.0,
            MAX_FILE / (1024 * 1024)
        );
        return show(
            &state,
            &signed,
            StatusCode::PAYLOAD_TOO_LARGE,
            file_error(message),
        )
        .await;
    }
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").to_string();
    let submitter =
        Submitter::partner(partner(&signed), signed.source.clone()).with_file_name(base);
    match edi::intake::intake(&*state.store, &submitter, &bytes, chrono::Utc::now()).await {
        Ok(out) => match out.interchange_id {
            Some(id) if out.verdict == Verdict::Duplicate => {
                Redirect::to(&format!("/submissions/{id}?duplicate=1")).into_response()
            }
            Some(id) => Redirect::to(&format!("/submissions/{id}?sent=1")).into_response(),
            None => errors::unavailable(&state),
        },
        Err(e) => {
            tracing::error!(error = %e, "837 intake failed");
            errors::unavailable(&state)
        }
    }
}

pub struct ClaimRow {
    pub seq: i64,
    pub patient_account: String,
    pub member: String,
    pub billing_npi: String,
    pub charge: String,
    pub accepted: bool,
    pub claim_number: String,
    pub code: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "submission.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub s: HistoryRow,
    pub bytes: String,
    pub forms: String,
    pub submitter: String,
    pub duplicate: bool,
    pub sent: bool,
    pub findings: Vec<String>,
    pub claims: Vec<ClaimRow>,
    /// The user may open claims (claims inquiry), so accepted claims link to their page.
    pub link_claims: bool,
    pub ack_name: &'static str,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    pub duplicate: Option<String>,
    pub sent: Option<String>,
}

/// The submission if it is this user's organisation's (else `None`, shown as 404).
async fn own(
    state: &AppState,
    signed: &Signed,
    id: &str,
) -> Result<Option<InterchangeRecord>, Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    state
        .store
        .interchange(id, Some(signed.principal.org_id))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "submission lookup failed");
            errors::unavailable(state)
        })
}

/// `GET /submissions/{id}`: how each claim came out, and what the 999 found.
pub async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let rec = match own(&state, &signed, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return errors::no_such_record(&state, &signed, "submission"),
        Err(page) => return page,
    };
    let (results, acks) = match (
        state.store.interchange_results(rec.id).await,
        state.store.interchange_acks(rec.id).await,
    ) {
        (Ok(r), Ok(a)) => (r, a),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "submission results failed");
            return errors::unavailable(&state);
        }
    };
    // The outcomes name members: recorded before they are shown.
    if let Err(page) = audit::phi_read(&state, &signed, "interchange", &rec.id.to_string()).await {
        return page;
    }
    let findings: Vec<String> = acks
        .as_ref()
        .map(|a| {
            a.findings
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let ack_name = if acks.as_ref().is_some_and(|a| a.ack_999.contains("~\nTA1*")) {
        "TA1"
    } else {
        "999"
    };
    let forms = rec
        .forms
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| {
            if f == "I" {
                "837I (institutional)"
            } else {
                "837P (professional)"
            }
        })
        .collect::<Vec<_>>()
        .join(" and ");
    render(
        StatusCode::OK,
        &DetailPage {
            chrome: Chrome::signed(&state, &signed, "Submission", "/submissions"),
            bytes: format!("{:.1} KB", rec.bytes as f64 / 1024.0),
            forms,
            submitter: rec.submitter_name.clone(),
            duplicate: q.duplicate.is_some(),
            sent: q.sent.is_some(),
            findings,
            link_claims: signed.principal.may(Permission::ViewClaims),
            claims: results
                .into_iter()
                .map(|r| ClaimRow {
                    seq: r.seq,
                    patient_account: r.patient_account,
                    member: r.member_id,
                    billing_npi: r.billing_npi,
                    charge: crate::kit::format::money(r.charge),
                    accepted: r.claim_number.is_some(),
                    claim_number: r.claim_number.map(|n| n.to_string()).unwrap_or_default(),
                    code: r.status_code,
                    reason: r.reason,
                })
                .collect(),
            ack_name,
            s: history_row(&rec),
        },
    )
}

/// `GET /submissions/{id}/999` and `/submissions/{id}/277ca`: the acknowledgement as a file.
pub async fn download(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, which)): Path<(String, String)>,
) -> Response {
    let rec = match own(&state, &signed, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return errors::no_such_record(&state, &signed, "submission"),
        Err(page) => return page,
    };
    let acks = match state.store.interchange_acks(rec.id).await {
        Ok(Some(a)) => a,
        Ok(None) => return errors::no_such_record(&state, &signed, "submission"),
        Err(e) => {
            tracing::error!(error = %e, "acknowledgement lookup failed");
            return errors::unavailable(&state);
        }
    };
    let (text, ext, record) = match which.as_str() {
        "999" => (Some(acks.ack_999), "999", "interchange_999"),
        "277ca" => (acks.ack_277ca, "277CA", "interchange_277ca"),
        _ => (None, "", ""),
    };
    let Some(text) = text else {
        return errors::no_such_record(&state, &signed, "acknowledgement");
    };
    // The 277CA names each patient; the 999 may quote values: both recorded first.
    if let Err(page) = audit::phi_read(&state, &signed, record, &rec.id.to_string()).await {
        return page;
    }
    let stem: String = rec
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let stem = if stem.trim_matches('.').is_empty() {
        format!("interchange-{}", rec.id)
    } else {
        stem
    };
    let mut res = (StatusCode::OK, text).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{stem}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
