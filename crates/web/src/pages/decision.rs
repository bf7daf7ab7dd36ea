//! Deciding a request of the verification queue: the approval storage applies, the email that
//! tells the requester, and the audit entries. Shared by the plan's queue (`pages::verify`) and
//! office administrators (`pages::office`).

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::pacific;
use crate::mail::Letter;
use chrono::{DateTime, Duration, Utc};
use domain::registration::RequestKind;
use domain::session::{new_token, token_hash};
use serde::Deserialize;
use storage::{Approval, NewMessage, RegistrationRecord};

/// Activation links work this long.
pub const ACTIVATION_DAYS: i64 = 7;

/// Longest denial reason (it goes into the email).
pub const MAX_REASON: usize = 1000;

/// The decider asked for this themselves: nobody approves their own request.
pub fn own_request(s: &Signed, r: &RegistrationRecord) -> bool {
    r.user_id == Some(s.user_id()) || r.email.eq_ignore_ascii_case(&s.identity.user.email)
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// How a decision went.
#[derive(Debug, PartialEq, Eq)]
pub enum Decided {
    Approved,
    Denied,
    /// Decided by someone else first: nothing changed.
    Taken,
}

/// Why a decision was not made.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// A message for the denial reason field.
    Reason(String),
    /// A message for the page.
    Page(String),
    /// The database could not be reached; nothing changed.
    Unavailable,
}

/// Checks the denial reason; `Ok` is the trimmed reason.
pub fn reason_problem(reason: &str) -> Result<&str, String> {
    let reason = reason.trim();
    if reason.is_empty() {
        Err("Give the reason for the denial; it is sent to the requester.".into())
    } else if reason.chars().count() > MAX_REASON {
        Err(format!(
            "Use at most {MAX_REASON} characters; this one has {}.",
            reason.chars().count()
        ))
    } else {
        Ok(reason)
    }
}

/// The approval email and what storage applies, for request `r` (`token` is the activation
/// link's secret for access requests). The message is what the outbox keeps (link masked); the
/// letter is what the recipient gets.
pub(crate) fn approval_for(
    r: &RegistrationRecord,
    public_url: &str,
    token: &str,
    now: DateTime<Utc>,
) -> (Approval, NewMessage, Letter) {
    let base = public_url.trim_end_matches('/');
    let expires = now + Duration::days(ACTIVATION_DAYS);
    let (approval, subject, body) = match r.kind {
        RequestKind::Access => {
            let role = r.office_role.portal_role();
            (
                Approval::Access {
                    username: r.email.clone(),
                    role,
                    activation_hash: token_hash(token),
                    activation_expires: expires,
                },
                "Your provider portal access is approved",
                format!(
                    "Hello {name},\n\n\
                     The plan verified that you work at {office} (TIN {tin}) and approved your access to the provider portal as {role}.\n\n\
                     Set your password with this link. It works once, until {until}:\n\
                     {base}/activate/{token}\n\n\
                     Your username is {username}. After setting the password you will sign in and set up two-step sign-in with an authenticator app.\n\n\
                     Claims inquiry is a separate access; you can request it from My account once signed in.\n\n\
                     If you did not ask for this, contact the plan's Provider Relations.\n",
                    name = r.name,
                    office = r.office_name,
                    tin = r.tin,
                    role = role.label(),
                    until = pacific(expires),
                    username = r.email,
                ),
            )
        }
        RequestKind::Claims => (
            Approval::Claims,
            "Claims inquiry is now part of your portal access",
            format!(
                "Hello {},\n\nThe plan approved claims inquiry for you at {} (TIN {}). Claim status and remittance for the office now appear in the portal ({base}/claims) when you are signed in.\n",
                r.name, r.office_name, r.tin
            ),
        ),
        RequestKind::Tin => (
            Approval::Tin,
            "You can now act for another TIN",
            format!(
                "Hello {},\n\nThe plan approved your request: you can now act for {} (TIN {}) in the provider portal ({base}/).\n",
                r.name, r.office_name, r.tin
            ),
        ),
    };
    let message = NewMessage {
        to_addr: r.email.clone(),
        subject: subject.into(),
        body: crate::mail::mask_links(&body),
        created_at: now,
    };
    let letter = Letter {
        to: r.email.clone(),
        subject: subject.into(),
        body,
    };
    (approval, message, letter)
}

/// Hands `letter` (queued as outbox message `id`) to the transport and marks it sent. The
/// decision is already committed: a failure is logged for the operator, never shown as a failed
/// decision.
async fn deliver(state: &AppState, id: i64, letter: &Letter) {
    match state.mail.send(id, letter).await {
        Ok(true) => {
            if let Err(e) = state.store.mark_sent(id, Utc::now()).await {
                tracing::warn!(error = %e, message = id, "mail sent but not marked sent");
            }
        }
        Ok(false) => tracing::warn!(
            message = id,
            "no mail transport: a message with a one-time link was not delivered"
        ),
        Err(e) => tracing::error!(error = %e, message = id, "mail delivery failed"),
    }
}

pub(crate) fn denial_for(r: &RegistrationRecord, reason: &str, now: DateTime<Utc>) -> NewMessage {
    NewMessage {
        to_addr: r.email.clone(),
        subject: "Your provider portal request was not approved".into(),
        body: format!(
            "Hello {},\n\nYour request ({}) for {} (TIN {}) was not approved.\n\nReason: {reason}\n\nIf you think this is a mistake, contact the plan's Provider Relations.\n",
            r.name,
            r.kind.label(),
            r.office_name,
            r.tin
        ),
        created_at: now,
    }
}

/// Approves or denies `r` as `s`, queueing the email to the requester, and writes the audit
/// trail. The caller has checked that `s` may decide `r` at all.
pub async fn decide(
    state: &AppState,
    s: &Signed,
    r: &RegistrationRecord,
    f: &DecideForm,
) -> Result<Decided, Refused> {
    let now = Utc::now();
    let id = r.id.to_string();
    if own_request(s, r) {
        audit::security(
            state,
            Some(s),
            "registration.decide",
            "registration",
            &id,
            "refused",
        )
        .await;
        return Err(Refused::Page(
            "You cannot decide your own request; someone else must.".into(),
        ));
    }
    match f.decision.as_str() {
        "approve" => {
            let token = new_token();
            let (approval, message, letter) = approval_for(r, &state.public_url, &token, now);
            match state
                .store
                .approve_registration(r.id, s.user_id(), &approval, &message)
                .await
            {
                Ok(Some(done)) => {
                    deliver(state, done.message_id, &letter).await;
                    audit::security(
                        state,
                        Some(s),
                        "registration.approve",
                        "registration",
                        &id,
                        "ok",
                    )
                    .await;
                    let follow = match r.kind {
                        RequestKind::Claims => "entitlement.grant",
                        RequestKind::Tin => "tin.grant",
                        RequestKind::Access => "user.invite",
                    };
                    audit::security(
                        state,
                        Some(s),
                        follow,
                        "user",
                        &done.user_id.to_string(),
                        "ok",
                    )
                    .await;
                    Ok(Decided::Approved)
                }
                Ok(None) => Ok(Decided::Taken),
                Err(storage::StorageError::Duplicate(_)) => Err(Refused::Page(format!(
                    "An account with the username {} already exists, so this request cannot be approved as it is. Deny it with a reason (for example, that the person already has an account), or ask the person to register with another work email.",
                    r.email
                ))),
                Err(e) => {
                    tracing::error!(error = %e, "approval failed");
                    Err(Refused::Unavailable)
                }
            }
        }
        "deny" => {
            let reason = reason_problem(&f.reason).map_err(Refused::Reason)?;
            match state
                .store
                .deny_registration(r.id, s.user_id(), reason, &denial_for(r, reason, now))
                .await
            {
                Ok(true) => {
                    audit::security(
                        state,
                        Some(s),
                        "registration.deny",
                        "registration",
                        &id,
                        "ok",
                    )
                    .await;
                    Ok(Decided::Denied)
                }
                Ok(false) => Ok(Decided::Taken),
                Err(e) => {
                    tracing::error!(error = %e, "denial failed");
                    Err(Refused::Unavailable)
                }
            }
        }
        _ => Err(Refused::Page("Choose approve or deny.".into())),
    }
}
