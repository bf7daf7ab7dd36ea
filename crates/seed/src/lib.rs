//! Deterministic synthetic plan data shaped like the seed plan: lines of business, the community
//! network and delegated networks, providers over Orange County, members with eligibility
//! histories, claims with real CPT/HCPCS, ICD-10 and adjustment codes, and authorizations.
//! The same seed, date and member-ID key give the same plan, whatever the batch size. Member
//! IDs come from a [`MemberIdIssuer`]: `portal seed` and the demo draw its key from the
//! CSPRNG, so no member's ID can be worked out from another's (or from the open-source seed).

mod authorizations;
mod care;
mod catalog;
mod demo;
mod history;
mod members;
mod notices;
mod plan;
mod rng;

pub use demo::{DEMO_MEMBERS, DemoAccount, DemoOffice, demo, demo_office, demo_with_password};

use chrono::NaiveDate;
pub use domain::MemberIdIssuer;
use storage::{StorageError, Store};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub members: u64,
    /// "Today" for the generated histories (spans, claim ages).
    pub as_of: NaiveDate,
    /// Members per transaction.
    pub batch: usize,
    /// Issues each new member's ID (member number `n` gets `ids.issue(n)`).
    pub ids: MemberIdIssuer,
}

/// What was stored, for the progress display and the report.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub providers: u64,
    pub members: u64,
    pub claims: u64,
    pub auths: u64,
    /// Payments (each with its 835) made for the decided history.
    pub payments: u64,
}

/// Generates a plan into `store`, calling `progress(members_done)` after each batch.
/// Each batch is one transaction per table group: an interrupted run leaves whole batches only.
pub async fn generate(
    store: &dyn Store,
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, StorageError> {
    generate_with_backlog(store, opts, history::IN_PROCESS_DAYS, progress).await
}

/// [`generate`], leaving every claim received in the last `in_process_days` days for the claims
/// engine (`portal seed --backlog-days`: a plan with a large backlog, for measuring the engine).
pub async fn generate_with_backlog(
    store: &dyn Store,
    opts: &Options,
    in_process_days: i64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, StorageError> {
    let networks = plan::networks();
    let size = plan::DirectorySize::for_members(opts.members);
    let providers = plan::providers(&mut rng::Rng::for_record(opts.seed, 0, 0), &size, &networks);
    store.insert_networks(&networks).await?;
    store.insert_providers(&providers).await?;
    store.insert_trainings(&plan::trainings()).await?;
    store.insert_plan_notices(&notices::notices()).await?;
    authorizations::rules(store).await?;
    store.insert_fees(&history::fee_schedule()).await?;
    let mut world = members::World::new(
        opts.seed,
        opts.as_of,
        networks,
        &providers,
        opts.ids.clone(),
    );
    world.in_process_days = in_process_days.max(0);

    let mut summary = Summary {
        providers: providers.len() as u64,
        ..Summary::default()
    };
    let batch = opts.batch.max(1) as u64;
    let mut next = 1u64;
    while next <= opts.members {
        let end = (next + batch).min(opts.members + 1);
        // Generating a batch takes milliseconds; inserting it is what takes the time.
        let generated: Vec<members::Generated> =
            (next..end).map(|n| members::member(&world, n)).collect();
        let (mut ms, mut cs, mut as_, mut notes) = (
            Vec::with_capacity(generated.len()),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for g in generated {
            ms.push(g.member);
            cs.extend(g.claims);
            as_.extend(g.auths);
            notes.extend(g.notes);
        }
        store.insert_members(&ms).await?;
        store.insert_claims(&cs).await?;
        store.insert_auths(&as_).await?;
        store.insert_adjudication_notes(&notes).await?;
        summary.members += ms.len() as u64;
        summary.claims += cs.len() as u64;
        summary.auths += as_.len() as u64;
        next = end;
        progress(summary.members);
    }
    // The decided history is paid as the plan would have: a payment run every Friday up to
    // "today", one payment and 835 per payee, through the engine's own payment run. What was
    // decided since the last Friday waits for the engine's next run.
    let paid = adjudication::pay_history(store, &adjudication::Payer::default(), opts.as_of)
        .await
        .map_err(|e| match e {
            adjudication::EngineError::Storage(s) => s,
            other => StorageError::Corrupt(other.to_string()),
        })?;
    summary.payments = paid.payments;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> members::World {
        let nets = plan::networks();
        let size = plan::DirectorySize::for_members(1000);
        let providers = plan::providers(&mut rng::Rng::for_record(7, 0, 0), &size, &nets);
        members::World::new(
            7,
            "2026-06-01".parse().unwrap(),
            nets,
            &providers,
            MemberIdIssuer::from_key([7; 32]),
        )
    }

    #[test]
    fn same_seed_same_member() {
        let w = world();
        let a = members::member(&w, 42);
        let b = members::member(&w, 42);
        assert_eq!(a.member.member, b.member.member);
        assert_eq!(a.member.spans, b.member.spans);
        assert_eq!(a.claims, b.claims);
        assert_ne!(members::member(&w, 43).member.member, a.member.member);
    }

    #[test]
    fn generated_data_keep_domain_invariants() {
        let w = world();
        for n in 1..=2000 {
            let g = members::member(&w, n);
            domain::member::check_history(&g.member.spans)
                .unwrap_or_else(|e| panic!("member {n}: {e}"));
            for c in &g.claims {
                if c.status.is_final() {
                    assert!(
                        c.lines.iter().all(|l| l.balances()),
                        "claim {} balances",
                        c.number
                    );
                }
                let covered = g
                    .member
                    .spans
                    .iter()
                    .any(|s| s.covers(c.from_date().unwrap()));
                assert!(covered, "claim {} falls in a span", c.number);
            }
            for a in &g.auths {
                a.check().unwrap();
            }
        }
    }

    #[test]
    fn providers_are_valid_and_unique() {
        let nets = plan::networks();
        let size = plan::DirectorySize::for_members(1_000_000);
        let providers = plan::providers(&mut rng::Rng::for_record(1, 0, 0), &size, &nets);
        let mut npis: Vec<_> = providers.iter().map(|p| p.npi).collect();
        npis.sort();
        npis.dedup();
        assert_eq!(npis.len(), providers.len(), "NPIs are unique");
        assert!(providers.len() > 4000);
        assert!(providers.iter().any(|p| p.is_primary_care()));
    }
}
