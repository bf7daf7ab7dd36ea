//! What every write of a request shares: its row bound in column order, and what follows the
//! row in the same transaction (timeline, files, the office's notification, messages); and the
//! deadlines computed on open for requests stored before the column existed.

use crate::pool::SqlStore;
use crate::rows::{AuthRow, auth_columns};
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};

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
pub(crate) use push_request;

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
pub(crate) use write_rest;

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
