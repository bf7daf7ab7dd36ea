//! The outbox: messages queued, listed newest first, marked sent.

use crate::common::*;
use chrono::Utc;
use storage::NewMessage;

on_both!(messages_are_listed_newest_first_and_marked_sent);

async fn messages_are_listed_newest_first_and_marked_sent(db: Db) {
    let store = db.store;
    let message = |to: &str| NewMessage {
        to_addr: to.into(),
        subject: format!("To {to}"),
        body: "Body.".into(),
        created_at: Utc::now(),
    };
    let first = store.enqueue_message(&message("a@x.test")).await.unwrap();
    let second = store.enqueue_message(&message("b@x.test")).await.unwrap();
    assert_ne!(first, second);
    let all = store.outbox(10).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![second, first],
        "newest first"
    );
    assert_eq!(
        (all[0].to_addr.as_str(), all[0].subject.as_str()),
        ("b@x.test", "To b@x.test")
    );
    assert_eq!(store.outbox(1).await.unwrap().len(), 1);
    assert!(all.iter().all(|m| m.sent_at.is_none()));
    store.mark_sent(first, Utc::now()).await.unwrap();
    let all = store.outbox(10).await.unwrap();
    assert!(all[1].sent_at.is_some() && all[0].sent_at.is_none());
}
