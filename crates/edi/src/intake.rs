//! 837P and 837I batches in; a 999 and a 277CA out; accepted claims stored as received.
//!
//! [`intake`] is the one way claims enter the plan, whichever door they came through (a portal
//! upload, the CAQH CORE batch endpoint, `portal edi ingest`):
//!
//! 1. The bytes are hashed (SHA-256). The same bytes already stored answer with the original
//!    acknowledgements, marked as a duplicate; the same sender and ISA13 with *other* bytes are
//!    refused with a TA1 (TA105 `025`, "Duplicate Interchange Control Number").
//! 2. The interchange is validated against its guide (005010X222A1/A2 professional,
//!    005010X223A2/A3 institutional; the guide chooses the claim form) and the 999 (or TA1) is
//!    written. Transaction sets the 999 rejects contribute no claims.
//! 3. Each claim of an accepted set is checked against the plan's records (member, eligibility
//!    on the dates of service, billing provider and whether the submitter may bill for its TIN,
//!    the TIN sent, dates not in the future, charges that add up, duplicates in the file). It is
//!    accepted with a new plan claim number, or rejected with the 277CA codes that say why.
//! 4. ONE transaction stores the interchange record (sender, ISA13, hash, time, submitter,
//!    counts, the 999 and 277CA texts), every accepted claim (status Received) and the outcome
//!    of every claim: a failure part-way leaves nothing. A race between two identical
//!    submissions is settled by the unique index; the loser answers as a duplicate.
//! 5. The submission is written to the audit trail (who, which interchange, counts). Logs carry
//!    counts only, never a member or a claim.
//!
//! 277CA codes (X12 external code lists 507, Health Care Claim Status Category Codes, and 508,
//! Health Care Claim Status Codes, as published by X12; category use limited to the "A" codes
//! in batch mode per the 005010X214 STC01-1 note, X12 RFI 1942):
//!
//! | outcome | STC01 | 507 / 508 meaning |
//! |---|---|---|
//! | accepted | `A2:20` | Acceptance into adjudication system / Accepted for processing |
//! | member not found | `A3:33` | Returned as unprocessable / Subscriber and subscriber id not found |
//! | not covered on the date of service | `A3:88:IL` | Entity not eligible for benefits for submitted dates of service (subscriber) |
//! | billing NPI unknown or invalid | `A7:562:85` | Rejected for invalid information / Entity's National Provider Identifier (billing provider) |
//! | rendering NPI invalid | `A7:562:82` | same, rendering provider |
//! | billing provider not under the submitter's TINs | `A3:496:85` | Submitter not approved for electronic claim submissions on behalf of this entity |
//! | TIN sent differs from the provider's | `A7:128:85` | Entity's tax id |
//! | date of service missing / invalid or in the future | `A6:187` / `A7:187` | Rejected for missing / invalid information: Date(s) of service (508 also has `510` "Future date", which needs a second STC composite naming the element; the one-composite writer sends 187) |
//! | line charges do not add up to CLM02 | `A7:400` | Claim is out of balance |
//! | line charge or units not usable | `A7:178` / `A7:476` | Submitted charges / Missing or invalid units of service |
//! | replacement or void (CLM05-3 7, 8) | `A7:535` | Claim Frequency Code |
//! | the same claim twice in the file | `A3:78` | Duplicate of an existing claim/line, awaiting processing |

use crate::Partner;
use chrono::{DateTime, NaiveDate, Utc};
use domain::access::Scope;
use domain::audit::AuditEvent;
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use std::collections::{BTreeMap, HashSet};
use storage::{
    IntakeClaimResult, IntakeLookup, InterchangeRecord, InterchangeStatus, NewInterchange,
    StorageError, Store,
};
use x12::model::{self, ClaimAck, Envelope, Party, Person};
use x12::report::InterchangeInfo;
use x12::tokenizer::Split;
use x12::validate::Sink;

/// Who sent the interchange.
#[derive(Debug, Clone)]
pub enum Who {
    /// A portal user or an EDI trading partner: may bill only for its own TINs.
    Partner(Partner),
    /// The plan's operator at the command line: acts for the plan, any billing provider on file.
    Operator,
}

/// The submitter as intake records it.
#[derive(Debug, Clone)]
pub struct Submitter {
    pub who: Who,
    /// Where it came from, for the audit trail: a client address, "CAQH CORE", "portal edi ingest".
    pub source: String,
    /// The file's name as uploaded (empty when there is none, e.g. over CORE).
    pub file_name: String,
}

impl Submitter {
    pub fn partner(partner: Partner, source: impl Into<String>) -> Self {
        Submitter {
            who: Who::Partner(partner),
            source: source.into(),
            file_name: String::new(),
        }
    }

    pub fn operator(source: impl Into<String>) -> Self {
        Submitter {
            who: Who::Operator,
            source: source.into(),
            file_name: String::new(),
        }
    }

    pub fn with_file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.chars_limited(200);
        self
    }
}

trait Limited {
    fn chars_limited(self, n: usize) -> String;
}
impl<T: Into<String>> Limited for T {
    fn chars_limited(self, n: usize) -> String {
        self.into().chars().take(n).collect()
    }
}

/// How the interchange came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every transaction set accepted by the 999 (claims may still be rejected one by one).
    Accepted,
    /// Some transaction sets rejected by the 999; the claims of the others were processed.
    Partial,
    /// Nothing processed: the TA1 or the 999 rejected it, or it is not a claims file.
    Rejected,
    /// Received before: the original acknowledgements are sent again, nothing is stored.
    Duplicate,
}

/// What intake answers: the acknowledgements and the outcome of every claim.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    /// The interchange as recorded (for a duplicate: the original one).
    pub interchange_id: Option<i64>,
    /// ISA06 and ISA13 as sent.
    pub sender: String,
    pub control: String,
    /// The 999 (or TA1) to send back.
    pub ack: String,
    /// The 277CA, when any transaction set was accepted.
    pub claim_ack: Option<String>,
    /// One per claim of the accepted sets, in file order.
    pub claims: Vec<IntakeClaimResult>,
    pub accepted: usize,
    pub rejected: usize,
    /// The 999's (or TA1's) findings in words, naming segment and element.
    pub findings: Vec<String>,
    /// A problem with the file as a whole, in words (not a claims file, a reused control
    /// number, already received).
    pub problem: Option<String>,
    pub received_at: DateTime<Utc>,
    /// Where the time went (zero for the steps not reached).
    pub timings: Timings,
}

/// Seconds spent per step of an intake.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Validation, 999 and reading the claims out of the sets.
    pub validate: f64,
    /// Checking each claim against the plan's records, numbering, the 277CA.
    pub check: f64,
    /// The one transaction storing everything.
    pub store: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The claims of one transaction set, read as the validator walks it.
struct SetClaims {
    set: String,
    control: String,
    guide: Option<&'static str>,
    accepted: bool,
    claims: Vec<model::Claim>,
}

/// Builds each transaction set's loop tree, turns it into claims at its SE and drops the tree,
/// so memory holds one set at a time, however long the file.
struct Collect {
    tree: model::TreeBuilder,
    sets: Vec<SetClaims>,
}

impl Sink for Collect {
    fn begin_set(&mut self, guide: Option<&'static x12::guide::Guide>, st: &Split<'_, '_>) {
        self.tree.begin_set(guide, st);
    }
    fn enter_loop(&mut self, def: &'static x12::guide::LoopDef) {
        self.tree.enter_loop(def);
    }
    fn exit_loop(&mut self) {
        self.tree.exit_loop();
    }
    fn segment(&mut self, seg: &Split<'_, '_>, def: Option<&'static x12::guide::SegDef>) {
        self.tree.segment(seg, def);
    }
    fn end_set(&mut self, accepted: bool) {
        self.tree.end_set(accepted);
        if let Some(t) = self.tree.sets.pop() {
            let claims = if t.set == "837" && accepted {
                model::Claim::all_from_tree(&t.root, t.guide == Some(INSTITUTIONAL))
            } else {
                Vec::new()
            };
            self.sets.push(SetClaims {
                set: t.set,
                control: t.control,
                guide: t.guide,
                accepted,
                claims,
            });
        }
    }
}

const INSTITUTIONAL: &str = "005010X223A2";
const PROFESSIONAL: &str = "005010X222A1";
/// Findings kept in words with the interchange.
const MAX_FINDINGS: usize = 500;

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The plan's calendar date at `now` (dates of service are compared with it).
fn plan_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&domain::clock::pacific_offset(now))
        .date_naive()
}

/// Takes in one interchange of 837 claims from `submitter`, answering with the 999 and 277CA and
/// storing the accepted claims (see the module documentation for every step).
pub async fn intake(
    store: &dyn Store,
    submitter: &Submitter,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<Outcome, IntakeError> {
    let (user, org, name, scope) = match &submitter.who {
        Who::Partner(p) => {
            let name = store
                .user(p.user_id)
                .await?
                .map(|u| u.username)
                .unwrap_or_else(|| format!("user {}", p.user_id));
            (Some(p.user_id), Some(p.org_id), name, Some(p.scope.clone()))
        }
        Who::Operator => (None, None, "operator".to_string(), None),
    };
    let ctx = Context {
        store,
        submitter,
        user,
        org,
        name,
        now,
        sha: sha256_hex(bytes),
        bytes: bytes.len(),
    };

    // 1. The same bytes again: the original answer.
    if let Some(original) = store.interchange_by_hash(&ctx.sha).await? {
        return ctx.duplicate(original).await;
    }

    // 2. Validate, collecting claims set by set.
    let clock = std::time::Instant::now();
    let mut timings = Timings::default();
    let mut collect = Collect {
        tree: model::TreeBuilder::new(usize::MAX),
        sets: Vec::new(),
    };
    let start = bytes.iter().position(|&c| c == b'I').unwrap_or(0);
    if let Ok((d, _, _)) = x12::delimiters::from_isa(&bytes[start..]) {
        collect.tree.delimiters(&d);
    }
    let report = x12::validate_with(bytes, &x12::Options::default(), Some(&mut collect))
        .expect("reading from memory cannot fail");
    let findings: Vec<String> = report
        .issues()
        .take(MAX_FINDINGS)
        .map(ToString::to_string)
        .collect();
    let controls = store.reserve_control_numbers(2).await?;
    let env_date = now.format("%Y%m%d").to_string();
    let env_time = now.format("%H%M").to_string();
    let ic = report.interchanges.first().cloned().unwrap_or_default();
    let ack_options = x12::ack::AckOptions {
        control: (controls % 1_000_000_000) as u32,
        date: env_date.clone(),
        time: env_time.clone(),
        sender: ("ZZ".into(), receiver_of(&ic)),
    };

    if report.interchanges.len() > 1 {
        let ack = x12::ack::acknowledgement(&report, &ack_options);
        let problem = format!(
            "The file holds {} interchanges (ISA ... IEA); send each in its own file.",
            report.interchanges.len()
        );
        return ctx
            .rejected(&ic, ack, findings, Some(problem), String::new())
            .await;
    }

    // The same sender and control number with other content: TA1 025.
    if !ic.control.is_empty()
        && !report.envelope_rejected()
        && let Some(original) = store
            .interchange_by_control(&ic.sender_qualifier, &ic.sender, &ic.control)
            .await?
    {
        if original.sha256 == ctx.sha {
            // The same bytes, stored while this copy was being read (a race).
            return ctx.duplicate(original).await;
        }
        let ack = ta1_duplicate(&ic, &ack_options);
        let problem = format!(
            "Interchange control number {} from {} was already used for another file received {}; give each new file its own ISA13 (TA1 note 025, Duplicate Interchange Control Number).",
            ic.control,
            ic.sender,
            original.received_at.format("%Y-%m-%d %H:%M UTC")
        );
        return ctx
            .rejected(&ic, ack, findings, Some(problem), String::new())
            .await;
    }

    let ack = x12::ack::acknowledgement(&report, &ack_options);
    if report.envelope_rejected() || report.interchanges.is_empty() {
        return ctx.rejected(&ic, ack, findings, None, String::new()).await;
    }
    if let Some(other) = collect.sets.iter().find(|s| s.set != "837") {
        let problem = format!(
            "This file holds a {} transaction set; claims intake takes 837 claims only (837P 005010X222A1, 837I 005010X223A2).",
            other.set
        );
        return ctx
            .rejected(&ic, ack, findings, Some(problem), String::new())
            .await;
    }
    let accepted_sets: Vec<&SetClaims> = collect.sets.iter().filter(|s| s.accepted).collect();
    if accepted_sets.is_empty() {
        let problem = (collect.sets.is_empty())
            .then(|| "The file holds no transaction set (ST ... SE).".to_string());
        return ctx
            .rejected(&ic, ack, findings, problem, String::new())
            .await;
    }
    let mut forms: Vec<&str> = Vec::new();
    for s in &accepted_sets {
        let f = if s.guide == Some(INSTITUTIONAL) {
            "I"
        } else {
            "P"
        };
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    let status = if accepted_sets.len() == collect.sets.len() {
        InterchangeStatus::Accepted
    } else {
        InterchangeStatus::Partial
    };

    timings.validate = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    // 3. Each claim against the plan's records.
    let drafts: Vec<(&SetClaims, &model::Claim)> = accepted_sets
        .iter()
        .flat_map(|s| s.claims.iter().map(move |c| (*s, c)))
        .collect();
    let mut member_ids: Vec<MemberId> = drafts
        .iter()
        .filter_map(|(_, c)| MemberId::parse(&c.subscriber.member_id).ok())
        .collect();
    member_ids.sort();
    member_ids.dedup();
    let mut npis: Vec<Npi> = drafts
        .iter()
        .filter_map(|(_, c)| Npi::parse(&c.billing_provider.id).ok())
        .collect();
    npis.sort();
    npis.dedup();
    let lookup = store.intake_lookup(&member_ids, &npis).await?;
    let today = plan_today(now);
    let mut seen = HashSet::new();
    let mut checked: Vec<(usize, Result<Claim, Reject>)> = Vec::with_capacity(drafts.len());
    for (i, (set, c)) in drafts.iter().enumerate() {
        let form = if set.guide == Some(INSTITUTIONAL) {
            ClaimForm::Institutional
        } else {
            ClaimForm::Professional
        };
        let mut r = check(c, form, &lookup, scope.as_ref(), today);
        if let Ok(claim) = &r {
            let key = (
                claim.billing_npi,
                claim.patient_account.clone(),
                claim.member.clone(),
                claim.from_date(),
                claim.billed(),
            );
            if !seen.insert(key) {
                r = Err(Reject::new(
                    "A3:78",
                    format!(
                        "The same claim (patient account {}, same member, date and charges) is in this file twice; only the first was taken.",
                        claim.patient_account
                    ),
                ));
            }
        }
        checked.push((i, r));
    }
    let accepted_count = checked.iter().filter(|(_, r)| r.is_ok()).count();
    let first = if accepted_count > 0 {
        store.reserve_claim_numbers(accepted_count as u64).await?
    } else {
        0
    };
    let mut claims = Vec::with_capacity(accepted_count);
    let mut results = Vec::with_capacity(drafts.len());
    let mut next = first;
    for (i, r) in checked {
        let (set, x) = drafts[i];
        let charge = Cents::parse(&x.total_charge).unwrap_or(Cents::ZERO);
        let mut result = IntakeClaimResult {
            seq: i as i64 + 1,
            set_control: set.control.clone(),
            patient_account: x.claim_id.clone(),
            member_id: x.subscriber.member_id.clone(),
            billing_npi: x.billing_provider.id.clone(),
            charge,
            claim_number: None,
            status_code: String::new(),
            reason: String::new(),
        };
        match r {
            Ok(mut claim) => {
                claim.number = ClaimNumber::from_sequence(next);
                next += 1;
                result.claim_number = Some(claim.number.clone());
                result.status_code = "A2:20".into();
                result.reason = format!(
                    "Accepted into adjudication as claim {} (status Received).",
                    claim.number
                );
                claims.push(claim);
            }
            Err(rej) => {
                result.status_code = rej.code.into();
                result.reason = rej.reason;
            }
        }
        results.push(result);
    }

    // The 277CA: one transaction set per billing provider.
    let claim_ack = claim_ack(&ic, &drafts, &results, controls + 1, now, today);
    let rejected_count = results.len() - accepted_count;
    let new = NewInterchange {
        sender_qualifier: ic.sender_qualifier.clone(),
        sender_id: ic.sender.clone(),
        control_number: ic.control.clone(),
        sha256: ctx.sha.clone(),
        received_at: now,
        submitter_user: user,
        submitter_org: org,
        submitter_name: ctx.name.clone(),
        source: submitter.source.clone(),
        file_name: submitter.file_name.clone(),
        bytes: bytes.len() as i64,
        forms: forms.join(","),
        status,
        claims_accepted: accepted_count as i64,
        claims_rejected: rejected_count as i64,
        ack_999: ack.clone(),
        ack_277ca: Some(claim_ack.clone()),
        findings: findings.join("\n"),
    };

    timings.check = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    // 4. One transaction.
    let id = match store.store_interchange(&new, &claims, &results).await {
        Ok(id) => id,
        Err(StorageError::Duplicate(_)) => {
            // Lost a race with the same interchange sent at the same time.
            if let Some(original) = store.interchange_by_hash(&ctx.sha).await? {
                return ctx.duplicate(original).await;
            }
            if let Some(original) = store
                .interchange_by_control(&ic.sender_qualifier, &ic.sender, &ic.control)
                .await?
            {
                let ack = ta1_duplicate(&ic, &ack_options);
                let problem = format!(
                    "Interchange control number {} from {} was used for another file received {}; give each new file its own ISA13 (TA1 note 025).",
                    ic.control,
                    ic.sender,
                    original.received_at.format("%Y-%m-%d %H:%M UTC")
                );
                return ctx
                    .rejected(&ic, ack, findings, Some(problem), String::new())
                    .await;
            }
            return Err(StorageError::Duplicate("claim number".into()).into());
        }
        Err(e) => return Err(e.into()),
    };
    timings.store = clock.elapsed().as_secs_f64();
    let verdict = match status {
        InterchangeStatus::Accepted => Verdict::Accepted,
        _ => Verdict::Partial,
    };
    tracing::info!(
        claims_accepted = accepted_count,
        claims_rejected = rejected_count,
        bytes = bytes.len(),
        validate_s = timings.validate,
        check_s = timings.check,
        store_s = timings.store,
        "837 intake stored"
    );
    // 5. The audit trail.
    ctx.audit(
        &id.to_string(),
        &format!("accepted {accepted_count}, rejected {rejected_count}"),
    )
    .await;
    Ok(Outcome {
        verdict,
        interchange_id: Some(id),
        sender: ic.sender.clone(),
        control: ic.control.clone(),
        ack,
        claim_ack: Some(claim_ack),
        claims: results,
        accepted: accepted_count,
        rejected: rejected_count,
        findings,
        problem: None,
        received_at: now,
        timings,
    })
}

/// What every step needs about this submission.
struct Context<'a> {
    store: &'a dyn Store,
    submitter: &'a Submitter,
    user: Option<i64>,
    org: Option<i64>,
    name: String,
    now: DateTime<Utc>,
    sha: String,
    bytes: usize,
}

impl Context<'_> {
    async fn audit(&self, record: &str, outcome: &str) {
        let e = AuditEvent {
            actor: self.user,
            actor_name: self.name.clone(),
            org: self.org,
            action: "edi.intake".into(),
            record_type: "interchange".into(),
            record_id: record.into(),
            outcome: outcome.into(),
            source: self.submitter.source.chars().take(200).collect(),
        };
        if let Err(err) = self.store.audit(&e).await {
            tracing::error!(error = %err, "AUDIT WRITE FAILED for an 837 intake");
        }
    }

    /// Already received: the original acknowledgements, nothing new stored.
    async fn duplicate(&self, original: InterchangeRecord) -> Result<Outcome, IntakeError> {
        let acks = self.store.interchange_acks(original.id).await?;
        let results = self.store.interchange_results(original.id).await?;
        let (ack, claim_ack, findings) = match acks {
            Some(a) => (
                a.ack_999,
                a.ack_277ca,
                a.findings
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            None => (String::new(), None, Vec::new()),
        };
        tracing::info!(bytes = self.bytes, "837 intake: duplicate interchange");
        self.audit(&original.id.to_string(), "duplicate").await;
        Ok(Outcome {
            verdict: Verdict::Duplicate,
            interchange_id: Some(original.id),
            sender: original.sender_id.clone(),
            control: original.control_number.clone(),
            ack,
            claim_ack,
            accepted: original.claims_accepted as usize,
            rejected: original.claims_rejected as usize,
            claims: results,
            findings,
            problem: Some(format!(
                "This file was already received on {} (interchange {} from {}); nothing was stored again. These are its original acknowledgements.",
                original.received_at.format("%Y-%m-%d %H:%M UTC"),
                original.control_number,
                original.sender_id
            )),
            received_at: original.received_at,
            timings: Timings::default(),
        })
    }

    /// Rejected as a whole: recorded for the submitter's history, no claim stored.
    async fn rejected(
        &self,
        ic: &InterchangeInfo,
        ack: String,
        findings: Vec<String>,
        problem: Option<String>,
        forms: String,
    ) -> Result<Outcome, IntakeError> {
        let mut notes = findings.clone();
        if let Some(p) = &problem {
            notes.insert(0, p.clone());
        }
        let new = NewInterchange {
            sender_qualifier: ic.sender_qualifier.clone(),
            sender_id: ic.sender.clone(),
            control_number: ic.control.clone(),
            sha256: self.sha.clone(),
            received_at: self.now,
            submitter_user: self.user,
            submitter_org: self.org,
            submitter_name: self.name.clone(),
            source: self.submitter.source.clone(),
            file_name: self.submitter.file_name.clone(),
            bytes: self.bytes as i64,
            forms,
            status: InterchangeStatus::Rejected,
            claims_accepted: 0,
            claims_rejected: 0,
            ack_999: ack.clone(),
            ack_277ca: None,
            findings: notes.join("\n"),
        };
        let id = self.store.store_interchange(&new, &[], &[]).await?;
        tracing::info!(bytes = self.bytes, "837 intake: interchange rejected");
        self.audit(&id.to_string(), "rejected").await;
        Ok(Outcome {
            verdict: Verdict::Rejected,
            interchange_id: Some(id),
            sender: ic.sender.clone(),
            control: ic.control.clone(),
            ack,
            claim_ack: None,
            claims: Vec::new(),
            accepted: 0,
            rejected: 0,
            findings,
            problem,
            received_at: self.now,
            timings: Timings::default(),
        })
    }
}

/// Why a claim was rejected: the 277CA STC01 and the reason in words.
#[derive(Debug)]
struct Reject {
    code: &'static str,
    reason: String,
}

impl Reject {
    fn new(code: &'static str, reason: String) -> Self {
        Reject { code, reason }
    }
}

/// `CCYYMMDD` or `CCYYMMDD-CCYYMMDD` (the first date).
fn x12_date(s: &str) -> Option<NaiveDate> {
    let d = s.split('-').next()?;
    NaiveDate::parse_from_str(d, "%Y%m%d").ok()
}

/// Service units: whole numbers, or decimals rounded up (a partial unit is a unit).
fn units(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() {
        return Some(1);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let w: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let up = u32::from(frac.bytes().any(|b| b != b'0'));
    let n = w.checked_add(up)?;
    (n > 0).then_some(n)
}

/// One claim against the plan's records: a domain claim (numbered later) or why not.
fn check(
    c: &model::Claim,
    form: ClaimForm,
    lookup: &IntakeLookup,
    scope: Option<&Scope>,
    today: NaiveDate,
) -> Result<Claim, Reject> {
    if !matches!(c.frequency.as_str(), "1" | "") {
        return Err(Reject::new(
            "A7:535",
            format!(
                "Claim frequency {} (CLM05-3): replacement (7) and void (8) claims are not taken electronically yet; send an original claim (1) or file a correction with Provider Relations.",
                c.frequency
            ),
        ));
    }
    let Ok(billing) = Npi::parse(&c.billing_provider.id) else {
        return Err(Reject::new(
            "A7:562:85",
            format!(
                "The billing provider NPI {} (2010AA NM109) is not a valid NPI.",
                c.billing_provider.id
            ),
        ));
    };
    let Some(tin) = lookup.providers.get(&billing) else {
        return Err(Reject::new(
            "A7:562:85",
            format!(
                "The billing provider NPI {billing} is not in the plan's provider records; check the NPI or ask Provider Relations to add the provider."
            ),
        ));
    };
    if let Some(scope) = scope
        && !scope.allows_tin(tin)
    {
        return Err(Reject::new(
            "A3:496:85",
            format!(
                "Your account may not submit claims for billing provider {billing} (TIN {tin}); its TIN is not one your organisation acts for."
            ),
        ));
    }
    match Tin::parse(&c.billing_tax_id) {
        Ok(sent) if sent == *tin => {}
        _ => {
            return Err(Reject::new(
                "A7:128:85",
                format!(
                    "The tax ID sent for billing provider {billing} (2010AA REF*EI) does not match the TIN on file for that NPI."
                ),
            ));
        }
    }
    let member = MemberId::parse(&c.subscriber.member_id).ok();
    let Some((member, spans)) = member.and_then(|m| lookup.members.get(&m).map(|s| (m.clone(), s)))
    else {
        return Err(Reject::new(
            "A3:33",
            format!(
                "Member ID {} (2010BA NM109) is not one of the plan's members; check the ID on the member's card.",
                c.subscriber.member_id
            ),
        ));
    };
    let rendering = if c.rendering_npi.is_empty() {
        None
    } else {
        match Npi::parse(&c.rendering_npi) {
            Ok(n) => Some(n),
            Err(_) => {
                return Err(Reject::new(
                    "A7:562:82",
                    format!(
                        "The rendering provider NPI {} (2310B NM109) is not a valid NPI.",
                        c.rendering_npi
                    ),
                ));
            }
        }
    };
    let statement = x12_date(&c.statement_date);
    let mut lines = Vec::with_capacity(c.lines.len());
    let mut total = Cents::ZERO;
    for (i, l) in c.lines.iter().enumerate() {
        let n = i + 1;
        let date = if l.service_date.is_empty() {
            statement
        } else {
            match x12_date(&l.service_date) {
                Some(d) => Some(d),
                None => {
                    return Err(Reject::new(
                        "A7:187",
                        format!(
                            "Line {n}: the date of service {} (DTP*472) is not a date.",
                            l.service_date
                        ),
                    ));
                }
            }
        };
        let Some(date) = date else {
            return Err(Reject::new(
                "A6:187",
                format!("Line {n} has no date of service (DTP*472)."),
            ));
        };
        if date > today {
            return Err(Reject::new(
                "A7:187",
                format!(
                    "Line {n}: the date of service {} is in the future; claims are taken once the service was given.",
                    date.format("%m/%d/%Y")
                ),
            ));
        }
        if !spans.iter().any(|s| s.covers(date)) {
            return Err(Reject::new(
                "A3:88:IL",
                format!(
                    "Member {member} was not covered by the plan on {} (line {n}).",
                    date.format("%m/%d/%Y")
                ),
            ));
        }
        let Some(billed) = Cents::parse(&l.charge).filter(|c| c.0 >= 0) else {
            return Err(Reject::new(
                "A7:178",
                format!("Line {n}: the charge {} is not an amount.", l.charge),
            ));
        };
        let Some(units) = units(&l.units) else {
            return Err(Reject::new(
                "A7:476",
                format!(
                    "Line {n}: the units {} are not a number of services.",
                    l.units
                ),
            ));
        };
        total += billed;
        lines.push(ClaimLine {
            line_number: n as u16,
            procedure: l.procedure.clone(),
            modifiers: l.modifiers.clone(),
            revenue_code: (!l.revenue_code.is_empty()).then(|| l.revenue_code.clone()),
            units,
            service_date: date,
            billed,
            allowed: Cents::ZERO,
            paid: Cents::ZERO,
            adjustments: Vec::new(),
        });
    }
    match Cents::parse(&c.total_charge) {
        Some(t) if t == total => {}
        _ => {
            return Err(Reject::new(
                "A7:400",
                format!(
                    "The claim total {} (CLM02) is not the sum of its lines ({total}).",
                    c.total_charge
                ),
            ));
        }
    }
    Ok(Claim {
        number: ClaimNumber::from_sequence(0),
        form,
        patient_account: c.claim_id.clone(),
        member,
        billing_npi: billing,
        rendering_npi: rendering,
        diagnoses: c.diagnoses.iter().map(|d| d.replace('.', "")).collect(),
        place_of_service: c.facility_code.clone(),
        received: today,
        status: ClaimStatus::Received,
        lines,
        payment: None,
    })
}

/// Our own identifier as the sender addressed us (ISA08), for the acknowledgements.
fn receiver_of(ic: &InterchangeInfo) -> String {
    if ic.receiver.trim().is_empty() {
        "HEALTHPLAN".into()
    } else {
        ic.receiver.trim().to_string()
    }
}

fn pad(v: &str, n: usize) -> String {
    let v: String = v
        .chars()
        .filter(|c| !matches!(c, '*' | '^' | ':' | '~' | '\r' | '\n'))
        .take(n)
        .collect();
    format!("{v:<n$}")
}

/// A TA1 rejecting the interchange with note 025, "Duplicate Interchange Control Number" (X12
/// TA105, Interchange Note Code list).
fn ta1_duplicate(ic: &InterchangeInfo, o: &x12::ack::AckOptions) -> String {
    let date6 = &o.date[2..8];
    let (idate, itime) = if ic.date.len() == 6 && ic.time.len() == 4 {
        (ic.date.clone(), ic.time.clone())
    } else {
        (date6.to_string(), o.time.clone())
    };
    let usage = if ic.usage == "T" { "T" } else { "P" };
    format!(
        "ISA*00*{}*00*{}*{}*{}*{}*{}*{}*{}*^*00501*{:09}*0*{usage}*:~\nTA1*{:0>9}*{idate}*{itime}*R*025~\nIEA*0*{:09}~\n",
        pad("", 10),
        pad("", 10),
        pad(&ic.receiver_qualifier, 2),
        pad(&ic.receiver, 15),
        pad(&ic.sender_qualifier, 2),
        pad(&ic.sender, 15),
        date6,
        o.time,
        o.control % 1_000_000_000,
        ic.control,
        o.control % 1_000_000_000
    )
}

fn person(c: &model::Claim) -> Person {
    let p = c.patient.clone().unwrap_or_else(|| c.subscriber.clone());
    Person {
        last: p.last,
        first: p.first,
        member_id: c.subscriber.member_id.clone(),
        dob: String::new(),
        gender: String::new(),
        address: None,
    }
}

/// The 277CA (005010X214) for every claim of the accepted sets: one transaction set per
/// billing provider, each claim under its patient with its STC and, when accepted, the plan's
/// claim number in REF*1K.
fn claim_ack(
    ic: &InterchangeInfo,
    drafts: &[(&SetClaims, &model::Claim)],
    results: &[IntakeClaimResult],
    control: u64,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> String {
    let mut by_provider: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, (_, c)) in drafts.iter().enumerate() {
        by_provider
            .entry((
                c.billing_provider.id.clone(),
                c.billing_provider.name.clone(),
            ))
            .or_default()
            .push(i);
    }
    let received = today.format("%Y%m%d").to_string();
    let env = Envelope {
        sender: receiver_of(ic),
        receiver: if ic.sender.trim().is_empty() {
            "SUBMITTER".into()
        } else {
            ic.sender.trim().to_string()
        },
        control: (control % 1_000_000_000) as u32,
        date: now.format("%Y%m%d").to_string(),
        time: now.format("%H%M").to_string(),
        usage: if ic.usage == "T" { 'T' } else { 'P' },
    };
    let parts: Vec<String> = by_provider
        .into_iter()
        .map(|((id, name), idx)| {
            let first = drafts[idx[0]].1;
            let payer = if first.payer.id.is_empty() {
                Party {
                    name: "HEALTH PLAN".into(),
                    id: env.sender.clone(),
                }
            } else {
                first.payer.clone()
            };
            let ack = ClaimAck {
                payer,
                receiver: Party {
                    name: env.receiver.clone(),
                    id: env.receiver.clone(),
                },
                billing_provider: Party { name, id },
                received: received.clone(),
                claims: idx
                    .iter()
                    .map(|&i| {
                        let r = &results[i];
                        let mut parts = r.status_code.splitn(3, ':');
                        let category = parts.next().unwrap_or("").to_string();
                        let code = parts.next().unwrap_or("").to_string();
                        let entity = parts.next().unwrap_or("").to_string();
                        model::ClaimStatus {
                            trace: r.patient_account.clone(),
                            category,
                            code,
                            entity,
                            date: received.clone(),
                            charge: r.charge.to_string(),
                            paid: String::new(),
                            claim_id: r.patient_account.clone(),
                            payer_claim_id: r
                                .claim_number
                                .as_ref()
                                .map(|n| n.to_string())
                                .unwrap_or_default(),
                            patient: Some(person(drafts[i].1)),
                            ..Default::default()
                        }
                    })
                    .collect(),
            };
            ack.to_x12(&env)
        })
        .collect();
    combine(&parts)
}

/// Joins interchanges our writer produced (one transaction set each, same envelope) into one
/// interchange with one functional group holding all their sets, numbered 0001, 0002, ...
pub fn combine(parts: &[String]) -> String {
    let Some(first) = parts.first() else {
        return String::new();
    };
    let segs: Vec<&str> = first.split("~\n").filter(|s| !s.is_empty()).collect();
    let (isa, gs) = (segs[0], segs[1]);
    let group_control = gs.split('*').nth(6).unwrap_or("1").to_string();
    let isa_control = isa.split('*').nth(13).unwrap_or("000000001").to_string();
    let mut out = String::with_capacity(parts.iter().map(String::len).sum());
    out.push_str(isa);
    out.push_str("~\n");
    out.push_str(gs);
    out.push_str("~\n");
    let mut n = 0usize;
    for p in parts {
        for s in p.split("~\n").filter(|s| !s.is_empty()) {
            if let Some(rest) = s.strip_prefix("ST*") {
                n += 1;
                let mut e: Vec<&str> = rest.split('*').collect();
                let ctl = format!("{n:04}");
                if e.len() > 1 {
                    e[1] = &ctl;
                }
                out.push_str("ST*");
                out.push_str(&e.join("*"));
            } else if let Some(rest) = s.strip_prefix("SE*") {
                let count = rest.split('*').next().unwrap_or("0");
                out.push_str(&format!("SE*{count}*{n:04}"));
            } else if s.starts_with("ISA*")
                || s.starts_with("GS*")
                || s.starts_with("GE*")
                || s.starts_with("IEA*")
            {
                continue;
            } else {
                out.push_str(s);
            }
            out.push_str("~\n");
        }
    }
    out.push_str(&format!("GE*{n}*{group_control}~\nIEA*1*{isa_control}~\n"));
    out
}

/// The guide versions claims intake takes, for messages and the CORE payload types.
pub const GUIDES: [&str; 2] = [PROFESSIONAL, INSTITUTIONAL];
