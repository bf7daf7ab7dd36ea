//! Whole claims in and out: the one claim insert (batch loading and 837 intake share it, inside
//! their own transactions) and loading claims with their lines and adjustments by number.

use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{claim_number, decode, member_id, npi, split_list};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, on_pool};
use chrono::NaiveDate;
use domain::Cents;
use domain::claim::{
    Adjustment, AdjustmentGroup, Claim, ClaimForm, ClaimLine, ClaimStatus, PaymentRef,
};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Inserts claims with their lines and adjustments inside an open transaction `$tx` of backend
/// `$DB`, in chunks: the one claim insert, shared by batch loading and 837 intake (whose own
/// transaction also holds the interchange record).
macro_rules! insert_claims_in {
    ($tx:ident, $claims:expr, $DB:ty) => {{
        let claims: &[domain::claim::Claim] = $claims;
        for chunk in claims.chunks(crate::sql::INSERT_CHUNK) {
            let mut q = sqlx::QueryBuilder::<$DB>::new(
                "INSERT INTO claims (number, form, patient_account, member_id, billing_npi, rendering_npi, diagnoses, place_of_service, received, status, payment_number, payment_date) ",
            );
            q.push_values(chunk, |mut b, c| {
                b.push_bind(c.number.as_str()).push_bind(c.form.code()).push_bind(&c.patient_account).push_bind(c.member.as_str())
                    .push_bind(c.billing_npi.as_str().to_string()).push_bind(c.rendering_npi.map(|n| n.as_str().to_string()))
                    .push_bind(c.diagnoses.join(",")).push_bind(&c.place_of_service).push_bind(c.received).push_bind(c.status.code())
                    .push_bind(c.payment.as_ref().map(|p| p.number.clone())).push_bind(c.payment.as_ref().map(|p| p.date));
            });
            q.build().execute(&mut *$tx).await?;

            let lines: Vec<(&domain::ClaimNumber, &domain::claim::ClaimLine)> = chunk.iter().flat_map(|c| c.lines.iter().map(move |l| (&c.number, l))).collect();
            for lines in lines.chunks(crate::sql::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$DB>::new(
                    "INSERT INTO claim_lines (claim_number, line_number, procedure, modifiers, revenue_code, units, service_date, billed, allowed, paid) ",
                );
                q.push_values(lines, |mut b, (n, l)| {
                    b.push_bind(n.as_str()).push_bind(i64::from(l.line_number)).push_bind(&l.procedure).push_bind(l.modifiers.join(","))
                        .push_bind(&l.revenue_code).push_bind(i64::from(l.units)).push_bind(l.service_date)
                        .push_bind(l.billed.0).push_bind(l.allowed.0).push_bind(l.paid.0);
                });
                q.build().execute(&mut *$tx).await?;
            }

            let adjustments: Vec<(&domain::ClaimNumber, u16, usize, &domain::claim::Adjustment)> = chunk.iter()
                .flat_map(|c| c.lines.iter().flat_map(move |l| l.adjustments.iter().enumerate().map(move |(i, a)| (&c.number, l.line_number, i, a))))
                .collect();
            for adjustments in adjustments.chunks(crate::sql::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$DB>::new("INSERT INTO claim_adjustments (claim_number, line_number, seq, group_code, reason, amount, remark) ");
                q.push_values(adjustments, |mut b, (n, line, seq, a)| {
                    b.push_bind(n.as_str()).push_bind(i64::from(*line)).push_bind(*seq as i64).push_bind(a.group.code())
                        .push_bind(&a.reason).push_bind(a.amount.0).push_bind(&a.remark);
                });
                q.build().execute(&mut *$tx).await?;
            }
        }
    }};
}
pub(crate) use insert_claims_in;

#[derive(sqlx::FromRow)]
struct ClaimRow {
    number: String,
    form: String,
    patient_account: String,
    member_id: String,
    billing_npi: String,
    rendering_npi: Option<String>,
    diagnoses: String,
    place_of_service: String,
    received: NaiveDate,
    status: String,
    payment_number: Option<String>,
    payment_date: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    claim_number: String,
    line_number: i64,
    procedure: String,
    modifiers: String,
    revenue_code: Option<String>,
    units: i64,
    service_date: NaiveDate,
    billed: i64,
    allowed: i64,
    paid: i64,
}

#[derive(sqlx::FromRow)]
struct AdjustmentRow {
    claim_number: String,
    line_number: i64,
    group_code: String,
    reason: String,
    amount: i64,
    remark: Option<String>,
}

/// Whole claims (lines, adjustments) by number, three queries per thousand, in the given order.
pub(crate) async fn load_many(store: &SqlStore, numbers: &[String]) -> Result<Vec<Claim>> {
    let mut out = Vec::with_capacity(numbers.len());
    for chunk in numbers.chunks(INSERT_CHUNK) {
        let (rows, lines, adjustments): (Vec<ClaimRow>, Vec<LineRow>, Vec<AdjustmentRow>) = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT number, form, patient_account, member_id, billing_npi, rendering_npi, diagnoses, place_of_service, received, status, payment_number, payment_date FROM claims WHERE number");
            push_in(&mut b, chunk);
            let rows = b.build_query_as::<ClaimRow>().fetch_all(p).await?;
            let mut b = QueryBuilder::<DB>::new("SELECT claim_number, line_number, procedure, modifiers, revenue_code, units, service_date, billed, allowed, paid FROM claim_lines WHERE claim_number");
            push_in(&mut b, chunk);
            b.push(" ORDER BY claim_number, line_number");
            let lines = b.build_query_as::<LineRow>().fetch_all(p).await?;
            let mut b = QueryBuilder::<DB>::new("SELECT claim_number, line_number, group_code, reason, amount, remark FROM claim_adjustments WHERE claim_number");
            push_in(&mut b, chunk);
            b.push(" ORDER BY claim_number, line_number, seq");
            let adj = b.build_query_as::<AdjustmentRow>().fetch_all(p).await?;
            (rows, lines, adj)
        });
        let mut adj_by: HashMap<(String, i64), Vec<Adjustment>> = HashMap::new();
        for a in adjustments {
            adj_by
                .entry((a.claim_number, a.line_number))
                .or_default()
                .push(Adjustment {
                    group: decode(
                        "claim_adjustments.group_code",
                        &a.group_code,
                        AdjustmentGroup::from_code,
                    )?,
                    reason: a.reason,
                    amount: Cents(a.amount),
                    remark: a.remark,
                });
        }
        let mut lines_by: HashMap<String, Vec<ClaimLine>> = HashMap::new();
        for l in lines {
            let adjustments = adj_by
                .remove(&(l.claim_number.clone(), l.line_number))
                .unwrap_or_default();
            lines_by.entry(l.claim_number).or_default().push(ClaimLine {
                line_number: u16::try_from(l.line_number)
                    .map_err(|e| corrupt("claim_lines.line_number", e))?,
                procedure: l.procedure,
                modifiers: split_list(&l.modifiers),
                revenue_code: l.revenue_code,
                units: u32::try_from(l.units).map_err(|e| corrupt("claim_lines.units", e))?,
                service_date: l.service_date,
                billed: Cents(l.billed),
                allowed: Cents(l.allowed),
                paid: Cents(l.paid),
                adjustments,
            });
        }
        let mut by_number: HashMap<String, Claim> = HashMap::with_capacity(rows.len());
        for c in rows {
            let lines = lines_by.remove(&c.number).unwrap_or_default();
            let claim = Claim {
                number: claim_number("claims.number", &c.number)?,
                form: decode("claims.form", &c.form, ClaimForm::from_code)?,
                patient_account: c.patient_account,
                member: member_id("claims.member_id", &c.member_id)?,
                billing_npi: npi("claims.billing_npi", &c.billing_npi)?,
                rendering_npi: c
                    .rendering_npi
                    .as_deref()
                    .map(|s| npi("claims.rendering_npi", s))
                    .transpose()?,
                diagnoses: split_list(&c.diagnoses),
                place_of_service: c.place_of_service,
                received: c.received,
                status: decode("claims.status", &c.status, ClaimStatus::from_code)?,
                lines,
                payment: match (c.payment_number, c.payment_date) {
                    (Some(number), Some(date)) => Some(PaymentRef { number, date }),
                    _ => None,
                },
            };
            by_number.insert(c.number, claim);
        }
        out.extend(chunk.iter().filter_map(|n| by_number.remove(n)));
    }
    Ok(out)
}
