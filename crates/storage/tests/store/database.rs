//! The database as a whole: empty until the plan is loaded, counts, size, reopening, URLs.

use crate::common::*;
use storage::{PlanCounts, StorageError};

on_both!(
    a_new_database_is_empty_until_networks_are_stored,
    counts_count_every_kind_of_record,
    reopening_runs_the_migrations_again_and_keeps_the_data,
);

async fn a_new_database_is_empty_until_networks_are_stored(db: Db) {
    let store = db.store;
    assert!(
        store.is_empty().await.unwrap(),
        "a new database starts empty"
    );
    store.ping().await.unwrap();
    store.insert_networks(&networks()).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
}

async fn counts_count_every_kind_of_record(db: Db) {
    let store = db.store;
    let plan = plan(&*store).await;
    let (org, _) = office(&*store).await;
    let mut second = claim(2, plan.member(), npi());
    second.patient_account = "PA-779".into();
    store.insert_claims(&[second]).await.unwrap();
    for n in 0..4 {
        let mut u = front_desk(org);
        u.username = format!("user.{n}");
        store.create_user(&u).await.unwrap();
    }
    assert_eq!(
        store.counts().await.unwrap(),
        PlanCounts {
            networks: 2,
            providers: 1,
            members: 3,
            eligibility_spans: 6,
            claims: 2,
            claim_lines: 4,
            auth_requests: 1,
            trainings: 0,
            users: 5,
        }
    );
    assert!(store.size_bytes().await.unwrap() > 0);
}

async fn reopening_runs_the_migrations_again_and_keeps_the_data(db: Db) {
    plan(&*db.store).await;
    let backend = if db.is_sqlite() { "sqlite" } else { "postgres" };
    assert_eq!(db.store.backend(), backend);
    let again = storage::open(&db.url).await.unwrap();
    assert_eq!(again.counts().await.unwrap().members, 3);
    assert_eq!(again.backend(), backend);
}

#[tokio::test]
async fn bad_urls_are_named() {
    let err = storage::open("mysql://root:secret@localhost/db")
        .await
        .err()
        .expect("mysql is refused");
    let msg = err.to_string();
    assert!(msg.contains("unsupported scheme 'mysql'"), "{msg}");
    assert!(
        !msg.contains("secret"),
        "the password never appears in an error"
    );
    assert!(matches!(
        storage::open("portal.db").await,
        Err(StorageError::BadUrl(_))
    ));
}
