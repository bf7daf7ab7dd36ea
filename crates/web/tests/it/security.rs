//! Session limits, CSRF, the claims entitlement, audit of reads, headers, and no PHI in logs.

use crate::common::{App, Session};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use domain::access::Scope;
use domain::session::{new_token, token_hash};
use storage::NewSession;

#[tokio::test]
async fn fifteen_idle_minutes_end_the_session_server_side() {
    let app = App::new().await;
    let s = app.session("office").await;
    assert_eq!(app.get("/account", Some(&s)).await.status, StatusCode::OK);

    // Fourteen idle minutes: still signed in (and the request refreshes the session).
    app.store
        .touch_session(&s.hash(), Utc::now() - Duration::minutes(14))
        .await
        .unwrap();
    assert_eq!(app.get("/account", Some(&s)).await.status, StatusCode::OK);
    let seen = app
        .store
        .session(&s.hash())
        .await
        .unwrap()
        .unwrap()
        .last_seen;
    assert!(
        Utc::now() - seen < Duration::minutes(1),
        "activity refreshed the idle timer"
    );

    app.store
        .touch_session(
            &s.hash(),
            Utc::now() - Duration::minutes(15) - Duration::seconds(1),
        )
        .await
        .unwrap();
    let r = app.get("/account", Some(&s)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/login?expired=1"),
        "{}",
        r.location()
    );
    assert!(
        app.store.session(&s.hash()).await.unwrap().is_none(),
        "ended in the database"
    );
    let login = app.get(r.location(), None).await;
    assert!(login.body.contains("15 minutes without activity"));
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|a| a == "session.expired")
    );

    // Pages of a signed-in user carry the timer and the warning for the script.
    let s = app.session("office").await;
    let page = app.get("/account", Some(&s)).await;
    assert!(page.body.contains("data-idle-seconds=\"900\""));
    assert!(page.body.contains("data-warn-seconds=\"120\""));
    assert!(page.body.contains("id=\"idle-warning\""));
}

#[tokio::test]
async fn twelve_hours_end_a_session_however_active() {
    let app = App::new().await;
    let user = app.user("office").await;
    let token = new_token();
    let csrf = new_token();
    app.store
        .create_session(&NewSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            stage: domain::session::SessionStage::Full,
            csrf: csrf.clone(),
            created_at: Utc::now() - Duration::hours(12) - Duration::seconds(1),
            source: "test".into(),
            user_agent: "test".into(),
        })
        .await
        .unwrap();
    app.store
        .touch_session(&token_hash(&token), Utc::now())
        .await
        .unwrap();
    let s = Session {
        name: "portal_session".into(),
        token,
        csrf,
    };
    let r = app.get("/account", Some(&s)).await;
    assert!(
        r.location().starts_with("/login?expired=1"),
        "{} {}",
        r.status,
        r.location()
    );
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_a_same_origin_request() {
    let app = App::new().await;
    let s = app.session("office").await;
    let path = "/account/sessions/end-others";

    let no_token = app
        .post_raw(path, Some(&s), &[], &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "no token");
    assert!(no_token.body.contains("did not come from this portal"));

    let wrong = app
        .post_raw(
            path,
            Some(&s),
            &[("_csrf", &new_token())],
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::FORBIDDEN,
        "another session's token"
    );

    let cross = app
        .post_raw(
            path,
            Some(&s),
            &[("_csrf", &s.csrf)],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "a cross-site form");

    let evil_origin = app
        .post_raw(
            path,
            Some(&s),
            &[("_csrf", &s.csrf)],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(
        evil_origin.status,
        StatusCode::FORBIDDEN,
        "a foreign Origin"
    );

    let header_token = app
        .post_raw(
            path,
            Some(&s),
            &[],
            &[("x-csrf-token", &s.csrf), ("origin", "http://portal.test")],
        )
        .await;
    assert_ne!(
        header_token.status,
        StatusCode::FORBIDDEN,
        "the header form (htmx, fetch)"
    );

    let ok = app.post(path, Some(&s), &[]).await;
    assert!(
        ok.status.is_redirection() || ok.status.is_success(),
        "{}",
        ok.status
    );

    // Sign-out is a state change too: a forged one leaves the session alone.
    let forged = app
        .post_raw(
            "/logout",
            Some(&s),
            &[],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/account", Some(&s)).await.status, StatusCode::OK);

    // A multipart form without the token is refused as well.
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let staff = app.session("relations").await;
    let r = app
        .send(
            Request::post("/plan/registrations/1/proof")
                .header(header::COOKIE, staff.cookie())
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "multipart without the token"
    );
}

#[tokio::test]
async fn claims_are_forbidden_until_the_entitlement_is_granted() {
    let app = App::new().await;
    let s = app.session("office").await;
    let home = app.get("/", Some(&s)).await;
    assert!(
        !home.body.contains("href=\"/claims\""),
        "no claims in the navigation"
    );
    assert!(
        home.body.contains("/account/claims-access"),
        "but the way to ask for it"
    );
    let r = app.get("/claims", Some(&s)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("separate access"));

    let user = app.user("office").await;
    app.store
        .set_claims_entitlement(user.id, true)
        .await
        .unwrap();
    let home = app.get("/", Some(&s)).await;
    assert!(
        home.body.contains("href=\"/claims\""),
        "claims now in the navigation"
    );
    assert_eq!(app.get("/claims", Some(&s)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_claim_read_is_audited_and_nothing_of_it_reaches_the_logs() {
    let app = App::new().await;
    let s = app.session("claims").await;
    let me = app.user("claims").await;
    let tin = app
        .store
        .org(me.org_id)
        .await
        .unwrap()
        .unwrap()
        .tin
        .unwrap();
    let claim = app
        .store
        .claims_in_scope(&Scope::Tins(vec![tin]), 1)
        .await
        .unwrap()
        .remove(0);
    let r = app
        .get(&format!("/claims/{}", claim.number), Some(&s))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains(&claim.member_name),
        "the page shows the member"
    );

    let trail = app.store.audit_page(0, 1000).await.unwrap();
    let read = trail
        .iter()
        .find(|e| e.event.action == "claim.read")
        .expect("the read is in the audit trail");
    assert_eq!(read.event.record_id, claim.number.to_string());
    assert_eq!(read.event.actor, Some(me.id));
    assert_eq!(read.event.org, Some(me.org_id));

    let logged = String::from_utf8_lossy(&crate::common::logs().lock().unwrap()).into_owned();
    assert!(
        logged.contains("/claims/{number}"),
        "requests are logged by route pattern: {logged}"
    );
    for phi in [
        claim.number.to_string(),
        claim.member_name.clone(),
        claim.member.to_string(),
    ] {
        assert!(!logged.contains(&phi), "application logs contain {phi:?}");
    }
}

#[tokio::test]
async fn signed_in_pages_and_refusals_carry_the_security_headers() {
    let app = App::with_tls(true).await;
    let s = app.session("office").await;
    for r in [
        app.get("/account", Some(&s)).await,
        app.get("/claims", Some(&s)).await,
        app.get("/login", None).await,
    ] {
        for name in [
            "content-security-policy",
            "x-frame-options",
            "x-content-type-options",
            "referrer-policy",
            "strict-transport-security",
        ] {
            assert!(
                r.headers.get(name).is_some(),
                "{name} missing on a {}",
                r.status
            );
        }
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    }
    // Behind TLS the cookie is Secure and host-bound.
    let r = app
        .post(
            "/login",
            None,
            &[
                ("username", "office"),
                ("password", crate::common::PASSWORD),
            ],
        )
        .await;
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-portal_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
}

/// Plan staff upload a 3 MB scanned letter: the CSRF check reads the multipart token past axum's
/// 2 MB default, the proof is stored, and it is served back sandboxed.
#[tokio::test]
async fn a_large_proof_upload_passes_the_token_check_and_is_served_sandboxed() {
    let app = App::new().await;
    let office = app.user("officeadmin").await;
    let tin = app
        .store
        .org(office.org_id)
        .await
        .unwrap()
        .unwrap()
        .tin
        .unwrap();
    let id = app
        .store
        .create_registration(&storage::NewRegistration {
            kind: domain::registration::RequestKind::Access,
            name: "Pat Newhire".into(),
            email: "pat@office.test".into(),
            phone: "7145550123".into(),
            npi: domain::Npi::parse("1234567893").unwrap(),
            tin,
            office_name: "Office".into(),
            office_role: domain::registration::OfficeRole::FrontDesk,
            user_id: None,
            note: String::new(),
            submitted_at: Utc::now(),
            source: "test".into(),
        })
        .await
        .unwrap();
    let staff = app.session("relations").await;
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(3 * 1024 * 1024, b' ');
    let boundary = "Bnd7";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"proof\"; filename=\"letter.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
        staff.csrf
    )
    .into_bytes();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .send(
            Request::post(format!("/plan/registrations/{id}/proof"))
                .header(header::COOKIE, staff.cookie())
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let docs = app.store.documents(id).await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(
        (docs[0].size, docs[0].media_type.as_str()),
        (3 * 1024 * 1024, "application/pdf")
    );
    let served = app
        .get(
            &format!("/plan/registrations/{id}/proof/{}", docs[0].id),
            Some(&staff),
        )
        .await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(
        served.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(
        served.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    // The same document under another registration's address is not there.
    let r = app
        .get(
            &format!("/plan/registrations/{}/proof/{}", id + 1, docs[0].id),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
