//! The PHI-exclusion test (issue 5): a member with a distinctive street, city, ZIP and phone,
//! with claims and an authorization billed by the demo office so that office pages show them,
//! and then every route of `web::routes::policies()` (so routes added later are covered
//! automatically) for every demo account and for nobody: none of the distinctive values may
//! appear in the status line, a header or the body of any response, in any format.
//!
//! Route parameters are filled from [`params`], a table keyed by placeholder name (optionally
//! narrowed by path prefix): a route with a placeholder the table does not know fails the test,
//! so whoever adds one adds its value here. POST routes get a plausible form naming the member
//! (with the session's CSRF token); the batch eligibility route gets a CSV with the member.
//!
//! X12 answers (271, 277) are checked with [`assert_x12_phi_free`] once the EDI endpoint is
//! merged: seed with [`seed_phi_member`], send a 270/276 for [`MEMBER_ID`], pass the payload.

use crate::common::{App, Resp, Session};
use crate::eligibility::{claim, d, multipart, office_npi, span, upload};
use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{TimeZone, Utc};
use domain::auth::{AuthKind, AuthRequest, AuthStatus, RequestedService, Urgency};
use domain::member::{Member, MemberContact, Sex};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, MemberId};
use storage::NewMember;

pub const MEMBER_ID: &str = "M987650001";
pub const FIRST: &str = "Phiona";
pub const LAST: &str = "Testperson";
pub const BIRTH: &str = "1968-03-14";
/// What must never be shown. Chosen to occur nowhere else in the demo plan.
pub const STREET: &str = "4821 Quillwort Terrace";
pub const CITY: &str = "Zephyrhaven";
pub const ZIP: &str = "96789";
pub const PHONE: &str = "3105550199";

/// The claim and authorization numbers of the PHI member.
pub struct PhiMember {
    pub member: MemberId,
    pub claims: Vec<String>,
    pub auth: String,
}

/// Inserts the PHI member (PCP in the demo office, an open care gap), two claims billed by the
/// office and a prior authorization it requested.
pub async fn seed_phi_member(app: &App) -> PhiMember {
    let npi = office_npi(app, "office").await;
    app.store
        .insert_members(&[NewMember {
            member: Member {
                id: MemberId::parse(MEMBER_ID).unwrap(),
                first_name: FIRST.into(),
                last_name: LAST.into(),
                birth_date: d(BIRTH),
                sex: Sex::Female,
            },
            contact: MemberContact {
                street: STREET.into(),
                city: CITY.into(),
                zip: ZIP.into(),
                phone: PHONE.into(),
            },
            spans: vec![span(
                "2024-01-01",
                None,
                LineOfBusiness::MediCal,
                "CCN",
                npi,
            )],
        }])
        .await
        .unwrap();
    let claims = [
        claim(
            9_876_500,
            MEMBER_ID,
            npi,
            &[("99214", "2025-11-03"), ("83036", "2025-11-03")],
            &["E119"],
        ),
        claim(
            9_876_501,
            MEMBER_ID,
            npi,
            &[("99213", "2026-02-10")],
            &["I10"],
        ),
    ];
    app.store.insert_claims(&claims).await.unwrap();
    let auth = AuthRequest {
        number: AuthNumber::from_sequence(9_876_500),
        kind: AuthKind::PriorAuthorization,
        urgency: Urgency::Standard,
        member: MemberId::parse(MEMBER_ID).unwrap(),
        requesting_npi: npi,
        servicing_npi: npi,
        diagnoses: vec!["M1711".into()],
        services: vec![RequestedService {
            procedure: "73721".into(),
            units: 1,
            approved_units: None,
            approved_from: None,
            approved_to: None,
        }],
        place_of_service: "22".into(),
        from_date: d("2026-03-01"),
        to_date: d("2026-05-31"),
        received_at: Utc.with_ymd_and_hms(2026, 2, 20, 16, 0, 0).unwrap(),
        status: AuthStatus::InReview,
        decided_at: None,
        denial_reason: None,
        line_of_business: LineOfBusiness::MediCal,
        urgency_reason: String::new(),
        clinical_notes: String::new(),
        pended_at: None,
        info_received_at: None,
        reviewer: None,
        auto_rule: None,
        appeal: None,
    };
    app.store
        .insert_auths(std::slice::from_ref(&auth))
        .await
        .unwrap();
    PhiMember {
        member: MemberId::parse(MEMBER_ID).unwrap(),
        claims: claims.iter().map(|c| c.number.to_string()).collect(),
        auth: auth.number.to_string(),
    }
}

/// The forms a distinctive value may take in a response: as stored, upper case (X12), the
/// phone formatted three ways.
fn needles() -> Vec<String> {
    let p = PHONE;
    vec![
        STREET.into(),
        "Quillwort".into(),
        CITY.into(),
        ZIP.into(),
        p.into(),
        format!("({}) {}-{}", &p[..3], &p[3..6], &p[6..]),
        format!("{}-{}-{}", &p[..3], &p[3..6], &p[6..]),
        format!("{}.{}.{}", &p[..3], &p[3..6], &p[6..]),
    ]
}

/// Where a distinctive value occurs in `text`: case-insensitive; digits only as a whole number
/// (not inside a longer run of letters and digits such as a token or a hash).
pub fn leak(text: &str) -> Option<String> {
    let hay = text.to_lowercase();
    for n in needles() {
        let needle = n.to_lowercase();
        let mut from = 0;
        while let Some(at) = hay[from..].find(&needle) {
            let start = from + at;
            let end = start + needle.len();
            let before = hay[..start].chars().next_back();
            let after = hay[end..].chars().next();
            let digits = needle.starts_with(|c: char| c.is_ascii_digit());
            let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
            if !digits || (bounded(before) && bounded(after)) {
                let ctx: String = text[start.saturating_sub(60)..(end + 60).min(text.len())].into();
                return Some(format!("{n:?} in …{ctx}…"));
            }
            from = end;
        }
    }
    None
}

/// Fails when a distinctive value is in `text` (`what` names the response).
pub fn assert_phi_free(what: &str, text: &str) {
    if let Some(l) = leak(text) {
        panic!("PHI in {what}: {l}");
    }
}

/// For the lead, once the EDI endpoint is merged: fails when an X12 payload (a 271 or 277
/// answering for [`MEMBER_ID`]) carries the member's street, city, ZIP or phone in any
/// element (N3/N4/PER included), whatever the delimiters.
pub fn assert_x12_phi_free(what: &str, payload: &str) {
    // Elements are separated by `*` (or any delimiter the envelope chose): look at the payload
    // as is and with every non-alphanumeric separator turned into a space.
    assert_phi_free(what, payload);
    let spaced: String = payload
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    assert_phi_free(what, &spaced);
}

/// Values for route placeholders: `(placeholder, path prefix it applies to ("" = any), value)`,
/// first match wins. Extend it when a route brings a new placeholder.
fn params(
    phi: &PhiMember,
    batch: &str,
    office_user: i64,
    registration: i64,
) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("number", "/claims", phi.claims[0].clone()),
        ("number", "/auth", phi.auth.clone()),
        ("number", "/prior-auth", phi.auth.clone()),
        ("number", "/referrals", phi.auth.clone()),
        ("number", "", phi.claims[0].clone()),
        ("claim", "", phi.claims[0].clone()),
        ("auth", "", phi.auth.clone()),
        ("member", "", phi.member.to_string()),
        ("member_id", "", phi.member.to_string()),
        ("batch", "", batch.to_string()),
        ("file", "", "portal.css".into()),
        ("token", "", "0".repeat(64)),
        ("doc", "", "1".into()),
        ("ack", "", "277ca".into()),
        ("id", "/office/users", office_user.to_string()),
        ("id", "/plan/users", office_user.to_string()),
        ("id", "", registration.to_string()),
    ]
}

fn fill(path: &str, table: &[(&'static str, &'static str, String)]) -> String {
    let mut out = path.to_string();
    while let Some(open) = out.find('{') {
        let close = out[open..].find('}').expect("a closing brace") + open;
        let name = out[open + 1..close].to_string();
        let value = table
            .iter()
            .find(|(p, prefix, _)| *p == name && path.starts_with(prefix))
            .map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| {
                panic!("no value for {{{name}}} in {path}: add one to `params` in tests/it/phi.rs")
            });
        out.replace_range(open..=close, &value);
    }
    out
}

/// A plausible form for any POST: the member's identifiers under the names forms use, and
/// harmless choices for the administrative forms (nothing is deactivated).
fn form(phi: &PhiMember) -> Vec<(&'static str, String)> {
    vec![
        ("member_id", phi.member.to_string()),
        ("birth_date", BIRTH.into()),
        ("last_name", LAST.into()),
        ("first_name", FIRST.into()),
        ("date_of_service", String::new()),
        ("number", phi.claims[0].clone()),
        ("claim_number", phi.claims[0].clone()),
        ("auth_number", phi.auth.clone()),
        ("status", "active".into()),
        ("claims", "false".into()),
        ("decision", "deny".into()),
        ("reason", "PHI exclusion test".into()),
    ]
}

fn check(what: &str, r: &Resp, seen_member: &mut usize) {
    assert_phi_free(&format!("{what} status"), r.status.as_str());
    for (name, value) in &r.headers {
        assert_phi_free(
            &format!("{what} header {name}"),
            &String::from_utf8_lossy(value.as_bytes()),
        );
    }
    assert_phi_free(&format!("{what} body"), &r.body);
    if r.body.contains(MEMBER_ID) {
        *seen_member += 1;
    }
}

async fn call(
    app: &App,
    method: &Method,
    url: &str,
    session: Option<&Session>,
    phi: &PhiMember,
) -> Resp {
    if *method == Method::GET {
        return app.get(url, session).await;
    }
    if url == "/eligibility/batch" {
        let csv = format!(
            "member_id,birth_date,last_name,first_name\n{MEMBER_ID},{BIRTH},,\n,{BIRTH},{LAST},{FIRST}\n"
        );
        let mut fields: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = session {
            fields.push(("_csrf", &s.csrf));
        }
        let (ct, body) = multipart(&fields, Some(("file", "members.csv", csv.as_bytes())));
        let mut req = Request::post(url)
            .header(header::CONTENT_TYPE, ct)
            .header(header::HOST, "portal.test")
            .header("sec-fetch-site", "same-origin");
        if let Some(s) = session {
            req = req.header(header::COOKIE, s.cookie());
        }
        return app.send(req.body(Body::from(body)).unwrap()).await;
    }
    let f = form(phi);
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post(url, session, &fields).await
}

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

#[test]
fn the_check_can_fail() {
    assert!(leak(&format!("<td>{STREET}</td>")).is_some());
    assert!(leak(&STREET.to_uppercase()).is_some(), "X12 upper case");
    assert!(leak("N4*ZEPHYRHAVEN*CA*96789~").is_some());
    assert!(leak("PER*IC**TE*(310) 555-0199").is_some());
    assert!(
        leak("token=a96789b and 196789 and 967890").is_none(),
        "digits inside longer runs"
    );
    let r = std::panic::catch_unwind(|| assert_x12_phi_free("271", "N3*4821 QUILLWORT TERRACE~"));
    assert!(r.is_err());
}

#[tokio::test]
async fn no_route_shows_a_members_address_or_phone_to_anyone() {
    let app = App::new().await;
    let phi = seed_phi_member(&app).await;
    // A batch result of the office user naming the member, for the download route.
    let office = app.session("office").await;
    let csv = format!("member_id,birth_date\n{MEMBER_ID},{BIRTH}\n");
    let summary = upload(&app, &office, "phi.csv", csv.as_bytes()).await;
    let batch = crate::eligibility::download_link(&summary.body)
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let office_user = app.user("office").await.id;
    let registration = app
        .store
        .create_registration(&storage::NewRegistration {
            kind: domain::registration::RequestKind::Access,
            name: "Pat Newhire".into(),
            email: "pat.newhire@office.test".into(),
            phone: "7145550123".into(),
            npi: domain::Npi::parse("1234567893").unwrap(),
            tin: crate::eligibility::tin_of(&app, "office").await,
            office_name: "Some office".into(),
            office_role: domain::registration::OfficeRole::FrontDesk,
            user_id: None,
            note: String::new(),
            submitted_at: Utc::now(),
            source: "test".into(),
        })
        .await
        .unwrap();
    let table = params(&phi, &batch, office_user, registration);

    let mut requests = 0;
    let mut seen_member = 0;
    let routes = web::routes::policies();
    for (method, path, _, _) in &routes {
        let url = fill(path, &table);
        let r = call(&app, method, &url, None, &phi).await;
        check(&format!("{method} {url} as nobody"), &r, &mut seen_member);
        requests += 1;
        for account in ACCOUNTS {
            let session = app.session(account).await;
            let r = call(&app, method, &url, Some(&session), &phi).await;
            check(
                &format!("{method} {url} as {account}"),
                &r,
                &mut seen_member,
            );
            requests += 1;
        }
    }
    eprintln!(
        "PHI exclusion: {requests} requests over {} routes x {} accounts and nobody; {seen_member} responses showed the member",
        routes.len(),
        ACCOUNTS.len()
    );
    assert!(requests >= routes.len() * (ACCOUNTS.len() + 1));
    // The test reached pages that show the member (eligibility, batch, claims, alerts): a leak
    // there would have been seen.
    assert!(
        seen_member >= 8,
        "only {seen_member} responses showed the member"
    );
}
