//! `Page`: the state and the signed-in user in one extractor, for every signed-in handler.

use crate::AppState;
use crate::auth::Signed;
use crate::pages::Chrome;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

pub struct Page {
    pub state: AppState,
    pub signed: Signed,
}

impl Page {
    /// The layout for this user, with the navigation entry `current` marked.
    pub fn chrome(&self, title: impl Into<String>, current: &'static str) -> Chrome {
        Chrome::signed(&self.state, &self.signed, title, current)
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let signed = Signed::from_request_parts(parts, state).await?;
        Ok(Page {
            state: state.clone(),
            signed,
        })
    }
}
