//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn page() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn change_password() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn new_recovery_codes() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn end_other_sessions() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn claims_form() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn claims_submit() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn tin_form() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn tin_submit() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
