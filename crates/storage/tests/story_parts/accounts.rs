//! Accounts, sign-in state, sessions, the verification queue and the outbox, on either backend.

use chrono::{Duration, Utc};
use domain::access::Scope;
use domain::account::{OrgKind, Role, StatusAuthority, UserStatus};
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

    // Throttle: failures from many instances at once are each counted (compare-and-set), the
    // fifth locks, and clearing unlocks.
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

    // TOTP: enrolment, steps accepted once, recovery codes used once.
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
    // Who deactivated is recorded; a change is a compare-and-set on it.
    let by_office = storage::StatusChange {
        authority: StatusAuthority::Office,
        user_id: Some(user),
        at: chrono::Utc::now(),
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
    let storage::Document { meta, bytes } = store.document(doc_id).await.unwrap().unwrap();
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
    // An access request for an office the plan has no organisation for yet creates it; a
    // username already taken leaves no organisation behind either.
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

    assert_eq!(store.outbox(100).await.unwrap().len(), outbox_before + 1);

    // Two deciders approve the same request at once: one wins, one user, one message.
    let r6 = store
        .create_registration(&request(
            RequestKind::Access,
            "race@irvinefm.org",
            tin,
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
                &Approval::Access {
                    username: "race.one".into(),
                    role: Role::OfficeUser,
                    activation_hash: "race1".into(),
                    activation_expires: Utc::now() + Duration::days(7),
                },
                &message("race@irvinefm.org"),
            )
            .await
        }),
        tokio::spawn(async move {
            s2.approve_registration(
                r6,
                user,
                &Approval::Access {
                    username: "race.two".into(),
                    role: Role::OfficeUser,
                    activation_hash: "race2".into(),
                    activation_expires: Utc::now() + Duration::days(7),
                },
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

    // Outbox.
    let newest = store.outbox(1).await.unwrap().remove(0);
    assert_eq!(newest.to_addr, "race@irvinefm.org");
    assert_eq!(newest.sent_at, None);
    store.mark_sent(newest.id, Utc::now()).await.unwrap();
    assert!(store.outbox(1).await.unwrap()[0].sent_at.is_some());

    // Claims in scope: by the billing provider's TIN only. Another office's provider bills a
    // later claim for the same member under another TIN.
    let other_npi = Npi::parse("1558598797").unwrap();
    let mut other_provider = super::provider(other_npi);
    other_provider.tin = other_tin;
    store.insert_providers(&[other_provider]).await.unwrap();
    let member = store
        .claim(claim)
        .await
        .unwrap()
        .expect("the story's claim")
        .member;
    let mut other = super::claim(2, &member, other_npi);
    other.received = super::d("2025-04-05");
    other.patient_account = format!("{}-B", other.patient_account);
    other.lines[0].service_date = super::d("2025-04-02");
    other.lines[1].service_date = super::d("2025-03-30");
    store
        .insert_claims(std::slice::from_ref(&other))
        .await
        .unwrap();

    let mine = store
        .claims_in_scope(&Scope::Tins(vec![tin]), 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "the other TIN's claim is not listed");
    let s = &mine[0];
    assert_eq!(&s.number, claim);
    assert_eq!(s.member, member);
    assert_eq!(s.member_name, "Ana García");
    assert_eq!(
        (s.received, s.service_from),
        (super::d("2025-03-04"), super::d("2025-03-01"))
    );
    assert_eq!((s.billed.0, s.paid.0), (24500, 11000));
    // Search: every given criterion must match, and the scope still holds.
    let both_tins = Scope::Tins(vec![tin, other_tin]);
    let search = |q: storage::ClaimQuery| {
        let store = store.clone();
        let scope = both_tins.clone();
        async move {
            store
                .search_claims(&scope, &storage::ClaimQuery { limit: 10, ..q })
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.number)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(storage::ClaimQuery {
            patient_account: Some(s.patient_account.clone()),
            ..Default::default()
        })
        .await,
        vec![claim.clone()]
    );
    assert_eq!(
        search(storage::ClaimQuery {
            member: Some(member.clone()),
            service_from: Some(super::d("2025-03-15")),
            service_to: Some(super::d("2025-04-30")),
            ..Default::default()
        })
        .await,
        vec![other.number.clone()],
        "the range bounds the first date of service"
    );
    assert_eq!(
        search(storage::ClaimQuery {
            number: Some(other.number.clone()),
            patient_account: Some(s.patient_account.clone()),
            ..Default::default()
        })
        .await,
        Vec::<ClaimNumber>::new(),
        "criteria combine with AND"
    );
    assert!(
        store
            .search_claims(
                &Scope::Tins(vec![tin]),
                &storage::ClaimQuery {
                    number: Some(other.number.clone()),
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty(),
        "another TIN's claim is not found by number"
    );
    let theirs = store
        .claims_in_scope(&Scope::Tins(vec![other_tin]), 10)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].number, other.number);
    assert_eq!(
        theirs[0].service_from,
        super::d("2025-03-30"),
        "the earliest line"
    );
    let both = store
        .claims_in_scope(&Scope::Tins(vec![tin, other_tin]), 10)
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|c| c.number.clone()).collect::<Vec<_>>(),
        vec![other.number.clone(), claim.clone()],
        "newest received first"
    );
    assert_eq!(
        store
            .claims_in_scope(&Scope::Tins(vec![tin, other_tin]), 1)
            .await
            .unwrap()
            .len(),
        1
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
            .claims_in_scope(&Scope::Tins(vec![]), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_in_scope(&other.number, &Scope::Tins(vec![tin]))
            .await
            .unwrap()
            .is_none(),
        "another TIN's claim answers like one that does not exist"
    );
    assert_eq!(
        store
            .claim_in_scope(&other.number, &Scope::Tins(vec![other_tin]))
            .await
            .unwrap(),
        Some(other)
    );
    assert!(
        store
            .claim_in_scope(&ClaimNumber::from_sequence(99), &Scope::Tins(vec![tin]))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim_in_scope(claim, &Scope::Nothing)
            .await
            .unwrap()
            .is_none()
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
