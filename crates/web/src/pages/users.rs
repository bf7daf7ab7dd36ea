//! Plan administrators: find any account; unlock it, reset its two-step sign-in (which signs it
//! out everywhere; the person enrols again at the next sign-in), deactivate or reactivate it.
//! Every change is written to the audit trail; each answers with a 303 back to the search with a
//! code that maps to a fixed text.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::PageError;
use crate::kit::format::pacific;
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::account::{StatusAuthority, UserStatus};
use serde::Deserialize;
use std::collections::HashMap;
use storage::UserRecord;

/// Accounts listed for one search at most.
const SEARCH_LIMIT: i64 = 50;
/// Longest search text taken (longer is cut).
const MAX_QUERY: usize = 100;

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub org: String,
    pub role: &'static str,
    pub status: UserStatus,
    pub mfa: bool,
    pub locked_until: Option<String>,
    pub claims: bool,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "plan_users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub q: String,
    pub searched: bool,
    pub rows: Vec<UserRow>,
    pub limited: bool,
    pub limit: i64,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub done: Option<String>,
    pub error: Option<String>,
}

/// The fixed text for a `?done=` code.
fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "mfa" => {
            "Two-step sign-in was reset. The person was signed out everywhere and sets it up again at the next sign-in."
        }
        "unlocked" => "The account was unlocked. The person can sign in again.",
        "deactivated" => "The account was deactivated and signed out everywhere.",
        "reactivated" => "The account is active again.",
        "unchanged" => "The account already had that status; nothing changed.",
        _ => return None,
    })
}

/// The fixed text for an `?error=` code.
fn error_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "self" => {
            "You cannot deactivate your own account. Another plan administrator can, if it is really needed."
        }
        "stepup" => {
            "Two-step sign-in was not reset: confirm with your own password or a current code from your app. Several wrong tries lock your account for 15 minutes."
        }
        "invited" => {
            "This account is invited: it becomes active when the person sets a password from the activation link."
        }
        _ => return None,
    })
}

/// `GET /plan/users?q=`.
pub async fn search(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<SearchQuery>,
) -> Response {
    let text: String =
        q.q.unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_QUERY)
            .collect();
    let searched = !text.is_empty();
    let users = if searched {
        match state.store.search_users(&text, SEARCH_LIMIT).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "account search failed");
                return errors::unavailable(&state);
            }
        }
    } else {
        Vec::new()
    };
    let mut orgs: HashMap<i64, String> = HashMap::new();
    for u in &users {
        if let std::collections::hash_map::Entry::Vacant(slot) = orgs.entry(u.org_id) {
            match state.store.org(u.org_id).await {
                Ok(o) => {
                    slot.insert(o.map(|o| o.name).unwrap_or_default());
                }
                Err(e) => {
                    tracing::error!(error = %e, "organisation lookup failed");
                    return errors::unavailable(&state);
                }
            }
        }
    }
    let now = Utc::now();
    let limited = users.len() as i64 >= SEARCH_LIMIT;
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            org: orgs.get(&u.org_id).cloned().unwrap_or_default(),
            role: u.role.label(),
            status: u.status,
            mfa: u.totp_secret.is_some(),
            locked_until: u
                .throttle
                .locked_until
                .filter(|_| u.throttle.is_locked(now))
                .map(pacific),
            claims: u.claims,
            is_me: u.id == s.user_id(),
            username: u.username,
            name: u.display_name,
            email: u.email,
        })
        .collect();
    render(
        StatusCode::OK,
        &UsersPage {
            chrome: Chrome::signed(&state, &s, "Accounts", "/plan/users"),
            q: text,
            searched,
            rows,
            limited,
            limit: SEARCH_LIMIT,
            notice: notice_text(q.done.as_deref()),
            error: error_text(q.error.as_deref()),
        },
    )
}

/// The account a form names; 404 (the not-found page) for an unknown or malformed id.
async fn target(state: &AppState, s: &Signed, id: &str) -> Result<UserRecord, Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(errors::no_such_record(state, s, "account"));
    };
    match state.store.user(id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(errors::no_such_record(state, s, "account")),
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            Err(errors::unavailable(state))
        }
    }
}

/// Back to the search that shows the account, with a notice (or error) code.
fn back(u: &UserRecord, key: &str, code: &str) -> Response {
    Redirect::to(&back_url(&u.username, key, code)).into_response()
}

pub fn back_url(username: &str, key: &str, code: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", username)
        .append_pair(key, code)
        .finish();
    format!("/plan/users?{query}")
}

/// `POST /plan/users/{id}/reset-mfa`: clears the secret and recovery codes and ends every session.
/// The administrator confirms with their own password or code (step-up, counted against their
/// lockout): a session left open must not be enough to hand an account to a new authenticator.
pub async fn reset_mfa(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<crate::pages::account::StepUpForm>,
) -> Response {
    let u = match target(&state, &s, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match crate::pages::stepup::confirm(&state, &s, &f.stepup).await {
        Ok(crate::pages::stepup::StepUp::Confirmed) => {}
        Ok(crate::pages::stepup::StepUp::Wrong(_)) => return back(&u, "error", "stepup"),
        Ok(crate::pages::stepup::StepUp::Locked) => {
            return crate::pages::stepup::locked_out(&state, &s).await;
        }
        Err(res) => return res,
    }
    if let Err(e) = state.store.reset_totp(u.id).await {
        tracing::error!(error = %e, "could not reset MFA");
        return errors::unavailable(&state);
    }
    audit::security(
        &state,
        Some(&s),
        "mfa.reset",
        "user",
        &u.id.to_string(),
        "ok",
    )
    .await;
    back(&u, "done", "mfa")
}

/// `POST /plan/users/{id}/unlock`: clears the failed sign-in count and the lock.
pub async fn unlock(State(state): State<AppState>, s: Signed, Path(id): Path<String>) -> Response {
    let u = match target(&state, &s, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(e) = state.store.clear_sign_in_failures(u.id).await {
        tracing::error!(error = %e, "could not unlock an account");
        return errors::unavailable(&state);
    }
    audit::security(
        &state,
        Some(&s),
        "account.unlock",
        "user",
        &u.id.to_string(),
        "ok",
    )
    .await;
    back(&u, "done", "unlocked")
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub status: String,
}

/// `POST /plan/users/{id}/status` with `status=active|deactivated`. Deactivating ends every
/// session of the account (in storage, in the same transaction). Nobody deactivates themselves.
pub async fn set_status(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let u = match target(&state, &s, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some((status, action, done)) = crate::pages::status_change(&f.status) else {
        return PageError::BadRequest(
            "The form asked for an unknown account status. Go back, reload the page and try again."
                .into(),
        )
        .into_response();
    };
    if u.id == s.user_id() && status != UserStatus::Active {
        return back(&u, "error", "self");
    }
    if u.status == UserStatus::Invited {
        return back(&u, "error", "invited");
    }
    if u.status == status {
        return back(&u, "done", "unchanged");
    }
    // The plan may lift any deactivation, the office's included; who did it is recorded.
    let change = storage::StatusChange {
        authority: StatusAuthority::Plan,
        user_id: Some(s.user_id()),
        at: Utc::now(),
    };
    let changed = match state.store.deactivation(u.id).await {
        Ok(seen) => {
            state
                .store
                .set_user_status(u.id, status, &change, seen.map(|d| d.by))
                .await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(true) => {}
        Ok(false) => return back(&u, "done", "unchanged"),
        Err(e) => {
            tracing::error!(error = %e, "could not change an account's status");
            return errors::unavailable(&state);
        }
    }
    audit::security(&state, Some(&s), action, "user", &u.id.to_string(), "ok").await;
    back(&u, "done", done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_fixed_texts() {
        for code in ["mfa", "unlocked", "deactivated", "reactivated", "unchanged"] {
            assert!(notice_text(Some(code)).is_some(), "{code}");
        }
        assert!(notice_text(Some("<b>hi</b>")).is_none());
        assert!(error_text(Some("self")).is_some());
        assert!(error_text(Some("stepup")).is_some());
        assert!(error_text(Some("mfa")).is_none());
    }

    #[test]
    fn the_way_back_quotes_the_username() {
        assert_eq!(
            back_url("pat o'neil&x=1", "done", "mfa"),
            "/plan/users?q=pat+o%27neil%26x%3D1&done=mfa"
        );
    }
}
