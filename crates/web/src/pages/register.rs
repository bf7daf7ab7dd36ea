//! Public registration by NPI and TIN, and account activation from the approval email.
//!
//! A request is checked field by field (`domain::registration`), then against the plan's
//! provider records (the NPI must be the plan's under that TIN), and queued as *pending
//! verification* with an optional affiliation proof. Nobody gets access until the plan (or the
//! office's administrator) has confirmed the person's employment; the approval email carries a
//! one-time activation link to set a password.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::Visitor;
use crate::kit::upload::{self as proof, Upload};
use crate::pages::account::password_problem;
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::account::UserStatus;
use domain::registration::{OfficeRole, RegistrationForm, RequestKind, mismatch_message};
use domain::session::token_hash;
use serde::Deserialize;
use storage::{NewDocument, NewMessage, NewRegistration};

/// Longest office name accepted (the domain checks the shortest).
const MAX_OFFICE_NAME: usize = 200;

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    pub chrome: Chrome,
    pub fields: Vec<TextField>,
    /// The role chosen, to keep it selected.
    pub role: String,
    pub roles: Vec<(&'static str, &'static str)>,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "register_done.html")]
pub struct DonePage {
    pub chrome: Chrome,
    /// The letter came with the request but could not be stored.
    pub proof_lost: bool,
}

/// A text input of the form, with its error.
pub struct TextField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub inputmode: &'static str,
    pub error: Option<String>,
}

fn text_fields(f: &RegistrationForm, errors: &FieldErrors) -> Vec<TextField> {
    [
        ("name", "Full name", "", &f.name, "text", "name", "text"),
        (
            "email",
            "Work email",
            "Your own address at the office; it becomes your username.",
            &f.email,
            "email",
            "email",
            "email",
        ),
        (
            "phone",
            "Office phone",
            "The office's main number: the plan calls it to confirm you work there.",
            &f.phone,
            "tel",
            "tel",
            "tel",
        ),
        (
            "npi",
            "NPI",
            "The office's or a practitioner's 10-digit National Provider Identifier.",
            &f.npi,
            "text",
            "off",
            "numeric",
        ),
        (
            "tin",
            "Tax ID (TIN)",
            "The 9-digit TIN the plan pays the office under, like 33-1234567.",
            &f.tin,
            "text",
            "off",
            "numeric",
        ),
        (
            "office_name",
            "Office or group name",
            "",
            &f.office_name,
            "text",
            "organization",
            "text",
        ),
    ]
    .into_iter()
    .map(
        |(name, label, hint, value, kind, autocomplete, inputmode)| TextField {
            name,
            label,
            hint,
            value: value.clone(),
            kind,
            autocomplete,
            inputmode,
            error: errors.get(name).cloned(),
        },
    )
    .collect()
}

fn roles() -> Vec<(&'static str, &'static str)> {
    OfficeRole::ALL
        .iter()
        .map(|r| (r.code(), r.label()))
        .collect()
}

fn register_page(
    state: &AppState,
    visitor: &Visitor,
    form: &RegistrationForm,
    errors: FieldErrors,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &RegisterPage {
            chrome: Chrome::visitor(state, visitor, "Register", "/register"),
            fields: text_fields(form, &errors),
            role: form.role.clone(),
            roles: roles(),
            errors,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct Submitted {
    pub submitted: Option<String>,
}

/// The registration form, or (after a request was queued) what happens next.
pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Submitted>,
) -> Response {
    match q.submitted.as_deref() {
        Some(code) => render(
            StatusCode::OK,
            &DonePage {
                chrome: Chrome::visitor(&state, &visitor, "Registration received", "/register"),
                proof_lost: code == "proof-not-stored",
            },
        ),
        None => register_page(
            &state,
            &visitor,
            &RegistrationForm::default(),
            FieldErrors::new(),
        ),
    }
}

/// The form's text fields from what the browser sent.
fn form_of(text: &std::collections::BTreeMap<String, String>) -> RegistrationForm {
    let get = |k: &str| text.get(k).cloned().unwrap_or_default();
    RegistrationForm {
        name: get("name"),
        email: get("email"),
        phone: get("phone"),
        npi: get("npi"),
        tin: get("tin"),
        office_name: get("office_name"),
        role: get("role"),
    }
}

/// Queues a registration request (kind *access*) after checking every field, the plan's provider
/// records and the proof; then sends the browser to what happens next.
pub async fn submit(State(state): State<AppState>, visitor: Visitor, upload: Upload) -> Response {
    let got = proof::receive(upload, "proof").await;
    let form = form_of(&got.text);
    let mut errors = FieldErrors::new();
    if let Some(why) = got.problem {
        errors.insert("proof", why);
        return register_page(&state, &visitor, &form, errors);
    }
    let proof = match got.file.map(|(name, bytes)| proof::check(&name, bytes)) {
        Some(Ok(p)) => Some(p),
        Some(Err(msg)) => {
            errors.insert("proof", msg);
            None
        }
        None => None,
    };
    if form.office_name.trim().chars().count() > MAX_OFFICE_NAME {
        errors.insert(
            "office_name",
            format!("Use at most {MAX_OFFICE_NAME} characters."),
        );
    }
    let reg = match form.parse() {
        Ok(r) => Some(r),
        Err(e) => {
            // The domain's own message wins for a field both checked.
            for (k, v) in e {
                errors.insert(k, v);
            }
            None
        }
    };
    let Some(reg) = reg.filter(|_| errors.is_empty()) else {
        return register_page(&state, &visitor, &form, errors);
    };
    let known = match state.store.provider(&reg.npi).await {
        Ok(p) => p.map(|p| p.tin),
        Err(e) => {
            tracing::error!(error = %e, "provider lookup failed");
            return errors::unavailable(&state);
        }
    };
    if let Some((field, msg)) = mismatch_message(&reg.npi, &reg.tin, known.as_ref()) {
        errors.insert(field, msg);
        return register_page(&state, &visitor, &form, errors);
    }
    match state
        .store
        .pending_registration(&reg.email, RequestKind::Access, &reg.tin)
        .await
    {
        Ok(Some(earlier)) => {
            // The page answers as for a new request (it must not tell a stranger that this
            // email has a request for this TIN); the person is told by email instead.
            let note = NewMessage {
                to_addr: reg.email.clone(),
                subject: "Your portal registration is already pending".into(),
                body: format!(
                    "Someone (perhaps you) registered again with this email for TIN {}. Your earlier request is still waiting for verification: Provider Relations will call the office, and there is no need to register again. If this was not you, you can ignore this message.",
                    reg.tin
                ),
                created_at: Utc::now(),
            };
            if let Err(e) = state.store.enqueue_message(&note).await {
                tracing::error!(error = %e, "duplicate registration notice not queued");
                return errors::unavailable(&state);
            }
            audit::event(
                &state,
                Actor::anonymous(&reg.email),
                &visitor.source,
                "registration.duplicate",
                "registration",
                &earlier.to_string(),
                "notified",
            )
            .await;
            return Redirect::to("/register?submitted=1").into_response();
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "pending registration lookup failed");
            return errors::unavailable(&state);
        }
    }
    let now = Utc::now();
    let id = match state
        .store
        .create_registration(&NewRegistration {
            kind: RequestKind::Access,
            name: reg.name.clone(),
            email: reg.email.clone(),
            phone: reg.phone.clone(),
            npi: reg.npi,
            tin: reg.tin,
            office_name: reg.office_name.clone(),
            office_role: reg.role,
            user_id: None,
            note: String::new(),
            submitted_at: now,
            source: visitor.source.clone(),
        })
        .await
    {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "registration not stored");
            return errors::unavailable(&state);
        }
    };
    audit::event(
        &state,
        Actor::anonymous(&reg.email),
        &visitor.source,
        "registration.submit",
        "registration",
        &id.to_string(),
        "ok",
    )
    .await;
    let mut proof_lost = false;
    if let Some(p) = proof {
        let doc = NewDocument {
            registration_id: id,
            filename: p.filename,
            media_type: p.media_type,
            sha256: p.sha256,
            bytes: p.bytes,
            uploaded_by: None,
            uploaded_at: now,
        };
        match state.store.add_document(&doc).await {
            Ok(doc_id) => {
                audit::event(
                    &state,
                    Actor::anonymous(&reg.email),
                    &visitor.source,
                    "registration.proof_upload",
                    "document",
                    &doc_id.to_string(),
                    "ok",
                )
                .await;
            }
            Err(e) => {
                // The request itself is queued; the person is told to send the letter later.
                tracing::error!(error = %e, registration = id, "registration proof not stored");
                proof_lost = true;
            }
        }
    }
    let to = if proof_lost {
        "/register?submitted=proof-not-stored"
    } else {
        "/register?submitted=1"
    };
    Redirect::to(to).into_response()
}

#[derive(Template)]
#[template(path = "activate.html")]
pub struct ActivatePage {
    pub chrome: Chrome,
    pub token: String,
    pub valid: bool,
    pub username: String,
    pub errors: FieldErrors,
}

/// Tokens are 32 random bytes in hex; anything else is not worth a database lookup.
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The invited user an activation token still works for.
async fn invited_user(
    state: &AppState,
    token: &str,
) -> Result<Option<storage::UserRecord>, storage::StorageError> {
    if !well_formed(token) {
        return Ok(None);
    }
    let Some(id) = state
        .store
        .activation_user(&token_hash(token), Utc::now())
        .await?
    else {
        return Ok(None);
    };
    Ok(state
        .store
        .user(id)
        .await?
        .filter(|u| u.status == UserStatus::Invited))
}

fn activation_page(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    user: Option<&storage::UserRecord>,
    errors: FieldErrors,
) -> Response {
    let status = match (user, errors.is_empty()) {
        (None, _) => StatusCode::NOT_FOUND,
        (Some(_), false) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    render(
        status,
        &ActivatePage {
            chrome: Chrome::visitor(state, visitor, "Set your password", ""),
            // Only a token that worked goes back into the page (the form's action).
            token: if user.is_some() {
                token.to_string()
            } else {
                String::new()
            },
            valid: user.is_some(),
            username: user.map(|u| u.username.clone()).unwrap_or_default(),
            errors,
        },
    )
}

pub async fn activate_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    match invited_user(&state, &token).await {
        Ok(user) => activation_page(&state, &visitor, &token, user.as_ref(), FieldErrors::new()),
        Err(e) => {
            tracing::error!(error = %e, "activation lookup failed");
            errors::unavailable(&state)
        }
    }
}

#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

/// Per-field problems with a new password and its confirmation.
pub fn activation_errors(
    password: &str,
    confirm: &str,
    username: &str,
    email: &str,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(p) = password_problem(password, username, email) {
        errors.insert("password", p);
    } else if password != confirm {
        errors.insert(
            "confirm",
            "The two passwords do not match. Type the same password in both fields.".into(),
        );
    }
    errors
}

/// Sets the first password from the approval email's link, then sends the person to sign in
/// (where they set up two-step sign-in).
pub async fn activate_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    Form(f): Form<ActivateForm>,
) -> Response {
    let user = match invited_user(&state, &token).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            audit::event(
                &state,
                Actor::anonymous(""),
                &visitor.source,
                "account.activate",
                "activation",
                "",
                "invalid",
            )
            .await;
            return activation_page(&state, &visitor, &token, None, FieldErrors::new());
        }
        Err(e) => {
            tracing::error!(error = %e, "activation lookup failed");
            return errors::unavailable(&state);
        }
    };
    let errors = activation_errors(&f.password, &f.confirm, &user.username, &user.email);
    if !errors.is_empty() {
        return activation_page(&state, &visitor, &token, Some(&user), errors);
    }
    let password = f.password;
    let phc = match tokio::task::spawn_blocking(move || domain::password::hash(&password)).await {
        Ok(phc) => phc,
        Err(e) => {
            tracing::error!(error = %e, "password hashing failed");
            return errors::unavailable(&state);
        }
    };
    let actor = || Actor {
        id: Some(user.id),
        name: user.username.clone(),
        org: Some(user.org_id),
    };
    match state
        .store
        .activate(&token_hash(&token), &phc, Utc::now())
        .await
    {
        Ok(Some(id)) => {
            audit::event(
                &state,
                actor(),
                &visitor.source,
                "account.activate",
                "user",
                &id.to_string(),
                "ok",
            )
            .await;
            Redirect::to("/login?activated=1").into_response()
        }
        // Used or expired between the check and now (a double submit).
        Ok(None) => activation_page(&state, &visitor, &token, None, FieldErrors::new()),
        Err(e) => {
            tracing::error!(error = %e, "activation failed");
            errors::unavailable(&state)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_password_rules() {
        let u = "linh@irvinefm.org";
        assert!(activation_errors("short", "short", u, u).contains_key("password"));
        let long = "x".repeat(129);
        assert!(activation_errors(&long, &long, u, u).contains_key("password"));
        assert!(
            activation_errors("linh@irvinefm.org", "linh@irvinefm.org", u, u)
                .contains_key("password"),
            "the username is not a password"
        );
        let e = activation_errors("correct horse battery", "correct horse batterx", u, u);
        assert!(e.contains_key("confirm") && !e.contains_key("password"));
        assert!(
            activation_errors("correct horse battery", "correct horse battery", u, u).is_empty()
        );
        let twelve = "abcdefghijkl";
        assert!(
            activation_errors(twelve, twelve, u, u).is_empty(),
            "12 is enough"
        );
        let max = "y".repeat(128);
        assert!(
            activation_errors(&max, &max, u, u).is_empty(),
            "128 is allowed"
        );
    }

    #[test]
    fn tokens_must_look_like_tokens() {
        assert!(well_formed(&"ab".repeat(32)));
        assert!(!well_formed("../../etc"));
        assert!(!well_formed(&"g".repeat(64)));
        assert!(!well_formed(&"a".repeat(63)));
    }

    #[test]
    fn typed_values_come_back() {
        let mut text = std::collections::BTreeMap::new();
        text.insert("name".to_string(), "Ana".to_string());
        text.insert("role".to_string(), "billing".to_string());
        text.insert("_csrf".to_string(), "t".to_string());
        let f = form_of(&text);
        assert_eq!((f.name.as_str(), f.role.as_str()), ("Ana", "billing"));
        let fields = text_fields(&f, &FieldErrors::new());
        assert_eq!(fields.len(), 6);
        assert_eq!(fields[0].value, "Ana");
    }
}
