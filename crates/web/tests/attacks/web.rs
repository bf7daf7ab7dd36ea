//! Attacks on the web layer itself: the redirect after sign-in, the outbox, the office
//! administrator's powers, and the listener (slow headers, connection floods, large bodies from
//! users without the permission, forged forwarding headers). Issue 11, findings 4, 5, 6 and 9.

use crate::harness::{Client, PASSWORD, Portal, exchange, parse_response};
use chrono::Utc;
use domain::account::UserStatus;
use domain::registration::{OfficeRole, RequestKind};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `next` values a phisher would put in a sign-in link, as they appear in the URL.
const HOSTILE_NEXT: &[&str] = &[
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D%0A/evil.example",
    "/%0D/evil.example",
    "/%20/evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "%5C%5Cevil.example",
    "%2F%2Fevil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "/%E3%80%80/evil.example",
    "/%252F/evil.example",
    "/%255C/evil.example",
    "/%250A/evil.example",
];

#[tokio::test]
async fn sign_in_never_redirects_to_another_host() {
    let portal = Portal::start().await;
    // A signed-in visitor of /login is sent straight to `next`: the quickest way to see where
    // the redirect after sign-in goes.
    let mut signed = portal.session("office").await;
    let mut stranger = portal.stranger();
    for next in HOSTILE_NEXT {
        let r = signed.get(&format!("/login?next={next}")).await;
        assert_eq!(r.status, 303, "next={next}: {}", r.body);
        assert_eq!(r.location(), "/", "next={next} must send the browser home");
        // The sign-in form carries `next` to the code step: home there too.
        let form = stranger.get(&format!("/login?next={next}")).await;
        assert_eq!(form.status, 200, "next={next}");
        assert!(
            !form.body.contains("evil.example"),
            "next={next} kept in the form"
        );
    }
    // A real local path survives.
    let r = signed.get("/login?next=%2Fclaims%3Fq%3D1").await;
    assert_eq!(r.location(), "/claims?q=1");
}

#[tokio::test]
async fn a_newline_in_next_is_not_a_server_error() {
    let portal = Portal::start().await;
    let mut signed = portal.session("office").await;
    for path in [
        "/login?next=/%0Aevil",
        "/login?next=/%0D%0ASet-Cookie:%20x=1",
        "/login/code?next=/%0Aevil",
    ] {
        let r = signed.get(path).await;
        assert!(r.status < 500, "{path}: {}", r.status);
        assert!(r.header("set-cookie").is_none_or(|c| !c.starts_with("x=")));
    }
}

/// A pending access request for the demo office, as the registration form would file it.
async fn pending_request(portal: &Portal, email: &str) -> i64 {
    let office = seed::demo_office(&*portal.store).await.unwrap();
    portal
        .store
        .create_registration(&storage::NewRegistration {
            kind: RequestKind::Access,
            name: "Nora Newhire".into(),
            email: email.into(),
            phone: "7145550142".into(),
            npi: office.npi,
            tin: office.tin,
            office_name: office.name,
            office_role: OfficeRole::FrontDesk,
            user_id: None,
            note: String::new(),
            submitted_at: Utc::now(),
            source: "attack-suite".into(),
        })
        .await
        .unwrap()
}

/// The first `/activate/<64 hex>` link in `text`.
fn activation_link(text: &str) -> Option<String> {
    text.match_indices("/activate/").find_map(|(at, _)| {
        let token = &text[at + "/activate/".len()..];
        let hex: String = token
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        (hex.len() == 64).then(|| format!("/activate/{hex}"))
    })
}

#[tokio::test]
async fn plan_staff_cannot_read_a_live_activation_link_from_the_outbox() {
    let portal = Portal::start().await;
    let id = pending_request(&portal, "nora@demo-office.test").await;
    let mut relations = portal.session("relations").await;
    relations.get(&format!("/plan/registrations/{id}")).await;
    let r = relations
        .post_form(
            &format!("/plan/registrations/{id}/decide"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let outbox = relations.get("/plan/outbox").await;
    assert_eq!(outbox.status, 200);
    assert!(
        outbox.body.contains("nora@demo-office.test"),
        "the approval email is listed"
    );
    if let Some(link) = activation_link(&outbox.body) {
        // The attack: set the new user's password before they do.
        let mut attacker = portal.stranger();
        let form = attacker.get(&link).await;
        panic!(
            "a live activation link is readable on /plan/outbox ({} on {link})",
            form.status
        );
    }
    for m in portal.store.outbox(100).await.unwrap() {
        assert!(
            activation_link(&m.body).is_none(),
            "a live activation link is stored in the outbox"
        );
    }
}

/// Only the recipient gets the link: the demo's transport drops mail in the data directory.
#[tokio::test]
async fn the_activation_link_goes_to_the_transport_only() {
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_path_buf();
    let portal = Portal::start_with(move |s| {
        s.mail = std::sync::Arc::new(web::mail::Transport::Dir(dir));
    })
    .await;
    let id = pending_request(&portal, "nell@demo-office.test").await;
    let mut relations = portal.session("relations").await;
    relations.get(&format!("/plan/registrations/{id}")).await;
    relations
        .post_form(
            &format!("/plan/registrations/{id}/decide"),
            &[("decision", "approve")],
        )
        .await;
    let files: Vec<_> = std::fs::read_dir(mail_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mail is readable by the operator only");
    }
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: nell@demo-office.test"), "{eml}");
    let link = activation_link(&eml).expect("the delivered mail carries the link");
    let mut nell = portal.stranger();
    let form = nell.get(&link).await;
    assert_eq!(form.status, 200);
    let r = nell
        .post_form(
            &link,
            &[
                ("password", "orange grove harbor lantern"),
                ("confirm", "orange grove harbor lantern"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let outbox = portal.store.outbox(10).await.unwrap();
    let m = outbox
        .iter()
        .find(|m| m.to_addr == "nell@demo-office.test")
        .unwrap();
    assert!(m.sent_at.is_some(), "delivered mail is marked sent");
}

#[tokio::test]
async fn an_office_administrator_cannot_undo_the_plans_deactivation() {
    let portal = Portal::start().await;
    let target = portal.user("office").await;
    let mut plan = portal.session("planadmin").await;
    plan.get("/plan/users?q=office").await;
    let r = plan
        .post_form(
            &format!("/plan/users/{}/status", target.id),
            &[("status", "deactivated")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(portal.user("office").await.status, UserStatus::Deactivated);

    let mut admin = portal.session("officeadmin").await;
    admin.get("/office/users").await;
    admin
        .post_form(
            &format!("/office/users/{}/status", target.id),
            &[("status", "active")],
        )
        .await;
    assert_eq!(
        portal.user("office").await.status,
        UserStatus::Deactivated,
        "the plan's deactivation stands"
    );

    // The plan lifts its own decision; what the office decided, the office may undo.
    plan.get("/plan/users?q=office").await;
    plan.post_form(
        &format!("/plan/users/{}/status", target.id),
        &[("status", "active")],
    )
    .await;
    assert_eq!(portal.user("office").await.status, UserStatus::Active);
    admin.get("/office/users").await;
    for status in ["deactivated", "active"] {
        let r = admin
            .post_form(
                &format!("/office/users/{}/status", target.id),
                &[("status", status)],
            )
            .await;
        assert_eq!(r.status, 303, "{status}: {}", r.body);
    }
    assert_eq!(portal.user("office").await.status, UserStatus::Active);
}

#[tokio::test]
async fn an_office_administrator_cannot_grant_themself_claims_inquiry() {
    let portal = Portal::start().await;
    let me = portal.user("officeadmin").await;
    assert!(!me.claims);
    let mut admin = portal.session("officeadmin").await;
    admin.get("/office/users").await;
    admin
        .post_form(
            &format!("/office/users/{}/claims", me.id),
            &[("claims", "true")],
        )
        .await;
    assert!(
        !portal.user("officeadmin").await.claims,
        "nobody grants themself an entitlement"
    );
    // Granting it to someone else of the office still works (the plan allowed the office).
    let colleague = portal.user("office").await;
    admin.get("/office/users").await;
    let r = admin
        .post_form(
            &format!("/office/users/{}/claims", colleague.id),
            &[("claims", "true")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(portal.user("office").await.claims);
}

/// Reads until the server closes the connection; `Err` when it stays open past `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Result<Duration, ()> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return Err(()),
        }
    }
}

#[tokio::test]
async fn a_slow_header_connection_is_closed() {
    let portal = Portal::start().await;
    let mut slow = TcpStream::connect(portal.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // A header line every second, never the blank line that ends the head.
    let drip = async {
        for i in 0..30 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if slow
                .write_all(format!("x-drip-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let mut idle = TcpStream::connect(portal.addr).await.unwrap();
    let (_, idle_closed) = tokio::join!(drip, closed_within(&mut idle, Duration::from_secs(20)));
    assert!(
        idle_closed.is_ok(),
        "a connection that sends nothing stays open"
    );
    let slow_closed = closed_within(&mut slow, Duration::from_secs(1)).await;
    assert!(
        slow_closed.is_ok(),
        "a connection dripping header lines stays open past 30 s"
    );
}

#[tokio::test]
async fn the_connection_cap_holds() {
    let opts = web::ServeOptions {
        header_read_timeout: Duration::from_secs(3),
        max_connections: 4,
    };
    let portal = Portal::start_serving(opts, |_| {}).await;
    let mut hogs = Vec::new();
    for _ in 0..4 {
        hogs.push(TcpStream::connect(portal.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ask = b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange(portal.addr, ask))
        .await
        .expect("answered once the idle connections time out")
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(parse_response(&answer).unwrap().status, 200);
    assert!(
        waited >= Duration::from_secs(2),
        "a fifth connection was served at once ({waited:?}): no cap"
    );
    drop(hogs);
}

#[tokio::test]
async fn a_large_post_without_the_permission_is_refused_before_its_body_is_read() {
    let portal = Portal::start().await;
    // The front-desk user may not submit claims.
    let c = portal.session("office").await;
    let mut stream = TcpStream::connect(portal.addr).await.unwrap();
    let declared = 40 * 1024 * 1024;
    let head = format!(
        "POST /submissions HTTP/1.1\r\nhost: {}\r\ncookie: portal_session={}\r\n\
         sec-fetch-site: same-origin\r\ncontent-type: multipart/form-data; boundary=b\r\n\
         content-length: {declared}\r\n\r\n",
        portal.addr, c.cookies["portal_session"]
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[b'a'; 1024]).await.unwrap();
    // The rest of the 40 MB is never sent: the answer must come anyway.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let answered = tokio::time::timeout(Duration::from_secs(5), async {
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        answered.is_ok() && !got.is_empty(),
        "the portal waited for the whole body before refusing"
    );
    let status = std::str::from_utf8(&got[..12]).unwrap_or("");
    assert!(status.contains(" 403"), "{status}");
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_change_the_client_address() {
    // Behind TLS, and no proxy configured as trusted.
    let portal = Portal::start_with(|s| s.behind_tls = true).await;
    let mut limited = None;
    for i in 0..40 {
        let mut c = Client::new(portal.addr);
        c.extra_headers
            .push(("x-forwarded-for".into(), format!("198.51.100.{i}")));
        let r = c.password_step(&format!("nobody{i}"), PASSWORD).await;
        if r.status == 429 {
            limited = Some(i);
            break;
        }
    }
    assert!(
        limited.is_some(),
        "40 sign-in attempts from one address, each with another X-Forwarded-For, were never rate limited"
    );
    let sources: Vec<String> = portal
        .store
        .audit_page(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action.starts_with("login"))
        .map(|e| e.event.source)
        .collect();
    assert!(!sources.is_empty());
    assert!(
        sources.iter().all(|s| !s.starts_with("198.51.100.")),
        "the audit trail records the forged address: {sources:?}"
    );
}
