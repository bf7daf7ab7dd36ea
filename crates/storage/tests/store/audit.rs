//! The hash-chained audit trail: appends from many tasks make one chain, grouped appends
//! continue it, search, and tampering with the stored rows caught by `verify_audit`.

use crate::common::*;
use domain::MemberId;
use domain::audit::{AuditEvent, ChainBreak};
use storage::AuditQuery;

on_both!(
    appends_from_many_tasks_at_once_make_one_chain,
    grouped_appends_continue_the_chain_of_single_ones,
    bulk_appends_keep_the_chain_whole_between_single_ones,
    tampering_with_the_stored_trail_is_caught,
);

fn read_event(n: usize) -> AuditEvent {
    AuditEvent {
        actor: Some(1),
        actor_name: "front.desk".into(),
        org: Some(1),
        action: "member.read".into(),
        record_type: "member".into(),
        record_id: MemberId::from_sequence(n as u64).to_string(),
        outcome: "ok".into(),
        source: "127.0.0.1".into(),
    }
}

/// 20 single appends from as many tasks at once.
async fn twenty(db: &Db) {
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let store = db.store.clone();
            tokio::spawn(async move { store.audit(&read_event(n)).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

async fn appends_from_many_tasks_at_once_make_one_chain(db: Db) {
    assert_eq!(storage::verify_audit(&*db.store).await.unwrap(), Ok(0));
    twenty(&db).await;
    let store = db.store;
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Ok(20));
    assert_eq!(store.audit_head().await.unwrap().seq, 20);
    let found = store
        .audit_search(&AuditQuery {
            record_id: Some(MemberId::from_sequence(3).to_string()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].event, read_event(3));
    let newest = store
        .audit_search(&AuditQuery {
            action: Some("member.read".into()),
            limit: 5,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        newest.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [20, 19, 18, 17, 16],
        "newest first"
    );
}

async fn grouped_appends_continue_the_chain_of_single_ones(db: Db) {
    twenty(&db).await;
    let store = db.store;
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

async fn bulk_appends_keep_the_chain_whole_between_single_ones(db: Db) {
    let store = db.store;
    let event = |i: usize| AuditEvent {
        actor: Some(1),
        actor_name: "desk".into(),
        org: Some(1),
        action: "member.batch_read".into(),
        record_type: "member".into(),
        record_id: MemberId::from_sequence(i as u64).to_string(),
        outcome: "ok".into(),
        source: "192.0.2.9".into(),
    };
    let before = store.audit_head().await.unwrap().seq;
    store.audit(&event(0)).await.unwrap();
    let many: Vec<AuditEvent> = (1..=1200).map(event).collect();
    assert_eq!(store.audit_many(&many).await.unwrap().len(), 1200);
    assert!(store.audit_many(&[]).await.unwrap().is_empty());
    store.audit(&event(1201)).await.unwrap();
    let head = store.audit_head().await.unwrap().seq;
    assert_eq!(head - before, 1202);
    let verified = storage::verify_audit(&*store).await.unwrap().unwrap();
    assert_eq!(verified as i64, head);
    let page = store.audit_page(before, 5000).await.unwrap();
    assert_eq!(page[600].event, event(600), "in order");
}

async fn tampering_with_the_stored_trail_is_caught(mut db: Db) {
    twenty(&db).await;
    db.store
        .audit_many(&[read_event(20), read_event(21)])
        .await
        .unwrap();
    // A restarted instance checks what the previous one left.
    db.reopen().await;
    let store = db.store.clone();
    let head = store.audit_head().await.unwrap().seq;
    assert_eq!(head, 22);
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Ok(head as u64)
    );
    db.exec("UPDATE audit_log SET record_id = 'M000000999' WHERE seq = 7")
        .await;
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Err(ChainBreak::Altered { seq: 7 })
    );
    db.exec("DELETE FROM audit_log WHERE seq = 7").await;
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Err(ChainBreak::Missing {
            seq: 8,
            expected: 7
        })
    );
    db.exec("DELETE FROM audit_log WHERE seq >= 7").await;
    // SQLite keeps the signed head beside the database too; either way the cut is named.
    let expected = if db.is_sqlite() {
        ChainBreak::Removed {
            last: 6,
            exported: head,
        }
    } else {
        ChainBreak::Truncated { last: 6, head }
    };
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Err(expected));
    assert_eq!(
        storage::verify_audit_with(&*store, None).await.unwrap(),
        Err(ChainBreak::Truncated { last: 6, head })
    );
}
