//! `portal audit`: check the audit trail's hash chain and MACs, export it, export its head.

use clap::Subcommand;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain of the whole trail and check its MACs with the audit keys, and
    /// the head against the one exported outside the database; exit 1 naming the first
    /// altered, missing or removed entry, or where the chain was recomputed without the key.
    Verify {
        /// A head saved earlier with `export-head` [default: the data directory's audit.head,
        /// which `portal serve` rewrites after each append].
        #[arg(long, value_name = "FILE")]
        head: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: super::db::DbArgs,
    },
    /// Print the signed head (count, newest hash, MAC) as one JSON line, to keep outside the
    /// database and the server (e.g. daily, from cron) and give to `verify --head` later.
    ExportHead {
        #[command(flatten)]
        db: super::db::DbArgs,
    },
    /// Write the whole trail as JSON lines, oldest first, to stdout.
    Export {
        #[command(flatten)]
        db: super::db::DbArgs,
    },
}

pub fn run(cmd: AuditCommand) -> ExitCode {
    super::db::block_on("audit", async move {
        match cmd {
            AuditCommand::Verify { head, db } => {
                let store = db.open().await?;
                let exported = match &head {
                    Some(path) => Some(
                        storage::keys::read_head(path)?
                            .ok_or_else(|| anyhow::anyhow!("no such file: {}", path.display()))?,
                    ),
                    None => store.exported_audit_head()?,
                };
                let against = exported
                    .as_ref()
                    .map(|h| format!(", against the head exported at entry {}", h.seq))
                    .unwrap_or_else(|| ", no exported head to check against".into());
                Ok(match storage::verify_audit_with(&*store, exported).await? {
                    Ok(n) => {
                        println!("OK: {n} audit entries, hash chain and MACs intact{against}");
                        ExitCode::SUCCESS
                    }
                    Err(b) => {
                        println!("TAMPERED: {b}");
                        ExitCode::FAILURE
                    }
                })
            }
            AuditCommand::ExportHead { db } => {
                let store = db.open().await?;
                let head = store.audit_head().await?;
                println!("{}", serde_json::to_string(&head)?);
                Ok(ExitCode::SUCCESS)
            }
            AuditCommand::Export { db } => {
                let store = db.open().await?;
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let mut after = 0;
                loop {
                    let page = store.audit_page(after, 10_000).await?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    for e in &page {
                        serde_json::to_writer(&mut out, e)?;
                        out.write_all(b"\n")?;
                    }
                }
                out.flush()?;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
