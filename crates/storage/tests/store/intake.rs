//! 837 intake: bulk lookups, claim-number reservations that never overlap, the interchange
//! stored with its claims in one transaction (a failure late in a big batch leaves nothing),
//! the same interchange refused a second time, rejected ones kept as history only.

use crate::common::*;
use chrono::{TimeZone, Utc};
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::{Cents, ClaimNumber, MemberId, Npi};
use storage::{IntakeClaimResult, InterchangeStatus, NewInterchange, StorageError};

on_both!(
    an_837s_members_and_providers_are_read_in_bulk,
    reserved_claim_numbers_skip_stored_claims_and_never_overlap,
    an_interchange_is_stored_with_its_claims_and_their_outcomes,
    the_same_interchange_a_second_time_is_refused_and_nothing_stored,
    a_failure_late_in_a_big_batch_leaves_nothing,
    rejected_interchanges_are_history_only,
);

fn interchange(control: &str, sha: &str, org: i64, status: InterchangeStatus) -> NewInterchange {
    NewInterchange {
        sender_qualifier: "ZZ".into(),
        sender_id: "IRVINEFM".into(),
        control_number: control.into(),
        sha256: sha.into(),
        received_at: Utc.with_ymd_and_hms(2025, 4, 2, 17, 30, 0).unwrap(),
        submitter_user: None,
        submitter_org: Some(org),
        submitter_name: "front.desk".into(),
        source: "test".into(),
        file_name: "april.837".into(),
        bytes: 1234,
        forms: "P".into(),
        status,
        claims_accepted: 0,
        claims_rejected: 0,
        ack_999: "ISA*00*999~".into(),
        ack_277ca: (status != InterchangeStatus::Rejected).then(|| "ISA*00*277CA~".into()),
        findings: String::new(),
    }
}

fn received(seq: u64, member: &MemberId, npi: Npi) -> Claim {
    Claim {
        number: ClaimNumber::from_sequence(seq),
        form: ClaimForm::Professional,
        patient_account: format!("PA{seq}"),
        member: member.clone(),
        billing_npi: npi,
        rendering_npi: None,
        diagnoses: vec!["J069".into()],
        place_of_service: "11".into(),
        received: "2025-04-02".parse().unwrap(),
        status: ClaimStatus::Received,
        lines: vec![ClaimLine {
            line_number: 1,
            procedure: "99213".into(),
            modifiers: vec![],
            revenue_code: None,
            units: 1,
            service_date: "2025-03-30".parse().unwrap(),
            billed: Cents(12000),
            allowed: Cents::ZERO,
            paid: Cents::ZERO,
            adjustments: vec![],
        }],
        payment: None,
    }
}

fn result(seq: i64, claim: Option<&Claim>) -> IntakeClaimResult {
    IntakeClaimResult {
        seq,
        set_control: "0001".into(),
        patient_account: format!("PA{seq}"),
        member_id: "M000000001".into(),
        billing_npi: "1234567893".into(),
        charge: Cents(12000),
        claim_number: claim.map(|c| c.number.clone()),
        status_code: if claim.is_some() { "A2:20" } else { "A3:33" }.into(),
        reason: "words".into(),
    }
}

/// The plan and its office; an accepted interchange `000000001` (bytes `aa11`) with two
/// accepted claims and one rejected: (org, interchange id, its claims, its results).
async fn stored(db: &Db) -> (i64, i64, Vec<Claim>, Vec<IntakeClaimResult>) {
    plan(&*db.store).await;
    let (org, _) = office(&*db.store).await;
    let m1 = MemberId::from_sequence(1);
    let base = db.store.reserve_claim_numbers(2000).await.unwrap();
    let claims = vec![received(base, &m1, npi()), received(base + 1, &m1, npi())];
    let results = vec![
        result(1, Some(&claims[0])),
        result(2, None),
        result(3, Some(&claims[1])),
    ];
    let mut ix = interchange("000000001", "aa11", org, InterchangeStatus::Accepted);
    ix.claims_accepted = 2;
    ix.claims_rejected = 1;
    let before = db.store.counts().await.unwrap();
    let id = db
        .store
        .store_interchange(&ix, &claims, &results)
        .await
        .unwrap();
    assert_eq!(db.store.counts().await.unwrap().claims, before.claims + 2);
    (org, id, claims, results)
}

async fn an_837s_members_and_providers_are_read_in_bulk(db: Db) {
    plan(&*db.store).await;
    let m1 = MemberId::from_sequence(1);
    let lookup = db
        .store
        .intake_lookup(
            &[
                m1.clone(),
                MemberId::from_sequence(2),
                MemberId::from_sequence(77),
            ],
            &[npi(), Npi::from_base(287_654_321).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(lookup.members.len(), 2, "unknown members are absent");
    assert_eq!(lookup.members[&m1].len(), 2, "with their eligibility");
    assert_eq!(
        lookup.members[&m1],
        members()[0].spans,
        "oldest first, unchanged"
    );
    assert_eq!(lookup.providers.len(), 1, "unknown providers are absent");
    assert_eq!(lookup.providers[&npi()], tin());
}

async fn reserved_claim_numbers_skip_stored_claims_and_never_overlap(db: Db) {
    let plan = plan(&*db.store).await;
    let store = db.store;
    let first = store.reserve_claim_numbers(5).await.unwrap();
    assert!(first >= 2, "after the plan's claim 1");
    assert!(
        store
            .claim(&ClaimNumber::from_sequence(first))
            .await
            .unwrap()
            .is_none(),
        "a reserved number is free"
    );
    assert_eq!(store.reserve_claim_numbers(3).await.unwrap(), first + 5);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.reserve_claim_numbers(10).await.unwrap() })
        })
        .collect();
    let mut starts = Vec::new();
    for t in tasks {
        starts.push(t.await.unwrap());
    }
    starts.sort();
    assert!(starts.windows(2).all(|w| w[1] >= w[0] + 10), "{starts:?}");
    // A claim stored past the counter (a seeded plan numbers its own) is skipped too.
    let high = starts.last().unwrap() + 500;
    store
        .insert_claims(&[received(high, plan.member(), npi())])
        .await
        .unwrap();
    assert!(store.reserve_claim_numbers(1).await.unwrap() > high);
    let c1 = store.reserve_control_numbers(2).await.unwrap();
    assert_eq!(store.reserve_control_numbers(1).await.unwrap(), c1 + 2);
}

async fn an_interchange_is_stored_with_its_claims_and_their_outcomes(db: Db) {
    let (org, id, claims, results) = stored(&db).await;
    let store = db.store;
    assert_eq!(
        store.claim(&claims[1].number).await.unwrap(),
        Some(claims[1].clone())
    );
    let rec = store.interchange(id, Some(org)).await.unwrap().unwrap();
    assert_eq!(
        (
            rec.status,
            rec.claims_accepted,
            rec.claims_rejected,
            rec.has_277ca
        ),
        (InterchangeStatus::Accepted, 2, 1, true)
    );
    assert_eq!(
        rec.received_at,
        Utc.with_ymd_and_hms(2025, 4, 2, 17, 30, 0).unwrap()
    );
    assert_eq!(
        store.interchange(id, None).await.unwrap(),
        Some(rec.clone())
    );
    assert!(
        store
            .interchange(id, Some(org + 1000))
            .await
            .unwrap()
            .is_none(),
        "scoped"
    );
    assert_eq!(store.interchange_results(id).await.unwrap(), results);
    let acks = store.interchange_acks(id).await.unwrap().unwrap();
    assert_eq!(acks.ack_277ca.as_deref(), Some("ISA*00*277CA~"));
    assert_eq!(acks.ack_999, "ISA*00*999~");
    assert_eq!(
        store.interchange_by_hash("aa11").await.unwrap().unwrap().id,
        id
    );
    assert_eq!(
        store
            .interchange_by_control("ZZ", "IRVINEFM", "000000001")
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
}

async fn the_same_interchange_a_second_time_is_refused_and_nothing_stored(db: Db) {
    let (org, _, claims, _) = stored(&db).await;
    let store = db.store;
    let m1 = MemberId::from_sequence(1);
    let next: u64 = claims[1].number.as_str()[ClaimNumber::PREFIX.len()..]
        .parse::<u64>()
        .unwrap()
        + 1;
    let again = store
        .store_interchange(
            &interchange("000000001", "bb22", org, InterchangeStatus::Accepted),
            &[received(next, &m1, npi())],
            &[],
        )
        .await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
    let again = store
        .store_interchange(
            &interchange("000000002", "aa11", org, InterchangeStatus::Accepted),
            &[],
            &[],
        )
        .await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
    assert!(
        store
            .claim(&ClaimNumber::from_sequence(next))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.interchanges_of_org(org, 10).await.unwrap().len(), 1);
}

async fn a_failure_late_in_a_big_batch_leaves_nothing(db: Db) {
    plan(&*db.store).await;
    let (org, _) = office(&*db.store).await;
    let store = db.store;
    let m1 = MemberId::from_sequence(1);
    let base = store.reserve_claim_numbers(2000).await.unwrap();
    // 1,500 claims whose last names no member fails in its second chunk, and leaves neither
    // the interchange nor any of its claims.
    let before = store.counts().await.unwrap();
    let mut big: Vec<Claim> = (0..1500)
        .map(|i| received(base + 10 + i, &m1, npi()))
        .collect();
    big.last_mut().unwrap().member = MemberId::from_sequence(4242);
    let failed = store
        .store_interchange(
            &interchange("000000003", "cc33", org, InterchangeStatus::Accepted),
            &big,
            &[],
        )
        .await;
    assert!(failed.is_err());
    assert_eq!(
        store.counts().await.unwrap(),
        before,
        "nothing of the batch remains"
    );
    assert!(store.claim(&big[0].number).await.unwrap().is_none());
    assert!(
        store
            .interchange_by_control("ZZ", "IRVINEFM", "000000003")
            .await
            .unwrap()
            .is_none()
    );
}

async fn rejected_interchanges_are_history_only(db: Db) {
    let (org, _, _, _) = stored(&db).await;
    let store = db.store;
    // Rejected interchanges are history only: the same control number may come again.
    let r1 = store
        .store_interchange(
            &interchange("000000004", "dd44", org, InterchangeStatus::Rejected),
            &[],
            &[],
        )
        .await
        .unwrap();
    let r2 = store
        .store_interchange(
            &interchange("000000004", "dd44", org, InterchangeStatus::Rejected),
            &[],
            &[],
        )
        .await
        .unwrap();
    assert_ne!(r1, r2);
    assert!(store.interchange_by_hash("dd44").await.unwrap().is_none());
    assert!(
        store
            .interchange_by_control("ZZ", "IRVINEFM", "000000004")
            .await
            .unwrap()
            .is_none()
    );
    let history = store.interchanges_of_org(org, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history[0].id > history[2].id, "newest first");
    assert!(!history[0].has_277ca);
    assert_eq!(
        store.interchange_acks(r2).await.unwrap().unwrap().ack_277ca,
        None
    );
}
