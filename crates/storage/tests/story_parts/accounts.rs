//! Accounts, sign-in state, sessions, the verification queue and the outbox, on either backend.

use chrono::{Duration, Utc};
use domain::access::Scope;
use domain::account::{OrgKind, Role, UserStatus};
use domain::registration::{OfficeRole, RegistrationStatus, RequestKind};
use domain::session::{MAX_FAILURES, SessionStage};
use domain::{ClaimNumber, Npi, Tin};
use std::sync::Arc;
use storage::{
    Approval, NewDocument, NewMessage, NewOrg, NewRegistration, NewSession, NewUser,
    RegistrationFilter, StorageError, Store,
};

fn session(hash: &str, user: i64) -> NewSession {
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
        npi: Npi::parse("1234567893").unwrap(),
        tin,
        office_name: "Irvine Family Medicine".into(),
        office_role: OfficeRole::FrontDesk,
        user_id: user,
        note: String::new(),
        submitted_at: Utc::now(),
        source: "192.0.2.1".into(),
    }
}

/// `org` is a provider office with TIN 95-1234567 (the story's provider bills under it, and
/// `claim` is billed by that provider); `user` an office user of it.
pub async fn accounts_story(store: Arc<dyn Store>, org: i64, user: i64, claim: &ClaimNumber) {
    let tin = Tin::parse("951234567").unwrap();
    let other_tin = Tin::parse("951234568").unwrap();

    // Identity: user, organisation, granted TINs.
    let id = store.identity(user).await.unwrap().unwrap();
    assert_eq!(id.org.tin, Some(tin));
    assert_eq!(id.user.status, UserStatus::Active);
    assert!(id.granted_tins.is_empty());
    assert_eq!(store.org_by_tin(&tin).await.unwrap().unwrap().id, org);
    store.grant_tin(user, &other_tin, user).await.unwrap();
    store.grant_tin(user, &other_tin, user).await.unwrap(); // idempotent
    assert_eq!(
        store.identity(user).await.unwrap().unwrap().granted_tins,
        vec![other_tin]
    );
    store.revoke_tin(user, &other_tin).await.unwrap();
    assert!(store.tin_grants(user).await.unwrap().is_empty());
    assert_eq!(store.search_users("FRONT", 10).await.unwrap().len(), 1);
    assert!(
        store.search_users("%", 10).await.unwrap().is_empty(),
        "LIKE wildcards are escaped"
    );
    assert_eq!(store.users_of_org(org).await.unwrap().len(), 1);

    // Throttle: five failures lock; two concurrent failures are both counted.
    let now = Utc::now();
    let a = store.clone();
    let b = store.clone();
    let (x, y) = tokio::join!(
        a.record_sign_in_failure(user, now),
        b.record_sign_in_failure(user, now)
    );
    let mut counts = [x.unwrap().failures, y.unwrap().failures];
    counts.sort();
    assert_eq!(counts, [1, 2], "concurrent failures are both counted");
    for _ in 2..MAX_FAILURES {
        store.record_sign_in_failure(user, now).await.unwrap();
    }
    let locked = store.user(user).await.unwrap().unwrap().throttle;
    assert_eq!(locked.failures, MAX_FAILURES);
    assert!(locked.is_locked(now));
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

    // TOTP: enrolment, steps accepted once, recovery codes used once.
    let hashes: Vec<String> = (0..3).map(|i| format!("hash{i}")).collect();
    store
        .enrol_totp(user, "JBSWY3DPEHPK3PXP", &hashes)
        .await
        .unwrap();
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

    // Sessions.
    store.create_session(&session("s1", user)).await.unwrap();
    store.create_session(&session("s2", user)).await.unwrap();
    store.create_session(&session("s3", user)).await.unwrap();
    let s = store.session("s1").await.unwrap().unwrap();
    assert_eq!(
        (s.user_id, s.stage, s.csrf.as_str()),
        (user, SessionStage::Full, "csrf-s1")
    );
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

    // A password change ends the other sessions; an MFA reset and a deactivation end all.
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
    store.reset_totp(user).await.unwrap();
    assert!(store.session("p1").await.unwrap().is_none());
    let u = store.user(user).await.unwrap().unwrap();
    assert_eq!((u.totp_secret, u.totp_last_step), (None, None));
    assert_eq!(store.unused_recovery_codes(user).await.unwrap(), 0);
    store.create_session(&session("d1", user)).await.unwrap();
    store
        .set_user_status(user, UserStatus::Deactivated)
        .await
        .unwrap();
    assert!(store.session("d1").await.unwrap().is_none());
    store
        .set_user_status(user, UserStatus::Active)
        .await
        .unwrap();

    // Registrations: an access request approved creates an invited user with an activation.
    let r1 = store
        .create_registration(&request(RequestKind::Access, "new@irvinefm.org", tin, None))
        .await
        .unwrap();
    assert_eq!(
        store
            .pending_registration("new@irvinefm.org", RequestKind::Access, &tin)
            .await
            .unwrap(),
        Some(r1)
    );
    let pending = store
        .registrations(&RegistrationFilter {
            status: Some(RegistrationStatus::Pending),
            tin: Some(tin),
            limit: 10,
            ..RegistrationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let doc = NewDocument {
        registration_id: r1,
        filename: "letter.pdf".into(),
        media_type: "application/pdf".into(),
        sha256: "abc".into(),
        bytes: b"%PDF-1.7 letter".to_vec(),
        uploaded_by: None,
        uploaded_at: Utc::now(),
    };
    let doc_id = store.add_document(&doc).await.unwrap();
    let (meta, bytes) = store.document(doc_id).await.unwrap().unwrap();
    assert_eq!((meta.size, bytes), (15, doc.bytes.clone()));
    assert_eq!(store.documents(r1).await.unwrap().len(), 1);

    let access = |username: &str, hash: &str, expires| Approval::Access {
        username: username.into(),
        role: Role::OfficeUser,
        activation_hash: hash.into(),
        activation_expires: expires,
    };
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
    let invited = store.user(approved.user_id).await.unwrap().unwrap();
    assert_eq!(
        (invited.status, invited.password_hash.as_str()),
        (UserStatus::Invited, "")
    );
    assert_eq!(store.outbox(100).await.unwrap().len(), outbox_before + 1);

    // Activation: once, before it expires.
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
    assert_eq!(
        store.user(approved.user_id).await.unwrap().unwrap().status,
        UserStatus::Active
    );

    // A claims request grants the entitlement and marks the office claims-allowed.
    let r2 = store
        .create_registration(&request(
            RequestKind::Claims,
            "new@irvinefm.org",
            tin,
            Some(approved.user_id),
        ))
        .await
        .unwrap();
    store
        .approve_registration(r2, user, &Approval::Claims, &message("new@irvinefm.org"))
        .await
        .unwrap()
        .unwrap();
    assert!(store.user(approved.user_id).await.unwrap().unwrap().claims);
    assert!(store.org(org).await.unwrap().unwrap().claims_allowed);
    // A TIN request grants that TIN.
    let r3 = store
        .create_registration(&request(
            RequestKind::Tin,
            "new@irvinefm.org",
            other_tin,
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
        vec![other_tin]
    );
    // A denial keeps its reason.
    let r4 = store
        .create_registration(&request(
            RequestKind::Access,
            "who@else.org",
            other_tin,
            None,
        ))
        .await
        .unwrap();
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
    // An access request for an office the plan has no organisation for yet creates it.
    let r5 = store
        .create_registration(&request(
            RequestKind::Access,
            "first@neworg.org",
            Tin::parse("951234569").unwrap(),
            None,
        ))
        .await
        .unwrap();
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

    // Outbox.
    let newest = store.outbox(1).await.unwrap().remove(0);
    assert_eq!(newest.to_addr, "first@neworg.org");
    assert_eq!(newest.sent_at, None);
    store.mark_sent(newest.id, Utc::now()).await.unwrap();
    assert!(store.outbox(1).await.unwrap()[0].sent_at.is_some());

    // Claims in scope: by the billing provider's TIN only.
    let mine = store
        .claims_in_scope(&Scope::Tins(vec![tin]), 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(&mine[0].number, claim);
    assert!(mine[0].billed.0 > 0);
    assert!(
        store
            .claims_in_scope(&Scope::Tins(vec![other_tin]), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claims_in_scope(&Scope::Nothing, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_in_scope(claim, &Scope::Tins(vec![tin]))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .claim_in_scope(claim, &Scope::Tins(vec![other_tin]))
            .await
            .unwrap()
            .is_none()
    );

    // A plain create_org/create_user round trip with every field.
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
}
