//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn search() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn export() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
