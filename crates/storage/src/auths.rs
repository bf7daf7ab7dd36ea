//! Referral and prior authorization requests with their services, their timeline and
//! attachments; the plan's auth-required and auto-approval rules; office notifications.
//!
//! The office scope: a request belongs to the TIN of its *requesting* provider, and an office
//! sees only requests whose requesting provider bills under one of its TINs (`scope`,
//! `Owner::Auth`). The stored `due_at` is always the domain clock's deadline of the row as
//! written (`AuthRequest::deadline`), so the queue can be ordered by it in SQL.

use crate::error::corrupt;
use crate::outbox::NewMessage;
use crate::pool::SqlStore;
use crate::rows::{
    AuthRow, ServiceRow, auth_columns, auth_number, decode, member_id, npi, service_columns,
    split_list, tin,
};
use crate::scope::{Owner, Tins};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, on_pool};
use chrono::{DateTime, TimeZone, Utc};
use domain::access::Scope;
use domain::auth::{
    AuthEvent, AuthEventKind, AuthKind, AuthRequest, AuthStatus, RequestedService, Urgency,
};
use domain::auth_metrics::MetricInput;
use domain::auth_rules::{AuthRule, AutoRule, CodeRange};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, MemberId, Npi, Tin};
use sqlx::QueryBuilder;

/// Numbers of requests made in the portal or over EDI start here (seeded requests use the
/// member sequence below it).
const NUMBER_BASE: u64 = 5_000_000_000;

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

/// A provider to choose as requesting or servicing provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChoice {
    pub npi: Npi,
    pub tin: Tin,
    pub name: String,
    pub specialty: String,
    pub city: String,
}

fn ts(col: &str, s: Option<DateTime<Utc>>) -> Result<DateTime<Utc>> {
    s.ok_or_else(|| corrupt(col, "missing"))
}

/// Binds one request row, in the order of `auth_columns!`.
macro_rules! push_request {
    ($b:expr, $a:expr) => {{
        let a: &AuthRequest = $a;
        $b.push_bind(a.number.as_str().to_string())
            .push_bind(a.kind.code())
            .push_bind(a.urgency.code())
            .push_bind(a.member.as_str().to_string())
            .push_bind(a.requesting_npi.as_str().to_string())
            .push_bind(a.servicing_npi.as_str().to_string())
            .push_bind(a.diagnoses.join(","))
            .push_bind(a.place_of_service.clone())
            .push_bind(a.from_date)
            .push_bind(a.to_date)
            .push_bind(a.received_at)
            .push_bind(a.status.code())
            .push_bind(a.decided_at)
            .push_bind(a.denial_reason.as_ref().map(|r| r.code.clone()))
            .push_bind(a.denial_reason.as_ref().map(|r| r.text.clone()))
            .push_bind(a.line_of_business.code())
            .push_bind(a.urgency_reason.clone())
            .push_bind(a.clinical_notes.clone())
            .push_bind(a.pended_at)
            .push_bind(a.info_received_at)
            .push_bind(a.deadline().due)
            .push_bind(a.reviewer.as_ref().map(|r| r.0))
            .push_bind(a.reviewer.as_ref().map(|r| r.1.clone()))
            .push_bind(a.auto_rule.clone())
            .push_bind(a.appeal.as_ref().map(|x| x.decided_at))
            .push_bind(a.appeal.as_ref().map(|x| x.overturned));
    }};
}

pub(crate) async fn insert(store: &SqlStore, auths: &[AuthRequest]) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        for chunk in auths.chunks(INSERT_CHUNK / 2) {
            let mut q = QueryBuilder::<DB>::new(concat!("INSERT INTO auth_requests (", auth_columns!(), ") "));
            q.push_values(chunk, |mut b, a| push_request!(b, a));
            q.build().execute(&mut *tx).await?;

            let services: Vec<(&AuthNumber, usize, &RequestedService)> =
                chunk.iter().flat_map(|a| a.services.iter().enumerate().map(move |(i, s)| (&a.number, i, s))).collect();
            for services in services.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO auth_services (auth_number, seq, procedure, units, approved_units, approved_from, approved_to) ");
                q.push_values(services, |mut b, (n, seq, s)| {
                    b.push_bind(n.as_str()).push_bind(*seq as i64).push_bind(&s.procedure).push_bind(i64::from(s.units))
                        .push_bind(s.approved_units.map(i64::from)).push_bind(s.approved_from).push_bind(s.approved_to);
                });
                q.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

pub(crate) async fn next_number(store: &SqlStore) -> Result<AuthNumber> {
    const SQL: &str = "INSERT INTO auth_number_seq DEFAULT VALUES RETURNING id";
    let id: i64 = on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL).fetch_one(p).await?);
    Ok(AuthNumber::from_sequence(NUMBER_BASE + id as u64))
}

/// The parts of a write that follow the request row, inside its transaction.
macro_rules! write_rest {
    ($tx:expr, $DB:ident, $a:expr, $w:expr) => {{
        let a: &AuthRequest = $a;
        let w: &AuthWrite = $w;
        let next: i64 = sqlx::query_scalar::<$DB, i64>("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM auth_events WHERE auth_number = $1")
            .bind(a.number.as_str()).fetch_one(&mut *$tx).await?;
        for (i, e) in w.events.iter().enumerate() {
            sqlx::query::<$DB>("INSERT INTO auth_events (auth_number, seq, at, kind, actor, note) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(a.number.as_str()).bind(next + 1 + i as i64).bind(e.at).bind(e.kind.code()).bind(&e.actor).bind(&e.note)
                .execute(&mut *$tx).await?;
        }
        for f in &w.attachments {
            sqlx::query::<$DB>("INSERT INTO auth_attachments (auth_number, filename, media_type, size, sha256, bytes, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(a.number.as_str()).bind(&f.filename).bind(&f.media_type).bind(f.bytes.len() as i64).bind(&f.sha256)
                .bind(&f.bytes).bind(&f.uploaded_by).bind(f.uploaded_at)
                .execute(&mut *$tx).await?;
        }
        if let Some(text) = &w.notification {
            let at = w.events.last().map(|e| e.at).unwrap_or_else(Utc::now);
            sqlx::query::<$DB>("INSERT INTO auth_notifications (org_id, auth_number, created_at, text) \
                                SELECT o.id, $1, $2, $3 FROM organizations o JOIN providers pr ON pr.tin = o.tin WHERE pr.npi = $4")
                .bind(a.number.as_str()).bind(at).bind(text).bind(a.requesting_npi.as_str())
                .execute(&mut *$tx).await?;
        }
        for m in &w.messages {
            sqlx::query_scalar::<$DB, i64>(crate::outbox::INSERT)
                .bind(&m.to_addr).bind(&m.subject).bind(&m.body).bind(m.created_at)
                .fetch_one(&mut *$tx).await?;
        }
    }};
}

pub(crate) async fn create(store: &SqlStore, a: &AuthRequest, w: &AuthWrite) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        let mut q = QueryBuilder::<DB>::new(concat!("INSERT INTO auth_requests (", auth_columns!(), ") "));
        q.push_values(std::iter::once(a), |mut b, a| push_request!(b, a));
        q.build().execute(&mut *tx).await?;
        for (i, s) in a.services.iter().enumerate() {
            sqlx::query::<DB>("INSERT INTO auth_services (auth_number, seq, procedure, units, approved_units, approved_from, approved_to) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(a.number.as_str()).bind(i as i64).bind(&s.procedure).bind(i64::from(s.units))
                .bind(s.approved_units.map(i64::from)).bind(s.approved_from).bind(s.approved_to)
                .execute(&mut *tx).await?;
        }
        if let Some(t) = &w.trace {
            sqlx::query::<DB>("UPDATE auth_requests SET trace = $1 WHERE number = $2")
                .bind(t).bind(a.number.as_str()).execute(&mut *tx).await?;
        }
        write_rest!(tx, DB, a, w);
        tx.commit().await?;
    });
    Ok(())
}

/// The request a requesting provider sent with this trace, if any.
pub(crate) async fn by_trace(
    store: &SqlStore,
    requesting: &Npi,
    trace: &str,
) -> Result<Option<AuthNumber>> {
    const SQL: &str = "SELECT number FROM auth_requests WHERE requesting_npi = $1 AND trace = $2";
    let n: Option<String> = on_pool!(store, p, DB => sqlx::query_scalar::<DB, String>(SQL).bind(requesting.as_str()).bind(trace).fetch_optional(p).await?);
    n.map(|n| auth_number("auth_requests.number", &n))
        .transpose()
}

/// Writes `a` over the stored request if its status is still `expected` (compare-and-set:
/// two reviewers deciding at once, one wins). `false`: it changed meanwhile, nothing written.
pub(crate) async fn update(
    store: &SqlStore,
    a: &AuthRequest,
    expected: AuthStatus,
    w: &AuthWrite,
) -> Result<bool> {
    const SQL: &str = "UPDATE auth_requests SET status = $1, decided_at = $2, denial_code = $3, denial_text = $4, pended_at = $5, \
                       info_received_at = $6, due_at = $7, reviewer_id = $8, reviewer_name = $9, auto_rule = $10, \
                       appeal_decided_at = $11, appeal_overturned = $12 WHERE number = $13 AND status = $14";
    Ok(on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        let done = sqlx::query::<DB>(SQL)
            .bind(a.status.code()).bind(a.decided_at)
            .bind(a.denial_reason.as_ref().map(|r| r.code.clone())).bind(a.denial_reason.as_ref().map(|r| r.text.clone()))
            .bind(a.pended_at).bind(a.info_received_at).bind(a.deadline().due)
            .bind(a.reviewer.as_ref().map(|r| r.0)).bind(a.reviewer.as_ref().map(|r| r.1.clone()))
            .bind(a.auto_rule.clone())
            .bind(a.appeal.as_ref().map(|x| x.decided_at)).bind(a.appeal.as_ref().map(|x| x.overturned))
            .bind(a.number.as_str()).bind(expected.code())
            .execute(&mut *tx).await?.rows_affected();
        if done == 0 {
            tx.rollback().await?;
            false
        } else {
            for (i, s) in a.services.iter().enumerate() {
                sqlx::query::<DB>("UPDATE auth_services SET approved_units = $1, approved_from = $2, approved_to = $3 WHERE auth_number = $4 AND seq = $5")
                    .bind(s.approved_units.map(i64::from)).bind(s.approved_from).bind(s.approved_to)
                    .bind(a.number.as_str()).bind(i as i64)
                    .execute(&mut *tx).await?;
            }
            write_rest!(tx, DB, a, w);
            tx.commit().await?;
            true
        }
    }))
}

pub(crate) async fn get(store: &SqlStore, number: &AuthNumber) -> Result<Option<AuthRequest>> {
    const SQL: &str = concat!(
        "SELECT ",
        auth_columns!(),
        " FROM auth_requests WHERE number = $1"
    );
    const SERVICES: &str = concat!(
        "SELECT ",
        service_columns!(),
        " FROM auth_services WHERE auth_number = $1 ORDER BY seq"
    );
    let (row, services): (Option<AuthRow>, Vec<ServiceRow>) = on_pool!(store, p, DB => {
        let row = sqlx::query_as::<DB, AuthRow>(SQL).bind(number.as_str()).fetch_optional(p).await?;
        let services = sqlx::query_as::<DB, ServiceRow>(SERVICES).bind(number.as_str()).fetch_all(p).await?;
        (row, services)
    });
    let Some(a) = row else { return Ok(None) };
    a.into_request(services).map(Some)
}

/// Requests whose stored deadline was never computed (stored before migration 0006 added it, with
/// its placeholder before 1971) get the domain clock's deadline, in one transaction; a no-op
/// once done, so every open may call it.
pub(crate) async fn backfill_deadlines(store: &SqlStore) -> Result<u64> {
    const SQL: &str = concat!(
        "SELECT ",
        auth_columns!(),
        " FROM auth_requests WHERE due_at < $1"
    );
    const SET: &str = "UPDATE auth_requests SET due_at = $1 WHERE number = $2";
    let placeholder = DateTime::<Utc>::from_timestamp(31_536_000, 0).expect("valid");
    Ok(on_pool!(store, p, DB => {
        let rows = sqlx::query_as::<DB, AuthRow>(SQL).bind(placeholder).fetch_all(p).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = p.begin().await?;
        let n = rows.len() as u64;
        for row in rows {
            // The deadline depends on the request's dates, urgency and pend, not its services.
            let a = row.into_request(Vec::new())?;
            sqlx::query::<DB>(SET).bind(a.deadline().due).bind(a.number.as_str()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        tracing::info!(requests = n, "computed the decision deadlines of earlier authorizations");
        n
    }))
}

pub(crate) async fn get_in_scope(
    store: &SqlStore,
    number: &AuthNumber,
    scope: &Scope,
) -> Result<Option<AuthRequest>> {
    let Some(tins) = Tins::of(scope) else {
        return Ok(None);
    };
    let visible: Option<String> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new("SELECT a.number FROM auth_requests a");
        tins.push(&mut b, Owner::Auth);
        b.push(" AND a.number = ").push_bind(number.as_str().to_string());
        b.build_query_scalar::<String>().fetch_optional(p).await?
    });
    match visible {
        Some(_) => get(store, number).await,
        None => Ok(None),
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    number: String,
    kind: String,
    urgency: String,
    line_of_business: String,
    status: String,
    member_id: String,
    first_name: String,
    last_name: String,
    requesting_npi: String,
    servicing_npi: String,
    received_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    reviewer_name: Option<String>,
    appeal_overturned: Option<bool>,
}

const SUMMARY: &str = "SELECT a.number, a.kind, a.urgency, a.line_of_business, a.status, a.member_id, m.first_name, m.last_name, \
     a.requesting_npi, a.servicing_npi, a.received_at, a.due_at, a.decided_at, a.reviewer_name, a.appeal_overturned \
     FROM auth_requests a JOIN members m ON m.id = a.member_id";

async fn summaries(store: &SqlStore, rows: Vec<SummaryRow>) -> Result<Vec<AuthSummary>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<String> = rows.iter().map(|r| r.number.clone()).collect();
    let services: Vec<(String, String, i64)> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new("SELECT auth_number, procedure, units FROM auth_services WHERE auth_number");
        push_in(&mut b, &numbers);
        b.push(" ORDER BY auth_number, seq");
        b.build_query_as::<(String, String, i64)>().fetch_all(p).await?
    });
    let mut by_number: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for (n, code, u) in &services {
        by_number
            .entry(n.as_str())
            .or_default()
            .push(format!("{code} ×{u}"));
    }
    rows.iter()
        .map(|r| {
            Ok(AuthSummary {
                number: auth_number("auth_requests.number", &r.number)?,
                kind: decode("auth_requests.kind", &r.kind, AuthKind::from_code)?,
                urgency: decode("auth_requests.urgency", &r.urgency, Urgency::from_code)?,
                line_of_business: decode(
                    "auth_requests.line_of_business",
                    &r.line_of_business,
                    LineOfBusiness::from_code,
                )?,
                status: decode("auth_requests.status", &r.status, AuthStatus::from_code)?,
                member: member_id("auth_requests.member_id", &r.member_id)?,
                member_name: format!("{} {}", r.first_name, r.last_name),
                requesting_npi: npi("auth_requests.requesting_npi", &r.requesting_npi)?,
                servicing_npi: npi("auth_requests.servicing_npi", &r.servicing_npi)?,
                received_at: r.received_at,
                due_at: r.due_at,
                decided_at: r.decided_at,
                reviewer: r.reviewer_name.clone(),
                services: by_number
                    .get(r.number.as_str())
                    .map(|v| v.join(", "))
                    .unwrap_or_default(),
                appeal_overturned: r.appeal_overturned,
            })
        })
        .collect()
}

const OPEN: &[AuthStatus] = &[
    AuthStatus::Received,
    AuthStatus::InReview,
    AuthStatus::Pended,
];

pub(crate) async fn queue(store: &SqlStore, f: &QueueFilter) -> Result<Vec<AuthSummary>> {
    let statuses: Vec<&str> = match f.status {
        Some(s) if OPEN.contains(&s) => vec![s.code()],
        Some(_) => return Ok(Vec::new()),
        None => OPEN.iter().map(|s| s.code()).collect(),
    };
    let rows: Vec<SummaryRow> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new(SUMMARY);
        b.push(" WHERE a.status IN (");
        let mut list = b.separated(", ");
        for s in &statuses {
            list.push_bind(s.to_string());
        }
        b.push(")");
        if let Some(u) = f.urgency {
            b.push(" AND a.urgency = ").push_bind(u.code());
        }
        if let Some(l) = f.line_of_business {
            b.push(" AND a.line_of_business = ").push_bind(l.code());
        }
        if let Some(r) = f.reviewer {
            b.push(" AND a.reviewer_id = ").push_bind(r);
        }
        b.push(" ORDER BY a.due_at, a.number LIMIT ").push_bind(f.limit.clamp(1, 10_000));
        b.build_query_as::<SummaryRow>().fetch_all(p).await?
    });
    summaries(store, rows).await
}

pub(crate) async fn in_scope(
    store: &SqlStore,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<AuthSummary>> {
    let Some(tins) = Tins::of(scope) else {
        return Ok(Vec::new());
    };
    let rows: Vec<SummaryRow> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new(SUMMARY);
        tins.push(&mut b, Owner::Auth);
        b.push(" ORDER BY a.received_at DESC, a.number DESC LIMIT ").push_bind(limit.clamp(1, 10_000));
        b.build_query_as::<SummaryRow>().fetch_all(p).await?
    });
    summaries(store, rows).await
}

pub(crate) async fn events(store: &SqlStore, number: &AuthNumber) -> Result<Vec<AuthEvent>> {
    const SQL: &str =
        "SELECT at, kind, actor, note FROM auth_events WHERE auth_number = $1 ORDER BY seq";
    let rows: Vec<(DateTime<Utc>, String, String, String)> = on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(number.as_str()).fetch_all(p).await?);
    rows.into_iter()
        .map(|(at, kind, actor, note)| {
            Ok(AuthEvent {
                at,
                kind: decode("auth_events.kind", &kind, AuthEventKind::from_code)?,
                actor,
                note,
            })
        })
        .collect()
}

type AttachmentRow = (i64, String, String, String, i64, String, DateTime<Utc>);

fn attachment(r: AttachmentRow) -> Result<AttachmentMeta> {
    let (id, n, filename, media_type, size, uploaded_by, uploaded_at) = r;
    Ok(AttachmentMeta {
        id,
        auth_number: auth_number("auth_attachments.auth_number", &n)?,
        filename,
        media_type,
        size,
        uploaded_by,
        uploaded_at,
    })
}

pub(crate) async fn attachments(
    store: &SqlStore,
    number: &AuthNumber,
) -> Result<Vec<AttachmentMeta>> {
    const SQL: &str = "SELECT id, auth_number, filename, media_type, size, uploaded_by, uploaded_at FROM auth_attachments WHERE auth_number = $1 ORDER BY id";
    let rows: Vec<AttachmentRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, AttachmentRow>(SQL).bind(number.as_str()).fetch_all(p).await?);
    rows.into_iter().map(attachment).collect()
}

pub(crate) async fn attachment_bytes(store: &SqlStore, id: i64) -> Result<Option<Attachment>> {
    const SQL: &str = "SELECT id, auth_number, filename, media_type, size, uploaded_by, uploaded_at FROM auth_attachments WHERE id = $1";
    const BYTES: &str = "SELECT bytes FROM auth_attachments WHERE id = $1";
    let (row, bytes): (Option<AttachmentRow>, Option<Vec<u8>>) = on_pool!(store, p, DB => {
        let row = sqlx::query_as::<DB, AttachmentRow>(SQL).bind(id).fetch_optional(p).await?;
        let bytes = sqlx::query_scalar::<DB, Vec<u8>>(BYTES).bind(id).fetch_optional(p).await?;
        (row, bytes)
    });
    match (row, bytes) {
        (Some(r), Some(bytes)) => Ok(Some(Attachment {
            meta: attachment(r)?,
            bytes,
        })),
        _ => Ok(None),
    }
}

// ----- rules -----

type RuleRow = (i64, String, String, Option<String>, bool, String, String);

pub(crate) async fn rules(store: &SqlStore) -> Result<Vec<AuthRule>> {
    const SQL: &str = "SELECT id, code_from, code_to, line_of_business, required, note, description FROM auth_rules ORDER BY code_from, code_to, id";
    let rows: Vec<RuleRow> =
        on_pool!(store, p, DB => sqlx::query_as::<DB, RuleRow>(SQL).fetch_all(p).await?);
    rows.into_iter()
        .map(|(id, from, to, lob, required, note, description)| {
            Ok(AuthRule {
                id,
                codes: CodeRange { from, to },
                line_of_business: lob
                    .map(|l| decode("auth_rules.line_of_business", &l, LineOfBusiness::from_code))
                    .transpose()?,
                required,
                note,
                description,
            })
        })
        .collect()
}

pub(crate) async fn add_rule(store: &SqlStore, r: &AuthRule) -> Result<i64> {
    const SQL: &str = "INSERT INTO auth_rules (code_from, code_to, line_of_business, required, note, description) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    Ok(on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
        .bind(&r.codes.from).bind(&r.codes.to).bind(r.line_of_business.map(|l| l.code())).bind(r.required)
        .bind(&r.note).bind(&r.description).fetch_one(p).await?))
}

pub(crate) async fn delete_rule(store: &SqlStore, id: i64) -> Result<bool> {
    Ok(
        on_pool!(store, p, DB => sqlx::query::<DB>("DELETE FROM auth_rules WHERE id = $1").bind(id).execute(p).await?.rows_affected())
            > 0,
    )
}

type AutoRow = (i64, String, Option<String>, String, i64, bool);

pub(crate) async fn auto_rules(store: &SqlStore) -> Result<Vec<AutoRule>> {
    const SQL: &str = "SELECT id, name, line_of_business, codes, max_units, include_expedited FROM auto_rules ORDER BY id";
    let rows: Vec<AutoRow> =
        on_pool!(store, p, DB => sqlx::query_as::<DB, AutoRow>(SQL).fetch_all(p).await?);
    rows.into_iter()
        .map(|(id, name, lob, codes, max, expedited)| {
            Ok(AutoRule {
                id,
                name,
                line_of_business: lob
                    .map(|l| decode("auto_rules.line_of_business", &l, LineOfBusiness::from_code))
                    .transpose()?,
                codes: split_list(&codes),
                max_units: u32::try_from(max).map_err(|e| corrupt("auto_rules.max_units", e))?,
                include_expedited: expedited,
            })
        })
        .collect()
}

pub(crate) async fn add_auto_rule(store: &SqlStore, r: &AutoRule) -> Result<i64> {
    const SQL: &str = "INSERT INTO auto_rules (name, line_of_business, codes, max_units, include_expedited) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    Ok(on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
        .bind(&r.name).bind(r.line_of_business.map(|l| l.code())).bind(r.codes.join(","))
        .bind(i64::from(r.max_units)).bind(r.include_expedited).fetch_one(p).await?))
}

pub(crate) async fn delete_auto_rule(store: &SqlStore, id: i64) -> Result<bool> {
    Ok(
        on_pool!(store, p, DB => sqlx::query::<DB>("DELETE FROM auto_rules WHERE id = $1").bind(id).execute(p).await?.rows_affected())
            > 0,
    )
}

// ----- metrics, providers, notifications -----

pub(crate) async fn metric_inputs(store: &SqlStore, year: i32) -> Result<Vec<MetricInput>> {
    const SQL: &str = "SELECT urgency, status, received_at, decided_at, pended_at, appeal_overturned FROM auth_requests \
                       WHERE decided_at >= $1 AND decided_at < $2 AND status <> 'withdrawn'";
    let start = Utc
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| corrupt("year", "out of range"))?;
    let end = Utc
        .with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| corrupt("year", "out of range"))?;
    type Row = (
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<bool>,
    );
    let rows: Vec<Row> = on_pool!(store, p, DB => sqlx::query_as::<DB, Row>(SQL).bind(start).bind(end).fetch_all(p).await?);
    rows.into_iter()
        .map(|(u, s, received_at, decided_at, pended_at, overturned)| {
            Ok(MetricInput {
                urgency: decode("auth_requests.urgency", &u, Urgency::from_code)?,
                status: decode("auth_requests.status", &s, AuthStatus::from_code)?,
                received_at,
                decided_at: ts("auth_requests.decided_at", decided_at)?,
                extended: pended_at.is_some(),
                approved_on_appeal: overturned == Some(true),
            })
        })
        .collect()
}

type ChoiceRow = (String, String, String, String, String);

fn choice((npi_s, tin_s, name, specialty, city): ChoiceRow) -> Result<ProviderChoice> {
    Ok(ProviderChoice {
        npi: npi("providers.npi", &npi_s)?,
        tin: tin("providers.tin", &tin_s)?,
        name,
        specialty,
        city,
    })
}

pub(crate) async fn providers_of_tins(
    store: &SqlStore,
    tins: &[Tin],
    limit: i64,
) -> Result<Vec<ProviderChoice>> {
    if tins.is_empty() {
        return Ok(Vec::new());
    }
    let tins: Vec<String> = tins.iter().map(|t| t.digits().to_string()).collect();
    let rows: Vec<ChoiceRow> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new("SELECT npi, tin, name, specialty, city FROM providers WHERE tin");
        push_in(&mut b, &tins);
        b.push(" ORDER BY kind DESC, name LIMIT ").push_bind(limit.clamp(1, 1000));
        b.build_query_as::<ChoiceRow>().fetch_all(p).await?
    });
    rows.into_iter().map(choice).collect()
}

/// Providers whose NPI is `text` or whose name contains it (any case).
pub(crate) async fn search_providers(
    store: &SqlStore,
    text: &str,
    limit: i64,
) -> Result<Vec<ProviderChoice>> {
    const SQL: &str = "SELECT npi, tin, name, specialty, city FROM providers WHERE npi = $1 OR LOWER(name) LIKE $2 ORDER BY name, npi LIMIT $3";
    let text = text.trim();
    let like = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
    let rows: Vec<ChoiceRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, ChoiceRow>(SQL).bind(text).bind(&like).bind(limit.clamp(1, 100)).fetch_all(p).await?);
    rows.into_iter().map(choice).collect()
}

pub(crate) async fn notifications(
    store: &SqlStore,
    org_id: i64,
    limit: i64,
) -> Result<Vec<Notification>> {
    const SQL: &str = "SELECT id, auth_number, created_at, text FROM auth_notifications WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
    let rows: Vec<(i64, String, DateTime<Utc>, String)> = on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(org_id).bind(limit.clamp(1, 1000)).fetch_all(p).await?);
    rows.into_iter()
        .map(|(id, n, created_at, text)| {
            Ok(Notification {
                id,
                auth_number: auth_number("auth_notifications.auth_number", &n)?,
                created_at,
                text,
            })
        })
        .collect()
}

/// Notifications of the user's office newer than the last time the user looked.
pub(crate) async fn unseen(store: &SqlStore, user_id: i64, org_id: i64) -> Result<i64> {
    const SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_notifications n WHERE n.org_id = $1 \
                       AND n.created_at > COALESCE((SELECT s.seen_at FROM notifications_seen s WHERE s.user_id = $2), $3)";
    let epoch = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    Ok(
        on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL).bind(org_id).bind(user_id).bind(epoch).fetch_one(p).await?),
    )
}

pub(crate) async fn mark_seen(store: &SqlStore, user_id: i64, at: DateTime<Utc>) -> Result<()> {
    const SQL: &str = "INSERT INTO notifications_seen (user_id, seen_at) VALUES ($1, $2) \
                       ON CONFLICT (user_id) DO UPDATE SET seen_at = excluded.seen_at";
    on_pool!(store, p, DB => { sqlx::query::<DB>(SQL).bind(user_id).bind(at).execute(p).await?; });
    Ok(())
}
