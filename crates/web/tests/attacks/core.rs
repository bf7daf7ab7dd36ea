//! Attacks on the CAQH CORE endpoint (findings 1 and 8, and its part of 9): stalling the portal
//! with a hostile multipart body before signing in, locking a trading partner out with wrong
//! passwords, telling which partner accounts exist, and leaving no trace by being refused early.

use crate::harness::{Client, PASSWORD, Portal, Resp};
use std::sync::Arc;
use std::time::{Duration, Instant};
use web::auth::client::TrustedProxies;

const ID: &str = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

/// A complete RealTime envelope for `username`/`password` (its payload need not be valid X12:
/// the credentials are checked first).
fn envelope(username: &str, password: &str) -> (String, Vec<u8>) {
    edi::caqh::request_multipart(&[
        (
            "PayloadType",
            edi::caqh::payload::ELIGIBILITY_REQUEST.as_bytes(),
        ),
        ("ProcessingMode", b"RealTime"),
        ("PayloadID", ID.as_bytes()),
        ("TimeStamp", b"2026-12-07T10:00:00Z"),
        ("UserName", username.as_bytes()),
        ("Password", password.as_bytes()),
        ("SenderID", b"BILLER1"),
        ("ReceiverID", b"OCHP1"),
        ("CORERuleVersion", b"2.2.0"),
        ("Payload", b"ISA*00*"),
    ])
}

async fn post(c: &mut Client, path: &str, content_type: &str, body: &[u8]) -> Resp {
    c.send("POST", path, &[("content-type", content_type)], body)
        .await
}

/// The `name` part of a multipart answer.
fn field(r: &Resp, name: &str) -> String {
    let marker = format!("name=\"{name}\"\r\n\r\n");
    r.body
        .split_once(&marker)
        .and_then(|(_, rest)| rest.split("\r\n--").next())
        .unwrap_or("")
        .to_string()
}

/// Many tiny LF-only parts: the shape that cost the old parser quadratic time.
fn hostile_body(size: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(size + 64);
    while b.len() < size {
        b.extend_from_slice(b"--x\nContent-Disposition: form-data; name=\"a\"\n\nv\n");
    }
    b.extend_from_slice(b"--x--\n");
    b
}

/// Finding 1: one anonymous 1 MB POST took 6 s of CPU; two 2 MB POSTs made `/healthz` answer
/// after 46 s. Now hostile bodies are refused at once and the portal stays responsive.
#[tokio::test]
async fn hostile_multipart_bodies_do_not_stall_the_portal() {
    let portal = Portal::start().await;
    let ct = "multipart/form-data; boundary=x";
    let started = Instant::now();
    let mut attacks = Vec::new();
    for (path, size) in [
        ("/core/realtime", 1024 * 1024 - 64),
        ("/core", 6 * 1024 * 1024 - 64),
        ("/core", 6 * 1024 * 1024 - 64),
        ("/core/batch", 6 * 1024 * 1024 - 64),
    ] {
        let mut c = portal.stranger();
        attacks.push(tokio::spawn(async move {
            let r = post(&mut c, path, ct, &hostile_body(size)).await;
            (path, r)
        }));
    }
    // While they are in flight, the portal answers its health check promptly.
    let mut health = portal.stranger();
    let t = Instant::now();
    let h = health.get("/healthz").await;
    let health_took = t.elapsed();
    assert_eq!(h.status, 200);
    for a in attacks {
        let (path, r) = a.await.unwrap();
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(field(&r, "ErrorCode"), "PayloadTypeRequired", "{path}");
        assert!(
            field(&r, "ErrorMessage").contains("more than 32 parts"),
            "{path}: {}",
            field(&r, "ErrorMessage")
        );
    }
    let all_took = started.elapsed();
    eprintln!(
        "health check {health_took:?} while attacked; four hostile bodies answered in {all_took:?}"
    );
    assert!(
        health_took < Duration::from_secs(3),
        "the health check waited {health_took:?} behind hostile bodies"
    );
    assert!(
        all_took < Duration::from_secs(10),
        "hostile bodies took {all_took:?}"
    );
    // Each refused envelope is on the trail.
    let refused = portal
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "edi.envelope")
        .count();
    assert_eq!(refused, 4);
}

/// The portal trusting the loopback proxy, so each client can claim its own address.
async fn portal_behind_a_proxy() -> Portal {
    Portal::start_with(|s| {
        s.trusted_proxies = Arc::new(TrustedProxies::parse(&["127.0.0.1"]).unwrap());
    })
    .await
}

fn from(portal: &Portal, address: &str) -> Client {
    let mut c = portal.stranger();
    c.extra_headers
        .push(("x-forwarded-for".into(), address.into()));
    c
}

/// Finding 8: five wrong passwords from anyone locked the partner's account, and the "locked"
/// answer confirmed it existed. Now the stranger's address is throttled and the partner, from
/// its own address, goes on.
#[tokio::test]
async fn a_stranger_cannot_lock_a_trading_partner_out() {
    let portal = portal_behind_a_proxy().await;
    let (ct, wrong) = envelope("edi", "not-the-password");
    let mut stranger = from(&portal, "203.0.113.9");
    let mut messages = Vec::new();
    for _ in 0..8 {
        let r = post(&mut stranger, "/core/realtime", &ct, &wrong).await;
        assert_eq!(r.status, 401);
        assert_eq!(field(&r, "ErrorCode"), "UnAuthorized");
        messages.push(field(&r, "ErrorMessage"));
    }
    assert!(
        messages.iter().all(|m| !m.contains("locked")),
        "{messages:?}"
    );
    assert!(
        messages[5..]
            .iter()
            .all(|m| m.contains("from this address")),
        "the stranger's address is throttled after five failures: {messages:?}"
    );
    // The stranger's address is refused even with the right password now ...
    let (ct, right) = envelope("edi", PASSWORD);
    let r = post(&mut stranger, "/core/realtime", &ct, &right).await;
    assert_eq!(field(&r, "ErrorCode"), "UnAuthorized");
    // ... while the partner, from its own address, is served.
    let mut partner = from(&portal, "198.51.100.7");
    let r = post(&mut partner, "/core/realtime", &ct, &right).await;
    assert_eq!(field(&r, "ErrorCode"), "Success", "{}", r.body);
    let user = portal.user("edi").await;
    assert_eq!(
        portal
            .store
            .user_by_username("edi")
            .await
            .unwrap()
            .unwrap()
            .throttle
            .failures,
        0,
        "no account lockout is counted for {}",
        user.username
    );
    let actions = portal.audit_actions().await;
    assert!(!actions.iter().any(|a| a == "account.lockout"));
    assert_eq!(
        actions.iter().filter(|a| *a == "edi.login.failure").count(),
        9,
        "every refused sign-in is audited, throttled ones included"
    );
}

/// Finding 8 and 9: an unknown name, a wrong password, an account that may not exchange EDI and
/// an invited one (no password yet, where argon2id used to be skipped) read the same.
#[tokio::test]
async fn failed_partner_sign_ins_read_alike() {
    let portal = portal_behind_a_proxy().await;
    let office = portal.user("office").await;
    portal
        .store
        .create_user(&storage::NewUser {
            username: "invited.partner@demo-office.test".into(),
            display_name: "Invited Partner".into(),
            email: "invited.partner@demo-office.test".into(),
            role: domain::account::Role::EdiPartner,
            org_id: office.org_id,
            password_hash: String::new(),
            status: domain::account::UserStatus::Invited,
            phone: String::new(),
            claims: false,
        })
        .await
        .unwrap();
    let cases = [
        ("unknown", "nobody-at-all", "a guess"),
        ("wrong password", "edi", "a guess"),
        ("not a partner, right password", "office", PASSWORD),
        ("invited", "invited.partner@demo-office.test", "a guess"),
    ];
    // The cases taken in turn, round after round, so that load on the machine falls on all
    // alike; each try from its own address, so the per-address budget is not what is measured.
    let mut answers = Vec::new();
    let mut samples = vec![Vec::new(); cases.len()];
    for round in 0..5 {
        for (i, (label, user, password)) in cases.iter().enumerate() {
            let (ct, body) = envelope(user, password);
            let mut c = from(&portal, &format!("192.0.2.{}", i * 10 + round));
            let t = Instant::now();
            let r = post(&mut c, "/core/realtime", &ct, &body).await;
            samples[i].push(t.elapsed());
            assert_eq!(r.status, 401, "{label}");
            answers.push((*label, field(&r, "ErrorMessage")));
        }
    }
    let times: Vec<(&str, Duration)> = cases
        .iter()
        .zip(samples)
        .map(|((label, _, _), mut t)| {
            t.sort();
            (*label, t[t.len() / 2])
        })
        .collect();
    eprintln!("failed CORE sign-ins, median of 5: {times:?}");
    let first = answers[0].1.clone();
    for (label, a) in &answers {
        assert_eq!(
            a, &first,
            "{label} answers differently from an unknown name"
        );
    }
    let slowest = times.iter().map(|t| t.1).max().unwrap();
    // Skipping argon2id made the invited case ten times faster; allow for a loaded machine.
    for (label, t) in &times {
        assert!(
            *t * 4 >= slowest,
            "{label} answers in {t:?}, against {slowest:?}: {times:?}"
        );
    }
}

/// Finding 9: oversized and rate-limited CORE requests left no audit entry.
#[tokio::test]
async fn oversized_and_rate_limited_requests_are_audited() {
    let portal = Portal::start_with(|s| {
        s.limits =
            Arc::new(web::auth::ratelimit::Limits::default().with_edi(3, Duration::from_secs(60)));
    })
    .await;
    let mut c = portal.stranger();
    let big = vec![b'x'; 2 * 1024 * 1024];
    let r = post(
        &mut c,
        "/core/realtime",
        "multipart/form-data; boundary=x",
        &big,
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(field(&r, "ErrorCode"), "PayloadLengthIncorrect");
    let (ct, body) = envelope("edi", "a guess");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post(&mut c, "/core/realtime", &ct, &body).await.status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let trail = portal.store.audit_page(0, 1000).await.unwrap();
    let outcomes: Vec<&str> = trail
        .iter()
        .filter(|e| e.event.action == "edi.envelope")
        .map(|e| e.event.outcome.as_str())
        .collect();
    assert!(outcomes.contains(&"oversized"), "{outcomes:?}");
    assert!(outcomes.contains(&"rate_limited"), "{outcomes:?}");
}
