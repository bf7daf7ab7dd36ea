//! 276 in, 277 out (005010X212), answered from the plan's claims, only those billed under the
//! partner's TINs.
//!
//! Each claim asked about (2200D) is looked up by the payer claim control number (REF*1K), else
//! the patient control number (REF*EJ, or the TRN02 trace when nothing else is sent), else the
//! member and the service date range (DTP*472); the subscriber's member ID (2100D NM109, which
//! the TR3 requires) must be the claim's. The 277 answers each with STC: the claim status
//! category (code list 507) and status (code list 508), billed and paid amounts, the payment
//! (method, date, check or EFT number) once paid, the service dates and each line's status.
//!
//! Codes used (code lists 507/508):
//! - received, accepted into adjudication: `A2:20` (accepted for processing);
//! - rejected at intake: `A3:21` (returned as unprocessable: missing or invalid information);
//! - pended: `P1:20` (pending, in process);
//! - paid or partially paid: `F1:65` (finalized, payment: claim/line has been paid);
//! - denied (or adjusted to nothing): `F2:1` (finalized, denial: see the remittance advice);
//! - not found: `D0:35` (data search unsuccessful: claim/encounter not found), STC04 omitted,
//!   as the X212 TR3 and X12 RFI 1614 direct; a subscriber ID that cannot be one:
//!   `E0:33` (response not possible, error on the request: subscriber and subscriber ID not found).

use crate::Partner;
use crate::caqh::{Accepted, Plan};
use chrono::NaiveDate;
use domain::claim::ClaimStatus as Lifecycle;
use domain::{Cents, ClaimNumber, MemberId};
use storage::{ClaimQuery, ClaimStatusRecord, StorageError, Store};
use x12::model::{ClaimStatus, LineStatus, Party, StatusQuery, StatusRequest, StatusResponse};

/// A 277 and what it discloses (to audit before it is sent).
#[derive(Debug, Clone)]
pub struct Answer {
    pub x12: String,
    /// Claims whose status the 277 shows.
    pub disclosed: Vec<ClaimNumber>,
    /// For the audit trail: how many claims were found of how many asked.
    pub outcome: String,
}

/// At most this many claims answer one 2200D query (a member and a wide date range).
const PER_QUERY: i64 = 20;

fn x12_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// X12 decimal (R type): no trailing zeros, no leading `+`.
pub fn amount(c: Cents) -> String {
    let neg = c.0 < 0;
    let v = c.0.unsigned_abs();
    let (units, cents) = (v / 100, v % 100);
    let mut s = if neg {
        String::from("-")
    } else {
        String::new()
    };
    s.push_str(&units.to_string());
    if cents != 0 {
        if cents % 10 == 0 {
            s.push_str(&format!(".{}", cents / 10));
        } else {
            s.push_str(&format!(".{cents:02}"));
        }
    }
    s
}

fn date_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (Some(f), Some(t)) if f != t => format!("{}-{}", x12_date(f), x12_date(t)),
        (Some(f), _) => x12_date(f),
        _ => String::new(),
    }
}

/// CCYYMMDD or CCYYMMDD-CCYYMMDD.
fn parse_range(s: &str) -> Option<(NaiveDate, NaiveDate)> {
    let p = |d: &str| NaiveDate::parse_from_str(d, "%Y%m%d").ok();
    match s.split_once('-') {
        Some((a, b)) => Some((p(a)?, p(b)?)),
        None => p(s).map(|d| (d, d)),
    }
}

/// STC01-1 and -2 for a claim in this state.
fn claim_codes(r: &ClaimStatusRecord) -> (&'static str, &'static str) {
    match r.status {
        Lifecycle::Received => ("A2", "20"),
        Lifecycle::Rejected => ("A3", "21"),
        Lifecycle::Pended => ("P1", "20"),
        Lifecycle::Paid | Lifecycle::PartiallyPaid => ("F1", "65"),
        Lifecycle::Denied => ("F2", "1"),
        Lifecycle::Adjusted if r.paid().0 > 0 => ("F1", "65"),
        Lifecycle::Adjusted => ("F2", "1"),
    }
}

/// The STC answer for one claim found.
pub fn claim_status(r: &ClaimStatusRecord, trace: &str, today: NaiveDate) -> ClaimStatus {
    let (category, code) = claim_codes(r);
    let finalized = r.status.is_final() && r.status != Lifecycle::Rejected;
    let paid = r.payment.as_ref().filter(|_| finalized);
    let lines = r
        .lines
        .iter()
        .map(|l| {
            let (category, code) = if !finalized {
                (category, code)
            } else if l.paid.0 > 0 {
                ("F1", "65")
            } else {
                ("F2", "1")
            };
            let mut procedure = format!("HC:{}", l.procedure);
            for m in &l.modifiers {
                procedure.push(':');
                procedure.push_str(m);
            }
            LineStatus {
                procedure,
                charge: amount(l.billed),
                paid: amount(if finalized { l.paid } else { Cents(0) }),
                revenue_code: l.revenue_code.clone().unwrap_or_default(),
                units: l.units.to_string(),
                category: category.into(),
                code: code.into(),
                line_id: l.line_number.to_string(),
                service_date: x12_date(l.service_date),
            }
        })
        .collect();
    ClaimStatus {
        trace: trace.into(),
        category: category.into(),
        code: code.into(),
        entity: String::new(),
        // STC02: when this status took effect (payment date once paid, else received or today).
        date: x12_date(match (paid, r.status) {
            (Some(p), _) => p.date,
            (None, Lifecycle::Received | Lifecycle::Rejected) => r.received,
            (None, _) => today,
        }),
        charge: amount(r.billed()),
        paid: amount(if finalized { r.paid() } else { Cents(0) }),
        claim_id: r.patient_account.clone(),
        payer_claim_id: r.number.as_str().to_string(),
        adjudicated: paid.map(|p| x12_date(p.date)).unwrap_or_default(),
        payment_method: paid
            .map(|p| {
                if p.number.starts_with("EFT") {
                    "ACH"
                } else {
                    "CHK"
                }
                .to_string()
            })
            .unwrap_or_default(),
        payment_date: paid.map(|p| x12_date(p.date)).unwrap_or_default(),
        check_number: paid.map(|p| p.number.clone()).unwrap_or_default(),
        service_date: date_range(r.service_from(), r.service_to()),
        lines,
        patient: None,
    }
}

fn not_found(q: &StatusQuery, category: &str, code: &str, today: NaiveDate) -> ClaimStatus {
    ClaimStatus {
        trace: q.trace.clone(),
        category: category.into(),
        code: code.into(),
        date: x12_date(today),
        claim_id: q.claim_id.clone(),
        payer_claim_id: q.payer_claim_id.clone(),
        service_date: q.service_date.clone(),
        ..ClaimStatus::default()
    }
}

/// The search one 2200D query asks for, or `None` when it cannot match anything.
fn query_of(q: &StatusQuery, member: &MemberId) -> Option<ClaimQuery> {
    let mut cq = ClaimQuery {
        member: Some(member.clone()),
        limit: PER_QUERY,
        ..ClaimQuery::default()
    };
    if !q.payer_claim_id.trim().is_empty() {
        cq.number = Some(ClaimNumber::parse(&q.payer_claim_id).ok()?);
    } else if !q.claim_id.trim().is_empty() {
        cq.patient_account = Some(q.claim_id.trim().to_string());
    } else if q.service_date.is_empty() && !q.trace.trim().is_empty() {
        // Many submitters put the patient control number in TRN02.
        cq.patient_account = Some(q.trace.trim().to_string());
    }
    if !q.service_date.is_empty() {
        let (from, to) = parse_range(&q.service_date)?;
        cq.service_from = Some(from);
        cq.service_to = Some(to);
    }
    Some(cq)
}

/// Answers the first 276 of an accepted payload for `partner`.
pub async fn answer(
    store: &dyn Store,
    partner: &Partner,
    plan: &Plan,
    payload: &Accepted,
    today: NaiveDate,
) -> Result<Answer, StorageError> {
    let req = payload
        .sets
        .first()
        .and_then(|t| StatusRequest::from_tree(&t.root))
        .unwrap_or_default();
    let (resp, disclosed, outcome) = respond(store, partner, plan, &req, today).await?;
    Ok(Answer {
        x12: resp.to_x12(&payload.envelope),
        disclosed,
        outcome,
    })
}

/// The 277 for one request, with the claims it discloses.
pub async fn respond(
    store: &dyn Store,
    partner: &Partner,
    plan: &Plan,
    req: &StatusRequest,
    today: NaiveDate,
) -> Result<(StatusResponse, Vec<ClaimNumber>, String), StorageError> {
    let mut resp = StatusResponse {
        payer: Party {
            name: plan.name.clone(),
            id: plan.payer_id.clone(),
        },
        receiver: req.receiver.clone(),
        provider: req.provider.clone(),
        subscriber: req.subscriber.clone(),
        statuses: Vec::new(),
    };
    resp.subscriber.address = None;
    let mut disclosed = Vec::new();
    // A 276 without a 2200D asks about every claim of the member (within the limit).
    let queries = if req.queries.is_empty() {
        vec![StatusQuery::default()]
    } else {
        req.queries.clone()
    };
    let member = MemberId::parse(&req.subscriber.member_id).ok();
    for q in &queries {
        let Some(member) = &member else {
            resp.statuses.push(not_found(q, "E0", "33", today));
            continue;
        };
        let found = match query_of(q, member) {
            Some(cq) => store.claim_statuses(&partner.scope, &cq).await?,
            None => Vec::new(),
        };
        if found.is_empty() {
            resp.statuses.push(not_found(q, "D0", "35", today));
            continue;
        }
        for r in &found {
            resp.statuses.push(claim_status(r, &q.trace, today));
            disclosed.push(r.number.clone());
        }
    }
    if let (Some(first), true) = (&member, !disclosed.is_empty()) {
        resp.subscriber.member_id = first.as_str().to_string();
    }
    let outcome = format!("{} claims for {} queries", disclosed.len(), queries.len());
    Ok((resp, disclosed, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_x12_decimals() {
        assert_eq!(amount(Cents(12000)), "120");
        assert_eq!(amount(Cents(12050)), "120.5");
        assert_eq!(amount(Cents(12055)), "120.55");
        assert_eq!(amount(Cents(5)), "0.05");
        assert_eq!(amount(Cents(-150)), "-1.5");
        assert_eq!(amount(Cents(0)), "0");
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("20250301-20250331"),
            Some(("2025-03-01".parse().unwrap(), "2025-03-31".parse().unwrap()))
        );
        assert_eq!(parse_range("2025"), None);
        let d = |s: &str| s.parse::<NaiveDate>().ok();
        assert_eq!(date_range(d("2025-03-01"), d("2025-03-01")), "20250301");
        assert_eq!(
            date_range(d("2025-03-01"), d("2025-03-02")),
            "20250301-20250302"
        );
    }
}
