//! Members with eligibility histories, and the claims and authorizations of their care.

use crate::catalog::*;
use crate::rng::{Rng, pick};
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use domain::auth::{AuthKind, AuthRequest, AuthStatus, DenialReason, RequestedService, Urgency};
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::member::{EligibilitySpan, Member, MemberContact, Sex, age_on};
use domain::plan::{HealthNetwork, LineOfBusiness};
use domain::provider::Provider;
use domain::{AuthNumber, Cents, ClaimNumber, Npi};
use storage::NewMember;

/// What member generation draws on: the plan's networks and who can be a PCP or bill in each.
pub struct World {
    pub seed: u64,
    pub as_of: NaiveDate,
    pub networks: Vec<HealthNetwork>,
    /// Primary care practitioners participating in each network (same order as `networks`).
    pub pcps: Vec<Vec<Npi>>,
    /// Every practitioner (specialists bill too).
    pub practitioners: Vec<Npi>,
    /// Contract status of every provider (the timely filing limit depends on it).
    pub contracted: std::collections::HashMap<Npi, bool>,
    /// The plan's fee schedule, which the seed's adjudication prices with.
    pub fees: domain::adjudication::FeeSchedule,
    /// Claims received within this many days of `as_of` are left for the engine.
    pub in_process_days: i64,
    /// Member IDs, not guessable from one another.
    pub ids: domain::MemberIdIssuer,
}

impl World {
    pub fn new(
        seed: u64,
        as_of: NaiveDate,
        networks: Vec<HealthNetwork>,
        providers: &[Provider],
        ids: domain::MemberIdIssuer,
    ) -> World {
        let practitioners: Vec<&Provider> = providers
            .iter()
            .filter(|p| p.kind == domain::provider::ProviderKind::Practitioner)
            .collect();
        let pcps = networks
            .iter()
            .map(|n| {
                practitioners
                    .iter()
                    .filter(|p| p.is_primary_care() && p.networks.contains(&n.code))
                    .map(|p| p.npi)
                    .collect()
            })
            .collect();
        World {
            seed,
            as_of,
            networks,
            pcps,
            practitioners: practitioners.iter().map(|p| p.npi).collect(),
            contracted: providers.iter().map(|p| (p.npi, p.contracted)).collect(),
            fees: crate::history::fee_schedule()
                .into_iter()
                .map(|f| (f.procedure.clone(), f))
                .collect(),
            in_process_days: crate::history::IN_PROCESS_DAYS,
            ids,
        }
    }
}

/// Everything generated for one member.
pub struct Generated {
    pub member: NewMember,
    pub claims: Vec<Claim>,
    pub auths: Vec<AuthRequest>,
    /// Explanations and dates of the claims decided at generation.
    pub notes: Vec<storage::Adjudicated>,
}

const STREAM_MEMBER: u64 = 1;
/// Claim numbers are `n * CLAIMS_PER_MEMBER_MAX + k`, unique without coordination.
pub(crate) const CLAIMS_PER_MEMBER_MAX: u64 = 12;

/// Generates member number `n` (1-based) and their history, deterministically.
pub fn member(world: &World, n: u64) -> Generated {
    let rng = &mut Rng::for_record(world.seed, STREAM_MEMBER, n);
    let sex = if rng.chance(0.52) {
        Sex::Female
    } else {
        Sex::Male
    };
    let first = if sex == Sex::Female {
        pick(rng, FIRST_NAMES_F)
    } else {
        pick(rng, FIRST_NAMES_M)
    };
    // Medi-Cal skews young: about 40% children.
    let age = if rng.chance(0.4) {
        rng.below(18)
    } else {
        18 + rng.below(72)
    };
    let birth = world.as_of - Days::new(u64::from(age) * 365 + u64::from(rng.below(365)));
    let id = world.ids.issue(n);
    let (city, zip, _, _) = *pick(rng, CITIES);
    let contact = MemberContact {
        street: format!("{} {}", rng.below(19_000) + 100, pick(rng, STREETS)),
        city: city.into(),
        zip: zip.into(),
        phone: format!("657{:07}", rng.below(10_000_000)),
    };
    let spans = spans(world, rng, birth);
    let member = Member {
        id: id.clone(),
        first_name: first.to_string(),
        last_name: pick(rng, LAST_NAMES).to_string(),
        birth_date: birth,
        sex,
    };
    let mut claims = claims(world, rng, n, &member, &spans);
    claims.extend(crate::care::claims(world, n, &member, &spans));
    let mut auths = if rng.chance(0.05) {
        vec![auth(world, rng, n, &member, &spans)]
    } else {
        vec![]
    };
    let notes = crate::history::decide(world, rng, n, &spans, &mut claims, &mut auths);
    Generated {
        member: NewMember {
            member,
            contact,
            spans,
        },
        claims,
        auths,
        notes,
    }
}

fn lob_for(rng: &mut Rng, age: u32) -> LineOfBusiness {
    match age {
        65.. if rng.chance(0.45) => LineOfBusiness::OneCare,
        55.. if rng.chance(0.05) => LineOfBusiness::Pace,
        _ => LineOfBusiness::MediCal,
    }
}

/// One to three spans ending now, in the past (termed) or, rarely, starting next month.
fn spans(world: &World, rng: &mut Rng, birth: NaiveDate) -> Vec<EligibilitySpan> {
    let count = 1 + rng.below(3);
    let mut start = world
        .as_of
        .checked_sub_months(Months::new(6 + rng.below(36)))
        .unwrap()
        .with_day(1)
        .unwrap()
        .max(birth);
    let mut out = Vec::new();
    for i in 0..count {
        let last = i + 1 == count;
        let len = Months::new(3 + rng.below(18));
        let end = if last && rng.chance(0.85) {
            None
        } else {
            Some(start.checked_add_months(len).unwrap().pred_opt().unwrap())
        };
        let net_ix = if rng.chance(0.3) {
            0
        } else {
            1 + rng.below(world.networks.len() as u32 - 1) as usize
        };
        let age = age_on(birth, start);
        let lob = lob_for(rng, age);
        let pcp = (!world.pcps[net_ix].is_empty()).then(|| *pick(rng, &world.pcps[net_ix]));
        out.push(
            EligibilitySpan::new(start, end, lob, world.networks[net_ix].code.clone(), pcp)
                .expect("generated span is ordered"),
        );
        match end {
            // A gap of a month or two between spans, as real churn looks.
            Some(e) => {
                start = e
                    .checked_add_months(Months::new(1 + rng.below(2)))
                    .unwrap()
                    .with_day(1)
                    .unwrap()
            }
            None => break,
        }
    }
    // A few members have a future span (re-enrolment next month) after a termed one.
    if let Some(last) = out.last()
        && let Some(end) = last.end
        && end < world.as_of
        && rng.chance(0.2)
    {
        let next = world
            .as_of
            .checked_add_months(Months::new(1))
            .unwrap()
            .with_day(1)
            .unwrap();
        out.push(
            EligibilitySpan::new(
                next,
                None,
                last.line_of_business,
                last.network.clone(),
                last.pcp,
            )
            .unwrap(),
        );
    }
    out
}

fn diagnoses_for(rng: &mut Rng, child: bool) -> Vec<String> {
    let pool: &[(&str, &str)] = if child { &DIAGNOSES[3..6] } else { DIAGNOSES };
    let mut v = vec![pick(rng, pool).0.to_string()];
    if !child && rng.chance(0.4) {
        let d = pick(rng, DIAGNOSES).0.to_string();
        if !v.contains(&d) {
            v.push(d);
        }
    }
    v
}

fn claims(
    world: &World,
    rng: &mut Rng,
    n: u64,
    member: &Member,
    spans: &[EligibilitySpan],
) -> Vec<Claim> {
    // Visits a member had (claims reach the plan only for its own network's members, see below).
    let k = match rng.below(10) {
        0..=1 => 0,
        2..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    let mut out = Vec::with_capacity(k + 1);
    for j in 0..k as u64 {
        // Care happens during a span that has started.
        let span = pick(rng, spans);
        if span.start > world.as_of {
            continue;
        }
        // A delegated network pays its members' claims, so few of them reach the plan: the
        // ones that do were misrouted (and are denied with CO-109, naming the network).
        let delegated = world
            .networks
            .iter()
            .any(|net| net.code == span.network && !net.plan_pays_claims());
        if delegated && !rng.chance(0.1) {
            continue;
        }
        let span_end = span.end.unwrap_or(world.as_of).min(world.as_of);
        let days = (span_end - span.start).num_days().max(1) as u32;
        let service = span.start + Days::new(u64::from(rng.below(days)));
        // A few claims are filed late (past the timely filing limit).
        let lag = if rng.chance(0.02) {
            100 + rng.below(120)
        } else {
            3 + rng.below(40)
        };
        let received = service + Days::new(u64::from(lag));
        if received > world.as_of {
            continue;
        }
        let billing = span
            .pcp
            .filter(|_| rng.chance(0.7))
            .unwrap_or_else(|| *pick(rng, &world.practitioners));
        let child = age_on(member.birth_date, service) < 18;
        let lines_n = 1 + rng.below(3) as u16;
        let mut lines = Vec::new();
        for l in 1..=lines_n {
            // Now and then an unlisted code the fee schedule does not price.
            let (code, fee) = if rng.chance(0.01) {
                ("99499", 10_000)
            } else {
                let &(code, _, fee, _) = pick(rng, PROCEDURES);
                (code, fee)
            };
            if lines.iter().any(|x: &ClaimLine| x.procedure == code) {
                continue;
            }
            let units = 1;
            let billed = Cents(fee * i64::from(130 + rng.below(120)) / 100);
            lines.push(ClaimLine {
                line_number: l,
                procedure: code.into(),
                modifiers: vec![],
                revenue_code: None,
                units,
                service_date: service,
                billed,
                allowed: Cents::ZERO,
                paid: Cents::ZERO,
                adjustments: vec![],
            });
        }
        for (i, l) in lines.iter_mut().enumerate() {
            l.line_number = i as u16 + 1;
        }
        // Claims received in the last ten days are still in process (some in review); older
        // ones are decided by `history::decide`.
        let status = if (world.as_of - received).num_days() <= crate::history::IN_PROCESS_DAYS
            && rng.chance(0.2)
        {
            ClaimStatus::Pended
        } else {
            ClaimStatus::Received
        };
        let claim = Claim {
            number: ClaimNumber::from_sequence(n * CLAIMS_PER_MEMBER_MAX + j),
            form: ClaimForm::Professional,
            patient_account: format!("{}{:06}", &billing.as_str()[6..], rng.below(1_000_000)),
            member: member.id.clone(),
            billing_npi: billing,
            rendering_npi: Some(billing),
            diagnoses: diagnoses_for(rng, child),
            place_of_service: "11".into(),
            received,
            status,
            lines,
            payment: None,
        };
        // Sometimes the office sends the same claim again a week or two later.
        let resend = claim.received + Days::new(u64::from(7 + rng.below(10)));
        if rng.chance(0.03) && resend <= world.as_of {
            let mut again = claim.clone();
            again.number = ClaimNumber::from_sequence(n * CLAIMS_PER_MEMBER_MAX + 4 + j);
            again.received = resend;
            out.push(claim);
            out.push(again);
        } else {
            out.push(claim);
        }
    }
    out
}

fn auth(
    world: &World,
    rng: &mut Rng,
    n: u64,
    member: &Member,
    spans: &[EligibilitySpan],
) -> AuthRequest {
    let span = spans.last().expect("every member has a span");
    let auth_codes: Vec<&(&str, &str, i64, bool)> = PROCEDURES.iter().filter(|p| p.3).collect();
    let &(code, _, _, _) = *pick(rng, &auth_codes);
    let urgency = if rng.chance(0.15) {
        Urgency::Expedited
    } else {
        Urgency::Standard
    };
    let back = rng.below(120);
    let received_day = world.as_of - Days::new(u64::from(back));
    let received_at = Utc.from_utc_datetime(
        &received_day
            .and_hms_opt(8 + rng.below(9), rng.below(60), 0)
            .unwrap(),
    );
    let decided = back > 7 || (urgency == Urgency::Expedited && back > 3);
    let status = if !decided {
        if rng.chance(0.2) {
            AuthStatus::Pended
        } else {
            AuthStatus::InReview
        }
    } else {
        match rng.below(20) {
            0..=14 => AuthStatus::Approved,
            15 => AuthStatus::PartiallyApproved,
            16 => AuthStatus::Modified,
            _ => AuthStatus::Denied,
        }
    };
    let hours = if urgency == Urgency::Expedited {
        4 + rng.below(60)
    } else {
        24 + rng.below(140)
    };
    let units = if code == "97110" { 12 } else { 1 };
    let approved_units = match status {
        AuthStatus::Approved | AuthStatus::Modified => Some(units),
        AuthStatus::PartiallyApproved => Some(units / 2),
        AuthStatus::Denied => Some(0),
        _ => None,
    };
    let requesting = span.pcp.unwrap_or_else(|| *pick(rng, &world.practitioners));
    AuthRequest {
        number: AuthNumber::from_sequence(n),
        kind: if rng.chance(0.4) { AuthKind::Referral } else { AuthKind::PriorAuthorization },
        urgency,
        member: member.id.clone(),
        requesting_npi: requesting,
        servicing_npi: *pick(rng, &world.practitioners),
        diagnoses: vec![pick(rng, &DIAGNOSES[6..]).0.to_string()],
        services: vec![RequestedService {
            approved_units,
            approved_from: approved_units.filter(|u| *u > 0).map(|_| received_day + Days::new(7)),
            approved_to: approved_units.filter(|u| *u > 0).map(|_| received_day + Days::new(97)),
            ..RequestedService::new(code, units)
        }],
        line_of_business: span.line_of_business,
        urgency_reason: if urgency == Urgency::Expedited { "Waiting the standard time could seriously jeopardize the member's function.".into() } else { String::new() },
        clinical_notes: String::new(),
        pended_at: (status == AuthStatus::Pended).then(|| received_at + chrono::Duration::hours(20)),
        info_received_at: None,
        reviewer: None,
        auto_rule: None,
        appeal: None,
        place_of_service: "22".into(),
        from_date: received_day + Days::new(7),
        to_date: received_day + Days::new(97),
        received_at,
        status,
        decided_at: status.is_decided().then(|| received_at + chrono::Duration::hours(i64::from(hours))),
        denial_reason: (status == AuthStatus::Denied).then(|| DenialReason {
            code: "MN01".into(),
            text: "Medical necessity not shown: the request does not document six weeks of conservative treatment.".into(),
        }),
    }
}
