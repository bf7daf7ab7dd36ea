//! The second factor under the lockout, and re-authentication before sensitive actions.
//!
//! [`code`] is the one way a one-time or recovery code is checked, at sign-in (`/login/code`)
//! and at step-up: a guess is claimed in the database before the code is looked at (refused while
//! the account is locked or five guesses sit in its last 15 minutes, whichever session or
//! address sends them); the guess that fills the window locks the account and ends all its
//! pending sessions; a correct code on an account locked meanwhile signs nobody in.
//!
//! [`confirm`] is the step-up: the current password or a code, typed into the form of the action
//! itself (regenerating recovery codes, resetting someone's two-step sign-in), each wrong answer
//! counted like a failed sign-in.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::Signed;
use crate::pages::errors;
use axum::response::Response;
use chrono::Utc;
use domain::mfa;
use domain::session::{LOCKOUT, totp_step_fresh};
use storage::{CodeClaim, Identity};

/// What came of one code.
#[derive(Debug, PartialEq, Eq)]
pub enum Code {
    Accepted,
    /// Wrong (or replayed, or a used recovery code): the message for the field.
    Wrong(&'static str),
    /// The account was already locked: the code was not looked at.
    Refused,
    /// This guess locked the account, or a parallel one did before this code was accepted.
    Locked,
}

/// Checks `typed` as a TOTP or recovery code of `identity`, under the lockout.
pub async fn code(
    state: &AppState,
    identity: &Identity,
    src: &str,
    typed: &str,
) -> Result<Code, Response> {
    let user = &identity.user;
    let uid = user.id.to_string();
    let actor = || Actor::from(identity);
    let Some(secret) = user.totp_secret.as_deref() else {
        return Ok(Code::Wrong(
            "Two-step sign-in is not set up for this account.",
        ));
    };
    let now = Utc::now();
    let last = match state.store.claim_code_guess(user.id, now).await {
        Ok(CodeClaim::Granted { last }) => last,
        Ok(CodeClaim::Refused) => {
            audit::event(
                state,
                actor(),
                src,
                "mfa.refused_locked",
                "user",
                &uid,
                "denied",
            )
            .await;
            return Ok(Code::Refused);
        }
        Err(e) => {
            tracing::error!(error = %e, "could not claim a code guess");
            return Err(errors::unavailable(state));
        }
    };
    let checked = check(state, identity, src, secret, typed, now).await?;
    if let Err(msg) = checked {
        audit::event(state, actor(), src, "mfa.failure", "user", &uid, "failed").await;
        if !last {
            return Ok(Code::Wrong(msg));
        }
        if let Err(e) = state.store.lock_account(user.id, now + LOCKOUT).await {
            tracing::error!(error = %e, "could not lock an account");
            return Err(errors::unavailable(state));
        }
        audit::event(state, actor(), src, "account.lockout", "user", &uid, "ok").await;
        return Ok(Code::Locked);
    }
    match state.store.accept_code(user.id, now).await {
        Ok(true) => Ok(Code::Accepted),
        Ok(false) => {
            audit::event(
                state,
                actor(),
                src,
                "mfa.refused_locked",
                "user",
                &uid,
                "denied",
            )
            .await;
            Ok(Code::Locked)
        }
        Err(e) => {
            tracing::error!(error = %e, "could not clear sign-in failures");
            Err(errors::unavailable(state))
        }
    }
}

/// The code itself: a recovery code (used once) or a TOTP code (each time step once).
async fn check(
    state: &AppState,
    identity: &Identity,
    src: &str,
    secret: &str,
    typed: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Result<(), &'static str>, Response> {
    let user = &identity.user;
    let uid = user.id.to_string();
    let replay = || async {
        audit::event(
            state,
            Actor::from(identity),
            src,
            "mfa.replay",
            "user",
            &uid,
            "denied",
        )
        .await;
        Err("That code was already used. Wait for the next code and enter it.")
    };
    if mfa::looks_like_recovery_code(typed) {
        return match state
            .store
            .use_recovery_code(user.id, &mfa::recovery_hash(typed))
            .await
        {
            Ok(true) => {
                let a = Actor::from(identity);
                audit::event(state, a, src, "mfa.recovery_code_used", "user", &uid, "ok").await;
                Ok(Ok(()))
            }
            Ok(false) => Ok(Err("That recovery code is not valid or was already used.")),
            Err(_) => Err(errors::unavailable(state)),
        };
    }
    let unix = u64::try_from(now.timestamp()).unwrap_or(0);
    Ok(match mfa::matching_step(secret, typed, unix) {
        None => Err(
            "That code is not correct. Enter the 6-digit code your authenticator app shows now.",
        ),
        Some(step) if !totp_step_fresh(step, user.totp_last_step) => replay().await,
        Some(step) => match state.store.use_totp_step(user.id, step).await {
            Ok(true) => Ok(()),
            Ok(false) => replay().await,
            Err(_) => return Err(errors::unavailable(state)),
        },
    })
}

/// The outcome of a step-up.
#[derive(Debug, PartialEq, Eq)]
pub enum StepUp {
    Confirmed,
    /// Wrong: the message for the field.
    Wrong(&'static str),
    /// This answer locked the account: the caller ends the session.
    Locked,
}

const LOCKED: &str = "The account is locked after too many failed attempts: nothing is checked until the lock ends (15 minutes).";

/// A six-digit TOTP code or a recovery code is checked as a code; anything else as the password
/// (passwords are at least 12 characters, so the two cannot be confused).
pub async fn confirm(state: &AppState, s: &Signed, typed: &str) -> Result<StepUp, Response> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(StepUp::Wrong(
            "Enter your password, or a code from your authenticator app, to confirm.",
        ));
    }
    let is_code = mfa::looks_like_recovery_code(typed)
        || (typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit()));
    if is_code {
        return Ok(match code(state, &s.identity, &s.source, typed).await? {
            Code::Accepted => StepUp::Confirmed,
            Code::Wrong(m) => StepUp::Wrong(m),
            Code::Refused => StepUp::Wrong(LOCKED),
            Code::Locked => StepUp::Locked,
        });
    }
    let user = &s.identity.user;
    let uid = user.id.to_string();
    let now = Utc::now();
    if user.throttle.is_locked(now) {
        return Ok(StepUp::Wrong(LOCKED));
    }
    let (password, hash) = (typed.to_string(), user.password_hash.clone());
    let ok = !hash.is_empty()
        && tokio::task::spawn_blocking(move || domain::password::verify(&password, &hash))
            .await
            .unwrap_or(false);
    if ok {
        return Ok(StepUp::Confirmed);
    }
    audit::security(state, Some(s), "stepup.failure", "user", &uid, "failed").await;
    match state.store.record_sign_in_failure(user.id, now).await {
        Ok(t) if t.is_locked(now) => {
            audit::security(state, Some(s), "account.lockout", "user", &uid, "ok").await;
            Ok(StepUp::Locked)
        }
        Ok(_) => Ok(StepUp::Wrong(
            "That is not your password or a current code. Several wrong tries lock the account for 15 minutes.",
        )),
        Err(e) => {
            tracing::error!(error = %e, "could not record a failed step-up");
            Err(errors::unavailable(state))
        }
    }
}

/// After a step-up locked the account: this session ends too (someone at an unattended screen
/// guessing), and the browser goes to the sign-in page.
pub async fn locked_out(state: &AppState, s: &Signed) -> Response {
    use axum::response::IntoResponse;
    if let Err(e) = state.store.end_session(&s.session.token_hash).await {
        tracing::error!(error = %e, "could not end the session of a locked account");
        return errors::unavailable(state);
    }
    let uid = s.user_id().to_string();
    audit::security(state, Some(s), "logout", "user", &uid, "locked").await;
    let mut res = axum::response::Redirect::to("/login").into_response();
    res.headers_mut().insert(
        axum::http::header::SET_COOKIE,
        crate::auth::session::clear_cookie(state),
    );
    res
}
