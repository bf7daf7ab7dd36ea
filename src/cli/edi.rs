//! `portal edi ...`: validate X12 files (with 999/TA1 acknowledgements) and print their
//! typed content as JSON. The engine is the `x12` crate; this is only the command line.

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Files larger than this get a progress bar (when stdout is a terminal).
const PROGRESS_THRESHOLD: u64 = 4 * 1024 * 1024;

#[derive(Subcommand, Debug)]
pub enum EdiCommand {
    /// Validate X12 files against the HIPAA 5010 implementation guides.
    /// Prints OK or the errors per file; exit 0 when all are accepted, 1 when any is
    /// rejected, 2 on a usage or I/O error.
    Validate {
        /// Print one JSON object per file instead of text.
        #[arg(long)]
        json: bool,
        /// Write the 999 (or TA1 for envelope errors) next to each file as FILE.999.
        #[arg(long)]
        ack: bool,
        /// The X12 files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the typed content of an X12 file as JSON.
    Parse {
        /// The X12 file.
        file: PathBuf,
    },
}

pub fn run(cmd: EdiCommand) -> ExitCode {
    match cmd {
        EdiCommand::Validate { json, ack, files } => validate(&files, json, ack),
        EdiCommand::Parse { file } => parse(&file),
    }
}

/// Opens a file, wrapping it in a progress bar when it is large and stdout is a terminal.
fn open(path: &Path) -> std::io::Result<(Box<dyn Read>, Option<ProgressBar>)> {
    let f = File::open(path)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > PROGRESS_THRESHOLD && std::io::stdout().is_terminal() {
        let pb = ProgressBar::new(len);
        pb.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_message(path.display().to_string());
        let r = pb.wrap_read(BufReader::with_capacity(1 << 20, f));
        return Ok((Box::new(r), Some(pb)));
    }
    Ok((Box::new(BufReader::with_capacity(1 << 20, f)), None))
}

fn validate(files: &[PathBuf], json: bool, ack: bool) -> ExitCode {
    let mut any_rejected = false;
    let mut io_error = false;
    let out = std::io::stdout();
    let mut out = out.lock();
    for (n, path) in files.iter().enumerate() {
        let report = match open(path).and_then(|(r, pb)| {
            let rep = x12::validate(r, &x12::Options::default());
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            rep
        }) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", path.display());
                io_error = true;
                continue;
            }
        };
        let accepted = report.accepted();
        any_rejected |= !accepted;
        if json {
            let errors: Vec<&x12::Issue> = report.issues().collect();
            let v = serde_json::json!({
                "file": path.display().to_string(),
                "accepted": accepted,
                "bytes": report.bytes,
                "segments": report.segments,
                "transaction_sets": report.sets,
                "errors": report.errors,
                "warnings": report.warnings,
                "suppressed": report.suppressed,
                "issues": errors,
            });
            let _ = writeln!(out, "{v}");
        } else {
            if accepted {
                let _ = writeln!(
                    out,
                    "{}: OK ({} transaction sets, {} segments)",
                    path.display(),
                    report.sets,
                    report.segments
                );
            } else {
                let _ = writeln!(
                    out,
                    "{}: REJECTED ({} errors)",
                    path.display(),
                    report.errors
                );
            }
            for i in report.issues() {
                let _ = writeln!(out, "  {i}");
            }
            if report.suppressed > 0 {
                let _ = writeln!(out, "  ... {} more findings not shown", report.suppressed);
            }
        }
        if ack {
            let opts = x12::ack::AckOptions {
                control: (n + 1) as u32,
                ..Default::default()
            };
            let text = x12::ack::acknowledgement(&report, &opts);
            let mut target = path.clone().into_os_string();
            target.push(".999");
            if let Err(e) = std::fs::write(&target, text) {
                eprintln!(
                    "{}: cannot write acknowledgement: {e}",
                    PathBuf::from(&target).display()
                );
                io_error = true;
            }
        }
    }
    if io_error {
        ExitCode::from(2)
    } else if any_rejected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn parse(path: &Path) -> ExitCode {
    let parsed = open(path).and_then(|(r, pb)| {
        let p = x12::model::parse_reader(r, 100_000);
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        p
    });
    let (report, sets) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let typed: Vec<x12::model::Typed> = sets.iter().map(x12::model::typed).collect();
    let errors: Vec<&x12::Issue> = report.errors_by_offset();
    let v = serde_json::json!({
        "file": path.display().to_string(),
        "accepted": report.accepted(),
        "transactions": typed,
        "errors": errors,
    });
    match serde_json::to_writer_pretty(std::io::stdout().lock(), &v) {
        Ok(()) => {
            println!();
            if report.accepted() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("cannot write JSON: {e}");
            ExitCode::from(2)
        }
    }
}
