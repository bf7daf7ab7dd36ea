//! The CAQH CORE endpoint: envelopes in and out, 270/271 and 276/277 against the demo plan,
//! authentication with the credential cache, per-address throttling, audit before disclosure, and envelope
//! and X12 errors.

use crate::common::{App, PASSWORD};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use domain::access::Scope;
use domain::account::UserStatus;
use domain::claim::ClaimStatus;
use domain::{ClaimNumber, MemberId, Npi};
use edi::caqh::{CredentialCache, payload, request_multipart};
use std::sync::Arc;
use std::time::Duration;
use storage::{ClaimSummary, Store};
use tower::ServiceExt as _;
use x12::model::{EligibilityRequest, Envelope, Party, Person, StatusQuery, StatusRequest};

const ID: &str = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

struct Answer {
    status: StatusCode,
    fields: Vec<(String, String)>,
}

impl Answer {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn code(&self) -> &str {
        self.get("ErrorCode")
    }
    fn payload(&self) -> &str {
        self.get("Payload")
    }
}

fn today() -> String {
    Utc::now().date_naive().format("%Y%m%d").to_string()
}

fn env() -> Envelope {
    Envelope {
        sender: "BILLER1".into(),
        receiver: "OCHP1".into(),
        control: 7,
        date: today(),
        time: "1200".into(),
        usage: 'P',
    }
}

fn fields<'a>(
    payload_type: &'a str,
    x12: &'a str,
    user: &'a str,
    pass: &'a str,
) -> Vec<(&'a str, &'a [u8])> {
    vec![
        ("PayloadType", payload_type.as_bytes()),
        ("ProcessingMode", b"RealTime"),
        ("PayloadID", ID.as_bytes()),
        ("TimeStamp", b"2026-12-03T15:43:52Z"),
        ("UserName", user.as_bytes()),
        ("Password", pass.as_bytes()),
        ("SenderID", b"BILLER1"),
        ("ReceiverID", b"OCHP1"),
        ("CORERuleVersion", b"2.2.0"),
        ("Payload", x12.as_bytes()),
    ]
}

async fn post(router: &axum::Router, path: &str, fields: &[(&str, &[u8])]) -> Answer {
    let (ct, body) = request_multipart(fields);
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, ct)
        .header(header::HOST, "portal.test")
        .body(Body::from(body))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    let parts = edi::caqh::parse_multipart(&ct, &bytes)
        .unwrap_or_else(|e| panic!("{status}: response is not a CORE envelope ({ct}): {e:?}"));
    Answer {
        status,
        fields: parts
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    String::from_utf8_lossy(p.data).into_owned(),
                )
            })
            .collect(),
    }
}

/// The demo records the tests need: the partner's scope and claims in and out of it.
struct Demo {
    own: Vec<ClaimSummary>,
    other: Vec<ClaimSummary>,
}

async fn demo(store: &Arc<dyn Store>) -> Demo {
    let office_tin = seed::demo_office(&**store).await.unwrap().tin;
    let own = store
        .claims_in_scope(&Scope::Tins(vec![office_tin]), 500)
        .await
        .unwrap();
    let office2 = store
        .org(
            store
                .user_by_username("office2")
                .await
                .unwrap()
                .unwrap()
                .org_id,
        )
        .await
        .unwrap()
        .unwrap()
        .tin
        .unwrap();
    let other = store
        .claims_in_scope(&Scope::Tins(vec![office2]), 50)
        .await
        .unwrap();
    assert!(
        !own.is_empty() && !other.is_empty(),
        "the demo offices have claims"
    );
    Demo { own, other }
}

fn inquiry(npi: &Npi, member: &str, dob: &str) -> String {
    EligibilityRequest {
        payer_name: "ORANGE COAST HEALTH PLAN".into(),
        payer_id: "OCHP1".into(),
        provider_name: "DEMO OFFICE".into(),
        provider_npi: npi.as_str().into(),
        subscriber: Person {
            last: String::new(),
            first: String::new(),
            member_id: member.into(),
            dob: dob.into(),
            gender: String::new(),
            address: None,
        },
        trace: "TRACE1".into(),
        date_of_service: today(),
        service_types: vec!["30".into()],
    }
    .to_x12(&env())
}

fn status_request(npi: &Npi, member: &MemberId, claim: &ClaimNumber) -> String {
    StatusRequest {
        payer: Party {
            name: "ORANGE COAST HEALTH PLAN".into(),
            id: "OCHP1".into(),
        },
        receiver: Party {
            name: "BILLER".into(),
            id: "BILLER1".into(),
        },
        provider: Party {
            name: "DEMO OFFICE".into(),
            id: npi.as_str().into(),
        },
        subscriber: Person {
            last: "MEMBER".into(),
            first: "A".into(),
            member_id: member.as_str().into(),
            ..Person::default()
        },
        queries: vec![StatusQuery {
            trace: "T276".into(),
            payer_claim_id: claim.as_str().into(),
            ..StatusQuery::default()
        }],
    }
    .to_x12(&env())
}

fn accepted(x12: &str) {
    let r = x12::validate_bytes(x12.as_bytes(), &x12::Options::default());
    assert!(r.accepted(), "{:#?}\n{x12}", r.errors_by_offset());
}

async fn audit_of(app: &App) -> Vec<domain::audit::AuditEvent> {
    app.store
        .audit_page(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

/// A member of the demo office's claims with coverage today, and the claim's billing NPI.
async fn active_member(app: &App, d: &Demo) -> (MemberId, Npi) {
    let day = Utc::now().date_naive();
    for c in &d.own {
        let m = app.store.member(&c.member).await.unwrap().unwrap();
        if m.spans.iter().any(|s| s.covers(day) && s.pcp.is_some()) {
            return (c.member.clone(), c.billing_npi);
        }
    }
    panic!("no member of the demo office is covered today with a PCP");
}

#[tokio::test]
async fn eligibility_answers_active_coverage_with_network_and_pcp_and_audits_first() {
    let app = App::new().await;
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let record = app.store.member(&member).await.unwrap().unwrap();
    let dob = record.member.birth_date.format("%Y%m%d").to_string();
    let x12 = inquiry(&npi, member.as_str(), &dob);
    let a = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.fields);
    assert_eq!(a.code(), "Success");
    assert_eq!(a.get("PayloadType"), payload::ELIGIBILITY_RESPONSE);
    assert_eq!(a.get("ReceiverID"), "BILLER1");
    assert!(edi::caqh::is_uuid(a.get("PayloadID")));
    let body = a.payload();
    accepted(body);
    let span = record
        .spans
        .iter()
        .find(|s| s.covers(Utc::now().date_naive()))
        .unwrap();
    let network = app
        .store
        .networks()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.code == span.network)
        .unwrap();
    assert!(body.contains("EB*1*IND*30*"), "{body}");
    assert!(
        body.contains(span.line_of_business.label()),
        "plan named: {body}"
    );
    assert!(
        body.contains(&format!("NM1*Y2*2*{}", network.name)),
        "network: {body}"
    );
    assert!(
        body.contains(&format!("PER*IC**TE*{}", network.phone)),
        "{body}"
    );
    let pcp = span.pcp.unwrap();
    assert!(
        body.contains("NM1*P3*1*") && body.contains(&format!("*XX*{pcp}~")),
        "PCP with NPI: {body}"
    );
    assert!(body.contains(&format!("DTP*346*D8*{}", span.start.format("%Y%m%d"))));
    assert!(body.contains(&format!("NM1*IL*1*{}", record.member.last_name)));
    assert!(body.contains("TRN*2*TRACE1"));
    // Never the member's address or phone.
    let contact = app.store.member_contact(&member).await.unwrap().unwrap();
    assert!(!body.contains("\nN3*") && !body.contains("\nN4*"), "{body}");
    assert!(!body.contains(&contact.street) && !body.contains(&contact.phone));

    let trail = audit_of(&app).await;
    let req = trail
        .iter()
        .find(|e| e.action == "edi.270")
        .expect("request audited");
    assert_eq!(
        (
            req.actor_name.as_str(),
            req.record_id.as_str(),
            req.outcome.as_str()
        ),
        ("edi", ID, "active")
    );
    assert!(
        trail.iter().any(|e| e.action == "member.read"
            && e.record_id == member.as_str()
            && e.actor_name == "edi"),
        "the member read is on the trail"
    );

    // The second request is answered from the credential cache, the same way.
    let again = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(again.code(), "Success");
    assert_eq!(
        app.store
            .user_by_username("edi")
            .await
            .unwrap()
            .unwrap()
            .throttle
            .failures,
        0
    );
}

#[tokio::test]
async fn eligibility_rejections_are_aaa_in_the_right_loop_and_disclose_nothing() {
    let app = App::new().await;
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let ask = |x12: String| {
        let router = app.router.clone();
        async move {
            let a = post(
                &router,
                "/core",
                &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
            )
            .await;
            assert_eq!(a.code(), "Success", "{:?}", a.fields);
            accepted(a.payload());
            a.payload().to_string()
        }
    };
    let unknown = ask(inquiry(&npi, "M999999999", "")).await;
    assert!(unknown.contains("AAA*N**75*C"), "{unknown}");
    assert!(!unknown.contains("EB*"));
    let bad_id = ask(inquiry(&npi, "12", "")).await;
    assert!(bad_id.contains("AAA*N**72*C"), "{bad_id}");
    let wrong_dob = ask(inquiry(&npi, member.as_str(), "19000101")).await;
    assert!(wrong_dob.contains("AAA*N**71*C"), "{wrong_dob}");
    // A provider of another office (outside the partner's TINs): access restriction on 2100B.
    let stranger = d.other[0].billing_npi;
    let other = ask(inquiry(&stranger, member.as_str(), "")).await;
    assert!(
        other.contains("NM1*1P*2*DEMO OFFICE*****XX*") && other.contains("AAA*N**41*N"),
        "{other}"
    );
    let mut wrong_payer = inquiry(&npi, member.as_str(), "");
    wrong_payer = wrong_payer.replace("PI*OCHP1", "PI*OTHER");
    let payer = ask(wrong_payer).await;
    assert!(payer.contains("AAA*N**79*C"), "{payer}");
    let trail = audit_of(&app).await;
    assert!(
        !trail.iter().any(|e| e.action == "member.read"),
        "nothing was disclosed"
    );
    assert_eq!(
        trail.iter().filter(|e| e.action == "edi.270").count(),
        5,
        "each request audited"
    );
    assert!(trail.iter().any(|e| e.outcome == "AAA 2100C 75"));
}

#[tokio::test]
async fn claim_status_for_a_paid_claim_of_the_office_and_nothing_of_another_tin() {
    let app = App::new().await;
    let d = demo(&app.store).await;
    let paid = d
        .own
        .iter()
        .find(|c| c.status == ClaimStatus::Paid)
        .expect("the demo office has a paid claim");
    let claim = app.store.claim(&paid.number).await.unwrap().unwrap();
    let x12 = status_request(&paid.billing_npi, &paid.member, &paid.number);
    let a = post(
        &app.router,
        "/core/realtime",
        &fields(payload::STATUS_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(a.code(), "Success", "{:?}", a.fields);
    assert_eq!(a.get("PayloadType"), payload::STATUS_RESPONSE);
    let body = a.payload();
    accepted(body);
    let pay = claim.payment.as_ref().expect("a paid claim has a payment");
    let billed = edi::status::amount(claim.billed());
    let paid_amt = edi::status::amount(claim.paid());
    assert!(
        body.contains(&format!(
            "STC*F1:65*{}**{billed}*{paid_amt}*",
            pay.date.format("%Y%m%d")
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("*{}~", pay.number)),
        "check/EFT number: {body}"
    );
    assert!(body.contains(&format!("REF*1K*{}", paid.number)));
    assert!(body.contains(&format!("REF*EJ*{}", claim.patient_account)));
    assert!(body.contains("SVC*HC:"), "line status: {body}");
    assert!(body.contains("TRN*2*T276"));

    // A claim billed under another TIN is not found, exactly like one that does not exist.
    let foreign = &d.other[0];
    let x12 = status_request(&paid.billing_npi, &foreign.member, &foreign.number);
    let b = post(
        &app.router,
        "/core/realtime",
        &fields(payload::STATUS_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    accepted(b.payload());
    assert!(b.payload().contains("STC*D0:35*"), "{}", b.payload());
    assert!(
        !b.payload().contains("STC*F"),
        "no status of the other office's claim"
    );
    let trail = audit_of(&app).await;
    assert!(
        trail
            .iter()
            .any(|e| e.action == "claim.read" && e.record_id == paid.number.as_str())
    );
    assert!(!trail.iter().any(|e| e.record_id == foreign.number.as_str()));
    assert_eq!(trail.iter().filter(|e| e.action == "edi.276").count(), 2);
}

#[tokio::test]
async fn bad_credentials_are_unauthorized_audited_and_disclose_nothing() {
    let app = App::new().await;
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let x12 = inquiry(&npi, member.as_str(), "");
    for (user, pass) in [
        ("edi", "wrong-password"),
        ("nobody", "whatever"),
        ("office", PASSWORD),
    ] {
        let a = post(
            &app.router,
            "/core/realtime",
            &fields(payload::ELIGIBILITY_REQUEST, &x12, user, pass),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(a.code(), "UnAuthorized");
        assert_eq!(a.get("PayloadType"), payload::ENVELOPE_ERROR);
        assert!(a.payload().is_empty(), "no payload for {user}");
        assert_eq!(a.get("PayloadID"), ID, "the request's PayloadID is echoed");
    }
    let trail = audit_of(&app).await;
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "edi.login.failure")
            .count(),
        3
    );
    assert!(!trail.iter().any(|e| e.action == "member.read"));
    assert_eq!(
        app.store
            .user_by_username("edi")
            .await
            .unwrap()
            .unwrap()
            .throttle
            .failures,
        0,
        "a wrong password over CORE never counts toward the account's lockout"
    );

    // Five failures from one address: that address is refused, in the same words as any other
    // failure but for the wait, even with the right password, and no account is locked.
    for _ in 0..2 {
        post(
            &app.router,
            "/core/realtime",
            &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", "wrong"),
        )
        .await;
    }
    let throttled = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(throttled.code(), "UnAuthorized");
    let message = throttled.get("ErrorMessage");
    assert!(message.contains("from this address"), "{message}");
    assert!(!message.contains("locked"), "{message}");
    let trail = audit_of(&app).await;
    assert!(!trail.iter().any(|e| e.action == "account.lockout"));
    assert!(
        !app.store
            .user_by_username("edi")
            .await
            .unwrap()
            .unwrap()
            .throttle
            .is_locked(chrono::Utc::now())
    );
}

#[tokio::test]
async fn a_deactivated_partner_or_new_password_ends_the_cached_verification() {
    let mut app = App::new().await;
    // Re-check every request so the test need not wait for the production interval.
    let mut state = web::AppState::new(app.store.clone(), false);
    state.core = Arc::new(web::caqh::CoreState::with_cache(
        CredentialCache::with_times(Duration::from_secs(300), Duration::ZERO),
    ));
    app.router = web::router(state);
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let x12 = inquiry(&npi, member.as_str(), "");
    let ok = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(ok.code(), "Success");
    let edi = app.store.user_by_username("edi").await.unwrap().unwrap();
    app.store
        .set_user_status(
            edi.id,
            UserStatus::Deactivated,
            &storage::StatusChange {
                authority: domain::account::StatusAuthority::Plan,
                user_id: None,
                at: chrono::Utc::now(),
            },
            None,
        )
        .await
        .unwrap();
    let gone = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(gone.code(), "UnAuthorized");
    let reactivated = app
        .store
        .set_user_status(
            edi.id,
            UserStatus::Active,
            &storage::StatusChange {
                authority: domain::account::StatusAuthority::Plan,
                user_id: None,
                at: chrono::Utc::now(),
            },
            Some(domain::account::StatusAuthority::Plan),
        )
        .await
        .unwrap();
    assert!(reactivated);
    let back = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(back.code(), "Success");
    let hash = domain::password::hash("a-new-partner-password");
    app.store.set_password(edi.id, &hash, None).await.unwrap();
    let old = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
    )
    .await;
    assert_eq!(
        old.code(),
        "UnAuthorized",
        "the old password no longer works, cached or not"
    );
    let new = post(
        &app.router,
        "/core/realtime",
        &fields(
            payload::ELIGIBILITY_REQUEST,
            &x12,
            "edi",
            "a-new-partner-password",
        ),
    )
    .await;
    assert_eq!(new.code(), "Success");
}

#[tokio::test]
async fn envelope_errors_name_the_field() {
    let app = App::new().await;
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let x12 = inquiry(&npi, member.as_str(), "");
    let base = fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD);
    let without: Vec<(&str, &[u8])> = base
        .iter()
        .copied()
        .filter(|(k, _)| *k != "PayloadID")
        .collect();
    let a = post(&app.router, "/core/realtime", &without).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "PayloadIDRequired")
    );
    assert!(a.get("ErrorMessage").contains("PayloadID"));
    assert_eq!(a.get("PayloadType"), payload::ENVELOPE_ERROR);

    let version: Vec<(&str, &[u8])> = base
        .iter()
        .map(|(k, v)| {
            if *k == "CORERuleVersion" {
                (*k, &b"2.1.0"[..])
            } else {
                (*k, *v)
            }
        })
        .collect();
    let b = post(&app.router, "/core/realtime", &version).await;
    assert_eq!(b.code(), "VersionMismatch");
    assert!(b.get("ErrorMessage").contains("2.2.0"));

    let batch: Vec<(&str, &[u8])> = base
        .iter()
        .map(|(k, v)| {
            if *k == "ProcessingMode" {
                (*k, &b"Batch"[..])
            } else {
                (*k, *v)
            }
        })
        .collect();
    let c = post(&app.router, "/core/realtime", &batch).await;
    assert_eq!(c.code(), "ProcessingModeIncorrect");

    let claims: Vec<(&str, &[u8])> = base
        .iter()
        .map(|(k, v)| {
            if *k == "PayloadType" {
                (*k, payload::REVIEW_REQUEST.as_bytes())
            } else {
                (*k, *v)
            }
        })
        .collect();
    let e = post(&app.router, "/core", &claims).await;
    assert_eq!(
        e.code(),
        "PayloadTypeIncorrect",
        "until the 278 service is wired in"
    );

    // A 276 sent under the 270 payload type.
    let status = status_request(&npi, &member, &ClaimNumber::from_sequence(1));
    let f = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &status, "edi", PASSWORD),
    )
    .await;
    assert_eq!(f.code(), "PayloadTypeIncorrect");
    assert!(f.get("ErrorMessage").contains("276"));
    let trail = audit_of(&app).await;
    assert!(
        trail.iter().filter(|e| e.action == "edi.envelope").count() >= 5,
        "refusals are audited too"
    );
}

#[tokio::test]
async fn malformed_x12_gets_a_999_naming_segment_and_element_or_a_ta1() {
    let app = App::new().await;
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let good = inquiry(&npi, member.as_str(), "19800101");
    let bad = good.replace("DMG*D8*19800101", "DMG*D8*1980AB01");
    assert_ne!(good, bad);
    let a = post(
        &app.router,
        "/core/realtime",
        &fields(payload::ELIGIBILITY_REQUEST, &bad, "edi", PASSWORD),
    )
    .await;
    assert_eq!(a.code(), "Success", "the envelope was fine");
    assert_eq!(a.get("PayloadType"), payload::ACK_999);
    let ack = a.payload();
    assert!(ack.contains("IK3*DMG*"), "{ack}");
    assert!(ack.contains("IK4*2*"), "{ack}");
    assert!(ack.contains("IK5*R") && ack.contains("AK9*R"), "{ack}");

    let garbage = post(
        &app.router,
        "/core/realtime",
        &fields(
            payload::ELIGIBILITY_REQUEST,
            "ISA*00*broken",
            "edi",
            PASSWORD,
        ),
    )
    .await;
    assert_eq!(
        garbage.get("PayloadType"),
        payload::ACK_TA1,
        "{:?}",
        garbage.fields
    );
    assert!(garbage.payload().contains("TA1*"));
    let trail = audit_of(&app).await;
    assert!(
        trail
            .iter()
            .any(|e| e.action == "edi.270" && e.outcome.starts_with("999 DMG")),
        "{trail:?}"
    );
    assert!(!trail.iter().any(|e| e.action == "member.read"));
}

#[tokio::test]
async fn a_browser_session_grants_nothing_here() {
    let app = App::new().await;
    let session = app.session("edi").await;
    // Credentials missing from the envelope: refused, whatever the cookie says.
    let (ct, body) = request_multipart(&[
        ("PayloadType", payload::ELIGIBILITY_REQUEST.as_bytes()),
        ("ProcessingMode", b"RealTime"),
        ("PayloadID", ID.as_bytes()),
        ("TimeStamp", b"2026-12-03T15:43:52Z"),
        ("SenderID", b"S"),
        ("ReceiverID", b"R"),
        ("CORERuleVersion", b"2.2.0"),
        ("Payload", b"ISA"),
    ]);
    let req = Request::post("/core/realtime")
        .header(header::CONTENT_TYPE, ct)
        .header(header::COOKIE, session.cookie())
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn many_first_requests_at_once_share_one_verification() {
    // The production per-address limits: 20 sign-in attempts at once.
    let app = App::build(false, Some(web::auth::ratelimit::Limits::default())).await;
    let d = demo(&app.store).await;
    let (member, npi) = active_member(&app, &d).await;
    let x12 = inquiry(&npi, member.as_str(), "");
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let router = app.router.clone();
            let x12 = x12.clone();
            tokio::spawn(async move {
                post(
                    &router,
                    "/core/realtime",
                    &fields(payload::ELIGIBILITY_REQUEST, &x12, "edi", PASSWORD),
                )
                .await
                .code()
                .to_string()
            })
        })
        .collect();
    for c in calls {
        assert_eq!(
            c.await.unwrap(),
            "Success",
            "a partner's burst is not taken for a password spray"
        );
    }
}

/// The X12 part of the PHI-exclusion test: the member with a distinctive street, city, ZIP and
/// phone (`phi::seed_phi_member`) asked for by member ID and by name in a 270, and their claim
/// in a 276; no 271 or 277 (nor any other field of the envelope) carries those values.
#[tokio::test]
async fn no_271_or_277_carries_a_members_address_or_phone() {
    use crate::phi;
    let app = App::new().await;
    let member = phi::seed_phi_member(&app).await;
    let npi = crate::eligibility::office_npi(&app, "office").await;
    let dob = phi::BIRTH.replace('-', "");
    let by_id = inquiry(&npi, phi::MEMBER_ID, &dob);
    let mut by_name =
        EligibilityRequest::from_tree(&x12::model::parse_bytes(by_id.as_bytes()).1[0].root)
            .expect("our own 270 reads back");
    by_name.subscriber.member_id = String::new();
    by_name.subscriber.last = phi::LAST.to_uppercase();
    by_name.subscriber.first = phi::FIRST.to_uppercase();
    let by_name = by_name.to_x12(&env());
    let status = status_request(
        &npi,
        &member.member,
        &ClaimNumber::parse(&member.claims[0]).unwrap(),
    );
    for (what, payload_type, x12) in [
        ("271 by member ID", payload::ELIGIBILITY_REQUEST, by_id),
        ("271 by name", payload::ELIGIBILITY_REQUEST, by_name),
        ("277", payload::STATUS_REQUEST, status),
    ] {
        let a = post(
            &app.router,
            "/core/realtime",
            &fields(payload_type, &x12, "edi", PASSWORD),
        )
        .await;
        assert_eq!(a.code(), "Success", "{what}: {:?}", a.fields);
        accepted(a.payload());
        assert!(
            a.payload().contains(phi::MEMBER_ID),
            "{what} answers about the PHI member: {}",
            a.payload()
        );
        assert!(
            !a.payload().contains("AAA*"),
            "{what} found the member: {}",
            a.payload()
        );
        for (name, value) in &a.fields {
            phi::assert_x12_phi_free(&format!("{what} field {name}"), value);
        }
    }
}

/// A 278 request over CAQH CORE: the partner (granted the demo office's TIN) asks for 97110 for
/// a covered Medi-Cal member of the plan; the answer is a 278 response that passes X217, with
/// the authorization number in HCR (A1 when an auto-approval rule matches, A4 pended otherwise),
/// and the request is in the plan's review records.
#[tokio::test]
async fn a_278_over_core_gets_a_valid_278_response() {
    use x12::model::ServiceReview;
    let app = App::new().await;
    let d = demo(&app.store).await;
    let today = Utc::now().date_naive();
    let mut member = None;
    for c in &d.own {
        let r = app.store.member(&c.member).await.unwrap().unwrap();
        if r.spans.iter().any(|s| {
            s.line_of_business == domain::plan::LineOfBusiness::MediCal
                && s.covers(today)
                && s.covers(today + chrono::Days::new(40))
        }) {
            member = Some((r.member, c.billing_npi));
            break;
        }
    }
    let (m, npi) = member.expect("a covered Medi-Cal member of the demo office");
    let ymd = |x: chrono::NaiveDate| x.format("%Y%m%d").to_string();
    let request = ServiceReview {
        umo: Party {
            name: "ORANGE COAST HEALTH PLAN".into(),
            id: "OCHP1".into(),
        },
        requester: Party {
            name: "DEMO OFFICE".into(),
            id: npi.as_str().into(),
        },
        subscriber: Person {
            last: m.last_name.to_uppercase(),
            first: m.first_name.to_uppercase(),
            member_id: m.id.as_str().into(),
            dob: ymd(m.birth_date),
            gender: "F".into(),
            address: None,
        },
        trace: "T278CORE1".into(),
        category: "HS".into(),
        certification_type: "I".into(),
        service_type: "2".into(),
        facility_code: "11".into(),
        diagnoses: vec!["M545".into()],
        event_date: format!("{}-{}", ymd(today), ymd(today + chrono::Days::new(30))),
        procedures: vec!["97110".into()],
        units: vec!["8".into()],
        ..Default::default()
    }
    .to_x12(&env());
    let a = post(
        &app.router,
        "/core/realtime",
        &fields(payload::REVIEW_REQUEST, &request, "edi", PASSWORD),
    )
    .await;
    assert_eq!(a.code(), "Success", "{:?}", a.fields);
    assert_eq!(a.get("PayloadType"), payload::REVIEW_RESPONSE);
    let body = a.payload();
    accepted(body);
    let (_, sets) = x12::model::parse_bytes(body.as_bytes());
    let answer = ServiceReview::from_tree(&sets[0].root).expect("a 278 response");
    let decision = answer.decision.expect("an HCR decision, not a rejection");
    assert!(["A1", "A4"].contains(&decision.action.as_str()), "{body}");
    let number = domain::AuthNumber::parse(&decision.auth_number).expect("an authorization number");
    let stored = app.store.auth(&number).await.unwrap().expect("stored");
    assert_eq!(stored.member, m.id);
    assert_eq!(stored.services[0].procedure, "97110");
}

/// An 837P batch over CAQH CORE: the 999 comes back in the envelope, the claims are stored as
/// received; the same bytes again answer the same 999 and store nothing; other content under the
/// same ISA13 is refused with a TA1 (025) and says so in the payload type.
#[tokio::test]
async fn an_837_batch_over_core_is_acknowledged_and_a_resend_is_not_doubled() {
    let app = App::new().await;
    let office = seed::demo_office(&*app.store).await.unwrap();
    let billing = edi::samples::Billing {
        name: "DEMO OFFICE".into(),
        npi: office.npi,
        tin: office.tin,
    };
    let day = Utc::now().date_naive() - chrono::Duration::days(2);
    let claims = edi::samples::for_plan(
        &*app.store,
        domain::claim::ClaimForm::Professional,
        &billing,
        6,
        day,
    )
    .await
    .unwrap();
    let mut envelope = env();
    envelope.control = 8370;
    let file = edi::samples::write_837(&claims, &envelope, 10);
    let send = |x12: String| {
        let router = app.router.clone();
        async move {
            let length = x12.len().to_string();
            let sum = edi::caqh::sha1_hex(x12.as_bytes());
            let mut f = fields(payload::CLAIM_PROFESSIONAL, &x12, "edi", PASSWORD);
            f.retain(|(k, _)| *k != "ProcessingMode");
            f.push(("ProcessingMode", b"Batch"));
            f.push(("PayloadLength", length.as_bytes()));
            f.push(("Checksum", sum.as_bytes()));
            post(&router, "/core/batch", &f).await
        }
    };
    let before = app.store.counts().await.unwrap().claims;
    let first = send(file.clone()).await;
    assert_eq!(first.code(), "Success", "{:?}", first.fields);
    assert_eq!(first.get("PayloadType"), payload::ACK_999);
    assert!(first.payload().contains("AK9*A"), "{}", first.payload());
    let after = app.store.counts().await.unwrap().claims;
    assert_eq!(after, before + 6, "the six claims are stored as received");

    let again = send(file.clone()).await;
    assert_eq!(again.get("PayloadType"), payload::ACK_999);
    assert_eq!(again.payload(), first.payload(), "the original 999, again");
    assert_eq!(
        app.store.counts().await.unwrap().claims,
        after,
        "not doubled"
    );

    let other = edi::samples::write_837(&claims[..3], &envelope, 10);
    let reused = send(other).await;
    assert_eq!(
        reused.get("PayloadType"),
        payload::ACK_TA1,
        "{}",
        reused.payload()
    );
    assert!(reused.payload().contains("*R*025"), "{}", reused.payload());
    assert_eq!(app.store.counts().await.unwrap().claims, after);
}
