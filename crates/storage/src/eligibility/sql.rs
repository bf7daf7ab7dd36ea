//! [`EligibilityStore`] on SQL.

use super::{
    AssignedMember, BatchCounts, BatchFile, BatchRecord, CareGapInputs, Coverage, CoverageSpan,
    EligibilityFound, EligibilityLookup, EligibilityStore, MemberKey, NewBatch, ServiceFact,
};
use crate::pool::SqlStore;
use crate::rows::{MemberRow, decode, member_id, npi, split_list, tin};
use crate::scope::{Owner, Tins};
use crate::sql::INSERT_CHUNK;
use crate::{Result, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use domain::MemberId;
use domain::access::Scope;
use domain::eligibility::{NoticeLevel, PlanNotice};
use domain::member::{EligibilitySpan, Member, Sex, SpanState};
use domain::plan::{LineOfBusiness, NetworkKind};
use sqlx::QueryBuilder;

#[derive(sqlx::FromRow)]
struct EligRow {
    provider_tin: Option<String>,
    id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    birth_date: Option<NaiveDate>,
    sex: Option<String>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    line_of_business: Option<String>,
    network: Option<String>,
    pcp_npi: Option<String>,
    network_name: Option<String>,
    network_kind: Option<String>,
    network_phone: Option<String>,
    pcp_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    code: String,
    level: String,
    title: String,
    body: String,
    line_of_business: Option<String>,
    network: Option<String>,
    network_kind: Option<String>,
    span_state: Option<String>,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
}

impl NoticeRow {
    fn into_notice(self) -> Result<PlanNotice> {
        Ok(PlanNotice {
            code: self.code,
            level: decode("plan_notices.level", &self.level, NoticeLevel::from_code)?,
            title: self.title,
            body: self.body,
            line_of_business: self
                .line_of_business
                .map(|l| {
                    decode(
                        "plan_notices.line_of_business",
                        &l,
                        LineOfBusiness::from_code,
                    )
                })
                .transpose()?,
            network: self.network,
            network_kind: self
                .network_kind
                .map(|k| decode("plan_notices.network_kind", &k, NetworkKind::from_code))
                .transpose()?,
            span_state: self
                .span_state
                .map(|s| decode("plan_notices.span_state", &s, SpanState::from_code))
                .transpose()?,
            effective_from: self.effective_from,
            effective_to: self.effective_to,
        })
    }
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

#[async_trait::async_trait]
impl EligibilityStore for SqlStore {
    async fn eligibility(&self, q: &EligibilityLookup) -> Result<EligibilityFound> {
        // One statement: the provider (a one-row anchor so that it is read even when no member
        // matches), the member(s), their spans, each span's network and PCP.
        const HEAD: &str = "SELECT p.tin AS provider_tin, m.id, m.first_name, m.last_name, m.birth_date, m.sex, \
            s.start_date, s.end_date, s.line_of_business, s.network, s.pcp_npi, \
            n.name AS network_name, n.kind AS network_kind, n.phone AS network_phone, pcp.name AS pcp_name \
            FROM (SELECT CAST($1 AS TEXT) AS npi) q \
            LEFT JOIN providers p ON p.npi = q.npi ";
        const TAIL: &str = " LEFT JOIN eligibility_spans s ON s.member_id = m.id \
            LEFT JOIN networks n ON n.code = s.network \
            LEFT JOIN providers pcp ON pcp.npi = s.pcp_npi \
            ORDER BY m.id, s.start_date LIMIT 500";
        let asking = q.provider.map(|n| n.as_str().to_string());
        let rows: Vec<EligRow> = on_pool!(self, p, DB => {
            match &q.member {
                MemberKey::Id(id) => {
                    let sql = format!("{HEAD}LEFT JOIN members m ON m.id = $2{TAIL}");
                    sqlx::query_as::<DB, EligRow>(sqlx::AssertSqlSafe(sql))
                        .bind(asking).bind(id.as_str()).fetch_all(p).await?
                }
                MemberKey::NameBirth { last_name, birth_date } => {
                    let sql = format!("{HEAD}LEFT JOIN members m ON m.name_key = $2 AND m.birth_date = $3{TAIL}");
                    sqlx::query_as::<DB, EligRow>(sqlx::AssertSqlSafe(sql))
                        .bind(asking).bind(last_name.trim().to_lowercase()).bind(*birth_date).fetch_all(p).await?
                }
            }
        });
        let mut found = EligibilityFound::default();
        for r in rows {
            if found.provider_tin.is_none()
                && let Some(t) = &r.provider_tin
            {
                found.provider_tin = Some(tin("providers.tin", t)?);
            }
            let (Some(id), Some(first), Some(last), Some(birth), Some(sex)) =
                (r.id, r.first_name, r.last_name, r.birth_date, r.sex)
            else {
                continue;
            };
            if found
                .members
                .last()
                .is_none_or(|c| c.member.id.as_str() != id)
            {
                if found.members.len() == 50 {
                    break;
                }
                found.members.push(Coverage {
                    member: Member {
                        id: member_id("members.id", &id)?,
                        first_name: first,
                        last_name: last,
                        birth_date: birth,
                        sex: decode("members.sex", &sex, Sex::from_code)?,
                    },
                    spans: Vec::new(),
                });
            }
            let (Some(start), Some(lob), Some(network)) =
                (r.start_date, r.line_of_business, r.network)
            else {
                continue;
            };
            let span = EligibilitySpan {
                start,
                end: r.end_date,
                line_of_business: decode(
                    "eligibility_spans.line_of_business",
                    &lob,
                    LineOfBusiness::from_code,
                )?,
                network,
                pcp: r
                    .pcp_npi
                    .as_deref()
                    .map(|n| npi("eligibility_spans.pcp_npi", n))
                    .transpose()?,
            };
            let kind = r.network_kind.unwrap_or_default();
            if let Some(c) = found.members.last_mut() {
                c.spans.push(CoverageSpan {
                    span,
                    network_name: r.network_name.unwrap_or_default(),
                    network_kind: decode("networks.kind", &kind, NetworkKind::from_code)?,
                    network_phone: r.network_phone.unwrap_or_default(),
                    pcp_name: r.pcp_name,
                });
            }
        }
        Ok(found)
    }

    async fn insert_plan_notices(&self, notices: &[PlanNotice]) -> Result<()> {
        on_pool!(self, p, DB => {
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

    async fn plan_notices(&self) -> Result<Vec<PlanNotice>> {
        const SQL: &str = "SELECT code, level, title, body, line_of_business, network, network_kind, span_state, effective_from, effective_to FROM plan_notices ORDER BY code";
        let rows: Vec<NoticeRow> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, NoticeRow>(SQL).fetch_all(p).await?);
        rows.into_iter().map(NoticeRow::into_notice).collect()
    }

    async fn care_gap_inputs(
        &self,
        scope: &Scope,
        on: NaiveDate,
        since: NaiveDate,
    ) -> Result<CareGapInputs> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(CareGapInputs::default());
        };
        let (members, facts): (Vec<AssignedRow>, Vec<FactRow>) = on_pool!(self, p, DB => {
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
    async fn member_care_facts(
        &self,
        id: &MemberId,
        on: NaiveDate,
        since: NaiveDate,
    ) -> Result<Vec<ServiceFact>> {
        const SQL: &str = "SELECT c.member_id, l.service_date, l.procedure, c.diagnoses FROM claims c JOIN claim_lines l ON l.claim_number = c.number \
                           WHERE c.member_id = $1 AND c.status <> 'rejected' AND l.service_date >= $2 AND l.service_date <= $3";
        let rows: Vec<FactRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, FactRow>(SQL).bind(id.as_str()).bind(since).bind(on).fetch_all(p).await?);
        rows.into_iter().map(FactRow::into_fact).collect()
    }

    /// Stores a batch result and removes results older than `purge_before` (every user's).
    async fn save_batch(&self, batch: &NewBatch, purge_before: DateTime<Utc>) -> Result<()> {
        const PURGE: &str = "DELETE FROM eligibility_batches WHERE created_at < $1";
        const INSERT: &str = "INSERT INTO eligibility_batches (id, user_id, created_at, filename, row_count, found, inactive, not_found, errors, member_ids, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let ids = batch
            .member_ids
            .iter()
            .map(MemberId::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let c = batch.counts;
        on_pool!(self, p, DB => {
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

    /// A batch of `user_id` created at or after `not_before`; `None` for anyone else's, an expired
    /// one or an unknown id (the same answer).
    async fn batch(
        &self,
        id: &str,
        user_id: i64,
        not_before: DateTime<Utc>,
    ) -> Result<Option<BatchFile>> {
        const SQL: &str = "SELECT id, user_id, created_at, filename, row_count, found, inactive, not_found, errors, member_ids, result FROM eligibility_batches WHERE id = $1 AND user_id = $2 AND created_at >= $3";
        let row: Option<BatchRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, BatchRow>(SQL).bind(id).bind(user_id).bind(not_before).fetch_optional(p).await?);
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
}
