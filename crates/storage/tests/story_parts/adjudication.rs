//! Adjudication and payment on either backend: the fee schedule, received claims with what the
//! rules need, outcomes stored once, a payment run stored once, scoped remittance reads, the
//! engine's lease.

use chrono::{NaiveDate, Utc};
use domain::Cents;
use domain::access::Scope;
use domain::adjudication::{Context, Fee, adjudicate};
use domain::claim::{Claim, ClaimStatus};
use domain::{ClaimNumber, MemberId, Npi, Tin};
use std::sync::Arc;
use storage::{Adjudicated, LineExplanation, NewPayment, StorageError, Store};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `template` as a fresh claim: received, nothing decided yet.
fn received(template: &Claim, n: u64, member: &MemberId) -> Claim {
    let mut c = template.clone();
    c.number = ClaimNumber::from_sequence(n);
    c.member = member.clone();
    c.status = ClaimStatus::Received;
    c.received = d("2025-03-10");
    c.payment = None;
    for l in &mut c.lines {
        l.allowed = Cents::ZERO;
        l.paid = Cents::ZERO;
        l.adjustments.clear();
        l.service_date = d("2025-03-01");
    }
    c
}

pub async fn adjudication_story(
    store: Arc<dyn Store>,
    template: &Claim,
    member: &MemberId,
    npi: Npi,
) {
    // Fee schedule: stored, read back, replaced on conflict.
    let fee = |code: &str, cents, auth| Fee {
        procedure: code.into(),
        description: format!("{code} service"),
        amount: Cents(cents),
        requires_auth: auth,
    };
    store
        .insert_fees(&[fee("99214", 12_000, false), fee("97110", 2_900, true)])
        .await
        .unwrap();
    store
        .insert_fees(&[fee("99214", 13_000, false)])
        .await
        .unwrap();
    let fees = store.fee_schedule().await.unwrap();
    assert_eq!(fees.len(), 2);
    assert_eq!(
        fees.iter().find(|f| f.procedure == "99214").unwrap().amount,
        Cents(13_000)
    );
    assert!(
        fees.iter()
            .find(|f| f.procedure == "97110")
            .unwrap()
            .requires_auth
    );

    // Two received claims for a member with history, oldest first.
    let a = received(template, 500, member);
    let mut b = received(template, 501, member);
    b.received = d("2025-03-11");
    store.insert_claims(&[b.clone(), a.clone()]).await.unwrap();
    let got = store.received_claims(10).await.unwrap();
    let numbers: Vec<&str> = got.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, [a.number.as_str(), b.number.as_str()]);
    assert_eq!(got[0], a, "lines come back whole");
    assert_eq!(store.received_claims(1).await.unwrap().len(), 1);

    let inputs = store.adjudication_inputs(&got).await.unwrap();
    assert!(!inputs.spans[member].is_empty());
    assert_eq!(inputs.contracted.get(&npi), Some(&true));
    assert!(
        !inputs.auths[member].is_empty(),
        "the member's authorization"
    );
    assert!(
        inputs.earlier[member]
            .iter()
            .all(|p| p.claim != a.number && p.claim != b.number),
        "received claims are not earlier claims"
    );

    // Decide both with the rules and store them in one transaction.
    let fee_map = fees
        .iter()
        .map(|f| (f.procedure.clone(), f.clone()))
        .collect();
    let networks = store.networks().await.unwrap();
    let mut done = Vec::new();
    for mut c in got.clone() {
        let ctx = Context {
            today: d("2025-03-20"),
            spans: &inputs.spans[member],
            networks: &networks,
            auths: &inputs.auths[member],
            fees: &fee_map,
            contracted: true,
            earlier: &[],
        };
        let o = adjudicate(&c, &ctx);
        o.apply_to(&mut c);
        assert!(c.lines.iter().all(|l| l.balances()));
        done.push(Adjudicated {
            explanations: o
                .lines
                .iter()
                .map(|l| LineExplanation {
                    line_number: l.line_number,
                    rule: l.rule.code().into(),
                    text: l.explanation.clone(),
                })
                .collect(),
            claim: c,
            on: d("2025-03-20"),
        });
    }
    store.record_adjudications(&done).await.unwrap();
    let back = store.claim(&a.number).await.unwrap().unwrap();
    assert_eq!(
        back, done[0].claim,
        "status, amounts and adjustments stored"
    );
    assert!(back.status.is_final());
    let notes = store.line_explanations(&a.number).await.unwrap();
    assert_eq!(notes, done[0].explanations);
    assert!(store.received_claims(10).await.unwrap().is_empty());
    // Storing them again fails whole: they are no longer waiting.
    let before = store.counts().await.unwrap();
    let err = store.record_adjudications(&done).await.unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
    assert_eq!(store.counts().await.unwrap(), before);

    // Payable: both (decided on 03/20), not before that day.
    let tin = Tin::parse("951234567").unwrap();
    let payable = store.payable_claims(d("2025-03-21")).await.unwrap();
    let mine: Vec<ClaimNumber> = payable
        .iter()
        .filter(|p| p.number == a.number || p.number == b.number)
        .map(|p| {
            assert_eq!((p.payee_tin, p.decided_on), (tin, Some(d("2025-03-20"))));
            p.number.clone()
        })
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(
        store
            .payable_claims(d("2025-03-19"))
            .await
            .unwrap()
            .iter()
            .all(|p| p.number != a.number)
    );
    let loaded = store.payables(&mine).await.unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].payee.tin, tin);
    assert!(!loaded[0].patient_last.is_empty());

    // A payment run, stored once.
    let next = store.last_payment_id().await.unwrap() + 1;
    let payment = |id: i64, claims: Vec<ClaimNumber>| NewPayment {
        id,
        number: format!("{:010}", 4_000_000_000_i64 + id),
        method: "CHK".into(),
        paid_on: d("2025-03-21"),
        amount: Cents(12_345),
        payee: loaded[0].payee.clone(),
        claims,
        filename: format!("835-20250321-{id}.x12"),
        x835: "ISA*00*...~".into(),
        created_at: Utc::now(),
    };
    let p = payment(next, mine.clone());
    store
        .record_payments(std::slice::from_ref(&p))
        .await
        .unwrap();
    let paid = store.claim(&a.number).await.unwrap().unwrap();
    assert_eq!(
        paid.payment.as_ref().map(|r| (r.number.as_str(), r.date)),
        Some((p.number.as_str(), d("2025-03-21")))
    );
    assert!(
        store
            .payable_claims(d("2025-12-31"))
            .await
            .unwrap()
            .iter()
            .all(|p| !mine.contains(&p.number)),
        "reported claims are no longer payable"
    );
    // The same claim on a second payment fails the whole run.
    let err = store
        .record_payments(&[payment(next + 1, vec![a.number.clone()])])
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
    assert_eq!(store.last_payment_id().await.unwrap(), next);

    // Remittance reads are scoped by the payee's TIN.
    let own = Scope::Tins(vec![tin]);
    let other = Scope::Tins(vec![Tin::parse("331234567").unwrap()]);
    let storage::PaymentPage {
        payments: list,
        total,
    } = store.payments_in_scope(&own, 0, 10).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(
        (list[0].number.as_str(), list[0].claim_count, list[0].amount),
        (p.number.as_str(), 2, Cents(12_345))
    );
    assert_eq!(
        store.payments_in_scope(&other, 0, 10).await.unwrap(),
        storage::PaymentPage::default()
    );
    assert_eq!(
        store
            .payments_in_scope(&Scope::Nothing, 0, 10)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(
        store
            .payment_in_scope(&p.number, &other)
            .await
            .unwrap()
            .is_none()
    );
    let one = store
        .payment_in_scope(&p.number, &own)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one, list[0]);
    let claims = store.payment_claims(one.id).await.unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(
        store.remittance_file(one.id).await.unwrap(),
        Some(storage::RemittanceFile {
            filename: p.filename.clone(),
            x835: p.x835.clone()
        })
    );

    // The engine's lease: one holder at a time, renewable, released, expiring.
    let now = Utc::now().timestamp_millis();
    assert!(
        store
            .try_lease("adjudication", "a", now, 60_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_lease("adjudication", "b", now, 60_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .try_lease("adjudication", "a", now + 1, 60_000)
            .await
            .unwrap()
    );
    store.release_lease("adjudication", "a").await.unwrap();
    assert!(store.try_lease("adjudication", "b", now, 1).await.unwrap());
    assert!(
        store
            .try_lease("adjudication", "a", now + 10, 60_000)
            .await
            .unwrap(),
        "b's lease expired"
    );
    store.release_lease("adjudication", "a").await.unwrap();
}
