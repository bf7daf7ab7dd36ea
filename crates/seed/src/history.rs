//! The generated plan's claims history, decided by the plan's real rules
//! (`domain::adjudication`) so that every outcome, explanation and payment in the demo is one the
//! engine would have produced: the fee schedule from the catalog, authorizations for most
//! services that need one (obtained before the service), each member's claims decided in the
//! order received a few days after receipt, and (in [`crate::generate`]) weekly payment runs with
//! an 835 per payee through the engine's own payment run.

use crate::catalog::PROCEDURES;
use crate::members::World;
use crate::rng::Rng;
use chrono::{Days, TimeZone, Utc};
use domain::AuthNumber;
use domain::adjudication::{Context, Fee, PriorService, adjudicate};
use domain::auth::{AuthKind, AuthRequest, AuthStatus, RequestedService, Urgency};
use domain::claim::{Claim, ClaimStatus};
use domain::member::EligibilitySpan;
use storage::{Adjudicated, LineExplanation};

/// Days from receipt to decision for the generated history.
pub const DECIDED_AFTER_DAYS: u64 = 7;
/// Claims received within this many days of "today" are left for the engine (or in review).
pub const IN_PROCESS_DAYS: i64 = 10;

/// The plan's fee schedule: the catalog's procedures with their fees.
pub fn fee_schedule() -> Vec<Fee> {
    PROCEDURES
        .iter()
        .map(|&(code, description, fee, requires_auth)| Fee {
            procedure: code.into(),
            description: description.into(),
            amount: domain::Cents(fee),
            requires_auth,
        })
        .collect()
}

/// Authorization numbers of the generator's auths for claims: apart from the member's own
/// request (`AuthNumber::from_sequence(n)`).
const AUTH_FOR_CLAIMS_BASE: u64 = 5_000_000_000;

/// Decides the member's claims older than [`IN_PROCESS_DAYS`] with the plan's rules (adding the
/// authorizations most offices obtain first) and returns their explanations.
pub fn decide(
    world: &World,
    rng: &mut Rng,
    n: u64,
    spans: &[EligibilitySpan],
    claims: &mut [Claim],
    auths: &mut Vec<AuthRequest>,
) -> Vec<Adjudicated> {
    let mut earlier: Vec<PriorService> = Vec::new();
    let mut notes = Vec::new();
    claims.sort_by(|a, b| (a.received, &a.number).cmp(&(b.received, &b.number)));
    let mut k = 0;
    for claim in claims.iter_mut() {
        let servicing = claim.rendering_npi.unwrap_or(claim.billing_npi);
        // Most offices get the authorization a service needs before providing it.
        for line in &claim.lines {
            let needs = world
                .fees
                .get(&line.procedure)
                .is_some_and(|f| f.requires_auth);
            if needs && rng.chance(0.75) {
                let from = line.service_date - Days::new(7);
                let asked = Utc.from_utc_datetime(
                    &(from - Days::new(5))
                        .and_hms_opt(9 + rng.below(8), rng.below(60), 0)
                        .unwrap(),
                );
                let units = if line.procedure == "97110" {
                    12
                } else {
                    line.units.max(1)
                };
                auths.push(AuthRequest {
                    number: AuthNumber::from_sequence(AUTH_FOR_CLAIMS_BASE + n * 8 + k),
                    kind: AuthKind::PriorAuthorization,
                    urgency: Urgency::Standard,
                    member: claim.member.clone(),
                    requesting_npi: claim.billing_npi,
                    servicing_npi: servicing,
                    diagnoses: claim.diagnoses.iter().take(1).cloned().collect(),
                    services: vec![RequestedService {
                        approved_units: Some(units),
                        ..RequestedService::new(line.procedure.clone(), units)
                    }],
                    place_of_service: claim.place_of_service.clone(),
                    from_date: from,
                    to_date: from + Days::new(90),
                    received_at: asked,
                    status: AuthStatus::Approved,
                    decided_at: Some(
                        asked + chrono::Duration::hours(i64::from(24 + rng.below(72))),
                    ),
                    denial_reason: None,
                    line_of_business: domain::member::coverage_on(spans, from)
                        .map_or(domain::plan::LineOfBusiness::MediCal, |s| {
                            s.line_of_business
                        }),
                    urgency_reason: String::new(),
                    clinical_notes: String::new(),
                    pended_at: None,
                    info_received_at: None,
                    reviewer: None,
                    auto_rule: None,
                    appeal: None,
                });
                k += 1;
            }
        }
        let decided = (world.as_of - claim.received).num_days() > world.in_process_days;
        if decided && claim.status == ClaimStatus::Received {
            let on = claim.received + Days::new(DECIDED_AFTER_DAYS);
            let outcome = adjudicate(
                claim,
                &Context {
                    today: on,
                    spans,
                    networks: &world.networks,
                    auths,
                    fees: &world.fees,
                    contracted: world
                        .contracted
                        .get(&claim.billing_npi)
                        .copied()
                        .unwrap_or(false),
                    earlier: &earlier,
                },
            );
            outcome.apply_to(claim);
            notes.push(Adjudicated {
                claim: claim.clone(),
                on,
                explanations: outcome
                    .lines
                    .iter()
                    .map(|l| LineExplanation {
                        line_number: l.line_number,
                        rule: l.rule.code().into(),
                        text: l.explanation.clone(),
                    })
                    .collect(),
            });
        }
        earlier.extend(PriorService::of(claim));
    }
    notes
}
