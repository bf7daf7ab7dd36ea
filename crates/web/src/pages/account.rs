//! The signed-in user's own account: profile, two-step sign-in and recovery codes, password,
//! sessions; and the separate requests for the claims entitlement and (billing services) for one
//! more TIN, which go to the plan's verification queue (claims requests also to the office's
//! administrator).
//!
//! Every form posts back here; success answers with a 303 to the page with a `done` code that
//! maps to a fixed text (nothing typed is ever echoed from a query string), and a refused form is
//! shown again with each message next to its field.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::{Signed, session};
use crate::kit::PageError;
use crate::kit::format::pacific;
use crate::pages::stepup::StepUp;
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::registration::{OfficeRole, RegistrationStatus, RequestKind, mismatch_message};
use domain::{Npi, Tin};
use serde::Deserialize;
use storage::{NewRegistration, RegistrationFilter, RegistrationRecord, StorageError};

/// Password rules (NIST SP 800-63B §5.1.1.2: length, not composition; no context words).
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;
/// Longest reason a claims or TIN request may carry.
pub const MAX_NOTE: usize = 500;
/// Fewer unused recovery codes than this and the account page suggests making new ones.
const FEW_RECOVERY_CODES: i64 = 3;

/// Checks a new password against the rules; `Some` is the message for the field.
/// (Also used by activation in `register.rs`.)
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
    let name = username.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("").trim().to_lowercase();
    // Very short names would refuse half the dictionary; they are not guessable context anyway.
    if (name.chars().count() >= 3 && lower.contains(&name))
        || (local.chars().count() >= 4 && lower.contains(&local))
    {
        return Some(
            "The password must not contain your username or the name in your email.".into(),
        );
    }
    None
}

/// A browser and system, short, from a `User-Agent` header: "Firefox on Windows".
pub fn browser(agent: &str) -> String {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    const SYSTEMS: &[(&str, &str)] = &[
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    let agent = agent.trim();
    if agent.is_empty() {
        return "Unknown browser".into();
    }
    let name = BROWSERS
        .iter()
        .find(|(needle, _)| agent.contains(needle))
        .map(|&(_, name)| name);
    let system = SYSTEMS
        .iter()
        .find(|(needle, _)| agent.contains(needle))
        .map(|&(_, name)| name);
    match (name, system) {
        (Some(n), Some(s)) => format!("{n} on {s}"),
        (Some(n), None) => n.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => {
            let short: String = agent.chars().take(40).collect();
            if agent.chars().count() > 40 {
                format!("{short}…")
            } else {
                short
            }
        }
    }
}

/// The fixed text for a `?done=` code on the account pages.
fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "password" => "Your password was changed. Every other session of yours was signed out.",
        "sessions" => "Your other sessions were signed out.",
        _ => return None,
    })
}

/// The fixed text after a claims or TIN request was sent.
fn request_notice(kind: RequestKind, code: Option<&str>) -> Option<&'static str> {
    match (kind, code?) {
        (RequestKind::Claims, "requested") => Some(
            "Your request for claims access was sent for verification. You will get an email when it is decided.",
        ),
        (RequestKind::Tin, "requested") => Some(
            "Your request to act for this TIN was sent to the plan for verification. You will get an email when it is decided.",
        ),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
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
    pub name: String,
    pub username: String,
    pub email: String,
    pub org: String,
    pub role: &'static str,
    pub tins: Vec<String>,
    /// The claims-inquiry entitlement (only provider office staff can hold it).
    pub claims: bool,
    pub is_office: bool,
    /// When claims inquiry was asked for and the request is still pending.
    pub claims_pending_since: Option<String>,
    pub may_request_claims: bool,
    pub may_request_tins: bool,
    pub mfa_on: bool,
    pub recovery_left: i64,
    pub recovery_low: bool,
    pub sessions: Vec<SessionRow>,
    pub notice: Option<&'static str>,
    pub errors: FieldErrors,
}

async fn account_page(
    state: &AppState,
    s: &Signed,
    notice: Option<&'static str>,
    errors: FieldErrors,
) -> Response {
    let user = &s.identity.user;
    let loaded = async {
        let sessions = state.store.user_sessions(user.id).await?;
        let left = state.store.unused_recovery_codes(user.id).await?;
        let pending = match s.identity.org.tin {
            Some(tin) if s.principal.is_office() && !user.claims => {
                pending_since(state, &user.email, RequestKind::Claims, &tin).await?
            }
            _ => None,
        };
        Ok::<_, StorageError>((sessions, left, pending))
    }
    .await;
    let (mut sessions, recovery_left, pending) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "account page: storage failed");
            return errors::unavailable(state);
        }
    };
    // This session first, then the most recently active.
    sessions.sort_by_key(|x| {
        (
            x.token_hash != s.session.token_hash,
            std::cmp::Reverse(x.last_seen),
        )
    });
    let mfa_on = user.totp_secret.is_some();
    render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &AccountPage {
            chrome: Chrome::signed(state, s, "My account", "/account"),
            name: user.display_name.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            org: s.identity.org.name.clone(),
            role: user.role.label(),
            tins: s.principal.tins.iter().map(|t| t.to_string()).collect(),
            claims: s.principal.is_office() && user.claims,
            is_office: s.principal.is_office(),
            claims_pending_since: pending.map(|r| pacific(r.submitted_at)),
            may_request_claims: s
                .principal
                .may(domain::access::Permission::RequestEntitlements),
            may_request_tins: s.principal.may(domain::access::Permission::RequestTins),
            mfa_on,
            recovery_left,
            recovery_low: mfa_on && recovery_left < FEW_RECOVERY_CODES,
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
            notice,
            errors,
        },
    )
}

/// `GET /account`.
pub async fn page(State(state): State<AppState>, s: Signed, Query(q): Query<Done>) -> Response {
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

/// The rules a new password and its confirmation must meet (the current password is checked
/// separately, against its hash).
pub fn new_password_errors(new: &str, confirm: &str, username: &str, email: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if new.is_empty() {
        errors.insert("new", "Enter a new password.".into());
    } else if let Some(p) = password_problem(new, username, email) {
        errors.insert("new", p);
    } else if new != confirm {
        errors.insert(
            "confirm",
            "The two new passwords do not match. Type the same password in both fields.".into(),
        );
    }
    errors
}

async fn verify_password(password: String, hash: String) -> bool {
    if hash.is_empty() {
        return false;
    }
    tokio::task::spawn_blocking(move || domain::password::verify(&password, &hash))
        .await
        .unwrap_or(false)
}

/// `POST /account/password`: current, new and confirm. A wrong current password counts toward
/// the account's lockout like a failed sign-in; the attempt that locks the account also ends
/// this session (someone at an unattended screen guessing). Success ends every other session.
pub async fn change_password(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<PasswordForm>,
) -> Response {
    let user = &s.identity.user;
    let uid = user.id.to_string();
    let now = Utc::now();
    let mut errors = new_password_errors(&f.new, &f.confirm, &user.username, &user.email);
    if let Some(until) = user
        .throttle
        .locked_until
        .filter(|_| user.throttle.is_locked(now))
    {
        // Locked by failed attempts: no password is checked until the lock ends.
        errors.insert(
            "current",
            format!(
                "Too many wrong passwords. You can change your password after {}.",
                pacific(until)
            ),
        );
        return account_page(&state, &s, None, errors).await;
    }
    if f.current.is_empty() {
        errors.insert("current", "Enter your current password.".into());
        return account_page(&state, &s, None, errors).await;
    }
    if !verify_password(f.current.clone(), user.password_hash.clone()).await {
        audit::security(&state, Some(&s), "password.change", "user", &uid, "failed").await;
        match state.store.record_sign_in_failure(user.id, now).await {
            Ok(t) if t.is_locked(now) => {
                audit::security(&state, Some(&s), "account.lockout", "user", &uid, "ok").await;
                if let Err(e) = state.store.end_session(&s.session.token_hash).await {
                    tracing::error!(error = %e, "could not end the session of a locked account");
                    return errors::unavailable(&state);
                }
                audit::security(&state, Some(&s), "logout", "user", &uid, "locked").await;
                let mut res = Redirect::to("/login").into_response();
                res.headers_mut()
                    .insert(header::SET_COOKIE, session::clear_cookie(&state));
                return res;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not record a failed password check"),
        }
        errors.insert(
            "current",
            "This is not your current password. Several wrong tries lock the account for 15 minutes."
                .into(),
        );
        return account_page(&state, &s, None, errors).await;
    }
    if errors.is_empty() && f.new == f.current {
        errors.insert(
            "new",
            "This is your current password. Choose a new one.".into(),
        );
    }
    if !errors.is_empty() {
        return account_page(&state, &s, None, errors).await;
    }
    let new = f.new;
    let Ok(hash) = tokio::task::spawn_blocking(move || domain::password::hash(&new)).await else {
        return errors::unavailable(&state);
    };
    if let Err(e) = state
        .store
        .set_password(user.id, &hash, Some(&s.session.token_hash))
        .await
    {
        tracing::error!(error = %e, "could not store a new password");
        return errors::unavailable(&state);
    }
    if let Err(e) = state.store.clear_sign_in_failures(user.id).await {
        tracing::error!(error = %e, "could not clear sign-in failures");
    }
    audit::security(&state, Some(&s), "password.change", "user", &uid, "ok").await;
    Redirect::to("/account?done=password").into_response()
}

#[derive(Template)]
#[template(path = "account_recovery_codes.html")]
pub struct NewCodesPage {
    pub chrome: Chrome,
    pub codes: Vec<String>,
}

#[derive(Deserialize)]
pub struct StepUpForm {
    /// The current password or a code, typed again for this action (`stepup.rs`).
    #[serde(default)]
    pub stepup: String,
}

/// `POST /account/recovery-codes`: ten new codes replace every old one; shown once (the page is
/// never cached: see `headers.rs`). A session alone is not enough: the form carries the
/// password or a code (step-up), counted against the lockout.
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<StepUpForm>,
) -> Response {
    if s.identity.user.totp_secret.is_none() {
        return Redirect::to("/account").into_response();
    }
    match crate::pages::stepup::confirm(&state, &s, &f.stepup).await {
        Ok(StepUp::Confirmed) => {}
        Ok(StepUp::Wrong(msg)) => {
            let mut errors = FieldErrors::new();
            errors.insert("stepup", msg.to_string());
            return account_page(&state, &s, None, errors).await;
        }
        Ok(StepUp::Locked) => return crate::pages::stepup::locked_out(&state, &s).await,
        Err(res) => return res,
    }
    let codes = domain::mfa::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| domain::mfa::recovery_hash(c))
        .collect();
    if let Err(e) = state
        .store
        .replace_recovery_codes(s.user_id(), &hashes)
        .await
    {
        tracing::error!(error = %e, "could not replace recovery codes");
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
        &NewCodesPage {
            chrome: Chrome::signed(&state, &s, "New recovery codes", "/account"),
            codes,
        },
    )
}

/// `POST /account/sessions/end-others`.
pub async fn end_other_sessions(State(state): State<AppState>, s: Signed) -> Response {
    match state
        .store
        .end_user_sessions(s.user_id(), Some(&s.session.token_hash))
        .await
    {
        Ok(_) => {
            audit::security(
                &state,
                Some(&s),
                "session.end_others",
                "user",
                &s.user_id().to_string(),
                "ok",
            )
            .await;
            Redirect::to("/account?done=sessions").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "could not end other sessions");
            errors::unavailable(&state)
        }
    }
}

// ----- claims inquiry and TIN requests -----

/// The pending request of `kind` from `email` for `tin`, if there is one.
async fn pending_since(
    state: &AppState,
    email: &str,
    kind: RequestKind,
    tin: &Tin,
) -> Result<Option<RegistrationRecord>, StorageError> {
    match state.store.pending_registration(email, kind, tin).await? {
        Some(id) => state.store.registration(id).await,
        None => Ok(None),
    }
}

/// The user's own requests of `kind` (newest first). For claims requests the office TIN narrows
/// the query; TIN requests are read pending-first so a pending one always shows.
async fn my_requests(
    state: &AppState,
    s: &Signed,
    kind: RequestKind,
) -> Result<Vec<RegistrationRecord>, StorageError> {
    let tin = match kind {
        RequestKind::Claims => s.identity.org.tin,
        _ => None,
    };
    let mut list = Vec::new();
    for status in [None, Some(RegistrationStatus::Pending)] {
        let filter = RegistrationFilter {
            kind: Some(kind),
            tin,
            status,
            limit: 1000,
        };
        for r in state.store.registrations(&filter).await? {
            if r.user_id == Some(s.user_id())
                && !list.iter().any(|x: &RegistrationRecord| x.id == r.id)
            {
                list.push(r);
            }
        }
    }
    list.sort_by_key(|r| std::cmp::Reverse((r.submitted_at, r.id)));
    Ok(list)
}

pub struct RequestRow {
    pub submitted: String,
    pub npi: String,
    pub tin: String,
    pub office: String,
    pub status: RegistrationStatus,
    pub decided: String,
    /// Why it was denied, when it was.
    pub reason: String,
}

fn request_rows(list: &[RegistrationRecord]) -> Vec<RequestRow> {
    list.iter()
        .map(|r| RequestRow {
            submitted: pacific(r.submitted_at),
            npi: r.npi.to_string(),
            tin: r.tin.to_string(),
            office: r.office_name.clone(),
            status: r.status,
            decided: r.decided_at.map(pacific).unwrap_or_default(),
            reason: r.reason.clone().unwrap_or_default(),
        })
        .collect()
}

/// The request form as typed.
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

/// The reason is required and at most [`MAX_NOTE`] characters; `Err` is the field's message.
pub fn check_note(note: &str) -> Result<String, String> {
    let note = note.trim();
    if note.is_empty() {
        return Err(
            "Say briefly why you need this, for example: you post payments and follow up denials."
                .into(),
        );
    }
    let n = note.chars().count();
    if n > MAX_NOTE {
        return Err(format!("Use at most {MAX_NOTE} characters (this has {n})."));
    }
    Ok(note.to_string())
}

#[derive(Template)]
#[template(path = "claims_request.html")]
pub struct ClaimsRequestPage {
    pub chrome: Chrome,
    pub office: String,
    /// Empty when the organisation has no TIN on file (no request possible).
    pub office_tin: String,
    pub npi: String,
    pub note: String,
    pub errors: FieldErrors,
    /// A page-level refusal (a request already waiting).
    pub refusal: Option<String>,
    pub notice: Option<&'static str>,
    pub pending_since: Option<String>,
    pub requests: Vec<RequestRow>,
    pub max_note: usize,
}

#[derive(Template)]
#[template(path = "tin_request.html")]
pub struct TinRequestPage {
    pub chrome: Chrome,
    /// The organisation's own TIN, if it has one.
    pub own_tin: String,
    pub grants: Vec<GrantRow>,
    pub npi: String,
    pub tin: String,
    pub office_name: String,
    pub note: String,
    pub errors: FieldErrors,
    pub refusal: Option<String>,
    pub notice: Option<&'static str>,
    pub requests: Vec<RequestRow>,
    pub max_note: usize,
}

pub struct GrantRow {
    pub tin: String,
    pub since: String,
}

fn form_status(errors: &FieldErrors, refusal: &Option<String>) -> StatusCode {
    if refusal.is_some() {
        StatusCode::CONFLICT
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

async fn claims_page(
    state: &AppState,
    s: &Signed,
    f: &RequestForm,
    errors: FieldErrors,
    refusal: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let requests = match my_requests(state, s, RequestKind::Claims).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "claims request page: storage failed");
            return errors::unavailable(state);
        }
    };
    let pending_since = requests
        .iter()
        .find(|r| r.status == RegistrationStatus::Pending)
        .map(|r| pacific(r.submitted_at));
    render(
        form_status(&errors, &refusal),
        &ClaimsRequestPage {
            chrome: Chrome::signed(state, s, "Request claims access", "/account"),
            office: s.identity.org.name.clone(),
            office_tin: s
                .identity
                .org
                .tin
                .map(|t| t.to_string())
                .unwrap_or_default(),
            npi: f.npi.clone(),
            note: f.note.clone(),
            errors,
            refusal,
            notice,
            pending_since,
            requests: request_rows(&requests),
            max_note: MAX_NOTE,
        },
    )
}

async fn tin_page(
    state: &AppState,
    s: &Signed,
    f: &RequestForm,
    errors: FieldErrors,
    refusal: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let loaded = async {
        let requests = my_requests(state, s, RequestKind::Tin).await?;
        let grants = state.store.tin_grants(s.user_id()).await?;
        Ok::<_, StorageError>((requests, grants))
    }
    .await;
    let (requests, grants) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "TIN request page: storage failed");
            return errors::unavailable(state);
        }
    };
    render(
        form_status(&errors, &refusal),
        &TinRequestPage {
            chrome: Chrome::signed(state, s, "Act for another TIN", "/account"),
            own_tin: s
                .identity
                .org
                .tin
                .map(|t| t.to_string())
                .unwrap_or_default(),
            grants: grants
                .iter()
                .map(|g| GrantRow {
                    tin: g.tin.to_string(),
                    since: pacific(g.granted_at),
                })
                .collect(),
            npi: f.npi.clone(),
            tin: f.tin.clone(),
            office_name: f.office_name.clone(),
            note: f.note.clone(),
            errors,
            refusal,
            notice,
            requests: request_rows(&requests),
            max_note: MAX_NOTE,
        },
    )
}

/// `GET /account/claims-access`.
pub async fn claims_form(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<Done>,
) -> Response {
    let notice = request_notice(RequestKind::Claims, q.done.as_deref());
    claims_page(
        &state,
        &s,
        &RequestForm::default(),
        FieldErrors::new(),
        None,
        notice,
    )
    .await
}

/// `GET /account/tins`.
pub async fn tin_form(State(state): State<AppState>, s: Signed, Query(q): Query<Done>) -> Response {
    let notice = request_notice(RequestKind::Tin, q.done.as_deref());
    tin_page(
        &state,
        &s,
        &RequestForm::default(),
        FieldErrors::new(),
        None,
        notice,
    )
    .await
}

/// What checking a request against the plan's records found.
enum Checked {
    Ok { npi: Npi, note: String },
    Refused(FieldErrors),
}

/// The NPI must be the plan's, under `tin`; the reason is required. `tin_field` names the field
/// a TIN mismatch is shown next to (the claims form has no TIN field: it goes with the NPI).
async fn check_request(
    state: &AppState,
    f: &RequestForm,
    tin: Option<&Tin>,
    tin_field: &'static str,
    mut errors: FieldErrors,
) -> Result<Checked, StorageError> {
    let note = check_note(&f.note)
        .map_err(|e| errors.insert("note", e))
        .ok();
    let npi = if f.npi.trim().is_empty() {
        errors.insert(
            "npi",
            if tin_field == "npi" {
                "Enter the NPI of your office or of a provider billing under it."
            } else {
                "Enter the NPI of the office or of a provider billing under that TIN."
            }
            .into(),
        );
        None
    } else {
        match Npi::parse(&f.npi) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.insert("npi", format!("NPI: {e}."));
                None
            }
        }
    };
    if let (Some(npi), Some(tin)) = (npi, tin) {
        let known = state.store.provider(&npi).await?.map(|p| p.tin);
        if let Some((field, msg)) = mismatch_message(&npi, tin, known.as_ref()) {
            let msg = if field == "tin" && tin_field == "npi" {
                // The claims form has no TIN to correct: the NPI must bill under the office's.
                format!(
                    "NPI {npi} is not registered with the plan under your office's TIN {tin}. Enter an NPI that bills under it."
                )
            } else {
                msg
            };
            errors.insert(if field == "tin" { tin_field } else { field }, msg);
        }
    }
    Ok(match (npi, note) {
        (Some(npi), Some(note)) if errors.is_empty() => Checked::Ok { npi, note },
        _ => Checked::Refused(errors),
    })
}

fn duplicate_message(kind: RequestKind, tin: &Tin, since: &RegistrationRecord) -> String {
    let (what, who) = match kind {
        RequestKind::Tin => (format!("to act for TIN {tin}"), "the plan"),
        _ => (
            "for claims access".to_string(),
            "the plan (or your office administrator)",
        ),
    };
    format!(
        "You already asked {what} on {}. That request is pending verification; {who} will decide it and you will get an email.",
        pacific(since.submitted_at)
    )
}

/// Queues the request and records it; the 303 to the page that shows it pending.
async fn create_request(
    state: &AppState,
    s: &Signed,
    kind: RequestKind,
    npi: Npi,
    tin: Tin,
    office_name: String,
    note: String,
) -> Response {
    let user = &s.identity.user;
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
        Err(e) => {
            tracing::error!(error = %e, "could not queue a request");
            return errors::unavailable(state);
        }
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
    let back = match kind {
        RequestKind::Tin => "/account/tins?done=requested",
        _ => "/account/claims-access?done=requested",
    };
    Redirect::to(back).into_response()
}

/// `POST /account/claims-access`: NPI and reason; the office TIN is the user's organisation's.
pub async fn claims_submit(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<RequestForm>,
) -> Response {
    let Some(tin) = s.identity.org.tin else {
        return PageError::BadRequest(
            "Your organisation has no TIN on file, so claims access cannot be checked against the plan's records. Contact Provider Relations.".into(),
        )
        .into_response();
    };
    let user = &s.identity.user;
    let result = async {
        if let Some(r) = pending_since(&state, &user.email, RequestKind::Claims, &tin).await? {
            return Ok(Err(duplicate_message(RequestKind::Claims, &tin, &r)));
        }
        check_request(&state, &f, Some(&tin), "npi", FieldErrors::new())
            .await
            .map(Ok)
    }
    .await;
    match result {
        Err(e) => {
            tracing::error!(error = %e, "claims request: storage failed");
            errors::unavailable(&state)
        }
        Ok(Err(refusal)) => {
            claims_page(&state, &s, &f, FieldErrors::new(), Some(refusal), None).await
        }
        Ok(Ok(Checked::Refused(errors))) => claims_page(&state, &s, &f, errors, None, None).await,
        Ok(Ok(Checked::Ok { npi, note })) => {
            let office = s.identity.org.name.clone();
            create_request(&state, &s, RequestKind::Claims, npi, tin, office, note).await
        }
    }
}

/// The office name as typed, or the field's message.
pub fn check_office_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    let n = name.chars().count();
    if n < 2 {
        Err("Enter the office or group name the plan pays under this TIN.".into())
    } else if n > 200 {
        Err("Use at most 200 characters.".into())
    } else {
        Ok(name.to_string())
    }
}

/// `POST /account/tins`: NPI, TIN, office name and reason.
pub async fn tin_submit(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<RequestForm>,
) -> Response {
    let mut errors = FieldErrors::new();
    let tin = if f.tin.trim().is_empty() {
        errors.insert("tin", "Enter the TIN you bill for (9 digits).".into());
        None
    } else {
        match Tin::parse(&f.tin) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.insert("tin", format!("TIN: {e}."));
                None
            }
        }
    };
    if let Some(t) = tin
        && s.principal.tins.contains(&t)
    {
        errors.insert("tin", format!("You already act for TIN {t}."));
    }
    let office = check_office_name(&f.office_name)
        .map_err(|e| errors.insert("office_name", e))
        .ok();
    let user = &s.identity.user;
    let tin_ok = tin.filter(|_| !errors.contains_key("tin"));
    let result = async {
        if let Some(t) = &tin_ok
            && let Some(r) = pending_since(&state, &user.email, RequestKind::Tin, t).await?
        {
            return Ok(Err(duplicate_message(RequestKind::Tin, t, &r)));
        }
        check_request(&state, &f, tin_ok.as_ref(), "tin", errors)
            .await
            .map(Ok)
    }
    .await;
    match result {
        Err(e) => {
            tracing::error!(error = %e, "TIN request: storage failed");
            errors::unavailable(&state)
        }
        Ok(Err(refusal)) => tin_page(&state, &s, &f, FieldErrors::new(), Some(refusal), None).await,
        Ok(Ok(Checked::Refused(errors))) => tin_page(&state, &s, &f, errors, None, None).await,
        Ok(Ok(Checked::Ok { npi, note })) => match (tin_ok, office) {
            (Some(tin), Some(office)) => {
                create_request(&state, &s, RequestKind::Tin, npi, tin, office, note).await
            }
            // Unreachable: a missing TIN or office name is a field error above.
            _ => tin_page(&state, &s, &f, FieldErrors::new(), None, None).await,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(password_problem("short", "ada", "ada@x.org").is_some());
        assert!(password_problem(&"x".repeat(11), "ada", "ada@x.org").is_some());
        assert!(password_problem(&"x".repeat(12), "ada", "ada@x.org").is_none());
        assert!(password_problem("correct horse battery", "ada", "ada@x.org").is_none());
        assert!(
            password_problem("my-name-is-ADA-lovelace", "ada", "ada@x.org").is_some(),
            "contains the username, any case"
        );
        assert!(
            password_problem("lovelace-and-babbage", "ada", "lovelace@x.org").is_some(),
            "contains the email name"
        );
        assert!(password_problem(&"x".repeat(128), "ada", "ada@x.org").is_none());
        assert!(password_problem(&"x".repeat(129), "ada", "ada@x.org").is_some());
        assert!(
            password_problem("ééééééééééé", "ada", "ada@x.org").is_some(),
            "characters, not bytes, count: 11 is too few"
        );
        assert!(
            password_problem("correct horse battery", "", "").is_none(),
            "an empty username refuses nothing"
        );
    }

    #[test]
    fn new_password_and_confirmation() {
        let ok = "orange grove harbor lantern";
        assert!(new_password_errors(ok, ok, "ada", "ada@x.org").is_empty());
        let e = new_password_errors(ok, "orange grove harbor", "ada", "ada@x.org");
        assert!(e.contains_key("confirm") && !e.contains_key("new"));
        let e = new_password_errors("", "", "ada", "ada@x.org");
        assert!(e.contains_key("new"));
        let e = new_password_errors("short", "short", "ada", "ada@x.org");
        assert!(
            e.contains_key("new") && !e.contains_key("confirm"),
            "one message at a time"
        );
    }

    #[test]
    fn browsers_in_short() {
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(browser(firefox), "Firefox on Windows");
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(browser(chrome), "Chrome on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";
        assert_eq!(browser(edge), "Edge on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(browser(safari), "Safari on iOS");
        assert_eq!(browser("curl/8.5.0"), "curl");
        assert_eq!(browser(""), "Unknown browser");
        assert_eq!(browser(&"z".repeat(50)), format!("{}…", "z".repeat(40)));
    }

    #[test]
    fn notes_and_office_names() {
        assert!(check_note("   ").is_err());
        assert_eq!(check_note("  I post payments ").unwrap(), "I post payments");
        assert!(check_note(&"a".repeat(MAX_NOTE)).is_ok());
        assert!(
            check_note(&"a".repeat(MAX_NOTE + 1))
                .unwrap_err()
                .contains("501")
        );
        assert!(check_office_name("A").is_err());
        assert_eq!(check_office_name(" Irvine FM ").unwrap(), "Irvine FM");
        assert!(check_office_name(&"a".repeat(201)).is_err());
    }

    #[test]
    fn notices_are_fixed_texts() {
        assert!(notice_text(Some("password")).is_some());
        assert!(notice_text(Some("<script>")).is_none());
        assert!(notice_text(None).is_none());
        assert!(
            request_notice(RequestKind::Claims, Some("requested"))
                .unwrap()
                .contains("claims access was sent")
        );
        assert!(request_notice(RequestKind::Tin, Some("other")).is_none());
    }
}
