//! CSV files the portal hands out: cells that a spreadsheet could run as a formula are
//! neutralised, and downloads say they are attachments.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A cell as a spreadsheet will not run it: text starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading apostrophe (OWASP "CSV Injection"). Usernames typed at the
/// sign-in form reach the trail unchecked, so this matters. Exact values: `portal audit export`.
pub fn csv_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// A CSV download, never cached (most carry member data): `filename` must be ours (letters,
/// digits, dashes), never typed by a user.
pub fn attachment(filename: &str, bytes: Vec<u8>) -> Response {
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
