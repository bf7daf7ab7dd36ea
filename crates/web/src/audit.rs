//! Writing the audit trail from handlers. Two kinds of entry:
//! - [`phi_read`]: a read of member data. If it cannot be recorded the read does not happen
//!   (the caller returns the error page instead of the data).
//! - [`event`] / [`security`]: sign-in, lockout, MFA, approvals, entitlement changes. A failure
//!   to record is logged loudly but does not undo what was done.
//!
//! Entries name the record by its identifier only; application logs never see either.

use crate::AppState;
use crate::auth::Signed;
use axum::response::Response;
use domain::audit::AuditEvent;
use storage::Identity;

/// Who did it, as the trail records them.
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
    pub org: Option<i64>,
}

impl Actor {
    /// Nobody signed in (a registration, a failed sign-in with an unknown name).
    pub fn anonymous(name: &str) -> Self {
        Actor {
            id: None,
            name: name.chars().take(100).collect(),
            org: None,
        }
    }
}

impl From<&Identity> for Actor {
    fn from(i: &Identity) -> Self {
        Actor {
            id: Some(i.user.id),
            name: i.user.username.clone(),
            org: Some(i.org.id),
        }
    }
}

impl From<&Signed> for Actor {
    fn from(s: &Signed) -> Self {
        Actor::from(&s.identity)
    }
}

fn entry(
    actor: Actor,
    source: &str,
    action: &str,
    record_type: &str,
    record_id: &str,
    outcome: &str,
) -> AuditEvent {
    AuditEvent {
        actor: actor.id,
        actor_name: actor.name,
        org: actor.org,
        action: action.into(),
        record_type: record_type.into(),
        record_id: record_id.into(),
        outcome: outcome.into(),
        source: source.into(),
    }
}

/// A security or administrative event.
pub async fn event(
    state: &AppState,
    actor: Actor,
    source: &str,
    action: &str,
    record_type: &str,
    record_id: &str,
    outcome: &str,
) {
    let e = entry(actor, source, action, record_type, record_id, outcome);
    if let Err(err) = state.store.audit(&e).await {
        tracing::error!(error = %err, action, "AUDIT WRITE FAILED");
    }
}

/// A security event by the signed-in user (or nobody).
pub async fn security(
    state: &AppState,
    signed: Option<&Signed>,
    action: &str,
    record_type: &str,
    record_id: &str,
    outcome: &str,
) {
    let (actor, source) = match signed {
        Some(s) => (Actor::from(s), s.source.as_str()),
        None => (Actor::anonymous(""), ""),
    };
    event(
        state,
        actor,
        source,
        action,
        record_type,
        record_id,
        outcome,
    )
    .await;
}

/// Records a read of member data before it is shown; `Err` is the page to show instead.
pub async fn phi_read(
    state: &AppState,
    signed: &Signed,
    record_type: &str,
    record_id: &str,
) -> Result<(), Response> {
    let e = entry(
        Actor::from(signed),
        &signed.source,
        &format!("{record_type}.read"),
        record_type,
        record_id,
        "ok",
    );
    state.store.audit(&e).await.map(|_| ()).map_err(|err| {
        tracing::error!(error = %err, record_type, "AUDIT WRITE FAILED: read refused");
        crate::pages::errors::unavailable(state)
    })
}

/// Records reads of several members at once (a batch, a worklist page), in one transaction,
/// before they are shown; `Err` is the page to show instead.
pub async fn phi_reads(
    state: &AppState,
    signed: &Signed,
    action: &str,
    record_type: &str,
    record_ids: &[String],
) -> Result<(), Response> {
    let events: Vec<AuditEvent> = record_ids
        .iter()
        .map(|id| {
            entry(
                Actor::from(signed),
                &signed.source,
                action,
                record_type,
                id,
                "ok",
            )
        })
        .collect();
    state
        .store
        .audit_many(&events)
        .await
        .map(|_| ())
        .map_err(|err| {
            tracing::error!(error = %err, record_type, "AUDIT WRITE FAILED: read refused");
            crate::pages::errors::unavailable(state)
        })
}
