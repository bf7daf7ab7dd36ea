//! Security headers on every response, HTML or not.
//!
//! The policy forbids inline scripts and styles, framing, foreign origins and form posts
//! elsewhere; pages must therefore load their CSS and scripts from `/assets/`. HTML is never
//! cached (it will show member data); assets set their own long cache. HSTS is sent only when a
//! TLS proxy fronts the portal (`behind_tls`), since over plain HTTP it would be ignored or, worse,
//! pin a development host to HTTPS.

use axum::Router;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::response::Response;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const FIXED: [(HeaderName, &str); 6] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Uploaded documents (affiliation proofs) are served under this policy: a sandbox with no
/// scripts, no same-origin access and nothing loaded, whatever the file turns out to hold.
pub const DOCUMENT_POLICY: &str = "sandbox; default-src 'none'; img-src 'self'";

/// Marks a response as an uploaded document (see [`DOCUMENT_POLICY`]).
#[derive(Clone, Copy)]
pub struct DocumentPolicy;

const HSTS: &str = "max-age=31536000; includeSubDomains";

pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, behind_tls: bool) -> Router<S> {
    router.layer(axum::middleware::map_response(
        move |mut res: Response| async move {
            let h = res.headers_mut();
            for (name, value) in FIXED {
                h.insert(name, HeaderValue::from_static(value));
            }
            if res.extensions().get::<DocumentPolicy>().is_some() {
                res.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(DOCUMENT_POLICY),
                );
            }
            let h = res.headers_mut();
            if behind_tls {
                h.insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(HSTS),
                );
            }
            let is_html = h
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            if is_html || !h.contains_key(header::CACHE_CONTROL) {
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            res
        },
    ))
}
