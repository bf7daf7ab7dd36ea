//! 837 intake speed on SQLite and PostgreSQL: a seeded plan, a generated 837P of `--claims`
//! claims (1-4 lines each, members covered on their dates, a billing provider on file, so all
//! are accepted) taken in by `edi::intake` in one transaction; prints validate-only time,
//! intake time (validate + check + store), claims/s and MB/s per backend.
//!
//! ```sh
//! cargo run --release -p edi --example intake_bench -- --claims 100000
//! ```
//! PostgreSQL runs when `PORTAL_TEST_POSTGRES_URL` names a server where a database may be
//! created (a fresh one per run).

use chrono::{Duration, Utc};
use domain::claim::ClaimForm;
use edi::intake::{Submitter, Verdict, intake};
use edi::samples::{self, Billing};
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(backend: &str, url: &str, claims: usize, members: u64) {
    let store = storage::open(url).await.expect("open the database");
    let as_of = Utc::now().date_naive();
    let t = Instant::now();
    seed::generate(
        &*store,
        &seed::Options {
            seed: 2026,
            members,
            as_of,
            batch: 5000,
            ids: seed::MemberIdIssuer::random(),
        },
        &|_| {},
    )
    .await
    .expect("seed");
    let seeded = t.elapsed();
    let office = seed::demo_office(&*store).await.expect("a medical group");
    let billing = Billing {
        name: office.name.to_uppercase(),
        npi: office.npi,
        tin: office.tin,
    };
    let list = samples::for_plan(
        &*store,
        ClaimForm::Professional,
        &billing,
        claims,
        as_of - Duration::days(1),
    )
    .await
    .expect("claims");
    let env = x12::model::Envelope {
        sender: "BENCHSUBMITTER".into(),
        receiver: "OCHP".into(),
        control: 1,
        date: as_of.format("%Y%m%d").to_string(),
        time: "1200".into(),
        usage: 'P',
    };
    let file = samples::write_837(&list, &env, 5000);
    let lines: usize = list.iter().map(|c| c.lines.len()).sum();
    let mb = file.len() as f64 / 1e6;

    let t = Instant::now();
    let report = x12::validate_bytes(file.as_bytes(), &x12::Options::default());
    let validate = t.elapsed().as_secs_f64();
    assert!(report.accepted(), "{:?}", report.errors_by_offset());

    let before = store.counts().await.unwrap().claims;
    let t = Instant::now();
    let out = intake(
        &*store,
        &Submitter::operator("intake_bench"),
        file.as_bytes(),
        Utc::now(),
    )
    .await
    .expect("intake");
    let took = t.elapsed().as_secs_f64();
    assert_eq!(out.verdict, Verdict::Accepted);
    assert_eq!(out.accepted, claims, "every claim accepted");
    assert_eq!(store.counts().await.unwrap().claims, before + claims as i64);
    println!(
        "{backend:>8}: {claims} claims ({lines} lines, {mb:.1} MB) | plan seeded with {members} members in {:.1} s | validate only {validate:.2} s ({:.0} MB/s) | intake (validate + check + store, one transaction) {took:.2} s = {:.0} claims/s, {:.1} MB/s [validate and read {:.2} s, check and 277CA {:.2} s, store {:.2} s]",
        seeded.as_secs_f64(),
        mb / validate,
        claims as f64 / took,
        mb / took,
        out.timings.validate,
        out.timings.check,
        out.timings.store
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let claims = arg("--claims", 100_000) as usize;
    let members = arg("--members", (claims as u64 / 4).clamp(2_000, 50_000));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    run("sqlite", &url, claims, members).await;
    match std::env::var("PORTAL_TEST_POSTGRES_URL") {
        Ok(admin) => {
            use sqlx::Connection;
            let name = format!("portal_intake_bench_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&admin).await.expect("postgres");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .unwrap();
            let (base, _) = admin.rsplit_once('/').unwrap();
            run("postgres", &format!("{base}/{name}"), claims, members).await;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .execute(&mut c)
            .await
            .ok();
        }
        Err(_) => println!("postgres: skipped (PORTAL_TEST_POSTGRES_URL is not set)"),
    }
}
