//! The web crate's integration tests, one binary: the router in-process (`tower::oneshot`)
//! against a real SQLite store seeded with the demo plan in a temporary directory.

mod basics;
mod common;
mod matrix;
mod remittance;
mod security;
mod signin;
