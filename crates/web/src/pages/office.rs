//! Office administrators manage their own office: its users (deactivate, reactivate, the claims
//! entitlement within what the plan allowed the office) and the registration requests naming the
//! office's TIN. Every action first checks that the target belongs to the administrator's own
//! organisation; anything else answers 404, like a record that does not exist.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::verify::{DecideForm, Decided, decide};
use crate::pages::{Chrome, errors, pacific, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::UserStatus;
use domain::registration::{RegistrationStatus, RequestKind};
use serde::Deserialize;
use storage::{RegistrationFilter, RegistrationRecord, UserRecord};

pub struct RequestRow {
    pub r: RegistrationRecord,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "office_users.html")]
pub struct OfficePage {
    pub chrome: Chrome,
    pub office: String,
    pub tin: String,
    pub me: i64,
    pub users: Vec<UserRecord>,
    pub requests: Vec<RequestRow>,
    pub claims_allowed: bool,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "deactivated" => "The account was deactivated and signed out everywhere.",
        "reactivated" => "The account is active again.",
        "granted" => "Claims inquiry was granted.",
        "revoked" => "Claims inquiry was removed.",
        "approved" => "Approved. The person was sent an email.",
        "denied" => "Denied. The person was sent an email with the reason.",
        "taken" => "Someone else decided this request first; nothing was changed.",
        _ => return None,
    })
}

async fn office_page(
    state: &AppState,
    s: &Signed,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let org = &s.identity.org;
    let users = match state.store.users_of_org(org.id).await {
        Ok(u) => u,
        Err(_) => return errors::unavailable(state),
    };
    let requests = match org.tin {
        Some(tin) => state
            .store
            .registrations(&RegistrationFilter {
                status: Some(RegistrationStatus::Pending),
                tin: Some(tin),
                kind: None,
                limit: 200,
            })
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.kind != RequestKind::Tin)
            .map(|r| RequestRow {
                submitted: pacific(r.submitted_at),
                r,
            })
            .collect(),
        None => Vec::new(),
    };
    render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &OfficePage {
            chrome: Chrome::signed(state, s, "Office users", "/office/users"),
            office: org.name.clone(),
            tin: org.tin.map(|t| t.to_string()).unwrap_or_default(),
            me: s.user_id(),
            users,
            requests,
            claims_allowed: org.claims_allowed,
            notice,
            error,
        },
    )
}

pub async fn users(State(state): State<AppState>, s: Signed, Query(q): Query<Done>) -> Response {
    office_page(&state, &s, notice_text(q.done.as_deref()), None).await
}

/// The user `id` if they belong to the administrator's own organisation.
async fn own_user(state: &AppState, s: &Signed, id: i64) -> Option<UserRecord> {
    state
        .store
        .user(id)
        .await
        .ok()
        .flatten()
        .filter(|u| u.org_id == s.identity.org.id)
}

fn no_such(state: &AppState, s: &Signed, what: &str) -> Response {
    errors::no_such_record(state, s, what)
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
    let Some(user) = own_user(&state, &s, id).await else {
        return no_such(&state, &s, "user");
    };
    let (status, action, done) = match crate::pages::status_change(&f.status) {
        Some(change) => change,
        None => {
            return office_page(
                &state,
                &s,
                None,
                Some("Choose active or deactivated.".into()),
            )
            .await;
        }
    };
    if user.id == s.user_id() && status != UserStatus::Active {
        return office_page(
            &state,
            &s,
            None,
            Some("You cannot deactivate your own account; ask the plan.".into()),
        )
        .await;
    }
    if user.status == UserStatus::Invited && status == UserStatus::Active {
        return office_page(
            &state,
            &s,
            None,
            Some(format!(
                "{} has not set a password yet; the activation email is their way in.",
                user.display_name
            )),
        )
        .await;
    }
    if state.store.set_user_status(user.id, status).await.is_err() {
        return errors::unavailable(&state);
    }
    audit::security(&state, Some(&s), action, "user", &user.id.to_string(), "ok").await;
    Redirect::to(&format!("/office/users?done={done}")).into_response()
}

#[derive(Deserialize)]
pub struct ClaimsForm {
    #[serde(default)]
    pub claims: String,
}

pub async fn set_claims(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<ClaimsForm>,
) -> Response {
    let Some(user) = own_user(&state, &s, id).await else {
        return no_such(&state, &s, "user");
    };
    let grant = match f.claims.as_str() {
        "true" => true,
        "false" => false,
        _ => return office_page(&state, &s, None, Some("Choose grant or remove.".into())).await,
    };
    if grant && !s.identity.org.claims_allowed {
        return office_page(
            &state,
            &s,
            None,
            Some("The plan has not yet approved claims inquiry for this office. Request it first (My account → Request claims access); once approved you can grant it to your staff.".into()),
        )
        .await;
    }
    if state
        .store
        .set_claims_entitlement(user.id, grant)
        .await
        .is_err()
    {
        return errors::unavailable(&state);
    }
    let (action, done) = if grant {
        ("entitlement.grant", "granted")
    } else {
        ("entitlement.revoke", "revoked")
    };
    audit::security(&state, Some(&s), action, "user", &user.id.to_string(), "ok").await;
    Redirect::to(&format!("/office/users?done={done}")).into_response()
}

pub async fn decide_request(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    // Only requests naming this office's TIN, and not TIN grants (those the plan decides).
    let r = match state.store.registration(id).await {
        Ok(Some(r)) if Some(r.tin) == s.identity.org.tin && r.kind != RequestKind::Tin => r,
        Ok(_) => return no_such(&state, &s, "registration request"),
        Err(_) => return errors::unavailable(&state),
    };
    match decide(&state, &s, &r, &f).await {
        Ok(Decided::Approved) => Redirect::to("/office/users?done=approved").into_response(),
        Ok(Decided::Denied) => Redirect::to("/office/users?done=denied").into_response(),
        Ok(Decided::Taken) => Redirect::to("/office/users?done=taken").into_response(),
        Err(msg) => office_page(&state, &s, None, Some(msg)).await,
    }
}
