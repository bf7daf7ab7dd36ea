//! The outcome of validating one input: what was in it and what is wrong with it.

use crate::delimiters::Delimiters;
use crate::error::{Issue, Level, Severity};
use serde::Serialize;

/// One ISA ... IEA.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InterchangeInfo {
    pub sender_qualifier: String,
    pub sender: String,
    pub receiver_qualifier: String,
    pub receiver: String,
    pub date: String,
    pub time: String,
    pub control: String,
    pub version: String,
    /// ISA14 = 1: the sender asked for a TA1.
    pub ack_requested: bool,
    /// ISA15: P production, T test.
    pub usage: String,
    pub offset: u64,
    /// Envelope findings (TA1 note codes).
    pub issues: Vec<Issue>,
    pub groups: Vec<GroupInfo>,
}

/// One GS ... GE.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupInfo {
    pub functional_id: String,
    pub sender: String,
    pub receiver: String,
    pub control: String,
    pub version: String,
    pub offset: u64,
    /// Group findings (AK905.. codes).
    pub issues: Vec<Issue>,
    pub sets_received: u32,
    pub sets_accepted: u32,
    /// Transaction sets with findings (sets without any are only counted).
    pub sets: Vec<SetInfo>,
}

/// One ST ... SE that has findings.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SetInfo {
    pub id: String,
    pub control: String,
    pub convention: String,
    /// Version of the guide it was checked against.
    pub guide: Option<&'static str>,
    pub offset: u64,
    pub accepted: bool,
    /// IK5 codes (transaction-level) are among the issues with `Level::Transaction`.
    pub issues: Vec<Issue>,
    /// Findings beyond the per-set limit, counted but not kept.
    pub suppressed: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// The input started with a UTF-8 byte-order mark.
    pub bom: bool,
    pub delimiters: Option<Delimiters>,
    pub bytes: u64,
    pub segments: u64,
    pub sets: u64,
    /// Problems before any ISA (no ISA at all, unusable delimiters).
    pub stream_issues: Vec<Issue>,
    pub interchanges: Vec<InterchangeInfo>,
    /// Errors found (kept or not).
    pub errors: u64,
    pub warnings: u64,
    /// Findings not kept because of the limits in `Options`.
    pub suppressed: u64,
}

impl Report {
    /// True when nothing was rejected: no error anywhere.
    pub fn accepted(&self) -> bool {
        self.errors == 0
    }

    /// Every kept finding, envelope first then per set, in input order within each level.
    pub fn issues(&self) -> impl Iterator<Item = &Issue> {
        self.stream_issues
            .iter()
            .chain(self.interchanges.iter().flat_map(|i| {
                i.issues.iter().chain(i.groups.iter().flat_map(|g| {
                    g.issues
                        .iter()
                        .chain(g.sets.iter().flat_map(|s| s.issues.iter()))
                }))
            }))
    }

    /// Kept errors sorted by byte offset: the first one is what a user should fix first.
    pub fn errors_by_offset(&self) -> Vec<&Issue> {
        let mut v: Vec<&Issue> = self
            .issues()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        v.sort_by_key(|i| i.offset);
        v
    }

    /// True when the envelope (ISA/IEA or what precedes it) has errors: a TA1 rejection.
    pub fn envelope_rejected(&self) -> bool {
        self.stream_issues.iter().any(Issue::is_error)
            || self.interchanges.iter().any(|i| {
                i.issues
                    .iter()
                    .any(|x| x.is_error() && x.level == Level::Interchange)
            })
    }
}
