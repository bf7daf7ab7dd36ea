//! Sign-in in two steps, then sign-out.
//!
//! 1. `POST /login`: username and password (argon2id, verified off the async runtime). Failures
//!    count toward the account's lockout, kept in the database. Success starts a *pending*
//!    session (new id) that can only reach the next step.
//! 2. `POST /login/code`: a TOTP code (each time step accepted once) or a recovery code (each
//!    used once). Success replaces the pending session with a full one (new id again).
//!
//! Accounts without MFA are sent to enrolment (`mfa.rs`) instead of step 2: MFA is required
//! for everyone.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::{self, Pending, Signed, Visitor, session};
use crate::pages::{Chrome, FieldErrors, errors, pacific, render};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::mfa;
use domain::session::{SessionStage, totp_step_fresh};
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

const WRONG: &str = "The username or password is not correct.";

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let username = f.username.trim().to_ascii_lowercase();
    let next = auth::safe_next(Some(&f.next)).to_string();
    let again = |error: String| {
        render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                chrome: Chrome::new(&state, "Sign in", "/login"),
                username: username.clone(),
                next: next.clone(),
                notice: None,
                error: Some(error),
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
    let Some(user) = user else {
        // Spend the same time as a real check, so timing does not reveal which names exist.
        let _ = verify(f.password, DUMMY_HASH.clone()).await;
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
        return again(WRONG.into());
    };
    let actor = || Actor {
        id: Some(user.id),
        name: user.username.clone(),
        org: Some(user.org_id),
    };
    if let Some(until) = user
        .throttle
        .locked_until
        .filter(|_| user.throttle.is_locked(now))
    {
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
        return again(locked_message(until));
    }
    let ok = !user.password_hash.is_empty() && verify(f.password, user.password_hash.clone()).await;
    if !ok || user.status != domain::account::UserStatus::Active {
        return failed_attempt(&state, &user.id.to_string(), actor(), src, "login.failure")
            .await
            .unwrap_or_else(|| again(WRONG.into()));
    }
    let identity = match state.store.identity(user.id).await {
        Ok(Some(i)) => i,
        _ => return errors::unavailable(&state),
    };
    if let Err(e) = state.store.clear_sign_in_failures(user.id).await {
        tracing::error!(error = %e, "could not clear sign-in failures");
    }
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

/// Counts a failed attempt toward the lockout; `Some(page)` when the account just locked.
async fn failed_attempt(
    state: &AppState,
    user_id: &str,
    actor: Actor,
    src: &str,
    action: &str,
) -> Option<Response> {
    let id: i64 = user_id.parse().ok()?;
    let name = actor.name.clone();
    let org = actor.org;
    audit::event(state, actor, src, action, "user", user_id, "failed").await;
    match state.store.record_sign_in_failure(id, Utc::now()).await {
        Ok(t) if t.is_locked(Utc::now()) && t.failures == domain::session::MAX_FAILURES => {
            let actor = Actor {
                id: Some(id),
                name,
                org,
            };
            audit::event(state, actor, src, "account.lockout", "user", user_id, "ok").await;
            let until = t.locked_until.unwrap_or_else(Utc::now);
            Some(render(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    chrome: Chrome::new(state, "Sign in", "/login"),
                    username: String::new(),
                    next: "/".into(),
                    notice: None,
                    error: Some(locked_message(until)),
                },
            ))
        }
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "could not record a sign-in failure");
            None
        }
    }
}

fn locked_message(until: chrono::DateTime<Utc>) -> String {
    format!(
        "This account is locked after {} failed sign-in attempts. Try again after {}, or ask your office administrator or the plan to unlock it.",
        domain::session::MAX_FAILURES,
        pacific(until)
    )
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
    let Some(secret) = user.totp_secret.as_deref() else {
        return Redirect::to("/mfa/enrol").into_response();
    };
    let now = Utc::now();
    let accepted = if mfa::looks_like_recovery_code(&f.code) {
        match state
            .store
            .use_recovery_code(user.id, &mfa::recovery_hash(&f.code))
            .await
        {
            Ok(true) => {
                audit::event(
                    &state,
                    Actor::from(identity),
                    src,
                    "mfa.recovery_code_used",
                    "user",
                    &uid,
                    "ok",
                )
                .await;
                Ok(())
            }
            Ok(false) => Err("That recovery code is not valid or was already used."),
            Err(_) => return errors::unavailable(&state),
        }
    } else {
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        match mfa::matching_step(secret, &f.code, unix) {
            None => Err(
                "That code is not correct. Enter the 6-digit code your authenticator app shows now.",
            ),
            Some(step) if !totp_step_fresh(step, user.totp_last_step) => {
                audit::event(
                    &state,
                    Actor::from(identity),
                    src,
                    "mfa.replay",
                    "user",
                    &uid,
                    "denied",
                )
                .await;
                Err("That code was already used. Wait for the next code and enter it.")
            }
            Some(step) => match state.store.use_totp_step(user.id, step).await {
                Ok(true) => Ok(()),
                Ok(false) => {
                    audit::event(
                        &state,
                        Actor::from(identity),
                        src,
                        "mfa.replay",
                        "user",
                        &uid,
                        "denied",
                    )
                    .await;
                    Err("That code was already used. Wait for the next code and enter it.")
                }
                Err(_) => return errors::unavailable(&state),
            },
        }
    };
    if let Err(msg) = accepted {
        if let Some(locked) =
            failed_attempt(&state, &uid, Actor::from(identity), src, "mfa.failure").await
        {
            let _ = state.store.end_session(&pending.session.token_hash).await;
            return locked;
        }
        return again(msg);
    }
    let _ = state.store.clear_sign_in_failures(user.id).await;
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
