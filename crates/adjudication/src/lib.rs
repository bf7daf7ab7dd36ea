//! The claims engine over [`storage::Store`]: [`adjudicate`] runs the rules of
//! `domain::adjudication` over received claims a batch at a time (a few queries per batch, one
//! transaction to store each batch's outcomes), and [`pay`] makes a payment run: finalized,
//! unreported claims grouped by payee (the billing provider's TIN, paid to its medical group or
//! clinic) into one payment each, with an 835
//! (005010X221A1) per payee that must pass `x12::validate_bytes` before anything is stored, the
//! whole run in one transaction. [`run`] does both under a lease so that only one portal
//! instance at a time works the claims; running again is safe: a claim is adjudicated once
//! (only `received` claims are read) and reported on one payment (storage refuses a second).

use chrono::{Datelike, Days, NaiveDate, Utc};
use domain::adjudication::{self as rules, Context, FeeSchedule, PriorService};
use domain::claim::{AdjustmentGroup, ClaimStatus};
use domain::{Cents, MemberId, Tin};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use storage::{Adjudicated, LineExplanation, NewPayment, Payable, StorageError, Store};

/// The name of the lease the engine runs under.
pub const LEASE: &str = "adjudication";
/// How long a lease holds without renewal (it is renewed every batch).
const LEASE_TTL: Duration = Duration::from_secs(300);

/// The plan as the 835 names it (loop 1000A).
#[derive(Debug, Clone)]
pub struct Payer {
    pub name: String,
    /// N104 with qualifier XV (CMS plan identifier) and the ISA/GS sender.
    pub id: String,
}

impl Default for Payer {
    fn default() -> Self {
        Payer {
            name: "ORANGE COAST HEALTH PLAN".into(),
            id: "OCHP01".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The day of adjudication and of the payment run.
    pub as_of: NaiveDate,
    /// Claims per batch (one transaction each).
    pub batch: usize,
    pub payer: Payer,
}

impl Options {
    pub fn new(as_of: NaiveDate) -> Self {
        Options {
            as_of,
            batch: 1_000,
            payer: Payer::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Our own 835 failed validation: nothing of the run was stored.
    #[error("the 835 for payment {number} failed X12 validation: {message}")]
    InvalidRemittance { number: String, message: String },
}

/// What one adjudication pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adjudication {
    pub claims: u64,
    pub paid: u64,
    pub denied: u64,
    pub partial: u64,
    pub batches: u64,
}

/// What one payment run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentRun {
    pub payments: u64,
    pub remittances: u64,
    pub claims: u64,
    pub total_paid: Cents,
}

/// Both, with the time taken; `skipped` when another instance held the lease.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub adjudication: Adjudication,
    pub payments: PaymentRun,
    pub elapsed: Duration,
    /// Of `elapsed`, the time adjudicating (the rest is the payment run).
    pub adjudicating: Duration,
    pub skipped: bool,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A holder name unique to this process and call.
fn holder() -> String {
    format!(
        "pid{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

/// Adjudicates every received claim, then pays, under the lease. Returns `skipped` without
/// doing anything when another instance is running the engine.
pub async fn run(store: &dyn Store, opts: &Options) -> Result<RunSummary, EngineError> {
    let started = Instant::now();
    let me = holder();
    let ttl = LEASE_TTL.as_millis() as i64;
    if !store.try_lease(LEASE, &me, now_ms(), ttl).await? {
        return Ok(RunSummary {
            skipped: true,
            elapsed: started.elapsed(),
            ..RunSummary::default()
        });
    }
    let result = async {
        let adjudication = adjudicate_leased(store, opts, Some(&me)).await?;
        let adjudicating = started.elapsed();
        let payments = pay(store, opts).await?;
        Ok::<_, EngineError>((adjudication, payments, adjudicating))
    }
    .await;
    if let Err(e) = store.release_lease(LEASE, &me).await {
        tracing::warn!(error = %e, "could not release the adjudication lease (it expires by itself)");
    }
    let (adjudication, payments, adjudicating) = result?;
    Ok(RunSummary {
        adjudication,
        payments,
        elapsed: started.elapsed(),
        adjudicating,
        skipped: false,
    })
}

/// Adjudicates every received claim (callers hold the lease, or are alone: tests, the seed).
pub async fn adjudicate(store: &dyn Store, opts: &Options) -> Result<Adjudication, EngineError> {
    adjudicate_leased(store, opts, None).await
}

async fn adjudicate_leased(
    store: &dyn Store,
    opts: &Options,
    lease: Option<&str>,
) -> Result<Adjudication, EngineError> {
    let fees: FeeSchedule = store
        .fee_schedule()
        .await?
        .into_iter()
        .map(|f| (f.procedure.clone(), f))
        .collect();
    let networks = store.networks().await?;
    let mut out = Adjudication::default();
    loop {
        let claims = store.received_claims(opts.batch.max(1) as i64).await?;
        if claims.is_empty() {
            break;
        }
        let inputs = store.adjudication_inputs(&claims).await?;
        // Claims decided earlier in this batch count as earlier claims for the next ones.
        let mut in_batch: HashMap<MemberId, Vec<PriorService>> = HashMap::new();
        let mut done = Vec::with_capacity(claims.len());
        for mut claim in claims {
            let mut earlier: Vec<PriorService> = inputs
                .earlier
                .get(&claim.member)
                .cloned()
                .unwrap_or_default();
            if let Some(more) = in_batch.get(&claim.member) {
                earlier.extend(more.iter().cloned());
            }
            let ctx = Context {
                today: opts.as_of,
                spans: inputs
                    .spans
                    .get(&claim.member)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
                networks: &networks,
                auths: inputs
                    .auths
                    .get(&claim.member)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
                fees: &fees,
                contracted: inputs
                    .contracted
                    .get(&claim.billing_npi)
                    .copied()
                    .unwrap_or(false),
                earlier: &earlier,
            };
            let outcome = rules::adjudicate(&claim, &ctx);
            outcome.apply_to(&mut claim);
            match claim.status {
                ClaimStatus::Paid => out.paid += 1,
                ClaimStatus::Denied => out.denied += 1,
                _ => out.partial += 1,
            }
            in_batch
                .entry(claim.member.clone())
                .or_default()
                .extend(PriorService::of(&claim));
            done.push(Adjudicated {
                explanations: outcome
                    .lines
                    .iter()
                    .map(|l| LineExplanation {
                        line_number: l.line_number,
                        rule: l.rule.code().to_string(),
                        text: l.explanation.clone(),
                    })
                    .collect(),
                claim,
                on: opts.as_of,
            });
        }
        store.record_adjudications(&done).await?;
        out.claims += done.len() as u64;
        out.batches += 1;
        if let Some(me) = lease {
            // Renew the lease: a long backlog must not let another instance start meanwhile.
            store
                .try_lease(LEASE, me, now_ms(), LEASE_TTL.as_millis() as i64)
                .await?;
        }
    }
    Ok(out)
}

/// The plan's payment number for payment `id`: ten digits, as printed on checks.
pub fn payment_number(id: i64) -> String {
    format!("{:010}", 4_000_000_000_i64 + id)
}

/// The 835 of one payee's payment, as X12 text.
pub fn remittance(
    payer: &Payer,
    payment: &NewPayment,
    claims: &[&Payable],
    control: u32,
) -> String {
    use x12::model::{Adjustment, ClaimPayment, Envelope, LinePayment, Party, Person, Remittance};
    let date = payment.paid_on.format("%Y%m%d").to_string();
    let cas = |a: &domain::claim::Adjustment| Adjustment {
        group: a.group.code().to_string(),
        reason: a.reason.clone(),
        amount: a.amount.to_string(),
    };
    let remit = Remittance {
        payer: Party {
            name: payer.name.clone(),
            id: payer.id.clone(),
        },
        payee: Party {
            name: payment.payee.name.to_uppercase(),
            id: payment.payee.npi.to_string(),
        },
        method: payment.method.clone(),
        amount: payment.amount.to_string(),
        date: date.clone(),
        trace: payment.number.clone(),
        claims: claims
            .iter()
            .map(|p| {
                let c = &p.claim;
                ClaimPayment {
                    claim_id: c.patient_account.clone(),
                    status: rules::remit_status_code(c.status).to_string(),
                    charge: c.billed().to_string(),
                    paid: c.paid().to_string(),
                    patient_responsibility: c.patient_responsibility().to_string(),
                    payer_claim_id: c.number.to_string(),
                    patient: Person {
                        last: p.patient_last.to_uppercase(),
                        first: p.patient_first.to_uppercase(),
                        member_id: c.member.to_string(),
                        ..Person::default()
                    },
                    adjustments: Vec::new(),
                    lines: c
                        .lines
                        .iter()
                        .map(|l| LinePayment {
                            procedure: l.procedure.clone(),
                            charge: l.billed.to_string(),
                            paid: l.paid.to_string(),
                            units: l.units.to_string(),
                            service_date: l.service_date.format("%Y%m%d").to_string(),
                            adjustments: l.adjustments.iter().map(cas).collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    remit.to_x12(&Envelope {
        sender: payer.id.clone(),
        receiver: payment.payee.npi.to_string(),
        control,
        date,
        time: Utc::now().format("%H%M").to_string(),
        usage: 'P',
    })
}

/// One payee's payment on one day: the claims it reports.
struct Group {
    paid_on: NaiveDate,
    claims: Vec<domain::ClaimNumber>,
}

/// Claims loaded per round trip while building payments.
const BUILD_CHUNK: usize = 2_000;

/// Builds the payments (with validated 835s) of `groups`, numbered from `next_id`, loading the
/// claims a chunk at a time.
async fn build(
    store: &dyn Store,
    payer: &Payer,
    groups: &[Group],
    next_id: &mut i64,
    out: &mut PaymentRun,
) -> Result<Vec<NewPayment>, EngineError> {
    let created_at = Utc::now();
    let mut payments = Vec::with_capacity(groups.len());
    let mut i = 0;
    while i < groups.len() {
        let mut j = i;
        let mut n = 0;
        while j < groups.len() && (n == 0 || n + groups[j].claims.len() <= BUILD_CHUNK) {
            n += groups[j].claims.len();
            j += 1;
        }
        let numbers: Vec<domain::ClaimNumber> = groups[i..j]
            .iter()
            .flat_map(|g| g.claims.iter().cloned())
            .collect();
        let loaded = store.payables(&numbers).await?;
        let by_number: HashMap<&str, &Payable> = loaded
            .iter()
            .map(|p| (p.claim.number.as_str(), p))
            .collect();
        for g in &groups[i..j] {
            let claims: Vec<&Payable> = g
                .claims
                .iter()
                .filter_map(|c| by_number.get(c.as_str()).copied())
                .collect();
            let Some(first) = claims.first() else {
                continue;
            };
            let id = *next_id;
            *next_id += 1;
            let amount: Cents = claims.iter().map(|p| p.claim.paid()).sum();
            let number = payment_number(id);
            // Checks: EFT needs the payee's bank enrolment, which the plan's records do not
            // hold. A payee with nothing to pay gets a notification-only remittance (BPR01 H,
            // BPR04 NON) so the office still learns of its denials.
            let method = if amount > Cents::ZERO { "CHK" } else { "NON" };
            let mut payment = NewPayment {
                id,
                number: number.clone(),
                method: method.into(),
                paid_on: g.paid_on,
                amount,
                payee: first.payee.clone(),
                claims: claims.iter().map(|p| p.claim.number.clone()).collect(),
                filename: format!("835-{}-{number}.x12", g.paid_on.format("%Y%m%d")),
                x835: String::new(),
                created_at,
            };
            payment.x835 = remittance(payer, &payment, &claims, (id % 1_000_000_000) as u32);
            let report = x12::validate_bytes(payment.x835.as_bytes(), &x12::Options::default());
            if !report.accepted() {
                let message = report
                    .errors_by_offset()
                    .first()
                    .map(|i| i.message.clone())
                    .unwrap_or_else(|| "rejected".into());
                return Err(EngineError::InvalidRemittance { number, message });
            }
            out.total_paid += amount;
            out.claims += claims.len() as u64;
            out.payments += 1;
            out.remittances += 1;
            payments.push(payment);
        }
        i = j;
    }
    Ok(payments)
}

/// A payment run on `opts.as_of`: every finalized claim not yet reported, one payment and one
/// 835 per payee, all stored in one transaction (a failure stores nothing).
pub async fn pay(store: &dyn Store, opts: &Options) -> Result<PaymentRun, EngineError> {
    let payable = store.payable_claims(opts.as_of).await?;
    let mut groups: Vec<Group> = Vec::new();
    let mut last_tin = None;
    for storage::PayableClaim {
        number: claim,
        payee_tin: tin,
        ..
    } in payable
    {
        if last_tin != Some(tin) {
            groups.push(Group {
                paid_on: opts.as_of,
                claims: Vec::new(),
            });
            last_tin = Some(tin);
        }
        if let Some(g) = groups.last_mut() {
            g.claims.push(claim);
        }
    }
    let mut out = PaymentRun::default();
    let mut next_id = store.last_payment_id().await? + 1;
    let payments = build(store, &opts.payer, &groups, &mut next_id, &mut out).await?;
    store.record_payments(&payments).await?;
    Ok(out)
}

/// The Friday on or after `day` (the plan's weekly check run).
pub fn next_friday(day: NaiveDate) -> NaiveDate {
    let ahead = (4 + 7 - day.weekday().num_days_from_monday()) % 7;
    day + Days::new(u64::from(ahead))
}

/// Pays decided history as weekly check runs: each claim on the Friday on or after the day it
/// was decided, up to `to`; one payment and 835 per payee and Friday. Claims decided after the
/// last Friday are left for the engine's next run. Stored a chunk of payees at a time.
pub async fn pay_history(
    store: &dyn Store,
    payer: &Payer,
    to: NaiveDate,
) -> Result<PaymentRun, EngineError> {
    let payable = store.payable_claims(to).await?;
    let mut by_key: std::collections::BTreeMap<(Tin, NaiveDate), Vec<domain::ClaimNumber>> =
        std::collections::BTreeMap::new();
    for storage::PayableClaim {
        number: claim,
        payee_tin: tin,
        decided_on: decided,
    } in payable
    {
        let friday = next_friday(decided.unwrap_or(to));
        if friday <= to {
            by_key.entry((tin, friday)).or_default().push(claim);
        }
    }
    let groups: Vec<Group> = by_key
        .into_iter()
        .map(|((_, paid_on), claims)| Group { paid_on, claims })
        .collect();
    let mut out = PaymentRun::default();
    let mut next_id = store.last_payment_id().await? + 1;
    for chunk in groups.chunks(500) {
        let payments = build(store, payer, chunk, &mut next_id, &mut out).await?;
        store.record_payments(&payments).await?;
    }
    Ok(out)
}

/// Patient responsibility of the 835's claims (for the report).
pub fn patient_share(claims: &[Payable]) -> Cents {
    claims
        .iter()
        .flat_map(|p| p.claim.lines.iter())
        .flat_map(|l| l.adjustments.iter())
        .filter(|a| a.group == AdjustmentGroup::PatientResponsibility)
        .map(|a| a.amount)
        .sum()
}
