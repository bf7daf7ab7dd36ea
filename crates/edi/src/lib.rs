//! The plan's side of EDI: X12 that trading partners send, answered from the plan's records.
//!
//! `x12` knows the standard (bytes, guides, 999/TA1, typed views); this crate knows the plan:
//! which member a 270 names, which claims a 276 may see, what an 837 becomes once accepted.
//! It is used by the web layer (the CAQH CORE endpoint, portal uploads) and by the `portal edi`
//! command line alike, so nothing here speaks HTTP.
//!
//! - [`caqh`]: the CAQH CORE connectivity envelope (HTTP MIME multipart fields) and dispatch by
//!   payload type.
//! - [`eligibility`]: 270 in, 271 out.
//! - [`status`]: 276 in, 277 out.
//! - [`lookups`]: the guard every eligibility channel (page, batch, 270) answers through:
//!   budgets of not-found lookups, each miss audited, the plan alerted.
//! - [`intake`]: 837P/837I batches in, 999 and 277CA out, accepted claims stored as received.
//! - [`review`]: 278 request in, 278 response out.
//! - [`samples`]: synthetic 837 batches a plan in a store will accept (tests, benchmark).

pub mod caqh;
pub mod eligibility;
pub mod intake;
pub mod lookups;
pub mod review;
pub mod samples;
pub mod status;

/// The trading partner (or portal user) a transaction came from, once authenticated: what the
/// access policy needs to scope what it may read and submit.
#[derive(Debug, Clone)]
pub struct Partner {
    pub user_id: i64,
    pub org_id: i64,
    /// The TINs the partner may act for (claims and authorizations are scoped by them).
    pub scope: domain::access::Scope,
}
