//! 837 intake on either backend: bulk lookups, claim-number reservations that never overlap,
//! the interchange stored with its claims in one transaction (a failure late in a big batch
//! leaves nothing), and the same interchange refused a second time.

use chrono::{TimeZone, Utc};
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use std::sync::Arc;
use storage::{IntakeClaimResult, InterchangeStatus, NewInterchange, StorageError, Store};

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

/// `npi` bills under 95-1234567; members 1..=3 exist; `org` is an office.
pub async fn intake_story(store: Arc<dyn Store>, npi: Npi, org: i64) {
    let m1 = MemberId::from_sequence(1);
    let lookup = store
        .intake_lookup(
            &[
                m1.clone(),
                MemberId::from_sequence(2),
                MemberId::from_sequence(77),
            ],
            &[npi, Npi::from_base(287_654_321).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(lookup.members.len(), 2, "unknown members are absent");
    assert_eq!(lookup.members[&m1].len(), 2, "with their eligibility");
    assert_eq!(lookup.providers.len(), 1, "unknown providers are absent");
    assert_eq!(lookup.providers[&npi], Tin::parse("951234567").unwrap());

    // Reservations skip past stored claims and never overlap, even all at once.
    let highest = store.counts().await.unwrap().claims;
    let first = store.reserve_claim_numbers(5).await.unwrap();
    assert!(first >= 2, "after the story's claims ({highest} stored)");
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
    let c1 = store.reserve_control_numbers(2).await.unwrap();
    assert_eq!(store.reserve_control_numbers(1).await.unwrap(), c1 + 2);

    // An interchange with its claims.
    let base = store.reserve_claim_numbers(2000).await.unwrap();
    let claims = vec![received(base, &m1, npi), received(base + 1, &m1, npi)];
    let results = vec![
        result(1, Some(&claims[0])),
        result(2, None),
        result(3, Some(&claims[1])),
    ];
    let mut ix = interchange("000000001", "aa11", org, InterchangeStatus::Accepted);
    ix.claims_accepted = 2;
    ix.claims_rejected = 1;
    let before = store.counts().await.unwrap();
    let id = store
        .store_interchange(&ix, &claims, &results)
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap().claims, before.claims + 2);
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
    assert_eq!(rec.received_at, ix.received_at);
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

    // The same sender and control number again, or the same bytes: refused, nothing stored.
    let again = store
        .store_interchange(
            &interchange("000000001", "bb22", org, InterchangeStatus::Accepted),
            &[received(base + 2, &m1, npi)],
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
            .claim(&ClaimNumber::from_sequence(base + 2))
            .await
            .unwrap()
            .is_none()
    );

    // All or nothing: 1,500 claims whose last names no member fails in its second chunk, and
    // leaves neither the interchange nor any of its claims.
    let before = store.counts().await.unwrap();
    let mut big: Vec<Claim> = (0..1500)
        .map(|i| received(base + 10 + i, &m1, npi))
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
    let history = store.interchanges_of_org(org, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history[0].id > history[2].id, "newest first");
    assert!(!history[0].has_277ca);
}
