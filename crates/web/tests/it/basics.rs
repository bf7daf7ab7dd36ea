//! What every response has: health, security headers, limits, the layout, the 404 page.

use crate::common::App;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt as _;

async fn get(app: &App, path: &str) -> (StatusCode, HeaderMap, String) {
    let r = app.get(path, None).await;
    (r.status, r.headers, r.body)
}

#[tokio::test]
async fn healthz_reports_the_backend() {
    let app = App::new().await;
    let (status, headers, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, serde_json::json!({"status": "ok", "database": "sqlite"}));
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_down() {
    let app = App::empty().await;
    app.store.close().await;
    let (status, _, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, serde_json::json!({"status": "unavailable"}));
}

const EXPECTED: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = App::new().await;
    for path in ["/", "/healthz", "/no/such/page"] {
        let (_, h, _) = get(&app, path).await;
        for (name, value) in EXPECTED {
            assert_eq!(
                h.get(*name).and_then(|v| v.to_str().ok()),
                Some(*value),
                "{name} on {path}"
            );
        }
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS without TLS"
        );
        assert!(h.get("x-request-id").is_some(), "request id on {path}");
    }
    let (_, h, _) = get(&app, "/").await;
    assert_eq!(h[header::CACHE_CONTROL], "no-store");

    let tls = App::with_tls(true).await;
    let (_, h, _) = get(&tls, "/").await;
    assert!(
        h["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

/// A body over the limit is refused before it is read, and the refusal still carries the headers.
#[tokio::test]
async fn oversized_bodies_get_413_with_the_security_headers() {
    let app = App::new().await;
    let res = app
        .router
        .clone()
        .oneshot(
            Request::post("/")
                .header(header::CONTENT_LENGTH, 8 * 1024 * 1024)
                .body(Body::from(vec![b'x'; 8 * 1024 * 1024]))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    for (name, value) in EXPECTED {
        assert_eq!(
            res.headers().get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{name} on the 413"
        );
    }
}

#[tokio::test]
async fn home_page_has_layout_and_live_figures() {
    let app = App::new().await;
    let (status, h, body) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    for needle in [
        "<title>Home · Provider Portal</title>",
        "href=\"#main\"",
        "<nav class=\"main-nav\" aria-label=\"Main\">",
        "aria-current=\"page\"",
        "<main id=\"main\"",
        "Medi-Cal",
        "OneCare (HMO D-SNP)",
        "OneCare Connect",
        "PACE",
        "Providers in the directory",
        "Database: sqlite",
    ] {
        assert!(body.contains(needle), "home page lacks {needle:?}");
    }
    for tag in body.split("<script").skip(1) {
        assert!(
            tag.trim_start().starts_with("src=\"/assets/"),
            "scripts come from /assets, never inline"
        );
    }
    assert!(!body.contains("style="), "no inline styles (CSP)");

    // The stylesheet it links is served, with a long cache.
    let css = body
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with(".css")))
        .expect("stylesheet link")
        .to_string();
    let (status, h, _) = get(&app, &css).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        h[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn unknown_paths_get_the_404_page_in_the_layout() {
    let app = App::new().await;
    let (status, h, body) = get(&app, "/no/such/page?member=X").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("Page not found"));
    assert!(body.contains("aria-label=\"Main\""), "404 uses the layout");
    let (status, _, _) = get(&app, "/assets/portal.00000000.css").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
