//! The plan's verification queue (provider relations and plan administrators): registration
//! requests with the provider records they name, affiliation proofs, and the decision.
//! Approving applies the request in one transaction with the email that tells the requester
//! (see `storage::RegistrationStore::approve_registration`). Office administrators decide their
//! own office's requests with the same [`decide`] (see `pages::office`).
//!
//! The plan's procedure: nobody is approved before Provider Relations has confirmed the person's
//! employment by calling the office back, at the number in the plan's own records.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::pacific;
use crate::kit::format::phone_label;
use crate::kit::upload::{self as proof, Upload};
use crate::pages::decision::{
    ACTIVATION_DAYS, DecideForm, Decided, MAX_REASON, Refused, decide, own_request,
};
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use domain::account::Role;
use domain::registration::{RegistrationStatus, RequestKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use storage::{NewDocument, RegistrationFilter, RegistrationRecord};

/// Most requests one queue page lists.
const QUEUE_LIMIT: i64 = 500;

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub done: Option<String>,
}

pub struct QueueRow {
    pub r: RegistrationRecord,
    pub submitted: String,
    /// Whole days a pending request has waited; `None` once decided.
    pub age_days: Option<i64>,
    pub decided: String,
}

#[derive(Template)]
#[template(path = "verify_queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    pub rows: Vec<QueueRow>,
    /// Status code shown ("all" for every status).
    pub status: String,
    /// Kind code shown (empty for every kind).
    pub kind: String,
    pub statuses: &'static [RegistrationStatus],
    pub kinds: &'static [RequestKind],
    pub notice: Option<&'static str>,
    /// More requests match than the page lists.
    pub truncated: bool,
    pub limit: i64,
}

/// The fixed text for a `?done=` code (never the query's own text).
pub fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "approved" => "Approved. The requester was sent an email (see the outbox).",
        "denied" => "Denied. The requester was sent an email with the reason.",
        "uploaded" => "The proof was added to the request.",
        _ => return None,
    })
}

/// The status a queue shows: pending unless another status (or "all") is asked for.
fn status_filter(code: Option<&str>) -> Option<RegistrationStatus> {
    match code {
        Some("all") => None,
        Some(c) => Some(RegistrationStatus::from_code(c).unwrap_or(RegistrationStatus::Pending)),
        None => Some(RegistrationStatus::Pending),
    }
}

/// Pending requests first, each group in the order storage gave (oldest first).
fn pending_first(rows: &mut [RegistrationRecord]) {
    rows.sort_by_key(|r| r.status != RegistrationStatus::Pending);
}

/// Whole days since `since`.
fn age_days(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_days().max(0)
}

/// `GET /plan/registrations`: the verification queue.
pub async fn queue(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<QueueQuery>,
) -> Response {
    let status = status_filter(q.status.as_deref());
    let kind = q.kind.as_deref().and_then(RequestKind::from_code);
    let mut list = match state
        .store
        .registrations(&RegistrationFilter {
            status,
            kind,
            tin: None,
            limit: QUEUE_LIMIT + 1,
        })
        .await
    {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "registration queue unavailable");
            return errors::unavailable(&state);
        }
    };
    let truncated = list.len() as i64 > QUEUE_LIMIT;
    list.truncate(QUEUE_LIMIT as usize);
    pending_first(&mut list);
    let now = Utc::now();
    render(
        StatusCode::OK,
        &QueuePage {
            chrome: Chrome::signed(&state, &s, "Verification queue", "/plan/registrations"),
            rows: list
                .into_iter()
                .map(|r| QueueRow {
                    submitted: pacific(r.submitted_at),
                    age_days: (r.status == RegistrationStatus::Pending)
                        .then(|| age_days(r.submitted_at, now)),
                    decided: r.decided_at.map(pacific).unwrap_or_default(),
                    r,
                })
                .collect(),
            status: status.map(|s| s.code()).unwrap_or("all").to_string(),
            kind: kind.map(|k| k.code()).unwrap_or("").to_string(),
            statuses: RegistrationStatus::ALL,
            kinds: RequestKind::ALL,
            notice: notice_text(q.done.as_deref()),
            truncated,
            limit: QUEUE_LIMIT,
        },
    )
}

/// The provider the request's NPI names, as the plan's records have it.
pub struct ProviderView {
    pub name: String,
    pub specialty: String,
    pub tin: String,
    pub city: String,
    /// The office phone on the plan's records: the number to call back.
    pub phone: String,
    pub contracted: bool,
}

/// The portal organisation already registered under the request's TIN.
pub struct OfficeView {
    pub name: String,
    pub users: usize,
    pub active_users: usize,
    pub claims_allowed: bool,
}

/// The signed-in user who asked (claims and TIN requests).
pub struct RequesterView {
    pub username: String,
    pub display_name: String,
    pub org: String,
    pub org_tin: String,
    pub status: &'static str,
    pub role: &'static str,
    pub claims: bool,
}

/// What the plan's records say about the NPI and TIN a request names.
pub struct Match {
    pub provider: Option<ProviderView>,
    pub tin_matches: bool,
    /// The phone given differs from the one on the plan's records.
    pub phone_differs: bool,
    pub office: Option<OfficeView>,
    pub requester: Option<RequesterView>,
    /// An account with the username an access approval would create already exists.
    pub username_taken: bool,
}

/// A proof as the detail page lists it.
pub struct DocView {
    pub id: i64,
    pub filename: String,
    pub media_type: String,
    pub size: String,
    pub sha256: String,
    pub uploaded: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "verify_detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub r: RegistrationRecord,
    pub submitted: String,
    pub decided: String,
    pub age_days: i64,
    pub phone: String,
    pub m: Match,
    pub docs: Vec<DocView>,
    /// What approving does, in words.
    pub approve_effect: String,
    /// The decider is the requester: they may not decide it.
    pub own_request: bool,
    /// Per-field messages (`reason`, `proof`).
    pub errors: FieldErrors,
    /// A message for the whole page (a refused approval).
    pub error: Option<String>,
    /// The denial reason as typed, kept when the form comes back.
    pub reason: String,
    pub notice: Option<&'static str>,
    pub max_reason: usize,
}

fn same_phone(a: &str, b: &str) -> bool {
    let digits = |s: &str| {
        let d: String = s.chars().filter(char::is_ascii_digit).collect();
        d.strip_prefix('1')
            .filter(|r| r.len() == 10)
            .map(str::to_string)
            .unwrap_or(d)
    };
    digits(a) == digits(b)
}

async fn matching(
    state: &AppState,
    r: &RegistrationRecord,
) -> Result<Match, storage::StorageError> {
    let provider = state.store.provider(&r.npi).await?;
    let office = match state.store.org_by_tin(&r.tin).await? {
        Some(o) => {
            let users = state.store.users_of_org(o.id).await?;
            Some(OfficeView {
                name: o.name,
                users: users.len(),
                active_users: users
                    .iter()
                    .filter(|u| u.status == domain::account::UserStatus::Active)
                    .count(),
                claims_allowed: o.claims_allowed,
            })
        }
        None => None,
    };
    let requester = match r.user_id {
        Some(id) if r.kind != RequestKind::Access => {
            state.store.identity(id).await?.map(|i| RequesterView {
                username: i.user.username,
                display_name: i.user.display_name,
                org: i.org.name,
                org_tin: i.org.tin.map(|t| t.to_string()).unwrap_or_default(),
                status: i.user.status.label(),
                role: i.user.role.label(),
                claims: i.user.claims,
            })
        }
        _ => None,
    };
    let username_taken = r.kind == RequestKind::Access
        && r.status == RegistrationStatus::Pending
        && state.store.user_by_username(&r.email).await?.is_some();
    Ok(Match {
        tin_matches: provider.as_ref().is_some_and(|p| p.tin == r.tin),
        phone_differs: provider
            .as_ref()
            .is_some_and(|p| !same_phone(&p.location.phone, &r.phone)),
        provider: provider.map(|p| ProviderView {
            name: p.name,
            specialty: p.taxonomy.specialty,
            tin: p.tin.to_string(),
            city: p.location.city,
            phone: phone_label(&p.location.phone),
            contracted: p.contracted,
        }),
        office,
        requester,
        username_taken,
    })
}

async fn documents(state: &AppState, id: i64) -> Result<Vec<DocView>, storage::StorageError> {
    let docs = state.store.documents(id).await?;
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let by = match d.uploaded_by {
            None => "the requester, with the request".to_string(),
            Some(uid) => match names.get(&uid) {
                Some(n) => n.clone(),
                None => {
                    let name = state
                        .store
                        .user(uid)
                        .await?
                        .map(|u| u.username)
                        .unwrap_or_else(|| format!("user {uid}"));
                    names.insert(uid, name.clone());
                    name
                }
            },
        };
        out.push(DocView {
            id: d.id,
            filename: d.filename,
            media_type: d.media_type,
            size: proof::size_label(d.size),
            sha256: d.sha256,
            uploaded: pacific(d.uploaded_at),
            by,
        });
    }
    Ok(out)
}

/// What approving `r` does, in words for the reviewer.
fn approve_effect(r: &RegistrationRecord) -> String {
    match r.kind {
        RequestKind::Access => {
            let role = r.office_role.portal_role();
            let extra = if role == Role::OfficeAdmin {
                " An office administrator manages the office's users and approves their requests."
            } else {
                " Claims inquiry is not included; it is a separate request."
            };
            format!(
                "Approving creates the account {} as {} for TIN {} and emails a link to set a password (valid {ACTIVATION_DAYS} days).{extra}",
                r.email,
                role.label(),
                r.tin
            )
        }
        RequestKind::Claims => format!(
            "Approving grants claims inquiry (claim status and remittance for TIN {}) to this person, and lets the office's administrator grant it to other staff of the office.",
            r.tin
        ),
        RequestKind::Tin => format!(
            "Approving lets this person act for TIN {} ({}) in addition to the TINs they already have.",
            r.tin, r.office_name
        ),
    }
}

/// What a detail page shows besides the request itself.
#[derive(Default)]
struct Shown {
    errors: FieldErrors,
    error: Option<String>,
    reason: String,
    notice: Option<&'static str>,
}

async fn detail_page(
    state: &AppState,
    s: &Signed,
    r: RegistrationRecord,
    shown: Shown,
) -> Response {
    let (m, docs) = match (matching(state, &r).await, documents(state, r.id).await) {
        (Ok(m), Ok(d)) => (m, d),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "registration detail unavailable");
            return errors::unavailable(state);
        }
    };
    let status = if shown.errors.is_empty() && shown.error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &DetailPage {
            chrome: Chrome::signed(state, s, format!("Request {}", r.id), "/plan/registrations"),
            submitted: pacific(r.submitted_at),
            decided: r.decided_at.map(pacific).unwrap_or_default(),
            age_days: age_days(r.submitted_at, Utc::now()),
            phone: phone_label(&r.phone),
            approve_effect: approve_effect(&r),
            own_request: own_request(s, &r),
            r,
            m,
            docs,
            errors: shown.errors,
            error: shown.error,
            reason: shown.reason,
            notice: shown.notice,
            max_reason: MAX_REASON,
        },
    )
}

fn not_found(state: &AppState, s: &Signed) -> Response {
    errors::no_such_record(state, s, "registration request")
}

/// The request `id`, or the response to give instead.
async fn load(state: &AppState, s: &Signed, id: i64) -> Result<RegistrationRecord, Response> {
    match state.store.registration(id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(not_found(state, s)),
        Err(e) => {
            tracing::error!(error = %e, "registration lookup failed");
            Err(errors::unavailable(state))
        }
    }
}

/// `GET /plan/registrations/{id}`: everything about one request (never member data).
pub async fn detail(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Response {
    let r = match load(&state, &s, id).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    audit::security(
        &state,
        Some(&s),
        "registration.view",
        "registration",
        &id.to_string(),
        "ok",
    )
    .await;
    let shown = Shown {
        notice: notice_text(q.done.as_deref()),
        ..Shown::default()
    };
    detail_page(&state, &s, r, shown).await
}

/// `POST /plan/registrations/{id}/decide`.
pub async fn decide_handler(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    let r = match load(&state, &s, id).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let mut shown = Shown {
        reason: f.reason.clone(),
        ..Shown::default()
    };
    match decide(&state, &s, &r, &f).await {
        Ok(Decided::Approved) => {
            return Redirect::to("/plan/registrations?done=approved").into_response();
        }
        Ok(Decided::Denied) => {
            return Redirect::to("/plan/registrations?done=denied").into_response();
        }
        Ok(Decided::Taken) => {
            shown.error = Some(
                "This request was already decided by someone else; nothing was changed. Its decision is shown below."
                    .into(),
            );
        }
        Err(Refused::Reason(msg)) => {
            shown.errors.insert("reason", msg);
        }
        Err(Refused::Page(msg)) => shown.error = Some(msg),
        Err(Refused::Unavailable) => return errors::unavailable(&state),
    }
    // Show the request as it is now (decided, if someone else was first).
    let r = match load(&state, &s, id).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    detail_page(&state, &s, r, shown).await
}

/// `POST /plan/registrations/{id}/proof`: a letter received by fax or mail, uploaded by staff.
pub async fn upload_proof(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    upload: Upload,
) -> Response {
    let r = match load(&state, &s, id).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let got = proof::receive(upload, "proof").await;
    let checked = match (got.problem, got.file) {
        (Some(why), _) => Err(why),
        (None, Some((name, bytes))) => proof::check(&name, bytes),
        (None, None) => Err("Choose the file to upload.".into()),
    };
    let p = match checked {
        Ok(p) => p,
        Err(msg) => {
            let mut shown = Shown::default();
            shown.errors.insert("proof", msg);
            return detail_page(&state, &s, r, shown).await;
        }
    };
    let doc = NewDocument {
        registration_id: id,
        filename: p.filename,
        media_type: p.media_type,
        sha256: p.sha256,
        bytes: p.bytes,
        uploaded_by: Some(s.user_id()),
        uploaded_at: Utc::now(),
    };
    match state.store.add_document(&doc).await {
        Ok(doc_id) => {
            audit::security(
                &state,
                Some(&s),
                "registration.proof_upload",
                "document",
                &doc_id.to_string(),
                "ok",
            )
            .await;
            Redirect::to(&format!("/plan/registrations/{id}?done=uploaded")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "proof not stored");
            errors::unavailable(&state)
        }
    }
}

/// `Content-Disposition` for a stored proof. Images open in the browser; PDFs download, since
/// Chromium does not render a PDF under a sandboxing policy. The name was cleaned on upload;
/// it is cleaned again here so no quote can reach the header.
pub(crate) fn disposition(media_type: &str, filename: &str) -> String {
    let kind = if media_type == "application/pdf" {
        "attachment"
    } else {
        "inline"
    };
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    let safe = if safe.is_empty() {
        "proof".to_string()
    } else {
        safe
    };
    format!("{kind}; filename=\"{safe}\"")
}

/// `GET /plan/registrations/{id}/proof/{doc}`: the proof itself, sandboxed: shown by the browser,
/// never run as part of the portal, never cached.
pub async fn proof(
    State(state): State<AppState>,
    s: Signed,
    Path((id, doc)): Path<(i64, i64)>,
) -> Response {
    let (meta, bytes) = match state.store.document(doc).await {
        Ok(Some(d)) if d.meta.registration_id == id => (d.meta, d.bytes),
        Ok(_) => return not_found(&state, &s),
        Err(e) => {
            tracing::error!(error = %e, "proof lookup failed");
            return errors::unavailable(&state);
        }
    };
    audit::security(
        &state,
        Some(&s),
        "registration.proof_view",
        "document",
        &doc.to_string(),
        "ok",
    )
    .await;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    // Only the types accepted on upload are ever served as themselves.
    let media_type = match meta.media_type.as_str() {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&disposition(media_type, &meta.filename)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::decision::{approval_for, denial_for, reason_problem};
    use chrono::Duration;
    use domain::registration::OfficeRole;
    use domain::session::token_hash;
    use domain::{Npi, Tin};
    use storage::Approval;

    fn request(kind: RequestKind, role: OfficeRole) -> RegistrationRecord {
        RegistrationRecord {
            id: 7,
            kind,
            name: "Linh Tran".into(),
            email: "linh@irvinefm.org".into(),
            phone: "7145550100".into(),
            npi: Npi::parse("1234567893").unwrap(),
            tin: Tin::parse("951234567").unwrap(),
            office_name: "Irvine Family Medicine".into(),
            office_role: role,
            user_id: None,
            note: String::new(),
            submitted_at: Utc::now(),
            status: RegistrationStatus::Pending,
            decided_at: None,
            decided_by: None,
            decided_by_name: None,
            reason: None,
        }
    }

    #[test]
    fn access_approval_carries_a_one_time_link() {
        let r = request(RequestKind::Access, OfficeRole::OfficeManager);
        let token = "ab".repeat(32);
        let now = Utc::now();
        let (approval, mail, letter) = approval_for(&r, "https://portal.plan.org/", &token, now);
        match approval {
            Approval::Access {
                username,
                role,
                activation_hash,
                activation_expires,
            } => {
                assert_eq!(username, "linh@irvinefm.org");
                assert_eq!(role, Role::OfficeAdmin);
                assert_eq!(activation_hash, token_hash(&token));
                assert_eq!(activation_expires, now + Duration::days(7));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(mail.to_addr, "linh@irvinefm.org");
        assert_eq!(letter.to, "linh@irvinefm.org");
        // The recipient gets the link; the outbox keeps it masked.
        assert!(
            letter
                .body
                .contains(&format!("https://portal.plan.org/activate/{token}\n")),
            "{}",
            letter.body
        );
        assert!(!mail.body.contains(&token), "{}", mail.body);
        assert!(mail.body.contains(crate::mail::MASKED));
        assert!(mail.body.contains("95-1234567"));
        assert!(!mail.body.contains(&token_hash(&token)), "never the hash");
    }

    #[test]
    fn other_approvals_say_what_they_grant() {
        let (a, m, _) = approval_for(
            &request(RequestKind::Claims, OfficeRole::Billing),
            "http://x",
            "t",
            Utc::now(),
        );
        assert!(matches!(a, Approval::Claims));
        assert!(m.body.contains("claims inquiry"));
        let (a, m, _) = approval_for(
            &request(RequestKind::Tin, OfficeRole::Billing),
            "http://x",
            "t",
            Utc::now(),
        );
        assert!(matches!(a, Approval::Tin));
        assert!(m.body.contains("TIN 95-1234567"));
        let d = denial_for(
            &request(RequestKind::Access, OfficeRole::Billing),
            "No such employee",
            Utc::now(),
        );
        assert!(d.body.contains("Reason: No such employee"));
    }

    #[test]
    fn denials_need_a_reason() {
        assert!(reason_problem("  ").is_err());
        assert!(reason_problem(&"x".repeat(1001)).is_err());
        assert_eq!(
            reason_problem(" Not employed there \n"),
            Ok("Not employed there")
        );
    }

    #[test]
    fn queue_filters_and_order() {
        assert_eq!(status_filter(None), Some(RegistrationStatus::Pending));
        assert_eq!(status_filter(Some("all")), None);
        assert_eq!(
            status_filter(Some("denied")),
            Some(RegistrationStatus::Denied)
        );
        assert_eq!(
            status_filter(Some("<script>")),
            Some(RegistrationStatus::Pending)
        );
        let mut a = request(RequestKind::Access, OfficeRole::Billing);
        a.status = RegistrationStatus::Approved;
        a.id = 1;
        let mut b = request(RequestKind::Access, OfficeRole::Billing);
        b.id = 2;
        let mut c = request(RequestKind::Access, OfficeRole::Billing);
        c.id = 3;
        let mut rows = vec![a, b, c];
        pending_first(&mut rows);
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 3, 1]);
    }

    #[test]
    fn phones_and_headers() {
        assert_eq!(phone_label("7145550100"), "(714) 555-0100");
        assert_eq!(phone_label("1-714-555-0100"), "(714) 555-0100");
        assert_eq!(phone_label("555"), "555");
        assert!(same_phone("(714) 555-0100", "7145550100"));
        assert!(!same_phone("(714) 555-0101", "7145550100"));
        assert_eq!(
            disposition("image/png", "scan.png"),
            "inline; filename=\"scan.png\""
        );
        assert_eq!(
            disposition("application/pdf", "a\"b;.pdf"),
            "attachment; filename=\"ab.pdf\""
        );
    }

    #[test]
    fn effects_name_the_role() {
        let e = approve_effect(&request(RequestKind::Access, OfficeRole::FrontDesk));
        assert!(e.contains("Office user"), "{e}");
        let e = approve_effect(&request(RequestKind::Access, OfficeRole::OfficeManager));
        assert!(e.contains("Office administrator"), "{e}");
    }
}
