//! The router against a real SQLite store in a temporary directory (and a failing fake for the
//! unhealthy case), driven in-process with `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::sync::Arc;
use tower::ServiceExt as _;

struct App {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

async fn app(behind_tls: bool) -> App {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let store = storage::open(&url).await.unwrap();
    App {
        router: web::router(web::AppState::new(store, behind_tls)),
        _dir: dir,
    }
}

async fn get(router: &axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn healthz_reports_the_backend() {
    let app = app(false).await;
    let (status, headers, body) = get(&app.router, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, serde_json::json!({"status": "ok", "database": "sqlite"}));
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_down() {
    let router = web::router(web::AppState::new(Arc::new(fake::Down), false));
    let (status, _, body) = get(&router, "/healthz").await;
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
    let app = app(false).await;
    for path in ["/", "/healthz", "/no/such/page"] {
        let (_, h, _) = get(&app.router, path).await;
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
    let (_, h, _) = get(&app.router, "/").await;
    assert_eq!(h[header::CACHE_CONTROL], "no-store");

    let tls = app_with_tls().await;
    let (_, h, _) = get(&tls.router, "/").await;
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
    let app = app(false).await;
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

async fn app_with_tls() -> App {
    app(true).await
}

#[tokio::test]
async fn home_page_has_layout_and_live_figures() {
    let app = app(false).await;
    let (status, h, body) = get(&app.router, "/").await;
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
    assert!(
        !body.contains("<script"),
        "no scripts yet, and never inline"
    );
    assert!(!body.contains("style="), "no inline styles (CSP)");

    // The stylesheet it links is served, with a long cache.
    let css = body
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with(".css")))
        .expect("stylesheet link")
        .to_string();
    let (status, h, _) = get(&app.router, &css).await;
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
    let app = app(false).await;
    let (status, h, body) = get(&app.router, "/claims/123?member=X").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("Page not found"));
    assert!(body.contains("aria-label=\"Main\""), "404 uses the layout");
    let (status, _, _) = get(&app.router, "/assets/portal.00000000.css").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A store whose database is unreachable.
mod fake {
    use domain::account::OrgKind;
    use domain::audit::{AuditEntry, AuditEvent};
    use domain::auth::AuthRequest;
    use domain::claim::Claim;
    use domain::member::{Member, MemberContact};
    use domain::plan::HealthNetwork;
    use domain::provider::Provider;
    use domain::training::Training;
    use domain::{AuthNumber, ClaimNumber, MemberId, Npi};
    use storage::{
        AuditQuery, MemberRecord, NewMember, NewUser, PlanCounts, Result, StorageError, UserRecord,
    };

    pub struct Down;

    fn down<T>() -> Result<T> {
        Err(StorageError::Unavailable("connection refused".into()))
    }

    #[async_trait::async_trait]
    impl storage::Store for Down {
        fn backend(&self) -> &'static str {
            "sqlite"
        }
        async fn ping(&self) -> Result<()> {
            down()
        }
        async fn is_empty(&self) -> Result<bool> {
            down()
        }
        async fn counts(&self) -> Result<PlanCounts> {
            down()
        }
        async fn size_bytes(&self) -> Result<u64> {
            down()
        }
        async fn insert_networks(&self, _: &[HealthNetwork]) -> Result<()> {
            down()
        }
        async fn insert_providers(&self, _: &[Provider]) -> Result<()> {
            down()
        }
        async fn insert_members(&self, _: &[NewMember]) -> Result<()> {
            down()
        }
        async fn insert_claims(&self, _: &[Claim]) -> Result<()> {
            down()
        }
        async fn insert_auths(&self, _: &[AuthRequest]) -> Result<()> {
            down()
        }
        async fn insert_trainings(&self, _: &[Training]) -> Result<()> {
            down()
        }
        async fn create_org(&self, _: OrgKind, _: &str, _: Option<&str>) -> Result<i64> {
            down()
        }
        async fn create_user(&self, _: &NewUser) -> Result<i64> {
            down()
        }
        async fn networks(&self) -> Result<Vec<HealthNetwork>> {
            down()
        }
        async fn provider(&self, _: &Npi) -> Result<Option<Provider>> {
            down()
        }
        async fn member(&self, _: &MemberId) -> Result<Option<MemberRecord>> {
            down()
        }
        async fn find_members(&self, _: &str, _: chrono::NaiveDate) -> Result<Vec<Member>> {
            down()
        }
        async fn member_contact(&self, _: &MemberId) -> Result<Option<MemberContact>> {
            down()
        }
        async fn claim(&self, _: &ClaimNumber) -> Result<Option<Claim>> {
            down()
        }
        async fn auth(&self, _: &AuthNumber) -> Result<Option<AuthRequest>> {
            down()
        }
        async fn trainings(&self) -> Result<Vec<Training>> {
            down()
        }
        async fn user_by_username(&self, _: &str) -> Result<Option<UserRecord>> {
            down()
        }
        async fn audit(&self, _: &AuditEvent) -> Result<AuditEntry> {
            down()
        }
        async fn audit_page(&self, _: i64, _: i64) -> Result<Vec<AuditEntry>> {
            down()
        }
        async fn audit_head(&self) -> Result<(i64, String)> {
            down()
        }
        async fn audit_search(&self, _: &AuditQuery) -> Result<Vec<AuditEntry>> {
            down()
        }
    }
}
