//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn form() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn submit() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn activate_form() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn activate_submit() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
