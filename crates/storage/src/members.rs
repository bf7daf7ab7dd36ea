//! Members, their eligibility spans, and (apart) their contact details ([`MemberStore`]).

use crate::pool::SqlStore;
use crate::rows::{MemberRow, SpanRow, member_columns, member_id, span_columns};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, on_pool};
use chrono::NaiveDate;
use domain::MemberId;
use domain::member::{EligibilitySpan, Member, MemberContact};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Members with their eligibility history; their contact details apart, for the plan's own use.
#[async_trait::async_trait]
pub trait MemberStore: Send + Sync {
    async fn insert_members(&self, members: &[NewMember]) -> Result<()>;
    /// A member with their eligibility history (never their contact details).
    async fn member(&self, id: &MemberId) -> Result<Option<MemberRecord>>;
    /// Members with their eligibility spans, by ID (unknown IDs are left out), for batches.
    async fn members_by_ids(&self, ids: &[MemberId]) -> Result<Vec<MemberRecord>>;
    /// Members by last name (any case) and birth date.
    async fn find_members(&self, last_name: &str, birth_date: NaiveDate) -> Result<Vec<Member>>;
    /// Member IDs in ID order after `after` (plan-side tools: samples, benchmarks; never a
    /// page: a listing of members is not something an office may have).
    async fn member_ids(&self, after: Option<&MemberId>, limit: i64) -> Result<Vec<MemberId>>;
    /// The plan's own copy of a member's address and phone: for mailings, never for a page.
    async fn member_contact(&self, id: &MemberId) -> Result<Option<MemberContact>>;
}

/// A member to store, with their plan-only contact details and eligibility history.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub member: Member,
    pub contact: MemberContact,
    pub spans: Vec<EligibilitySpan>,
}

/// A member as read back for the portal: identity and eligibility, no contact details.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberRecord {
    pub member: Member,
    /// Oldest first.
    pub spans: Vec<EligibilitySpan>,
}

#[async_trait::async_trait]
impl MemberStore for SqlStore {
    async fn insert_members(&self, members: &[NewMember]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in members.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO members (id, first_name, last_name, name_key, birth_date, sex) ");
                q.push_values(chunk, |mut b, n| {
                    let m = &n.member;
                    b.push_bind(m.id.as_str()).push_bind(&m.first_name).push_bind(&m.last_name)
                        .push_bind(m.last_name.to_lowercase()).push_bind(m.birth_date).push_bind(m.sex.code());
                });
                q.build().execute(&mut *tx).await?;

                let mut q = QueryBuilder::<DB>::new("INSERT INTO member_contacts (member_id, street, city, zip, phone) ");
                q.push_values(chunk, |mut b, n| {
                    let c = &n.contact;
                    b.push_bind(n.member.id.as_str()).push_bind(&c.street).push_bind(&c.city).push_bind(&c.zip).push_bind(&c.phone);
                });
                q.build().execute(&mut *tx).await?;

                let spans: Vec<(&MemberId, &EligibilitySpan)> = chunk.iter().flat_map(|n| n.spans.iter().map(move |s| (&n.member.id, s))).collect();
                for spans in spans.chunks(INSERT_CHUNK) {
                    let mut q = QueryBuilder::<DB>::new("INSERT INTO eligibility_spans (member_id, start_date, end_date, line_of_business, network, pcp_npi) ");
                    q.push_values(spans, |mut b, (id, s)| {
                        b.push_bind(id.as_str()).push_bind(s.start).push_bind(s.end).push_bind(s.line_of_business.code())
                            .push_bind(&s.network).push_bind(s.pcp.map(|n| n.as_str().to_string()));
                    });
                    q.build().execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn member(&self, id: &MemberId) -> Result<Option<MemberRecord>> {
        const MEMBER: &str = concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1");
        const SPANS: &str = concat!(
            "SELECT ",
            span_columns!(),
            " FROM eligibility_spans WHERE member_id = $1 ORDER BY start_date"
        );
        let (row, spans): (Option<MemberRow>, Vec<SpanRow>) = on_pool!(self, p, DB => {
            let row = sqlx::query_as::<DB, MemberRow>(MEMBER).bind(id.as_str()).fetch_optional(p).await?;
            let spans = sqlx::query_as::<DB, SpanRow>(SPANS).bind(id.as_str()).fetch_all(p).await?;
            (row, spans)
        });
        let Some(row) = row else { return Ok(None) };
        Ok(Some(MemberRecord {
            member: row.into_member()?,
            spans: spans
                .into_iter()
                .map(SpanRow::into_span)
                .collect::<Result<_>>()?,
        }))
    }

    /// Members by ID with their spans (oldest first), in chunks of bound parameters; missing IDs
    /// are simply absent from the answer.
    async fn members_by_ids(&self, ids: &[MemberId]) -> Result<Vec<MemberRecord>> {
        let mut ids: Vec<String> = ids.iter().map(|m| m.as_str().to_string()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut members = Vec::new();
        let mut spans: Vec<SpanRow> = Vec::new();
        for chunk in ids.chunks(INSERT_CHUNK) {
            let (m, s): (Vec<MemberRow>, Vec<SpanRow>) = on_pool!(self, p, DB => {
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

    async fn find_members(&self, last_name: &str, birth_date: NaiveDate) -> Result<Vec<Member>> {
        const SQL: &str = concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE name_key = $1 AND birth_date = $2 ORDER BY id LIMIT 50"
        );
        let key = last_name.trim().to_lowercase();
        let rows: Vec<MemberRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, MemberRow>(SQL).bind(&key).bind(birth_date).fetch_all(p).await?);
        rows.into_iter().map(MemberRow::into_member).collect()
    }

    async fn member_ids(&self, after: Option<&MemberId>, limit: i64) -> Result<Vec<MemberId>> {
        const SQL: &str = "SELECT id FROM members WHERE id > $1 ORDER BY id LIMIT $2";
        let after = after.map(MemberId::as_str).unwrap_or("");
        let rows: Vec<String> = on_pool!(self, p, DB => sqlx::query_scalar::<DB, String>(SQL)
            .bind(after).bind(limit.clamp(1, 100_000)).fetch_all(p).await?);
        rows.iter().map(|id| member_id("members.id", id)).collect()
    }

    async fn member_contact(&self, id: &MemberId) -> Result<Option<MemberContact>> {
        const SQL: &str =
            "SELECT street, city, zip, phone FROM member_contacts WHERE member_id = $1";
        let row: Option<(String, String, String, String)> = on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(id.as_str()).fetch_optional(p).await?);
        Ok(row.map(|(street, city, zip, phone)| MemberContact {
            street,
            city,
            zip,
            phone,
        }))
    }
}
