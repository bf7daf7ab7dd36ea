//! Claim adjudication as plain rules: given a received claim and what the plan knows (the
//! member's eligibility, their authorizations, the fee schedule, the billing provider's contract
//! status and earlier claims), each line is paid, reduced or denied, with its CAS adjustments
//! and a plain-language explanation naming the rule that decided it. Pure: no I/O.
//!
//! The rules, in the order they are applied to each line (the first that fails decides):
//!
//! 1. **Eligibility** on the date of service: no span covers it, CO-26 (before coverage began)
//!    or CO-27 (after coverage ended).
//! 2. **Network responsibility**: a member assigned to a delegated health network is that
//!    network's to pay: CO-109 with RARC N418 (misrouted claim), naming the network to bill.
//! 3. **Timely filing**: received later than the plan's limit after the date of service: CO-29.
//! 4. **Duplicate**: the same member, billing provider, procedure and date of service on an
//!    earlier claim: CO-18.
//! 5. **Fee schedule**: a procedure the plan has no fee for is not a covered benefit: CO-204
//!    with RARC N130 (consult plan benefit documents). Denied rather than pended: a pended line
//!    leaves the office waiting with nothing to act on, while a denial says what happened and
//!    can be disputed or corrected at once.
//! 6. **Authorization**: a procedure that requires one needs an approved authorization for this
//!    member, servicing provider, procedure and date with units left: none on file is CO-197 with
//!    RARC M62 (missing authorization); one that does not match the claim is CO-197 with N54
//!    (claim inconsistent with the authorized services); one whose units are used up is CO-198
//!    with N54 (authorization exceeded).
//! 7. **Pricing**: allowed = min(billed, fee × units); the difference is CO-45 (a contractual
//!    write-off the member may not be billed for); patient cost sharing (PR-3) comes out of the
//!    allowed amount where the line of business has any (see [`copay`]).
//!
//! Every line balances: billed = paid + the sum of its adjustments.

use crate::auth::{AuthRequest, AuthStatus};
use crate::claim::{Adjustment, AdjustmentGroup, Claim, ClaimLine, ClaimStatus};
use crate::coded_enum;
use crate::ids::{ClaimNumber, MemberId, Npi};
use crate::member::EligibilitySpan;
use crate::money::Cents;
use crate::plan::{HealthNetwork, LineOfBusiness, NetworkKind};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Timely filing limits, in days from the date of service to the plan's receipt of the claim.
/// The plan states the floor California allows: DMHC, 28 CCR §1300.71(b)(1), a plan may not
/// impose a deadline shorter than 90 days after the date of service for contracted providers
/// or 180 days for non-contracted providers.
pub const TIMELY_FILING_CONTRACTED_DAYS: i64 = 90;
pub const TIMELY_FILING_NON_CONTRACTED_DAYS: i64 = 180;

/// A procedure on the plan's fee schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// CPT/HCPCS.
    pub procedure: String,
    pub description: String,
    /// Allowed per unit.
    pub amount: Cents,
    /// The procedure needs a prior authorization or referral before it is paid.
    pub requires_auth: bool,
}

/// The fee schedule, by procedure code.
pub type FeeSchedule = HashMap<String, Fee>;

/// A service line of an earlier claim, as the duplicate and authorization-units rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorService {
    pub claim: ClaimNumber,
    pub member: MemberId,
    pub billing_npi: Npi,
    /// Rendering provider (or billing when none).
    pub servicing_npi: Npi,
    pub procedure: String,
    pub service_date: NaiveDate,
    pub units: u32,
    /// Paid something: counts against an authorization's units.
    pub paid: bool,
}

impl PriorService {
    /// The lines of a claim (adjudicated or about to be) as later claims see them.
    pub fn of(claim: &Claim) -> Vec<PriorService> {
        claim
            .lines
            .iter()
            .map(|l| PriorService {
                claim: claim.number.clone(),
                member: claim.member.clone(),
                billing_npi: claim.billing_npi,
                servicing_npi: claim.rendering_npi.unwrap_or(claim.billing_npi),
                procedure: l.procedure.clone(),
                service_date: l.service_date,
                units: l.units,
                paid: l.paid > Cents::ZERO,
            })
            .collect()
    }
}

/// What the rules know besides the claim itself.
pub struct Context<'a> {
    /// The day of adjudication.
    pub today: NaiveDate,
    /// The member's eligibility history.
    pub spans: &'a [EligibilitySpan],
    /// The plan's health networks (to know who pays for a member's network).
    pub networks: &'a [HealthNetwork],
    /// The member's referrals and authorizations.
    pub auths: &'a [AuthRequest],
    pub fees: &'a FeeSchedule,
    /// The billing provider holds a contract with the plan.
    pub contracted: bool,
    /// Lines of the member's earlier claims (other claim numbers).
    pub earlier: &'a [PriorService],
}

coded_enum!(
    /// The rule that decided a line.
    Rule {
        Eligibility = ("eligibility", "Eligibility on the date of service"),
        NetworkResponsibility = ("network", "Network responsibility"),
        TimelyFiling = ("timely_filing", "Timely filing"),
        Duplicate = ("duplicate", "Duplicate claim"),
        FeeSchedule = ("fee_schedule", "Covered procedure (fee schedule)"),
        Authorization = ("authorization", "Prior authorization"),
        Pricing = ("pricing", "Fee schedule pricing"),
    }
);

/// How one line came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOutcome {
    pub line_number: u16,
    pub allowed: Cents,
    pub paid: Cents,
    pub adjustments: Vec<Adjustment>,
    /// The rule that decided the line (Pricing when it was paid).
    pub rule: Rule,
    /// Why, in words an office reads.
    pub explanation: String,
}

/// How a claim came out: its new status and each line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOutcome {
    pub status: ClaimStatus,
    pub lines: Vec<LineOutcome>,
}

impl ClaimOutcome {
    /// Writes the outcome into the claim (status, lines' amounts and adjustments).
    pub fn apply_to(&self, claim: &mut Claim) {
        claim.status = self.status;
        for (line, out) in claim.lines.iter_mut().zip(&self.lines) {
            line.allowed = out.allowed;
            line.paid = out.paid;
            line.adjustments = out.adjustments.clone();
        }
    }
}

/// Patient cost sharing (a per-line copay) for a line of business. Every line of business of
/// this plan is Medi-Cal based and has none: Medi-Cal managed care members pay no copays for
/// covered services, OneCare (D-SNP) members are dual eligibles whose Medicare cost sharing
/// Medi-Cal covers (providers may not bill them for it), and PACE has no cost sharing. So no
/// PR adjustment is made; the pricing rule still supports one ([`price`]).
pub fn copay(lob: LineOfBusiness) -> Cents {
    match lob {
        LineOfBusiness::MediCal
        | LineOfBusiness::OneCare
        | LineOfBusiness::OneCareConnect
        | LineOfBusiness::Pace => Cents::ZERO,
    }
}

fn money(c: Cents) -> String {
    let sign = if c.0 < 0 { "-" } else { "" };
    let a = c.0.unsigned_abs();
    let whole = (a / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}${grouped}.{:02}", a % 100)
}

fn us(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

fn phone(p: &str) -> String {
    if p.len() == 10 && p.bytes().all(|b| b.is_ascii_digit()) {
        format!("({}) {}-{}", &p[..3], &p[3..6], &p[6..])
    } else {
        p.to_string()
    }
}

fn deny(
    line: &ClaimLine,
    rule: Rule,
    carc: &str,
    rarc: Option<&str>,
    explanation: String,
) -> LineOutcome {
    LineOutcome {
        line_number: line.line_number,
        allowed: Cents::ZERO,
        paid: Cents::ZERO,
        adjustments: vec![Adjustment {
            group: AdjustmentGroup::ContractualObligation,
            reason: carc.into(),
            amount: line.billed,
            remark: rarc.map(str::to_string),
        }],
        rule,
        explanation,
    }
}

/// Prices a covered line: allowed = min(billed, fee × units), CO-45 for the excess, PR-3 for
/// the copay (taken from the allowed amount, never more than it).
pub fn price(line: &ClaimLine, fee: Cents, copay: Cents) -> LineOutcome {
    let schedule = Cents(fee.0.saturating_mul(i64::from(line.units)));
    let allowed = line.billed.min(schedule).max(Cents::ZERO);
    let patient = copay.min(allowed).max(Cents::ZERO);
    let paid = allowed - patient;
    let mut adjustments = Vec::new();
    let excess = line.billed - allowed;
    if excess > Cents::ZERO {
        adjustments.push(Adjustment {
            group: AdjustmentGroup::ContractualObligation,
            reason: "45".into(),
            amount: excess,
            remark: None,
        });
    }
    if patient > Cents::ZERO {
        adjustments.push(Adjustment {
            group: AdjustmentGroup::PatientResponsibility,
            reason: "3".into(),
            amount: patient,
            remark: None,
        });
    }
    let units = if line.units == 1 {
        String::new()
    } else {
        format!(" × {} units", line.units)
    };
    let mut explanation = format!(
        "Paid from the plan's fee schedule: {} allows {}{units}.",
        line.procedure,
        money(fee)
    );
    if excess > Cents::ZERO {
        explanation.push_str(&format!(
            " The {} billed above that is a contractual write-off (CO-45): do not bill it to the member.",
            money(excess)
        ));
    } else {
        explanation
            .push_str(" The billed amount is within the fee schedule and was allowed in full.");
    }
    if patient > Cents::ZERO {
        explanation.push_str(&format!(
            " The member's copay of {} (PR-3) may be collected from the member.",
            money(patient)
        ));
    } else {
        explanation.push_str(" The member owes nothing for this service.");
    }
    LineOutcome {
        line_number: line.line_number,
        allowed,
        paid,
        adjustments,
        rule: Rule::Pricing,
        explanation,
    }
}

/// Decides one line.
fn line_outcome(claim: &Claim, line: &ClaimLine, ctx: &Context<'_>) -> LineOutcome {
    let dos = line.service_date;

    // 1. Eligibility on the date of service.
    let Some(span) = ctx.spans.iter().find(|s| s.covers(dos)) else {
        let before_all = ctx.spans.iter().all(|s| dos < s.start);
        return if before_all {
            let start = ctx.spans.iter().map(|s| s.start).min();
            deny(
                line,
                Rule::Eligibility,
                "26",
                None,
                match start {
                    Some(s) => format!(
                        "The member's coverage with the plan began on {}, after the date of service {}. Check the member's other coverage on that date.",
                        us(s),
                        us(dos)
                    ),
                    None => format!(
                        "The member has no coverage with the plan on the date of service {}.",
                        us(dos)
                    ),
                },
            )
        } else {
            let ended = ctx
                .spans
                .iter()
                .filter_map(|s| s.end)
                .filter(|e| *e < dos)
                .max();
            deny(
                line,
                Rule::Eligibility,
                "27",
                None,
                match ended {
                    Some(e) => format!(
                        "The member's coverage with the plan ended on {}, before the date of service {}. Check eligibility and bill the member's current coverage.",
                        us(e),
                        us(dos)
                    ),
                    None => format!(
                        "The member was not covered by the plan on the date of service {}.",
                        us(dos)
                    ),
                },
            )
        };
    };

    // 2. Network responsibility.
    let network = ctx.networks.iter().find(|n| n.code == span.network);
    if let Some(n) = network.filter(|n| n.kind == NetworkKind::Delegated) {
        return deny(
            line,
            Rule::NetworkResponsibility,
            "109",
            Some("N418"),
            format!(
                "On {} the member was assigned to {}, a delegated health network that pays its own claims. Bill {} (provider services {}) instead of the plan.",
                us(dos),
                n.name,
                n.name,
                phone(&n.phone)
            ),
        );
    }

    // 3. Timely filing.
    let limit = if ctx.contracted {
        TIMELY_FILING_CONTRACTED_DAYS
    } else {
        TIMELY_FILING_NON_CONTRACTED_DAYS
    };
    let age = (claim.received - dos).num_days();
    if age > limit {
        return deny(
            line,
            Rule::TimelyFiling,
            "29",
            None,
            format!(
                "Received {} days after the date of service {}; the plan's filing limit for {} providers is {limit} days (28 CCR §1300.71(b)(1)). If the claim was filed on time elsewhere, dispute with proof of timely filing.",
                age,
                us(dos),
                if ctx.contracted {
                    "contracted"
                } else {
                    "non-contracted"
                }
            ),
        );
    }

    // 4. Duplicate of an earlier claim.
    if let Some(prior) = ctx.earlier.iter().find(|p| {
        p.claim != claim.number
            && p.member == claim.member
            && p.billing_npi == claim.billing_npi
            && p.procedure == line.procedure
            && p.service_date == dos
    }) {
        return deny(
            line,
            Rule::Duplicate,
            "18",
            None,
            format!(
                "The same service ({} on {} for this member by this provider) was already billed on claim {}. To change that claim, send a corrected claim (frequency code 7) instead of a new one.",
                line.procedure,
                us(dos),
                prior.claim
            ),
        );
    }

    // 5. The fee schedule knows the procedure.
    let Some(fee) = ctx.fees.get(&line.procedure) else {
        return deny(
            line,
            Rule::FeeSchedule,
            "204",
            Some("N130"),
            format!(
                "Procedure {} is not on the plan's fee schedule, so it is not a covered benefit for this member. Check the code; if it is right and you believe the service is covered, file a dispute.",
                line.procedure
            ),
        );
    };

    // 6. Authorization where the procedure requires one.
    if fee.requires_auth
        && let Some(denial) = authorization(claim, line, ctx)
    {
        return denial;
    }

    // 7. Pricing.
    price(line, fee.amount, copay(span.line_of_business))
}

fn authorization(claim: &Claim, line: &ClaimLine, ctx: &Context<'_>) -> Option<LineOutcome> {
    let servicing = claim.rendering_npi.unwrap_or(claim.billing_npi);
    let dos = line.service_date;
    let approved = |a: &&AuthRequest| {
        matches!(
            a.status,
            AuthStatus::Approved | AuthStatus::PartiallyApproved | AuthStatus::Modified
        ) && a.member == claim.member
    };
    // (authorization, approved units, approved dates): a reviewer who modified the dates of a
    // service approved those, not the ones requested.
    let for_code: Vec<(&AuthRequest, u32, NaiveDate, NaiveDate)> = ctx
        .auths
        .iter()
        .filter(approved)
        .filter_map(|a| {
            a.services
                .iter()
                .find(|s| s.procedure == line.procedure)
                .map(|s| {
                    (
                        a,
                        s.approved_units.unwrap_or(0),
                        s.approved_from.unwrap_or(a.from_date),
                        s.approved_to.unwrap_or(a.to_date),
                    )
                })
        })
        .filter(|(_, units, _, _)| *units > 0)
        .collect();
    if for_code.is_empty() {
        return Some(deny(
            line,
            Rule::Authorization,
            "197",
            Some("M62"),
            format!(
                "Procedure {} requires a prior authorization, and none is approved for this member. Request one (it may be approved retroactively for urgent care) and then send a corrected claim.",
                line.procedure
            ),
        ));
    }
    let matching: Vec<(&AuthRequest, u32, NaiveDate, NaiveDate)> = for_code
        .iter()
        .copied()
        .filter(|(a, _, from, to)| a.servicing_npi == servicing && *from <= dos && dos <= *to)
        .collect();
    if matching.is_empty() {
        let (a, _, from, to) = for_code[0];
        return Some(deny(
            line,
            Rule::Authorization,
            "197",
            Some("N54"),
            format!(
                "Authorization {} for {} does not cover this line: it is for servicing provider {} from {} to {}, and the claim is for provider {} on {}. Bill under the authorized provider and dates, or ask for the authorization to be updated.",
                a.number,
                line.procedure,
                a.servicing_npi,
                us(from),
                us(to),
                servicing,
                us(dos)
            ),
        ));
    }
    // Units left: approved units less the units of earlier paid lines inside the authorization.
    for (a, approved_units, from, to) in &matching {
        let used: u32 = ctx
            .earlier
            .iter()
            .filter(|p| {
                p.claim != claim.number
                    && p.paid
                    && p.member == claim.member
                    && p.servicing_npi == a.servicing_npi
                    && p.procedure == line.procedure
                    && *from <= p.service_date
                    && p.service_date <= *to
            })
            .map(|p| p.units)
            .sum();
        if used + line.units <= *approved_units {
            return None;
        }
    }
    let (a, units, _, _) = matching[0];
    Some(deny(
        line,
        Rule::Authorization,
        "198",
        Some("N54"),
        format!(
            "Authorization {} approved {} unit(s) of {}, and earlier claims have used them. Ask the plan to extend the authorization before billing more.",
            a.number, units, line.procedure
        ),
    ))
}

/// Decides every line of a received claim and the claim's status.
pub fn adjudicate(claim: &Claim, ctx: &Context<'_>) -> ClaimOutcome {
    let lines: Vec<LineOutcome> = claim
        .lines
        .iter()
        .map(|l| line_outcome(claim, l, ctx))
        .collect();
    ClaimOutcome {
        status: status_of(&lines),
        lines,
    }
}

/// Paid when every line paid something, Denied when none did, Partially paid otherwise.
pub fn status_of(lines: &[LineOutcome]) -> ClaimStatus {
    let paying = lines.iter().filter(|l| l.paid > Cents::ZERO).count();
    if paying == 0 {
        ClaimStatus::Denied
    } else if paying == lines.len() {
        ClaimStatus::Paid
    } else {
        ClaimStatus::PartiallyPaid
    }
}

/// CLP02, the claim status code of an 835: 1 processed as primary, 4 denied.
pub fn remit_status_code(status: ClaimStatus) -> &'static str {
    match status {
        ClaimStatus::Denied => "4",
        _ => "1",
    }
}

/// What a claim's status means for the office, in plain words (claim status pages).
pub fn status_words(claim: &Claim) -> String {
    let paid_on = claim
        .payment
        .as_ref()
        .map(|p| format!("{} (payment {})", us(p.date), p.number));
    match claim.status {
        ClaimStatus::Received => {
            "Received and waiting to be processed. Nothing is needed from you yet.".into()
        }
        ClaimStatus::Pended => {
            "In review by the plan. You will be told if anything is needed; no action yet.".into()
        }
        ClaimStatus::Rejected => {
            "Rejected at intake (see the 277CA): it was never processed. Correct it and send it again as a new claim.".into()
        }
        ClaimStatus::Paid => match paid_on {
            Some(p) => format!("Paid: {} on {p}.", money(claim.paid())),
            None => format!(
                "Approved for payment of {}; it goes out with the next payment run.",
                money(claim.paid())
            ),
        },
        ClaimStatus::PartiallyPaid => match paid_on {
            Some(p) => format!(
                "Partly paid: {} of {} billed on {p}. The lines below say why the rest was not paid.",
                money(claim.paid()),
                money(claim.billed())
            ),
            None => format!(
                "Partly approved: {} of {} billed, to be paid with the next payment run. The lines below say why the rest was not.",
                money(claim.paid()),
                money(claim.billed())
            ),
        },
        ClaimStatus::Denied => {
            let why = claim
                .lines
                .iter()
                .flat_map(|l| &l.adjustments)
                .find(|a| a.group != AdjustmentGroup::PatientResponsibility)
                .map(|a| crate::claim::explain_carc(&a.reason))
                .unwrap_or("see the lines below");
            let on = paid_on
                .map(|p| format!(" Reported on the remittance of {p}."))
                .unwrap_or_default();
            format!("Denied: {why}{on}")
        }
        ClaimStatus::Adjusted => {
            "Reopened after a dispute or a corrected claim, and being processed again.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthKind, RequestedService, Urgency};
    use crate::claim::ClaimForm;
    use crate::ids::AuthNumber;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn npi() -> Npi {
        Npi::parse("1234567893").unwrap()
    }
    fn other_npi() -> Npi {
        Npi::parse("1558598797").unwrap()
    }

    fn networks() -> Vec<HealthNetwork> {
        vec![
            HealthNetwork {
                code: "CCN".into(),
                name: "Community Network".into(),
                kind: NetworkKind::Community,
                phone: "7145550100".into(),
            },
            HealthNetwork {
                code: "HHN".into(),
                name: "Harbor Health Network".into(),
                kind: NetworkKind::Delegated,
                phone: "7145550110".into(),
            },
        ]
    }

    fn fees() -> FeeSchedule {
        [("99213", 9_200, false), ("97110", 3_000, true)]
            .into_iter()
            .map(|(c, a, r)| {
                (
                    c.to_string(),
                    Fee {
                        procedure: c.into(),
                        description: String::new(),
                        amount: Cents(a),
                        requires_auth: r,
                    },
                )
            })
            .collect()
    }

    fn span(start: &str, end: Option<&str>, network: &str) -> EligibilitySpan {
        EligibilitySpan::new(
            d(start),
            end.map(d),
            LineOfBusiness::MediCal,
            network.into(),
            None,
        )
        .unwrap()
    }

    fn line(n: u16, code: &str, dos: &str, billed: i64, units: u32) -> ClaimLine {
        ClaimLine {
            line_number: n,
            procedure: code.into(),
            modifiers: vec![],
            revenue_code: None,
            units,
            service_date: d(dos),
            billed: Cents(billed),
            allowed: Cents::ZERO,
            paid: Cents::ZERO,
            adjustments: vec![],
        }
    }

    fn claim(n: u64, received: &str, lines: Vec<ClaimLine>) -> Claim {
        Claim {
            number: ClaimNumber::from_sequence(n),
            form: ClaimForm::Professional,
            patient_account: "PA1".into(),
            member: MemberId::from_sequence(7),
            billing_npi: npi(),
            rendering_npi: Some(npi()),
            diagnoses: vec!["E119".into()],
            place_of_service: "11".into(),
            received: d(received),
            status: ClaimStatus::Received,
            lines,
            payment: None,
        }
    }

    fn auth(units: u32, servicing: Npi, from: &str, to: &str) -> AuthRequest {
        AuthRequest {
            number: AuthNumber::from_sequence(3),
            kind: AuthKind::PriorAuthorization,
            urgency: Urgency::Standard,
            member: MemberId::from_sequence(7),
            requesting_npi: npi(),
            servicing_npi: servicing,
            diagnoses: vec!["M545".into()],
            services: vec![RequestedService {
                approved_units: Some(units),
                ..RequestedService::new("97110", units)
            }],
            place_of_service: "11".into(),
            from_date: d(from),
            to_date: d(to),
            received_at: Utc.with_ymd_and_hms(2026, 1, 2, 9, 0, 0).unwrap(),
            status: AuthStatus::Approved,
            decided_at: Some(Utc.with_ymd_and_hms(2026, 1, 3, 9, 0, 0).unwrap()),
            denial_reason: None,
            line_of_business: LineOfBusiness::MediCal,
            urgency_reason: String::new(),
            clinical_notes: String::new(),
            pended_at: None,
            info_received_at: None,
            reviewer: None,
            auto_rule: None,
            appeal: None,
        }
    }

    struct World {
        spans: Vec<EligibilitySpan>,
        networks: Vec<HealthNetwork>,
        auths: Vec<AuthRequest>,
        fees: FeeSchedule,
        contracted: bool,
        earlier: Vec<PriorService>,
    }

    impl World {
        fn new() -> World {
            World {
                spans: vec![span("2026-01-01", Some("2026-06-30"), "CCN")],
                networks: networks(),
                auths: vec![],
                fees: fees(),
                contracted: true,
                earlier: vec![],
            }
        }
        fn run(&self, c: &Claim) -> ClaimOutcome {
            adjudicate(
                c,
                &Context {
                    today: d("2026-07-01"),
                    spans: &self.spans,
                    networks: &self.networks,
                    auths: &self.auths,
                    fees: &self.fees,
                    contracted: self.contracted,
                    earlier: &self.earlier,
                },
            )
        }
    }

    fn only(o: &ClaimOutcome) -> &LineOutcome {
        assert_eq!(o.lines.len(), 1);
        &o.lines[0]
    }

    fn carc(l: &LineOutcome) -> (&str, Option<&str>) {
        let a = &l.adjustments[0];
        (a.reason.as_str(), a.remark.as_deref())
    }

    #[test]
    fn pays_the_fee_schedule_with_a_contractual_write_off() {
        let c = claim(
            1,
            "2026-02-10",
            vec![line(1, "99213", "2026-02-01", 15_000, 1)],
        );
        let o = World::new().run(&c);
        let l = only(&o);
        assert_eq!(o.status, ClaimStatus::Paid);
        assert_eq!((l.allowed, l.paid), (Cents(9_200), Cents(9_200)));
        assert_eq!(carc(l), ("45", None));
        assert_eq!(l.adjustments[0].amount, Cents(5_800));
        assert_eq!(l.rule, Rule::Pricing);
        assert!(l.explanation.contains("$92.00"), "{}", l.explanation);
        assert!(l.explanation.contains("$58.00"), "{}", l.explanation);
    }

    #[test]
    fn billed_below_the_fee_is_allowed_in_full() {
        let c = claim(
            1,
            "2026-02-10",
            vec![line(1, "99213", "2026-02-01", 5_000, 1)],
        );
        let l = World::new().run(&c).lines.remove(0);
        assert_eq!((l.allowed, l.paid), (Cents(5_000), Cents(5_000)));
        assert!(l.adjustments.is_empty());
    }

    #[test]
    fn fee_times_units() {
        let mut w = World::new();
        w.auths = vec![auth(12, npi(), "2026-01-15", "2026-03-31")];
        let c = claim(
            1,
            "2026-02-10",
            vec![line(1, "97110", "2026-02-01", 20_000, 4)],
        );
        let l = w.run(&c).lines.remove(0);
        assert_eq!(l.allowed, Cents(12_000));
        assert!(l.explanation.contains("4 units"));
    }

    #[test]
    fn copay_comes_out_of_the_allowed_amount() {
        let l = line(1, "99213", "2026-02-01", 15_000, 1);
        let o = price(&l, Cents(9_200), Cents(1_000));
        assert_eq!((o.allowed, o.paid), (Cents(9_200), Cents(8_200)));
        assert_eq!(
            o.adjustments[1].group,
            AdjustmentGroup::PatientResponsibility
        );
        assert_eq!(o.adjustments[1].amount, Cents(1_000));
        // A copay larger than the allowed amount is capped at it.
        let o = price(
            &line(1, "36415", "2026-02-01", 200, 1),
            Cents(300),
            Cents(1_000),
        );
        assert_eq!((o.allowed, o.paid), (Cents(200), Cents::ZERO));
        for lob in LineOfBusiness::ALL {
            assert_eq!(copay(*lob), Cents::ZERO, "{lob} has no cost sharing");
        }
    }

    #[test]
    fn not_covered_before_or_after_a_span() {
        let w = World::new();
        let before = claim(
            1,
            "2026-01-05",
            vec![line(1, "99213", "2025-12-31", 9_000, 1)],
        );
        let l = w.run(&before).lines.remove(0);
        assert_eq!((carc(&l).0, l.rule), ("26", Rule::Eligibility));
        assert!(l.explanation.contains("01/01/2026"));
        let after = claim(
            2,
            "2026-07-05",
            vec![line(1, "99213", "2026-07-01", 9_000, 1)],
        );
        let l = w.run(&after).lines.remove(0);
        assert_eq!(carc(&l).0, "27");
        assert!(l.explanation.contains("06/30/2026"));
        assert_eq!(l.paid, Cents::ZERO);
        assert_eq!(l.adjustments[0].amount, Cents(9_000));
    }

    #[test]
    fn delegated_network_pays_its_own_claims() {
        let mut w = World::new();
        w.spans = vec![span("2026-01-01", None, "HHN")];
        let c = claim(
            1,
            "2026-02-10",
            vec![line(1, "99213", "2026-02-01", 9_000, 1)],
        );
        let o = w.run(&c);
        let l = only(&o);
        assert_eq!(carc(l), ("109", Some("N418")));
        assert_eq!(o.status, ClaimStatus::Denied);
        assert!(
            l.explanation.contains("Bill Harbor Health Network"),
            "{}",
            l.explanation
        );
        assert!(l.explanation.contains("(714) 555-0110"));
    }

    #[test]
    fn timely_filing_depends_on_the_contract() {
        let mut w = World::new();
        // 100 days after the date of service.
        let c = claim(
            1,
            "2026-05-12",
            vec![line(1, "99213", "2026-02-01", 9_000, 1)],
        );
        let l = w.run(&c).lines.remove(0);
        assert_eq!((carc(&l).0, l.rule), ("29", Rule::TimelyFiling));
        assert!(l.explanation.contains("90 days"));
        w.contracted = false;
        assert_eq!(
            w.run(&c).status,
            ClaimStatus::Paid,
            "180 days for non-contracted"
        );
        // Exactly at the limit is on time.
        w.contracted = true;
        let c = claim(
            1,
            "2026-05-02",
            vec![line(1, "99213", "2026-02-01", 9_000, 1)],
        );
        assert_eq!(w.run(&c).status, ClaimStatus::Paid);
    }

    #[test]
    fn duplicates_of_earlier_claims_are_denied() {
        let mut w = World::new();
        let first = claim(
            1,
            "2026-02-10",
            vec![line(1, "99213", "2026-02-01", 9_000, 1)],
        );
        w.earlier = PriorService::of(&first);
        let again = claim(
            2,
            "2026-02-20",
            vec![line(1, "99213", "2026-02-01", 9_000, 1)],
        );
        let l = w.run(&again).lines.remove(0);
        assert_eq!((carc(&l).0, l.rule), ("18", Rule::Duplicate));
        assert!(l.explanation.contains(first.number.as_str()));
        // The claim itself is not its own duplicate; another date or provider is not either.
        assert_eq!(w.run(&first).status, ClaimStatus::Paid);
        let other_day = claim(
            3,
            "2026-02-20",
            vec![line(1, "99213", "2026-02-02", 9_000, 1)],
        );
        assert_eq!(w.run(&other_day).status, ClaimStatus::Paid);
        let mut other_provider = again.clone();
        other_provider.billing_npi = other_npi();
        assert_eq!(w.run(&other_provider).status, ClaimStatus::Paid);
    }

    #[test]
    fn unknown_procedures_are_not_covered() {
        let c = claim(
            1,
            "2026-02-10",
            vec![line(1, "J9999", "2026-02-01", 9_000, 1)],
        );
        let l = World::new().run(&c).lines.remove(0);
        assert_eq!(
            (carc(&l), l.rule),
            (("204", Some("N130")), Rule::FeeSchedule)
        );
    }

    #[test]
    fn authorization_required_present_matching_and_with_units() {
        let mut w = World::new();
        let c = claim(
            9,
            "2026-02-10",
            vec![line(1, "97110", "2026-02-01", 6_000, 2)],
        );
        // None on file.
        let l = w.run(&c).lines.remove(0);
        assert_eq!(
            (carc(&l), l.rule),
            (("197", Some("M62")), Rule::Authorization)
        );
        // On file for another servicing provider.
        w.auths = vec![auth(4, other_npi(), "2026-01-15", "2026-03-31")];
        let l = w.run(&c).lines.remove(0);
        assert_eq!(carc(&l), ("197", Some("N54")));
        // Outside its dates.
        w.auths = vec![auth(4, npi(), "2026-02-05", "2026-03-31")];
        assert_eq!(carc(&w.run(&c).lines[0]), ("197", Some("N54")));
        // A denied one does not count.
        let mut denied = auth(4, npi(), "2026-01-15", "2026-03-31");
        denied.status = AuthStatus::Denied;
        w.auths = vec![denied];
        assert_eq!(carc(&w.run(&c).lines[0]), ("197", Some("M62")));
        // Matching, with units left.
        w.auths = vec![auth(4, npi(), "2026-01-15", "2026-03-31")];
        assert_eq!(w.run(&c).status, ClaimStatus::Paid);
        // Units used up by an earlier paid claim.
        let mut earlier = claim(
            8,
            "2026-01-25",
            vec![line(1, "97110", "2026-01-20", 9_000, 3)],
        );
        earlier.lines[0].paid = Cents(9_000);
        w.earlier = PriorService::of(&earlier);
        let l = w.run(&c).lines.remove(0);
        assert_eq!(carc(&l), ("198", Some("N54")));
        // An earlier *denied* line used no units.
        w.earlier[0].paid = false;
        assert_eq!(w.run(&c).status, ClaimStatus::Paid);
    }

    #[test]
    fn the_first_failing_rule_decides_and_statuses_follow_lines() {
        let mut w = World::new();
        w.spans = vec![span("2026-01-01", Some("2026-01-31"), "CCN")];
        // Line 1 covered and priced, line 2 after coverage ended (and also unknown code).
        let c = claim(
            1,
            "2026-02-10",
            vec![
                line(1, "99213", "2026-01-20", 9_000, 1),
                line(2, "J9999", "2026-02-03", 4_000, 1),
            ],
        );
        let o = w.run(&c);
        assert_eq!(o.status, ClaimStatus::PartiallyPaid);
        assert_eq!(o.lines[1].rule, Rule::Eligibility);
        let mut applied = c.clone();
        o.apply_to(&mut applied);
        assert_eq!(applied.paid(), Cents(9_000));
        assert!(applied.lines.iter().all(ClaimLine::balances));
        assert!(status_words(&applied).contains("Partly"));
    }

    #[test]
    fn status_words_say_what_to_do() {
        let mut c = claim(
            1,
            "2026-02-10",
            vec![line(1, "99213", "2026-02-01", 9_000, 1)],
        );
        assert!(status_words(&c).contains("waiting"));
        let mut w = World::new();
        w.spans = vec![span("2026-01-01", None, "HHN")];
        w.run(&c).apply_to(&mut c);
        assert!(status_words(&c).starts_with("Denied: Not covered by this payer"));
        assert_eq!(remit_status_code(c.status), "4");
    }

    fn arb_line(n: u16) -> impl Strategy<Value = ClaimLine> {
        (
            prop::sample::select(vec!["99213", "97110", "J9999"]),
            0i64..60,
            1u32..6,
            0i64..5_000_000,
        )
            .prop_map(move |(code, day, units, billed)| ClaimLine {
                line_number: n,
                procedure: code.into(),
                modifiers: vec![],
                revenue_code: None,
                units,
                service_date: d("2025-12-01") + chrono::Days::new(day as u64 * 4),
                billed: Cents(billed),
                allowed: Cents::ZERO,
                paid: Cents::ZERO,
                adjustments: vec![],
            })
    }

    proptest! {
        /// Whatever the claim and the plan's data, every line balances (billed = paid +
        /// adjustments), nothing is paid above billed or allowed, and the status agrees with
        /// the lines.
        #[test]
        fn every_adjudicated_line_balances(
            lines in prop::collection::vec(0u16..1, 1..5).prop_flat_map(|v| {
                v.iter().enumerate().map(|(i, _)| arb_line(i as u16 + 1)).collect::<Vec<_>>()
            }),
            received_after in 0u64..400,
            delegated in any::<bool>(),
            contracted in any::<bool>(),
            auth_units in 0u32..10,
            auth_other_provider in any::<bool>(),
            earlier_units in 0u32..6,
            copay_cents in 0i64..5_000,
        ) {
            let mut w = World::new();
            w.spans = vec![
                span("2026-01-01", Some("2026-03-31"), "CCN"),
                span("2026-05-01", None, if delegated { "HHN" } else { "CCN" }),
            ];
            w.contracted = contracted;
            if auth_units > 0 {
                w.auths = vec![auth(auth_units, if auth_other_provider { other_npi() } else { npi() }, "2026-01-01", "2026-12-31")];
            }
            let mut earlier = claim(2, "2026-01-10", vec![line(1, "97110", "2026-02-01", 1_000, earlier_units.max(1))]);
            earlier.lines[0].paid = Cents(1);
            w.earlier = PriorService::of(&earlier);
            let last = lines.iter().map(|l| l.service_date).max().unwrap();
            let mut c = claim(1, "2026-01-01", lines);
            c.received = last + chrono::Days::new(received_after);
            let o = w.run(&c);
            prop_assert_eq!(o.lines.len(), c.lines.len());
            prop_assert_eq!(o.status, status_of(&o.lines));
            o.apply_to(&mut c);
            for (l, out) in c.lines.iter().zip(&o.lines) {
                prop_assert!(l.balances(), "line {:?} does not balance", l);
                prop_assert!(l.paid <= l.allowed && l.allowed <= l.billed);
                prop_assert!(l.paid >= Cents::ZERO);
                prop_assert!(!out.explanation.is_empty());
                prop_assert!(l.adjustments.iter().all(|a| a.amount >= Cents::ZERO));
            }
            // The pricing rule balances with a copay too.
            for l in &c.lines {
                let p = price(l, Cents(9_200), Cents(copay_cents));
                let total: Cents = p.adjustments.iter().map(|a| a.amount).sum();
                prop_assert_eq!(l.billed, p.paid + total);
            }
        }
    }
}
