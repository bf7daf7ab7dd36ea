//! What the area tests share: [`on_both!`], which runs each named test on a fresh database of
//! each backend, and the plan the tests build on.

use chrono::{NaiveDate, TimeZone, Utc};
use domain::account::{OrgKind, Role, UserStatus};
use domain::auth::{AuthKind, AuthRequest, AuthStatus, DenialReason, RequestedService, Urgency};
use domain::claim::{
    Adjustment, AdjustmentGroup, Claim, ClaimForm, ClaimLine, ClaimStatus, PaymentRef,
};
use domain::member::{EligibilitySpan, Member, MemberContact, Sex};
use domain::plan::{HealthNetwork, LineOfBusiness, NetworkKind};
use domain::provider::{GeoPoint, Location, Provider, ProviderKind, Taxonomy};
use domain::{AuthNumber, Cents, ClaimNumber, MemberId, Npi, Tin};
use std::sync::Arc;
use storage::{NewMember, NewOrg, NewUser, Store};

/// Runs each named `async fn name(db: Db)` twice, as `name::sqlite` on a fresh SQLite file and
/// as `name::postgres` on a fresh PostgreSQL database when `PORTAL_TEST_POSTGRES_URL` names a
/// server where the tests may create databases (`.ci/run` sets it; without it the PostgreSQL
/// half says it was skipped).
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::common::Db::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                match $crate::common::Db::postgres().await {
                    Some(db) => super::$name(db).await,
                    None => eprintln!(
                        "{}::postgres: skipped (PORTAL_TEST_POSTGRES_URL is not set)",
                        stringify!($name)
                    ),
                }
            }
        }
    )+};
}

/// A fresh database and the store opened on it as `portal` opens one (`storage::open`: on
/// SQLite the key and head files beside the database).
pub struct Db {
    pub store: Arc<dyn Store>,
    pub url: String,
    dir: Option<tempfile::TempDir>,
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/portal.db", dir.path().display());
        Db {
            store: storage::open(&url).await.unwrap(),
            url,
            dir: Some(dir),
        }
    }

    pub async fn postgres() -> Option<Db> {
        let admin = std::env::var("PORTAL_TEST_POSTGRES_URL").ok()?;
        let url = fresh_postgres_database(&admin).await;
        Some(Db {
            store: storage::open(&url).await.unwrap(),
            url,
            dir: None,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite")
    }

    /// Another empty database on the same backend, not opened yet (for opening with keys of
    /// one's own).
    pub async fn another(&self, name: &str) -> String {
        match &self.dir {
            Some(dir) => format!("sqlite://{}/{name}.db", dir.path().display()),
            None => {
                let admin = std::env::var("PORTAL_TEST_POSTGRES_URL").unwrap();
                fresh_postgres_database(&admin).await
            }
        }
    }

    /// The store opened again on the same database, as a restarted instance would; the old one
    /// is dropped (writing its last audit head file as it goes).
    pub async fn reopen(&mut self) {
        let fresh = storage::open(&self.url).await.unwrap();
        drop(std::mem::replace(&mut self.store, fresh));
    }

    /// Runs one statement behind the store's back, as someone with database access could.
    pub async fn exec(&self, sql: &str) {
        exec(&self.url, sql).await
    }

    /// One text value read behind the store's back.
    pub async fn text(&self, sql: &str) -> Option<String> {
        text(&self.url, sql).await
    }
}

pub async fn exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

pub async fn text(url: &str, sql: &str) -> Option<String> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

/// A database of its own for one test, so tests never see each other's rows.
async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::Connection;
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "portal_test_{}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0).unsigned_abs(),
        N.fetch_add(1, Ordering::Relaxed)
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

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The office's TIN (the plan's provider bills under it) and one other office's.
pub const TIN: &str = "951234567";
pub const OTHER_TIN: &str = "951234568";

pub fn tin() -> Tin {
    Tin::parse(TIN).unwrap()
}

pub fn other_tin() -> Tin {
    Tin::parse(OTHER_TIN).unwrap()
}

pub fn network(code: &str, kind: NetworkKind) -> HealthNetwork {
    HealthNetwork {
        code: code.into(),
        name: format!("{code} network"),
        kind,
        phone: "7145550000".into(),
    }
}

pub fn networks() -> Vec<HealthNetwork> {
    vec![
        network("CCN", NetworkKind::Community),
        network("HN1", NetworkKind::Delegated),
    ]
}

/// The plan's provider: a practitioner billing under [`TIN`].
pub fn npi() -> Npi {
    Npi::parse("1234567893").unwrap()
}

/// A provider the directory does not have until a test adds it (another office's).
pub fn other_npi() -> Npi {
    Npi::parse("1558598797").unwrap()
}

pub fn provider(npi: Npi) -> Provider {
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

/// Member `n`, born on a leap day, with a Medi-Cal span in 2024 (PCP `pcp`, HN1) and an open
/// OneCare span from 2025 (CCN, no PCP).
pub fn new_member(n: u64, last: &str, pcp: Npi) -> NewMember {
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

/// Members 1 and 2 (García) and 3 (Smith).
pub fn members() -> Vec<NewMember> {
    (1..=3)
        .map(|n| new_member(n, if n == 3 { "Smith" } else { "García" }, npi()))
        .collect()
}

/// Claim `n`: two lines, partially paid, with adjustments and a payment.
pub fn claim(n: u64, member: &MemberId, npi: Npi) -> Claim {
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

/// A denied expedited prior authorization for `member`, requested and serviced by `npi`.
pub fn auth(member: &MemberId, npi: Npi) -> AuthRequest {
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

/// The plan most tests build on: the two networks, the provider ([`npi`], billing under
/// [`TIN`]), [`members`], claim 1 of member 1 and authorization 7 of member 1.
pub struct Plan {
    pub members: Vec<NewMember>,
    pub claim: Claim,
    pub auth: AuthRequest,
}

impl Plan {
    pub fn member(&self) -> &MemberId {
        &self.members[0].member.id
    }
}

pub async fn plan(store: &dyn Store) -> Plan {
    store.insert_networks(&networks()).await.unwrap();
    store.insert_providers(&[provider(npi())]).await.unwrap();
    let members = members();
    store.insert_members(&members).await.unwrap();
    let claim = claim(1, &members[0].member.id, npi());
    store
        .insert_claims(std::slice::from_ref(&claim))
        .await
        .unwrap();
    let auth = auth(&members[0].member.id, npi());
    store
        .insert_auths(std::slice::from_ref(&auth))
        .await
        .unwrap();
    Plan {
        members,
        claim,
        auth,
    }
}

/// The provider office under [`TIN`] and its office user `front.desk`: (org, user).
pub async fn office(store: &dyn Store) -> (i64, i64) {
    let org = store
        .create_org(&NewOrg {
            kind: OrgKind::ProviderOffice,
            name: "Irvine Family Medicine".into(),
            tin: Some(tin()),
            network: None,
            claims_allowed: false,
        })
        .await
        .unwrap();
    let user = store.create_user(&front_desk(org)).await.unwrap();
    (org, user)
}

pub fn front_desk(org: i64) -> NewUser {
    NewUser {
        username: "front.desk".into(),
        display_name: "Front Desk".into(),
        email: "desk@example.org".into(),
        role: Role::OfficeUser,
        org_id: org,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        status: UserStatus::Active,
        phone: "7145550100".into(),
        claims: false,
    }
}
