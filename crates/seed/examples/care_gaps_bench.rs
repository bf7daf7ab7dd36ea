//! How long the clinical-alerts worklist takes for a large office: generates a plan of N members
//! (default 100,000) into a fresh SQLite database (and PostgreSQL when PORTAL_TEST_POSTGRES_URL
//! names a server), then times `EligibilityStore::care_gap_inputs` (two scoped queries) and the rules over
//! the assigned members of the first medical group.
//!
//! cargo run --release -p seed --example care_gaps_bench [-- MEMBERS]

use domain::access::Scope;
use domain::care_gaps::{Diagnosis, Patient, Service, earliest_relevant, evaluate};
use std::collections::HashMap;
use std::time::Instant;

async fn bench(label: &str, url: &str, members: u64) {
    let store = storage::open(url).await.expect("open");
    let today = domain::eligibility::california_today(chrono::Utc::now());
    let t = Instant::now();
    seed::generate(
        &*store,
        &seed::Options {
            seed: 7,
            members,
            as_of: today,
            batch: 5000,
            ids: seed::MemberIdIssuer::random(),
        },
        &|_| {},
    )
    .await
    .expect("generate");
    println!(
        "{label}: generated {members} members in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let office = seed::demo_office(&*store)
        .await
        .expect("the first medical group");
    let scope = Scope::Tins(vec![office.tin]);
    let mut best = f64::MAX;
    let mut figures = (0, 0, 0, 0.0);
    for _ in 0..5 {
        let t = Instant::now();
        let inputs = store
            .care_gap_inputs(&scope, today, earliest_relevant(today))
            .await
            .expect("query");
        let q = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let mut by: HashMap<&str, (Vec<Service>, Vec<Diagnosis>)> = HashMap::new();
        for s in &inputs.services {
            let e = by.entry(s.member.as_str()).or_default();
            e.0.push(Service {
                date: s.date,
                procedure: s.procedure.clone(),
            });
            e.1.extend(s.diagnoses.iter().map(|c| Diagnosis {
                date: s.date,
                code: c.clone(),
            }));
        }
        let mut open = 0;
        for m in &inputs.members {
            let (s, d) = by.remove(m.member.id.as_str()).unwrap_or_default();
            let p = Patient {
                birth_date: m.member.birth_date,
                sex: m.member.sex,
            };
            open += evaluate(&p, &s, &d, today)
                .iter()
                .filter(|g| g.open)
                .count();
        }
        let r = t.elapsed().as_secs_f64() * 1000.0;
        if q < best {
            best = q;
            figures = (inputs.members.len(), inputs.services.len(), open, r);
        }
    }
    println!(
        "{label}: office {} — {} assigned members, {} claim lines since {}, {} open gaps: queries {:.1} ms, rules {:.1} ms (best of 5)",
        office.tin,
        figures.0,
        figures.1,
        earliest_relevant(today),
        figures.2,
        best,
        figures.3
    );
}

#[tokio::main]
async fn main() {
    let members: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    bench(
        "sqlite",
        &format!("sqlite://{}/bench.db", dir.path().display()),
        members,
    )
    .await;
    if let Ok(admin) = std::env::var("PORTAL_TEST_POSTGRES_URL") {
        use sqlx::Connection;
        let name = format!("portal_bench_{}", std::process::id());
        let mut c = sqlx::PgConnection::connect(&admin).await.expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("a database path");
        bench("postgres", &format!("{base}/{name}"), members).await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut c)
        .await;
    }
}
