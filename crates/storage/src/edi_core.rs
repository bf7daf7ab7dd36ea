//! Reads for real-time EDI (270/271 eligibility, 276/277 claim status): each answer is read in
//! one round trip, because a partner's real-time request waits on it.

use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{claim_number, decode, member_id, npi, split_list, tin};
use crate::scope::{Owner, Tins};
use crate::{ClaimQuery, Result, on_pool};
use chrono::NaiveDate;
use domain::access::Scope;
use domain::claim::{ClaimForm, ClaimStatus, PaymentRef};
use domain::member::{EligibilitySpan, Member, Sex};
use domain::plan::{LineOfBusiness, NetworkKind};
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use sqlx::QueryBuilder;

/// How a 270 names the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberKey {
    Id(MemberId),
    /// Last name (any case) and birth date; the caller narrows by first name.
    NameBirth {
        last_name: String,
        birth_date: NaiveDate,
    },
}

/// One eligibility lookup: the member, and the provider asking (to check whom the partner
/// acts for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityLookup {
    pub provider: Option<Npi>,
    pub member: MemberKey,
}

/// A span with what a 271 says about it: the network's name and kind and the PCP's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageSpan {
    pub span: EligibilitySpan,
    pub network_name: String,
    pub network_kind: NetworkKind,
    /// The network's provider services line (never the member's phone).
    pub network_phone: String,
    pub pcp_name: Option<String>,
}

/// A member with their coverage, oldest span first. No contact details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub member: Member,
    pub spans: Vec<CoverageSpan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EligibilityFound {
    /// The asking provider's TIN, when the NPI is in the directory.
    pub provider_tin: Option<Tin>,
    /// At most 50 members (a name and birth date may match several).
    pub members: Vec<Coverage>,
}

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

pub(crate) async fn eligibility(
    store: &SqlStore,
    q: &EligibilityLookup,
) -> Result<EligibilityFound> {
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
    let rows: Vec<EligRow> = on_pool!(store, p, DB => {
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
        let (Some(start), Some(lob), Some(network)) = (r.start_date, r.line_of_business, r.network)
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

/// A claim as a 277 reports it: header, member's name, payment and lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimStatusRecord {
    pub number: ClaimNumber,
    pub form: ClaimForm,
    pub patient_account: String,
    pub member: MemberId,
    pub member_first: String,
    pub member_last: String,
    pub billing_npi: Npi,
    pub received: NaiveDate,
    pub status: ClaimStatus,
    pub payment: Option<PaymentRef>,
    pub lines: Vec<LineStatusRecord>,
}

impl ClaimStatusRecord {
    pub fn billed(&self) -> Cents {
        self.lines.iter().map(|l| l.billed).sum()
    }
    pub fn paid(&self) -> Cents {
        self.lines.iter().map(|l| l.paid).sum()
    }
    pub fn service_from(&self) -> Option<NaiveDate> {
        self.lines.iter().map(|l| l.service_date).min()
    }
    pub fn service_to(&self) -> Option<NaiveDate> {
        self.lines.iter().map(|l| l.service_date).max()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineStatusRecord {
    pub line_number: u16,
    pub procedure: String,
    pub modifiers: Vec<String>,
    pub revenue_code: Option<String>,
    pub units: u32,
    pub service_date: NaiveDate,
    pub billed: Cents,
    pub paid: Cents,
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    number: String,
    form: String,
    patient_account: String,
    member_id: String,
    first_name: String,
    last_name: String,
    billing_npi: String,
    received: NaiveDate,
    status: String,
    payment_number: Option<String>,
    payment_date: Option<NaiveDate>,
    line_number: i64,
    procedure: String,
    modifiers: String,
    revenue_code: Option<String>,
    units: i64,
    service_date: NaiveDate,
    billed: i64,
    paid: i64,
}

pub(crate) async fn claim_statuses(
    store: &SqlStore,
    scope: &Scope,
    query: &ClaimQuery,
) -> Result<Vec<ClaimStatusRecord>> {
    let Some(tins) = Tins::of(scope) else {
        return Ok(Vec::new());
    };
    const FIRST_DOS: &str =
        "(SELECT MIN(l2.service_date) FROM claim_lines l2 WHERE l2.claim_number = c.number)";
    let rows: Vec<StatusRow> = on_pool!(store, p, DB => {
        // The claims picked (scoped, filtered, newest first, limited), then their lines.
        let mut b = QueryBuilder::<DB>::new("WITH picked AS (SELECT c.number, c.received FROM claims c");
        tins.push(&mut b, Owner::Claim);
        if let Some(n) = &query.number {
            b.push(" AND c.number = ").push_bind(n.as_str().to_string());
        }
        if let Some(a) = &query.patient_account {
            b.push(" AND c.patient_account = ").push_bind(a.clone());
        }
        if let Some(m) = &query.member {
            b.push(" AND c.member_id = ").push_bind(m.as_str().to_string());
        }
        if let Some(d) = query.service_from {
            b.push(" AND ").push(FIRST_DOS).push(" >= ").push_bind(d);
        }
        if let Some(d) = query.service_to {
            b.push(" AND ").push(FIRST_DOS).push(" <= ").push_bind(d);
        }
        b.push(" ORDER BY c.received DESC, c.number DESC LIMIT ").push_bind(query.limit.clamp(1, 100));
        b.push(") SELECT c.number, c.form, c.patient_account, c.member_id, m.first_name, m.last_name, c.billing_npi, \
                c.received, c.status, c.payment_number, c.payment_date, l.line_number, l.procedure, l.modifiers, \
                l.revenue_code, l.units, l.service_date, l.billed, l.paid \
                FROM picked JOIN claims c ON c.number = picked.number JOIN members m ON m.id = c.member_id \
                JOIN claim_lines l ON l.claim_number = c.number \
                ORDER BY picked.received DESC, c.number DESC, l.line_number");
        b.build_query_as::<StatusRow>().fetch_all(p).await?
    });
    let mut out: Vec<ClaimStatusRecord> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|c| c.number.as_str() != r.number) {
            out.push(ClaimStatusRecord {
                number: claim_number("claims.number", &r.number)?,
                form: decode("claims.form", &r.form, ClaimForm::from_code)?,
                patient_account: r.patient_account,
                member: member_id("claims.member_id", &r.member_id)?,
                member_first: r.first_name,
                member_last: r.last_name,
                billing_npi: npi("claims.billing_npi", &r.billing_npi)?,
                received: r.received,
                status: decode("claims.status", &r.status, ClaimStatus::from_code)?,
                payment: match (r.payment_number, r.payment_date) {
                    (Some(number), Some(date)) => Some(PaymentRef { number, date }),
                    _ => None,
                },
                lines: Vec::new(),
            });
        }
        if let Some(c) = out.last_mut() {
            c.lines.push(LineStatusRecord {
                line_number: u16::try_from(r.line_number)
                    .map_err(|e| corrupt("claim_lines.line_number", e))?,
                procedure: r.procedure,
                modifiers: split_list(&r.modifiers),
                revenue_code: r.revenue_code,
                units: u32::try_from(r.units).map_err(|e| corrupt("claim_lines.units", e))?,
                service_date: r.service_date,
                billed: Cents(r.billed),
                paid: Cents(r.paid),
            });
        }
    }
    Ok(out)
}
