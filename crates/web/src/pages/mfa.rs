//! MFA enrolment, required of every account before its first full session: a new TOTP secret
//! shown as a QR code (and as text for manual entry), confirmed by a code from the app; then ten
//! one-time recovery codes, shown once.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::{Pending, session};
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::mfa;
use domain::session::SessionStage;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "mfa_enrol.html")]
pub struct EnrolPage {
    pub chrome: Chrome,
    /// Inline SVG of the provisioning URL.
    pub qr_svg: String,
    /// The secret in groups of four, for typing into an app.
    pub secret_grouped: String,
    pub account: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub chrome: Chrome,
    pub codes: Vec<String>,
    /// Where "Continue" goes.
    pub next: String,
}

fn qr_svg(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
    )
}

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn enrol_page(state: &AppState, pending: &Pending, secret: &str, errors: FieldErrors) -> Response {
    let account = pending.identity.user.username.clone();
    let Some(svg) = mfa::provisioning_url(secret, &account).and_then(|u| qr_svg(&u)) else {
        return errors::unavailable(state);
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &EnrolPage {
            chrome: Chrome::pending(state, pending, "Set up two-step sign-in", "/login"),
            qr_svg: svg,
            secret_grouped: grouped(secret),
            account,
            errors,
        },
    )
}

pub async fn enrol_form(State(state): State<AppState>, pending: Pending) -> Response {
    // One secret per enrolment attempt, kept with the session until a code confirms it.
    let secret = match &pending.session.pending_totp {
        Some(s) => s.clone(),
        None => {
            let s = mfa::new_secret();
            if let Err(e) = state
                .store
                .set_pending_totp(&pending.session.token_hash, Some(&s))
                .await
            {
                tracing::error!(error = %e, "could not keep the enrolment secret");
                return errors::unavailable(&state);
            }
            s
        }
    };
    enrol_page(&state, &pending, &secret, FieldErrors::new())
}

#[derive(Deserialize)]
pub struct EnrolForm {
    pub code: String,
}

pub async fn enrol_submit(
    State(state): State<AppState>,
    pending: Pending,
    headers: HeaderMap,
    Form(f): Form<EnrolForm>,
) -> Response {
    let Some(secret) = pending.session.pending_totp.clone() else {
        return axum::response::Redirect::to("/mfa/enrol").into_response();
    };
    let unix = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let Some(step) = mfa::matching_step(&secret, &f.code, unix) else {
        let mut e = FieldErrors::new();
        e.insert(
            "code",
            "That code does not match. Check the app shows the code for this account and enter the 6 digits it shows now.".into(),
        );
        return enrol_page(&state, &pending, &secret, e);
    };
    let user_id = pending.identity.user.id;
    let codes = mfa::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| mfa::recovery_hash(c)).collect();
    let stored = async {
        if !state.store.enrol_totp(user_id, &secret, &hashes).await? {
            return Ok(false);
        }
        // The confirming code cannot be used again to sign in.
        state.store.use_totp_step(user_id, step).await?;
        Ok::<_, storage::StorageError>(true)
    }
    .await;
    match stored {
        // A full sign-in: the password's failure count starts over (it did not at the password).
        Ok(true) => {
            if let Err(e) = state.store.clear_sign_in_failures(user_id).await {
                tracing::error!(error = %e, "could not clear sign-in failures");
            }
        }
        // Another sign-in enrolled this account since the password was accepted here: this
        // one's secret is not the account's, so it starts over (and meets the code step).
        Ok(false) => {
            audit::event(
                &state,
                Actor::from(&pending.identity),
                pending.source.as_str(),
                "mfa.enrol_refused",
                "user",
                &user_id.to_string(),
                "already enrolled",
            )
            .await;
            let _ = state.store.end_session(&pending.session.token_hash).await;
            return axum::response::Redirect::to("/login").into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store the MFA enrolment");
            return errors::unavailable(&state);
        }
    }
    let src = pending.source.as_str();
    let actor = || Actor::from(&pending.identity);
    audit::event(
        &state,
        actor(),
        src,
        "mfa.enrol",
        "user",
        &user_id.to_string(),
        "ok",
    )
    .await;
    audit::event(
        &state,
        actor(),
        src,
        "login.success",
        "user",
        &user_id.to_string(),
        "ok",
    )
    .await;
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let started = session::start(
        &state,
        &pending.identity,
        SessionStage::Full,
        src,
        agent,
        Some(&pending.session),
    )
    .await;
    let (token, record) = match started {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "could not start a session");
            return errors::unavailable(&state);
        }
    };
    let mut chrome = Chrome::new(&state, "Your recovery codes", "/login");
    chrome.nav = Vec::new();
    chrome.csrf = record.csrf;
    let mut res = render(
        StatusCode::OK,
        &RecoveryCodesPage {
            chrome,
            codes,
            next: "/".into(),
        },
    );
    res.headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(&state, &token));
    res
}
