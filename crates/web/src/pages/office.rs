//! Office administrators manage their own office: its users (deactivate, reactivate, the claims
//! entitlement within what the plan allowed the office) and the registration requests naming the
//! office's TIN (an administrator vouches for their own staff).
//!
//! Least privilege: every action first checks that the target belongs to the administrator's own
//! organisation; anything else answers 404, exactly like a record that does not exist, and the
//! attempt is audited. An administrator never decides their own request, and never grants claims
//! inquiry before the plan has approved it for the office.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::pacific;
use crate::kit::format::phone_label;
use crate::pages::decision::{DecideForm, Decided, Refused, decide, own_request};
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::{OrgKind, StatusAuthority, UserStatus};
use domain::registration::{RegistrationStatus, RequestKind};
use serde::Deserialize;
use storage::{RegistrationFilter, RegistrationRecord, StorageError, UserRecord};

/// A request naming the office's TIN, with what the administrator may do with it.
pub struct RequestRow {
    pub r: RegistrationRecord,
    pub submitted: String,
    pub phone: String,
    pub may_approve: bool,
    pub may_deny: bool,
    /// Why approving is not offered.
    pub why_not: &'static str,
}

/// One account of the office, with the actions offered on it.
pub struct UserRow {
    pub u: UserRecord,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "office_users.html")]
pub struct OfficePage {
    pub chrome: Chrome,
    pub office: String,
    pub tin: String,
    pub users: Vec<UserRow>,
    pub requests: Vec<RequestRow>,
    pub claims_allowed: bool,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
    /// Show how to ask the plan for claims inquiry (after a refused grant).
    pub claims_help: bool,
}

#[derive(Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
}

/// The fixed text for a `?done=` code (never the query's own text).
fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "deactivated" => "The account was deactivated and signed out everywhere.",
        "uninvited" => {
            "The invitation was cancelled: the activation link no longer works for this account."
        }
        "reactivated" => "The account is active again.",
        "reinvited" => {
            "The account is back to invited: the person can still use their activation link if it has not expired; otherwise ask the plan's Provider Relations for a new one."
        }
        "granted" => "Claims inquiry was granted.",
        "revoked" => "Claims inquiry was removed.",
        "approved" => "Approved. The person was sent an email.",
        "denied" => "Denied. The person was sent an email with the reason.",
        "taken" => "Someone else decided this request first; nothing was changed.",
        _ => return None,
    })
}

/// Why an administrator cannot approve a request they may see; `None` when they can.
fn approve_blocker(s: &Signed, r: &RegistrationRecord) -> Option<&'static str> {
    if own_request(s, r) {
        Some("Your own request: the plan decides it.")
    } else if r.kind == RequestKind::Claims && !s.identity.org.claims_allowed {
        Some(
            "The plan has not approved claims inquiry for your office yet, so it decides this request.",
        )
    } else {
        None
    }
}

/// Whether the administrator may see (and so decide) request `r` at all: access requests naming
/// their provider office's TIN, and claims requests of their own office's staff.
async fn in_office(
    state: &AppState,
    s: &Signed,
    r: &RegistrationRecord,
) -> Result<bool, StorageError> {
    let org = &s.identity.org;
    if org.tin != Some(r.tin) {
        return Ok(false);
    }
    Ok(match r.kind {
        RequestKind::Access => org.kind == OrgKind::ProviderOffice,
        RequestKind::Claims => match r.user_id {
            Some(uid) => state
                .store
                .user(uid)
                .await?
                .is_some_and(|u| u.org_id == org.id),
            None => false,
        },
        RequestKind::Tin => false,
    })
}

/// The pending requests the administrator may see.
async fn office_requests(state: &AppState, s: &Signed) -> Result<Vec<RequestRow>, StorageError> {
    let Some(tin) = s.identity.org.tin else {
        return Ok(Vec::new());
    };
    let list = state
        .store
        .registrations(&RegistrationFilter {
            status: Some(RegistrationStatus::Pending),
            tin: Some(tin),
            kind: None,
            limit: 200,
        })
        .await?;
    let mut rows = Vec::new();
    for r in list {
        if !in_office(state, s, &r).await? {
            continue;
        }
        let blocker = approve_blocker(s, &r);
        rows.push(RequestRow {
            submitted: pacific(r.submitted_at),
            phone: phone_label(&r.phone),
            may_approve: blocker.is_none(),
            may_deny: !own_request(s, &r),
            why_not: blocker.unwrap_or(""),
            r,
        });
    }
    Ok(rows)
}

/// What the page shows besides the office's records.
#[derive(Default)]
struct Shown {
    notice: Option<&'static str>,
    error: Option<String>,
    claims_help: bool,
}

async fn office_page(state: &AppState, s: &Signed, shown: Shown) -> Response {
    let org = &s.identity.org;
    let (users, requests) = match (
        state.store.users_of_org(org.id).await,
        office_requests(state, s).await,
    ) {
        (Ok(u), Ok(r)) => (u, r),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "office users unavailable");
            return errors::unavailable(state);
        }
    };
    let status = if shown.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &OfficePage {
            chrome: Chrome::signed(state, s, "Office users", "/office/users"),
            office: org.name.clone(),
            tin: org.tin.map(|t| t.to_string()).unwrap_or_default(),
            users: users
                .into_iter()
                .map(|u| UserRow {
                    is_me: u.id == s.user_id(),
                    u,
                })
                .collect(),
            requests,
            claims_allowed: org.claims_allowed,
            notice: shown.notice,
            error: shown.error,
            claims_help: shown.claims_help,
        },
    )
}

fn with_error(error: impl Into<String>) -> Shown {
    Shown {
        error: Some(error.into()),
        ..Shown::default()
    }
}

/// `GET /office/users`.
pub async fn users(State(state): State<AppState>, s: Signed, Query(q): Query<Done>) -> Response {
    let shown = Shown {
        notice: notice_text(q.done.as_deref()),
        ..Shown::default()
    };
    office_page(&state, &s, shown).await
}

/// The user `id` if they belong to the administrator's own organisation; otherwise the 404 to
/// give (audited as a refused `action`).
async fn own_user(
    state: &AppState,
    s: &Signed,
    id: i64,
    action: &str,
) -> Result<UserRecord, Response> {
    match state.store.user(id).await {
        Ok(Some(u)) if u.org_id == s.identity.org.id => Ok(u),
        Ok(_) => {
            audit::security(state, Some(s), action, "user", &id.to_string(), "denied").await;
            Err(no_such(state, s, "user"))
        }
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            Err(errors::unavailable(state))
        }
    }
}

fn no_such(state: &AppState, s: &Signed, what: &str) -> Response {
    errors::no_such_record(state, s, what)
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub status: String,
}

/// The status a change leads to, the audit action and the notice code (the shared parser,
/// with the office's own rules); `Err` is the message.
fn status_change(
    user: &UserRecord,
    me: i64,
    asked: &str,
) -> Result<(UserStatus, &'static str, &'static str), String> {
    let Some((status, action, done)) = crate::pages::status_change(asked) else {
        return Err("Choose active or deactivated.".into());
    };
    Ok(match status {
        UserStatus::Active if user.password_hash.is_empty() => {
            // Nobody who never set a password becomes active: they go back to invited.
            (UserStatus::Invited, action, "reinvited")
        }
        UserStatus::Deactivated if user.id == me => {
            return Err(
                "You cannot deactivate your own account. Another administrator of your office, or the plan, can."
                    .into(),
            );
        }
        UserStatus::Deactivated if user.status == UserStatus::Invited => {
            (status, action, "uninvited")
        }
        _ => (status, action, done),
    })
}

/// `POST /office/users/{id}/status`: deactivate (ends every session) or reactivate.
pub async fn set_status(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Response {
    let action = if f.status == "active" {
        "user.reactivate"
    } else {
        "user.deactivate"
    };
    let user = match own_user(&state, &s, id, action).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (status, action, done) = match status_change(&user, s.user_id(), &f.status) {
        Ok(x) => x,
        Err(msg) => return office_page(&state, &s, with_error(msg)).await,
    };
    if user.status == status {
        return Redirect::to("/office/users").into_response();
    }
    let seen = match state.store.deactivation(user.id).await {
        Ok(d) => d.map(|d| d.by),
        Err(e) => {
            tracing::error!(error = %e, "status lookup failed");
            return errors::unavailable(&state);
        }
    };
    // Separation of duties: what the plan deactivated, only the plan reactivates.
    if user.status == UserStatus::Deactivated && !StatusAuthority::Office.may_lift(seen) {
        audit::security(
            &state,
            Some(&s),
            action,
            "user",
            &user.id.to_string(),
            "refused",
        )
        .await;
        return office_page(
            &state,
            &s,
            with_error(
                "The plan deactivated this account, so only the plan can reactivate it. Ask the plan's Provider Relations.",
            ),
        )
        .await;
    }
    let change = storage::StatusChange {
        authority: StatusAuthority::Office,
        user_id: Some(s.user_id()),
        at: chrono::Utc::now(),
    };
    match state
        .store
        .set_user_status(user.id, status, &change, seen)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return office_page(
                &state,
                &s,
                with_error(
                    "The account changed meanwhile; nothing was done. Look again and retry.",
                ),
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "status change failed");
            return errors::unavailable(&state);
        }
    }
    audit::security(&state, Some(&s), action, "user", &user.id.to_string(), "ok").await;
    Redirect::to(&format!("/office/users?done={done}")).into_response()
}

#[derive(Deserialize)]
pub struct ClaimsForm {
    #[serde(default)]
    pub claims: String,
}

/// `POST /office/users/{id}/claims`: grant (only once the plan allowed the office) or remove.
pub async fn set_claims(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<ClaimsForm>,
) -> Response {
    let grant = match f.claims.as_str() {
        "true" => true,
        "false" => false,
        _ => return office_page(&state, &s, with_error("Choose grant or remove.")).await,
    };
    let action = if grant {
        "entitlement.grant"
    } else {
        "entitlement.revoke"
    };
    let user = match own_user(&state, &s, id, action).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    // Separation of duties: nobody grants themself an entitlement (another administrator of
    // the office, or the plan, can).
    if grant && user.id == s.user_id() {
        audit::security(
            &state,
            Some(&s),
            action,
            "user",
            &user.id.to_string(),
            "refused",
        )
        .await;
        return office_page(
            &state,
            &s,
            with_error(
                "You cannot grant claims inquiry to yourself. Another administrator of your office, or the plan, can.",
            ),
        )
        .await;
    }
    if grant && !s.identity.org.claims_allowed {
        audit::security(
            &state,
            Some(&s),
            action,
            "user",
            &user.id.to_string(),
            "refused",
        )
        .await;
        let shown = Shown {
            error: Some(
                "Claims inquiry is a separate access: the plan must first approve it for your office before you can grant it to your staff."
                    .into(),
            ),
            claims_help: true,
            ..Shown::default()
        };
        return office_page(&state, &s, shown).await;
    }
    if user.claims == grant {
        return Redirect::to("/office/users").into_response();
    }
    if let Err(e) = state.store.set_claims_entitlement(user.id, grant).await {
        tracing::error!(error = %e, "claims entitlement change failed");
        return errors::unavailable(&state);
    }
    let done = if grant { "granted" } else { "revoked" };
    audit::security(&state, Some(&s), action, "user", &user.id.to_string(), "ok").await;
    Redirect::to(&format!("/office/users?done={done}")).into_response()
}

/// `POST /office/requests/{id}/decide`: the same decision as the plan's, for requests of the
/// administrator's own office only.
pub async fn decide_request(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    let action = if f.decision == "approve" {
        "registration.approve"
    } else {
        "registration.deny"
    };
    let r = match state.store.registration(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return no_such(&state, &s, "registration request"),
        Err(e) => {
            tracing::error!(error = %e, "registration lookup failed");
            return errors::unavailable(&state);
        }
    };
    match in_office(&state, &s, &r).await {
        Ok(true) => {}
        Ok(false) => {
            audit::security(
                &state,
                Some(&s),
                action,
                "registration",
                &id.to_string(),
                "denied",
            )
            .await;
            return no_such(&state, &s, "registration request");
        }
        Err(e) => {
            tracing::error!(error = %e, "registration lookup failed");
            return errors::unavailable(&state);
        }
    }
    if f.decision == "approve"
        && let Some(why) = approve_blocker(&s, &r)
    {
        audit::security(
            &state,
            Some(&s),
            action,
            "registration",
            &id.to_string(),
            "refused",
        )
        .await;
        return office_page(&state, &s, with_error(why)).await;
    }
    match decide(&state, &s, &r, &f).await {
        Ok(Decided::Approved) => Redirect::to("/office/users?done=approved").into_response(),
        Ok(Decided::Denied) => Redirect::to("/office/users?done=denied").into_response(),
        Ok(Decided::Taken) => Redirect::to("/office/users?done=taken").into_response(),
        Err(Refused::Reason(msg)) => {
            let msg = format!("Request from {}: {msg}", r.name);
            office_page(&state, &s, with_error(msg)).await
        }
        Err(Refused::Page(msg)) => office_page(&state, &s, with_error(msg)).await,
        Err(Refused::Unavailable) => errors::unavailable(&state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::account::Role;
    use domain::session::Throttle;

    fn user(id: i64, status: UserStatus, password_hash: &str) -> UserRecord {
        UserRecord {
            id,
            username: format!("u{id}@office.test"),
            display_name: format!("User {id}"),
            email: format!("u{id}@office.test"),
            phone: String::new(),
            role: Role::OfficeUser,
            org_id: 1,
            password_hash: password_hash.into(),
            status,
            claims: false,
            totp_secret: None,
            totp_last_step: None,
            throttle: Throttle::default(),
        }
    }

    #[test]
    fn status_changes() {
        let me = 1;
        let active = user(2, UserStatus::Active, "$argon2id$x");
        assert!(status_change(&user(1, UserStatus::Active, "h"), me, "deactivated").is_err());
        assert_eq!(
            status_change(&active, me, "deactivated").unwrap(),
            (UserStatus::Deactivated, "user.deactivate", "deactivated")
        );
        assert_eq!(
            status_change(&user(3, UserStatus::Invited, ""), me, "deactivated")
                .unwrap()
                .2,
            "uninvited"
        );
        assert_eq!(
            status_change(&user(4, UserStatus::Deactivated, ""), me, "active")
                .unwrap()
                .0,
            UserStatus::Invited,
            "never active without a password"
        );
        assert_eq!(
            status_change(
                &user(5, UserStatus::Deactivated, "$argon2id$x"),
                me,
                "active"
            )
            .unwrap()
            .0,
            UserStatus::Active
        );
        assert!(status_change(&active, me, "admin").is_err());
    }

    #[test]
    fn notices_are_fixed_texts() {
        assert!(notice_text(Some("granted")).is_some());
        assert!(notice_text(Some("<script>alert(1)</script>")).is_none());
        assert!(notice_text(None).is_none());
    }
}
