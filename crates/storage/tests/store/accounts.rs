//! Accounts: users and organisations, identity with granted TINs, searches, the password that
//! ends other sessions, deactivation recorded and compare-and-set.

use crate::common::*;
use chrono::Utc;
use domain::Tin;
use domain::account::{OrgKind, Role, StatusAuthority, UserStatus};
use domain::session::SessionStage;
use storage::{NewOrg, NewSession, NewUser, StatusChange, StorageError};

on_both!(
    a_user_is_created_once_and_read_back_with_every_field,
    identity_carries_the_organisation_and_the_granted_tins,
    a_password_change_ends_the_other_sessions,
    a_deactivation_records_who_and_is_compare_and_set,
);

pub fn session(hash: &str, user: i64) -> NewSession {
    NewSession {
        token_hash: hash.into(),
        user_id: user,
        stage: SessionStage::Full,
        csrf: format!("csrf-{hash}"),
        created_at: Utc::now(),
        source: "192.0.2.1".into(),
        user_agent: "test".into(),
    }
}

async fn a_user_is_created_once_and_read_back_with_every_field(db: Db) {
    let store = db.store;
    let (org, id) = office(&*store).await;
    let u = store.user_by_username("front.desk").await.unwrap().unwrap();
    assert_eq!((u.id, u.role, u.org_id), (id, Role::OfficeUser, org));
    assert!(matches!(
        store.create_user(&front_desk(org)).await,
        Err(StorageError::Duplicate(_))
    ));
    assert!(store.user_by_username("nobody").await.unwrap().is_none());

    let billing = store
        .create_org(&NewOrg {
            kind: OrgKind::BillingService,
            name: "Accurate Billing".into(),
            tin: Some(Tin::parse("331234567").unwrap()),
            network: None,
            claims_allowed: false,
        })
        .await
        .unwrap();
    let biller = store
        .create_user(&NewUser {
            username: "biller".into(),
            display_name: "Bill Er".into(),
            email: "bill@accurate.test".into(),
            role: Role::EdiPartner,
            org_id: billing,
            password_hash: "$argon2id$b".into(),
            status: UserStatus::Active,
            phone: "7145550111".into(),
            claims: false,
        })
        .await
        .unwrap();
    let id = store.identity(biller).await.unwrap().unwrap();
    assert_eq!(
        (id.org.kind, id.user.phone.as_str()),
        (OrgKind::BillingService, "7145550111")
    );
    assert_eq!(
        (
            id.user.username.as_str(),
            id.user.display_name.as_str(),
            id.user.email.as_str()
        ),
        ("biller", "Bill Er", "bill@accurate.test")
    );
    assert_eq!(
        (id.user.role, id.user.status, id.user.password_hash.as_str()),
        (Role::EdiPartner, UserStatus::Active, "$argon2id$b")
    );
    assert_eq!(
        store
            .orgs_of_kind(OrgKind::BillingService)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        vec![billing]
    );
}

async fn identity_carries_the_organisation_and_the_granted_tins(db: Db) {
    let store = db.store;
    let (org, user) = office(&*store).await;
    let id = store.identity(user).await.unwrap().unwrap();
    assert_eq!(id.org.tin, Some(tin()));
    assert_eq!(id.user.status, UserStatus::Active);
    assert!(id.granted_tins.is_empty());
    assert_eq!(store.org_by_tin(&tin()).await.unwrap().unwrap().id, org);
    store.grant_tin(user, &other_tin(), user).await.unwrap();
    store.grant_tin(user, &other_tin(), user).await.unwrap(); // idempotent
    assert_eq!(
        store.identity(user).await.unwrap().unwrap().granted_tins,
        vec![other_tin()]
    );
    let grants = store.tin_grants(user).await.unwrap();
    assert_eq!(
        (grants.len(), grants[0].granted_by),
        (1, user),
        "who granted it"
    );
    store.revoke_tin(user, &other_tin()).await.unwrap();
    assert!(store.tin_grants(user).await.unwrap().is_empty());
    assert_eq!(store.search_users("FRONT", 10).await.unwrap().len(), 1);
    assert!(
        store.search_users("%", 10).await.unwrap().is_empty(),
        "LIKE wildcards are escaped"
    );
    assert_eq!(store.users_of_org(org).await.unwrap().len(), 1);
    assert!(store.identity(user + 1000).await.unwrap().is_none());
}

async fn a_password_change_ends_the_other_sessions(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    store.create_session(&session("p1", user)).await.unwrap();
    store.create_session(&session("p2", user)).await.unwrap();
    store
        .set_password(user, "$argon2id$new", Some("p1"))
        .await
        .unwrap();
    assert!(store.session("p1").await.unwrap().is_some());
    assert!(store.session("p2").await.unwrap().is_none());
    assert_eq!(
        store.user(user).await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );
}

async fn a_deactivation_records_who_and_is_compare_and_set(db: Db) {
    let store = db.store;
    let (_, user) = office(&*store).await;
    store.create_session(&session("d1", user)).await.unwrap();
    let by_office = StatusChange {
        authority: StatusAuthority::Office,
        user_id: Some(user),
        at: Utc::now(),
    };
    assert!(store.deactivation(user).await.unwrap().is_none());
    assert!(
        store
            .set_user_status(user, UserStatus::Deactivated, &by_office, None)
            .await
            .unwrap()
    );
    assert!(store.session("d1").await.unwrap().is_none());
    let d = store.deactivation(user).await.unwrap().unwrap();
    assert_eq!((d.by, d.by_user), (StatusAuthority::Office, Some(user)));
    assert!(d.at.is_some());
    // A decision made on a stale view (it thought the plan had deactivated) does nothing.
    assert!(
        !store
            .set_user_status(
                user,
                UserStatus::Active,
                &by_office,
                Some(StatusAuthority::Plan)
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .set_user_status(
                user,
                UserStatus::Active,
                &by_office,
                Some(StatusAuthority::Office)
            )
            .await
            .unwrap()
    );
    assert!(store.deactivation(user).await.unwrap().is_none());
    assert_eq!(
        store.user(user).await.unwrap().unwrap().status,
        UserStatus::Active
    );
}
