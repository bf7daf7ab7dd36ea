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
use crate::pages::account::password_problem;
use crate::pages::{Chrome, FieldErrors, errors, proof, render};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use domain::registration::{OfficeRole, RegistrationForm, RequestKind, mismatch_message};
use domain::session::token_hash;
use serde::Deserialize;
use storage::{NewDocument, NewRegistration};

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    pub chrome: Chrome,
    pub form: RegistrationForm,
    pub fields: Vec<TextField>,
    pub roles: Vec<(&'static str, &'static str)>,
    pub errors: FieldErrors,
    pub submitted: bool,
}

/// A text input of the form, with its error.
pub struct TextField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub error: Option<String>,
}

fn text_fields(f: &RegistrationForm, errors: &FieldErrors) -> Vec<TextField> {
    [
        ("name", "Full name", &f.name, "text", "name"),
        ("email", "Work email", &f.email, "email", "email"),
        ("phone", "Office phone", &f.phone, "tel", "tel"),
        ("npi", "NPI", &f.npi, "text", "off"),
        ("tin", "Tax ID (TIN)", &f.tin, "text", "off"),
        (
            "office_name",
            "Office or group name",
            &f.office_name,
            "text",
            "organization",
        ),
    ]
    .into_iter()
    .map(|(name, label, value, kind, autocomplete)| TextField {
        name,
        label,
        value: value.clone(),
        kind,
        autocomplete,
        error: errors.get(name).cloned(),
    })
    .collect()
}

fn roles() -> Vec<(&'static str, &'static str)> {
    OfficeRole::ALL
        .iter()
        .map(|r| (r.code(), r.label()))
        .collect()
}

#[derive(Deserialize, Default)]
pub struct Submitted {
    pub submitted: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Submitted>,
) -> Response {
    render(
        StatusCode::OK,
        &RegisterPage {
            chrome: Chrome::visitor(&state, &visitor, "Register", "/register"),
            fields: text_fields(&RegistrationForm::default(), &FieldErrors::new()),
            form: RegistrationForm::default(),
            roles: roles(),
            errors: FieldErrors::new(),
            submitted: q.submitted.is_some(),
        },
    )
}

/// The multipart form: text fields and the optional proof file.
async fn read_form(
    mut mp: Multipart,
) -> Result<(RegistrationForm, Option<(String, Vec<u8>)>), String> {
    let mut f = RegistrationForm::default();
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or("").to_string();
        if name == "proof" {
            let filename = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| e.body_text())?;
            if !bytes.is_empty() {
                file = Some((filename, bytes.to_vec()));
            }
            continue;
        }
        let value = field.text().await.map_err(|e| e.body_text())?;
        match name.as_str() {
            "name" => f.name = value,
            "email" => f.email = value,
            "phone" => f.phone = value,
            "npi" => f.npi = value,
            "tin" => f.tin = value,
            "office_name" => f.office_name = value,
            "role" => f.role = value,
            _ => {}
        }
    }
    Ok((f, file))
}

pub async fn submit(State(state): State<AppState>, visitor: Visitor, mp: Multipart) -> Response {
    let again = |form: RegistrationForm, errors: FieldErrors| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &RegisterPage {
                chrome: Chrome::visitor(&state, &visitor, "Register", "/register"),
                fields: text_fields(&form, &errors),
                form,
                roles: roles(),
                errors,
                submitted: false,
            },
        )
    };
    let (form, file) = match read_form(mp).await {
        Ok(x) => x,
        Err(why) => {
            let mut e = FieldErrors::new();
            e.insert("proof", format!("The form could not be read: {why}"));
            return again(RegistrationForm::default(), e);
        }
    };
    let mut errors = FieldErrors::new();
    let proof = match file
        .map(|(name, bytes)| proof::check(&name, bytes))
        .transpose()
    {
        Ok(p) => p,
        Err(msg) => {
            errors.insert("proof", msg);
            None
        }
    };
    let reg = match form.parse() {
        Ok(r) => Some(r),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let Some(reg) = reg.filter(|_| errors.is_empty()) else {
        return again(form, errors);
    };
    let known = match state.store.provider(&reg.npi).await {
        Ok(p) => p.map(|p| p.tin),
        Err(_) => return errors::unavailable(&state),
    };
    if let Some((field, msg)) = mismatch_message(&reg.npi, &reg.tin, known.as_ref()) {
        errors.insert(field, msg);
        return again(form, errors);
    }
    match state
        .store
        .pending_registration(&reg.email, RequestKind::Access, &reg.tin)
        .await
    {
        Ok(Some(_)) => {
            errors.insert(
                "email",
                "A request from this email for this TIN is already waiting for verification. The plan will call the office; there is no need to register again.".into(),
            );
            return again(form, errors);
        }
        Ok(None) => {}
        Err(_) => return errors::unavailable(&state),
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
        Err(_) => return errors::unavailable(&state),
    };
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
        if state.store.add_document(&doc).await.is_err() {
            tracing::error!("registration proof not stored");
        }
    }
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
    Redirect::to("/register?submitted=1").into_response()
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

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn activation_page(state: &AppState, token: &str, errors: FieldErrors) -> Response {
    let user = if well_formed(token) {
        match state
            .store
            .activation_user(&token_hash(token), Utc::now())
            .await
        {
            Ok(Some(id)) => state.store.user(id).await.ok().flatten(),
            Ok(None) => None,
            Err(_) => return errors::unavailable(state),
        }
    } else {
        None
    };
    let status = match (&user, errors.is_empty()) {
        (None, _) => StatusCode::NOT_FOUND,
        (Some(_), false) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    render(
        status,
        &ActivatePage {
            chrome: Chrome::new(state, "Set your password", ""),
            token: token.to_string(),
            valid: user.is_some(),
            username: user.map(|u| u.username).unwrap_or_default(),
            errors,
        },
    )
}

pub async fn activate_form(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    activation_page(&state, &token, FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

pub async fn activate_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    Form(f): Form<ActivateForm>,
) -> Response {
    if !well_formed(&token) {
        return activation_page(&state, &token, FieldErrors::new()).await;
    }
    let hash = token_hash(&token);
    let now = Utc::now();
    let Ok(Some(user_id)) = state.store.activation_user(&hash, now).await else {
        return activation_page(&state, &token, FieldErrors::new()).await;
    };
    let Ok(Some(user)) = state.store.user(user_id).await else {
        return errors::unavailable(&state);
    };
    let mut errors = FieldErrors::new();
    if let Some(p) = password_problem(&f.password, &user.username, &user.email) {
        errors.insert("password", p);
    } else if f.password != f.confirm {
        errors.insert("confirm", "The two passwords do not match.".into());
    }
    if !errors.is_empty() {
        return activation_page(&state, &token, errors).await;
    }
    let password = f.password.clone();
    let Ok(phc) = tokio::task::spawn_blocking(move || domain::password::hash(&password)).await
    else {
        return errors::unavailable(&state);
    };
    match state.store.activate(&hash, &phc, now).await {
        Ok(Some(id)) => {
            let actor = Actor {
                id: Some(id),
                name: user.username.clone(),
                org: Some(user.org_id),
            };
            audit::event(
                &state,
                actor,
                &visitor.source,
                "account.activate",
                "user",
                &id.to_string(),
                "ok",
            )
            .await;
            Redirect::to("/login?activated=1").into_response()
        }
        Ok(None) => activation_page(&state, &token, FieldErrors::new()).await,
        Err(_) => errors::unavailable(&state),
    }
}
