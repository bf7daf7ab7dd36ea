//! Sign-in in two steps, then sign-out.
//!
//! 1. `POST /login`: username and password (argon2id, verified off the async runtime, for
//!    unknown and locked accounts too, with one answer for every refusal). Failures count
//!    toward the account's lockout, kept in the database. Success starts a *pending* session
//!    (new id) that can only reach the next step; it clears no failure count.
//! 2. `POST /login/code`: a TOTP code (each time step accepted once) or a recovery code (each
//!    used once), checked under the code lockout (`stepup.rs`: five guesses per account per 15
//!    minutes, all sessions together). Success replaces the pending session with a full one
//!    (new id again) and clears the counts.
//!
//! Accounts without MFA are sent to enrolment (`mfa.rs`) instead of step 2: MFA is required
//! for everyone.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::{self, Pending, Signed, Visitor, session};
use crate::pages::{Chrome, FieldErrors, errors, render, stepup};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::session::SessionStage;
use serde::Deserialize;
use storage::Identity;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub username: String,
    pub next: String,
    /// Shown above the form (wrong password, locked, signed out, expired).
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    pub next: Option<String>,
    pub expired: Option<String>,
    pub signed_out: Option<String>,
    pub activated: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<LoginQuery>,
) -> Response {
    if visitor.signed.is_some() {
        return Redirect::to(auth::safe_next(q.next.as_deref())).into_response();
    }
    let notice = if q.expired.is_some() || visitor.expired {
        Some("You were signed out after 15 minutes without activity. Sign in again to continue.")
    } else if q.signed_out.is_some() {
        Some("You are signed out.")
    } else if q.activated.is_some() {
        Some("Your password is set. Sign in, then set up two-step sign-in.")
    } else {
        None
    };
    render(
        StatusCode::OK,
        &LoginPage {
            chrome: Chrome::new(&state, "Sign in", "/login"),
            username: String::new(),
            next: auth::safe_next(q.next.as_deref()).to_string(),
            notice: notice.map(str::to_string),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub next: String,
}

/// The one answer to every refused password step: unknown, wrong, locked, invited or
/// deactivated alike, so the page does not tell which accounts exist or are locked.
pub const WRONG: &str = "The username or password is not correct, or the account is locked after too many failed attempts. A lock ends after 15 minutes; your office administrator or the plan can also unlock it.";

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let username = f.username.trim().to_ascii_lowercase();
    let next = auth::safe_next(Some(&f.next)).to_string();
    let again = || {
        render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                chrome: Chrome::new(&state, "Sign in", "/login"),
                username: username.clone(),
                next: next.clone(),
                notice: None,
                error: Some(WRONG.into()),
            },
        )
    };
    let src = visitor.source.as_str();
    let user = match state.store.user_by_username(&username).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "sign-in lookup failed");
            return errors::unavailable(&state);
        }
    };
    let now = Utc::now();
    // The same argon2 work for every account, and for none: an unknown, invited (no hash yet),
    // locked or deactivated account answers in the time a real check takes.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|h| !h.is_empty());
    let has_hash = stored.is_some();
    let ok = verify(f.password, stored.unwrap_or_else(|| DUMMY_HASH.clone())).await && has_hash;
    let Some(user) = user else {
        audit::event(
            &state,
            Actor::anonymous(&username),
            src,
            "login.failure",
            "user",
            &username,
            "failed",
        )
        .await;
        return again();
    };
    let actor = || Actor {
        id: Some(user.id),
        name: user.username.clone(),
        org: Some(user.org_id),
    };
    if user.throttle.is_locked(now) {
        audit::event(
            &state,
            actor(),
            src,
            "login.refused_locked",
            "user",
            &user.id.to_string(),
            "denied",
        )
        .await;
        return again();
    }
    if !ok || user.status != domain::account::UserStatus::Active {
        failed_attempt(&state, user.id, actor(), src, "login.failure").await;
        return again();
    }
    let identity = match state.store.identity(user.id).await {
        Ok(Some(i)) => i,
        _ => return errors::unavailable(&state),
    };
    // The failure counts are cleared only by a full sign-in (the code step): a correct password
    // alone must not give a password holder a fresh set of code guesses.
    let stage = auth::stage_after_password(&identity);
    audit::event(
        &state,
        Actor::from(&identity),
        src,
        "login.password_ok",
        "user",
        &user.id.to_string(),
        "ok",
    )
    .await;
    let replacing = visitor
        .pending
        .as_ref()
        .map(|p| p.session.clone())
        .or_else(|| visitor.signed.as_ref().map(|s| s.session.clone()));
    let target = match stage {
        SessionStage::NeedsEnrolment => "/mfa/enrol".to_string(),
        _ => format!(
            "/login/code?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
    };
    start_and_redirect(
        &state,
        &identity,
        stage,
        src,
        &headers,
        replacing.as_ref(),
        &target,
    )
    .await
}

/// Counts a failed password toward the lockout (the lock, if it comes, is audited; the answer
/// stays the same).
async fn failed_attempt(state: &AppState, id: i64, actor: Actor, src: &str, action: &str) {
    let user_id = id.to_string();
    let lockout = Actor {
        id: actor.id,
        name: actor.name.clone(),
        org: actor.org,
    };
    audit::event(state, actor, src, action, "user", &user_id, "failed").await;
    match state.store.record_sign_in_failure(id, Utc::now()).await {
        Ok(t) if t.is_locked(Utc::now()) && t.failures == domain::session::MAX_FAILURES => {
            audit::event(
                state,
                lockout,
                src,
                "account.lockout",
                "user",
                &user_id,
                "ok",
            )
            .await;
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not record a sign-in failure"),
    }
}

/// The code step's answer once the account is locked (the password was right, so saying so
/// tells nothing new); the pending session is already ended.
fn locked_page(state: &AppState) -> Response {
    let mut res = render(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            chrome: Chrome::new(state, "Sign in", "/login"),
            username: String::new(),
            next: "/".into(),
            notice: None,
            error: Some(format!(
                "Too many wrong codes: this account is locked for {} minutes. Try again later, or ask your office administrator or the plan to unlock it.",
                domain::session::LOCKOUT.num_minutes()
            )),
        },
    );
    res.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(state));
    res
}

/// A real argon2id hash with the same parameters, verified against when the username is
/// unknown so that the answer takes as long as for a real account.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| domain::password::hash(&domain::session::new_token()));

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || domain::password::verify(&password, &hash))
        .await
        .unwrap_or(false)
}

/// Starts a session (new id) and redirects with its cookie.
pub async fn start_and_redirect(
    state: &AppState,
    identity: &Identity,
    stage: SessionStage,
    src: &str,
    headers: &HeaderMap,
    replacing: Option<&storage::SessionRecord>,
    target: &str,
) -> Response {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match session::start(state, identity, stage, src, agent, replacing).await {
        Ok((token, _)) => {
            let mut res = Redirect::to(target).into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, session::set_cookie(state, &token));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start a session");
            errors::unavailable(state)
        }
    }
}

#[derive(Template)]
#[template(path = "login_code.html")]
pub struct CodePage {
    pub chrome: Chrome,
    pub next: String,
    pub errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    pub next: Option<String>,
}

pub async fn code_form(
    State(state): State<AppState>,
    pending: Pending,
    Query(q): Query<NextQuery>,
) -> Response {
    render(
        StatusCode::OK,
        &CodePage {
            chrome: Chrome::pending(&state, &pending, "Two-step sign-in", "/login"),
            next: auth::safe_next(q.next.as_deref()).to_string(),
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    pub code: String,
    #[serde(default)]
    pub next: String,
}

pub async fn code_submit(
    State(state): State<AppState>,
    pending: Pending,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let identity = &pending.identity;
    let user = &identity.user;
    let src = pending.source.as_str();
    let uid = user.id.to_string();
    let next = auth::safe_next(Some(&f.next)).to_string();
    let again = |msg: &str| {
        let mut errors = FieldErrors::new();
        errors.insert("code", msg.to_string());
        render(
            StatusCode::UNAUTHORIZED,
            &CodePage {
                chrome: Chrome::pending(&state, &pending, "Two-step sign-in", "/login"),
                next: next.clone(),
                errors,
            },
        )
    };
    if user.totp_secret.is_none() {
        return Redirect::to("/mfa/enrol").into_response();
    }
    match stepup::code(&state, identity, src, &f.code).await {
        Ok(stepup::Code::Accepted) => {}
        Ok(stepup::Code::Wrong(msg)) => return again(msg),
        Ok(stepup::Code::Refused | stepup::Code::Locked) => {
            // Storage ended every pending session with the lock (or the guard would refuse
            // them); this one goes too, whatever came first.
            let _ = state.store.end_session(&pending.session.token_hash).await;
            return locked_page(&state);
        }
        Err(res) => return res,
    }
    audit::event(
        &state,
        Actor::from(identity),
        src,
        "login.success",
        "user",
        &uid,
        "ok",
    )
    .await;
    start_and_redirect(
        &state,
        identity,
        SessionStage::Full,
        src,
        &headers,
        Some(&pending.session),
        &next,
    )
    .await
}

/// Ends the session server-side and clears the cookie.
pub async fn logout(State(state): State<AppState>, visitor: Visitor) -> Response {
    let session = visitor
        .signed
        .as_ref()
        .map(|s| (&s.session, Actor::from(s)))
        .or_else(|| {
            visitor
                .pending
                .as_ref()
                .map(|p| (&p.session, Actor::from(&p.identity)))
        });
    if let Some((record, actor)) = session {
        let id = actor.id.map(|i| i.to_string()).unwrap_or_default();
        if let Err(e) = state.store.end_session(&record.token_hash).await {
            tracing::error!(error = %e, "could not end a session");
            return errors::unavailable(&state);
        }
        audit::event(&state, actor, &visitor.source, "logout", "user", &id, "ok").await;
    }
    let mut res = Redirect::to("/login?signed_out=1").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(&state));
    res
}

/// "Stay signed in" from the idle warning: the guard already refreshed the session.
pub async fn keepalive(_: Signed) -> StatusCode {
    StatusCode::NO_CONTENT
}
