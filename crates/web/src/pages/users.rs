//! Plan administrators: find any account; unlock it, reset its two-step sign-in (which signs it
//! out everywhere; the person enrols again at the next sign-in), deactivate or reactivate it.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::{Chrome, errors, pacific, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::account::UserStatus;
use serde::Deserialize;
use std::collections::HashMap;

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
}

#[derive(Template)]
#[template(path = "plan_users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub q: String,
    pub rows: Vec<UserRow>,
    pub me: i64,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub done: Option<String>,
    pub error: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "mfa" => {
            "Two-step sign-in was reset; the person was signed out and sets it up again at the next sign-in."
        }
        "unlocked" => "The account was unlocked.",
        "deactivated" => "The account was deactivated and signed out everywhere.",
        "reactivated" => "The account is active again.",
        _ => return None,
    })
}

pub async fn search(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<SearchQuery>,
) -> Response {
    let text = q.q.clone().unwrap_or_default();
    let users = if text.trim().is_empty() {
        Vec::new()
    } else {
        match state.store.search_users(text.trim(), 50).await {
            Ok(u) => u,
            Err(_) => return errors::unavailable(&state),
        }
    };
    let mut orgs: HashMap<i64, String> = HashMap::new();
    for u in &users {
        if let std::collections::hash_map::Entry::Vacant(slot) = orgs.entry(u.org_id) {
            let name = state.store.org(u.org_id).await.ok().flatten();
            slot.insert(name.map(|o| o.name).unwrap_or_default());
        }
    }
    let now = Utc::now();
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
            rows,
            me: s.user_id(),
            notice: notice_text(q.done.as_deref()),
            error: (q.error.as_deref() == Some("self"))
                .then_some("You cannot deactivate your own account."),
        },
    )
}

async fn target(state: &AppState, s: &Signed, id: i64) -> Result<storage::UserRecord, Response> {
    match state.store.user(id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(errors::no_such_record(state, s, "account")),
        Err(_) => Err(errors::unavailable(state)),
    }
}

fn back(u: &storage::UserRecord, done: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(u.username.as_bytes()).collect();
    Redirect::to(&format!("/plan/users?q={q}&done={done}")).into_response()
}

pub async fn reset_mfa(State(state): State<AppState>, s: Signed, Path(id): Path<i64>) -> Response {
    let u = match target(&state, &s, id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if state.store.reset_totp(u.id).await.is_err() {
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
    back(&u, "mfa")
}

pub async fn unlock(State(state): State<AppState>, s: Signed, Path(id): Path<i64>) -> Response {
    let u = match target(&state, &s, id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if state.store.clear_sign_in_failures(u.id).await.is_err() {
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
    back(&u, "unlocked")
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Response {
    let u = match target(&state, &s, id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (status, action, done) = match crate::pages::status_change(&f.status) {
        Some(change) => change,
        None => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                "status must be active or deactivated",
            )
                .into_response();
        }
    };
    if u.id == s.user_id() && status != UserStatus::Active {
        let q: String = form_urlencoded::byte_serialize(u.username.as_bytes()).collect();
        return Redirect::to(&format!("/plan/users?q={q}&error=self")).into_response();
    }
    if u.status == UserStatus::Invited && status == UserStatus::Active {
        return back(&u, "");
    }
    if state.store.set_user_status(u.id, status).await.is_err() {
        return errors::unavailable(&state);
    }
    audit::security(&state, Some(&s), action, "user", &u.id.to_string(), "ok").await;
    back(&u, done)
}
