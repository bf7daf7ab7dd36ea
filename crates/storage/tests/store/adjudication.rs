//! The claims engine's storage: the fee schedule, received claims with what the rules need,
//! outcomes stored once, the lease that keeps the engine to one instance.

use crate::common::*;
use chrono::Utc;
use domain::Cents;
use domain::adjudication::{Context, Fee, adjudicate};
use domain::claim::{Claim, ClaimStatus};
use domain::{ClaimNumber, MemberId};
use storage::{Adjudicated, LineExplanation, StorageError, Store};

on_both!(
    the_fee_schedule_is_stored_and_replaced_on_conflict,
    received_claims_come_oldest_first_with_what_the_rules_need,
    outcomes_are_stored_once_in_one_transaction,
    the_engine_lease_has_one_holder_at_a_time,
);

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

fn fee(code: &str, cents: i64, auth: bool) -> Fee {
    Fee {
        procedure: code.into(),
        description: format!("{code} service"),
        amount: Cents(cents),
        requires_auth: auth,
    }
}

/// The plan with a fee schedule and two received claims of member 1 (500 received before
/// 501): (plan, claim 500, claim 501).
async fn waiting(store: &dyn Store) -> (Plan, Claim, Claim) {
    let plan = plan(store).await;
    store
        .insert_fees(&[fee("99214", 13_000, false), fee("97110", 2_900, true)])
        .await
        .unwrap();
    let a = received(&plan.claim, 500, plan.member());
    let mut b = received(&plan.claim, 501, plan.member());
    b.received = d("2025-03-11");
    store.insert_claims(&[b.clone(), a.clone()]).await.unwrap();
    (plan, a, b)
}

/// [`waiting`], both claims decided by the plan's rules on 2025-03-20 and stored.
pub async fn decided(store: &dyn Store) -> (Plan, Vec<Adjudicated>) {
    let (plan, _, _) = waiting(store).await;
    let member = plan.member().clone();
    let got = store.received_claims(10).await.unwrap();
    let inputs = store.adjudication_inputs(&got).await.unwrap();
    let fee_map = store
        .fee_schedule()
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.procedure.clone(), f))
        .collect();
    let networks = store.networks().await.unwrap();
    let mut done = Vec::new();
    for mut c in got {
        let ctx = Context {
            today: d("2025-03-20"),
            spans: &inputs.spans[&member],
            networks: &networks,
            auths: &inputs.auths[&member],
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
    (plan, done)
}

async fn the_fee_schedule_is_stored_and_replaced_on_conflict(db: Db) {
    let store = db.store;
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
    assert_eq!(
        fees.iter()
            .map(|f| f.procedure.as_str())
            .collect::<Vec<_>>(),
        ["97110", "99214"],
        "by procedure"
    );
}

async fn received_claims_come_oldest_first_with_what_the_rules_need(db: Db) {
    let (plan, a, b) = waiting(&*db.store).await;
    let store = db.store;
    let member = plan.member();
    let got = store.received_claims(10).await.unwrap();
    let numbers: Vec<&str> = got.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(
        numbers,
        [a.number.as_str(), b.number.as_str()],
        "not the plan's decided claim"
    );
    assert_eq!(got[0], a, "lines come back whole");
    assert_eq!(store.received_claims(1).await.unwrap().len(), 1);

    let inputs = store.adjudication_inputs(&got).await.unwrap();
    assert_eq!(inputs.spans[member], plan.members[0].spans);
    assert_eq!(inputs.contracted.get(&npi()), Some(&true));
    assert_eq!(
        inputs.auths[member],
        vec![plan.auth.clone()],
        "the member's authorization"
    );
    assert!(
        inputs.earlier[member]
            .iter()
            .all(|p| p.claim != a.number && p.claim != b.number),
        "received claims are not earlier claims"
    );
    assert!(
        inputs.earlier[member]
            .iter()
            .any(|p| p.claim == plan.claim.number),
        "the decided claim is"
    );
}

async fn outcomes_are_stored_once_in_one_transaction(db: Db) {
    let (_, done) = decided(&*db.store).await;
    let store = db.store;
    let a = &done[0].claim;
    let back = store.claim(&a.number).await.unwrap().unwrap();
    assert_eq!(&back, a, "status, amounts and adjustments stored");
    assert!(back.status.is_final());
    let notes = store.line_explanations(&a.number).await.unwrap();
    assert_eq!(notes, done[0].explanations);
    assert!(store.received_claims(10).await.unwrap().is_empty());
    // Storing them again fails whole: they are no longer waiting.
    let before = store.counts().await.unwrap();
    let err = store.record_adjudications(&done).await.unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
    assert_eq!(store.counts().await.unwrap(), before);
    assert_eq!(store.line_explanations(&a.number).await.unwrap(), notes);
}

async fn the_engine_lease_has_one_holder_at_a_time(db: Db) {
    let store = db.store;
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
