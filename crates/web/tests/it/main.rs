//! The web crate's integration tests, one binary: the router in-process (`tower::oneshot`)
//! against a real SQLite store seeded with the demo plan in a temporary directory.

mod basics;
mod common;
#[path = "core.rs"]
mod core_endpoint;
mod matrix;
mod security;
mod signin;
