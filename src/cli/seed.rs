//! `portal seed`: fill a database with a deterministic synthetic plan, at any scale.

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
#[command(long_about = "Generate a synthetic health plan into an empty database: lines of business, the community \
network and delegated health networks, providers over Orange County, members with eligibility histories, claims and \
authorizations. The same --seed and --as-of always give the same plan.")]
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
    /// Database URL (sqlite://FILE or postgres://USER@HOST/DB); default: the SQLite file in the data directory.
    #[arg(long, env = "PORTAL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Data directory holding the SQLite database.
    #[arg(long, env = "PORTAL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

pub fn run(args: SeedArgs) -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(seed(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portal seed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
            format!("sqlite://{}", args.data_dir.join("portal.db").display())
        }
    };
    let store = storage::open(&url).await?;
    if !store.is_empty().await? {
        bail!("the database already holds a plan; seed into an empty database (a new --data-dir or database)");
    }
    let opts = seed::Options { seed: args.seed, members: args.members, as_of: args.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive()), batch: args.batch };
    let bar = ProgressBar::new(args.members);
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} members ({per_sec}, eta {eta})").expect("template"));
    let started = Instant::now();
    let summary = seed::generate(&*store, &opts, &|done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let counts = store.counts().await?;
    let bytes = store.size_bytes().await?;
    println!(
        "Seeded {} members, {} eligibility spans, {} providers, {} claims ({} lines), {} authorizations into {} in {:.1} s.",
        counts.members, counts.eligibility_spans, summary.providers, counts.claims, counts.claim_lines, counts.auth_requests, store.backend(), elapsed.as_secs_f64()
    );
    println!("Database size: {:.1} MiB.", bytes as f64 / (1024.0 * 1024.0));
    Ok(())
}
