//! The messages the portal queued for people (registration decisions, activation links), for
//! plan staff to read. One-time links are masked (see `crate::mail`): they go only to the
//! recipient's transport. Opening the outbox is audited.

use crate::AppState;
use crate::auth::Signed;
use crate::kit::format::pacific;
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub struct MessageView {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created: String,
    pub sent: Option<String>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub chrome: Chrome,
    pub messages: Vec<MessageView>,
    pub limit: i64,
}

/// Messages listed, newest first.
const LIMIT: i64 = 200;

/// `GET /plan/outbox`: the newest messages, each readable in full.
pub async fn page(State(state): State<AppState>, s: Signed) -> Response {
    let list = match state.store.outbox(LIMIT).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "outbox unavailable");
            return errors::unavailable(&state);
        }
    };
    crate::audit::security(&state, Some(&s), "outbox.view", "outbox", "", "ok").await;
    render(
        StatusCode::OK,
        &OutboxPage {
            chrome: Chrome::signed(&state, &s, "Outbox", "/plan/outbox"),
            messages: list
                .into_iter()
                .map(|m| MessageView {
                    id: m.id,
                    to: m.to_addr,
                    subject: m.subject,
                    // Masked at the source; again here for anything queued before that.
                    body: crate::mail::mask_links(&m.body),
                    created: pacific(m.created_at),
                    sent: m.sent_at.map(pacific),
                })
                .collect(),
            limit: LIMIT,
        },
    )
}
