//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn search() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn reset_mfa() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn unlock() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn set_status() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
