//! The web crate's integration tests, one binary: the router in-process (`tower::oneshot`)
//! against a real SQLite store seeded with the demo plan in a temporary directory.

mod authorizations;
mod basics;
mod common;
#[path = "core.rs"]
mod core_endpoint;
mod e2e_routes;
mod eligibility;
mod matrix;
mod phi;
mod remittance;
mod security;
mod signin;
mod submissions;
