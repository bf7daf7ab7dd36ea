//! One story of the plan's data, told against every backend: SQLite always, PostgreSQL when
//! `PORTAL_TEST_POSTGRES_URL` names a server we may create databases on (`.ci/run` sets it).

use chrono::{NaiveDate, TimeZone, Utc};
use domain::account::{OrgKind, Role, UserStatus};
use domain::audit::{AuditEvent, ChainBreak};
use domain::auth::{AuthKind, AuthRequest, AuthStatus, DenialReason, RequestedService, Urgency};
use domain::claim::{
    Adjustment, AdjustmentGroup, Claim, ClaimForm, ClaimLine, ClaimStatus, PaymentRef,
};
use domain::member::{EligibilitySpan, Member, MemberContact, Sex};
use domain::plan::{HealthNetwork, LineOfBusiness, NetworkKind};
use domain::provider::{GeoPoint, Location, Provider, ProviderKind, Taxonomy};
use domain::training::Training;
use domain::{AuthNumber, Cents, ClaimNumber, MemberId, Npi, Tin};
use std::sync::Arc;
use storage::AuditQuery;
use storage::{NewMember, NewOrg, NewUser, StorageError, Store};

#[path = "story_parts/accounts.rs"]
mod accounts;
#[path = "story_parts/adjudication.rs"]
mod adjudication;
#[path = "story_parts/authorizations.rs"]
mod authorizations;
#[path = "story_parts/edi_core.rs"]
mod edi_core;
#[path = "story_parts/eligibility.rs"]
mod eligibility;
#[path = "story_parts/intake.rs"]
mod intake;
#[path = "story_parts/keys.rs"]
mod keys;
#[path = "story_parts/lockout.rs"]
mod lockout;
#[path = "story_parts/lookups.rs"]
mod lookups;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn network(code: &str, kind: NetworkKind) -> HealthNetwork {
    HealthNetwork {
        code: code.into(),
        name: format!("{code} network"),
        kind,
        phone: "7145550000".into(),
    }
}

fn provider(npi: Npi) -> Provider {
    Provider {
        npi,
        tin: Tin::parse("95-1234567").unwrap(),
        kind: ProviderKind::Practitioner,
        name: "Nguyen, Linh".into(),
        credential: "MD".into(),
        taxonomy: Taxonomy {
            code: "207Q00000X".into(),
            specialty: "Family Medicine".into(),
        },
        languages: vec!["en".into(), "vi".into()],
        location: Location {
            street: "1 Medical Plaza".into(),
            city: "Irvine".into(),
            state: "CA".into(),
            zip: "92618".into(),
            phone: "9495550101".into(),
            point: GeoPoint {
                lat: 33.6846,
                lon: -117.8265,
            },
        },
        accepting_new_patients: true,
        contracted: true,
        networks: vec!["CCN".into(), "HN1".into()],
    }
}

fn new_member(n: u64, last: &str, pcp: Npi) -> NewMember {
    NewMember {
        member: Member {
            id: MemberId::from_sequence(n),
            first_name: "Ana".into(),
            last_name: last.into(),
            birth_date: d("1980-02-29"),
            sex: Sex::Female,
        },
        contact: MemberContact {
            street: format!("{n} Distinctive Lane"),
            city: "Santa Ana".into(),
            zip: "92701".into(),
            phone: "7145559999".into(),
        },
        spans: vec![
            EligibilitySpan::new(
                d("2024-01-01"),
                Some(d("2024-12-31")),
                LineOfBusiness::MediCal,
                "HN1".into(),
                Some(pcp),
            )
            .unwrap(),
            EligibilitySpan::new(
                d("2025-01-01"),
                None,
                LineOfBusiness::OneCare,
                "CCN".into(),
                None,
            )
            .unwrap(),
        ],
    }
}

fn claim(n: u64, member: &MemberId, npi: Npi) -> Claim {
    Claim {
        number: ClaimNumber::from_sequence(n),
        form: ClaimForm::Professional,
        patient_account: "PA-778".into(),
        member: member.clone(),
        billing_npi: npi,
        rendering_npi: Some(npi),
        diagnoses: vec!["E119".into(), "I10".into()],
        place_of_service: "11".into(),
        received: d("2025-03-04"),
        status: ClaimStatus::PartiallyPaid,
        lines: vec![
            ClaimLine {
                line_number: 1,
                procedure: "99214".into(),
                modifiers: vec!["25".into()],
                revenue_code: None,
                units: 1,
                service_date: d("2025-03-01"),
                billed: Cents(20000),
                allowed: Cents(11000),
                paid: Cents(11000),
                adjustments: vec![Adjustment {
                    group: AdjustmentGroup::ContractualObligation,
                    reason: "45".into(),
                    amount: Cents(9000),
                    remark: None,
                }],
            },
            ClaimLine {
                line_number: 2,
                procedure: "83036".into(),
                modifiers: vec![],
                revenue_code: None,
                units: 1,
                service_date: d("2025-03-01"),
                billed: Cents(4500),
                allowed: Cents(0),
                paid: Cents(0),
                adjustments: vec![Adjustment {
                    group: AdjustmentGroup::ContractualObligation,
                    reason: "97".into(),
                    amount: Cents(4500),
                    remark: Some("M15".into()),
                }],
            },
        ],
        payment: Some(PaymentRef {
            number: "EFT000123".into(),
            date: d("2025-03-20"),
        }),
    }
}

fn auth(member: &MemberId, npi: Npi) -> AuthRequest {
    AuthRequest {
        number: AuthNumber::from_sequence(7),
        kind: AuthKind::PriorAuthorization,
        urgency: Urgency::Expedited,
        member: member.clone(),
        requesting_npi: npi,
        servicing_npi: npi,
        diagnoses: vec!["M1711".into()],
        services: vec![RequestedService {
            approved_units: Some(0),
            ..RequestedService::new("73721", 1)
        }],
        line_of_business: LineOfBusiness::OneCare,
        urgency_reason: "Post-operative knee locking.".into(),
        clinical_notes: String::new(),
        pended_at: None,
        info_received_at: None,
        reviewer: None,
        auto_rule: None,
        appeal: None,
        place_of_service: "22".into(),
        from_date: d("2025-04-01"),
        to_date: d("2025-06-30"),
        received_at: Utc.with_ymd_and_hms(2025, 3, 28, 15, 4, 5).unwrap(),
        status: AuthStatus::Denied,
        decided_at: Some(Utc.with_ymd_and_hms(2025, 3, 30, 9, 0, 0).unwrap()),
        denial_reason: Some(DenialReason {
            code: "MN01".into(),
            text: "Conservative therapy for 6 weeks is not documented.".into(),
        }),
    }
}

/// The story itself: what every backend must do the same way.
async fn story(store: Arc<dyn Store>) {
    assert!(
        store.is_empty().await.unwrap(),
        "a new database starts empty"
    );
    store.ping().await.unwrap();

    let nets = vec![
        network("CCN", NetworkKind::Community),
        network("HN1", NetworkKind::Delegated),
    ];
    store.insert_networks(&nets).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
    assert_eq!(store.networks().await.unwrap(), nets);

    let npi = Npi::parse("1234567893").unwrap();
    let p = provider(npi);
    store
        .insert_providers(std::slice::from_ref(&p))
        .await
        .unwrap();
    assert_eq!(store.provider(&npi).await.unwrap(), Some(p));
    assert_eq!(
        store
            .provider(&Npi::parse("1558598797").unwrap())
            .await
            .unwrap(),
        None
    );

    let members: Vec<NewMember> = (1..=3)
        .map(|n| new_member(n, if n == 3 { "Smith" } else { "García" }, npi))
        .collect();
    store.insert_members(&members).await.unwrap();
    // Plan-side listing of member IDs, in pages.
    let mut ids: Vec<MemberId> = members.iter().map(|m| m.member.id.clone()).collect();
    ids.sort();
    let first = store.member_ids(None, 2).await.unwrap();
    assert_eq!(first, ids[..2]);
    assert_eq!(
        store.member_ids(Some(&first[1]), 10).await.unwrap(),
        ids[2..]
    );
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

    // All or nothing: a batch with one bad row stores none of its rows.
    let before = store.counts().await.unwrap();
    let mut batch = vec![new_member(10, "New", npi), new_member(11, "New", npi)];
    batch.push(new_member(1, "Duplicate", npi));
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

    let c = claim(1, &members[0].member.id, npi);
    store.insert_claims(std::slice::from_ref(&c)).await.unwrap();
    let back = store.claim(&c.number).await.unwrap().expect("claim stored");
    assert_eq!(back, c);
    assert!(back.lines.iter().all(ClaimLine::balances));
    assert_eq!(back.paid(), Cents(11000));
    assert_eq!(
        store.claim(&ClaimNumber::from_sequence(99)).await.unwrap(),
        None
    );

    let a = auth(&members[0].member.id, npi);
    store.insert_auths(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(store.auth(&a.number).await.unwrap(), Some(a));

    let t = vec![Training {
        code: "fwa".into(),
        title: "Fraud, waste and abuse".into(),
        topic: "Compliance".into(),
        minutes: 30,
        required: true,
    }];
    store.insert_trainings(&t).await.unwrap();
    assert_eq!(store.trainings().await.unwrap(), t);

    let org = store
        .create_org(&NewOrg {
            kind: OrgKind::ProviderOffice,
            name: "Irvine Family Medicine".into(),
            tin: Some(Tin::parse("951234567").unwrap()),
            network: None,
            claims_allowed: false,
        })
        .await
        .unwrap();
    let user = NewUser {
        username: "front.desk".into(),
        display_name: "Front Desk".into(),
        email: "desk@example.org".into(),
        role: Role::OfficeUser,
        org_id: org,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        status: UserStatus::Active,
        phone: "7145550100".into(),
        claims: false,
    };
    let id = store.create_user(&user).await.unwrap();
    let u = store.user_by_username("front.desk").await.unwrap().unwrap();
    assert_eq!((u.id, u.role, u.org_id), (id, Role::OfficeUser, org));
    assert!(matches!(
        store.create_user(&user).await,
        Err(StorageError::Duplicate(_))
    ));

    audit_story(store.clone()).await;
    accounts::accounts_story(store.clone(), org, id, &c.number).await;
    lockout::lockout_story(store.clone(), id).await;
    lookups::lookups_story(store.clone(), org).await;
    authorizations::authorizations_story(store.clone(), org, id, auth(&members[0].member.id, npi))
        .await;

    let counts = store.counts().await.unwrap();
    assert_eq!(
        (
            counts.members,
            counts.eligibility_spans,
            counts.claims,
            counts.claim_lines,
            counts.users
        ),
        (3, 6, 2, 4, 5)
    );
    assert!(store.size_bytes().await.unwrap() > 0);
    // Claim status reads the story's claims before the engine's part adds more like them, and
    // the engine's part reads every received claim before intake stores more.
    edi_core::edi_core_story(store.clone(), npi, &members, &c).await;
    adjudication::adjudication_story(store.clone(), &c, &members[0].member.id, npi).await;
    intake::intake_story(store.clone(), npi, org).await;
}

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

/// Appends from many tasks at once: the chain must still be one line.
async fn audit_story(store: Arc<dyn Store>) {
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Ok(0));
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.audit(&read_event(n)).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Ok(20));
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
}

/// Runs one statement behind the store's back, as someone with database access could.
async fn exec_raw(url: &str, sql: &'static str) {
    use sqlx::Connection;
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

/// Tampering with the stored trail, as an attacker with database access would, is caught.
async fn tamper_story(url: &str) {
    let store = storage::open(url).await.unwrap();
    // The story's entries: 20 single appends, then the EDI part's grouped ones.
    let (head, _) = store.audit_head().await.unwrap();
    assert!(head >= 20);
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Ok(head as u64)
    );
    exec_raw(
        url,
        "UPDATE audit_log SET record_id = 'M000000999' WHERE seq = 7",
    )
    .await;
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Err(ChainBreak::Altered { seq: 7 })
    );
    exec_raw(url, "DELETE FROM audit_log WHERE seq = 7").await;
    assert_eq!(
        storage::verify_audit(&*store).await.unwrap(),
        Err(ChainBreak::Missing {
            seq: 8,
            expected: 7
        })
    );
    exec_raw(url, "DELETE FROM audit_log WHERE seq >= 7").await;
    // SQLite keeps the signed head beside the database too; either way the cut is named.
    let expected = if url.starts_with("sqlite") {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portal.db", dir.path().display());
    story(storage::open(&url).await.unwrap()).await;
    tamper_story(&url).await;
    // Reopening runs the migrations again without harm and keeps the data.
    let again = storage::open(&url).await.unwrap();
    assert_eq!(again.counts().await.unwrap().members, 3);
    assert_eq!(again.backend(), "sqlite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn story_on_postgres() {
    let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES_URL") else {
        eprintln!("story_on_postgres: skipped (PORTAL_TEST_POSTGRES_URL is not set)");
        return;
    };
    let url = fresh_postgres_database(&admin_url).await;
    let store = storage::open(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    story(store).await;
    tamper_story(&url).await;
}

// Eligibility on a database of its own (it appends audit entries the main story counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eligibility_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portal.db", dir.path().display());
    eligibility::eligibility_story(storage::open(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eligibility_on_postgres() {
    let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES_URL") else {
        eprintln!("eligibility_on_postgres: skipped (PORTAL_TEST_POSTGRES_URL is not set)");
        return;
    };
    let url = fresh_postgres_database(&admin_url).await;
    eligibility::eligibility_story(storage::open(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portal.db", dir.path().display());
    keys::secrets_are_sealed(storage::open(&url).await.unwrap(), &url).await;
    keys::keys_story(&format!("sqlite://{}/keys.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_on_postgres() {
    let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES_URL") else {
        eprintln!("secrets_on_postgres: skipped (PORTAL_TEST_POSTGRES_URL is not set)");
        return;
    };
    let url = fresh_postgres_database(&admin_url).await;
    keys::secrets_are_sealed(storage::open(&url).await.unwrap(), &url).await;
    let url = fresh_postgres_database(&admin_url).await;
    keys::keys_story(&url).await;
}

#[tokio::test]
async fn bad_urls_are_named() {
    let err = storage::open("mysql://root:secret@localhost/db")
        .await
        .err()
        .expect("mysql is refused");
    let msg = err.to_string();
    assert!(msg.contains("unsupported scheme 'mysql'"), "{msg}");
    assert!(
        !msg.contains("secret"),
        "the password never appears in an error"
    );
    assert!(matches!(
        storage::open("portal.db").await,
        Err(StorageError::BadUrl(_))
    ));
}

/// A database of its own for this test run, so runs never see each other's rows.
async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!(
        "portal_test_{}_{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0).unsigned_abs()
    );
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to PORTAL_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').expect("URL has a database path");
    format!("{base}/{name}")
}
