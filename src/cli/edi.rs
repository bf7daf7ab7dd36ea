//! `portal edi ...`: validate X12 files (with 999/TA1 acknowledgements), print their typed
//! content as JSON, and take in 837 claim files (`ingest`: 999 and 277CA written next to each
//! file, accepted claims stored). The engines are the `x12` and `edi` crates; this is only the
//! command line.

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
    /// Take in 837P/837I claim files: validate each (999), check each claim against the plan's
    /// records (277CA) and store the accepted claims as received, all or nothing per file.
    /// Writes FILE.999 and FILE.277CA next to each file (or into --out). A file already taken
    /// in is recognised and answered with its original acknowledgements. Exit 0 when every
    /// file was taken in, 1 when any was rejected (TA1 or 999), 2 on a usage or I/O error.
    Ingest {
        /// Submit as this portal user (an EDI partner or an office with claims access): claims
        /// are then accepted only for billing providers under its TINs. Without it the
        /// operator submits for the plan (any billing provider on file).
        #[arg(long)]
        submitter: Option<String>,
        /// Write the acknowledgements into this directory instead of next to each file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The 837 files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
}

pub fn run(cmd: EdiCommand) -> ExitCode {
    match cmd {
        EdiCommand::Validate { json, ack, files } => validate(&files, json, ack),
        EdiCommand::Parse { file } => parse(&file),
        EdiCommand::Ingest {
            submitter,
            out,
            files,
            db,
        } => super::db::block_on("edi ingest", ingest(files, submitter, out, db)),
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

/// Reads a file whole, with a progress bar by bytes when it is large and stdout a terminal.
fn read_all(path: &Path) -> std::io::Result<(Vec<u8>, Option<ProgressBar>)> {
    let len = std::fs::metadata(path)?.len();
    let (mut r, pb) = open(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    r.read_to_end(&mut bytes)?;
    Ok((bytes, pb))
}

/// The portal user a file is submitted as, with the TINs it may bill for.
async fn submitter_for(store: &dyn storage::Store, username: &str) -> anyhow::Result<edi::Partner> {
    let user = store
        .user_by_username(username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account named {username:?}"))?;
    let identity = store
        .identity(user.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("account {username:?} has no organisation"))?;
    let mut tins: Vec<domain::Tin> = identity.org.tin.into_iter().collect();
    for t in &identity.granted_tins {
        if !tins.contains(t) {
            tins.push(*t);
        }
    }
    let principal = domain::access::Principal {
        user_id: user.id,
        role: user.role,
        org_id: identity.org.id,
        org_kind: identity.org.kind,
        tins,
        network: identity.org.network.clone(),
        entitlements: domain::access::Entitlements {
            claims: user.claims,
        },
    };
    if user.status != domain::account::UserStatus::Active
        || !principal.may(domain::access::Permission::SubmitClaims)
    {
        anyhow::bail!(
            "account {username:?} may not submit claims (it needs to be an active EDI partner, or office staff with claims access)"
        );
    }
    Ok(edi::Partner {
        user_id: user.id,
        org_id: identity.org.id,
        scope: principal.office_scope(),
    })
}

fn target(path: &Path, out: Option<&Path>, ext: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let mut name = name;
    name.push(ext);
    match out {
        Some(dir) => dir.join(name),
        None => path.with_file_name(name),
    }
}

async fn ingest(
    files: Vec<PathBuf>,
    submitter: Option<String>,
    out: Option<PathBuf>,
    db: super::db::DbArgs,
) -> anyhow::Result<ExitCode> {
    use edi::intake::{Submitter, Verdict};
    let store = db.open().await?;
    let who = match &submitter {
        Some(u) => Some(submitter_for(&*store, u).await?),
        None => None,
    };
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir)?;
    }
    let (mut rejected, mut io_error) = (false, false);
    let stdout = std::io::stdout();
    for path in &files {
        let (bytes, pb) = match read_all(path) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", path.display());
                io_error = true;
                continue;
            }
        };
        let spinner = pb.map(|pb| {
            pb.finish_and_clear();
            let s = ProgressBar::new_spinner();
            s.set_message(format!(
                "{}: checking and storing {:.1} MB",
                path.display(),
                bytes.len() as f64 / 1e6
            ));
            s.enable_steady_tick(std::time::Duration::from_millis(120));
            s
        });
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sub = match &who {
            Some(p) => Submitter::partner(p.clone(), "portal edi ingest"),
            None => Submitter::operator("portal edi ingest"),
        }
        .with_file_name(name);
        let started = std::time::Instant::now();
        let outcome = edi::intake::intake(&*store, &sub, &bytes, chrono::Utc::now()).await?;
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        let mut w = stdout.lock();
        let verdict = match outcome.verdict {
            Verdict::Accepted => "ACCEPTED",
            Verdict::Partial => "PARTLY REJECTED",
            Verdict::Rejected => "REJECTED",
            Verdict::Duplicate => "DUPLICATE",
        };
        let _ = writeln!(
            w,
            "{}: {verdict}: {} claims accepted, {} rejected (interchange {} from {}, {:.1} s)",
            path.display(),
            outcome.accepted,
            outcome.rejected,
            if outcome.control.is_empty() {
                "?"
            } else {
                &outcome.control
            },
            if outcome.sender.is_empty() {
                "?"
            } else {
                &outcome.sender
            },
            started.elapsed().as_secs_f64()
        );
        if let Some(p) = &outcome.problem {
            let _ = writeln!(w, "  {p}");
        }
        for f in outcome.findings.iter().take(20) {
            let _ = writeln!(w, "  {f}");
        }
        let refused: Vec<_> = outcome
            .claims
            .iter()
            .filter(|c| c.claim_number.is_none())
            .collect();
        for c in refused.iter().take(20) {
            let _ = writeln!(
                w,
                "  claim {} rejected [{}]: {}",
                c.patient_account, c.status_code, c.reason
            );
        }
        if refused.len() > 20 {
            let _ = writeln!(
                w,
                "  ... {} more rejected claims in the 277CA",
                refused.len() - 20
            );
        }
        rejected |= matches!(outcome.verdict, Verdict::Rejected | Verdict::Partial);
        let mut writes = vec![(target(path, out.as_deref(), ".999"), outcome.ack.clone())];
        if let Some(ca) = &outcome.claim_ack {
            writes.push((target(path, out.as_deref(), ".277CA"), ca.clone()));
        }
        for (t, text) in writes {
            if let Err(e) = std::fs::write(&t, text) {
                eprintln!("{}: cannot write: {e}", t.display());
                io_error = true;
            }
        }
    }
    Ok(if io_error {
        ExitCode::from(2)
    } else if rejected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
