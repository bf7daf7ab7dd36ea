//! Payments ([`PaymentStore`]): payment runs (payments, the claims they report, their 835s) in
//! one transaction, and the office-side remittance reads, scoped by the payee's TIN
//! (`Owner::Payment`).

use crate::claims::load_many;
use crate::pool::SqlStore;
use crate::rows::{claim_number, npi, tin};
use crate::scope::{Owner, Tins};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, StorageError, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::claim::Claim;
use domain::{Cents, ClaimNumber, Npi, Tin};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Payment runs (payments, the claims they report, their 835s) and the office's remittances,
/// scoped by the payee's TIN.
#[async_trait::async_trait]
pub trait PaymentStore: Send + Sync {
    /// Finalized claims no payment reports yet, decided on or before `as_of`, ordered by the
    /// payee's TIN.
    async fn payable_claims(&self, as_of: NaiveDate) -> Result<Vec<PayableClaim>>;
    /// These claims with their payee and patient name, for a payment run (a few queries).
    async fn payables(&self, claims: &[ClaimNumber]) -> Result<Vec<Payable>>;
    async fn last_payment_id(&self) -> Result<i64>;
    /// Stores a payment run (payments, their claims, their 835s; claims get their payment
    /// number and date) in one transaction; fails whole if any claim was already reported.
    async fn record_payments(&self, payments: &[NewPayment]) -> Result<()>;
    /// Payments to payees under the scope's TINs, newest first, with the total count.
    async fn payments_in_scope(
        &self,
        scope: &Scope,
        offset: i64,
        limit: i64,
    ) -> Result<PaymentPage>;
    /// One payment by number, or `None` when missing *or* outside the scope.
    async fn payment_in_scope(&self, number: &str, scope: &Scope)
    -> Result<Option<PaymentSummary>>;
    /// The claims a payment reports (call after [`PaymentStore::payment_in_scope`]).
    async fn payment_claims(&self, payment_id: i64) -> Result<Vec<Claim>>;
    /// The payment's 835 as sent.
    async fn remittance_file(&self, payment_id: i64) -> Result<Option<RemittanceFile>>;
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
    /// The day it was decided; `None` for a claim stored already decided without that date.
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
    /// Assigned in order by the payment run (after [`PaymentStore::last_payment_id`]).
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

#[async_trait::async_trait]
impl PaymentStore for SqlStore {
    async fn payable_claims(&self, as_of: NaiveDate) -> Result<Vec<PayableClaim>> {
        // A claim whose billing provider the directory does not know is left out: nothing says
        // where its money goes (it stays unpaid, visible to the plan).
        const SQL: &str = "SELECT c.number, pr.tin, a.adjudicated_on FROM claims c JOIN providers pr ON pr.npi = c.billing_npi \
            LEFT JOIN claim_adjudications a ON a.claim_number = c.number \
            WHERE c.payment_number IS NULL AND c.status IN ('paid', 'denied', 'partial') \
            AND (a.adjudicated_on IS NULL OR a.adjudicated_on <= $1) ORDER BY pr.tin, c.number";
        let rows: Vec<(String, String, Option<NaiveDate>)> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(as_of).fetch_all(p).await?);
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

    async fn payables(&self, numbers: &[ClaimNumber]) -> Result<Vec<Payable>> {
        let numbers: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
        let claims = load_many(self, &numbers).await?;
        let mut npis: Vec<String> = claims.iter().map(|c| c.billing_npi.to_string()).collect();
        npis.sort();
        npis.dedup();
        let mut members: Vec<String> = claims.iter().map(|c| c.member.to_string()).collect();
        members.sort();
        members.dedup();
        let mut payees: HashMap<String, Payee> = HashMap::new();
        for chunk in npis.chunks(INSERT_CHUNK) {
            let rows: Vec<(String, String, String, bool)> = on_pool!(self, p, DB => {
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
            let rows: Vec<(String, String, String, bool)> = on_pool!(self, p, DB => {
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
            let rows: Vec<(String, String, String)> = on_pool!(self, p, DB => {
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

    async fn last_payment_id(&self) -> Result<i64> {
        const SQL: &str = "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM payments";
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL).fetch_one(p).await?))
    }

    /// Stores a whole payment run in one transaction; a claim already reported elsewhere fails it all.
    async fn record_payments(&self, payments: &[NewPayment]) -> Result<()> {
        if payments.is_empty() {
            return Ok(());
        }
        on_pool!(self, p, DB => {
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

    async fn payments_in_scope(
        &self,
        scope: &Scope,
        offset: i64,
        limit: i64,
    ) -> Result<PaymentPage> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(PaymentPage::default());
        };
        let (rows, total): (Vec<PaymentRow>, i64) = on_pool!(self, p, DB => {
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

    async fn payment_in_scope(
        &self,
        number: &str,
        scope: &Scope,
    ) -> Result<Option<PaymentSummary>> {
        let Some(tins) = Tins::of(scope) else {
            return Ok(None);
        };
        let row: Option<PaymentRow> = on_pool!(self, p, DB => {
            let mut b = QueryBuilder::<DB>::new(PAYMENT_COLUMNS);
            tins.push(&mut b, Owner::Payment);
            b.push(" AND number = ").push_bind(number.to_string());
            b.build_query_as::<PaymentRow>().fetch_optional(p).await?
        });
        Ok(row.map(PaymentSummary::from))
    }

    async fn payment_claims(&self, payment_id: i64) -> Result<Vec<Claim>> {
        const SQL: &str =
            "SELECT claim_number FROM payment_claims WHERE payment_id = $1 ORDER BY claim_number";
        let numbers: Vec<String> = on_pool!(self, p, DB => sqlx::query_scalar::<DB, String>(SQL).bind(payment_id).fetch_all(p).await?);
        load_many(self, &numbers).await
    }

    async fn remittance_file(&self, payment_id: i64) -> Result<Option<RemittanceFile>> {
        const SQL: &str = "SELECT filename, content FROM remittance_files WHERE payment_id = $1";
        let row: Option<(String, String)> = on_pool!(self, p, DB => sqlx::query_as::<DB, (String, String)>(SQL).bind(payment_id).fetch_optional(p).await?);
        Ok(row.map(|(filename, x835)| RemittanceFile { filename, x835 }))
    }
}
