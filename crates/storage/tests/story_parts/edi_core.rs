//! Real-time EDI reads (270/271 eligibility, 276/277 claim status) and the grouped audit
//! append, on either backend.

use chrono::NaiveDate;
use domain::access::Scope;
use domain::audit::AuditEvent;
use domain::claim::{Claim, ClaimStatus};
use domain::plan::NetworkKind;
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use std::sync::Arc;
use storage::{ClaimQuery, EligibilityLookup, MemberKey, NewMember, Store};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub async fn edi_core_story(store: Arc<dyn Store>, npi: Npi, members: &[NewMember], claim: &Claim) {
    let tin = Tin::parse("951234567").unwrap();
    let first = &members[0].member;

    // By member id, asked by a provider of the directory: one member, both spans, each with its
    // network and (for the first) the PCP's name.
    let found = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi),
            member: MemberKey::Id(first.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(found.provider_tin, Some(tin));
    assert_eq!(found.members.len(), 1);
    let c = &found.members[0];
    assert_eq!(&c.member, first);
    assert_eq!(c.spans.len(), 2);
    assert_eq!(
        c.spans[0].span, members[0].spans[0],
        "oldest first, unchanged"
    );
    assert_eq!(c.spans[0].network_name, "HN1 network");
    assert_eq!(c.spans[0].network_kind, NetworkKind::Delegated);
    assert_eq!(c.spans[0].network_phone, "7145550000");
    assert_eq!(c.spans[0].pcp_name.as_deref(), Some("Nguyen, Linh"));
    assert_eq!(c.spans[1].network_kind, NetworkKind::Community);
    assert_eq!(c.spans[1].pcp_name, None);

    // An unknown member still reads the provider; an unknown provider reads no TIN.
    let none = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi),
            member: MemberKey::Id(MemberId::from_sequence(999)),
        })
        .await
        .unwrap();
    assert_eq!((none.provider_tin, none.members.len()), (Some(tin), 0));
    let stranger = store
        .eligibility(&EligibilityLookup {
            provider: Some(Npi::from_base(199_999_999).unwrap()),
            member: MemberKey::Id(first.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!((stranger.provider_tin, stranger.members.len()), (None, 1));
    let anonymous = store
        .eligibility(&EligibilityLookup {
            provider: None,
            member: MemberKey::Id(first.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!((anonymous.provider_tin, anonymous.members.len()), (None, 1));

    // By last name (any case) and birth date: both García members, each with their spans.
    let by_name = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi),
            member: MemberKey::NameBirth {
                last_name: "GARCÍA".into(),
                birth_date: d("1980-02-29"),
            },
        })
        .await
        .unwrap();
    let ids: Vec<&str> = by_name
        .members
        .iter()
        .map(|c| c.member.id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec![members[0].member.id.as_str(), members[1].member.id.as_str()]
    );
    assert!(by_name.members.iter().all(|c| c.spans.len() == 2));
    let wrong_day = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi),
            member: MemberKey::NameBirth {
                last_name: "garcía".into(),
                birth_date: d("1980-03-01"),
            },
        })
        .await
        .unwrap();
    assert!(wrong_day.members.is_empty());

    // Claim status: the claim with its lines and payment, under the billing provider's TIN only.
    let scope = Scope::Tins(vec![tin]);
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

    let other = Scope::Tins(vec![Tin::parse("951234568").unwrap()]);
    assert!(
        store
            .claim_statuses(&other, &by_number)
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
        member: Some(first.id.clone()),
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
    // Other parts of the story add claims for the same member: only this one must stay out.
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

    // Grouped audit append: consecutive sequence numbers, one chain with single appends.
    let before = store.audit_head().await.unwrap().seq;
    let event = |n: u64| AuditEvent {
        actor: Some(1),
        actor_name: "edi".into(),
        org: Some(1),
        action: "member.read".into(),
        record_type: "member".into(),
        record_id: MemberId::from_sequence(n).to_string(),
        outcome: "ok".into(),
        source: "192.0.2.7".into(),
    };
    let entries = store
        .audit_many(&[event(1), event(2), event(3)])
        .await
        .unwrap();
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![before + 1, before + 2, before + 3]);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    store.audit(&event(4)).await.unwrap();
    assert!(store.audit_many(&[]).await.unwrap().is_empty());
    let many: Vec<AuditEvent> = (0..1500).map(event).collect();
    assert_eq!(store.audit_many(&many).await.unwrap().len(), 1500);
    let stored = store.audit_page(before, 10).await.unwrap();
    assert_eq!(stored[2].event, event(3));
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Ok(before as u64 + 4 + 1500),
        "the chain verifies across grouped and single appends"
    );
}
