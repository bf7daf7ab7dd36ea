//! The store's tests, one module per area, one binary. Every test named in an area's
//! `on_both!` runs on a fresh SQLite database and, when `PORTAL_TEST_POSTGRES_URL` names a
//! server where they may create databases (`.ci/run` sets it), on a fresh PostgreSQL database:
//! `cargo test -p storage --test store`.

#[macro_use]
mod common;

mod accounts;
mod adjudication;
mod audit;
mod claims;
mod database;
mod eligibility;
mod intake;
mod lookups;
mod members;
mod outbox;
mod payments;
mod plan;
mod registrations;
mod secrets;
mod sessions;
mod sign_in;
mod um;
