//! The messages the portal queued for people (registration decisions, activation links). With
//! no mail transport configured they stay queued; plan staff can read them here.

use crate::AppState;
use crate::auth::Signed;
use crate::pages::{Chrome, errors, pacific, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub struct MessageView {
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
}

pub async fn page(State(state): State<AppState>, s: Signed) -> Response {
    let list = match state.store.outbox(200).await {
        Ok(l) => l,
        Err(_) => return errors::unavailable(&state),
    };
    crate::audit::security(&state, Some(&s), "outbox.view", "outbox", "", "ok").await;
    render(
        StatusCode::OK,
        &OutboxPage {
            chrome: Chrome::signed(&state, &s, "Outbox", "/plan/outbox"),
            messages: list
                .into_iter()
                .map(|m| MessageView {
                    to: m.to_addr,
                    subject: m.subject,
                    body: m.body,
                    created: pacific(m.created_at),
                    sent: m.sent_at.map(pacific),
                })
                .collect(),
        },
    )
}
