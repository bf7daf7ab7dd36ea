//! The engine against a real store: the demo plan's received claims adjudicated, paid once.

#[tokio::test]
async fn adjudicates_and_pays_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let store = storage::open(&url).await.unwrap();
    seed::demo_with_password(&*store, "pw-for-tests")
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let opts = adjudication::Options::new(today);
    let first = adjudication::run(&*store, &opts).await.unwrap();
    assert!(!first.skipped);
    assert!(
        first.adjudication.claims > 0,
        "the demo leaves claims received"
    );
    assert_eq!(
        first.adjudication.claims,
        first.adjudication.paid + first.adjudication.denied + first.adjudication.partial
    );
    assert!(first.payments.payments > 0);
    assert!(store.received_claims(10).await.unwrap().is_empty());
    // Every payable claim is now on a payment; a second run finds nothing new.
    assert!(store.payable_claims(today).await.unwrap().is_empty());
    let again = adjudication::run(&*store, &opts).await.unwrap();
    assert_eq!(again.adjudication.claims, 0);
    assert_eq!(again.payments.payments, 0);
    // Another holder cannot run while the lease is held.
    assert!(
        store
            .try_lease(
                adjudication::LEASE,
                "other",
                chrono::Utc::now().timestamp_millis(),
                60_000
            )
            .await
            .unwrap()
    );
    let blocked = adjudication::run(&*store, &opts).await.unwrap();
    assert!(blocked.skipped);
}
