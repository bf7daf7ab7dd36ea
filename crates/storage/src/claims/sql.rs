//! [`ClaimStore`] on SQL: the office's reads go through the scope (`Owner::Claim`).

use super::load::{insert_claims_in, load_many};
use super::{ClaimQuery, ClaimStatusRecord, ClaimStore, ClaimSummary, LineStatusRecord};
use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{claim_number, decode, member_id, npi, split_list};
use crate::scope::{Owner, Tins};
use crate::{Result, on_pool};
use chrono::NaiveDate;
use domain::access::Scope;
use domain::claim::{Claim, ClaimForm, ClaimStatus, PaymentRef};
use domain::{Cents, ClaimNumber};
use sqlx::QueryBuilder;

#[derive(sqlx::FromRow)]
struct SummaryRow {
    number: String,
    member_id: String,
    first_name: String,
    last_name: String,
    billing_npi: String,
    received: NaiveDate,
    service_from: NaiveDate,
    status: String,
    billed: i64,
    paid: i64,
    patient_account: String,
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

#[async_trait::async_trait]
impl ClaimStore for SqlStore {
    async fn insert_claims(&self, claims: &[Claim]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            insert_claims_in!(tx, claims, DB);
            tx.commit().await?;
        });
        Ok(())
    }

    async fn claim(&self, number: &ClaimNumber) -> Result<Option<Claim>> {
        Ok(load_many(self, &[number.as_str().to_string()]).await?.pop())
    }

    async fn claims_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<ClaimSummary>> {
        self.search_claims(
            scope,
            &ClaimQuery {
                limit,
                ..ClaimQuery::default()
            },
        )
        .await
    }

    async fn claim_in_scope(&self, number: &ClaimNumber, scope: &Scope) -> Result<Option<Claim>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(None);
        };
        let visible: Option<String> = on_pool!(self, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT c.number FROM claims c");
            tins.push(&mut b, Owner::Claim);
            b.push(" AND c.number = ").push_bind(number.as_str().to_string());
            b.build_query_scalar::<String>().fetch_optional(p).await?
        });
        match visible {
            Some(_) => self.claim(number).await,
            None => Ok(None),
        }
    }

    async fn search_claims(&self, scope: &Scope, query: &ClaimQuery) -> Result<Vec<ClaimSummary>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(Vec::new());
        };
        // The first date of service, computed once per claim and filtered on.
        const FIRST_DOS: &str =
            "(SELECT MIN(l.service_date) FROM claim_lines l WHERE l.claim_number = c.number)";
        let rows: Vec<SummaryRow> = on_pool!(self, p, DB => {
            let mut b = QueryBuilder::<DB>::new(
                "SELECT c.number, c.member_id, m.first_name, m.last_name, c.billing_npi, c.received, c.status, c.patient_account, ");
            b.push(FIRST_DOS).push(" AS service_from, \
                 (SELECT CAST(COALESCE(SUM(l.billed), 0) AS BIGINT) FROM claim_lines l WHERE l.claim_number = c.number) AS billed, \
                 (SELECT CAST(COALESCE(SUM(l.paid), 0) AS BIGINT) FROM claim_lines l WHERE l.claim_number = c.number) AS paid \
                 FROM claims c JOIN members m ON m.id = c.member_id");
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
            b.push(" ORDER BY c.received DESC, c.number DESC LIMIT ").push_bind(query.limit.clamp(1, 10_000));
            b.build_query_as::<SummaryRow>().fetch_all(p).await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ClaimSummary {
                    number: claim_number("claims.number", &r.number)?,
                    member: member_id("claims.member_id", &r.member_id)?,
                    member_name: format!("{} {}", r.first_name, r.last_name),
                    billing_npi: npi("claims.billing_npi", &r.billing_npi)?,
                    received: r.received,
                    service_from: r.service_from,
                    status: decode("claims.status", &r.status, ClaimStatus::from_code)?,
                    billed: Cents(r.billed),
                    paid: Cents(r.paid),
                    patient_account: r.patient_account,
                })
            })
            .collect()
    }

    async fn claim_statuses(
        &self,
        scope: &Scope,
        query: &ClaimQuery,
    ) -> Result<Vec<ClaimStatusRecord>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(Vec::new());
        };
        const FIRST_DOS: &str =
            "(SELECT MIN(l2.service_date) FROM claim_lines l2 WHERE l2.claim_number = c.number)";
        let rows: Vec<StatusRow> = on_pool!(self, p, DB => {
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
}
