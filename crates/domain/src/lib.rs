//! The health plan's rules as plain Rust: identifiers parsed once, members and their eligibility,
//! providers, claims, referrals and authorizations, disputes, trainings, roles.
//! No HTTP, no SQL, no async: everything here is a value and a rule.

pub mod access;
pub mod account;
pub mod adjudication;
pub mod audit;
pub mod auth;
pub mod auth_metrics;
pub mod auth_rules;
pub mod calendar;
pub mod care_gaps;
pub mod claim;
pub mod clock;
pub mod dispute;
pub mod eligibility;
pub mod ids;
pub mod keys;
pub mod lookup_limits;
pub mod member;
pub mod mfa;
pub mod money;
pub mod password;
pub mod plan;
pub mod provider;
pub mod registration;
pub mod session;
pub mod training;

pub use ids::{
    AuthNumber, ClaimNumber, DisputeNumber, IdError, MemberId, MemberIdIssuer, Npi, Tin,
};
pub use money::Cents;
