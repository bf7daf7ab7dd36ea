//! Cross-site request forgery defence on every state-changing request, in two layers (OWASP CSRF
//! cheat sheet): the browser's own word on where the request came from (`Sec-Fetch-Site`, else
//! `Origin` compared with `Host`), and, for any request carrying a session, the session's
//! synchronizer token in the `X-CSRF-Token` header or a `_csrf` form field. The session cookie
//! is also `SameSite=Strict`.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::HeaderMap;
use axum::http::header;

/// Form field and header that carry the token.
pub const FIELD: &str = "_csrf";
pub const HEADER: &str = "x-csrf-token";

/// Refuses requests a browser says came from another site. Requests with neither header come
/// from non-browser clients, which carry no ambient cookies an attacker could ride on; if they
/// carry a session, the token check still applies.
pub fn check_origin(headers: &HeaderMap, behind_tls: bool) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err("sec-fetch-site is not same-origin"),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(if behind_tls {
            "x-forwarded-host"
        } else {
            "host"
        })
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
        _ => Err("origin does not match host"),
    }
}

/// Looks for the token in the header, then in a urlencoded or multipart body (read into memory
/// within the body limit and put back). Returns the request to pass on and whether it matched.
pub async fn check_token(req: Request, expected: String) -> (Request, bool) {
    if let Some(v) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        let ok = constant_time_eq(v.as_bytes(), expected.as_bytes());
        return (req, ok);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (parts, body) = req.into_parts();
    // The route's body limit (applied outside the guard) bounds what is read here.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return (Request::from_parts(parts, Body::empty()), false);
    };
    let found = if content_type.starts_with("application/x-www-form-urlencoded") {
        form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v.into_owned())
    } else if content_type.starts_with("multipart/form-data") {
        multipart_field(&parts.headers, bytes.clone()).await
    } else {
        None
    };
    let ok = found.is_some_and(|v| constant_time_eq(v.as_bytes(), expected.as_bytes()));
    (Request::from_parts(parts, Body::from(bytes)), ok)
}

async fn multipart_field(headers: &HeaderMap, bytes: axum::body::Bytes) -> Option<String> {
    let mut probe = Request::new(Body::from(bytes));
    *probe.headers_mut() = headers.clone();
    // The body was already read within the route's limit; axum's 2 MB default for multipart
    // would refuse a large scan or claims file here.
    axum::extract::DefaultBodyLimit::disable().apply(&mut probe);
    let mut form = Multipart::from_request(probe, &()).await.ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

/// Comparison whose time does not depend on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), false).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "cross-site")]), false).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-site")]), false).is_err());
        let same = headers(&[
            ("origin", "http://portal.test:8080"),
            ("host", "portal.test:8080"),
        ]);
        assert!(check_origin(&same, false).is_ok());
        let evil = headers(&[("origin", "https://evil.test"), ("host", "portal.test")]);
        assert!(check_origin(&evil, false).is_err());
        assert!(check_origin(&headers(&[("origin", "null"), ("host", "p")]), false).is_err());
        assert!(
            check_origin(&HeaderMap::new(), false).is_ok(),
            "non-browser client"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
