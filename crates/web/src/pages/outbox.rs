//! PLACEHOLDER: replaced by the real pages.

use axum::http::StatusCode;

pub async fn page() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
