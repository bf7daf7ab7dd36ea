//! `portal edi ...` (placeholder until the X12 work lands).

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum EdiCommand {
    /// Validate X12 files.
    Validate { files: Vec<std::path::PathBuf> },
}

pub fn run(_cmd: EdiCommand) -> ExitCode {
    eprintln!("portal edi: not built yet");
    ExitCode::from(2)
}
