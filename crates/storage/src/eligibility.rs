//! Eligibility: plan notices, members and providers read in bulk (batch eligibility), batch
//! results kept for download, the care-gap inputs of an office's assigned members, and audit
//! entries appended many at a time.

use crate::members::MemberRecord;
use crate::pool::SqlStore;
use crate::rows::{
    MemberRow, SpanRow, decode, member_columns, member_id, npi, span_columns, split_list,
};
use crate::scope::{Owner, Tins};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::eligibility::{NoticeLevel, PlanNotice};
use domain::member::{EligibilitySpan, Member, SpanState};
use domain::plan::{LineOfBusiness, NetworkKind};
use domain::provider::Provider;
use domain::{MemberId, Npi};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// A member whose PCP on the span covering the day is a provider under one of the scope's TINs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedMember {
    pub member: Member,
    pub pcp: Npi,
}

/// One claim line of an assigned member: date of service, procedure and the claim's diagnoses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFact {
    pub member: MemberId,
    pub date: NaiveDate,
    pub procedure: String,
    pub diagnoses: Vec<String>,
}

/// What the care-gap rules need for an office: its assigned members (by name) and their claim
/// lines since a day (any billing provider: the PCP is responsible for the member's care).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CareGapInputs {
    pub members: Vec<AssignedMember>,
    pub services: Vec<ServiceFact>,
}

/// How a batch's rows came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub rows: i64,
    pub found: i64,
    pub inactive: i64,
    pub not_found: i64,
    pub errors: i64,
}

/// A batch eligibility result to keep for its uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBatch {
    /// Random, unguessable (also in the download link).
    pub id: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub filename: String,
    pub counts: BatchCounts,
    /// Members the result names (audited again on each download).
    pub member_ids: Vec<MemberId>,
    /// The result CSV.
    pub result: Vec<u8>,
}

/// A stored batch without its CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub id: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub filename: String,
    pub counts: BatchCounts,
    pub member_ids: Vec<MemberId>,
}

/// A stored batch with its result CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFile {
    pub record: BatchRecord,
    pub csv: Vec<u8>,
}

pub(crate) async fn insert_notices(store: &SqlStore, notices: &[PlanNotice]) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        for chunk in notices.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<DB>::new("INSERT INTO plan_notices (code, level, title, body, line_of_business, network, network_kind, span_state, effective_from, effective_to) ");
            q.push_values(chunk, |mut b, n| {
                b.push_bind(&n.code).push_bind(n.level.code()).push_bind(&n.title).push_bind(&n.body)
                    .push_bind(n.line_of_business.map(|l| l.code())).push_bind(n.network.clone())
                    .push_bind(n.network_kind.map(|k| k.code())).push_bind(n.span_state.map(|s| s.code()))
                    .push_bind(n.effective_from).push_bind(n.effective_to);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

type NoticeRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDate,
    Option<NaiveDate>,
);

pub(crate) async fn notices(store: &SqlStore) -> Result<Vec<PlanNotice>> {
    const SQL: &str = "SELECT code, level, title, body, line_of_business, network, network_kind, span_state, effective_from, effective_to FROM plan_notices ORDER BY code";
    let rows: Vec<NoticeRow> =
        on_pool!(store, p, DB => sqlx::query_as::<DB, NoticeRow>(SQL).fetch_all(p).await?);
    rows.into_iter()
        .map(
            |(code, level, title, body, lob, network, kind, state, from, to)| {
                Ok(PlanNotice {
                    code,
                    level: decode("plan_notices.level", &level, NoticeLevel::from_code)?,
                    title,
                    body,
                    line_of_business: lob
                        .map(|l| {
                            decode(
                                "plan_notices.line_of_business",
                                &l,
                                LineOfBusiness::from_code,
                            )
                        })
                        .transpose()?,
                    network,
                    network_kind: kind
                        .map(|k| decode("plan_notices.network_kind", &k, NetworkKind::from_code))
                        .transpose()?,
                    span_state: state
                        .map(|s| decode("plan_notices.span_state", &s, SpanState::from_code))
                        .transpose()?,
                    effective_from: from,
                    effective_to: to,
                })
            },
        )
        .collect()
}

/// Members by ID with their spans (oldest first), in chunks of bound parameters; missing IDs
/// are simply absent from the answer.
pub(crate) async fn members_by_ids(
    store: &SqlStore,
    ids: &[MemberId],
) -> Result<Vec<MemberRecord>> {
    let mut ids: Vec<String> = ids.iter().map(|m| m.as_str().to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut members = Vec::new();
    let mut spans: Vec<SpanRow> = Vec::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let (m, s): (Vec<MemberRow>, Vec<SpanRow>) = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new(concat!("SELECT ", member_columns!(), " FROM members WHERE id"));
            push_in(&mut b, chunk);
            let m = b.build_query_as::<MemberRow>().fetch_all(p).await?;
            let mut b = QueryBuilder::<DB>::new(concat!("SELECT ", span_columns!(), " FROM eligibility_spans WHERE member_id"));
            push_in(&mut b, chunk);
            b.push(" ORDER BY member_id, start_date");
            let s = b.build_query_as::<SpanRow>().fetch_all(p).await?;
            (m, s)
        });
        members.extend(m);
        spans.extend(s);
    }
    let mut by_member: HashMap<String, Vec<EligibilitySpan>> = HashMap::new();
    for s in spans {
        by_member
            .entry(s.member_id.clone())
            .or_default()
            .push(s.into_span()?);
    }
    members
        .into_iter()
        .map(|row| {
            let m = row.into_member()?;
            let spans = by_member.remove(m.id.as_str()).unwrap_or_default();
            Ok(MemberRecord { member: m, spans })
        })
        .collect()
}

/// Providers by NPI, in one query per chunk.
pub(crate) async fn providers_by_npi(store: &SqlStore, npis: &[Npi]) -> Result<Vec<Provider>> {
    let mut npis: Vec<String> = npis.iter().map(|n| n.as_str().to_string()).collect();
    npis.sort_unstable();
    npis.dedup();
    let mut out = Vec::new();
    for chunk in npis.chunks(INSERT_CHUNK) {
        let found = crate::plan::providers_in(store, chunk).await?;
        out.extend(found);
    }
    Ok(out)
}

/// `eligibility_spans s` of the members whose PCP on `on` is under the scope's TINs: the
/// care-gap worklist's assignment, on top of the office scope.
fn push_assigned<DB: sqlx::Database>(b: &mut QueryBuilder<DB>, tins: &Tins, on: NaiveDate)
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push(" FROM eligibility_spans s");
    tins.push(b, Owner::Span);
    b.push(" AND s.start_date <= ")
        .push_bind(on)
        .push(" AND (s.end_date IS NULL OR s.end_date >= ")
        .push_bind(on)
        .push(")");
}

#[derive(sqlx::FromRow)]
struct AssignedRow {
    #[sqlx(flatten)]
    member: MemberRow,
    pcp_npi: String,
}

/// One claim line of a member: `member_id, service_date, procedure, diagnoses`.
#[derive(sqlx::FromRow)]
struct FactRow {
    member_id: String,
    service_date: NaiveDate,
    procedure: String,
    diagnoses: String,
}

impl FactRow {
    fn into_fact(self) -> Result<ServiceFact> {
        Ok(ServiceFact {
            member: member_id("claims.member_id", &self.member_id)?,
            date: self.service_date,
            procedure: self.procedure,
            diagnoses: split_list(&self.diagnoses),
        })
    }
}

pub(crate) async fn care_gap_inputs(
    store: &SqlStore,
    scope: &Scope,
    on: NaiveDate,
    since: NaiveDate,
) -> Result<CareGapInputs> {
    let Some(tins) = Tins::of(scope) else {
        return Ok(CareGapInputs::default());
    };
    let (members, facts): (Vec<AssignedRow>, Vec<FactRow>) = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new("SELECT m.id, m.first_name, m.last_name, m.birth_date, m.sex, a.pcp_npi FROM members m JOIN (SELECT s.member_id, s.pcp_npi");
        push_assigned(&mut b, &tins, on);
        b.push(") a ON a.member_id = m.id ORDER BY m.last_name, m.first_name, m.id");
        let members = b.build_query_as::<AssignedRow>().fetch_all(p).await?;
        let mut b = QueryBuilder::<DB>::new("SELECT c.member_id, l.service_date, l.procedure, c.diagnoses FROM claims c JOIN claim_lines l ON l.claim_number = c.number WHERE c.member_id IN (SELECT s.member_id");
        push_assigned(&mut b, &tins, on);
        b.push(") AND c.status <> 'rejected' AND l.service_date >= ").push_bind(since)
            .push(" AND l.service_date <= ").push_bind(on);
        let facts = b.build_query_as::<FactRow>().fetch_all(p).await?;
        (members, facts)
    });
    let members = members
        .into_iter()
        .map(|r| {
            Ok(AssignedMember {
                member: r.member.into_member()?,
                pcp: npi("eligibility_spans.pcp_npi", &r.pcp_npi)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let services = facts
        .into_iter()
        .map(FactRow::into_fact)
        .collect::<Result<Vec<_>>>()?;
    Ok(CareGapInputs { members, services })
}

/// One member's claim lines from `since` to `on` (rejected claims left out), for the care-gap
/// count shown with their eligibility.
pub(crate) async fn member_facts(
    store: &SqlStore,
    id: &MemberId,
    on: NaiveDate,
    since: NaiveDate,
) -> Result<Vec<ServiceFact>> {
    const SQL: &str = "SELECT c.member_id, l.service_date, l.procedure, c.diagnoses FROM claims c JOIN claim_lines l ON l.claim_number = c.number \
                       WHERE c.member_id = $1 AND c.status <> 'rejected' AND l.service_date >= $2 AND l.service_date <= $3";
    let rows: Vec<FactRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, FactRow>(SQL).bind(id.as_str()).bind(since).bind(on).fetch_all(p).await?);
    rows.into_iter().map(FactRow::into_fact).collect()
}

/// Stores a batch result and removes results older than `purge_before` (every user's).
pub(crate) async fn save_batch(
    store: &SqlStore,
    batch: &NewBatch,
    purge_before: DateTime<Utc>,
) -> Result<()> {
    const PURGE: &str = "DELETE FROM eligibility_batches WHERE created_at < $1";
    const INSERT: &str = "INSERT INTO eligibility_batches (id, user_id, created_at, filename, row_count, found, inactive, not_found, errors, member_ids, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    let ids = batch
        .member_ids
        .iter()
        .map(MemberId::as_str)
        .collect::<Vec<_>>()
        .join(",");
    let c = batch.counts;
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        sqlx::query::<DB>(PURGE).bind(purge_before).execute(&mut *tx).await?;
        sqlx::query::<DB>(INSERT)
            .bind(&batch.id).bind(batch.user_id).bind(batch.created_at).bind(&batch.filename)
            .bind(c.rows).bind(c.found).bind(c.inactive).bind(c.not_found).bind(c.errors)
            .bind(&ids).bind(&batch.result)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: String,
    user_id: i64,
    created_at: DateTime<Utc>,
    filename: String,
    row_count: i64,
    found: i64,
    inactive: i64,
    not_found: i64,
    errors: i64,
    member_ids: String,
    result: Vec<u8>,
}

/// A batch of `user_id` created at or after `not_before`; `None` for anyone else's, an expired
/// one or an unknown id (the same answer).
pub(crate) async fn batch(
    store: &SqlStore,
    id: &str,
    user_id: i64,
    not_before: DateTime<Utc>,
) -> Result<Option<BatchFile>> {
    const SQL: &str = "SELECT id, user_id, created_at, filename, row_count, found, inactive, not_found, errors, member_ids, result FROM eligibility_batches WHERE id = $1 AND user_id = $2 AND created_at >= $3";
    let row: Option<BatchRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, BatchRow>(SQL).bind(id).bind(user_id).bind(not_before).fetch_optional(p).await?);
    let Some(r) = row else {
        return Ok(None);
    };
    let member_ids = split_list(&r.member_ids)
        .iter()
        .map(|s| member_id("eligibility_batches.member_ids", s))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(BatchFile {
        record: BatchRecord {
            id: r.id,
            user_id: r.user_id,
            created_at: r.created_at,
            filename: r.filename,
            counts: BatchCounts {
                rows: r.row_count,
                found: r.found,
                inactive: r.inactive,
                not_found: r.not_found,
                errors: r.errors,
            },
            member_ids,
        },
        csv: r.result,
    }))
}
