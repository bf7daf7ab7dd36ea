//! The demo office's assigned members show open and closed care gaps of every kind, so the
//! alerts dashboard has something to show in each column.

use domain::access::Scope;
use domain::care_gaps::{Diagnosis, Measure, Patient, Service, earliest_relevant, evaluate};
use std::collections::HashMap;

#[tokio::test]
async fn demo_office_has_open_and_closed_gaps_of_each_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = storage::open(&format!("sqlite://{}/demo.db", dir.path().display()))
        .await
        .unwrap();
    seed::demo_with_password(&*store, "demo-password-1")
        .await
        .unwrap();
    let office = seed::demo_office(&*store).await.unwrap();
    let today = domain::eligibility::california_today(chrono::Utc::now());
    let inputs = store
        .care_gap_inputs(
            &Scope::Tins(vec![office.tin]),
            today,
            earliest_relevant(today),
        )
        .await
        .unwrap();
    assert!(
        inputs.members.len() >= 50,
        "{} assigned members",
        inputs.members.len()
    );
    let mut by_member: HashMap<&str, (Vec<Service>, Vec<Diagnosis>)> = HashMap::new();
    for s in &inputs.services {
        let e = by_member.entry(s.member.as_str()).or_default();
        e.0.push(Service {
            date: s.date,
            procedure: s.procedure.clone(),
        });
        e.1.extend(s.diagnoses.iter().map(|c| Diagnosis {
            date: s.date,
            code: c.clone(),
        }));
    }
    let mut counts: HashMap<(Measure, bool), usize> = HashMap::new();
    for m in &inputs.members {
        let (s, d) = by_member.remove(m.member.id.as_str()).unwrap_or_default();
        let p = Patient {
            birth_date: m.member.birth_date,
            sex: m.member.sex,
        };
        for g in evaluate(&p, &s, &d, today) {
            *counts.entry((g.measure, g.open)).or_default() += 1;
        }
    }
    eprintln!(
        "assigned members: {}; gaps: {counts:?}",
        inputs.members.len()
    );
    for m in Measure::ALL {
        for open in [true, false] {
            assert!(
                counts.get(&(*m, open)).copied().unwrap_or(0) > 0,
                "{m:?} open={open}: {counts:?}"
            );
        }
    }
}
