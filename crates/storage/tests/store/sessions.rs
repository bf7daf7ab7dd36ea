//! Server-side sessions: created, read, touched, staged, purged, ended one or all.

use crate::accounts::session;
use crate::common::*;
use chrono::{Duration, Utc};
use domain::session::SessionStage;

on_both!(sessions_are_created_touched_staged_purged_and_ended);

async fn sessions_are_created_touched_staged_purged_and_ended(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    store.create_session(&session("s1", user)).await.unwrap();
    store.create_session(&session("s2", user)).await.unwrap();
    store.create_session(&session("s3", user)).await.unwrap();
    let s = store.session("s1").await.unwrap().unwrap();
    assert_eq!(
        (s.user_id, s.stage, s.csrf.as_str()),
        (user, SessionStage::Full, "csrf-s1")
    );
    assert_eq!(
        (s.source.as_str(), s.user_agent.as_str()),
        ("192.0.2.1", "test")
    );
    assert!(store.session("nope").await.unwrap().is_none());
    let earlier = Utc::now() - Duration::minutes(20);
    store.touch_session("s1", earlier).await.unwrap();
    assert_eq!(
        store
            .session("s1")
            .await
            .unwrap()
            .unwrap()
            .last_seen
            .timestamp(),
        earlier.timestamp()
    );
    store
        .set_session_stage("s2", SessionStage::NeedsCode)
        .await
        .unwrap();
    store.set_pending_totp("s2", Some("SECRET")).await.unwrap();
    let s2 = store.session("s2").await.unwrap().unwrap();
    assert_eq!(
        (s2.stage, s2.pending_totp.as_deref()),
        (SessionStage::NeedsCode, Some("SECRET"))
    );
    store.set_pending_totp("s2", None).await.unwrap();
    assert_eq!(
        store.session("s2").await.unwrap().unwrap().pending_totp,
        None
    );
    assert_eq!(store.user_sessions(user).await.unwrap().len(), 3);
    let purged = store
        .purge_sessions(
            Utc::now() - Duration::minutes(15),
            Utc::now() - Duration::hours(12),
        )
        .await
        .unwrap();
    assert_eq!(purged, 1, "the idle one");
    assert_eq!(store.end_user_sessions(user, Some("s3")).await.unwrap(), 1);
    assert!(store.session("s3").await.unwrap().is_some(), "kept");
    store.end_session("s3").await.unwrap();
    assert!(store.user_sessions(user).await.unwrap().is_empty());
}
