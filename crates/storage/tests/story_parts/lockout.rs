//! The second factor's lockout on either backend: code guesses claimed from many instances at
//! once get five in all, the lock ends pending sessions only, and a correct code on a locked
//! account clears nothing.

use chrono::{Duration, Utc};
use domain::session::{LOCKOUT, MAX_CODE_GUESSES, SessionStage};
use std::sync::Arc;
use storage::{CodeClaim, NewSession, Store};

fn session(hash: &str, user: i64, stage: SessionStage) -> NewSession {
    NewSession {
        token_hash: hash.into(),
        user_id: user,
        stage,
        csrf: format!("csrf-{hash}"),
        created_at: Utc::now(),
        source: "192.0.2.1".into(),
        user_agent: "test".into(),
    }
}

pub async fn lockout_story(store: Arc<dyn Store>, user: i64) {
    store.clear_sign_in_failures(user).await.unwrap();
    let now = Utc::now();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_code_guess(user, now).await })
        })
        .collect();
    let mut granted = Vec::new();
    for t in tasks {
        if let CodeClaim::Granted { last } = t.await.unwrap().unwrap() {
            granted.push(last);
        }
    }
    assert_eq!(granted.len(), MAX_CODE_GUESSES, "five claims in all");
    assert_eq!(
        granted.iter().filter(|l| **l).count(),
        1,
        "one fills the window"
    );
    assert_eq!(
        store.claim_code_guess(user, now).await.unwrap(),
        CodeClaim::Refused
    );
    assert!(
        !store
            .user(user)
            .await
            .unwrap()
            .unwrap()
            .throttle
            .is_locked(now),
        "claims alone do not lock; the failed last guess does"
    );
    // A window later there is room again.
    let later = now + Duration::minutes(15) + Duration::seconds(1);
    assert!(matches!(
        store.claim_code_guess(user, later).await.unwrap(),
        CodeClaim::Granted { last: false }
    ));

    // The lock ends every pending session, and no other.
    for (hash, stage) in [
        ("lock-full", SessionStage::Full),
        ("lock-code", SessionStage::NeedsCode),
        ("lock-enrol", SessionStage::NeedsEnrolment),
    ] {
        store
            .create_session(&session(hash, user, stage))
            .await
            .unwrap();
    }
    store.lock_account(user, later + LOCKOUT).await.unwrap();
    assert!(store.session("lock-full").await.unwrap().is_some());
    assert!(store.session("lock-code").await.unwrap().is_none());
    assert!(store.session("lock-enrol").await.unwrap().is_none());
    assert!(
        !store.accept_code(user, later).await.unwrap(),
        "a correct code on a locked account clears nothing"
    );
    let locked = store.user(user).await.unwrap().unwrap().throttle;
    assert!(locked.is_locked(later));
    assert_eq!(
        store.claim_code_guess(user, later).await.unwrap(),
        CodeClaim::Refused,
        "locked: no guess at all"
    );

    // Password failures that lock end pending sessions too.
    store.clear_sign_in_failures(user).await.unwrap();
    store
        .create_session(&session("lock-code-2", user, SessionStage::NeedsCode))
        .await
        .unwrap();
    for _ in 0..domain::session::MAX_FAILURES {
        store.record_sign_in_failure(user, now).await.unwrap();
    }
    assert!(store.session("lock-code-2").await.unwrap().is_none());

    // An unlock clears everything; a correct code then starts both counts over.
    store.clear_sign_in_failures(user).await.unwrap();
    store.claim_code_guess(user, now).await.unwrap();
    store.record_sign_in_failure(user, now).await.unwrap();
    assert!(store.accept_code(user, now).await.unwrap());
    let t = store.user(user).await.unwrap().unwrap().throttle;
    assert_eq!((t.failures, t.locked_until), (0, None));
    store.end_session("lock-full").await.unwrap();
}
