//! Preventive care in the claims history, so that care-gap alerts (`domain::care_gaps`) show
//! both open and closed gaps: well-care visits for children and young adults, screening
//! mammograms for women 50-74, and diabetes visits with and without an HbA1c test. Drawn from a
//! stream of its own, so the rest of the generated plan is unchanged by it.

use crate::members::{CLAIMS_PER_MEMBER_MAX, World};
use crate::rng::{Rng, pick};
use chrono::{Datelike, Days, NaiveDate};
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::member::{EligibilitySpan, Member, Sex, age_on};
use domain::{Cents, ClaimNumber, Npi};

const STREAM_CARE: u64 = 2;
/// Claim numbers `n * CLAIMS_PER_MEMBER_MAX + k`: the visit claims use k = 0..=3, their resent
/// copies k = 4..=7, preventive care k = 8..=10.
const FIRST_K: u64 = 8;

/// The CPT preventive visit for an age (established patient) and the plan's fee in cents.
fn well_visit(age: u32) -> (&'static str, i64) {
    match age {
        0 => ("99391", 11_000),
        1..=4 => ("99392", 11_000),
        5..=11 => ("99393", 10_800),
        12..=17 => ("99394", 11_500),
        18..=39 => ("99395", 12_500),
        _ => ("99396", 13_500),
    }
}

/// A day of service in `[from, until]` inside a span that covers it, if there is one.
fn day_in_spans(
    rng: &mut Rng,
    spans: &[EligibilitySpan],
    from: NaiveDate,
    until: NaiveDate,
) -> Option<NaiveDate> {
    let windows: Vec<(NaiveDate, NaiveDate)> = spans
        .iter()
        .filter_map(|s| {
            let a = s.start.max(from);
            let b = s.end.unwrap_or(until).min(until);
            (a <= b).then_some((a, b))
        })
        .collect();
    if windows.is_empty() {
        return None;
    }
    let (a, b) = *pick(rng, &windows);
    let days = (b - a).num_days().max(0) as u32 + 1;
    Some(a + Days::new(u64::from(rng.below(days))))
}

fn pcp_on(spans: &[EligibilitySpan], day: NaiveDate) -> Option<Npi> {
    spans.iter().find(|s| s.covers(day)).and_then(|s| s.pcp)
}

/// A visit to bill: day, the PCP (if any), lines (code, fee) and diagnoses.
type Visit = (
    NaiveDate,
    Option<Npi>,
    Vec<(&'static str, i64)>,
    Vec<&'static str>,
);

/// Preventive-care claims of member `n`.
pub fn claims(world: &World, n: u64, member: &Member, spans: &[EligibilitySpan]) -> Vec<Claim> {
    let rng = &mut Rng::for_record(world.seed, STREAM_CARE, n);
    let today = world.as_of;
    // Claims take a few days to arrive: care up to two weeks ago is on file.
    let until = today - Days::new(14);
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("valid");
    let age = age_on(member.birth_date, today);
    let mut visits: Vec<Visit> = Vec::new();

    if (3..=21).contains(&age)
        && rng.chance(0.45)
        && let Some(day) = day_in_spans(rng, spans, year_start, until)
    {
        let child = age_on(member.birth_date, day) < 18;
        visits.push((
            day,
            pcp_on(spans, day),
            vec![well_visit(age_on(member.birth_date, day))],
            vec![if child { "Z00129" } else { "Z0000" }],
        ));
    }
    if member.sex == Sex::Female
        && (50..=74).contains(&age)
        && rng.chance(0.55)
        && let Some(day) = day_in_spans(rng, spans, today - Days::new(800), until)
    {
        visits.push((day, None, vec![("77067", 13_800)], vec!["Z1231"]));
    }
    if (18..=75).contains(&age) && rng.chance(0.12) {
        let last_year = NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).expect("valid");
        let from = if rng.chance(0.6) {
            year_start
        } else {
            last_year
        };
        if let Some(day) = day_in_spans(rng, spans, from, until) {
            // A diabetes visit; about half with the HbA1c drawn the same day.
            let mut lines = vec![("99214", 13_000)];
            if rng.chance(0.55) {
                lines.push(("83036", 1_300));
            }
            visits.push((day, pcp_on(spans, day), lines, vec!["E119", "I10"]));
        }
    }

    visits
        .into_iter()
        .enumerate()
        .filter_map(|(k, (day, pcp, codes, dx))| {
            let received = day + Days::new(u64::from(3 + rng.below(10)));
            if received > today {
                return None;
            }
            let billing = pcp
                .filter(|_| rng.chance(0.85))
                .unwrap_or_else(|| *pick(rng, &world.practitioners));
            let lines: Vec<ClaimLine> = codes
                .iter()
                .enumerate()
                .map(|(i, (code, fee))| ClaimLine {
                    line_number: i as u16 + 1,
                    procedure: (*code).into(),
                    modifiers: vec![],
                    revenue_code: None,
                    units: 1,
                    service_date: day,
                    billed: Cents(fee * i64::from(130 + rng.below(60)) / 100),
                    allowed: Cents::ZERO,
                    paid: Cents::ZERO,
                    adjustments: vec![],
                })
                .collect();
            Some(Claim {
                number: ClaimNumber::from_sequence(n * CLAIMS_PER_MEMBER_MAX + FIRST_K + k as u64),
                form: ClaimForm::Professional,
                patient_account: format!("{}{:06}", &billing.as_str()[6..], rng.below(1_000_000)),
                member: member.id.clone(),
                billing_npi: billing,
                rendering_npi: Some(billing),
                diagnoses: dx.into_iter().map(str::to_string).collect(),
                place_of_service: "11".into(),
                received,
                // Decided with the rest of the member's history by the plan's real rules
                // (`crate::history::decide`), or left for the engine when recent.
                status: ClaimStatus::Received,
                lines,
                payment: None,
            })
        })
        .collect()
}
