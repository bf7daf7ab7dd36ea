//! What the plan tells offices when they check a member's eligibility: who pays the claims of a
//! delegated network, OneCare's Medicare-first billing, termed and future coverage, PACE.
//! Targeted by line of business, network kind and the state of the span on the date of service.

use chrono::NaiveDate;
use domain::eligibility::{NoticeLevel, PlanNotice};
use domain::member::SpanState;
use domain::plan::{LineOfBusiness, NetworkKind};

fn notice(code: &str, level: NoticeLevel, title: &str, body: &str) -> PlanNotice {
    PlanNotice {
        code: code.into(),
        level,
        title: title.into(),
        body: body.into(),
        line_of_business: None,
        network: None,
        network_kind: None,
        span_state: None,
        // The plan's single-level dispute procedure and today's network arrangements date from
        // January 1, 2024.
        effective_from: NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid"),
        effective_to: None,
    }
}

/// The demo plan's notices.
pub fn notices() -> Vec<PlanNotice> {
    use NoticeLevel::*;
    let mut delegated = notice(
        "delegated-network-claims",
        Important,
        "The health network pays this member's claims",
        "This member is assigned to a delegated health network. Send claims, referrals and \
         authorization requests for this member to the health network (its provider services \
         line is shown with the network), not to the plan. Disputes about its claims go to the \
         network first.",
    );
    delegated.network_kind = Some(NetworkKind::Delegated);
    delegated.span_state = Some(SpanState::Active);
    let mut community = notice(
        "community-network-claims",
        Info,
        "The plan pays this member's claims",
        "This member is in the plan's Community Network: submit claims and authorization \
         requests to the plan, through this portal or EDI.",
    );
    community.network_kind = Some(NetworkKind::Community);
    community.span_state = Some(SpanState::Active);
    let mut dsnp = notice(
        "onecare-dsnp",
        Important,
        "OneCare is a D-SNP: Medicare is primary",
        "OneCare (HMO D-SNP) covers members with both Medicare and Medi-Cal. Bill Medicare \
         services to OneCare first; Medi-Cal pays second. Do not bill the member for Medicare \
         cost sharing.",
    );
    dsnp.line_of_business = Some(LineOfBusiness::OneCare);
    let mut pace = notice(
        "pace-center",
        Important,
        "PACE: care is arranged by the PACE center",
        "PACE participants receive all their care through their PACE center, which must \
         authorize services in advance. Call the PACE center before scheduling.",
    );
    pace.line_of_business = Some(LineOfBusiness::Pace);
    let mut termed = notice(
        "coverage-termed",
        Important,
        "Not covered on the date of service",
        "This member's coverage ended before the date of service: services on that date are \
         not covered by the plan. Ask the member about other coverage; a Medi-Cal renewal may \
         be pending with the county.",
    );
    termed.span_state = Some(SpanState::Termed);
    let mut future = notice(
        "coverage-future",
        Info,
        "Coverage starts or changes later",
        "This member has a span of coverage starting after the date of service (see the \
         eligibility history). For services from its start date, check eligibility again: the \
         line of business, health network and PCP may differ.",
    );
    future.span_state = Some(SpanState::Future);
    vec![delegated, community, dsnp, pace, termed, future]
}
