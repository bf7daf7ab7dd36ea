//! Persistence for provider-portal behind one [`Store`] trait.
//!
//! Two backends, one implementation: [`SqlStore`] holds either a SQLite pool (the embedded
//! default, a file in the data directory, WAL mode) or a PostgreSQL pool (chosen by a
//! `postgres://` URL). Every query is written once, with `$N` placeholders that both accept, and
//! compiled for each backend by the [`on_pool!`] macro; each backend has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) because their types differ. The same test story
//! (`tests/story.rs`) runs against both.

mod accounts;
mod audit;
mod auths;
mod claims;
mod error;
mod members;
mod plan;
mod pool;

pub use accounts::{NewUser, UserRecord};
pub use audit::AuditQuery;
pub use error::StorageError;
pub use members::{MemberRecord, NewMember};
pub use pool::{SqlStore, open};

use domain::account::OrgKind;
use domain::audit::{AuditEntry, AuditEvent};
use domain::auth::AuthRequest;
use domain::claim::Claim;
use domain::member::{Member, MemberContact};
use domain::plan::HealthNetwork;
use domain::provider::Provider;
use domain::training::Training;
use domain::{AuthNumber, ClaimNumber, MemberId, Npi};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// How much of each kind of record the database holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlanCounts {
    pub networks: i64,
    pub providers: i64,
    pub members: i64,
    pub eligibility_spans: i64,
    pub claims: i64,
    pub claim_lines: i64,
    pub auth_requests: i64,
    pub trainings: i64,
    pub users: i64,
}

/// Everything the portal reads and writes. Batch inserts are all-or-nothing: each call is one
/// transaction, so a crash mid-batch leaves nothing half-stored.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Cheap round trip to the database, for /healthz.
    async fn ping(&self) -> Result<()>;
    /// True when no plan data has been loaded yet (first start).
    async fn is_empty(&self) -> Result<bool>;
    async fn counts(&self) -> Result<PlanCounts>;
    /// Bytes the database occupies (file pages for SQLite, `pg_database_size` for PostgreSQL).
    async fn size_bytes(&self) -> Result<u64>;

    async fn insert_networks(&self, networks: &[HealthNetwork]) -> Result<()>;
    async fn insert_providers(&self, providers: &[Provider]) -> Result<()>;
    async fn insert_members(&self, members: &[NewMember]) -> Result<()>;
    async fn insert_claims(&self, claims: &[Claim]) -> Result<()>;
    async fn insert_auths(&self, auths: &[AuthRequest]) -> Result<()>;
    async fn insert_trainings(&self, trainings: &[Training]) -> Result<()>;
    async fn create_org(&self, kind: OrgKind, name: &str, tin: Option<&str>) -> Result<i64>;
    async fn create_user(&self, user: &NewUser) -> Result<i64>;

    async fn networks(&self) -> Result<Vec<HealthNetwork>>;
    async fn provider(&self, npi: &Npi) -> Result<Option<Provider>>;
    /// A member with their eligibility history (never their contact details).
    async fn member(&self, id: &MemberId) -> Result<Option<MemberRecord>>;
    /// Members by last name (any case) and birth date.
    async fn find_members(
        &self,
        last_name: &str,
        birth_date: chrono::NaiveDate,
    ) -> Result<Vec<Member>>;
    /// The plan's own copy of a member's address and phone: for mailings, never for a page.
    async fn member_contact(&self, id: &MemberId) -> Result<Option<MemberContact>>;
    async fn claim(&self, number: &ClaimNumber) -> Result<Option<Claim>>;
    async fn auth(&self, number: &AuthNumber) -> Result<Option<AuthRequest>>;
    async fn trainings(&self) -> Result<Vec<Training>>;
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;

    /// Appends to the hash-chained audit trail; appends are serialized so the chain stays linear.
    async fn audit(&self, event: &AuditEvent) -> Result<AuditEntry>;
    /// Audit entries after `after`, oldest first (for verification and export).
    async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The chain head: how many entries were written and the newest hash.
    async fn audit_head(&self) -> Result<(i64, String)>;
    /// Newest first, filtered (plan administrators' search).
    async fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;
}

/// Walks the whole audit trail in order and checks its hash chain and head.
/// `Ok(Ok(n))`: `n` entries verified; `Ok(Err(break))`: where the trail was tampered with.
pub async fn verify_audit(store: &dyn Store) -> Result<Result<u64, domain::audit::ChainBreak>> {
    const PAGE: i64 = 10_000;
    let (head_seq, head_hash) = store.audit_head().await?;
    let mut verifier = domain::audit::ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, PAGE).await?;
        for e in &page {
            if let Err(b) = verifier.check(e) {
                return Ok(Err(b));
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    Ok(verifier
        .finish(head_seq, &head_hash)
        .map(|()| verifier.checked))
}
