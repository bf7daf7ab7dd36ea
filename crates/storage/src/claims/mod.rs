//! Claims with their lines and adjustments ([`ClaimStore`]): the office's claim list and search,
//! one claim in scope, and the 276's one-statement read.

mod load;
mod sql;

pub(crate) use load::{insert_claims_in, load_many};

use crate::Result;
use chrono::NaiveDate;
use domain::access::Scope;
use domain::claim::{Claim, ClaimForm, ClaimStatus, PaymentRef};
use domain::{Cents, ClaimNumber, MemberId, Npi};

/// One row of an office's claim list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSummary {
    pub number: ClaimNumber,
    pub member: MemberId,
    pub member_name: String,
    pub billing_npi: Npi,
    pub received: NaiveDate,
    /// First date of service over the lines.
    pub service_from: NaiveDate,
    pub status: domain::claim::ClaimStatus,
    pub billed: Cents,
    pub paid: Cents,
    /// CLM01, the office's own patient account number.
    pub patient_account: String,
}

/// What an office (or a 276) looks claims up by: any combination, all given ones must match.
/// Dates bound the claim's first date of service, inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimQuery {
    pub number: Option<ClaimNumber>,
    pub patient_account: Option<String>,
    pub member: Option<MemberId>,
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    /// At most this many, newest first (clamped to 1..=10,000).
    pub limit: i64,
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

/// Claims with their lines and adjustments; the office's claims, scoped by the billing
/// provider's TIN.
#[async_trait::async_trait]
pub trait ClaimStore: Send + Sync {
    async fn insert_claims(&self, claims: &[Claim]) -> Result<()>;
    async fn claim(&self, number: &ClaimNumber) -> Result<Option<Claim>>;
    /// Office-side claims: only those billed under a TIN the scope allows, newest first.
    async fn claims_in_scope(&self, scope: &Scope, limit: i64) -> Result<Vec<ClaimSummary>>;
    /// One claim, or `None` when it does not exist *or* lies outside the scope (no leak of which).
    async fn claim_in_scope(&self, number: &ClaimNumber, scope: &Scope) -> Result<Option<Claim>>;
    /// Office-side claim search (claim number, patient account, member, first date of service
    /// range), limited to the scope's TINs, newest first.
    async fn search_claims(&self, scope: &Scope, query: &ClaimQuery) -> Result<Vec<ClaimSummary>>;
    /// Claims for a 276 with payment and lines, limited to the scope's TINs, newest first (at
    /// most 100): one round trip, because a partner's real-time request waits on it.
    async fn claim_statuses(
        &self,
        scope: &Scope,
        query: &ClaimQuery,
    ) -> Result<Vec<ClaimStatusRecord>>;
}
