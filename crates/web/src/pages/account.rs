//! The signed-in user's own account: profile, two-step sign-in and recovery codes, password,
//! sessions; and the separate requests for the claims entitlement and (billing services) for one
//! more TIN, which go to the plan's verification queue.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::Signed;
use crate::pages::mfa::RecoveryCodesPage;
use crate::pages::{Chrome, FieldErrors, errors, pacific, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::registration::{OfficeRole, RegistrationStatus, RequestKind, mismatch_message};
use domain::{Npi, Tin};
use serde::Deserialize;
use storage::{NewRegistration, RegistrationFilter, RegistrationRecord};

/// Password rules (NIST SP 800-63B: length over composition rules).
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;

/// Checks a new password; `Err` is the message for the field.
pub fn password_problem(password: &str, username: &str, email: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Some(format!(
            "Use at least {MIN_PASSWORD} characters. A few unrelated words make a strong, memorable password."
        ));
    }
    if n > MAX_PASSWORD {
        return Some(format!("Use at most {MAX_PASSWORD} characters."));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    if lower.contains(&username.to_lowercase())
        || (local.len() >= 4 && lower.contains(&local.to_lowercase()))
    {
        return Some("The password must not contain your username or email name.".into());
    }
    None
}

pub struct SessionRow {
    pub started: String,
    pub last_seen: String,
    pub source: String,
    pub browser: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub s: Signed,
    pub tins: Vec<String>,
    pub mfa_on: bool,
    pub recovery_left: i64,
    pub sessions: Vec<SessionRow>,
    pub notice: Option<&'static str>,
    pub errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    pub done: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "password" => "Your password was changed. Your other sessions were signed out.",
        "sessions" => "Your other sessions were signed out.",
        "claims" => "Your request for claims access was sent to the plan for verification.",
        "tin" => "Your request was sent to the plan for verification.",
        _ => return None,
    })
}

fn browser(agent: &str) -> String {
    for (needle, name) in [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ] {
        if agent.contains(needle) {
            return name.into();
        }
    }
    agent.chars().take(40).collect()
}

async fn account_page(
    state: &AppState,
    s: &Signed,
    notice: Option<&'static str>,
    errors: FieldErrors,
) -> Response {
    let user = &s.identity.user;
    let sessions = match state.store.user_sessions(user.id).await {
        Ok(list) => list,
        Err(_) => return errors::unavailable(state),
    };
    let recovery_left = state
        .store
        .unused_recovery_codes(user.id)
        .await
        .unwrap_or(0);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &AccountPage {
            chrome: Chrome::signed(state, s, "My account", "/account"),
            tins: s.principal.tins.iter().map(|t| t.to_string()).collect(),
            mfa_on: user.totp_secret.is_some(),
            recovery_left,
            sessions: sessions
                .iter()
                .map(|x| SessionRow {
                    started: pacific(x.created_at),
                    last_seen: pacific(x.last_seen),
                    source: x.source.clone(),
                    browser: browser(&x.user_agent),
                    current: x.token_hash == s.session.token_hash,
                })
                .collect(),
            s: s.clone(),
            notice,
            errors,
        },
    )
}

pub async fn page(State(state): State<AppState>, s: Signed, Query(q): Query<Notice>) -> Response {
    account_page(
        &state,
        &s,
        notice_text(q.done.as_deref()),
        FieldErrors::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<PasswordForm>,
) -> Response {
    let user = &s.identity.user;
    let mut errors = FieldErrors::new();
    if let Some(p) = password_problem(&f.new, &user.username, &user.email) {
        errors.insert("new", p);
    } else if f.new != f.confirm {
        errors.insert("confirm", "The two new passwords do not match.".into());
    }
    let (current, hash) = (f.current.clone(), user.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || domain::password::verify(&current, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        errors.insert("current", "This is not your current password.".into());
        let _ = state
            .store
            .record_sign_in_failure(user.id, Utc::now())
            .await;
        audit::security(
            &state,
            Some(&s),
            "password.change",
            "user",
            &user.id.to_string(),
            "failed",
        )
        .await;
    }
    if !errors.is_empty() {
        return account_page(&state, &s, None, errors).await;
    }
    let new = f.new.clone();
    let Ok(hash) = tokio::task::spawn_blocking(move || domain::password::hash(&new)).await else {
        return errors::unavailable(&state);
    };
    if state
        .store
        .set_password(user.id, &hash, Some(&s.session.token_hash))
        .await
        .is_err()
    {
        return errors::unavailable(&state);
    }
    audit::security(
        &state,
        Some(&s),
        "password.change",
        "user",
        &user.id.to_string(),
        "ok",
    )
    .await;
    Redirect::to("/account?done=password").into_response()
}

pub async fn new_recovery_codes(State(state): State<AppState>, s: Signed) -> Response {
    let codes = domain::mfa::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| domain::mfa::recovery_hash(c))
        .collect();
    if state
        .store
        .replace_recovery_codes(s.user_id(), &hashes)
        .await
        .is_err()
    {
        return errors::unavailable(&state);
    }
    audit::security(
        &state,
        Some(&s),
        "mfa.recovery_codes_regenerated",
        "user",
        &s.user_id().to_string(),
        "ok",
    )
    .await;
    render(
        StatusCode::OK,
        &RecoveryCodesPage {
            chrome: Chrome::signed(&state, &s, "New recovery codes", "/account"),
            codes,
            next: "/account".into(),
        },
    )
}

pub async fn end_other_sessions(State(state): State<AppState>, s: Signed) -> Response {
    match state
        .store
        .end_user_sessions(s.user_id(), Some(&s.session.token_hash))
        .await
    {
        Ok(n) => {
            audit::security(
                &state,
                Some(&s),
                "session.end_others",
                "user",
                &s.user_id().to_string(),
                &format!("ok ({n})"),
            )
            .await;
            Redirect::to("/account?done=sessions").into_response()
        }
        Err(_) => errors::unavailable(&state),
    }
}

/// The user's own requests of `kind`, newest last.
async fn my_requests(state: &AppState, s: &Signed, kind: RequestKind) -> Vec<RegistrationRecord> {
    let filter = RegistrationFilter {
        kind: Some(kind),
        limit: 1000,
        ..RegistrationFilter::default()
    };
    state
        .store
        .registrations(&filter)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.user_id == Some(s.user_id()))
        .collect()
}

pub struct RequestRow {
    pub submitted: String,
    pub tin: String,
    pub status: RegistrationStatus,
    pub reason: String,
}

fn request_rows(list: &[RegistrationRecord]) -> Vec<RequestRow> {
    list.iter()
        .rev()
        .map(|r| RequestRow {
            submitted: pacific(r.submitted_at),
            tin: r.tin.to_string(),
            status: r.status,
            reason: r.reason.clone().unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "entitlement_request.html")]
pub struct RequestPage {
    pub chrome: Chrome,
    /// "claims" or "tins": which form.
    pub kind: &'static str,
    pub heading: &'static str,
    pub office_tin: String,
    pub npi: String,
    pub tin: String,
    pub office_name: String,
    pub note: String,
    pub errors: FieldErrors,
    pub requests: Vec<RequestRow>,
    pub grants: Vec<String>,
    pub has_pending: bool,
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    pub npi: String,
    #[serde(default)]
    pub tin: String,
    #[serde(default)]
    pub office_name: String,
    #[serde(default)]
    pub note: String,
}

async fn request_page(
    state: &AppState,
    s: &Signed,
    kind: RequestKind,
    f: &RequestForm,
    errors: FieldErrors,
) -> Response {
    let requests = my_requests(state, s, kind).await;
    let grants = if kind == RequestKind::Tin {
        state
            .store
            .tin_grants(s.user_id())
            .await
            .unwrap_or_default()
            .iter()
            .map(|g| format!("{} (since {})", g.tin, pacific(g.granted_at)))
            .collect()
    } else {
        Vec::new()
    };
    let (slug, heading, path) = match kind {
        RequestKind::Tin => ("tins", "Act for another TIN", "/account/tins"),
        _ => ("claims", "Request claims access", "/account/claims-access"),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &RequestPage {
            chrome: Chrome::signed(state, s, heading, path),
            kind: slug,
            heading,
            office_tin: s
                .identity
                .org
                .tin
                .map(|t| t.to_string())
                .unwrap_or_default(),
            npi: f.npi.clone(),
            tin: f.tin.clone(),
            office_name: f.office_name.clone(),
            note: f.note.clone(),
            errors,
            has_pending: requests
                .iter()
                .any(|r| r.status == RegistrationStatus::Pending),
            requests: request_rows(&requests),
            grants,
        },
    )
}

pub async fn claims_form(State(state): State<AppState>, s: Signed) -> Response {
    request_page(
        &state,
        &s,
        RequestKind::Claims,
        &RequestForm::default(),
        FieldErrors::new(),
    )
    .await
}

pub async fn tin_form(State(state): State<AppState>, s: Signed) -> Response {
    request_page(
        &state,
        &s,
        RequestKind::Tin,
        &RequestForm::default(),
        FieldErrors::new(),
    )
    .await
}

pub async fn claims_submit(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<RequestForm>,
) -> Response {
    let Some(tin) = s.identity.org.tin else {
        let chrome = Chrome::signed(&state, &s, "Cannot do that", "");
        return errors::bad_request(
            chrome,
            "Your organisation has no TIN on file; contact Provider Relations.",
        );
    };
    submit_request(
        &state,
        &s,
        RequestKind::Claims,
        tin,
        s.identity.org.name.clone(),
        f,
    )
    .await
}

pub async fn tin_submit(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<RequestForm>,
) -> Response {
    let mut errors = FieldErrors::new();
    let tin = match Tin::parse(&f.tin) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.insert("tin", format!("TIN: {e}"));
            None
        }
    };
    if f.office_name.trim().len() < 2 {
        errors.insert(
            "office_name",
            "Enter the office or group name as it appears on its contract.".into(),
        );
    }
    match tin {
        Some(tin) if errors.is_empty() => {
            if s.principal.tins.contains(&tin) {
                let mut e = FieldErrors::new();
                e.insert("tin", format!("You already act for TIN {tin}."));
                return request_page(&state, &s, RequestKind::Tin, &f, e).await;
            }
            let office = f.office_name.trim().to_string();
            submit_request(&state, &s, RequestKind::Tin, tin, office, f).await
        }
        _ => request_page(&state, &s, RequestKind::Tin, &f, errors).await,
    }
}

/// Validates the NPI against the plan's records under `tin`, refuses a duplicate, and queues
/// the request.
async fn submit_request(
    state: &AppState,
    s: &Signed,
    kind: RequestKind,
    tin: Tin,
    office_name: String,
    f: RequestForm,
) -> Response {
    let mut errors = FieldErrors::new();
    let note = f.note.trim().to_string();
    if note.is_empty() {
        errors.insert(
            "note",
            "Say briefly why you need this (for example: you post payments for the office).".into(),
        );
    } else if note.chars().count() > 500 {
        errors.insert("note", "Use at most 500 characters.".into());
    }
    let npi = match Npi::parse(&f.npi) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.insert("npi", format!("NPI: {e}"));
            None
        }
    };
    if let Some(npi) = npi {
        let known = match state.store.provider(&npi).await {
            Ok(p) => p.map(|p| p.tin),
            Err(_) => return errors::unavailable(state),
        };
        if let Some((field, msg)) = mismatch_message(&npi, &tin, known.as_ref()) {
            errors.insert(
                if field == "tin" && kind == RequestKind::Claims {
                    "npi"
                } else {
                    field
                },
                msg,
            );
        }
    }
    let user = &s.identity.user;
    if errors.is_empty()
        && let Ok(Some(_)) = state
            .store
            .pending_registration(&user.email, kind, &tin)
            .await
    {
        errors.insert(
            "note",
            "You already have a request waiting for verification; the plan will contact you."
                .into(),
        );
    }
    let Some(npi) = npi.filter(|_| errors.is_empty()) else {
        return request_page(state, s, kind, &f, errors).await;
    };
    let new = NewRegistration {
        kind,
        name: user.display_name.clone(),
        email: user.email.clone(),
        phone: user.phone.clone(),
        npi,
        tin,
        office_name,
        office_role: OfficeRole::Billing,
        user_id: Some(user.id),
        note,
        submitted_at: Utc::now(),
        source: s.source.clone(),
    };
    let id = match state.store.create_registration(&new).await {
        Ok(id) => id,
        Err(_) => return errors::unavailable(state),
    };
    audit::event(
        state,
        Actor::from(s),
        &s.source,
        "registration.submit",
        "registration",
        &id.to_string(),
        "ok",
    )
    .await;
    let back = if kind == RequestKind::Tin {
        "/account?done=tin"
    } else {
        "/account?done=claims"
    };
    Redirect::to(back).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(password_problem("short", "ada", "ada@x.org").is_some());
        assert!(password_problem("correct horse battery", "ada", "ada@x.org").is_none());
        assert!(
            password_problem("my-name-is-ada-lovelace", "ada", "ada@x.org").is_some(),
            "contains the username"
        );
        assert!(
            password_problem("lovelace-and-babbage", "ada", "lovelace@x.org").is_some(),
            "contains the email name"
        );
        assert!(password_problem(&"x".repeat(129), "ada", "ada@x.org").is_some());
    }
}
