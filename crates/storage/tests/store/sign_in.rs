//! The sign-in state: password failures counted by compare-and-set across instances, the lock,
//! TOTP steps accepted once, recovery codes used once, and the second factor's lockout (code
//! guesses claimed from many sessions at once get five in all, the lock ends pending sessions
//! only, a correct code on a locked account clears nothing).

use crate::accounts::session;
use crate::common::*;
use chrono::{Duration, Utc};
use domain::session::{LOCKOUT, MAX_CODE_GUESSES, MAX_FAILURES, SessionStage};
use storage::{CodeClaim, NewSession};

on_both!(
    failures_from_many_instances_at_once_are_each_counted,
    the_fifth_failure_locks_and_clearing_unlocks,
    totp_enrols_once_each_step_counts_once_and_recovery_codes_once,
    an_mfa_reset_clears_the_secret_and_ends_every_session,
    code_guesses_from_many_sessions_share_five,
    a_lock_ends_the_pending_sessions_only_and_a_correct_code_clears_nothing,
    password_failures_that_lock_end_the_pending_sessions_too,
    an_unlock_clears_everything_and_a_correct_code_starts_both_counts_over,
);

fn staged(hash: &str, user: i64, stage: SessionStage) -> NewSession {
    NewSession {
        stage,
        ..session(hash, user)
    }
}

async fn failures_from_many_instances_at_once_are_each_counted(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let now = Utc::now();
    const BURST: u32 = 12;
    let tasks: Vec<_> = (0..BURST)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.record_sign_in_failure(user, now).await })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap().unwrap().failures);
    }
    counts.sort();
    assert_eq!(
        counts,
        (1..=BURST).collect::<Vec<_>>(),
        "concurrent failures are each counted once"
    );
    let locked = store.user(user).await.unwrap().unwrap().throttle;
    assert_eq!(locked.failures, BURST);
    assert!(locked.is_locked(now));
    store.clear_sign_in_failures(user).await.unwrap();
    let cleared = store.user(user).await.unwrap().unwrap().throttle;
    assert_eq!(
        (cleared.failures, cleared.window_start, cleared.locked_until),
        (0, None, None)
    );
}

async fn the_fifth_failure_locks_and_clearing_unlocks(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let now = Utc::now();
    for n in 1..MAX_FAILURES {
        let t = store.record_sign_in_failure(user, now).await.unwrap();
        assert_eq!(t.failures, n);
        assert!(!t.is_locked(now), "{n} failures do not lock");
    }
    let t = store.record_sign_in_failure(user, now).await.unwrap();
    assert!(t.is_locked(now), "the fifth failure locks");
    let stored = store.user(user).await.unwrap().unwrap().throttle;
    assert!(
        stored.is_locked(now) && stored.failures == MAX_FAILURES,
        "the lock is stored"
    );
    store.clear_sign_in_failures(user).await.unwrap();
    assert!(
        !store
            .user(user)
            .await
            .unwrap()
            .unwrap()
            .throttle
            .is_locked(now)
    );
}

async fn totp_enrols_once_each_step_counts_once_and_recovery_codes_once(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let hashes: Vec<String> = (0..3).map(|i| format!("hash{i}")).collect();
    assert!(
        store
            .enrol_totp(user, "JBSWY3DPEHPK3PXP", &hashes)
            .await
            .unwrap()
    );
    // A second enrolment (another sign-in that reached the enrolment page) changes nothing.
    assert!(
        !store
            .enrol_totp(user, "KRSXG5CTMVRXEZLU", &["other".to_string()])
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user(user)
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .as_deref(),
        Some("JBSWY3DPEHPK3PXP")
    );
    assert!(store.use_totp_step(user, 100).await.unwrap());
    assert!(!store.use_totp_step(user, 100).await.unwrap(), "replay");
    assert!(!store.use_totp_step(user, 99).await.unwrap(), "older step");
    assert!(store.use_totp_step(user, 101).await.unwrap());
    assert_eq!(
        store.user(user).await.unwrap().unwrap().totp_last_step,
        Some(101)
    );
    assert!(store.use_recovery_code(user, "hash1").await.unwrap());
    assert!(
        !store.use_recovery_code(user, "hash1").await.unwrap(),
        "used once"
    );
    assert!(!store.use_recovery_code(user, "nope").await.unwrap());
    assert_eq!(store.unused_recovery_codes(user).await.unwrap(), 2);
    store
        .replace_recovery_codes(user, &["n1".into()])
        .await
        .unwrap();
    assert_eq!(store.unused_recovery_codes(user).await.unwrap(), 1);
    assert!(
        !store.use_recovery_code(user, "hash0").await.unwrap(),
        "replaced codes are gone"
    );
}

async fn an_mfa_reset_clears_the_secret_and_ends_every_session(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    assert!(
        store
            .enrol_totp(user, "JBSWY3DPEHPK3PXP", &["h".to_string()])
            .await
            .unwrap()
    );
    assert!(store.use_totp_step(user, 100).await.unwrap());
    store.create_session(&session("p1", user)).await.unwrap();
    store.reset_totp(user).await.unwrap();
    assert!(store.session("p1").await.unwrap().is_none());
    let u = store.user(user).await.unwrap().unwrap();
    assert_eq!((u.totp_secret, u.totp_last_step), (None, None));
    assert_eq!(store.unused_recovery_codes(user).await.unwrap(), 0);
    assert!(
        store
            .enrol_totp(user, "KRSXG5CTMVRXEZLU", &[])
            .await
            .unwrap(),
        "a reset account enrols again"
    );
}

async fn code_guesses_from_many_sessions_share_five(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
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
}

async fn a_lock_ends_the_pending_sessions_only_and_a_correct_code_clears_nothing(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let now = Utc::now();
    for (hash, stage) in [
        ("lock-full", SessionStage::Full),
        ("lock-code", SessionStage::NeedsCode),
        ("lock-enrol", SessionStage::NeedsEnrolment),
    ] {
        store
            .create_session(&staged(hash, user, stage))
            .await
            .unwrap();
    }
    store.lock_account(user, now + LOCKOUT).await.unwrap();
    assert!(store.session("lock-full").await.unwrap().is_some());
    assert!(store.session("lock-code").await.unwrap().is_none());
    assert!(store.session("lock-enrol").await.unwrap().is_none());
    assert!(
        !store.accept_code(user, now).await.unwrap(),
        "a correct code on a locked account clears nothing"
    );
    let locked = store.user(user).await.unwrap().unwrap().throttle;
    assert!(locked.is_locked(now));
    assert_eq!(
        store.claim_code_guess(user, now).await.unwrap(),
        CodeClaim::Refused,
        "locked: no guess at all"
    );
    // A lock is never shortened.
    store
        .lock_account(user, now + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .user(user)
            .await
            .unwrap()
            .unwrap()
            .throttle
            .locked_until,
        locked.locked_until
    );
}

async fn password_failures_that_lock_end_the_pending_sessions_too(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let now = Utc::now();
    store
        .create_session(&staged("lock-code-2", user, SessionStage::NeedsCode))
        .await
        .unwrap();
    store
        .create_session(&staged("still-full", user, SessionStage::Full))
        .await
        .unwrap();
    for _ in 0..MAX_FAILURES {
        store.record_sign_in_failure(user, now).await.unwrap();
    }
    assert!(store.session("lock-code-2").await.unwrap().is_none());
    assert!(store.session("still-full").await.unwrap().is_some());
}

async fn an_unlock_clears_everything_and_a_correct_code_starts_both_counts_over(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let now = Utc::now();
    store.lock_account(user, now + LOCKOUT).await.unwrap();
    store.clear_sign_in_failures(user).await.unwrap();
    assert!(matches!(
        store.claim_code_guess(user, now).await.unwrap(),
        CodeClaim::Granted { .. }
    ));
    store.record_sign_in_failure(user, now).await.unwrap();
    assert!(store.accept_code(user, now).await.unwrap());
    let t = store.user(user).await.unwrap().unwrap().throttle;
    assert_eq!((t.failures, t.locked_until), (0, None));
    for _ in 0..MAX_CODE_GUESSES {
        assert!(matches!(
            store.claim_code_guess(user, now).await.unwrap(),
            CodeClaim::Granted { .. }
        ));
    }
    assert_eq!(
        store.claim_code_guess(user, now).await.unwrap(),
        CodeClaim::Refused,
        "the guesses started over: five again"
    );
}
