//! Adjudication and payment: the fee schedule, received claims and what the rules need about
//! them (loaded a batch at a time, a few queries per batch), each batch's outcomes stored in one
//! transaction, payment runs (payments, the claims they report, their 835s) in one transaction,
//! the lease that keeps the engine to one instance at a time, and the office-side remittance
//! reads, scoped by the payee's TIN.

use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{
    AuthRow, ServiceRow, SpanRow, auth_columns, claim_number, member_id, npi, service_columns,
    span_columns, tin,
};
use crate::scope::{Owner, Tins};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, StorageError, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::adjudication::{Fee, PriorService};
use domain::auth::AuthRequest;
use domain::claim::{Adjustment, Claim};
use domain::member::EligibilitySpan;
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use sqlx::QueryBuilder;
use std::collections::HashMap;

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

/// Who a payment goes to: the billing provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub npi: Npi,
    pub tin: Tin,
    pub name: String,
    pub contracted: bool,
}

/// A finalized claim no payment reports yet, as a payment run groups it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayableClaim {
    pub number: ClaimNumber,
    /// The billing provider's TIN: who the money goes to.
    pub payee_tin: Tin,
    /// The day it was decided, when known (the seed's history has none).
    pub decided_on: Option<NaiveDate>,
}

/// A finalized claim no payment has reported yet, with what its 835 needs.
#[derive(Debug, Clone)]
pub struct Payable {
    pub claim: Claim,
    pub patient_first: String,
    pub patient_last: String,
    pub payee: Payee,
}

/// A payment to store with the claims it reports and its 835.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// Assigned in order by the payment run (after [`crate::Store::last_payment_id`]).
    pub id: i64,
    pub number: String,
    pub method: String,
    pub paid_on: NaiveDate,
    pub amount: Cents,
    pub payee: Payee,
    pub claims: Vec<ClaimNumber>,
    pub filename: String,
    pub x835: String,
    pub created_at: DateTime<Utc>,
}

/// One page of an office's payments, with how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentPage {
    pub payments: Vec<PaymentSummary>,
    pub total: i64,
}

/// A payment's 835 as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemittanceFile {
    pub filename: String,
    pub x835: String,
}

/// A payment as an office's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSummary {
    pub id: i64,
    pub number: String,
    pub method: String,
    pub paid_on: NaiveDate,
    pub amount: Cents,
    pub payee_npi: String,
    pub payee_tin: String,
    pub payee_name: String,
    pub claim_count: i64,
}

// ---------------------------------------------------------------------------------------------
// Fee schedule

pub(crate) async fn insert_fees(store: &SqlStore, fees: &[Fee]) -> Result<()> {
    on_pool!(store, p, DB => {
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

pub(crate) async fn fee_schedule(store: &SqlStore) -> Result<Vec<Fee>> {
    const SQL: &str =
        "SELECT procedure, description, amount, requires_auth FROM fee_schedule ORDER BY procedure";
    let rows: Vec<(String, String, i64, bool)> =
        on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).fetch_all(p).await?);
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

// ---------------------------------------------------------------------------------------------
// Loading claims a batch at a time

pub(crate) async fn received_claims(store: &SqlStore, limit: i64) -> Result<Vec<Claim>> {
    const SQL: &str =
        "SELECT number FROM claims WHERE status = 'received' ORDER BY received, number LIMIT $1";
    let numbers: Vec<String> = on_pool!(store, p, DB => sqlx::query_scalar::<DB, String>(SQL).bind(limit.clamp(1, 100_000)).fetch_all(p).await?);
    crate::claims::load_many(store, &numbers).await
}

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

pub(crate) async fn inputs(store: &SqlStore, claims: &[Claim]) -> Result<AdjudicationInputs> {
    let mut members: Vec<String> = claims.iter().map(|c| c.member.to_string()).collect();
    members.sort();
    members.dedup();
    let mut billing: Vec<String> = claims.iter().map(|c| c.billing_npi.to_string()).collect();
    billing.sort();
    billing.dedup();
    let mut out = AdjudicationInputs::default();
    for chunk in members.chunks(INSERT_CHUNK) {
        type Rows = (Vec<SpanRow>, Vec<AuthRow>, Vec<ServiceRow>, Vec<PriorRow>);
        let (spans, auths, services, prior): Rows = on_pool!(store, p, DB => {
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
                    units: u32::try_from(r.units).map_err(|e| corrupt("claim_lines.units", e))?,
                    paid: r.paid > 0,
                });
        }
    }
    for chunk in billing.chunks(INSERT_CHUNK) {
        let rows: Vec<(String, bool)> = on_pool!(store, p, DB => {
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

// ---------------------------------------------------------------------------------------------
// Storing outcomes

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

pub(crate) async fn explanations(
    store: &SqlStore,
    claim: &ClaimNumber,
) -> Result<Vec<LineExplanation>> {
    const SQL: &str = "SELECT line_number, rule, explanation FROM claim_line_explanations WHERE claim_number = $1 ORDER BY line_number";
    let rows: Vec<(i64, String, String)> = on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(claim.as_str()).fetch_all(p).await?);
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

// ---------------------------------------------------------------------------------------------
// Payment runs

pub(crate) async fn payable(store: &SqlStore, as_of: NaiveDate) -> Result<Vec<PayableClaim>> {
    // A claim whose billing provider the directory does not know is left out: nothing says
    // where its money goes (it stays unpaid, visible to the plan).
    const SQL: &str = "SELECT c.number, pr.tin, a.adjudicated_on FROM claims c JOIN providers pr ON pr.npi = c.billing_npi \
        LEFT JOIN claim_adjudications a ON a.claim_number = c.number \
        WHERE c.payment_number IS NULL AND c.status IN ('paid', 'denied', 'partial') \
        AND (a.adjudicated_on IS NULL OR a.adjudicated_on <= $1) ORDER BY pr.tin, c.number";
    let rows: Vec<(String, String, Option<NaiveDate>)> =
        on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(as_of).fetch_all(p).await?);
    rows.into_iter()
        .map(|(n, t, decided_on)| {
            Ok(PayableClaim {
                number: claim_number("claims.number", &n)?,
                payee_tin: tin("providers.tin", &t)?,
                decided_on,
            })
        })
        .collect()
}

pub(crate) async fn payables(store: &SqlStore, numbers: &[ClaimNumber]) -> Result<Vec<Payable>> {
    let numbers: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    let claims = crate::claims::load_many(store, &numbers).await?;
    let mut npis: Vec<String> = claims.iter().map(|c| c.billing_npi.to_string()).collect();
    npis.sort();
    npis.dedup();
    let mut members: Vec<String> = claims.iter().map(|c| c.member.to_string()).collect();
    members.sort();
    members.dedup();
    let mut payees: HashMap<String, Payee> = HashMap::new();
    for chunk in npis.chunks(INSERT_CHUNK) {
        let rows: Vec<(String, String, String, bool)> = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT npi, tin, name, contracted FROM providers WHERE npi");
            push_in(&mut b, chunk);
            b.build_query_as::<(String, String, String, bool)>().fetch_all(p).await?
        });
        for (n, t, name, contracted) in rows {
            payees.insert(
                n.clone(),
                Payee {
                    npi: npi("providers.npi", &n)?,
                    tin: tin("providers.tin", &t)?,
                    name,
                    contracted,
                },
            );
        }
    }
    // The payee is the organisation billing under the TIN (the medical group or clinic) when
    // the directory has one, else the billing provider itself.
    let mut tins: Vec<String> = payees
        .values()
        .map(|p| p.tin.digits().to_string())
        .collect();
    tins.sort();
    tins.dedup();
    let mut orgs: HashMap<String, Payee> = HashMap::new();
    for chunk in tins.chunks(INSERT_CHUNK) {
        let rows: Vec<(String, String, String, bool)> = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT npi, tin, name, contracted FROM providers WHERE kind <> 'practitioner' AND tin");
            push_in(&mut b, chunk);
            b.push(" ORDER BY npi");
            b.build_query_as::<(String, String, String, bool)>().fetch_all(p).await?
        });
        for (n, t, name, contracted) in rows {
            if !orgs.contains_key(&t) {
                orgs.insert(
                    t.clone(),
                    Payee {
                        npi: npi("providers.npi", &n)?,
                        tin: tin("providers.tin", &t)?,
                        name,
                        contracted,
                    },
                );
            }
        }
    }
    for p in payees.values_mut() {
        if let Some(org) = orgs.get(p.tin.digits()) {
            *p = org.clone();
        }
    }
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    for chunk in members.chunks(INSERT_CHUNK) {
        let rows: Vec<(String, String, String)> = on_pool!(store, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT id, first_name, last_name FROM members WHERE id");
            push_in(&mut b, chunk);
            b.build_query_as::<(String, String, String)>().fetch_all(p).await?
        });
        for (id, first, last) in rows {
            names.insert(id, (first, last));
        }
    }
    claims
        .into_iter()
        .map(|claim| {
            // A claim billed by a provider the directory does not know cannot be paid: nothing
            // says where the money goes.
            let payee = payees.get(claim.billing_npi.as_str()).cloned().ok_or_else(|| {
                StorageError::Corrupt(
                    "claims.billing_npi: a finalized claim's billing provider is not in the directory"
                        .into(),
                )
            })?;
            let (patient_first, patient_last) =
                names.get(claim.member.as_str()).cloned().unwrap_or_default();
            Ok(Payable {
                claim,
                patient_first,
                patient_last,
                payee,
            })
        })
        .collect()
}

pub(crate) async fn last_payment_id(store: &SqlStore) -> Result<i64> {
    const SQL: &str = "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM payments";
    Ok(on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL).fetch_one(p).await?))
}

/// Stores a whole payment run in one transaction; a claim already reported elsewhere fails it all.
pub(crate) async fn record_payments(store: &SqlStore, payments: &[NewPayment]) -> Result<()> {
    if payments.is_empty() {
        return Ok(());
    }
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        for chunk in payments.chunks(INSERT_CHUNK / 4) {
            let mut q = QueryBuilder::<DB>::new("INSERT INTO payments (id, number, method, paid_on, amount, payee_npi, payee_tin, payee_name, claim_count, created_at) ");
            q.push_values(chunk, |mut b, pm| {
                b.push_bind(pm.id).push_bind(pm.number.clone()).push_bind(pm.method.clone()).push_bind(pm.paid_on).push_bind(pm.amount.0)
                    .push_bind(pm.payee.npi.to_string()).push_bind(pm.payee.tin.digits().to_string()).push_bind(pm.payee.name.clone())
                    .push_bind(pm.claims.len() as i64).push_bind(pm.created_at);
            });
            q.build().execute(&mut *tx).await?;
            for pm in chunk {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO remittance_files (payment_id, filename, content) ");
                q.push_values([pm], |mut b, pm| {
                    b.push_bind(pm.id).push_bind(pm.filename.clone()).push_bind(pm.x835.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
        }
        let links: Vec<(i64, String, String, NaiveDate)> = payments.iter().flat_map(|pm| pm.claims.iter().map(move |c| (pm.id, c.to_string(), pm.number.clone(), pm.paid_on))).collect();
        for links in links.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<DB>::new("INSERT INTO payment_claims (payment_id, claim_number) ");
            q.push_values(links, |mut b, (id, claim, _, _)| {
                b.push_bind(*id).push_bind(claim.clone());
            });
            q.build().execute(&mut *tx).await?;
            let mut b = QueryBuilder::<DB>::new("UPDATE claims SET payment_number = CASE number");
            for (_, claim, number, _) in links {
                b.push(" WHEN ").push_bind(claim.clone()).push(" THEN ").push_bind(number.clone());
            }
            b.push(" END, payment_date = CASE number");
            for (_, claim, _, date) in links {
                b.push(" WHEN ").push_bind(claim.clone()).push(" THEN ").push_bind(*date);
            }
            let claims: Vec<String> = links.iter().map(|l| l.1.clone()).collect();
            b.push(" END WHERE payment_number IS NULL AND number");
            push_in(&mut b, &claims);
            let changed = b.build().execute(&mut *tx).await?.rows_affected();
            if changed != links.len() as u64 {
                return Err(StorageError::Duplicate(format!(
                    "{} of {} claims of the payment run were already reported on a payment",
                    links.len() as u64 - changed,
                    links.len()
                )));
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

pub(crate) async fn try_lease(
    store: &SqlStore,
    name: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool> {
    const SQL: &str = "UPDATE job_leases SET holder = $1, expires_ms = $2 WHERE name = $3 AND (expires_ms < $4 OR holder = $1)";
    let n = on_pool!(store, p, DB => sqlx::query::<DB>(SQL).bind(holder).bind(now_ms + ttl_ms).bind(name).bind(now_ms).execute(p).await?.rows_affected());
    Ok(n == 1)
}

pub(crate) async fn release_lease(store: &SqlStore, name: &str, holder: &str) -> Result<()> {
    const SQL: &str = "UPDATE job_leases SET expires_ms = 0 WHERE name = $1 AND holder = $2";
    on_pool!(store, p, DB => { sqlx::query::<DB>(SQL).bind(name).bind(holder).execute(p).await?; });
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The office's remittances

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    number: String,
    method: String,
    paid_on: NaiveDate,
    amount: i64,
    payee_npi: String,
    payee_tin: String,
    payee_name: String,
    claim_count: i64,
}

impl From<PaymentRow> for PaymentSummary {
    fn from(r: PaymentRow) -> Self {
        PaymentSummary {
            id: r.id,
            number: r.number,
            method: r.method,
            paid_on: r.paid_on,
            amount: Cents(r.amount),
            payee_npi: r.payee_npi,
            payee_tin: r.payee_tin,
            payee_name: r.payee_name,
            claim_count: r.claim_count,
        }
    }
}

const PAYMENT_COLUMNS: &str = "SELECT id, number, method, paid_on, amount, payee_npi, payee_tin, payee_name, claim_count FROM payments";

pub(crate) async fn payments_in_scope(
    store: &SqlStore,
    scope: &Scope,
    offset: i64,
    limit: i64,
) -> Result<PaymentPage> {
    let Some(tins) = Tins::of(scope) else {
        return Ok(PaymentPage::default());
    };
    let (rows, total): (Vec<PaymentRow>, i64) = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new(PAYMENT_COLUMNS);
        tins.push(&mut b, Owner::Payment);
        b.push(" ORDER BY paid_on DESC, id DESC LIMIT ").push_bind(limit.clamp(1, 1_000)).push(" OFFSET ").push_bind(offset.max(0));
        let rows = b.build_query_as::<PaymentRow>().fetch_all(p).await?;
        let mut b = QueryBuilder::<DB>::new("SELECT CAST(COUNT(*) AS BIGINT) FROM payments");
        tins.push(&mut b, Owner::Payment);
        let total = b.build_query_scalar::<i64>().fetch_one(p).await?;
        (rows, total)
    });
    Ok(PaymentPage {
        payments: rows.into_iter().map(PaymentSummary::from).collect(),
        total,
    })
}

pub(crate) async fn payment_in_scope(
    store: &SqlStore,
    number: &str,
    scope: &Scope,
) -> Result<Option<PaymentSummary>> {
    let Some(tins) = Tins::of(scope) else {
        return Ok(None);
    };
    let row: Option<PaymentRow> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new(PAYMENT_COLUMNS);
        tins.push(&mut b, Owner::Payment);
        b.push(" AND number = ").push_bind(number.to_string());
        b.build_query_as::<PaymentRow>().fetch_optional(p).await?
    });
    Ok(row.map(PaymentSummary::from))
}

pub(crate) async fn payment_claims(store: &SqlStore, payment_id: i64) -> Result<Vec<Claim>> {
    const SQL: &str =
        "SELECT claim_number FROM payment_claims WHERE payment_id = $1 ORDER BY claim_number";
    let numbers: Vec<String> = on_pool!(store, p, DB => sqlx::query_scalar::<DB, String>(SQL).bind(payment_id).fetch_all(p).await?);
    crate::claims::load_many(store, &numbers).await
}

pub(crate) async fn remittance_file(
    store: &SqlStore,
    payment_id: i64,
) -> Result<Option<RemittanceFile>> {
    const SQL: &str = "SELECT filename, content FROM remittance_files WHERE payment_id = $1";
    let row: Option<(String, String)> = on_pool!(store, p, DB => sqlx::query_as::<DB, (String, String)>(SQL).bind(payment_id).fetch_optional(p).await?);
    Ok(row.map(|(filename, x835)| RemittanceFile { filename, x835 }))
}
