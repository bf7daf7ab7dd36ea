//! Persistence for provider-portal behind one [`Store`] trait.
//!
//! Two backends, one implementation: [`SqlStore`] holds either a SQLite pool (the embedded
//! default, a file in the data directory, WAL mode) or a PostgreSQL pool (chosen by a
//! `postgres://` URL). Every query is written once, with `$N` placeholders that both accept, and
//! compiled for each backend by the [`on_pool!`] macro; each backend has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) because their types differ. The same test story
//! (`tests/story.rs`) runs against both.

mod accounts;
mod adjudication;
mod audit;
mod auths;
mod claims;
mod edi_core;
mod eligibility;
mod error;
mod intake;
pub mod keys;
mod lockout;
mod lookups;
mod members;
mod outbox;
mod plan;
mod pool;
mod registrations;
mod secrets;
mod sessions;

pub use accounts::{
    Deactivation, Identity, NewOrg, NewUser, OrgRecord, StatusChange, TinGrant, UserRecord,
};
pub use adjudication::{
    Adjudicated, AdjudicationInputs, LineExplanation, NewPayment, Payable, Payee, PaymentSummary,
};
pub use audit::AuditQuery;
pub use auths::{
    AttachmentMeta, AuthSummary, AuthWrite, NewAttachment, Notification, ProviderChoice,
    QueueFilter,
};
pub use claims::{ClaimQuery, ClaimSummary};
pub use eligibility::{
    AssignedMember, BatchCounts, BatchRecord, CareGapInputs, NewBatch, ServiceFact,
};
pub use error::StorageError;
// intake
pub use intake::{
    IntakeClaimResult, IntakeLookup, InterchangeRecord, InterchangeStatus, NewInterchange,
    StoredAcks,
};
pub use keys::Keys;
pub use lockout::CodeClaim;
pub use lookups::{LookupCharge, OrgLookups};
pub use members::{MemberRecord, NewMember};
pub use outbox::{NewMessage, OutboxMessage};
pub use pool::{SqlStore, open, open_with};
pub use registrations::{
    Approval, Approved, DocumentMeta, NewDocument, NewRegistration, RegistrationFilter,
    RegistrationRecord,
};
pub use sessions::{NewSession, SessionRecord};
// real-time EDI (CORE 270/271, 276/277)
pub use edi_core::{
    ClaimStatusRecord, Coverage, CoverageSpan, EligibilityFound, EligibilityLookup,
    LineStatusRecord, MemberKey,
};

use chrono::{DateTime, Utc};
use domain::access::Scope;
use domain::account::UserStatus;
use domain::audit::{AuditEntry, AuditEvent};
use domain::auth::AuthRequest;
use domain::claim::Claim;
use domain::member::{Member, MemberContact};
use domain::plan::HealthNetwork;
use domain::provider::Provider;
use domain::session::{SessionStage, Throttle};
use domain::training::Training;
use domain::{AuthNumber, ClaimNumber, MemberId, Npi, Tin};

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
    /// Closes the pool: requests in flight finish, later ones fail (shutdown; tests of an
    /// unreachable database).
    async fn close(&self);
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
    async fn create_org(&self, org: &NewOrg) -> Result<i64>;
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
    /// Member IDs in ID order after `after` (plan-side tools: samples, benchmarks; never a
    /// page: a listing of members is not something an office may have).
    async fn member_ids(&self, after: Option<&MemberId>, limit: i64) -> Result<Vec<MemberId>>;
    /// The plan's own copy of a member's address and phone: for mailings, never for a page.
    async fn member_contact(&self, id: &MemberId) -> Result<Option<MemberContact>>;
    async fn claim(&self, number: &ClaimNumber) -> Result<Option<Claim>>;
    async fn auth(&self, number: &AuthNumber) -> Result<Option<AuthRequest>>;
    async fn trainings(&self) -> Result<Vec<Training>>;
    /// Office-side claims: only those billed under a TIN the scope allows, newest first.
    async fn claims_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<ClaimSummary>>;
    /// One claim, or `None` when it does not exist *or* lies outside the scope (no leak of which).
    async fn claim_in_scope(&self, number: &ClaimNumber, scope: &Scope) -> Result<Option<Claim>>;
    /// Office-side claim search (claim number, patient account, member, first date of service
    /// range), limited to the scope's TINs, newest first.
    async fn search_claims(&self, scope: &Scope, query: &ClaimQuery) -> Result<Vec<ClaimSummary>>;

    // ----- accounts -----
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    async fn user(&self, id: i64) -> Result<Option<UserRecord>>;
    /// The user with their organisation and granted TINs (what the access policy needs).
    async fn identity(&self, user_id: i64) -> Result<Option<Identity>>;
    async fn org(&self, id: i64) -> Result<Option<OrgRecord>>;
    /// Organisations of one kind, by name (operators' `portal admin`).
    async fn orgs_of_kind(&self, kind: domain::account::OrgKind) -> Result<Vec<OrgRecord>>;
    /// The provider office (or billing service) registered under this TIN.
    async fn org_by_tin(&self, tin: &Tin) -> Result<Option<OrgRecord>>;
    /// Users of one organisation, by display name.
    async fn users_of_org(&self, org_id: i64) -> Result<Vec<UserRecord>>;
    /// Users whose username, display name or email contains `text` (any case), for plan admins.
    async fn search_users(&self, text: &str, limit: i64) -> Result<Vec<UserRecord>>;
    /// Sets the status and records who deactivated (cleared when the account is active or
    /// invited again); deactivating also ends every session of the user, in the same
    /// transaction. Only if the recorded deactivator is still `seen` (what the caller read with
    /// [`Store::deactivation`]; `None` for an account not deactivated): `false` otherwise, and
    /// for an unknown user.
    async fn set_user_status(
        &self,
        user_id: i64,
        status: UserStatus,
        change: &StatusChange,
        seen: Option<domain::account::StatusAuthority>,
    ) -> Result<bool>;
    /// Who deactivated the account; `None` when it is not deactivated.
    async fn deactivation(&self, user_id: i64) -> Result<Option<Deactivation>>;
    async fn set_claims_entitlement(&self, user_id: i64, claims: bool) -> Result<()>;
    async fn set_org_claims_allowed(&self, org_id: i64, allowed: bool) -> Result<()>;
    async fn tin_grants(&self, user_id: i64) -> Result<Vec<TinGrant>>;
    async fn grant_tin(&self, user_id: i64, tin: &Tin, granted_by: i64) -> Result<()>;
    async fn revoke_tin(&self, user_id: i64, tin: &Tin) -> Result<()>;
    /// Sets a new password hash and ends every session of the user except `keep` (the token
    /// hash of the session that made the change, if it stays signed in).
    async fn set_password(&self, user_id: i64, hash: &str, keep: Option<&str>) -> Result<()>;
    /// Counts a failed sign-in at `now` atomically (safe with several portal instances) and
    /// returns the new throttle state, using [`Throttle::after_failure`].
    async fn record_sign_in_failure(&self, user_id: i64, now: DateTime<Utc>) -> Result<Throttle>;
    /// Clears password failures, code guesses and the lock (an unlock, or a partner's success).
    async fn clear_sign_in_failures(&self, user_id: i64) -> Result<()>;
    /// Claims one second-factor guess at `now` before the code is checked (see `lockout.rs`):
    /// refused while the account is locked or its 15-minute window already holds five.
    async fn claim_code_guess(&self, user_id: i64, now: DateTime<Utc>) -> Result<CodeClaim>;
    /// Locks the account until `until` and ends all its pending sessions, in one transaction.
    async fn lock_account(&self, user_id: i64, until: DateTime<Utc>) -> Result<()>;
    /// A correct code: clears both counters; `false` (nothing cleared) if the account is locked.
    async fn accept_code(&self, user_id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// Enrols MFA: stores the secret and the recovery codes' hashes, only for an account that
    /// has no secret (new or reset); `false` (nothing changed) when it is already enrolled.
    async fn enrol_totp(
        &self,
        user_id: i64,
        secret: &str,
        recovery_hashes: &[String],
    ) -> Result<bool>;
    /// Resets MFA (plan admin): clears secret, last step and recovery codes and ends every
    /// session of the user.
    async fn reset_totp(&self, user_id: i64) -> Result<()>;
    /// Accepts TOTP step `step` only if it is later than the last one accepted, atomically:
    /// `false` means a replay (or a race lost to another instance using the same code).
    async fn use_totp_step(&self, user_id: i64, step: u64) -> Result<bool>;
    /// Marks an unused recovery code used; `false` when unknown or already used.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool>;
    async fn replace_recovery_codes(&self, user_id: i64, hashes: &[String]) -> Result<()>;
    async fn unused_recovery_codes(&self, user_id: i64) -> Result<i64>;
    /// Sets the password from an activation link: the token must be unused and unexpired at
    /// `now`; the user becomes `Active`. `None` when the token is no good.
    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>>;
    /// Stores an activation token for an invited user (operators' `portal admin invite`).
    async fn create_activation(
        &self,
        user_id: i64,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    /// The user an unused, unexpired activation token belongs to.
    async fn activation_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>>;

    // ----- sessions -----
    async fn create_session(&self, session: &NewSession) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn set_session_stage(&self, token_hash: &str, stage: SessionStage) -> Result<()>;
    async fn set_pending_totp(&self, token_hash: &str, secret: Option<&str>) -> Result<()>;
    async fn end_session(&self, token_hash: &str) -> Result<()>;
    /// Ends every session of the user but `keep`; returns how many ended.
    async fn end_user_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64>;
    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionRecord>>;
    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64>;

    // ----- registrations -----
    async fn create_registration(&self, r: &NewRegistration) -> Result<i64>;
    async fn registration(&self, id: i64) -> Result<Option<RegistrationRecord>>;
    /// Oldest first (the queue is worked in order of arrival).
    async fn registrations(&self, filter: &RegistrationFilter) -> Result<Vec<RegistrationRecord>>;
    /// A pending request of this kind from this email for this TIN already exists.
    async fn pending_registration(
        &self,
        email: &str,
        kind: domain::registration::RequestKind,
        tin: &Tin,
    ) -> Result<Option<i64>>;
    /// Approves a pending request and applies `approval` in one transaction with `message`.
    /// `None` when the request is no longer pending (someone else decided it first).
    async fn approve_registration(
        &self,
        id: i64,
        by: i64,
        approval: &Approval,
        message: &NewMessage,
    ) -> Result<Option<Approved>>;
    /// Denies a pending request with a reason, queueing `message`. `false` when no longer pending.
    async fn deny_registration(
        &self,
        id: i64,
        by: i64,
        reason: &str,
        message: &NewMessage,
    ) -> Result<bool>;
    async fn add_document(&self, doc: &NewDocument) -> Result<i64>;
    async fn documents(&self, registration_id: i64) -> Result<Vec<DocumentMeta>>;
    async fn document(&self, id: i64) -> Result<Option<(DocumentMeta, Vec<u8>)>>;

    // ----- outbox -----
    async fn enqueue_message(&self, message: &NewMessage) -> Result<i64>;
    /// Newest first.
    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>>;
    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()>;

    /// Appends to the hash-chained audit trail; appends are serialized so the chain stays linear.
    async fn audit(&self, event: &AuditEvent) -> Result<AuditEntry>;
    /// Audit entries after `after`, oldest first (for verification and export).
    async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The chain head: how many entries were written and the newest hash.
    async fn audit_head(&self) -> Result<(i64, String)>;
    /// Newest first, filtered (plan administrators' search).
    async fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;

    // ----- eligibility -----
    async fn insert_plan_notices(&self, notices: &[domain::eligibility::PlanNotice]) -> Result<()>;
    /// Every plan notice, by code (a small table: which apply is decided in `domain`).
    async fn plan_notices(&self) -> Result<Vec<domain::eligibility::PlanNotice>>;
    /// Members with their eligibility spans, by ID (unknown IDs are left out), for batches.
    async fn members_by_ids(&self, ids: &[MemberId]) -> Result<Vec<MemberRecord>>;
    /// Providers by NPI (unknown NPIs are left out).
    async fn providers_by_npi(&self, npis: &[Npi]) -> Result<Vec<Provider>>;
    /// The office's assigned members on `on` (PCP on the covering span is under one of the
    /// scope's TINs), by name, and their claim lines from `since` to `on` (rejected claims left
    /// out): two queries whatever the number of members.
    async fn care_gap_inputs(
        &self,
        scope: &Scope,
        on: chrono::NaiveDate,
        since: chrono::NaiveDate,
    ) -> Result<CareGapInputs>;
    /// One member's claim lines from `since` to `on` (rejected claims left out): the care-gap
    /// count on the eligibility page.
    async fn member_care_facts(
        &self,
        id: &MemberId,
        on: chrono::NaiveDate,
        since: chrono::NaiveDate,
    ) -> Result<Vec<ServiceFact>>;
    /// Keeps a batch eligibility result, removing every result created before `purge_before`.
    /// Admits eligibility lookups against the user's and the organisation's budgets and
    /// counts them, in one step (`domain::lookup_limits::admit`).
    async fn charge_lookups(
        &self,
        charge: &LookupCharge<'_>,
    ) -> Result<domain::lookup_limits::Admission>;
    /// Organisations with lookups in the window at `now`, most misses first.
    async fn lookups_by_org(&self, now: DateTime<Utc>) -> Result<Vec<OrgLookups>>;
    async fn save_batch(&self, batch: &NewBatch, purge_before: DateTime<Utc>) -> Result<()>;
    /// A batch result of `user_id` created at or after `not_before`, with its CSV.
    async fn batch(
        &self,
        id: &str,
        user_id: i64,
        not_before: DateTime<Utc>,
    ) -> Result<Option<(BatchRecord, Vec<u8>)>>;
    // ----- authorizations -----
    /// A fresh authorization number for a request made in the portal or over EDI.
    async fn next_auth_number(&self) -> Result<AuthNumber>;
    /// Stores a new request with its timeline, files, notification and messages, in one
    /// transaction.
    async fn create_auth(&self, auth: &AuthRequest, write: &AuthWrite) -> Result<()>;
    /// Writes `auth` over the stored request if its status is still `expected`, with `write`,
    /// in one transaction; `false` when it changed meanwhile (nothing written).
    async fn update_auth(
        &self,
        auth: &AuthRequest,
        expected: domain::auth::AuthStatus,
        write: &AuthWrite,
    ) -> Result<bool>;
    /// The request `requesting` sent with this trace (a 278's TRN02), if any.
    async fn auth_by_trace(&self, requesting: &Npi, trace: &str) -> Result<Option<AuthNumber>>;
    /// One request, or `None` when it does not exist *or* its requesting provider bills under
    /// no TIN of the scope.
    async fn auth_in_scope(
        &self,
        number: &AuthNumber,
        scope: &Scope,
    ) -> Result<Option<AuthRequest>>;
    /// The office's requests (requesting provider under the scope's TINs), newest first.
    async fn auths_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<AuthSummary>>;
    /// Open requests, soonest deadline first.
    async fn auth_queue(&self, filter: &QueueFilter) -> Result<Vec<AuthSummary>>;
    /// The timeline, oldest first.
    async fn auth_events(&self, number: &AuthNumber) -> Result<Vec<domain::auth::AuthEvent>>;
    async fn auth_attachments(&self, number: &AuthNumber) -> Result<Vec<AttachmentMeta>>;
    async fn auth_attachment(&self, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>>;
    async fn auth_rules(&self) -> Result<Vec<domain::auth_rules::AuthRule>>;
    /// Adds a rule (its `id` is ignored); returns the new id.
    async fn add_auth_rule(&self, rule: &domain::auth_rules::AuthRule) -> Result<i64>;
    async fn delete_auth_rule(&self, id: i64) -> Result<bool>;
    async fn auto_rules(&self) -> Result<Vec<domain::auth_rules::AutoRule>>;
    async fn add_auto_rule(&self, rule: &domain::auth_rules::AutoRule) -> Result<i64>;
    async fn delete_auto_rule(&self, id: i64) -> Result<bool>;
    /// Requests determined in `year` (UTC), for the public metrics.
    async fn auth_metric_inputs(&self, year: i32)
    -> Result<Vec<domain::auth_metrics::MetricInput>>;
    /// Providers billing under these TINs (an office's own), groups first.
    async fn providers_of_tins(&self, tins: &[Tin], limit: i64) -> Result<Vec<ProviderChoice>>;
    /// Providers by NPI or part of the name.
    async fn search_providers(&self, text: &str, limit: i64) -> Result<Vec<ProviderChoice>>;
    /// The office's notifications, newest first.
    async fn notifications(&self, org_id: i64, limit: i64) -> Result<Vec<Notification>>;
    /// How many of the office's notifications the user has not seen yet.
    async fn unseen_notifications(&self, user_id: i64, org_id: i64) -> Result<i64>;
    async fn mark_notifications_seen(&self, user_id: i64, at: DateTime<Utc>) -> Result<()>;
    // ----- intake -----
    /// The members (with their eligibility) and providers (with their TIN) an 837 batch names,
    /// read in bulk; unknown ones are absent.
    async fn intake_lookup(&self, members: &[MemberId], npis: &[Npi]) -> Result<IntakeLookup>;
    /// Reserves `n` new claim numbers and returns the first sequence number
    /// (`ClaimNumber::from_sequence`): never one already handed out or stored, whatever runs at
    /// the same time. A reservation not used leaves a gap, nothing more.
    async fn reserve_claim_numbers(&self, n: u64) -> Result<u64>;
    /// Reserves `n` control numbers for interchanges the plan sends (999, 277CA).
    async fn reserve_control_numbers(&self, n: u64) -> Result<u64>;
    /// Records an interchange with its accepted claims (status Received) and the outcome of each
    /// claim, in ONE transaction: a failure anywhere leaves nothing. Recording a second accepted
    /// interchange with the same sender and ISA13, or the same bytes, fails with `Duplicate`.
    async fn store_interchange(
        &self,
        interchange: &NewInterchange,
        claims: &[Claim],
        results: &[IntakeClaimResult],
    ) -> Result<i64>;
    /// The stored, not rejected, interchange with these bytes (hex SHA-256).
    async fn interchange_by_hash(&self, sha256: &str) -> Result<Option<InterchangeRecord>>;
    /// The stored, not rejected, interchange from this sender (ISA05/ISA06) with this ISA13.
    async fn interchange_by_control(
        &self,
        qualifier: &str,
        sender: &str,
        control: &str,
    ) -> Result<Option<InterchangeRecord>>;
    /// One interchange; with `org`, `None` unless that organisation submitted it.
    async fn interchange(&self, id: i64, org: Option<i64>) -> Result<Option<InterchangeRecord>>;
    /// The 999 (or TA1), 277CA and findings sent back for an interchange.
    async fn interchange_acks(&self, id: i64) -> Result<Option<StoredAcks>>;
    /// The outcome of each claim of an interchange, in file order.
    async fn interchange_results(&self, id: i64) -> Result<Vec<IntakeClaimResult>>;
    /// An organisation's submissions, newest first.
    async fn interchanges_of_org(&self, org: i64, limit: i64) -> Result<Vec<InterchangeRecord>>;
    // ----- real-time EDI (CORE 270/271, 276/277) -----
    /// A 270's member (by id, or last name and birth date) with their coverage, each span's
    /// network and PCP, and the asking provider's TIN: one round trip.
    async fn eligibility(&self, lookup: &EligibilityLookup) -> Result<EligibilityFound>;
    /// Claims for a 276 with payment and lines, limited to the scope's TINs, newest first (at
    /// most 100): one round trip.
    async fn claim_statuses(
        &self,
        scope: &Scope,
        query: &ClaimQuery,
    ) -> Result<Vec<ClaimStatusRecord>>;
    /// Appends several events to the audit trail in one transaction, in order (group commit
    /// for busy endpoints); the same chain as [`Store::audit`].
    async fn audit_many(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>>;
    /// The head as the database keeps it, with its MAC.
    async fn audit_signed_head(&self) -> Result<domain::audit::SignedHead>;
    /// The keys the store was opened with (verification needs the audit keys).
    fn audit_keyring(&self) -> &domain::keys::Keyring;
    /// The head this instance last wrote outside the database, if it keeps a head file.
    fn exported_audit_head(&self) -> Result<Option<domain::audit::SignedHead>>;
    /// Re-encrypts every TOTP secret (enrolled and pending) under the current TOTP key, in one
    /// transaction; returns how many were rewritten (`portal admin rotate-keys`).
    async fn reseal_totp_secrets(&self) -> Result<u64>;
    // ----- adjudication and payment -----
    /// Adds (or replaces) fee schedule entries.
    async fn insert_fees(&self, fees: &[domain::adjudication::Fee]) -> Result<()>;
    async fn fee_schedule(&self) -> Result<Vec<domain::adjudication::Fee>>;
    /// Up to `limit` claims waiting for adjudication, oldest received first, with their lines.
    async fn received_claims(&self, limit: i64) -> Result<Vec<Claim>>;
    /// What the rules need about these claims' members and billing providers (a few queries).
    async fn adjudication_inputs(&self, claims: &[Claim]) -> Result<AdjudicationInputs>;
    /// Stores decided claims (status, lines, adjustments, explanations) in one transaction; fails
    /// whole when a claim is no longer `received`.
    async fn record_adjudications(&self, done: &[Adjudicated]) -> Result<()>;
    /// Explanations and dates only, for claims stored already decided (the seed's history).
    async fn insert_adjudication_notes(&self, done: &[Adjudicated]) -> Result<()>;
    /// Why each line of a claim came out as it did.
    async fn line_explanations(&self, claim: &ClaimNumber) -> Result<Vec<LineExplanation>>;
    /// Finalized claims no payment reports yet, decided on or before `as_of`, ordered by the
    /// payee's TIN: (claim, billing provider's TIN, day decided when known).
    async fn payable_claims(
        &self,
        as_of: chrono::NaiveDate,
    ) -> Result<Vec<(ClaimNumber, Tin, Option<chrono::NaiveDate>)>>;
    /// These claims with their payee and patient name, for a payment run (a few queries).
    async fn payables(&self, claims: &[ClaimNumber]) -> Result<Vec<Payable>>;
    async fn last_payment_id(&self) -> Result<i64>;
    /// Stores a payment run (payments, their claims, their 835s; claims get their payment
    /// number and date) in one transaction; fails whole if any claim was already reported.
    async fn record_payments(&self, payments: &[NewPayment]) -> Result<()>;
    /// Takes (or renews) the named lease until `now_ms + ttl_ms` unless another holder has it.
    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
    /// Payments to payees under the scope's TINs, newest first, with the total count.
    async fn payments_in_scope(
        &self,
        scope: &Scope,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<PaymentSummary>, i64)>;
    /// One payment by number, or `None` when missing *or* outside the scope.
    async fn payment_in_scope(&self, number: &str, scope: &Scope)
    -> Result<Option<PaymentSummary>>;
    /// The claims a payment reports (call after [`Store::payment_in_scope`]).
    async fn payment_claims(&self, payment_id: i64) -> Result<Vec<Claim>>;
    /// The payment's 835: (file name, X12 text).
    async fn remittance_file(&self, payment_id: i64) -> Result<Option<(String, String)>>;
}

/// Walks the whole audit trail in order and checks its hash chain, its MACs and its head,
/// against the head file the store keeps (if any).
/// `Ok(Ok(n))`: `n` entries verified; `Ok(Err(break))`: where the trail was tampered with.
pub async fn verify_audit(store: &dyn Store) -> Result<Result<u64, domain::audit::ChainBreak>> {
    let exported = store.exported_audit_head()?;
    verify_audit_with(store, exported).await
}

/// [`verify_audit`] against a head exported earlier (`portal audit export-head`), or none.
pub async fn verify_audit_with(
    store: &dyn Store,
    exported: Option<domain::audit::SignedHead>,
) -> Result<Result<u64, domain::audit::ChainBreak>> {
    const PAGE: i64 = 10_000;
    let head = store.audit_signed_head().await?;
    let mut verifier = domain::audit::ChainVerifier::new(store.audit_keyring(), exported);
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
    Ok(verifier.finish(&head).map(|()| verifier.checked))
}
