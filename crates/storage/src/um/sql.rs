//! [`UmStore`] on SQL.

use super::write::{push_request, write_rest};
use super::{
    Attachment, AttachmentMeta, AuthSummary, AuthWrite, Notification, QueueFilter, UmStore,
};
use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{
    AuthRow, ServiceRow, auth_columns, auth_number, decode, member_id, npi, service_columns,
    split_list,
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
use domain::{AuthNumber, Npi};
use sqlx::QueryBuilder;

/// Numbers of requests made in the portal or over EDI start here (seeded requests use the
/// member sequence below it).
const NUMBER_BASE: u64 = 5_000_000_000;

fn ts(col: &str, s: Option<DateTime<Utc>>) -> Result<DateTime<Utc>> {
    s.ok_or_else(|| corrupt(col, "missing"))
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

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: i64,
    auth_number: String,
    filename: String,
    media_type: String,
    size: i64,
    uploaded_by: String,
    uploaded_at: DateTime<Utc>,
}

fn attachment(r: AttachmentRow) -> Result<AttachmentMeta> {
    Ok(AttachmentMeta {
        id: r.id,
        auth_number: auth_number("auth_attachments.auth_number", &r.auth_number)?,
        filename: r.filename,
        media_type: r.media_type,
        size: r.size,
        uploaded_by: r.uploaded_by,
        uploaded_at: r.uploaded_at,
    })
}

/// `auth_rules` and `auto_rules` rows, decoded where they are read.
type RuleRow = (i64, String, String, Option<String>, bool, String, String);

type AutoRow = (i64, String, Option<String>, String, i64, bool);

#[async_trait::async_trait]
impl UmStore for SqlStore {
    async fn insert_auths(&self, auths: &[AuthRequest]) -> Result<()> {
        on_pool!(self, p, DB => {
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

    async fn auth(&self, number: &AuthNumber) -> Result<Option<AuthRequest>> {
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
        let (row, services): (Option<AuthRow>, Vec<ServiceRow>) = on_pool!(self, p, DB => {
            let row = sqlx::query_as::<DB, AuthRow>(SQL).bind(number.as_str()).fetch_optional(p).await?;
            let services = sqlx::query_as::<DB, ServiceRow>(SERVICES).bind(number.as_str()).fetch_all(p).await?;
            (row, services)
        });
        let Some(a) = row else { return Ok(None) };
        a.into_request(services).map(Some)
    }

    async fn next_auth_number(&self) -> Result<AuthNumber> {
        const SQL: &str = "INSERT INTO auth_number_seq DEFAULT VALUES RETURNING id";
        let id: i64 =
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL).fetch_one(p).await?);
        Ok(AuthNumber::from_sequence(NUMBER_BASE + id as u64))
    }

    async fn create_auth(&self, a: &AuthRequest, w: &AuthWrite) -> Result<()> {
        on_pool!(self, p, DB => {
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

    /// Writes `a` over the stored request if its status is still `expected` (compare-and-set:
    /// two reviewers deciding at once, one wins). `false`: it changed meanwhile, nothing written.
    async fn update_auth(
        &self,
        a: &AuthRequest,
        expected: AuthStatus,
        w: &AuthWrite,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE auth_requests SET status = $1, decided_at = $2, denial_code = $3, denial_text = $4, pended_at = $5, \
                           info_received_at = $6, due_at = $7, reviewer_id = $8, reviewer_name = $9, auto_rule = $10, \
                           appeal_decided_at = $11, appeal_overturned = $12 WHERE number = $13 AND status = $14";
        Ok(on_pool!(self, p, DB => {
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

    /// The request a requesting provider sent with this trace, if any.
    async fn auth_by_trace(&self, requesting: &Npi, trace: &str) -> Result<Option<AuthNumber>> {
        const SQL: &str =
            "SELECT number FROM auth_requests WHERE requesting_npi = $1 AND trace = $2";
        let n: Option<String> = on_pool!(self, p, DB => sqlx::query_scalar::<DB, String>(SQL).bind(requesting.as_str()).bind(trace).fetch_optional(p).await?);
        n.map(|n| auth_number("auth_requests.number", &n))
            .transpose()
    }

    async fn auth_in_scope(
        &self,
        number: &AuthNumber,
        scope: &Scope,
    ) -> Result<Option<AuthRequest>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(None);
        };
        let visible: Option<String> = on_pool!(self, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT a.number FROM auth_requests a");
            tins.push(&mut b, Owner::Auth);
            b.push(" AND a.number = ").push_bind(number.as_str().to_string());
            b.build_query_scalar::<String>().fetch_optional(p).await?
        });
        match visible {
            Some(_) => self.auth(number).await,
            None => Ok(None),
        }
    }

    async fn auths_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<AuthSummary>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(Vec::new());
        };
        let rows: Vec<SummaryRow> = on_pool!(self, p, DB => {
            let mut b = QueryBuilder::<DB>::new(SUMMARY);
            tins.push(&mut b, Owner::Auth);
            b.push(" ORDER BY a.received_at DESC, a.number DESC LIMIT ").push_bind(limit.clamp(1, 10_000));
            b.build_query_as::<SummaryRow>().fetch_all(p).await?
        });
        summaries(self, rows).await
    }

    async fn auth_queue(&self, f: &QueueFilter) -> Result<Vec<AuthSummary>> {
        let statuses: Vec<&str> = match f.status {
            Some(s) if OPEN.contains(&s) => vec![s.code()],
            Some(_) => return Ok(Vec::new()),
            None => OPEN.iter().map(|s| s.code()).collect(),
        };
        let rows: Vec<SummaryRow> = on_pool!(self, p, DB => {
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
        summaries(self, rows).await
    }

    async fn auth_events(&self, number: &AuthNumber) -> Result<Vec<AuthEvent>> {
        const SQL: &str =
            "SELECT at, kind, actor, note FROM auth_events WHERE auth_number = $1 ORDER BY seq";
        let rows: Vec<(DateTime<Utc>, String, String, String)> = on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(number.as_str()).fetch_all(p).await?);
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

    async fn auth_attachments(&self, number: &AuthNumber) -> Result<Vec<AttachmentMeta>> {
        const SQL: &str = "SELECT id, auth_number, filename, media_type, size, uploaded_by, uploaded_at FROM auth_attachments WHERE auth_number = $1 ORDER BY id";
        let rows: Vec<AttachmentRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, AttachmentRow>(SQL).bind(number.as_str()).fetch_all(p).await?);
        rows.into_iter().map(attachment).collect()
    }

    async fn auth_attachment(&self, id: i64) -> Result<Option<Attachment>> {
        const SQL: &str = "SELECT id, auth_number, filename, media_type, size, uploaded_by, uploaded_at FROM auth_attachments WHERE id = $1";
        const BYTES: &str = "SELECT bytes FROM auth_attachments WHERE id = $1";
        let (row, bytes): (Option<AttachmentRow>, Option<Vec<u8>>) = on_pool!(self, p, DB => {
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

    async fn auth_rules(&self) -> Result<Vec<AuthRule>> {
        const SQL: &str = "SELECT id, code_from, code_to, line_of_business, required, note, description FROM auth_rules ORDER BY code_from, code_to, id";
        let rows: Vec<RuleRow> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, RuleRow>(SQL).fetch_all(p).await?);
        rows.into_iter()
            .map(|(id, from, to, lob, required, note, description)| {
                Ok(AuthRule {
                    id,
                    codes: CodeRange { from, to },
                    line_of_business: lob
                        .map(|l| {
                            decode("auth_rules.line_of_business", &l, LineOfBusiness::from_code)
                        })
                        .transpose()?,
                    required,
                    note,
                    description,
                })
            })
            .collect()
    }

    async fn add_auth_rule(&self, r: &AuthRule) -> Result<i64> {
        const SQL: &str = "INSERT INTO auth_rules (code_from, code_to, line_of_business, required, note, description) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
            .bind(&r.codes.from).bind(&r.codes.to).bind(r.line_of_business.map(|l| l.code())).bind(r.required)
            .bind(&r.note).bind(&r.description).fetch_one(p).await?))
    }

    async fn delete_auth_rule(&self, id: i64) -> Result<bool> {
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>("DELETE FROM auth_rules WHERE id = $1").bind(id).execute(p).await?.rows_affected())
                > 0,
        )
    }

    async fn auto_rules(&self) -> Result<Vec<AutoRule>> {
        const SQL: &str = "SELECT id, name, line_of_business, codes, max_units, include_expedited FROM auto_rules ORDER BY id";
        let rows: Vec<AutoRow> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, AutoRow>(SQL).fetch_all(p).await?);
        rows.into_iter()
            .map(|(id, name, lob, codes, max, expedited)| {
                Ok(AutoRule {
                    id,
                    name,
                    line_of_business: lob
                        .map(|l| {
                            decode("auto_rules.line_of_business", &l, LineOfBusiness::from_code)
                        })
                        .transpose()?,
                    codes: split_list(&codes),
                    max_units: u32::try_from(max)
                        .map_err(|e| corrupt("auto_rules.max_units", e))?,
                    include_expedited: expedited,
                })
            })
            .collect()
    }

    async fn add_auto_rule(&self, r: &AutoRule) -> Result<i64> {
        const SQL: &str = "INSERT INTO auto_rules (name, line_of_business, codes, max_units, include_expedited) VALUES ($1, $2, $3, $4, $5) RETURNING id";
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
            .bind(&r.name).bind(r.line_of_business.map(|l| l.code())).bind(r.codes.join(","))
            .bind(i64::from(r.max_units)).bind(r.include_expedited).fetch_one(p).await?))
    }

    async fn delete_auto_rule(&self, id: i64) -> Result<bool> {
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>("DELETE FROM auto_rules WHERE id = $1").bind(id).execute(p).await?.rows_affected())
                > 0,
        )
    }

    async fn auth_metric_inputs(&self, year: i32) -> Result<Vec<MetricInput>> {
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
        let rows: Vec<Row> = on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(SQL).bind(start).bind(end).fetch_all(p).await?);
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

    async fn notifications(&self, org_id: i64, limit: i64) -> Result<Vec<Notification>> {
        const SQL: &str = "SELECT id, auth_number, created_at, text FROM auth_notifications WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
        let rows: Vec<(i64, String, DateTime<Utc>, String)> = on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(org_id).bind(limit.clamp(1, 1000)).fetch_all(p).await?);
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
    async fn unseen_notifications(&self, user_id: i64, org_id: i64) -> Result<i64> {
        const SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_notifications n WHERE n.org_id = $1 \
                           AND n.created_at > COALESCE((SELECT s.seen_at FROM notifications_seen s WHERE s.user_id = $2), $3)";
        let epoch = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL).bind(org_id).bind(user_id).bind(epoch).fetch_one(p).await?),
        )
    }

    async fn mark_notifications_seen(&self, user_id: i64, at: DateTime<Utc>) -> Result<()> {
        const SQL: &str = "INSERT INTO notifications_seen (user_id, seen_at) VALUES ($1, $2) \
                           ON CONFLICT (user_id) DO UPDATE SET seen_at = excluded.seen_at";
        on_pool!(self, p, DB => { sqlx::query::<DB>(SQL).bind(user_id).bind(at).execute(p).await?; });
        Ok(())
    }
}
