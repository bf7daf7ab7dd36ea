//! The connection pool for either backend, `open`, and the `Store` implementation that
//! dispatches to the area modules.

use crate::*;
use crate::{
    AuditQuery, MemberRecord, NewMember, NewUser, PlanCounts, Result, StorageError, Store,
    UserRecord,
};
use crate::{accounts, lockout, outbox, registrations, sessions};
use domain::audit::{AuditEntry, AuditEvent};
use domain::auth::AuthRequest;
use domain::claim::Claim;
use domain::member::{Member, MemberContact};
use domain::plan::HealthNetwork;
use domain::provider::Provider;
use domain::registration::RequestKind;
use domain::training::Training;
use domain::{AuthNumber, ClaimNumber, MemberId, Npi};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$DB` to its `sqlx::Database`, so
/// one query text serves both backends while each is compiled and type-checked separately.
#[macro_export]
#[doc(hidden)]
macro_rules! on_pool {
    ($store:expr, $pool:ident, $DB:ident => $body:expr) => {
        match &$store.pool {
            $crate::pool::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::Sqlite;
                $body
            }
            $crate::pool::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::Postgres;
                $body
            }
        }
    };
}

/// The SQL implementation of [`Store`] on SQLite or PostgreSQL.
pub struct SqlStore {
    pub(crate) pool: Pool,
    /// Audit MAC and TOTP keys, from outside the database.
    pub(crate) keys: domain::keys::Keyring,
    pub(crate) head_file: Option<crate::keys::HeadFile>,
}

/// Rows per multi-row INSERT: under SQLite's 32,766 bound parameters at 20 columns a row.
pub(crate) const INSERT_CHUNK: usize = 1000;

/// Opens (creating if needed) the database at `url` and brings its schema up to date.
/// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`. Keys as [`Keys::beside`]
/// finds them; `portal` itself passes the configured ones to [`open_with`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, Keys::beside(url)?).await
}

/// [`open`] with these keys: refused when the database was written under other keys; the
/// first keyed open signs the audit head, and any TOTP secret still in clear is encrypted.
pub async fn open_with(url: &str, keys: Keys) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, keys).await?))
}

impl SqlStore {
    pub async fn open(url: &str, keys: Keys) -> Result<SqlStore> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        let pool = match scheme {
            "sqlite" => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StorageError::BadUrl(e.to_string()))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .map_err(|e| StorageError::Unavailable(e.to_string()))?;
                sqlx::migrate!("./migrations/sqlite")
                    .run(&pool)
                    .await
                    .map_err(|e| StorageError::Migration(e.to_string()))?;
                Pool::Sqlite(pool)
            }
            "postgres" | "postgresql" => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Configuration(c) => StorageError::BadUrl(c.to_string()),
                        other => StorageError::Unavailable(other.to_string()),
                    })?;
                sqlx::migrate!("./migrations/postgres")
                    .run(&pool)
                    .await
                    .map_err(|e| StorageError::Migration(e.to_string()))?;
                Pool::Postgres(pool)
            }
            "" => {
                return Err(StorageError::BadUrl(
                    "no scheme: expected sqlite://FILE or postgres://HOST/DB".into(),
                ));
            }
            other => {
                return Err(StorageError::BadUrl(format!(
                    "unsupported scheme '{other}': expected sqlite:// or postgres://"
                )));
            }
        };
        let store = SqlStore {
            pool,
            keys: keys.ring,
            head_file: keys.head_file.map(crate::keys::HeadFile::new),
        };
        if !crate::secrets::check_epochs(&store).await? {
            crate::audit::sign_current_head(&store).await?;
        }
        let sealed = crate::secrets::reseal(&store, false).await?;
        if sealed > 0 {
            tracing::info!(sealed, "encrypted TOTP secrets stored in clear");
        }
        crate::auths::backfill_deadlines(&store).await?;
        Ok(store)
    }

    async fn count(&self, table: &'static str) -> Result<i64> {
        // `table` is one of our own table names, never input.
        let sql = format!("SELECT COUNT(*) FROM {table}");
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?),
        )
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    async fn ping(&self) -> Result<()> {
        on_pool!(self, p, DB => sqlx::query_scalar::<DB, i32>("SELECT 1").fetch_one(p).await?);
        Ok(())
    }

    async fn is_empty(&self) -> Result<bool> {
        let any: Option<String> = on_pool!(self, p, DB => sqlx::query_scalar::<DB, String>("SELECT code FROM networks LIMIT 1").fetch_optional(p).await?);
        Ok(any.is_none())
    }

    async fn counts(&self) -> Result<PlanCounts> {
        Ok(PlanCounts {
            networks: self.count("networks").await?,
            providers: self.count("providers").await?,
            members: self.count("members").await?,
            eligibility_spans: self.count("eligibility_spans").await?,
            claims: self.count("claims").await?,
            claim_lines: self.count("claim_lines").await?,
            auth_requests: self.count("auth_requests").await?,
            trainings: self.count("trainings").await?,
            users: self.count("users").await?,
        })
    }

    async fn size_bytes(&self) -> Result<u64> {
        let bytes = match &self.pool {
            Pool::Sqlite(p) => {
                let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(p).await?;
                let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(p).await?;
                pages * size
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await?
            }
        };
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    async fn insert_networks(&self, networks: &[HealthNetwork]) -> Result<()> {
        crate::plan::insert_networks(self, networks).await
    }
    async fn insert_providers(&self, providers: &[Provider]) -> Result<()> {
        crate::plan::insert_providers(self, providers).await
    }
    async fn insert_members(&self, members: &[NewMember]) -> Result<()> {
        crate::members::insert(self, members).await
    }
    async fn insert_claims(&self, claims: &[Claim]) -> Result<()> {
        crate::claims::insert(self, claims).await
    }
    async fn insert_auths(&self, auths: &[AuthRequest]) -> Result<()> {
        crate::auths::insert(self, auths).await
    }
    async fn insert_trainings(&self, trainings: &[Training]) -> Result<()> {
        crate::plan::insert_trainings(self, trainings).await
    }
    async fn create_org(&self, org: &crate::NewOrg) -> Result<i64> {
        crate::accounts::create_org(self, org).await
    }
    async fn create_user(&self, user: &NewUser) -> Result<i64> {
        crate::accounts::create_user(self, user).await
    }
    async fn networks(&self) -> Result<Vec<HealthNetwork>> {
        crate::plan::networks(self).await
    }
    async fn provider(&self, npi: &Npi) -> Result<Option<Provider>> {
        crate::plan::provider(self, npi).await
    }
    async fn member(&self, id: &MemberId) -> Result<Option<MemberRecord>> {
        crate::members::get(self, id).await
    }
    async fn find_members(
        &self,
        last_name: &str,
        birth_date: chrono::NaiveDate,
    ) -> Result<Vec<Member>> {
        crate::members::find(self, last_name, birth_date).await
    }
    async fn member_ids(&self, after: Option<&MemberId>, limit: i64) -> Result<Vec<MemberId>> {
        crate::members::ids(self, after, limit).await
    }
    async fn member_contact(&self, id: &MemberId) -> Result<Option<MemberContact>> {
        crate::members::contact(self, id).await
    }
    async fn claim(&self, number: &ClaimNumber) -> Result<Option<Claim>> {
        crate::claims::get(self, number).await
    }
    async fn auth(&self, number: &AuthNumber) -> Result<Option<AuthRequest>> {
        crate::auths::get(self, number).await
    }
    async fn trainings(&self) -> Result<Vec<Training>> {
        crate::plan::trainings(self).await
    }
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        crate::accounts::user_by_username(self, username).await
    }
    async fn audit(&self, event: &AuditEvent) -> Result<AuditEntry> {
        crate::audit::append(self, event).await
    }
    async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        crate::audit::page(self, after, limit).await
    }
    async fn audit_head(&self) -> Result<(i64, String)> {
        crate::audit::head(self).await.map(|h| (h.seq, h.hash))
    }
    async fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        crate::audit::search(self, query).await
    }
    async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    async fn claims_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<ClaimSummary>> {
        crate::claims::in_scope(self, scope, limit).await
    }
    async fn claim_in_scope(&self, number: &ClaimNumber, scope: &Scope) -> Result<Option<Claim>> {
        crate::claims::one_in_scope(self, number, scope).await
    }
    async fn search_claims(&self, scope: &Scope, query: &ClaimQuery) -> Result<Vec<ClaimSummary>> {
        crate::claims::matching(self, scope, query).await
    }

    async fn user(&self, id: i64) -> Result<Option<UserRecord>> {
        accounts::user(self, id).await
    }
    async fn identity(&self, user_id: i64) -> Result<Option<Identity>> {
        accounts::identity(self, user_id).await
    }
    async fn org(&self, id: i64) -> Result<Option<OrgRecord>> {
        accounts::org(self, id).await
    }
    async fn orgs_of_kind(&self, kind: domain::account::OrgKind) -> Result<Vec<OrgRecord>> {
        accounts::orgs_of_kind(self, kind).await
    }
    async fn org_by_tin(&self, tin: &Tin) -> Result<Option<OrgRecord>> {
        accounts::org_by_tin(self, tin).await
    }
    async fn users_of_org(&self, org_id: i64) -> Result<Vec<UserRecord>> {
        accounts::users_of_org(self, org_id).await
    }
    async fn search_users(&self, text: &str, limit: i64) -> Result<Vec<UserRecord>> {
        accounts::search_users(self, text, limit).await
    }
    async fn set_user_status(
        &self,
        user_id: i64,
        status: UserStatus,
        change: &crate::StatusChange,
        seen: Option<domain::account::StatusAuthority>,
    ) -> Result<bool> {
        accounts::set_user_status(self, user_id, status, change, seen).await
    }
    async fn deactivation(&self, user_id: i64) -> Result<Option<crate::Deactivation>> {
        accounts::deactivation(self, user_id).await
    }
    async fn set_claims_entitlement(&self, user_id: i64, claims: bool) -> Result<()> {
        accounts::set_claims(self, user_id, claims).await
    }
    async fn set_org_claims_allowed(&self, org_id: i64, allowed: bool) -> Result<()> {
        accounts::set_org_claims_allowed(self, org_id, allowed).await
    }
    async fn tin_grants(&self, user_id: i64) -> Result<Vec<TinGrant>> {
        accounts::tin_grants(self, user_id).await
    }
    async fn grant_tin(&self, user_id: i64, tin: &Tin, granted_by: i64) -> Result<()> {
        accounts::grant_tin(self, user_id, tin, granted_by).await
    }
    async fn revoke_tin(&self, user_id: i64, tin: &Tin) -> Result<()> {
        accounts::revoke_tin(self, user_id, tin).await
    }
    async fn set_password(&self, user_id: i64, hash: &str, keep: Option<&str>) -> Result<()> {
        accounts::set_password(self, user_id, hash, keep).await
    }
    async fn record_sign_in_failure(&self, user_id: i64, now: DateTime<Utc>) -> Result<Throttle> {
        accounts::record_failure(self, user_id, now).await
    }
    async fn clear_sign_in_failures(&self, user_id: i64) -> Result<()> {
        accounts::clear_failures(self, user_id).await
    }
    async fn claim_code_guess(&self, user_id: i64, now: DateTime<Utc>) -> Result<CodeClaim> {
        lockout::claim(self, user_id, now).await
    }
    async fn lock_account(&self, user_id: i64, until: DateTime<Utc>) -> Result<()> {
        lockout::lock(self, user_id, until).await
    }
    async fn accept_code(&self, user_id: i64, now: DateTime<Utc>) -> Result<bool> {
        lockout::accepted(self, user_id, now).await
    }
    async fn enrol_totp(
        &self,
        user_id: i64,
        secret: &str,
        recovery_hashes: &[String],
    ) -> Result<bool> {
        accounts::enrol_totp(self, user_id, secret, recovery_hashes).await
    }
    async fn reset_totp(&self, user_id: i64) -> Result<()> {
        accounts::reset_totp(self, user_id).await
    }
    async fn use_totp_step(&self, user_id: i64, step: u64) -> Result<bool> {
        accounts::use_totp_step(self, user_id, step).await
    }
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool> {
        accounts::use_recovery_code(self, user_id, code_hash).await
    }
    async fn replace_recovery_codes(&self, user_id: i64, hashes: &[String]) -> Result<()> {
        accounts::replace_recovery_codes(self, user_id, hashes).await
    }
    async fn unused_recovery_codes(&self, user_id: i64) -> Result<i64> {
        accounts::unused_recovery_codes(self, user_id).await
    }
    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        accounts::activate(self, token_hash, password_hash, now).await
    }
    async fn create_activation(
        &self,
        user_id: i64,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        accounts::create_activation(self, user_id, token_hash, expires).await
    }
    async fn activation_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>> {
        accounts::activation_user(self, token_hash, now).await
    }

    async fn create_session(&self, session: &NewSession) -> Result<()> {
        sessions::create(self, session).await
    }
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        sessions::get(self, token_hash).await
    }
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        sessions::touch(self, token_hash, now).await
    }
    async fn set_session_stage(&self, token_hash: &str, stage: SessionStage) -> Result<()> {
        sessions::set_stage(self, token_hash, stage).await
    }
    async fn set_pending_totp(&self, token_hash: &str, secret: Option<&str>) -> Result<()> {
        sessions::set_pending_totp(self, token_hash, secret).await
    }
    async fn end_session(&self, token_hash: &str) -> Result<()> {
        sessions::end(self, token_hash).await
    }
    async fn end_user_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64> {
        sessions::end_for_user(self, user_id, keep).await
    }
    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionRecord>> {
        sessions::of_user(self, user_id).await
    }
    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64> {
        sessions::purge(self, idle_before, created_before).await
    }

    async fn create_registration(&self, r: &NewRegistration) -> Result<i64> {
        registrations::create(self, r).await
    }
    async fn registration(&self, id: i64) -> Result<Option<RegistrationRecord>> {
        registrations::get(self, id).await
    }
    async fn registrations(&self, filter: &RegistrationFilter) -> Result<Vec<RegistrationRecord>> {
        registrations::list(self, filter).await
    }
    async fn pending_registration(
        &self,
        email: &str,
        kind: RequestKind,
        tin: &Tin,
    ) -> Result<Option<i64>> {
        registrations::pending(self, email, kind, tin).await
    }
    async fn approve_registration(
        &self,
        id: i64,
        by: i64,
        approval: &Approval,
        message: &NewMessage,
    ) -> Result<Option<Approved>> {
        registrations::approve(self, id, by, approval, message).await
    }
    async fn deny_registration(
        &self,
        id: i64,
        by: i64,
        reason: &str,
        message: &NewMessage,
    ) -> Result<bool> {
        registrations::deny(self, id, by, reason, message).await
    }
    async fn add_document(&self, doc: &NewDocument) -> Result<i64> {
        registrations::add_document(self, doc).await
    }
    async fn documents(&self, registration_id: i64) -> Result<Vec<DocumentMeta>> {
        registrations::documents(self, registration_id).await
    }
    async fn document(&self, id: i64) -> Result<Option<(DocumentMeta, Vec<u8>)>> {
        registrations::document(self, id).await
    }

    async fn enqueue_message(&self, message: &NewMessage) -> Result<i64> {
        outbox::enqueue(self, message).await
    }
    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        outbox::list(self, limit).await
    }
    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        outbox::mark_sent(self, id, at).await
    }

    // ----- eligibility -----
    async fn insert_plan_notices(&self, notices: &[domain::eligibility::PlanNotice]) -> Result<()> {
        crate::eligibility::insert_notices(self, notices).await
    }
    async fn plan_notices(&self) -> Result<Vec<domain::eligibility::PlanNotice>> {
        crate::eligibility::notices(self).await
    }
    async fn members_by_ids(&self, ids: &[MemberId]) -> Result<Vec<MemberRecord>> {
        crate::eligibility::members_by_ids(self, ids).await
    }
    async fn providers_by_npi(&self, npis: &[Npi]) -> Result<Vec<Provider>> {
        crate::eligibility::providers_by_npi(self, npis).await
    }
    async fn care_gap_inputs(
        &self,
        scope: &Scope,
        on: chrono::NaiveDate,
        since: chrono::NaiveDate,
    ) -> Result<CareGapInputs> {
        crate::eligibility::care_gap_inputs(self, scope, on, since).await
    }
    async fn member_care_facts(
        &self,
        id: &MemberId,
        on: chrono::NaiveDate,
        since: chrono::NaiveDate,
    ) -> Result<Vec<ServiceFact>> {
        crate::eligibility::member_facts(self, id, on, since).await
    }
    async fn charge_lookups(
        &self,
        charge: &LookupCharge<'_>,
    ) -> Result<domain::lookup_limits::Admission> {
        crate::lookups::charge(self, charge).await
    }
    async fn lookups_by_org(&self, now: DateTime<Utc>) -> Result<Vec<OrgLookups>> {
        crate::lookups::by_org(self, now).await
    }
    async fn save_batch(&self, batch: &NewBatch, purge_before: DateTime<Utc>) -> Result<()> {
        crate::eligibility::save_batch(self, batch, purge_before).await
    }
    async fn batch(
        &self,
        id: &str,
        user_id: i64,
        not_before: DateTime<Utc>,
    ) -> Result<Option<(BatchRecord, Vec<u8>)>> {
        crate::eligibility::batch(self, id, user_id, not_before).await
    }

    // ----- authorizations -----
    async fn next_auth_number(&self) -> Result<AuthNumber> {
        auths::next_number(self).await
    }
    async fn create_auth(&self, auth: &AuthRequest, write: &AuthWrite) -> Result<()> {
        auths::create(self, auth, write).await
    }
    async fn update_auth(
        &self,
        auth: &AuthRequest,
        expected: domain::auth::AuthStatus,
        write: &AuthWrite,
    ) -> Result<bool> {
        auths::update(self, auth, expected, write).await
    }
    async fn auth_by_trace(&self, requesting: &Npi, trace: &str) -> Result<Option<AuthNumber>> {
        auths::by_trace(self, requesting, trace).await
    }
    async fn auth_in_scope(
        &self,
        number: &AuthNumber,
        scope: &Scope,
    ) -> Result<Option<AuthRequest>> {
        auths::get_in_scope(self, number, scope).await
    }
    async fn auths_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<AuthSummary>> {
        auths::in_scope(self, scope, limit).await
    }
    async fn auth_queue(&self, filter: &QueueFilter) -> Result<Vec<AuthSummary>> {
        auths::queue(self, filter).await
    }
    async fn auth_events(&self, number: &AuthNumber) -> Result<Vec<domain::auth::AuthEvent>> {
        auths::events(self, number).await
    }
    async fn auth_attachments(&self, number: &AuthNumber) -> Result<Vec<AttachmentMeta>> {
        auths::attachments(self, number).await
    }
    async fn auth_attachment(&self, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
        auths::attachment_bytes(self, id).await
    }
    async fn auth_rules(&self) -> Result<Vec<domain::auth_rules::AuthRule>> {
        auths::rules(self).await
    }
    async fn add_auth_rule(&self, rule: &domain::auth_rules::AuthRule) -> Result<i64> {
        auths::add_rule(self, rule).await
    }
    async fn delete_auth_rule(&self, id: i64) -> Result<bool> {
        auths::delete_rule(self, id).await
    }
    async fn auto_rules(&self) -> Result<Vec<domain::auth_rules::AutoRule>> {
        auths::auto_rules(self).await
    }
    async fn add_auto_rule(&self, rule: &domain::auth_rules::AutoRule) -> Result<i64> {
        auths::add_auto_rule(self, rule).await
    }
    async fn delete_auto_rule(&self, id: i64) -> Result<bool> {
        auths::delete_auto_rule(self, id).await
    }
    async fn auth_metric_inputs(
        &self,
        year: i32,
    ) -> Result<Vec<domain::auth_metrics::MetricInput>> {
        auths::metric_inputs(self, year).await
    }
    async fn providers_of_tins(&self, tins: &[Tin], limit: i64) -> Result<Vec<ProviderChoice>> {
        auths::providers_of_tins(self, tins, limit).await
    }
    async fn search_providers(&self, text: &str, limit: i64) -> Result<Vec<ProviderChoice>> {
        auths::search_providers(self, text, limit).await
    }
    async fn notifications(&self, org_id: i64, limit: i64) -> Result<Vec<Notification>> {
        auths::notifications(self, org_id, limit).await
    }
    async fn unseen_notifications(&self, user_id: i64, org_id: i64) -> Result<i64> {
        auths::unseen(self, user_id, org_id).await
    }
    async fn mark_notifications_seen(&self, user_id: i64, at: DateTime<Utc>) -> Result<()> {
        auths::mark_seen(self, user_id, at).await
    }

    // ----- intake -----
    async fn intake_lookup(&self, members: &[MemberId], npis: &[Npi]) -> Result<IntakeLookup> {
        crate::intake::lookup(self, members, npis).await
    }
    async fn reserve_claim_numbers(&self, n: u64) -> Result<u64> {
        crate::intake::reserve(self, "claim", n).await
    }
    async fn reserve_control_numbers(&self, n: u64) -> Result<u64> {
        crate::intake::reserve(self, "interchange", n).await
    }
    async fn store_interchange(
        &self,
        interchange: &NewInterchange,
        claims: &[Claim],
        results: &[IntakeClaimResult],
    ) -> Result<i64> {
        crate::intake::store_interchange(self, interchange, claims, results).await
    }
    async fn interchange_by_hash(&self, sha256: &str) -> Result<Option<InterchangeRecord>> {
        crate::intake::by_hash(self, sha256).await
    }
    async fn interchange_by_control(
        &self,
        qualifier: &str,
        sender: &str,
        control: &str,
    ) -> Result<Option<InterchangeRecord>> {
        crate::intake::by_control(self, qualifier, sender, control).await
    }
    async fn interchange(&self, id: i64, org: Option<i64>) -> Result<Option<InterchangeRecord>> {
        crate::intake::get(self, id, org).await
    }
    async fn interchange_acks(&self, id: i64) -> Result<Option<StoredAcks>> {
        crate::intake::acks(self, id).await
    }
    async fn interchange_results(&self, id: i64) -> Result<Vec<IntakeClaimResult>> {
        crate::intake::results(self, id).await
    }
    async fn interchanges_of_org(&self, org: i64, limit: i64) -> Result<Vec<InterchangeRecord>> {
        crate::intake::of_org(self, org, limit).await
    }

    // ----- real-time EDI (CORE 270/271, 276/277) -----
    async fn eligibility(&self, lookup: &EligibilityLookup) -> Result<EligibilityFound> {
        crate::edi_core::eligibility(self, lookup).await
    }
    async fn claim_statuses(
        &self,
        scope: &Scope,
        query: &ClaimQuery,
    ) -> Result<Vec<ClaimStatusRecord>> {
        crate::edi_core::claim_statuses(self, scope, query).await
    }
    async fn audit_many(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>> {
        crate::audit::append_many(self, events).await
    }
    async fn audit_signed_head(&self) -> Result<domain::audit::SignedHead> {
        crate::audit::head(self).await
    }
    fn audit_keyring(&self) -> &domain::keys::Keyring {
        &self.keys
    }
    fn exported_audit_head(&self) -> Result<Option<domain::audit::SignedHead>> {
        match &self.head_file {
            Some(f) => crate::keys::read_head(&f.path),
            None => Ok(None),
        }
    }
    async fn reseal_totp_secrets(&self) -> Result<u64> {
        crate::secrets::reseal(self, true).await
    }

    // ----- adjudication and payment -----
    async fn insert_fees(&self, fees: &[domain::adjudication::Fee]) -> Result<()> {
        crate::adjudication::insert_fees(self, fees).await
    }
    async fn fee_schedule(&self) -> Result<Vec<domain::adjudication::Fee>> {
        crate::adjudication::fee_schedule(self).await
    }
    async fn received_claims(&self, limit: i64) -> Result<Vec<Claim>> {
        crate::adjudication::received_claims(self, limit).await
    }
    async fn adjudication_inputs(&self, claims: &[Claim]) -> Result<AdjudicationInputs> {
        crate::adjudication::inputs(self, claims).await
    }
    async fn record_adjudications(&self, done: &[Adjudicated]) -> Result<()> {
        crate::adjudication::record(self, done, true).await
    }
    async fn insert_adjudication_notes(&self, done: &[Adjudicated]) -> Result<()> {
        crate::adjudication::record(self, done, false).await
    }
    async fn line_explanations(&self, claim: &ClaimNumber) -> Result<Vec<LineExplanation>> {
        crate::adjudication::explanations(self, claim).await
    }
    async fn payable_claims(
        &self,
        as_of: chrono::NaiveDate,
    ) -> Result<Vec<(ClaimNumber, Tin, Option<chrono::NaiveDate>)>> {
        crate::adjudication::payable(self, as_of).await
    }
    async fn payables(&self, claims: &[ClaimNumber]) -> Result<Vec<Payable>> {
        crate::adjudication::payables(self, claims).await
    }
    async fn last_payment_id(&self) -> Result<i64> {
        crate::adjudication::last_payment_id(self).await
    }
    async fn record_payments(&self, payments: &[NewPayment]) -> Result<()> {
        crate::adjudication::record_payments(self, payments).await
    }
    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        crate::adjudication::try_lease(self, name, holder, now_ms, ttl_ms).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        crate::adjudication::release_lease(self, name, holder).await
    }
    async fn payments_in_scope(
        &self,
        scope: &Scope,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<PaymentSummary>, i64)> {
        crate::adjudication::payments_in_scope(self, scope, offset, limit).await
    }
    async fn payment_in_scope(
        &self,
        number: &str,
        scope: &Scope,
    ) -> Result<Option<PaymentSummary>> {
        crate::adjudication::payment_in_scope(self, number, scope).await
    }
    async fn payment_claims(&self, payment_id: i64) -> Result<Vec<Claim>> {
        crate::adjudication::payment_claims(self, payment_id).await
    }
    async fn remittance_file(&self, payment_id: i64) -> Result<Option<(String, String)>> {
        crate::adjudication::remittance_file(self, payment_id).await
    }
}
