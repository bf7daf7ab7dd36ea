//! Members with their eligibility spans, their contact details apart, batches all or nothing.

use crate::common::*;
use domain::MemberId;
use storage::StorageError;

on_both!(
    members_come_back_with_their_spans_oldest_first,
    member_ids_are_listed_in_pages,
    a_batch_with_one_bad_row_stores_none_of_its_rows,
    members_read_in_bulk_leave_unknown_ids_out,
);

async fn members_come_back_with_their_spans_oldest_first(db: Db) {
    let store = db.store;
    store.insert_networks(&networks()).await.unwrap();
    let members = members();
    store.insert_members(&members).await.unwrap();
    let got = store
        .member(&members[0].member.id)
        .await
        .unwrap()
        .expect("member stored");
    assert_eq!(got.member, members[0].member);
    assert_eq!(
        got.spans, members[0].spans,
        "spans come back oldest first, unchanged"
    );
    assert_eq!(
        store
            .find_members("GARCÍA", d("1980-02-29"))
            .await
            .unwrap()
            .len(),
        2,
        "last name matches in any case"
    );
    assert!(
        store
            .find_members("garcía", d("1980-03-01"))
            .await
            .unwrap()
            .is_empty()
    );
    let contact = store
        .member_contact(&members[1].member.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.street, "2 Distinctive Lane");
    assert!(
        store
            .member(&MemberId::from_sequence(99))
            .await
            .unwrap()
            .is_none()
    );
}

async fn member_ids_are_listed_in_pages(db: Db) {
    let store = db.store;
    store.insert_networks(&networks()).await.unwrap();
    let members = members();
    store.insert_members(&members).await.unwrap();
    let mut ids: Vec<MemberId> = members.iter().map(|m| m.member.id.clone()).collect();
    ids.sort();
    let first = store.member_ids(None, 2).await.unwrap();
    assert_eq!(first, ids[..2]);
    assert_eq!(
        store.member_ids(Some(&first[1]), 10).await.unwrap(),
        ids[2..]
    );
    assert!(
        store
            .member_ids(Some(&ids[2]), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_batch_with_one_bad_row_stores_none_of_its_rows(db: Db) {
    let store = db.store;
    plan(&*store).await;
    let before = store.counts().await.unwrap();
    let mut batch = vec![new_member(10, "New", npi()), new_member(11, "New", npi())];
    batch.push(new_member(1, "Duplicate", npi()));
    let err = store.insert_members(&batch).await.unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "got {err:?}");
    assert_eq!(
        store.counts().await.unwrap(),
        before,
        "nothing of the failed batch remains"
    );
    assert!(
        store
            .member(&MemberId::from_sequence(10))
            .await
            .unwrap()
            .is_none()
    );
}

async fn members_read_in_bulk_leave_unknown_ids_out(db: Db) {
    let store = db.store;
    plan(&*store).await;
    let got = store
        .members_by_ids(&[
            MemberId::from_sequence(2),
            MemberId::from_sequence(99),
            MemberId::from_sequence(1),
            MemberId::from_sequence(2),
        ])
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    let two = got
        .iter()
        .find(|m| m.member.id == MemberId::from_sequence(2))
        .unwrap();
    assert_eq!(two.spans.len(), 2);
    assert!(two.spans[0].start < two.spans[1].start);
    assert_eq!(
        Some(two.clone()),
        store.member(&MemberId::from_sequence(2)).await.unwrap(),
        "the same as one at a time"
    );
    assert!(store.members_by_ids(&[]).await.unwrap().is_empty());
}
