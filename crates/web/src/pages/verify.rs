//! The plan's verification queue (provider relations): registration requests with the provider
//! records they name, affiliation proofs, and the decision. Approving applies the request in one
//! transaction with the email that tells the requester (see `storage::Store::approve_registration`).
//! Office administrators decide their own office's requests with the same [`decide`].

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::{Chrome, FieldErrors, errors, pacific, proof, render};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use domain::registration::{RegistrationStatus, RequestKind};
use domain::session::{new_token, token_hash};
use serde::Deserialize;
use storage::{
    Approval, DocumentMeta, NewDocument, NewMessage, RegistrationFilter, RegistrationRecord,
};

/// Activation links work this long.
pub const ACTIVATION_DAYS: i64 = 7;

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub done: Option<String>,
}

pub struct QueueRow {
    pub r: RegistrationRecord,
    pub submitted: String,
    pub age_days: i64,
}

#[derive(Template)]
#[template(path = "verify_queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    pub rows: Vec<QueueRow>,
    pub status: String,
    pub kind: String,
    pub statuses: &'static [RegistrationStatus],
    pub kinds: &'static [RequestKind],
    pub notice: Option<&'static str>,
}

pub fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "approved" => "Approved. The requester was sent an email.",
        "denied" => "Denied. The requester was sent an email with the reason.",
        "taken" => "Someone else decided this request first; nothing was changed.",
        "uploaded" => "The proof was added to the request.",
        _ => return None,
    })
}

pub async fn queue(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<QueueQuery>,
) -> Response {
    let status = q
        .status
        .as_deref()
        .map_or(Some(RegistrationStatus::Pending), |c| {
            if c == "all" {
                None
            } else {
                RegistrationStatus::from_code(c)
            }
        });
    let kind = q.kind.as_deref().and_then(RequestKind::from_code);
    let list = match state
        .store
        .registrations(&RegistrationFilter {
            status,
            kind,
            tin: None,
            limit: 500,
        })
        .await
    {
        Ok(l) => l,
        Err(_) => return errors::unavailable(&state),
    };
    let now = Utc::now();
    render(
        StatusCode::OK,
        &QueuePage {
            chrome: Chrome::signed(&state, &s, "Verification queue", "/plan/registrations"),
            rows: list
                .into_iter()
                .map(|r| QueueRow {
                    submitted: pacific(r.submitted_at),
                    age_days: (now - r.submitted_at).num_days(),
                    r,
                })
                .collect(),
            status: status.map(|s| s.code()).unwrap_or("all").to_string(),
            kind: kind.map(|k| k.code()).unwrap_or("").to_string(),
            statuses: RegistrationStatus::ALL,
            kinds: RequestKind::ALL,
            notice: notice_text(q.done.as_deref()),
        },
    )
}

/// What the plan's records say about the NPI and TIN a request names.
pub struct Match {
    pub provider: Option<String>,
    pub provider_tin: Option<String>,
    pub tin_matches: bool,
    pub office: Option<String>,
    pub office_users: usize,
}

#[derive(Template)]
#[template(path = "verify_detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub r: RegistrationRecord,
    pub submitted: String,
    pub decided: String,
    pub m: Match,
    pub docs: Vec<DocumentMeta>,
    pub portal_role: &'static str,
    pub errors: FieldErrors,
    pub notice: Option<&'static str>,
}

async fn matching(state: &AppState, r: &RegistrationRecord) -> Match {
    let provider = state.store.provider(&r.npi).await.ok().flatten();
    let org = state.store.org_by_tin(&r.tin).await.ok().flatten();
    let office_users = match &org {
        Some(o) => state
            .store
            .users_of_org(o.id)
            .await
            .map(|u| u.len())
            .unwrap_or(0),
        None => 0,
    };
    Match {
        tin_matches: provider.as_ref().is_some_and(|p| p.tin == r.tin),
        provider_tin: provider.as_ref().map(|p| p.tin.to_string()),
        provider: provider.map(|p| format!("{} ({})", p.name, p.taxonomy.specialty)),
        office: org.map(|o| o.name),
        office_users,
    }
}

async fn detail_page(
    state: &AppState,
    s: &Signed,
    id: i64,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Response {
    let r = match state.store.registration(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(state, s),
        Err(_) => return errors::unavailable(state),
    };
    let docs = state.store.documents(id).await.unwrap_or_default();
    let m = matching(state, &r).await;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &DetailPage {
            chrome: Chrome::signed(state, s, format!("Request {id}"), "/plan/registrations"),
            submitted: pacific(r.submitted_at),
            decided: r.decided_at.map(pacific).unwrap_or_default(),
            portal_role: r.office_role.portal_role().label(),
            r,
            m,
            docs,
            errors,
            notice,
        },
    )
}

fn not_found(state: &AppState, s: &Signed) -> Response {
    errors::no_such_record(state, s, "registration request")
}

pub async fn detail(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Response {
    audit::security(
        &state,
        Some(&s),
        "registration.view",
        "registration",
        &id.to_string(),
        "ok",
    )
    .await;
    detail_page(
        &state,
        &s,
        id,
        FieldErrors::new(),
        notice_text(q.done.as_deref()),
    )
    .await
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// How a decision went.
pub enum Decided {
    Approved,
    Denied,
    /// Decided by someone else first.
    Taken,
}

/// Approves or denies `r` as `s`, queueing the email to the requester. `Err` is a message for
/// the reason field (or the page).
pub async fn decide(
    state: &AppState,
    s: &Signed,
    r: &RegistrationRecord,
    f: &DecideForm,
) -> Result<Decided, String> {
    let now = Utc::now();
    let id = r.id.to_string();
    match f.decision.as_str() {
        "approve" => {
            let token = new_token();
            let (approval, subject, body) = match r.kind {
                RequestKind::Access => (
                    Approval::Access {
                        username: r.email.clone(),
                        role: r.office_role.portal_role(),
                        activation_hash: token_hash(&token),
                        activation_expires: now + Duration::days(ACTIVATION_DAYS),
                    },
                    "Your provider portal access is approved",
                    format!(
                        "Hello {},\n\nYour access to the provider portal for {} (TIN {}) is approved.\n\nSet your password within {ACTIVATION_DAYS} days at:\n{}/activate/{token}\n\nYour username is {}. After setting the password you will set up two-step sign-in with an authenticator app.\n",
                        r.name, r.office_name, r.tin, state.public_url, r.email
                    ),
                ),
                RequestKind::Claims => (
                    Approval::Claims,
                    "Claims inquiry is now part of your portal access",
                    format!(
                        "Hello {},\n\nThe plan approved claims inquiry for you at {} (TIN {}). Claims and remittance now appear in the portal when you sign in.\n",
                        r.name, r.office_name, r.tin
                    ),
                ),
                RequestKind::Tin => (
                    Approval::Tin,
                    "You can now act for another TIN",
                    format!(
                        "Hello {},\n\nThe plan approved your request to act for {} (TIN {}).\n",
                        r.name, r.office_name, r.tin
                    ),
                ),
            };
            let message = NewMessage {
                to_addr: r.email.clone(),
                subject: subject.into(),
                body,
                created_at: now,
            };
            match state
                .store
                .approve_registration(r.id, s.user_id(), &approval, &message)
                .await
            {
                Ok(Some(done)) => {
                    audit::security(
                        state,
                        Some(s),
                        "registration.approve",
                        "registration",
                        &id,
                        "ok",
                    )
                    .await;
                    match r.kind {
                        RequestKind::Claims => {
                            audit::security(
                                state,
                                Some(s),
                                "entitlement.grant",
                                "user",
                                &done.user_id.to_string(),
                                "ok",
                            )
                            .await
                        }
                        RequestKind::Tin => {
                            audit::security(
                                state,
                                Some(s),
                                "tin.grant",
                                "user",
                                &done.user_id.to_string(),
                                "ok",
                            )
                            .await
                        }
                        RequestKind::Access => {
                            audit::security(
                                state,
                                Some(s),
                                "user.invite",
                                "user",
                                &done.user_id.to_string(),
                                "ok",
                            )
                            .await
                        }
                    }
                    Ok(Decided::Approved)
                }
                Ok(None) => Ok(Decided::Taken),
                Err(storage::StorageError::Duplicate(_)) => Err(format!(
                    "An account named {} already exists; deny this request or ask the person to use another email.",
                    r.email
                )),
                Err(_) => {
                    Err("The portal could not reach its database; nothing was changed.".into())
                }
            }
        }
        "deny" => {
            let reason = f.reason.trim();
            if reason.is_empty() {
                return Err("Give the reason for the denial; it is sent to the requester.".into());
            }
            if reason.chars().count() > 1000 {
                return Err("Use at most 1,000 characters.".into());
            }
            let message = NewMessage {
                to_addr: r.email.clone(),
                subject: "Your provider portal request was not approved".into(),
                body: format!(
                    "Hello {},\n\nYour request ({}) for {} (TIN {}) was not approved.\n\nReason: {reason}\n\nIf this is a mistake, contact the plan's Provider Relations.\n",
                    r.name,
                    r.kind.label(),
                    r.office_name,
                    r.tin
                ),
                created_at: now,
            };
            match state
                .store
                .deny_registration(r.id, s.user_id(), reason, &message)
                .await
            {
                Ok(true) => {
                    audit::security(
                        state,
                        Some(s),
                        "registration.deny",
                        "registration",
                        &id,
                        "ok",
                    )
                    .await;
                    Ok(Decided::Denied)
                }
                Ok(false) => Ok(Decided::Taken),
                Err(_) => {
                    Err("The portal could not reach its database; nothing was changed.".into())
                }
            }
        }
        _ => Err("Choose approve or deny.".into()),
    }
}

pub async fn decide_route(state: &AppState, s: &Signed, id: i64, f: DecideForm) -> Response {
    let r = match state.store.registration(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(state, s),
        Err(_) => return errors::unavailable(state),
    };
    match decide(state, s, &r, &f).await {
        Ok(Decided::Approved) => Redirect::to("/plan/registrations?done=approved").into_response(),
        Ok(Decided::Denied) => Redirect::to("/plan/registrations?done=denied").into_response(),
        Ok(Decided::Taken) => {
            Redirect::to(&format!("/plan/registrations/{id}?done=taken")).into_response()
        }
        Err(msg) => {
            let mut e = FieldErrors::new();
            e.insert("reason", msg);
            detail_page(state, s, id, e, None).await
        }
    }
}

pub async fn decide_handler(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    decide_route(&state, &s, id, f).await
}

pub async fn upload_proof(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> Response {
    if !matches!(state.store.registration(id).await, Ok(Some(_))) {
        return not_found(&state, &s);
    }
    let mut file = None;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some("proof") {
            let name = field.file_name().unwrap_or("").to_string();
            match field.bytes().await {
                Ok(b) => file = Some((name, b.to_vec())),
                Err(e) => {
                    let mut err = FieldErrors::new();
                    err.insert(
                        "proof",
                        format!("The upload could not be read: {}", e.body_text()),
                    );
                    return detail_page(&state, &s, id, err, None).await;
                }
            }
        }
    }
    let checked = match file {
        Some((name, bytes)) => proof::check(&name, bytes),
        None => Err("Choose the file to upload.".into()),
    };
    let p = match checked {
        Ok(p) => p,
        Err(msg) => {
            let mut err = FieldErrors::new();
            err.insert("proof", msg);
            return detail_page(&state, &s, id, err, None).await;
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
        Err(_) => errors::unavailable(&state),
    }
}

/// The proof itself, sandboxed: shown by the browser, never run as part of the portal.
pub async fn proof(
    State(state): State<AppState>,
    s: Signed,
    Path((id, doc)): Path<(i64, i64)>,
) -> Response {
    let (meta, bytes) = match state.store.document(doc).await {
        Ok(Some((m, b))) if m.registration_id == id => (m, b),
        Ok(_) => return not_found(&state, &s),
        Err(_) => return errors::unavailable(&state),
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
    if let Ok(v) = HeaderValue::from_str(&meta.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Images open in the browser; PDFs download (a sandboxed PDF does not render in Chromium).
    let disposition = if meta.media_type == "application/pdf" {
        "attachment"
    } else {
        "inline"
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{}\"", meta.filename))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res.extensions_mut().insert(crate::headers::DocumentPolicy);
    res
}
