//! What held when the portal was attacked, kept as tests so it keeps holding: another office's
//! records answer 404, a stranger reaches no signed-in page, state changes need the CSRF token
//! and a same-origin request, hostile input is escaped, and every answer carries the security
//! headers.

use crate::harness::Portal;

/// The first link to an authorization on the office's list.
fn first_authorization(list: &str) -> Option<String> {
    list.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|link| link.starts_with("/authorizations/A"))
        .map(str::to_string)
}

#[tokio::test]
async fn another_office_gets_not_found_for_an_authorization_it_did_not_request() {
    let portal = Portal::start().await;
    let mut office = portal.session("office").await;
    let list = office.get("/authorizations").await;
    assert_eq!(list.status, 200);
    let link = first_authorization(&list.body).expect("the demo office has authorizations");
    assert_eq!(
        office.get(&link).await.status,
        200,
        "its own office sees it"
    );

    let mut other = portal.session("office2").await;
    let r = other.get(&link).await;
    assert_eq!(r.status, 404, "another office: {link}");
    let missing = other.get("/authorizations/A999999999").await;
    assert_eq!(missing.status, 404);
    assert!(
        r.body.len().abs_diff(missing.body.len()) < 64,
        "someone else's record reads like one that does not exist"
    );
}

#[tokio::test]
async fn a_stranger_reaches_no_signed_in_page() {
    let portal = Portal::start().await;
    let mut stranger = portal.stranger();
    for path in [
        "/eligibility",
        "/claims",
        "/remittance",
        "/authorizations",
        "/plan/authorizations",
        "/plan/outbox",
        "/account",
    ] {
        let r = stranger.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(
            r.location().starts_with("/login"),
            "{path}: {}",
            r.location()
        );
    }
}

#[tokio::test]
async fn a_state_change_without_the_token_or_from_another_site_is_refused() {
    let portal = Portal::start().await;
    let mut office = portal.session("office").await;
    let good = office.csrf.clone();

    office.csrf = None;
    let r = office
        .post_form("/eligibility", &[("member_id", "x")])
        .await;
    assert_eq!(r.status, 403, "no token");

    office.csrf = good;
    let r = office
        .send(
            "POST",
            "/eligibility",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "cross-site"),
            ],
            format!("member_id=x&_csrf={}", office.csrf.clone().unwrap()).as_bytes(),
        )
        .await;
    assert_eq!(r.status, 403, "cross-site");
}

#[tokio::test]
async fn hostile_input_on_the_sign_in_form_is_escaped_and_answers_normally() {
    let portal = Portal::start().await;
    let mut stranger = portal.stranger();
    let hostile = "<script>alert(1)</script>' OR '1'='1' --";
    let r = stranger.password_step(hostile, "x' OR 1=1 --").await;
    assert_eq!(r.status, 401, "the form again, with an error");
    assert!(!r.body.contains("<script>alert(1)"), "escaped");
    assert!(
        r.body.contains("value=\"&#60;script&#62;alert(1)"),
        "kept in the field, escaped"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let portal = Portal::start().await;
    let mut stranger = portal.stranger();
    for path in ["/", "/login", "/no-such-page", "/healthz"] {
        let r = stranger.get(path).await;
        for h in [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
        ] {
            assert!(r.header(h).is_some(), "{path} lacks {h}");
        }
    }
}

#[tokio::test]
async fn a_session_signed_out_cannot_be_replayed() {
    let portal = Portal::start().await;
    let mut office = portal.sign_in("office").await;
    let stolen = office.cookies.clone();
    assert_eq!(office.get("/account").await.status, 200);
    let r = office.post_form("/logout", &[]).await;
    assert_eq!(r.status, 303);

    let mut replay = portal.stranger();
    replay.cookies = stolen;
    let r = replay.get("/account").await;
    assert_eq!(r.status, 303, "the old cookie no longer signs anyone in");
    assert!(r.location().starts_with("/login"));

    // Signing in again (now with a code) gives a new session, not the old one back.
    let again = portal.sign_in("office").await;
    assert_ne!(again.cookies, replay.cookies);
}
