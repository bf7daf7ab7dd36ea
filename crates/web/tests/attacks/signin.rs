//! Sign-in attacks (finding 2 and the sign-in parts of 9): bypassing the lockout to guess the
//! one-time code, telling which accounts exist or are locked, learning that a registration is
//! pending, and using an open session to replace the second factor.
//!
//! The code attacks are made by someone who has the password (phished or reused): the second
//! factor is then all that protects the account, and the lockout must bound the guesses at five
//! per account per 15 minutes whatever the number of sessions or addresses.

use crate::harness::{Client, PASSWORD, Portal, Resp, code_for, text_of};
use chrono::Utc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use web::auth::ratelimit::Limits;

/// A code no authenticator shows now (checked against the secret's real codes around now).
fn wrong_code(secret: &str) -> String {
    let now = Utc::now().timestamp() as u64 / 30;
    let real: Vec<String> = (now - 2..=now + 2).map(|s| code_for(secret, s)).collect();
    (0..1_000_000u32)
        .map(|n| format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
        .find(|c| !real.contains(c))
        .unwrap()
}

/// The portal with per-address limits out of the way: an attacker with as many addresses as
/// needed, so only the per-account lockout stands.
async fn portal_without_address_limits() -> Portal {
    Portal::start_with(|s| {
        s.limits = Arc::new(Limits::new(
            100_000,
            Duration::from_millis(1),
            100_000,
            Duration::from_millis(1),
        ));
    })
    .await
}

/// A client from its own (claimed) address.
fn from_address(portal: &Portal, n: u32) -> Client {
    let mut c = portal.stranger();
    c.extra_headers
        .push(("x-forwarded-for".into(), format!("198.51.100.{}", n % 250)));
    c
}

/// The password step, then the code form (for its CSRF token): a pending sign-in.
async fn pending(c: &mut Client, username: &str) -> Resp {
    let r = c.password_step(username, PASSWORD).await;
    assert_eq!(r.status, 303, "the attacker has the password: {}", r.body);
    assert!(r.location().starts_with("/login/code"), "{}", r.location());
    c.get("/login/code").await
}

/// Code guesses the portal actually checked (each wrong one is audited as `mfa.failure`).
async fn checked_guesses(portal: &Portal) -> usize {
    portal
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "mfa.failure")
        .count()
}

async fn enrolled(portal: &Portal, username: &str) -> String {
    let mut c = portal.sign_in(username).await;
    c.post_form("/logout", &[]).await;
    portal.secret(username)
}

/// A code the portal would take now: a step after the last one used, waiting for the clock.
async fn fresh_code(portal: &Portal, username: &str, secret: &str) -> String {
    loop {
        let now = Utc::now().timestamp() as u64 / 30;
        let last = portal.user(username).await.totp_last_step.unwrap_or(0);
        if last < now + 1 {
            return code_for(secret, now.max(last + 1));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn locked(portal: &Portal, username: &str) -> bool {
    portal.user(username).await.throttle.is_locked(Utc::now())
}

/// Bypass: the correct password reset the failure count before the code step, so "password,
/// four wrong codes, password again" never locked.
#[tokio::test]
async fn password_again_does_not_reset_the_code_guesses() {
    let portal = portal_without_address_limits().await;
    let secret = enrolled(&portal, "relations").await;
    let bad = wrong_code(&secret);
    for round in 0..3 {
        let mut c = portal.stranger();
        if c.password_step("relations", PASSWORD).await.status != 303 {
            break; // locked: the password step refuses
        }
        c.get("/login/code").await;
        for _ in 0..4 {
            c.post_form("/login/code", &[("code", &bad)]).await;
        }
        assert!(
            checked_guesses(&portal).await <= 5,
            "round {round}: more than five code guesses were checked"
        );
    }
    assert_eq!(checked_guesses(&portal).await, 5);
    assert!(
        locked(&portal, "relations").await,
        "the fifth wrong code locks"
    );
}

/// Bypass: the lockout ended only the session that caused it; another pending session of the
/// same account kept guessing.
#[tokio::test]
async fn a_lockout_ends_every_pending_session() {
    let portal = portal_without_address_limits().await;
    let secret = enrolled(&portal, "relations").await;
    let bad = wrong_code(&secret);
    let mut first = from_address(&portal, 1);
    let mut second = from_address(&portal, 2);
    pending(&mut first, "relations").await;
    pending(&mut second, "relations").await;
    for _ in 0..5 {
        first.post_form("/login/code", &[("code", &bad)]).await;
    }
    assert!(locked(&portal, "relations").await);
    let r = second.post_form("/login/code", &[("code", &bad)]).await;
    assert_eq!(checked_guesses(&portal).await, 5, "{}", r.body);
    assert!(
        second
            .get("/login/code")
            .await
            .location()
            .starts_with("/login"),
        "the other pending session is over"
    );
}

/// Bypasses: the code step did not look at the lock, and a correct code on a locked account
/// signed in and cleared the lock.
#[tokio::test]
async fn the_code_step_refuses_a_locked_account_even_the_right_code() {
    let portal = portal_without_address_limits().await;
    let secret = enrolled(&portal, "relations").await;
    let mut attacker = from_address(&portal, 7);
    pending(&mut attacker, "relations").await;
    let mut waiting = from_address(&portal, 9);
    pending(&mut waiting, "relations").await;
    // Meanwhile the account locks (five wrong passwords from anywhere).
    let mut other = from_address(&portal, 8);
    for _ in 0..5 {
        other.password_step("relations", "not the password").await;
    }
    assert!(locked(&portal, "relations").await);

    let r = attacker
        .post_form("/login/code", &[("code", &wrong_code(&secret))])
        .await;
    assert_eq!(
        checked_guesses(&portal).await,
        0,
        "a locked account's code is not checked"
    );
    assert_ne!(r.status, 303);

    let right = fresh_code(&portal, "relations", &secret).await;
    let r = waiting.post_form("/login/code", &[("code", &right)]).await;
    assert!(
        !(r.status == 303 && r.location() == "/"),
        "the right code does not sign in while locked"
    );
    assert!(
        locked(&portal, "relations").await,
        "and does not clear the lock"
    );
}

/// Done-when: many pending sessions from different addresses, all guessing at once, get five
/// code guesses checked in all.
#[tokio::test]
async fn parallel_sessions_from_many_addresses_share_five_guesses() {
    let portal = portal_without_address_limits().await;
    let secret = enrolled(&portal, "relations").await;
    let bad = wrong_code(&secret);
    let mut sessions = Vec::new();
    for n in 0..8 {
        let mut c = from_address(&portal, 10 + n);
        pending(&mut c, "relations").await;
        sessions.push(c);
    }
    let mut guesses = tokio::task::JoinSet::new();
    for c in sessions {
        for _ in 0..5 {
            let mut c = c.clone();
            let bad = bad.clone();
            guesses.spawn(async move { c.post_form("/login/code", &[("code", &bad)]).await });
        }
    }
    let mut answered = 0;
    while let Some(r) = guesses.join_next().await {
        assert_ne!(r.unwrap().status, 500);
        answered += 1;
    }
    assert_eq!(answered, 40);
    let checked = checked_guesses(&portal).await;
    assert!(
        checked <= 5,
        "{checked} code guesses checked across 8 sessions"
    );
    assert!(locked(&portal, "relations").await);
}

/// The error line and status of a refused password step.
fn refusal(r: &Resp) -> (u16, Option<String>) {
    (r.status, text_of(&r.body, "login-error"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Enumeration: locked and invited accounts answered in 2–6 ms (no argon2) against 35–110 ms,
/// and a locked account said so. Every refused password step now reads and takes alike.
#[tokio::test]
async fn unknown_locked_invited_and_deactivated_accounts_answer_alike() {
    let portal = portal_without_address_limits().await;
    // Locked: five wrong passwords.
    let mut c = portal.stranger();
    for _ in 0..5 {
        c.password_step("claims", "not the password").await;
    }
    assert!(locked(&portal, "claims").await);
    // Invited: an account whose person has not set a password yet.
    let office = portal.user("office").await;
    portal
        .store
        .create_user(&storage::NewUser {
            username: "invited.person@demo-office.test".into(),
            display_name: "Invited Person".into(),
            email: "invited.person@demo-office.test".into(),
            role: office.role,
            org_id: office.org_id,
            password_hash: String::new(),
            status: domain::account::UserStatus::Invited,
            phone: String::new(),
            claims: false,
        })
        .await
        .unwrap();
    let network = portal.user("network").await;
    portal
        .store
        .set_user_status(
            network.id,
            domain::account::UserStatus::Deactivated,
            &storage::StatusChange {
                authority: domain::account::StatusAuthority::Plan,
                user_id: None,
                at: Utc::now(),
            },
            None,
        )
        .await
        .unwrap();

    let cases = [
        ("unknown", "nobody-at-all", "a guess"),
        ("wrong password", "reviewer", "a guess"),
        ("locked", "claims", "a guess"),
        ("locked, right password", "claims", PASSWORD),
        ("invited", "invited.person@demo-office.test", "a guess"),
        ("deactivated", "network", PASSWORD),
    ];
    // One warm-up, then the cases taken in turn, so that load on the machine falls on all alike.
    portal.stranger().password_step("warm-up", "x").await;
    let mut times = vec![Vec::new(); cases.len()];
    let mut answers = vec![None; cases.len()];
    for _ in 0..7 {
        for (i, (label, user, password)) in cases.iter().enumerate() {
            let mut c = portal.stranger();
            let t = Instant::now();
            let r = c.password_step(user, password).await;
            times[i].push(t.elapsed());
            assert!(r.header("set-cookie").is_none(), "{label}: no session");
            answers[i] = Some((*label, refusal(&r)));
        }
    }
    let answers: Vec<_> = answers.into_iter().flatten().collect();
    let medians: Vec<_> = cases
        .iter()
        .zip(times)
        .map(|((label, _, _), t)| (*label, median(t)))
        .collect();
    eprintln!("median password-step times: {medians:?}");
    let first = &answers[0].1;
    for (label, a) in &answers {
        assert_eq!(a, first, "{label} answers differently from an unknown name");
    }
    let slowest = medians.iter().map(|m| m.1).max().unwrap();
    for (label, m) in &medians {
        assert!(
            *m * 3 >= slowest,
            "{label} answers in {m:?}, against {slowest:?} for the slowest: {medians:?}"
        );
    }
}

/// Enumeration: `/register` said that a request from this email for this TIN was already
/// waiting. The second registration now reads exactly like the first (the person is told by
/// email).
#[tokio::test]
async fn register_does_not_say_a_request_is_pending() {
    let portal = Portal::start().await;
    let office = seed::demo_office(&*portal.store).await.unwrap();
    let (npi, tin) = (office.npi.to_string(), office.tin.to_string());
    let email = "target.person@demo-office.test";
    let fields = [
        ("name", "Target Person"),
        ("email", email),
        ("phone", "(714) 555-0142"),
        ("npi", npi.as_str()),
        ("tin", tin.as_str()),
        ("office_name", "Demo Office"),
        ("role", "front_desk"),
    ];
    let first = portal
        .stranger()
        .post_multipart("/register", &fields, &[])
        .await;
    assert_eq!(first.status, 303, "{}", first.body);
    let second = portal
        .stranger()
        .post_multipart("/register", &fields, &[])
        .await;
    assert_eq!(
        (second.status, second.location()),
        (first.status, first.location()),
        "a second registration answers like the first: {}",
        second.body
    );
    assert!(!second.body.contains("already waiting"));
    let mail = portal.store.outbox(50).await.unwrap();
    assert!(
        mail.iter().any(|m| m.to_addr == email),
        "the person learns of the earlier request by email"
    );
}

/// Takeover from an open session: new recovery codes (and so a way in without the
/// authenticator) for whoever sits at the screen, without the password or a code.
#[tokio::test]
async fn recovery_codes_need_the_password_or_a_code() {
    let portal = portal_without_address_limits().await;
    let mut c = portal.sign_in("office").await;
    c.get("/account").await;
    let r = c.post_form("/account/recovery-codes", &[]).await;
    assert!(
        !r.body.contains("id=\"recovery-codes\""),
        "new codes without step-up"
    );
    let r = c
        .post_form("/account/recovery-codes", &[("stepup", "not my password")])
        .await;
    assert!(
        !r.body.contains("id=\"recovery-codes\""),
        "a wrong password"
    );
    let r = c
        .post_form("/account/recovery-codes", &[("stepup", PASSWORD)])
        .await;
    assert!(
        r.body.contains("id=\"recovery-codes\""),
        "the password confirms: {}",
        r.body
    );

    // Step-up guesses count toward the lockout: the attempt that locks ends the session.
    c.get("/account").await;
    for _ in 0..5 {
        c.post_form(
            "/account/recovery-codes",
            &[("stepup", "guess guess guess")],
        )
        .await;
    }
    assert!(locked(&portal, "office").await);
    assert!(c.get("/account").await.location().starts_with("/login"));
}

/// Takeover from a plan administrator's open session: resetting someone's two-step sign-in
/// (so that the next sign-in enrols a new authenticator) without re-authentication.
#[tokio::test]
async fn a_plan_admin_confirms_before_resetting_someones_mfa() {
    let portal = portal_without_address_limits().await;
    enrolled(&portal, "office").await;
    let target = portal.user("office").await;
    let mut admin = portal.session("planadmin").await;
    admin.get("/plan/users?q=office").await;
    let path = format!("/plan/users/{}/reset-mfa", target.id);
    admin.post_form(&path, &[]).await;
    assert!(
        portal.user("office").await.totp_secret.is_some(),
        "reset without step-up"
    );
    admin.post_form(&path, &[("stepup", PASSWORD)]).await;
    assert!(portal.user("office").await.totp_secret.is_none());
}
