//! The authorization matrix: every route of the application against every role (and nobody),
//! and, where a route names a record, a record of the user's own organisation and one of
//! another. The expectations below are written out by hand from the product's rules, not derived
//! from the policy code, and every route in `web::routes::policies()` must have one: a new route
//! without an expectation fails here.

use crate::common::{App, Resp, Session};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use domain::access::Scope;
use domain::registration::{OfficeRole, RequestKind};
use domain::session::SessionStage;
use domain::{Npi, Tin};
use storage::NewRegistration;

/// Who may use a route.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Anyone, signed in or not.
    Public,
    /// Only a session part-way through sign-in.
    Pending,
    /// Any signed-in user.
    AnySigned,
    /// These demo accounts only.
    Only(&'static [&'static str]),
    /// Nobody by session: the request's own credentials (a CORE envelope) authenticate it, so
    /// an envelope without them is refused (401) whoever's cookie comes along.
    Envelope,
}

/// The demo accounts (see `seed::demo`): one per role, plus a user of a second office.
const ACCOUNTS: &[&str] = &[
    "office",
    "claims",
    "officeadmin",
    "edi",
    "relations",
    "reviewer",
    "appeals",
    "network",
    "planadmin",
    "office2",
];

const OFFICE_STAFF_WITHOUT_CLAIMS: &[&str] = &["office", "officeadmin", "office2"];
const PROVIDER_RELATIONS: &[&str] = &["relations", "planadmin"];
const OFFICE_STAFF: &[&str] = &["office", "claims", "officeadmin", "office2"];

/// Who may use `path` (the same for each method a path has).
fn expected(path: &str) -> Option<Who> {
    use Who::*;
    Some(match path {
        "/" | "/healthz" | "/assets/{file}" | "/login" | "/logout" | "/register"
        | "/activate/{token}" => Public,
        "/login/code" | "/mfa/enrol" => Pending,
        "/session/keepalive"
        | "/account"
        | "/account/password"
        | "/account/recovery-codes"
        | "/account/sessions/end-others" => AnySigned,
        "/account/claims-access" => Only(OFFICE_STAFF_WITHOUT_CLAIMS),
        "/account/tins" => Only(&["edi"]),
        "/claims" | "/claims/{number}" => Only(&["claims"]),
        // Eligibility and clinical alerts: every office user (claims entitlement or not).
        "/eligibility" | "/eligibility/batch" | "/eligibility/batch/{batch}" | "/alerts" => {
            Only(OFFICE_STAFF)
        }
        // Claim submission: office staff with claims access and EDI partners.
        "/submissions" | "/submissions/{id}" | "/submissions/{id}/{ack}" => {
            Only(&["claims", "edi"])
        }
        // Remittance (adjudication): the claims entitlement too.
        "/remittance" | "/remittance/{number}" | "/remittance/{number}/835" => Only(&["claims"]),
        "/office/users"
        | "/office/users/{id}/status"
        | "/office/users/{id}/claims"
        | "/office/requests/{id}/decide" => Only(&["officeadmin"]),
        p if p.starts_with("/plan/registrations") || p == "/plan/outbox" => {
            Only(PROVIDER_RELATIONS)
        }
        p if p.starts_with("/plan/users") || p.starts_with("/plan/audit") => Only(&["planadmin"]),
        // Authorizations: public lookup and metrics; office staff (every office role) submit and
        // follow their own; the UM reviewer works the queue and keeps the rules.
        "/prior-authorization/required"
        | "/prior-authorization/metrics"
        | "/prior-authorization/metrics.csv" => Public,
        "/authorizations"
        | "/authorizations/new"
        | "/authorizations/{number}"
        | "/authorizations/{number}/information"
        | "/authorizations/{number}/withdraw"
        | "/authorizations/{number}/attachments/{doc}"
        | "/notifications" => Only(OFFICE_STAFF),
        p if p.starts_with("/plan/authorizations")
            || p.starts_with("/plan/auth-rules")
            || p.starts_with("/plan/auto-rules") =>
        {
            Only(&["reviewer"])
        }
        // CAQH CORE connectivity (EDI trading partners).
        "/core" | "/core/realtime" | "/core/batch" => Envelope,
        _ => return None,
    })
}

/// Records the matrix points routes at.
struct Records {
    own_claim: String,
    other_claim: String,
    own_user: i64,
    other_user: i64,
    own_request: i64,
    other_request: i64,
    own_auth: String,
    own_payment: String,
    other_payment: String,
}

async fn records(app: &App) -> Records {
    let office = app.user("officeadmin").await;
    let office2 = app.user("office2").await;
    let tin_of = |org: i64| {
        let store = app.store.clone();
        async move { store.org(org).await.unwrap().unwrap().tin.unwrap() }
    };
    let own_tin = tin_of(office.org_id).await;
    let other_tin = tin_of(office2.org_id).await;
    let claim_in = |tin: Tin| {
        let store = app.store.clone();
        async move {
            store
                .claims_in_scope(&Scope::Tins(vec![tin]), 1)
                .await
                .unwrap()
                .first()
                .expect("the demo office has claims")
                .number
                .to_string()
        }
    };
    let request_for = |tin: Tin, email: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .create_registration(&NewRegistration {
                    kind: RequestKind::Access,
                    name: "Pat Newhire".into(),
                    email: email.into(),
                    phone: "7145550123".into(),
                    npi: Npi::parse("1234567893").unwrap(),
                    tin,
                    office_name: "Some office".into(),
                    office_role: OfficeRole::FrontDesk,
                    user_id: None,
                    note: String::new(),
                    submitted_at: Utc::now(),
                    source: "test".into(),
                })
                .await
                .unwrap()
        }
    };
    let payment_to = |tin: Tin| {
        let store = app.store.clone();
        async move {
            store
                .payments_in_scope(&Scope::Tins(vec![tin]), 0, 1)
                .await
                .unwrap()
                .payments
                .first()
                .expect("the demo office has payments")
                .number
                .clone()
        }
    };
    Records {
        own_payment: payment_to(own_tin).await,
        other_payment: payment_to(other_tin).await,
        own_claim: claim_in(own_tin).await,
        other_claim: claim_in(other_tin).await,
        own_user: app.user("office").await.id,
        other_user: office2.id,
        own_auth: app
            .store
            .auths_in_scope(&Scope::Tins(vec![own_tin]), 1)
            .await
            .unwrap()
            .first()
            .expect("the demo office has authorizations")
            .number
            .to_string(),
        own_request: request_for(own_tin, "own@office.test").await,
        other_request: request_for(other_tin, "other@office.test").await,
    }
}

/// The concrete path for a route pattern, pointing at the own-organisation record.
fn fill(path: &str, r: &Records, own: bool) -> String {
    let claim = if own { &r.own_claim } else { &r.other_claim };
    let user = if own { r.own_user } else { r.other_user };
    let request = if own { r.own_request } else { r.other_request };
    let claim = if path.starts_with("/remittance") {
        if own {
            &r.own_payment
        } else {
            &r.other_payment
        }
    } else {
        claim
    };
    let id = if path.starts_with("/office/users") || path.starts_with("/plan/users") {
        user
    } else {
        request
    };
    path.replace("{file}", "nothing.css")
        .replace("{token}", &"0".repeat(64))
        .replace(
            "{number}",
            if path.contains("authorizations") {
                &r.own_auth
            } else {
                claim
            },
        )
        .replace("{doc}", "999999")
        .replace("{batch}", &"0".repeat(64))
        .replace("{ack}", "999")
        .replace("{id}", &id.to_string())
}

/// A harmless, well-formed form for POST routes that name a record (so the handler, not form
/// parsing, decides), else an empty form.
fn form_for(path: &str) -> Vec<(&'static str, &'static str)> {
    if path.ends_with("/status") {
        vec![("status", "active")]
    } else if path.ends_with("/claims") {
        vec![("claims", "false")]
    } else if path.ends_with("/decide") {
        vec![("decision", "deny"), ("reason", "matrix test")]
    } else {
        vec![]
    }
}

async fn call(app: &App, method: &Method, path: &str, session: Option<&Session>) -> Resp {
    if path.starts_with("/core") {
        return core_envelope(app, path, session).await;
    }
    if *method == Method::GET {
        app.get(path, session).await
    } else {
        app.post(path, session, &form_for(path)).await
    }
}

/// A complete CORE envelope without UserName/Password, with the session's cookie if any.
async fn core_envelope(app: &App, path: &str, session: Option<&Session>) -> Resp {
    let mode: &[u8] = if path.ends_with("/batch") {
        b"Batch"
    } else {
        b"RealTime"
    };
    let (ct, body) = edi::caqh::request_multipart(&[
        (
            "PayloadType",
            edi::caqh::payload::ELIGIBILITY_REQUEST.as_bytes(),
        ),
        ("ProcessingMode", mode),
        ("PayloadID", b"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
        ("TimeStamp", b"2026-12-03T15:43:52Z"),
        ("SenderID", b"S"),
        ("ReceiverID", b"R"),
        ("CORERuleVersion", b"2.2.0"),
        ("PayloadLength", b"3"),
        ("Checksum", b"0"),
        ("Payload", b"ISA"),
    ]);
    let mut req = axum::http::Request::post(path).header(axum::http::header::CONTENT_TYPE, ct);
    if let Some(s) = session {
        req = req.header(axum::http::header::COOKIE, s.cookie());
    }
    app.send(req.body(axum::body::Body::from(body)).unwrap())
        .await
}

/// The guard's "sign in first": pages are redirected to the sign-in form with the page to come
/// back to; anything else gets 401.
fn sent_to_sign_in(method: &Method, r: &Resp) -> bool {
    if *method == Method::GET {
        r.status == StatusCode::SEE_OTHER
            && r.location().starts_with("/login?")
            && r.location().contains("next=")
    } else {
        r.status == StatusCode::UNAUTHORIZED
    }
}

fn let_through(method: &Method, r: &Resp) -> bool {
    !matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        && !sent_to_sign_in(method, r)
}

#[tokio::test]
async fn every_route_against_every_role() {
    let app = App::new().await;
    let rec = records(&app).await;
    let routes = web::routes::policies();
    let mut missing = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, path, _, _) in &routes {
        let Some(who) = expected(path) else {
            missing.push(format!("{method} {path}"));
            continue;
        };
        let url = fill(path, &rec, true);

        // Nobody signed in.
        let r = call(&app, method, &url, None).await;
        let ok = match who {
            Who::Public => let_through(method, &r),
            _ => sent_to_sign_in(method, &r),
        };
        if !ok {
            failures.push(format!(
                "{method} {url} as nobody: {} {}",
                r.status,
                r.location()
            ));
        }
        checked += 1;

        for account in ACCOUNTS {
            // A fresh session per request: some routes (sign-out) end the one they are given.
            let session = app.session(account).await;
            let r = call(&app, method, &url, Some(&session)).await;
            let allowed = match who {
                Who::Public | Who::AnySigned => true,
                Who::Pending | Who::Envelope => false,
                Who::Only(list) => list.contains(account),
            };
            let ok = if matches!(who, Who::Envelope) {
                r.status == StatusCode::UNAUTHORIZED
            } else if allowed {
                let_through(method, &r)
            } else if matches!(who, Who::Pending) {
                sent_to_sign_in(method, &r)
            } else {
                r.status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{method} {url} as {account}: {} {} (expected {})",
                    r.status,
                    r.location(),
                    if allowed { "allowed" } else { "refused" }
                ));
            }
            checked += 1;
        }

        // A pending sign-in reaches only its own step and the public pages.
        let pending = app.session_at("office", SessionStage::NeedsCode).await;
        let r = call(&app, method, &url, Some(&pending)).await;
        let ok = match (who, *path) {
            (Who::Public, _) | (Who::Pending, "/login/code") => let_through(method, &r),
            _ => sent_to_sign_in(method, &r),
        };
        if !ok {
            failures.push(format!(
                "{method} {url} with a pending sign-in: {} {}",
                r.status,
                r.location()
            ));
        }
        checked += 1;
    }
    assert!(
        missing.is_empty(),
        "routes without an expectation in the matrix (add them to `expected`): {missing:#?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 400, "only {checked} checks ran");
}

/// Routes that name a record answer 404 for another organisation's record, exactly as for a
/// record that does not exist, and change nothing.
#[tokio::test]
async fn another_organisations_records_do_not_leak() {
    let app = App::new().await;
    let rec = records(&app).await;
    let claims = app.session("claims").await;
    let own = app
        .get(&format!("/claims/{}", rec.own_claim), Some(&claims))
        .await;
    assert_eq!(own.status, StatusCode::OK, "own claim");
    let other = app
        .get(&format!("/claims/{}", rec.other_claim), Some(&claims))
        .await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "another office's claim"
    );
    let none = app.get("/claims/C9999999999", Some(&claims)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(
        strip_numbers(&other.body),
        strip_numbers(&none.body),
        "another office's claim looks exactly like a missing one"
    );
    let list = app.get("/claims", Some(&claims)).await;
    assert!(list.body.contains(&rec.own_claim));
    assert!(!list.body.contains(&rec.other_claim), "the list is scoped");

    let admin = app.session("officeadmin").await;
    let r = app
        .post(
            &format!("/office/users/{}/status", rec.other_user),
            Some(&admin),
            &[("status", "deactivated")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another office's user");
    assert_eq!(
        app.user("office2").await.status,
        domain::account::UserStatus::Active,
        "and nothing changed"
    );
    let r = app
        .post(
            &format!("/office/users/{}/claims", rec.other_user),
            Some(&admin),
            &[("claims", "true")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!app.user("office2").await.claims);
    let r = app
        .post(
            &format!("/office/requests/{}/decide", rec.other_request),
            Some(&admin),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another office's registration"
    );
    let still = app
        .store
        .registration(rec.other_request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        still.status,
        domain::registration::RegistrationStatus::Pending
    );
    let office_users = app.get("/office/users", Some(&admin)).await;
    assert!(
        !office_users.body.contains("Otto Otheroffice"),
        "only the own office's users are listed"
    );
}

fn strip_numbers(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_digit()).collect()
}
