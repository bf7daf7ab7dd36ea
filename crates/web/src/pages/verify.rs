//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn queue() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn detail() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn decide() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn upload_proof() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}

pub async fn proof() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
