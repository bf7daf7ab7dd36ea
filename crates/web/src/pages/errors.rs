//! Error pages, in the layout, saying what happened and what to do.

use crate::AppState;
use crate::auth::Signed;
use crate::pages::{Chrome, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use domain::access::Permission;
use std::time::Duration;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub heading: String,
    pub message: String,
}

fn page(chrome: Chrome, status: StatusCode, heading: &str, message: String) -> Response {
    render(
        status,
        &ErrorPage {
            chrome,
            status: status.as_u16(),
            heading: heading.into(),
            message,
        },
    )
}

/// The fallback for unknown paths (outside the guard: no session is read).
pub async fn not_found(State(state): State<AppState>) -> Response {
    page(
        Chrome::new(&state, "Page not found", ""),
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address. It may have moved, or the link may be mistyped.".into(),
    )
}

/// A record that does not exist or that this user may not see: the same answer for both, so
/// the page does not reveal which.
pub fn no_such_record(state: &AppState, signed: &Signed, what: &str) -> Response {
    page(
        Chrome::signed(state, signed, "Not found", ""),
        StatusCode::NOT_FOUND,
        "Not found",
        format!("There is no {what} with that number, or it is not one your account may see."),
    )
}

/// A handler's [`PageError`](crate::kit::PageError), as a page in the layout.
pub fn page_error(
    state: &AppState,
    signed: Option<&Signed>,
    err: &crate::kit::PageError,
) -> Response {
    use crate::kit::PageError as E;
    match (err, signed) {
        (E::Unavailable, _) => unavailable(state),
        (E::NotFound(what), Some(s)) => no_such_record(state, s, what),
        (E::NotFound(what), None) => page(
            Chrome::new(state, "Not found", ""),
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no {what} with that number."),
        ),
        (E::BadRequest(message), s) => {
            let chrome = match s {
                Some(s) => Chrome::signed(state, s, "Cannot do that", ""),
                None => Chrome::new(state, "Cannot do that", ""),
            };
            bad_request(chrome, message)
        }
    }
}

pub fn forbidden(state: &AppState, signed: Option<&Signed>, needs: Permission) -> Response {
    let chrome = match signed {
        Some(s) => Chrome::signed(state, s, "Not allowed", ""),
        None => Chrome::new(state, "Not allowed", ""),
    };
    let message = match needs {
        Permission::ViewClaims | Permission::ViewRemittance => {
            "Claims inquiry is a separate access the plan grants on request. Ask for it from My account; your office administrator or the plan will review it.".to_string()
        }
        _ => "Your account does not have access to this page. If you need it, ask your office administrator or the plan's Provider Relations.".to_string(),
    };
    page(chrome, StatusCode::FORBIDDEN, "Not allowed", message)
}

pub fn csrf_refused(state: &AppState) -> Response {
    page(
        Chrome::new(state, "Request refused", ""),
        StatusCode::FORBIDDEN,
        "Request refused",
        "This form did not come from this portal's own page, or it expired. Go back, reload the page and try again.".into(),
    )
}

pub fn too_many(state: &AppState, wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let mut res = page(
        Chrome::new(state, "Too many attempts", ""),
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        format!("Too many attempts from your network address. Wait {secs} seconds and try again."),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

pub fn unavailable(state: &AppState) -> Response {
    page(
        Chrome::new(state, "Temporarily unavailable", ""),
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The portal cannot reach its database right now. Nothing was changed; try again in a minute.".into(),
    )
}

pub fn bad_request(chrome: Chrome, message: &str) -> Response {
    page(
        chrome,
        StatusCode::BAD_REQUEST,
        "Cannot do that",
        message.into(),
    )
}

/// A route's body limit: a request declaring a larger body gets a page saying how large it may
/// be; a body that turns out larger while read fails its read (the guard then refuses it).
pub async fn body_limit(
    State((state, limit)): State<(AppState, usize)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return page(
            Chrome::new(&state, "Too large", ""),
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            format!(
                "What was sent is larger than the {} MB this page accepts. Nothing was stored. Split the file into smaller ones and send each.",
                limit / (1024 * 1024)
            ),
        );
    }
    let req = req.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, limit)));
    next.run(req).await
}
