//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn list() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn detail() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
