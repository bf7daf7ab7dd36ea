//! 270 -> 271 and 276 -> 277 against the demo plan, through the envelope helper: every answer
//! passes the guide's validation, and says what the records say.

use chrono::{Duration, Utc};
use domain::access::Scope;
use domain::claim::ClaimStatus;
use edi::Partner;
use edi::caqh::{Kind, Plan, read_payload};
use std::sync::Arc;
use storage::Store;
use x12::model::{EligibilityRequest, Envelope, Party, Person, StatusQuery, StatusRequest};

async fn demo() -> (Arc<dyn Store>, tempfile::TempDir, Partner) {
    let dir = tempfile::tempdir().unwrap();
    let store = storage::open(&format!("sqlite://{}/p.db", dir.path().display()))
        .await
        .unwrap();
    seed::demo_with_password(&*store, "pw-for-tests")
        .await
        .unwrap();
    let office = seed::demo_office(&*store).await.unwrap();
    let partner = Partner {
        user_id: 1,
        org_id: 1,
        scope: Scope::Tins(vec![office.tin]),
    };
    (store, dir, partner)
}

fn env() -> Envelope {
    Envelope {
        sender: "SUBMITTER".into(),
        receiver: "OCHP1".into(),
        date: Utc::now().date_naive().format("%Y%m%d").to_string(),
        ..Envelope::default()
    }
}

fn valid(x12: &str) {
    let r = x12::validate_bytes(x12.as_bytes(), &x12::Options::default());
    assert!(r.accepted(), "{:#?}\n{x12}", r.errors_by_offset());
}

fn ask(npi: &str, sub: Person, dos: &str) -> String {
    EligibilityRequest {
        payer_name: "PLAN".into(),
        payer_id: "OCHP1".into(),
        provider_name: "OFFICE".into(),
        provider_npi: npi.into(),
        subscriber: sub,
        trace: "TR1".into(),
        date_of_service: dos.into(),
        service_types: vec!["30".into()],
    }
    .to_x12(&env())
}

fn by_id(id: &str) -> Person {
    Person {
        member_id: id.into(),
        ..Person::default()
    }
}

async fn eligibility(store: &Arc<dyn Store>, p: &Partner, x12: &str) -> edi::eligibility::Answer {
    let Ok(accepted) = read_payload(x12.as_bytes(), Kind::Eligibility) else {
        panic!("a valid 270 is accepted");
    };
    let who = edi::lookups::Looker {
        user_id: p.user_id,
        username: "partner".into(),
        org_id: p.org_id,
        source: "192.0.2.1".into(),
    };
    let a = edi::eligibility::answer(&**store, p, &who, &Plan::default(), &accepted, Utc::now())
        .await
        .unwrap();
    valid(&a.x12);
    a
}

async fn status(store: &Arc<dyn Store>, p: &Partner, x12: &str) -> edi::status::Answer {
    let Ok(accepted) = read_payload(x12.as_bytes(), Kind::Status) else {
        panic!("a valid 276 is accepted");
    };
    let a = edi::status::answer(
        &**store,
        p,
        &Plan::default(),
        &accepted,
        Utc::now().date_naive(),
    )
    .await
    .unwrap();
    valid(&a.x12);
    a
}

fn status_request(npi: &str, member: &str, q: StatusQuery) -> String {
    StatusRequest {
        payer: Party {
            name: "PLAN".into(),
            id: "OCHP1".into(),
        },
        receiver: Party {
            name: "SUBMITTER".into(),
            id: "SUB1".into(),
        },
        provider: Party {
            name: "OFFICE".into(),
            id: npi.into(),
        },
        subscriber: Person {
            last: "X".into(),
            first: "Y".into(),
            member_id: member.into(),
            ..Person::default()
        },
        queries: vec![q],
    }
    .to_x12(&env())
}

#[tokio::test]
async fn eligibility_by_id_by_name_and_inactive() {
    let (store, _dir, partner) = demo().await;
    let own = store.claims_in_scope(&partner.scope, 200).await.unwrap();
    let npi = own[0].billing_npi.as_str().to_string();
    let today = Utc::now().date_naive();
    let mut active = None;
    for c in &own {
        let m = store.member(&c.member).await.unwrap().unwrap();
        if m.spans.iter().any(|s| s.covers(today)) {
            active = Some(m);
            break;
        }
    }
    let m = active.expect("a covered member");
    let id = m.member.id.as_str();
    let a = eligibility(&store, &partner, &ask(&npi, by_id(id), "")).await;
    assert_eq!(a.outcome, "active");
    assert_eq!(a.disclosed, vec![m.member.id.clone()]);
    assert!(a.x12.contains("EB*1*IND*30*"), "{}", a.x12);

    // The same member by name (any case) and birth date.
    let dob = m.member.birth_date.format("%Y%m%d").to_string();
    let named = Person {
        last: m.member.last_name.to_uppercase(),
        first: m.member.first_name.to_lowercase(),
        dob,
        ..Person::default()
    };
    let b = eligibility(&store, &partner, &ask(&npi, named, "")).await;
    assert_eq!(b.disclosed, vec![m.member.id.clone()], "{}", b.x12);
    assert!(b.x12.contains(&format!(
        "NM1*IL*1*{}*{}****MI*{id}",
        m.member.last_name, m.member.first_name
    )));

    // A name without a birth date: 58.
    let nameless = Person {
        last: "X".into(),
        first: "Y".into(),
        ..Person::default()
    };
    let c = eligibility(&store, &partner, &ask(&npi, nameless, "")).await;
    assert!(
        c.x12.contains("AAA*N**58*C") && c.disclosed.is_empty(),
        "{}",
        c.x12
    );

    // Before the first span began: inactive, with that span's dates.
    let first = &m.spans[0];
    let before = (first.start - Duration::days(30))
        .format("%Y%m%d")
        .to_string();
    let d = eligibility(&store, &partner, &ask(&npi, by_id(id), &before)).await;
    assert_eq!(d.outcome, "inactive", "{}", d.x12);
    assert!(d.x12.contains("EB*6*IND*30"));
    assert!(
        d.x12
            .contains(&format!("DTP*356*D8*{}", first.start.format("%Y%m%d")))
    );

    // Beyond the end of this month: 62.
    let later = (today + Duration::days(70)).format("%Y%m%d").to_string();
    let e = eligibility(&store, &partner, &ask(&npi, by_id(id), &later)).await;
    assert!(e.x12.contains("AAA*N**62*C") && e.disclosed.is_empty());
}

/// Past the partner's budget of not-found lookups every 270 gets the 2000A "authorized
/// quantity exceeded" rejection, which the guide accepts, and nothing about the member.
#[tokio::test]
async fn a_partner_over_its_lookup_budget_gets_a_valid_aaa_04() {
    let (store, _dir, partner) = demo().await;
    let own = store.claims_in_scope(&partner.scope, 50).await.unwrap();
    let npi = own[0].billing_npi.as_str().to_string();
    for n in 0..domain::lookup_limits::USER_MISSES {
        let miss = eligibility(
            &store,
            &partner,
            &ask(&npi, by_id(&format!("M9{n:09}")), ""),
        )
        .await;
        assert!(miss.x12.contains("AAA*N**75*C"), "{}", miss.x12);
    }
    let known = own[0].member.as_str();
    let refused = eligibility(&store, &partner, &ask(&npi, by_id(known), "")).await;
    assert!(refused.x12.contains("AAA*N**04*N"), "{}", refused.x12);
    assert!(refused.disclosed.is_empty() && !refused.x12.contains("EB*"));
    assert_eq!(refused.outcome, "AAA 2000A 04");
    let misses = store
        .audit_page(0, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.action == "eligibility.miss" && e.event.outcome == "core")
        .count();
    assert_eq!(misses, domain::lookup_limits::USER_MISSES as usize);
}

#[tokio::test]
async fn status_of_claims_in_each_state_validates() {
    let (store, _dir, partner) = demo().await;
    let own = store.claims_in_scope(&partner.scope, 500).await.unwrap();
    let mut seen = std::collections::HashSet::new();
    for c in &own {
        if !seen.insert(c.status) {
            continue;
        }
        let q = StatusQuery {
            trace: "Q1".into(),
            claim_id: c.patient_account.clone(),
            ..StatusQuery::default()
        };
        let a = status(
            &store,
            &partner,
            &status_request(c.billing_npi.as_str(), c.member.as_str(), q),
        )
        .await;
        assert!(a.disclosed.contains(&c.number), "{:?}: {}", c.status, a.x12);
        let expect = match c.status {
            ClaimStatus::Paid | ClaimStatus::PartiallyPaid => "STC*F1:65",
            ClaimStatus::Denied => "STC*F2:1",
            ClaimStatus::Pended => "STC*P1:20",
            ClaimStatus::Received => "STC*A2:20",
            ClaimStatus::Rejected => "STC*A3:21",
            ClaimStatus::Adjusted => "STC*F",
        };
        assert!(a.x12.contains(expect), "{:?}: {}", c.status, a.x12);
    }
    assert!(
        seen.len() >= 3,
        "the demo office has claims in several states: {seen:?}"
    );

    // A claim number asked under another member: not found (D0:35), nothing disclosed.
    let c = &own[0];
    let other = own.iter().find(|o| o.member != c.member).unwrap();
    let q = StatusQuery {
        trace: "Q2".into(),
        payer_claim_id: c.number.as_str().into(),
        ..StatusQuery::default()
    };
    let a = status(
        &store,
        &partner,
        &status_request(c.billing_npi.as_str(), other.member.as_str(), q),
    )
    .await;
    assert!(
        a.x12.contains("STC*D0:35*") && a.disclosed.is_empty(),
        "{}",
        a.x12
    );
}
