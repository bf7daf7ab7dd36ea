//! Persistence for provider-portal: one trait per area, and [`Store`], their sum.
//!
//! Each area (`plan`, `members`, `claims`, `accounts`, `sessions`, …) declares its trait and
//! its records in its own module and implements the trait for [`SqlStore`] next to its SQL.
//! Callers hold an `Arc<dyn Store>` (every area at once) or ask for just the trait they need
//! (`&dyn ClaimStore`), so a test double for one area implements one small trait; they bring
//! the methods in with `use storage::prelude::*;`.
//!
//! Two backends, one implementation: [`SqlStore`] holds either a SQLite pool (the embedded
//! default, a file in the data directory, WAL mode) or a PostgreSQL pool (chosen by a
//! `postgres://` URL). Every query is written once, with `$N` placeholders that both accept, and
//! compiled for each backend by the [`on_pool!`] macro; each backend has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) because their types differ. The tests in
//! `tests/store` run each area's tests against both.

mod accounts;
mod adjudication;
mod audit;
mod claims;
mod database;
mod eligibility;
mod error;
mod intake;
pub mod keys;
mod lookups;
mod members;
mod open;
mod outbox;
mod payments;
mod plan;
mod pool;
mod registrations;
mod rows;
mod scope;
mod secrets;
mod sessions;
mod sql;
#[cfg(test)]
mod testing;
mod um;

pub use accounts::{
    AccountStore, CodeClaim, Deactivation, Identity, NewOrg, NewUser, OrgRecord, SignInStore,
    StatusChange, TinGrant, UserRecord,
};
pub use adjudication::{Adjudicated, AdjudicationInputs, AdjudicationStore, LineExplanation};
pub use audit::{AuditQuery, AuditStore, verify_audit, verify_audit_with};
pub use claims::{ClaimQuery, ClaimStatusRecord, ClaimStore, ClaimSummary, LineStatusRecord};
pub use database::{DatabaseStore, PlanCounts};
pub use eligibility::{
    AssignedMember, BatchCounts, BatchFile, BatchRecord, CareGapInputs, Coverage, CoverageSpan,
    EligibilityFound, EligibilityLookup, EligibilityStore, MemberKey, NewBatch, ServiceFact,
};
pub use error::StorageError;
pub use intake::{
    IntakeClaimResult, IntakeLookup, IntakeStore, InterchangeRecord, InterchangeStatus,
    NewInterchange, StoredAcks,
};
pub use keys::Keys;
pub use lookups::{LookupCharge, LookupStore, OrgLookups};
pub use members::{MemberRecord, MemberStore, NewMember};
pub use open::{open, open_with};
pub use outbox::{NewMessage, OutboxMessage, OutboxStore};
pub use payments::{
    NewPayment, Payable, PayableClaim, Payee, PaymentPage, PaymentStore, PaymentSummary,
    RemittanceFile,
};
pub use plan::{PlanStore, ProviderChoice};
pub use pool::SqlStore;
pub use registrations::{
    Approval, Approved, Document, DocumentMeta, NewDocument, NewRegistration, RegistrationFilter,
    RegistrationRecord, RegistrationStore,
};
pub use secrets::SecretStore;
pub use sessions::{NewSession, SessionRecord, SessionStore};
pub use um::{
    Attachment, AttachmentMeta, AuthSummary, AuthWrite, NewAttachment, Notification, QueueFilter,
    UmStore,
};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Everything the portal reads and writes: the sum of the areas' traits, implemented for
/// anything that implements them all. Batch inserts are all-or-nothing: each call is one
/// transaction, so a crash mid-batch leaves nothing half-stored.
pub trait Store:
    DatabaseStore
    + PlanStore
    + MemberStore
    + ClaimStore
    + AccountStore
    + SignInStore
    + SessionStore
    + RegistrationStore
    + OutboxStore
    + AuditStore
    + EligibilityStore
    + LookupStore
    + UmStore
    + IntakeStore
    + AdjudicationStore
    + PaymentStore
    + SecretStore
{
}

impl<T> Store for T where
    T: DatabaseStore
        + PlanStore
        + MemberStore
        + ClaimStore
        + AccountStore
        + SignInStore
        + SessionStore
        + RegistrationStore
        + OutboxStore
        + AuditStore
        + EligibilityStore
        + LookupStore
        + UmStore
        + IntakeStore
        + AdjudicationStore
        + PaymentStore
        + SecretStore
        + ?Sized
{
}

/// Every area's trait, for callers that call store methods: `use storage::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AccountStore, AdjudicationStore, AuditStore, ClaimStore, DatabaseStore, EligibilityStore,
        IntakeStore, LookupStore, MemberStore, OutboxStore, PaymentStore, PlanStore,
        RegistrationStore, SecretStore, SessionStore, SignInStore, Store, UmStore,
    };
}
