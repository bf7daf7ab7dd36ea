//! Eligibility: plan notices, members and providers read in bulk (batch eligibility), batch
//! results kept for download, the care-gap inputs of an office's assigned members, and audit
//! entries appended many at a time.

use crate::error::corrupt;
use crate::members::MemberRecord;
use crate::plan::{decode, split_list};
use crate::pool::{INSERT_CHUNK, SqlStore};
use crate::{Result, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::eligibility::{NoticeLevel, PlanNotice};
use domain::member::{EligibilitySpan, Member, Sex, SpanState};
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

type MemberRow = (String, String, String, NaiveDate, String);
type SpanRow = (
    String,
    NaiveDate,
    Option<NaiveDate>,
    String,
    String,
    Option<String>,
);

fn member(column: &str, (id, first_name, last_name, birth_date, sex): MemberRow) -> Result<Member> {
    Ok(Member {
        id: MemberId::parse(&id).map_err(|e| corrupt(column, e))?,
        first_name,
        last_name,
        birth_date,
        sex: decode("members.sex", &sex, Sex::from_code)?,
    })
}

/// Members by ID with their spans (oldest first), in chunks of bound parameters; missing IDs
/// are simply absent from the answer.
pub(crate) async fn members_by_ids(
    store: &SqlStore,
    ids: &[MemberId],
) -> Result<Vec<MemberRecord>> {
    let mut ids: Vec<&str> = ids.iter().map(MemberId::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut members = Vec::new();
    let mut spans: Vec<SpanRow> = Vec::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let (m, s): (Vec<MemberRow>, Vec<SpanRow>) = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT id, first_name, last_name, birth_date, sex FROM members WHERE id IN (");
            let mut list = b.separated(", ");
            for id in chunk { list.push_bind(id.to_string()); }
            b.push(")");
            let m = b.build_query_as::<MemberRow>().fetch_all(p).await?;
            let mut b = QueryBuilder::<DB>::new("SELECT member_id, start_date, end_date, line_of_business, network, pcp_npi FROM eligibility_spans WHERE member_id IN (");
            let mut list = b.separated(", ");
            for id in chunk { list.push_bind(id.to_string()); }
            b.push(") ORDER BY member_id, start_date");
            let s = b.build_query_as::<SpanRow>().fetch_all(p).await?;
            (m, s)
        });
        members.extend(m);
        spans.extend(s);
    }
    let mut by_member: HashMap<String, Vec<EligibilitySpan>> = HashMap::new();
    for (id, start, end, lob, network, pcp) in spans {
        by_member.entry(id).or_default().push(EligibilitySpan {
            start,
            end,
            line_of_business: decode(
                "eligibility_spans.line_of_business",
                &lob,
                LineOfBusiness::from_code,
            )?,
            network,
            pcp: pcp
                .map(|n| Npi::parse(&n))
                .transpose()
                .map_err(|e| corrupt("eligibility_spans.pcp_npi", e))?,
        });
    }
    members
        .into_iter()
        .map(|row| {
            let m = member("members.id", row)?;
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

/// The TIN digits a scope allows (empty: nothing).
fn scope_tins(scope: &Scope) -> Vec<String> {
    match scope {
        Scope::Tins(t) => t.iter().map(|t| t.digits().to_string()).collect(),
        Scope::Nothing => Vec::new(),
    }
}

/// `eligibility_spans s` of the members whose PCP on `on` is under the scope's TINs: the
/// office scope of the care-gap worklist, in one place.
fn push_assigned<DB: sqlx::Database>(b: &mut QueryBuilder<DB>, tins: &[String], on: NaiveDate)
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push(" FROM eligibility_spans s JOIN providers pr ON pr.npi = s.pcp_npi WHERE pr.tin IN (");
    let mut list = b.separated(", ");
    for t in tins {
        list.push_bind(t.clone());
    }
    b.push(") AND s.start_date <= ")
        .push_bind(on)
        .push(" AND (s.end_date IS NULL OR s.end_date >= ")
        .push_bind(on)
        .push(")");
}

type AssignedRow = (String, String, String, NaiveDate, String, String);
type FactRow = (String, NaiveDate, String, String);

pub(crate) async fn care_gap_inputs(
    store: &SqlStore,
    scope: &Scope,
    on: NaiveDate,
    since: NaiveDate,
) -> Result<CareGapInputs> {
    let tins = scope_tins(scope);
    if tins.is_empty() {
        return Ok(CareGapInputs::default());
    }
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
        .map(|(id, first, last, birth, sex, pcp)| {
            Ok(AssignedMember {
                member: member("members.id", (id, first, last, birth, sex))?,
                pcp: Npi::parse(&pcp).map_err(|e| corrupt("eligibility_spans.pcp_npi", e))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let services = facts
        .into_iter()
        .map(|(id, date, procedure, diagnoses)| {
            Ok(ServiceFact {
                member: MemberId::parse(&id).map_err(|e| corrupt("claims.member_id", e))?,
                date,
                procedure,
                diagnoses: split_list(&diagnoses),
            })
        })
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
    rows.into_iter()
        .map(|(id, date, procedure, diagnoses)| {
            Ok(ServiceFact {
                member: MemberId::parse(&id).map_err(|e| corrupt("claims.member_id", e))?,
                date,
                procedure,
                diagnoses: split_list(&diagnoses),
            })
        })
        .collect()
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

type BatchRow = (
    String,
    i64,
    DateTime<Utc>,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
    Vec<u8>,
);

/// A batch of `user_id` created at or after `not_before`; `None` for anyone else's, an expired
/// one or an unknown id (the same answer).
pub(crate) async fn batch(
    store: &SqlStore,
    id: &str,
    user_id: i64,
    not_before: DateTime<Utc>,
) -> Result<Option<(BatchRecord, Vec<u8>)>> {
    const SQL: &str = "SELECT id, user_id, created_at, filename, row_count, found, inactive, not_found, errors, member_ids, result FROM eligibility_batches WHERE id = $1 AND user_id = $2 AND created_at >= $3";
    let row: Option<BatchRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, BatchRow>(SQL).bind(id).bind(user_id).bind(not_before).fetch_optional(p).await?);
    let Some((
        id,
        user_id,
        created_at,
        filename,
        rows,
        found,
        inactive,
        not_found,
        errors,
        ids,
        result,
    )) = row
    else {
        return Ok(None);
    };
    let member_ids = split_list(&ids)
        .iter()
        .map(|s| MemberId::parse(s).map_err(|e| corrupt("eligibility_batches.member_ids", e)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((
        BatchRecord {
            id,
            user_id,
            created_at,
            filename,
            counts: BatchCounts {
                rows,
                found,
                inactive,
                not_found,
                errors,
            },
            member_ids,
        },
        result,
    )))
}
