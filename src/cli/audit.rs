//! `portal audit`: check the audit trail's hash chain, export it.

use clap::Subcommand;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain of the whole trail; exit 1 naming the first altered, missing or
    /// removed entry.
    Verify {
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
            AuditCommand::Verify { db } => {
                let store = storage::open(&db.url()?).await?;
                Ok(match storage::verify_audit(&*store).await? {
                    Ok(n) => {
                        println!("OK: {n} audit entries, hash chain intact");
                        ExitCode::SUCCESS
                    }
                    Err(b) => {
                        println!("TAMPERED: {b}");
                        ExitCode::FAILURE
                    }
                })
            }
            AuditCommand::Export { db } => {
                let store = storage::open(&db.url()?).await?;
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
