//! The attack suite: each test attacks a running portal (the real server, `web::serve`, on a
//! loopback port over a seeded SQLite in a temporary directory) the way a stranger, another
//! office, a plan clerk or a trading partner would, and asserts that the attack fails. Every
//! finding of the security review has a test here that failed on the code it was found in; the
//! checks that held up are here too, so they keep holding. See `SECURITY.md` for the threat
//! model.
//!
//! Requests go over real TCP with a small raw HTTP/1.1 client (`harness::Client`), so a test can
//! send exactly the bytes an attacker would: slow headers, hostile multipart bodies, forged
//! forwarding headers.

mod core;
mod eligibility;
mod harness;
mod held;
mod keys;
mod signin;
mod web;
