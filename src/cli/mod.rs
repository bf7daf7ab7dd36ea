//! Subcommands of the `portal` binary. Each module parses its own arguments and runs.

pub mod edi;

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
    /// Exchange HIPAA X12 5010 files: validate with 999/TA1, parse to JSON.
    #[command(subcommand)]
    Edi(edi::EdiCommand),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Edi(cmd) => edi::run(cmd),
    }
}
