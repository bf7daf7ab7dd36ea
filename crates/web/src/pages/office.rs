//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn users() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn set_status() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn set_claims() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn decide() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
