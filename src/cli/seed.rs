//! `portal seed`: fill a database with a deterministic synthetic plan, at any scale.

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
#[command(
    after_help = "Generate a synthetic health plan into an empty database: lines of business, the community \
network and delegated health networks, providers over Orange County, members with eligibility histories, claims and \
authorizations. The same --seed and --as-of always give the same plan."
)]
pub struct SeedArgs {
    /// How many members to generate (providers scale with it: about one practitioner per 250 members).
    #[arg(long, default_value_t = 5_000)]
    pub members: u64,
    /// Seed for the generator.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The date the generated histories lead up to (YYYY-MM-DD); today by default.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Members per transaction.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// Leave claims received in the last DAYS days undecided, for `portal adjudicate` (a large
    /// value gives a plan with a big backlog, to measure the claims engine).
    #[arg(long, value_name = "DAYS", default_value_t = 10)]
    pub backlog_days: i64,
    #[command(flatten)]
    pub db: super::db::DbArgs,
}

pub fn run(args: SeedArgs) -> ExitCode {
    super::db::block_on("seed", seed(args))
}

async fn seed(args: SeedArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    if !store.is_empty().await? {
        bail!(
            "the database already holds a plan; seed into an empty database (a new --data-dir or database)"
        );
    }
    let opts = seed::Options {
        seed: args.seed,
        members: args.members,
        as_of: args
            .as_of
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
        batch: args.batch,
        // New members' IDs under a key nobody keeps: not guessable from one another.
        ids: seed::MemberIdIssuer::random(),
    };
    let bar = ProgressBar::new(args.members);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} members ({per_sec}, eta {eta})",
        )
        .expect("template"),
    );
    let started = Instant::now();
    let summary = seed::generate_with_backlog(&*store, &opts, args.backlog_days, &|done| {
        bar.set_position(done)
    })
    .await?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let counts = store.counts().await?;
    let bytes = store.size_bytes().await?;
    println!(
        "Seeded {} members, {} eligibility spans, {} providers, {} claims ({} lines), {} authorizations, {} payments with their 835s into {} in {:.1} s.",
        counts.members,
        counts.eligibility_spans,
        summary.providers,
        counts.claims,
        counts.claim_lines,
        counts.auth_requests,
        summary.payments,
        store.backend(),
        elapsed.as_secs_f64()
    );
    println!(
        "Database size: {:.1} MiB.",
        bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(ExitCode::SUCCESS)
}
