//! The verification queue: requests, proofs stored as bytes, approvals applied once in one
//! transaction with their email (or not at all), activation links, denials, two deciders at once.

use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use domain::Tin;
use domain::account::{OrgKind, Role, UserStatus};
use domain::registration::{OfficeRole, RegistrationStatus, RequestKind};
use storage::{
    Approval, Approved, Document, NewDocument, NewMessage, NewRegistration, RegistrationFilter,
    StorageError,
};

on_both!(
    a_proof_is_stored_as_bytes_and_listed_with_its_request,
    an_access_approval_is_applied_once_or_not_at_all,
    an_activation_link_works_once_before_it_expires,
    a_claims_request_grants_the_entitlement_and_a_tin_request_the_tin,
    a_denial_keeps_its_reason,
    an_access_request_for_a_new_office_creates_it_or_leaves_nothing,
    two_deciders_at_once_make_one_user_and_one_message,
);

fn message(to: &str) -> NewMessage {
    NewMessage {
        to_addr: to.into(),
        subject: "Your request".into(),
        body: "Decided.".into(),
        created_at: Utc::now(),
    }
}

fn request(kind: RequestKind, email: &str, tin: Tin, user: Option<i64>) -> NewRegistration {
    NewRegistration {
        kind,
        name: "Linh Tran".into(),
        email: email.into(),
        phone: "7145550100".into(),
        npi: npi(),
        tin,
        office_name: "Irvine Family Medicine".into(),
        office_role: OfficeRole::FrontDesk,
        user_id: user,
        note: String::new(),
        submitted_at: Utc::now(),
        source: "192.0.2.1".into(),
    }
}

fn access(username: &str, hash: &str, expires: DateTime<Utc>) -> Approval {
    Approval::Access {
        username: username.into(),
        role: Role::OfficeUser,
        activation_hash: hash.into(),
        activation_expires: expires,
    }
}

/// The office, its `front.desk` (who decides), and `new@irvinefm.org` approved for access
/// (invited, activation `t1` valid for a week): (org, decider, approved).
async fn approved(db: &Db) -> (i64, i64, Approved) {
    let (org, user) = office(&*db.store).await;
    let r1 = db
        .store
        .create_registration(&request(
            RequestKind::Access,
            "new@irvinefm.org",
            tin(),
            None,
        ))
        .await
        .unwrap();
    let approved = db
        .store
        .approve_registration(
            r1,
            user,
            &access("new@irvinefm.org", "t1", Utc::now() + Duration::days(7)),
            &message("new@irvinefm.org"),
        )
        .await
        .unwrap()
        .expect("approved");
    (org, user, approved)
}

async fn a_proof_is_stored_as_bytes_and_listed_with_its_request(db: Db) {
    let store = db.store;
    let r1 = store
        .create_registration(&request(
            RequestKind::Access,
            "new@irvinefm.org",
            tin(),
            None,
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .pending_registration("new@irvinefm.org", RequestKind::Access, &tin())
            .await
            .unwrap(),
        Some(r1)
    );
    assert_eq!(
        store
            .pending_registration("new@irvinefm.org", RequestKind::Claims, &tin())
            .await
            .unwrap(),
        None
    );
    let pending = store
        .registrations(&RegistrationFilter {
            status: Some(RegistrationStatus::Pending),
            tin: Some(tin()),
            limit: 10,
            ..RegistrationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].name.as_str(), pending[0].office_role),
        ("Linh Tran", OfficeRole::FrontDesk)
    );
    let doc = NewDocument {
        registration_id: r1,
        filename: "letter.pdf".into(),
        media_type: "application/pdf".into(),
        sha256: "abc".into(),
        // Every byte value (NUL included): proofs are stored as bytes, never as text.
        bytes: b"%PDF-1.7 letter"
            .iter()
            .copied()
            .chain(0..=255u8)
            .collect(),
        uploaded_by: None,
        uploaded_at: Utc::now(),
    };
    let doc_id = store.add_document(&doc).await.unwrap();
    let Document { meta, bytes } = store.document(doc_id).await.unwrap().unwrap();
    assert_eq!((meta.size, &bytes), (15 + 256, &doc.bytes));
    assert_eq!(
        (
            meta.filename.as_str(),
            meta.media_type.as_str(),
            meta.sha256.as_str()
        ),
        ("letter.pdf", "application/pdf", "abc")
    );
    assert_eq!(store.documents(r1).await.unwrap(), vec![meta]);
    assert!(store.document(doc_id + 1000).await.unwrap().is_none());
}

async fn an_access_approval_is_applied_once_or_not_at_all(db: Db) {
    let store = db.store.clone();
    let (org, user) = office(&*store).await;
    let r1 = store
        .create_registration(&request(
            RequestKind::Access,
            "new@irvinefm.org",
            tin(),
            None,
        ))
        .await
        .unwrap();
    let outbox_before = store.outbox(100).await.unwrap().len();
    // A username already taken: nothing of the approval remains.
    let err = store
        .approve_registration(
            r1,
            user,
            &access("front.desk", "t0", Utc::now() + Duration::days(7)),
            &message("new@irvinefm.org"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
    assert_eq!(
        store.registration(r1).await.unwrap().unwrap().status,
        RegistrationStatus::Pending
    );
    assert_eq!(store.outbox(100).await.unwrap().len(), outbox_before);
    assert_eq!(store.activation_user("t0", Utc::now()).await.unwrap(), None);

    let approved = store
        .approve_registration(
            r1,
            user,
            &access("new@irvinefm.org", "t1", Utc::now() + Duration::days(7)),
            &message("new@irvinefm.org"),
        )
        .await
        .unwrap()
        .expect("approved");
    assert_eq!(approved.org_id, org, "the existing office");
    let again = store
        .approve_registration(
            r1,
            user,
            &access("other", "t2", Utc::now() + Duration::days(7)),
            &message("x"),
        )
        .await
        .unwrap();
    assert!(again.is_none(), "a decided request is not decided twice");
    let rec = store.registration(r1).await.unwrap().unwrap();
    assert_eq!(rec.status, RegistrationStatus::Approved);
    assert_eq!(rec.decided_by_name.as_deref(), Some("front.desk"));
    assert_eq!(rec.user_id, Some(approved.user_id));
    let invited = store.user(approved.user_id).await.unwrap().unwrap();
    assert_eq!(
        (invited.status, invited.password_hash.as_str()),
        (UserStatus::Invited, "")
    );
    let outbox = store.outbox(100).await.unwrap();
    assert_eq!(outbox.len(), outbox_before + 1);
    assert_eq!(
        outbox[0].id, approved.message_id,
        "the message queued with it"
    );
}

async fn an_activation_link_works_once_before_it_expires(db: Db) {
    let (_, _, approved) = approved(&db).await;
    let store = db.store;
    let now = Utc::now();
    assert_eq!(
        store.activation_user("t1", now).await.unwrap(),
        Some(approved.user_id)
    );
    assert_eq!(
        store
            .activation_user("t1", now + Duration::days(8))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .activate("t1", "$argon2id$x", now + Duration::days(8))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.activate("t1", "$argon2id$x", now).await.unwrap(),
        Some(approved.user_id)
    );
    assert_eq!(
        store.activate("t1", "$argon2id$y", now).await.unwrap(),
        None,
        "used"
    );
    let user = store.user(approved.user_id).await.unwrap().unwrap();
    assert_eq!(
        (user.status, user.password_hash.as_str()),
        (UserStatus::Active, "$argon2id$x")
    );
    // The operators' invitation stores a token the same way.
    store
        .create_activation(approved.user_id, "t-op", now + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        store.activation_user("t-op", now).await.unwrap(),
        Some(approved.user_id)
    );
}

async fn a_claims_request_grants_the_entitlement_and_a_tin_request_the_tin(db: Db) {
    let (org, user, approved) = approved(&db).await;
    let store = db.store;
    let r2 = store
        .create_registration(&request(
            RequestKind::Claims,
            "new@irvinefm.org",
            tin(),
            Some(approved.user_id),
        ))
        .await
        .unwrap();
    assert!(!store.org(org).await.unwrap().unwrap().claims_allowed);
    store
        .approve_registration(r2, user, &Approval::Claims, &message("new@irvinefm.org"))
        .await
        .unwrap()
        .unwrap();
    assert!(store.user(approved.user_id).await.unwrap().unwrap().claims);
    assert!(store.org(org).await.unwrap().unwrap().claims_allowed);
    let r3 = store
        .create_registration(&request(
            RequestKind::Tin,
            "new@irvinefm.org",
            other_tin(),
            Some(approved.user_id),
        ))
        .await
        .unwrap();
    store
        .approve_registration(r3, user, &Approval::Tin, &message("x"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .identity(approved.user_id)
            .await
            .unwrap()
            .unwrap()
            .granted_tins,
        vec![other_tin()]
    );
}

async fn a_denial_keeps_its_reason(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let r4 = store
        .create_registration(&request(
            RequestKind::Access,
            "who@else.org",
            other_tin(),
            None,
        ))
        .await
        .unwrap();
    let outbox_before = store.outbox(100).await.unwrap().len();
    assert!(
        store
            .deny_registration(r4, user, "Not employed there", &message("who@else.org"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .deny_registration(r4, user, "again", &message("who@else.org"))
            .await
            .unwrap()
    );
    let denied = store.registration(r4).await.unwrap().unwrap();
    assert_eq!(
        (denied.status, denied.reason.as_deref()),
        (RegistrationStatus::Denied, Some("Not employed there"))
    );
    assert_eq!(
        store.outbox(100).await.unwrap().len(),
        outbox_before + 1,
        "one message, for the first denial"
    );
}

async fn an_access_request_for_a_new_office_creates_it_or_leaves_nothing(db: Db) {
    let (_, user, _) = approved(&db).await;
    let store = db.store;
    let r5 = store
        .create_registration(&request(
            RequestKind::Access,
            "first@neworg.org",
            Tin::parse("951234569").unwrap(),
            None,
        ))
        .await
        .unwrap();
    let offices_before = store
        .orgs_of_kind(OrgKind::ProviderOffice)
        .await
        .unwrap()
        .len();
    let users_before = store.counts().await.unwrap().users;
    let outbox_before = store.outbox(100).await.unwrap().len();
    // A username already taken leaves no organisation behind either.
    let err = store
        .approve_registration(
            r5,
            user,
            &access("new@irvinefm.org", "t5-dup", Utc::now() + Duration::days(7)),
            &message("first@neworg.org"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Duplicate(_)), "{err:?}");
    assert_eq!(
        store
            .orgs_of_kind(OrgKind::ProviderOffice)
            .await
            .unwrap()
            .len(),
        offices_before,
        "the office created for the approval was rolled back"
    );
    assert_eq!(store.counts().await.unwrap().users, users_before);
    assert_eq!(store.outbox(100).await.unwrap().len(), outbox_before);
    assert_eq!(
        store.activation_user("t5-dup", Utc::now()).await.unwrap(),
        None
    );
    assert_eq!(
        store.registration(r5).await.unwrap().unwrap().status,
        RegistrationStatus::Pending
    );
    let a5 = store
        .approve_registration(
            r5,
            user,
            &access("first@neworg.org", "t5", Utc::now() + Duration::days(7)),
            &message("first@neworg.org"),
        )
        .await
        .unwrap()
        .unwrap();
    let new_org = store.org(a5.org_id).await.unwrap().unwrap();
    assert_eq!(
        (new_org.kind, new_org.name.as_str()),
        (OrgKind::ProviderOffice, "Irvine Family Medicine")
    );
    assert_eq!(new_org.tin, Some(Tin::parse("951234569").unwrap()));
    assert_eq!(store.outbox(100).await.unwrap().len(), outbox_before + 1);
}

async fn two_deciders_at_once_make_one_user_and_one_message(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    let r6 = store
        .create_registration(&request(
            RequestKind::Access,
            "race@irvinefm.org",
            tin(),
            None,
        ))
        .await
        .unwrap();
    let users_before = store.counts().await.unwrap().users;
    let outbox_before = store.outbox(100).await.unwrap().len();
    let (s1, s2) = (store.clone(), store.clone());
    let (x, y) = tokio::join!(
        tokio::spawn(async move {
            s1.approve_registration(
                r6,
                user,
                &access("race.one", "race1", Utc::now() + Duration::days(7)),
                &message("race@irvinefm.org"),
            )
            .await
        }),
        tokio::spawn(async move {
            s2.approve_registration(
                r6,
                user,
                &access("race.two", "race2", Utc::now() + Duration::days(7)),
                &message("race@irvinefm.org"),
            )
            .await
        })
    );
    let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
    assert!(
        x.is_some() != y.is_some(),
        "exactly one approval wins: {x:?} {y:?}"
    );
    assert_eq!(store.counts().await.unwrap().users, users_before + 1);
    assert_eq!(store.outbox(100).await.unwrap().len(), outbox_before + 1);
    let winner = x.or(y).unwrap();
    assert_eq!(
        store.registration(r6).await.unwrap().unwrap().user_id,
        Some(winner.user_id)
    );
    // The winner's message is the newest, not sent yet.
    let newest = store.outbox(1).await.unwrap().remove(0);
    assert_eq!(newest.to_addr, "race@irvinefm.org");
    assert_eq!(newest.sent_at, None);
    store.mark_sent(newest.id, Utc::now()).await.unwrap();
    assert!(store.outbox(1).await.unwrap()[0].sent_at.is_some());
}
