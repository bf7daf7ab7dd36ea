//! Adjudication ([`AdjudicationStore`]): the fee schedule, received claims and what the rules
//! need about them (loaded a batch at a time, a few queries per batch), each batch's outcomes
//! stored in one transaction, and the lease that keeps the engine to one instance at a time.
//! Paying decided claims is `payments`.

use crate::claims::load_many;
use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{
    AuthRow, ServiceRow, SpanRow, auth_columns, claim_number, member_id, npi, service_columns,
    span_columns,
};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, StorageError, on_pool};
use chrono::NaiveDate;
use domain::adjudication::{Fee, PriorService};
use domain::auth::AuthRequest;
use domain::claim::{Adjustment, Claim};
use domain::member::EligibilitySpan;
use domain::{Cents, ClaimNumber, MemberId, Npi};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// What the claims engine reads and writes: the fee schedule, received claims with what the
/// rules need about them, the outcomes, and the lease that keeps it to one instance at a time.
#[async_trait::async_trait]
pub trait AdjudicationStore: Send + Sync {
    /// Adds (or replaces) fee schedule entries.
    async fn insert_fees(&self, fees: &[Fee]) -> Result<()>;
    async fn fee_schedule(&self) -> Result<Vec<Fee>>;
    /// Up to `limit` claims waiting for adjudication, oldest received first, with their lines.
    async fn received_claims(&self, limit: i64) -> Result<Vec<Claim>>;
    /// What the rules need about these claims' members and billing providers (a few queries).
    async fn adjudication_inputs(&self, claims: &[Claim]) -> Result<AdjudicationInputs>;
    /// Stores decided claims (status, lines, adjustments, explanations) in one transaction; fails
    /// whole when a claim is no longer `received`.
    async fn record_adjudications(&self, done: &[Adjudicated]) -> Result<()>;
    /// Explanations and dates only, for claims stored already decided (the seed's history).
    async fn insert_adjudication_notes(&self, done: &[Adjudicated]) -> Result<()>;
    /// Why each line of a claim came out as it did.
    async fn line_explanations(&self, claim: &ClaimNumber) -> Result<Vec<LineExplanation>>;
    /// Takes (or renews) the named lease until `now_ms + ttl_ms` unless another holder has it.
    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
}

/// Why a line came out as it did (the rule's code and the words shown to the office).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineExplanation {
    pub line_number: u16,
    /// `domain::adjudication::Rule` code, e.g. `pricing`, `network`.
    pub rule: String,
    pub text: String,
}

/// A decided claim to store: the claim with its outcome applied (status, lines' allowed and
/// paid, adjustments), the day it was decided and the explanation of each line.
#[derive(Debug, Clone)]
pub struct Adjudicated {
    pub claim: Claim,
    pub on: NaiveDate,
    pub explanations: Vec<LineExplanation>,
}

/// Everything the rules need about a batch of claims, keyed for lookup.
#[derive(Debug, Default)]
pub struct AdjudicationInputs {
    pub spans: HashMap<MemberId, Vec<EligibilitySpan>>,
    pub auths: HashMap<MemberId, Vec<AuthRequest>>,
    /// Contract status of each billing provider the plan knows (absent: not in the directory,
    /// so not contracted).
    pub contracted: HashMap<Npi, bool>,
    /// Lines of the members' earlier claims that were already decided (not received or rejected).
    pub earlier: HashMap<MemberId, Vec<PriorService>>,
}

/// A line of one of the members' earlier, decided claims.
#[derive(sqlx::FromRow)]
struct PriorRow {
    number: String,
    member_id: String,
    billing_npi: String,
    rendering_npi: Option<String>,
    procedure: String,
    service_date: NaiveDate,
    units: i64,
    paid: i64,
}

/// Stores decided claims in one transaction. With `update_claims`, the claims (which must still
/// be `received`) get their status, lines' amounts and adjustments; either way their
/// explanations and adjudication date are written. A claim no longer received (decided by
/// someone else meanwhile) fails the whole batch: nothing is stored twice.
pub(crate) async fn record(
    store: &SqlStore,
    done: &[Adjudicated],
    update_claims: bool,
) -> Result<()> {
    if done.is_empty() {
        return Ok(());
    }
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        for chunk in done.chunks(300) {
            let numbers: Vec<String> = chunk.iter().map(|a| a.claim.number.to_string()).collect();
            if update_claims {
                // One statement per chunk that finds its rows by primary key (a CASE picks each
                // row's value): SQLite's planner would scan the table for UPDATE ... FROM VALUES,
                // and a statement per row costs a round trip each.
                let mut b = QueryBuilder::<DB>::new("UPDATE claims SET status = CASE number");
                for a in chunk {
                    b.push(" WHEN ").push_bind(a.claim.number.to_string()).push(" THEN ").push_bind(a.claim.status.code().to_string());
                }
                b.push(" END WHERE status = 'received' AND number");
                push_in(&mut b, &numbers);
                let changed = b.build().execute(&mut *tx).await?.rows_affected();
                if changed != chunk.len() as u64 {
                    return Err(StorageError::Duplicate(format!(
                        "{} of {} claims in the batch were no longer waiting for adjudication",
                        chunk.len() as u64 - changed,
                        chunk.len()
                    )));
                }
                let lines: Vec<(String, i64, i64, i64)> = chunk.iter().flat_map(|a| a.claim.lines.iter().map(move |l| (a.claim.number.to_string(), i64::from(l.line_number), l.allowed.0, l.paid.0))).collect();
                for lines in lines.chunks(300) {
                    let mut b = QueryBuilder::<DB>::new("UPDATE claim_lines SET allowed = CASE");
                    for (n, line, allowed, _) in lines {
                        b.push(" WHEN claim_number = ").push_bind(n.clone()).push(" AND line_number = ").push_bind(*line).push(" THEN ").push_bind(*allowed);
                    }
                    b.push(" ELSE allowed END, paid = CASE");
                    for (n, line, _, paid) in lines {
                        b.push(" WHEN claim_number = ").push_bind(n.clone()).push(" AND line_number = ").push_bind(*line).push(" THEN ").push_bind(*paid);
                    }
                    let mut keys: Vec<String> = lines.iter().map(|l| l.0.clone()).collect();
                    keys.dedup();
                    b.push(" ELSE paid END WHERE claim_number");
                    push_in(&mut b, &keys);
                    b.build().execute(&mut *tx).await?;
                }
                let mut b = QueryBuilder::<DB>::new("DELETE FROM claim_adjustments WHERE claim_number");
                push_in(&mut b, &numbers);
                b.build().execute(&mut *tx).await?;
                let adjustments: Vec<(String, i64, i64, &Adjustment)> = chunk.iter()
                    .flat_map(|a| a.claim.lines.iter().flat_map(move |l| l.adjustments.iter().enumerate().map(move |(i, adj)| (a.claim.number.to_string(), i64::from(l.line_number), i as i64, adj))))
                    .collect();
                for adjustments in adjustments.chunks(INSERT_CHUNK) {
                    let mut q = QueryBuilder::<DB>::new("INSERT INTO claim_adjustments (claim_number, line_number, seq, group_code, reason, amount, remark) ");
                    q.push_values(adjustments, |mut b, (n, line, seq, a)| {
                        b.push_bind(n.clone()).push_bind(*line).push_bind(*seq).push_bind(a.group.code())
                            .push_bind(a.reason.clone()).push_bind(a.amount.0).push_bind(a.remark.clone());
                    });
                    q.build().execute(&mut *tx).await?;
                }
            }
            let mut b = QueryBuilder::<DB>::new("DELETE FROM claim_line_explanations WHERE claim_number");
            push_in(&mut b, &numbers);
            b.build().execute(&mut *tx).await?;
            let notes: Vec<(String, &LineExplanation)> = chunk.iter().flat_map(|a| a.explanations.iter().map(move |e| (a.claim.number.to_string(), e))).collect();
            for notes in notes.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO claim_line_explanations (claim_number, line_number, rule, explanation) ");
                q.push_values(notes, |mut b, (n, e)| {
                    b.push_bind(n.clone()).push_bind(i64::from(e.line_number)).push_bind(e.rule.clone()).push_bind(e.text.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            let mut q = QueryBuilder::<DB>::new("INSERT INTO claim_adjudications (claim_number, adjudicated_on) ");
            q.push_values(chunk, |mut b, a| {
                b.push_bind(a.claim.number.to_string()).push_bind(a.on);
            });
            q.push(" ON CONFLICT (claim_number) DO UPDATE SET adjudicated_on = excluded.adjudicated_on");
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

#[async_trait::async_trait]
impl AdjudicationStore for SqlStore {
    async fn insert_fees(&self, fees: &[Fee]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in fees.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO fee_schedule (procedure, description, amount, requires_auth) ");
                q.push_values(chunk, |mut b, f| {
                    b.push_bind(f.procedure.clone()).push_bind(f.description.clone()).push_bind(f.amount.0).push_bind(f.requires_auth);
                });
                q.push(" ON CONFLICT (procedure) DO UPDATE SET description = excluded.description, amount = excluded.amount, requires_auth = excluded.requires_auth");
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn fee_schedule(&self) -> Result<Vec<Fee>> {
        const SQL: &str = "SELECT procedure, description, amount, requires_auth FROM fee_schedule ORDER BY procedure";
        let rows: Vec<(String, String, i64, bool)> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(procedure, description, amount, requires_auth)| Fee {
                procedure,
                description,
                amount: Cents(amount),
                requires_auth,
            })
            .collect())
    }

    async fn received_claims(&self, limit: i64) -> Result<Vec<Claim>> {
        const SQL: &str = "SELECT number FROM claims WHERE status = 'received' ORDER BY received, number LIMIT $1";
        let numbers: Vec<String> = on_pool!(self, p, DB => sqlx::query_scalar::<DB, String>(SQL).bind(limit.clamp(1, 100_000)).fetch_all(p).await?);
        load_many(self, &numbers).await
    }

    async fn adjudication_inputs(&self, claims: &[Claim]) -> Result<AdjudicationInputs> {
        let mut members: Vec<String> = claims.iter().map(|c| c.member.to_string()).collect();
        members.sort();
        members.dedup();
        let mut billing: Vec<String> = claims.iter().map(|c| c.billing_npi.to_string()).collect();
        billing.sort();
        billing.dedup();
        let mut out = AdjudicationInputs::default();
        for chunk in members.chunks(INSERT_CHUNK) {
            type Rows = (Vec<SpanRow>, Vec<AuthRow>, Vec<ServiceRow>, Vec<PriorRow>);
            let (spans, auths, services, prior): Rows = on_pool!(self, p, DB => {
                let mut b = QueryBuilder::<DB>::new(concat!("SELECT ", span_columns!(), " FROM eligibility_spans WHERE member_id"));
                push_in(&mut b, chunk);
                b.push(" ORDER BY member_id, start_date");
                let spans = b.build_query_as::<SpanRow>().fetch_all(p).await?;
                let mut b = QueryBuilder::<DB>::new(concat!("SELECT ", auth_columns!(), " FROM auth_requests WHERE member_id"));
                push_in(&mut b, chunk);
                let auths = b.build_query_as::<AuthRow>().fetch_all(p).await?;
                let numbers: Vec<String> = auths.iter().map(|a| a.number.clone()).collect();
                let services = if numbers.is_empty() {
                    Vec::new()
                } else {
                    let mut b = QueryBuilder::<DB>::new(concat!("SELECT ", service_columns!(), " FROM auth_services WHERE auth_number"));
                    push_in(&mut b, &numbers);
                    b.push(" ORDER BY auth_number, seq");
                    b.build_query_as::<ServiceRow>().fetch_all(p).await?
                };
                let mut b = QueryBuilder::<DB>::new("SELECT c.number, c.member_id, c.billing_npi, c.rendering_npi, l.procedure, l.service_date, l.units, l.paid FROM claims c JOIN claim_lines l ON l.claim_number = c.number WHERE c.status NOT IN ('received', 'rejected') AND c.member_id");
                push_in(&mut b, chunk);
                let prior = b.build_query_as::<PriorRow>().fetch_all(p).await?;
                (spans, auths, services, prior)
            });
            for s in spans {
                let id = s.member()?;
                out.spans.entry(id).or_default().push(s.into_span()?);
            }
            let mut services_by: HashMap<String, Vec<ServiceRow>> = HashMap::new();
            for s in services {
                services_by
                    .entry(s.auth_number.clone())
                    .or_default()
                    .push(s);
            }
            for a in auths {
                let services = services_by.remove(&a.number).unwrap_or_default();
                let auth = a.into_request(services)?;
                out.auths.entry(auth.member.clone()).or_default().push(auth);
            }
            for r in prior {
                let member = member_id("claims.member_id", &r.member_id)?;
                let billing_npi = npi("claims.billing_npi", &r.billing_npi)?;
                out.earlier
                    .entry(member.clone())
                    .or_default()
                    .push(PriorService {
                        claim: claim_number("claims.number", &r.number)?,
                        member,
                        billing_npi,
                        servicing_npi: r
                            .rendering_npi
                            .as_deref()
                            .map(|n| npi("claims.rendering_npi", n))
                            .transpose()?
                            .unwrap_or(billing_npi),
                        procedure: r.procedure,
                        service_date: r.service_date,
                        units: u32::try_from(r.units)
                            .map_err(|e| corrupt("claim_lines.units", e))?,
                        paid: r.paid > 0,
                    });
            }
        }
        for chunk in billing.chunks(INSERT_CHUNK) {
            let rows: Vec<(String, bool)> = on_pool!(self, p, DB => {
                let mut b = QueryBuilder::<DB>::new("SELECT npi, contracted FROM providers WHERE npi");
                push_in(&mut b, chunk);
                b.build_query_as::<(String, bool)>().fetch_all(p).await?
            });
            for (n, contracted) in rows {
                out.contracted.insert(npi("providers.npi", &n)?, contracted);
            }
        }
        Ok(out)
    }

    async fn record_adjudications(&self, done: &[Adjudicated]) -> Result<()> {
        record(self, done, true).await
    }

    async fn insert_adjudication_notes(&self, done: &[Adjudicated]) -> Result<()> {
        record(self, done, false).await
    }

    async fn line_explanations(&self, claim: &ClaimNumber) -> Result<Vec<LineExplanation>> {
        const SQL: &str = "SELECT line_number, rule, explanation FROM claim_line_explanations WHERE claim_number = $1 ORDER BY line_number";
        let rows: Vec<(i64, String, String)> = on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(claim.as_str()).fetch_all(p).await?);
        rows.into_iter()
            .map(|(line, rule, text)| {
                Ok(LineExplanation {
                    line_number: u16::try_from(line)
                        .map_err(|e| corrupt("claim_line_explanations.line_number", e))?,
                    rule,
                    text,
                })
            })
            .collect()
    }

    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        const SQL: &str = "UPDATE job_leases SET holder = $1, expires_ms = $2 WHERE name = $3 AND (expires_ms < $4 OR holder = $1)";
        let n = on_pool!(self, p, DB => sqlx::query::<DB>(SQL).bind(holder).bind(now_ms + ttl_ms).bind(name).bind(now_ms).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        const SQL: &str = "UPDATE job_leases SET expires_ms = 0 WHERE name = $1 AND holder = $2";
        on_pool!(self, p, DB => { sqlx::query::<DB>(SQL).bind(name).bind(holder).execute(p).await?; });
        Ok(())
    }
}
