//! Sign-in over HTTP as a browser does it: password, MFA enrolment on first sign-in, recovery
//! codes, the one-time code on later sign-ins, replay refusal, lockout, sign-out.

use crate::common::{App, PASSWORD, Resp, Session, text_of};
use axum::http::StatusCode;
use chrono::Utc;

fn now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap()
}

/// Follows a response's cookie, keeping the old session when none was set.
fn carry(r: &Resp, old: Option<Session>) -> Option<Session> {
    r.new_session().or(old)
}

/// The CSRF token in a page's forms.
fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &html[at + 20..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn password_step(app: &App, username: &str, password: &str) -> Resp {
    app.post(
        "/login",
        None,
        &[("username", username), ("password", password)],
    )
    .await
}

/// First sign-in of a demo account: password, then enrolment. Returns the full session and the
/// TOTP secret.
pub async fn enrol(app: &App, username: &str) -> (Session, String, Vec<String>) {
    let r = password_step(app, username, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        "/mfa/enrol",
        "no MFA yet: enrolment comes first"
    );
    let mut pending = r.new_session().expect("a pending session");
    let page = app.get("/mfa/enrol", Some(&pending)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "a QR code");
    let secret: String = text_of(&page.body, "totp-secret")
        .unwrap()
        .split_whitespace()
        .collect();
    pending.csrf = csrf_in(&page.body);

    let wrong = app
        .post("/mfa/enrol", Some(&pending), &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("field-error"),
        "the message sits by the field"
    );

    let code = domain::mfa::code_at(&secret, now()).unwrap();
    let done = app
        .post("/mfa/enrol", Some(&pending), &[("code", &code)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let codes: Vec<String> = done
        .body
        .split("<li>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .filter(|c| c.len() == 14)
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes shown once");
    let mut full = done.new_session().expect("a full session after enrolment");
    assert_ne!(
        full.token, pending.token,
        "the session id changes at each sign-in step"
    );
    let home = app.get("/", Some(&full)).await;
    full.csrf = csrf_in(&home.body);
    (full, secret, codes)
}

#[tokio::test]
async fn first_sign_in_enrols_mfa_then_later_sign_ins_need_a_fresh_code() {
    let app = App::new().await;
    let (full, secret, codes) = enrol(&app, "office").await;
    let home = app.get("/", Some(&full)).await;
    assert!(
        home.body.contains("Welcome, Olivia Office"),
        "the office home"
    );

    // The pending session of the first step is gone.
    let r = app.post("/logout", Some(&full), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = app.get("/account", Some(&full)).await;
    assert!(
        after.location().starts_with("/login"),
        "sign-out ended the session server-side"
    );

    // Second sign-in: password, then the next step's code (the enrolment used this step's).
    let r = password_step(&app, "office", PASSWORD).await;
    assert!(r.location().starts_with("/login/code"), "{}", r.location());
    let mut pending = carry(&r, None).unwrap();
    let page = app.get("/login/code", Some(&pending)).await;
    pending.csrf = csrf_in(&page.body);
    // The very step the enrolment confirmed (not "now": a 30-second boundary may have passed).
    let used = app
        .store
        .user_by_username("office")
        .await
        .unwrap()
        .unwrap()
        .totp_last_step
        .expect("the enrolment's step is recorded");
    let reused = domain::mfa::code_at(&secret, used * 30).unwrap();
    let r = app
        .post("/login/code", Some(&pending), &[("code", &reused)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the enrolment's code cannot sign in again"
    );
    assert!(r.body.contains("already used"));

    let next = domain::mfa::code_at(&secret, now() + 30).unwrap();
    let r = app
        .post("/login/code", Some(&pending), &[("code", &next)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let full = r.new_session().unwrap();
    assert_ne!(full.token, pending.token);
    assert_eq!(
        app.get("/account", Some(&full)).await.status,
        StatusCode::OK
    );
    assert!(
        app.get("/account", Some(&pending))
            .await
            .location()
            .starts_with("/login"),
        "the pending session id is dead after the code step"
    );

    // Replay of the same code on a new sign-in is refused.
    let r = password_step(&app, "office", PASSWORD).await;
    let mut again = r.new_session().unwrap();
    again.csrf = csrf_in(&app.get("/login/code", Some(&again)).await.body);
    let r = app
        .post("/login/code", Some(&again), &[("code", &next)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("already used"));

    // A recovery code works once.
    let r = app
        .post("/login/code", Some(&again), &[("code", &codes[3])])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = password_step(&app, "office", PASSWORD).await;
    let mut third = r.new_session().unwrap();
    third.csrf = csrf_in(&app.get("/login/code", Some(&third)).await.body);
    let lower = codes[3].to_lowercase();
    let r = app
        .post("/login/code", Some(&third), &[("code", &lower)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a recovery code is used up"
    );

    let actions = app.audit_actions().await;
    for a in [
        "login.password_ok",
        "mfa.enrol",
        "login.success",
        "logout",
        "mfa.replay",
        "mfa.recovery_code_used",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "audit lacks {a}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let app = App::new().await;
    let refusal = |r: &Resp| text_of(&r.body, "login-error").expect("an error line");
    let unknown = password_step(&app, "nobody-here", "x").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let wrong = refusal(&unknown);
    assert!(wrong.contains("not correct"));
    for i in 1..=5 {
        let r = password_step(&app, "claims", "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            refusal(&r),
            wrong,
            "attempt {i}: the same words as for an unknown name, the locking one too"
        );
    }
    let r = password_step(&app, "claims", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "locked: the right password does not help"
    );
    assert_eq!(
        refusal(&r),
        wrong,
        "and it does not say the account is locked"
    );
    assert!(r.new_session().is_none());
    let user = app.user("claims").await;
    assert!(
        user.throttle.is_locked(Utc::now()),
        "the lock is in the database"
    );

    let actions = app.audit_actions().await;
    assert_eq!(actions.iter().filter(|a| *a == "login.failure").count(), 6);
    assert!(actions.iter().any(|a| a == "account.lockout"));
    assert!(actions.iter().any(|a| a == "login.refused_locked"));
}

#[tokio::test]
async fn wrong_one_time_codes_count_toward_the_lockout() {
    let app = App::new().await;
    let (_, _, _) = enrol(&app, "relations").await;
    let r = password_step(&app, "relations", PASSWORD).await;
    let mut pending = r.new_session().unwrap();
    pending.csrf = csrf_in(&app.get("/login/code", Some(&pending)).await.body);
    for _ in 0..4 {
        let r = app
            .post("/login/code", Some(&pending), &[("code", "123456")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .post("/login/code", Some(&pending), &[("code", "123456")])
        .await;
    assert!(r.body.contains("locked"), "{}", r.body);
    let r = app.get("/login/code", Some(&pending)).await;
    assert!(
        r.location().starts_with("/login"),
        "the pending session ended with the lock"
    );
}

#[tokio::test]
async fn deactivated_and_invited_accounts_cannot_sign_in() {
    let app = App::new().await;
    let user = app.user("network").await;
    let live = app.session("network").await;
    app.store
        .set_user_status(
            user.id,
            domain::account::UserStatus::Deactivated,
            &storage::StatusChange {
                authority: domain::account::StatusAuthority::Plan,
                user_id: None,
                at: chrono::Utc::now(),
            },
            None,
        )
        .await
        .unwrap();
    let r = app.get("/account", Some(&live)).await;
    assert!(
        r.location().starts_with("/login"),
        "deactivation ended the session"
    );
    let r = password_step(&app, "network", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.new_session().is_none());
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_address() {
    // The default burst, refilled more slowly than 25 sign-in checks take on a loaded machine.
    let limits = web::auth::ratelimit::Limits::new(
        20,
        std::time::Duration::from_secs(3600),
        10,
        std::time::Duration::from_secs(30),
    );
    let app = App::build(false, Some(limits)).await;
    let mut limited = None;
    for i in 0..25 {
        let r = password_step(&app, &format!("nobody{i}"), "x").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, r));
            break;
        }
    }
    let (i, r) = limited.expect("the limit applies");
    assert_eq!(i, 20, "a burst of 20 is allowed");
    assert!(r.headers.get("retry-after").is_some());
    assert!(r.body.contains("Too many attempts"));
    // Other pages are not limited.
    assert_eq!(app.get("/login", None).await.status, StatusCode::OK);
}

/// Two sign-ins that both passed the password before the account had two-step sign-in reach
/// the enrolment page with different secrets: the first to confirm enrols the account; the
/// second is sent back to sign in and replaces nothing (its secret is not the account's).
#[tokio::test]
async fn a_second_enrolment_cannot_replace_the_first() {
    let app = App::new().await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let r = password_step(&app, "network", PASSWORD).await;
        assert_eq!(r.location(), "/mfa/enrol");
        let mut pending = r.new_session().unwrap();
        let page = app.get("/mfa/enrol", Some(&pending)).await;
        let secret: String = text_of(&page.body, "totp-secret")
            .unwrap()
            .split_whitespace()
            .collect();
        pending.csrf = csrf_in(&page.body);
        sessions.push((pending, secret));
    }
    assert_ne!(
        sessions[0].1, sessions[1].1,
        "one secret per enrolment attempt"
    );
    let (first, first_secret) = &sessions[0];
    let code = domain::mfa::code_at(first_secret, now()).unwrap();
    let done = app
        .post("/mfa/enrol", Some(first), &[("code", &code)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    let (second, second_secret) = &sessions[1];
    let code = domain::mfa::code_at(second_secret, now()).unwrap();
    let late = app
        .post("/mfa/enrol", Some(second), &[("code", &code)])
        .await;
    assert_eq!(late.status, StatusCode::SEE_OTHER, "{}", late.body);
    assert_eq!(late.location(), "/login", "it starts over");
    let user = app
        .store
        .user_by_username("network")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user.totp_secret.as_deref(),
        Some(first_secret.as_str()),
        "the first enrolment stands"
    );
    assert!(
        app.store.session(&second.hash()).await.unwrap().is_none(),
        "the late enrolment's session is ended"
    );
}
