//! Members, their eligibility spans, and (apart) their contact details.

use crate::error::corrupt;
use crate::plan::decode;
use crate::pool::{INSERT_CHUNK, SqlStore};
use crate::{Result, on_pool};
use chrono::NaiveDate;
use domain::member::{EligibilitySpan, Member, MemberContact, Sex};
use domain::plan::LineOfBusiness;
use domain::{MemberId, Npi};
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

type MemberRow = (String, String, String, NaiveDate, String);

fn member_from_row((id, first_name, last_name, birth_date, sex): MemberRow) -> Result<Member> {
    Ok(Member {
        id: MemberId::parse(&id).map_err(|e| corrupt("members.id", e))?,
        first_name,
        last_name,
        birth_date,
        sex: decode("members.sex", &sex, Sex::from_code)?,
    })
}

/// `start_date`, `end_date`, `line_of_business`, `network`, `pcp_npi` as stored.
type SpanRow = (NaiveDate, Option<NaiveDate>, String, String, Option<String>);

pub(crate) async fn get(store: &SqlStore, id: &MemberId) -> Result<Option<MemberRecord>> {
    const MEMBER: &str =
        "SELECT id, first_name, last_name, birth_date, sex FROM members WHERE id = $1";
    const SPANS: &str = "SELECT start_date, end_date, line_of_business, network, pcp_npi FROM eligibility_spans WHERE member_id = $1 ORDER BY start_date";
    let (row, spans): (Option<MemberRow>, Vec<SpanRow>) = on_pool!(store, p, DB => {
        let row = sqlx::query_as::<DB, MemberRow>(MEMBER).bind(id.as_str()).fetch_optional(p).await?;
        let spans = sqlx::query_as::<DB, _>(SPANS).bind(id.as_str()).fetch_all(p).await?;
        (row, spans)
    });
    let Some(row) = row else { return Ok(None) };
    let spans = spans
        .into_iter()
        .map(|(start, end, lob, network, pcp)| {
            Ok(EligibilitySpan {
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
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(MemberRecord {
        member: member_from_row(row)?,
        spans,
    }))
}

pub(crate) async fn find(
    store: &SqlStore,
    last_name: &str,
    birth_date: NaiveDate,
) -> Result<Vec<Member>> {
    const SQL: &str = "SELECT id, first_name, last_name, birth_date, sex FROM members WHERE name_key = $1 AND birth_date = $2 ORDER BY id LIMIT 50";
    let key = last_name.trim().to_lowercase();
    let rows: Vec<MemberRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, MemberRow>(SQL).bind(&key).bind(birth_date).fetch_all(p).await?);
    rows.into_iter().map(member_from_row).collect()
}

pub(crate) async fn ids(
    store: &SqlStore,
    after: Option<&MemberId>,
    limit: i64,
) -> Result<Vec<MemberId>> {
    const SQL: &str = "SELECT id FROM members WHERE id > $1 ORDER BY id LIMIT $2";
    let after = after.map(MemberId::as_str).unwrap_or("");
    let rows: Vec<String> = on_pool!(store, p, DB => sqlx::query_scalar::<DB, String>(SQL)
        .bind(after).bind(limit.clamp(1, 100_000)).fetch_all(p).await?);
    rows.iter()
        .map(|id| MemberId::parse(id).map_err(|e| corrupt("members.id", e)))
        .collect()
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
