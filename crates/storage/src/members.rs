//! Members, their eligibility spans, and (apart) their contact details.

use crate::pool::SqlStore;
use crate::rows::{MemberRow, SpanRow, member_columns, span_columns};
use crate::sql::INSERT_CHUNK;
use crate::{Result, on_pool};
use chrono::NaiveDate;
use domain::MemberId;
use domain::member::{EligibilitySpan, Member, MemberContact};
use sqlx::QueryBuilder;

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

pub(crate) async fn insert(store: &SqlStore, members: &[NewMember]) -> Result<()> {
    on_pool!(store, p, DB => {
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

pub(crate) async fn get(store: &SqlStore, id: &MemberId) -> Result<Option<MemberRecord>> {
    const MEMBER: &str = concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1");
    const SPANS: &str = concat!(
        "SELECT ",
        span_columns!(),
        " FROM eligibility_spans WHERE member_id = $1 ORDER BY start_date"
    );
    let (row, spans): (Option<MemberRow>, Vec<SpanRow>) = on_pool!(store, p, DB => {
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

pub(crate) async fn find(
    store: &SqlStore,
    last_name: &str,
    birth_date: NaiveDate,
) -> Result<Vec<Member>> {
    const SQL: &str = concat!(
        "SELECT ",
        member_columns!(),
        " FROM members WHERE name_key = $1 AND birth_date = $2 ORDER BY id LIMIT 50"
    );
    let key = last_name.trim().to_lowercase();
    let rows: Vec<MemberRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, MemberRow>(SQL).bind(&key).bind(birth_date).fetch_all(p).await?);
    rows.into_iter().map(MemberRow::into_member).collect()
}

pub(crate) async fn contact(store: &SqlStore, id: &MemberId) -> Result<Option<MemberContact>> {
    const SQL: &str = "SELECT street, city, zip, phone FROM member_contacts WHERE member_id = $1";
    let row: Option<(String, String, String, String)> = on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(id.as_str()).fetch_optional(p).await?);
    Ok(row.map(|(street, city, zip, phone)| MemberContact {
        street,
        city,
        zip,
        phone,
    }))
}
