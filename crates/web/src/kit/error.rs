//! One error type for pages. A handler returns `PageResult` and uses `?` on storage calls; the
//! response carries the error as an extension, and the guard (which knows the state and who is
//! signed in) renders it as a page in the layout. So the error branch is written once, here,
//! instead of in every handler.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What went wrong, as the user is told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The database could not be reached or answered an error: nothing was changed.
    Unavailable,
    /// A record that does not exist or this user may not see ("payment", "claim"): the same
    /// answer for both, so the page does not reveal which.
    NotFound(&'static str),
    /// A request the page cannot act on, said in words.
    BadRequest(String),
}

pub type PageResult<T = Response> = Result<T, PageError>;

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<storage::StorageError> for PageError {
    /// Logs where it happened and the error (storage errors carry no PHI: no values, only
    /// what failed), and tells the user nothing was changed.
    #[track_caller]
    fn from(e: storage::StorageError) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(error = %e, file = at.file(), line = at.line(), "storage call failed");
        PageError::Unavailable
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut res = self.status().into_response();
        res.extensions_mut().insert(self);
        res
    }
}
