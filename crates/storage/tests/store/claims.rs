//! Claims: whole claims back, the office scope (the billing provider's TIN), search, and the
//! 276's one-statement read.

use crate::common::*;
use domain::access::Scope;
use domain::claim::{Claim, ClaimLine, ClaimStatus};
use domain::{Cents, ClaimNumber};
use storage::{ClaimQuery, ClaimStore};

on_both!(
    claims_come_back_whole,
    an_office_sees_only_the_claims_billed_under_its_tins,
    claim_search_combines_its_criteria_and_keeps_the_scope,
    claim_status_reads_the_lines_and_payment_under_the_billing_tin,
);

/// The plan, and claim 2 of the same member billed by another office's provider (under
/// [`OTHER_TIN`]), received later, its earliest line on 2025-03-30.
async fn two_offices(db: &Db) -> (Plan, Claim) {
    let plan = plan(&*db.store).await;
    let mut other_provider = provider(other_npi());
    other_provider.tin = other_tin();
    db.store.insert_providers(&[other_provider]).await.unwrap();
    let mut other = claim(2, plan.member(), other_npi());
    other.received = d("2025-04-05");
    other.patient_account = format!("{}-B", other.patient_account);
    other.lines[0].service_date = d("2025-04-02");
    other.lines[1].service_date = d("2025-03-30");
    db.store
        .insert_claims(std::slice::from_ref(&other))
        .await
        .unwrap();
    (plan, other)
}

async fn claims_come_back_whole(db: Db) {
    let store = db.store;
    let plan = plan(&*store).await;
    let c = &plan.claim;
    let back = store.claim(&c.number).await.unwrap().expect("claim stored");
    assert_eq!(&back, c);
    assert!(back.lines.iter().all(ClaimLine::balances));
    assert_eq!(back.paid(), Cents(11000));
    assert_eq!(
        store.claim(&ClaimNumber::from_sequence(99)).await.unwrap(),
        None
    );
}

async fn an_office_sees_only_the_claims_billed_under_its_tins(db: Db) {
    let (plan, other) = two_offices(&db).await;
    let store = db.store;
    let claim = &plan.claim.number;
    let member = plan.member().clone();
    let mine = store
        .claims_in_scope(&Scope::Tins(vec![tin()]), 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "the other TIN's claim is not listed");
    let s = &mine[0];
    assert_eq!(&s.number, claim);
    assert_eq!(s.member, member);
    assert_eq!(s.member_name, "Ana García");
    assert_eq!(
        (s.received, s.service_from),
        (d("2025-03-04"), d("2025-03-01"))
    );
    assert_eq!((s.billed.0, s.paid.0), (24500, 11000));
    assert_eq!(s.patient_account, "PA-778");
    assert_eq!(s.status, ClaimStatus::PartiallyPaid);
    let theirs = store
        .claims_in_scope(&Scope::Tins(vec![other_tin()]), 10)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].number, other.number);
    assert_eq!(theirs[0].service_from, d("2025-03-30"), "the earliest line");
    let both = store
        .claims_in_scope(&Scope::Tins(vec![tin(), other_tin()]), 10)
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|c| c.number.clone()).collect::<Vec<_>>(),
        vec![other.number.clone(), claim.clone()],
        "newest received first"
    );
    assert_eq!(
        store
            .claims_in_scope(&Scope::Tins(vec![tin(), other_tin()]), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .claims_in_scope(&Scope::Nothing, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claims_in_scope(&Scope::Tins(vec![]), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_in_scope(&other.number, &Scope::Tins(vec![tin()]))
            .await
            .unwrap()
            .is_none(),
        "another TIN's claim answers like one that does not exist"
    );
    assert_eq!(
        store
            .claim_in_scope(&other.number, &Scope::Tins(vec![other_tin()]))
            .await
            .unwrap(),
        Some(other)
    );
    assert!(
        store
            .claim_in_scope(&ClaimNumber::from_sequence(99), &Scope::Tins(vec![tin()]))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim_in_scope(claim, &Scope::Nothing)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim_in_scope(claim, &Scope::Tins(vec![tin()]))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .claim_in_scope(claim, &Scope::Tins(vec![other_tin()]))
            .await
            .unwrap()
            .is_none()
    );
}

/// The claim numbers a search finds: a caller of one area takes that area's trait.
async fn search(store: &dyn ClaimStore, scope: &Scope, q: ClaimQuery) -> Vec<ClaimNumber> {
    store
        .search_claims(scope, &ClaimQuery { limit: 10, ..q })
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.number)
        .collect()
}

async fn claim_search_combines_its_criteria_and_keeps_the_scope(db: Db) {
    let (plan, other) = two_offices(&db).await;
    let store = &*db.store;
    let claim = plan.claim.number.clone();
    let both = Scope::Tins(vec![tin(), other_tin()]);
    assert_eq!(
        search(
            store,
            &both,
            ClaimQuery {
                patient_account: Some("PA-778".into()),
                ..Default::default()
            }
        )
        .await,
        vec![claim.clone()]
    );
    assert_eq!(
        search(
            store,
            &both,
            ClaimQuery {
                member: Some(plan.member().clone()),
                service_from: Some(d("2025-03-15")),
                service_to: Some(d("2025-04-30")),
                ..Default::default()
            }
        )
        .await,
        vec![other.number.clone()],
        "the range bounds the first date of service"
    );
    assert_eq!(
        search(
            store,
            &both,
            ClaimQuery {
                number: Some(other.number.clone()),
                patient_account: Some("PA-778".into()),
                ..Default::default()
            }
        )
        .await,
        Vec::<ClaimNumber>::new(),
        "criteria combine with AND"
    );
    assert!(
        search(
            store,
            &Scope::Tins(vec![tin()]),
            ClaimQuery {
                number: Some(other.number.clone()),
                ..Default::default()
            }
        )
        .await
        .is_empty(),
        "another TIN's claim is not found by number"
    );
    assert!(
        search(store, &Scope::Nothing, ClaimQuery::default())
            .await
            .is_empty()
    );
}

async fn claim_status_reads_the_lines_and_payment_under_the_billing_tin(db: Db) {
    let (plan, _) = two_offices(&db).await;
    let store = db.store;
    let claim = &plan.claim;
    let scope = Scope::Tins(vec![tin()]);
    let by_number = ClaimQuery {
        number: Some(claim.number.clone()),
        limit: 10,
        ..ClaimQuery::default()
    };
    let got = store.claim_statuses(&scope, &by_number).await.unwrap();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.number, claim.number);
    assert_eq!(r.status, ClaimStatus::PartiallyPaid);
    assert_eq!(
        (r.member_first.as_str(), r.member_last.as_str()),
        ("Ana", "García")
    );
    assert_eq!(r.lines.len(), 2);
    assert_eq!((r.billed(), r.paid()), (Cents(24500), Cents(11000)));
    assert_eq!(r.lines[0].modifiers, vec!["25".to_string()]);
    assert_eq!(
        r.payment.as_ref().map(|p| p.number.as_str()),
        Some("EFT000123")
    );
    assert_eq!(r.service_from(), Some(d("2025-03-01")));

    assert!(
        store
            .claim_statuses(&Scope::Tins(vec![other_tin()]), &by_number)
            .await
            .unwrap()
            .is_empty(),
        "another TIN sees nothing"
    );
    assert!(
        store
            .claim_statuses(&Scope::Nothing, &by_number)
            .await
            .unwrap()
            .is_empty()
    );
    let by_account = ClaimQuery {
        patient_account: Some("PA-778".into()),
        limit: 10,
        ..ClaimQuery::default()
    };
    assert_eq!(
        store
            .claim_statuses(&scope, &by_account)
            .await
            .unwrap()
            .len(),
        1
    );
    let in_range = |from: &str, to: &str| ClaimQuery {
        member: Some(plan.member().clone()),
        service_from: Some(d(from)),
        service_to: Some(d(to)),
        limit: 10,
        ..ClaimQuery::default()
    };
    assert_eq!(
        store
            .claim_statuses(&scope, &in_range("2025-03-01", "2025-03-01"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .claim_statuses(&scope, &in_range("2025-03-02", "2025-12-31"))
            .await
            .unwrap()
            .iter()
            .all(|c| c.number != claim.number),
        "the range bounds the first date of service"
    );
    let missing = ClaimQuery {
        number: Some(ClaimNumber::from_sequence(424242)),
        limit: 10,
        ..ClaimQuery::default()
    };
    assert!(
        store
            .claim_statuses(&scope, &missing)
            .await
            .unwrap()
            .is_empty()
    );
}
