//! Utilization management ([`UmStore`]): referral and prior authorization requests with their
//! services, timeline and attachments; the plan's auth-required and auto-approval rules; the
//! CMS-0057-F metrics inputs; office notifications.
//!
//! The office scope: a request belongs to the TIN of its *requesting* provider, and an office
//! sees only requests whose requesting provider bills under one of its TINs (`scope`,
//! `Owner::Auth`). The stored `due_at` is always the domain clock's deadline of the row as
//! written (`AuthRequest::deadline`), so the queue can be ordered by it in SQL.

mod sql;
mod write;

pub(crate) use write::backfill_deadlines;

use crate::Result;
use crate::outbox::NewMessage;
use chrono::{DateTime, Utc};
use domain::access::Scope;
use domain::auth::{AuthEvent, AuthKind, AuthRequest, AuthStatus, Urgency};
use domain::auth_metrics::MetricInput;
use domain::auth_rules::{AuthRule, AutoRule};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, MemberId, Npi};

/// A file sent with a request or with the information asked for (already checked and sniffed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub filename: String,
    pub media_type: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
    /// Who sent it, by name (the office user, or "EDI 278").
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub id: i64,
    pub auth_number: AuthNumber,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A stored file with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub meta: AttachmentMeta,
    pub bytes: Vec<u8>,
}

/// What goes with a new or changed request, in the same transaction: its new timeline entries,
/// files, a notification for the requesting office and messages for its people.
#[derive(Debug, Clone, Default)]
pub struct AuthWrite {
    pub events: Vec<AuthEvent>,
    pub attachments: Vec<NewAttachment>,
    /// Shown in the portal to every office whose TIN the requesting provider bills under.
    pub notification: Option<String>,
    pub messages: Vec<NewMessage>,
    /// The requester's own trace number (a 278's TRN02), unique per requesting provider: a
    /// second request with the same trace fails with `StorageError::Duplicate`.
    pub trace: Option<String>,
}

/// A request as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSummary {
    pub number: AuthNumber,
    pub kind: AuthKind,
    pub urgency: Urgency,
    pub line_of_business: LineOfBusiness,
    pub status: AuthStatus,
    pub member: MemberId,
    pub member_name: String,
    pub requesting_npi: Npi,
    pub servicing_npi: Npi,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reviewer: Option<String>,
    /// "97110 ×12, 73721 ×1"
    pub services: String,
    pub appeal_overturned: Option<bool>,
}

/// The reviewers' queue: open requests, soonest deadline first.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub urgency: Option<Urgency>,
    /// One open status; `None`: every open one.
    pub status: Option<AuthStatus>,
    pub line_of_business: Option<LineOfBusiness>,
    /// Only the cases this reviewer took.
    pub reviewer: Option<i64>,
    pub limit: i64,
}

/// A portal notification for an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub auth_number: AuthNumber,
    pub created_at: DateTime<Utc>,
    pub text: String,
}

/// Referrals and prior authorizations, from the form and the 278 alike (`um::submit` is the one
/// path in), the reviewers' queue, the rules, and what offices are told.
#[async_trait::async_trait]
pub trait UmStore: Send + Sync {
    /// Stores requests as they are (the seed's history), in one transaction.
    async fn insert_auths(&self, auths: &[AuthRequest]) -> Result<()>;
    async fn auth(&self, number: &AuthNumber) -> Result<Option<AuthRequest>>;
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
        expected: AuthStatus,
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
    async fn auth_events(&self, number: &AuthNumber) -> Result<Vec<AuthEvent>>;
    async fn auth_attachments(&self, number: &AuthNumber) -> Result<Vec<AttachmentMeta>>;
    async fn auth_attachment(&self, id: i64) -> Result<Option<Attachment>>;
    async fn auth_rules(&self) -> Result<Vec<AuthRule>>;
    /// Adds a rule (its `id` is ignored); returns the new id.
    async fn add_auth_rule(&self, rule: &AuthRule) -> Result<i64>;
    async fn delete_auth_rule(&self, id: i64) -> Result<bool>;
    async fn auto_rules(&self) -> Result<Vec<AutoRule>>;
    async fn add_auto_rule(&self, rule: &AutoRule) -> Result<i64>;
    async fn delete_auto_rule(&self, id: i64) -> Result<bool>;
    /// Requests determined in `year` (UTC), for the public metrics.
    async fn auth_metric_inputs(&self, year: i32) -> Result<Vec<MetricInput>>;
    /// The office's notifications, newest first.
    async fn notifications(&self, org_id: i64, limit: i64) -> Result<Vec<Notification>>;
    /// How many of the office's notifications the user has not seen yet.
    async fn unseen_notifications(&self, user_id: i64, org_id: i64) -> Result<i64>;
    async fn mark_notifications_seen(&self, user_id: i64, at: DateTime<Utc>) -> Result<()>;
}
