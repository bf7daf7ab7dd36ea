//! Payment runs stored once, and the office's remittances scoped by the payee's TIN.

use crate::adjudication::decided;
use crate::common::*;
use chrono::Utc;
use domain::access::Scope;
use domain::{Cents, ClaimNumber, Tin};
use storage::{NewPayment, Payable, PaymentPage, RemittanceFile, StorageError, Store};

on_both!(
    decided_claims_are_payable_from_the_day_they_were_decided,
    a_payment_run_is_stored_once,
    remittances_are_scoped_by_the_payees_tin,
);

/// The two decided claims, payable on 2025-03-21, loaded for a payment run.
async fn payable(store: &dyn Store) -> (Vec<ClaimNumber>, Vec<Payable>) {
    let (_, done) = decided(store).await;
    let numbers: Vec<ClaimNumber> = done.iter().map(|a| a.claim.number.clone()).collect();
    let mine: Vec<ClaimNumber> = store
        .payable_claims(d("2025-03-21"))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| numbers.contains(&p.number))
        .map(|p| {
            assert_eq!((p.payee_tin, p.decided_on), (tin(), Some(d("2025-03-20"))));
            p.number
        })
        .collect();
    let loaded = store.payables(&mine).await.unwrap();
    (mine, loaded)
}

fn payment(id: i64, claims: Vec<ClaimNumber>, loaded: &[Payable]) -> NewPayment {
    NewPayment {
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
    }
}

async fn decided_claims_are_payable_from_the_day_they_were_decided(db: Db) {
    let (mine, loaded) = payable(&*db.store).await;
    let store = db.store;
    assert_eq!(mine.len(), 2);
    assert!(
        store
            .payable_claims(d("2025-03-19"))
            .await
            .unwrap()
            .iter()
            .all(|p| p.number != mine[0]),
        "not before the day it was decided"
    );
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].payee.tin, tin());
    assert!(!loaded[0].patient_last.is_empty());
    assert_eq!(
        (
            loaded[0].patient_first.as_str(),
            loaded[0].patient_last.as_str()
        ),
        ("Ana", "García")
    );
}

async fn a_payment_run_is_stored_once(db: Db) {
    let (mine, loaded) = payable(&*db.store).await;
    let store = db.store;
    let next = store.last_payment_id().await.unwrap() + 1;
    let p = payment(next, mine.clone(), &loaded);
    store
        .record_payments(std::slice::from_ref(&p))
        .await
        .unwrap();
    let paid = store.claim(&mine[0]).await.unwrap().unwrap();
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
        .record_payments(&[payment(next + 1, vec![mine[0].clone()], &loaded)])
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
    assert_eq!(store.last_payment_id().await.unwrap(), next);
}

async fn remittances_are_scoped_by_the_payees_tin(db: Db) {
    let (mine, loaded) = payable(&*db.store).await;
    let store = db.store;
    let p = payment(store.last_payment_id().await.unwrap() + 1, mine, &loaded);
    store
        .record_payments(std::slice::from_ref(&p))
        .await
        .unwrap();
    let own = Scope::Tins(vec![tin()]);
    let other = Scope::Tins(vec![Tin::parse("331234567").unwrap()]);
    let PaymentPage {
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
        PaymentPage::default()
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
            .payments_in_scope(&own, 1, 10)
            .await
            .unwrap()
            .payments
            .is_empty(),
        "past the last page"
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
        Some(RemittanceFile {
            filename: p.filename.clone(),
            x835: p.x835.clone()
        })
    );
    assert_eq!(store.remittance_file(one.id + 1000).await.unwrap(), None);
}
