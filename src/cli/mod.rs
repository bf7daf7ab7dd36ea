//! Subcommands of the `portal` binary. Each module parses its own arguments and runs.

pub mod adjudicate;
pub mod admin;
pub mod audit;
#[path = "../config.rs"]
pub mod config;
mod db;
pub mod edi;
mod keys;
pub mod seed;
pub mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "portal", version, about = "provider-portal: a self-hostable provider portal for health plans", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web portal (creates and seeds a demo plan on first start).
    Serve(serve::ServeArgs),
    /// Exchange HIPAA X12 5010 files: validate with 999/TA1, parse to JSON.
    #[command(subcommand)]
    Edi(edi::EdiCommand),
    /// Generate a synthetic plan (networks, providers, members, claims) into an empty database.
    Seed(seed::SeedArgs),
    /// Check the audit trail's hash chain (`verify`) or export it (`export`).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run the claims engine once: adjudicate received claims, then pay them (an 835 per payee).
    Adjudicate(adjudicate::AdjudicateArgs),
    /// Operator actions on accounts: invite (the first plan administrator), unlock, reset MFA,
    /// deactivate.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Edi(cmd) => edi::run(cmd),
        Command::Seed(args) => seed::run(args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Admin(cmd) => admin::run(cmd),
        Command::Adjudicate(args) => adjudicate::run(args),
    }
}
