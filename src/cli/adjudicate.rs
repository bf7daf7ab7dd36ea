//! `portal adjudicate`: run the claims engine once: adjudicate every received claim, then a
//! payment run with an 835 per payee. Safe to run again (nothing is adjudicated or paid twice)
//! and alongside `portal serve` (they share a lease: one runs, the other reports it waited).

use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(
    after_help = "Adjudicates every claim with status Received using the plan's rules (eligibility, network \
responsibility, timely filing, duplicates, fee schedule, authorizations, pricing), then makes a payment run: one \
payment and one 835 per payee for every finalized claim not yet reported. Prints what it did."
)]
pub struct AdjudicateArgs {
    /// The day of adjudication and payment (YYYY-MM-DD); today by default.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Claims per batch (one transaction each).
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    #[command(flatten)]
    pub db: super::db::DbArgs,
}

pub fn run(args: AdjudicateArgs) -> ExitCode {
    super::db::block_on("adjudicate", adjudicate(args))
}

async fn adjudicate(args: AdjudicateArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let mut opts = adjudication::Options::new(
        args.as_of
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
    );
    opts.batch = args.batch.max(1);
    let s = adjudication::run(&*store, &opts).await?;
    if s.skipped {
        println!(
            "Another portal instance is running the claims engine right now; nothing was done. Try again in a minute."
        );
        return Ok(ExitCode::from(2));
    }
    let a = &s.adjudication;
    let adj = s.adjudicating.as_secs_f64();
    println!(
        "Adjudicated {} claims ({} paid, {} denied, {} partially paid) in {:.2} s ({:.0} claims/s).",
        a.claims,
        a.paid,
        a.denied,
        a.partial,
        adj,
        if adj > 0.0 {
            a.claims as f64 / adj
        } else {
            0.0
        }
    );
    println!(
        "Payment run of {}: {} payments, {} 835 files, {} claims reported, ${} paid, in {:.2} s.",
        opts.as_of,
        s.payments.payments,
        s.payments.remittances,
        s.payments.claims,
        s.payments.total_paid,
        (s.elapsed - s.adjudicating).as_secs_f64()
    );
    println!("Elapsed: {:.2} s.", s.elapsed.as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
