//! Eligibility ([`EligibilityStore`]): the 270's one-statement read of a member's coverage
//! (a partner's real-time request waits on it), plan notices, the care-gap inputs of an
//! office's assigned members (scoped through the PCP on the covering span), and batch results
//! kept for download.

mod sql;

use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::eligibility::PlanNotice;
use domain::member::{EligibilitySpan, Member};
use domain::plan::NetworkKind;
use domain::{MemberId, Npi, Tin};

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

/// A member whose PCP on the span covering the day is a provider under one of the scope's TINs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedMember {
    pub member: Member,
    pub pcp: Npi,
}

/// One claim line of an assigned member: date of service, procedure and the claim's diagnoses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFact {
    pub member: MemberId,
    pub date: NaiveDate,
    pub procedure: String,
    pub diagnoses: Vec<String>,
}

/// What the care-gap rules need for an office: its assigned members (by name) and their claim
/// lines since a day (any billing provider: the PCP is responsible for the member's care).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CareGapInputs {
    pub members: Vec<AssignedMember>,
    pub services: Vec<ServiceFact>,
}

/// How a batch's rows came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub rows: i64,
    pub found: i64,
    pub inactive: i64,
    pub not_found: i64,
    pub errors: i64,
}

/// A batch eligibility result to keep for its uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBatch {
    /// Random, unguessable (also in the download link).
    pub id: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub filename: String,
    pub counts: BatchCounts,
    /// Members the result names (audited again on each download).
    pub member_ids: Vec<MemberId>,
    /// The result CSV.
    pub result: Vec<u8>,
}

/// A stored batch without its CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub id: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub filename: String,
    pub counts: BatchCounts,
    pub member_ids: Vec<MemberId>,
}

/// A stored batch with its result CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFile {
    pub record: BatchRecord,
    pub csv: Vec<u8>,
}

/// What the eligibility pages and the 270 read: a member's coverage in one statement, the plan's
/// notices, an office's care-gap inputs, batch results kept for their uploader.
#[async_trait::async_trait]
pub trait EligibilityStore: Send + Sync {
    /// A 270's member (by id, or last name and birth date) with their coverage, each span's
    /// network and PCP, and the asking provider's TIN: one round trip.
    async fn eligibility(&self, lookup: &EligibilityLookup) -> Result<EligibilityFound>;
    async fn insert_plan_notices(&self, notices: &[PlanNotice]) -> Result<()>;
    /// Every plan notice, by code (a small table: which apply is decided in `domain`).
    async fn plan_notices(&self) -> Result<Vec<PlanNotice>>;
    /// The office's assigned members on `on` (PCP on the covering span is under one of the
    /// scope's TINs), by name, and their claim lines from `since` to `on` (rejected claims left
    /// out): two queries whatever the number of members.
    async fn care_gap_inputs(
        &self,
        scope: &Scope,
        on: NaiveDate,
        since: NaiveDate,
    ) -> Result<CareGapInputs>;
    /// One member's claim lines from `since` to `on` (rejected claims left out): the care-gap
    /// count on the eligibility page.
    async fn member_care_facts(
        &self,
        id: &MemberId,
        on: NaiveDate,
        since: NaiveDate,
    ) -> Result<Vec<ServiceFact>>;
    /// Keeps a batch eligibility result, removing every result created before `purge_before`.
    async fn save_batch(&self, batch: &NewBatch, purge_before: DateTime<Utc>) -> Result<()>;
    /// A batch result of `user_id` created at or after `not_before`, with its CSV; `None` for
    /// anyone else's, an expired one or an unknown id (the same answer).
    async fn batch(
        &self,
        id: &str,
        user_id: i64,
        not_before: DateTime<Utc>,
    ) -> Result<Option<BatchFile>>;
}
