//! The plan's authorization rules and, for the demo, an open review queue.
//!
//! - Auth-required rules: every procedure of the catalog flagged as needing prior
//!   authorization, plus the advanced-imaging range (CPT 70010–76499) for every line of
//!   business, with the documentation to send; office visits and preventive care are listed as
//!   not required.
//! - Auto-approval: up to 12 units of therapeutic exercise (97110) for Medi-Cal, and a standard
//!   wheelchair (K0001) for any line.
//! - The demo queue: requests from the first demo office, made through the same `um::submit`
//!   as the portal form, received over the past days: expedited and standard ones, one past its
//!   deadline, one pended for information and one answered.

use crate::catalog::PROCEDURES;
use chrono::{DateTime, Duration, Utc};
use domain::access::Scope;
use domain::auth_rules::{AuthRule, AutoRule, CodeRange};
use domain::plan::LineOfBusiness;
use domain::{MemberId, Tin};
use storage::{StorageError, Store};

fn note_for(code: &str) -> &'static str {
    match code {
        "97110" => "Send the plan of care and the initial evaluation.",
        "73721" | "70553" => {
            "Send notes showing six weeks of conservative treatment, or red-flag findings."
        }
        "E0601" => "Send the sleep study (AHI) and the face-to-face evaluation.",
        "K0001" => "Send the mobility evaluation.",
        _ => "Send the clinical notes that support the request.",
    }
}

/// The auth-required and auto-approval rules every generated plan starts with.
pub async fn rules(store: &dyn Store) -> Result<(), StorageError> {
    let rule = |codes: &str, required: bool, note: &str, description: &str| AuthRule {
        id: 0,
        codes: CodeRange::parse(codes).expect("valid catalog code"),
        line_of_business: None,
        required,
        note: note.into(),
        description: description.into(),
    };
    store
        .add_auth_rule(&rule(
            "70010-76499",
            true,
            "Send notes showing six weeks of conservative treatment, or red-flag findings.",
            "Advanced imaging (CT, MRI and other diagnostic radiology)",
        ))
        .await?;
    for &(code, description, _, needs) in PROCEDURES {
        let note = if needs { note_for(code) } else { "" };
        store
            .add_auth_rule(&rule(code, needs, note, description))
            .await?;
    }
    store
        .add_auto_rule(&AutoRule {
            id: 0,
            name: "Physical therapy starter".into(),
            line_of_business: Some(LineOfBusiness::MediCal),
            codes: vec!["97110".into()],
            max_units: 12,
            include_expedited: false,
        })
        .await?;
    store
        .add_auto_rule(&AutoRule {
            id: 0,
            name: "Standard wheelchair".into(),
            line_of_business: None,
            codes: vec!["K0001".into()],
            max_units: 1,
            include_expedited: true,
        })
        .await?;
    Ok(())
}

/// Members covered from today for the next 90 days, in member ID order.
async fn covered_members(
    store: &dyn Store,
    today: chrono::NaiveDate,
    want: usize,
) -> Result<Vec<(MemberId, chrono::NaiveDate, LineOfBusiness)>, StorageError> {
    let mut out = Vec::new();
    for id in store
        .member_ids(None, crate::demo::DEMO_MEMBERS as i64)
        .await?
    {
        if let Some(r) = store.member(&id).await?
            && let Some(s) = r
                .spans
                .iter()
                .find(|s| s.covers(today) && s.covers(today + chrono::Days::new(90)))
        {
            out.push((id, r.member.birth_date, s.line_of_business));
        }
        if out.len() >= want {
            break;
        }
    }
    Ok(out)
}

/// The demo's open queue, submitted by the first demo office (TIN `tin`).
pub async fn demo_queue(
    store: &dyn Store,
    tin: Tin,
    office_user: i64,
    reviewer_user: i64,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let today = now
        .with_timezone(&domain::clock::pacific_offset(now))
        .date_naive();
    let members = covered_members(store, today, 8).await?;
    let own = store.providers_of_tins(&[tin], 5).await?;
    let Some(requesting) = own.first() else {
        return Ok(());
    };
    let servicing: Vec<_> = store
        .search_providers("", 200)
        .await?
        .into_iter()
        .filter(|p| {
            p.tin != tin && !p.specialty.contains("Pharmacy") && !p.name.contains("Pharmacy")
        })
        .take(6)
        .collect();
    if members.is_empty() || servicing.is_empty() {
        return Ok(());
    }
    let medi_cal = members
        .iter()
        .find(|m| m.2 == LineOfBusiness::MediCal)
        .unwrap_or(&members[0])
        .clone();
    let office = um::Actor {
        user_id: Some(office_user),
        name: "Olivia Office".into(),
    };
    let reviewer = um::Actor {
        user_id: Some(reviewer_user),
        name: "Dr. Uma Reviewer".into(),
    };
    let scope = Scope::Tins(vec![tin]);
    // (member index, servicing index, services, urgency, reason, hours ago, diagnoses, notes)
    type Case<'a> = (
        usize,
        usize,
        &'a [(&'a str, &'a str)],
        &'a str,
        &'a str,
        i64,
        &'a str,
        &'a str,
    );
    let cases: &[Case] = &[
        (
            1,
            0,
            &[("73721", "1")],
            "expedited",
            "Locked knee after a fall; surgery may be needed within days.",
            20,
            "M2341",
            "Acute injury 3 days ago, effusion, unable to extend.",
        ),
        (
            2,
            1,
            &[("70553", "1")],
            "expedited",
            "New focal weakness; rule out a mass lesion.",
            60,
            "R531",
            "Progressive left arm weakness over two weeks.",
        ),
        (
            3,
            2,
            &[("E0601", "1")],
            "standard",
            "",
            30,
            "G4733",
            "AHI 32 on the home sleep test of last month.",
        ),
        (
            4,
            3,
            &[("97110", "24")],
            "standard",
            "",
            50,
            "M545",
            "Low back pain for 8 weeks despite home exercise.",
        ),
        (
            5,
            4,
            &[("73721", "1")],
            "standard",
            "",
            24 * 9,
            "M1711",
            "Knee osteoarthritis, failed injections.",
        ),
        (
            6,
            5,
            &[("70553", "1")],
            "standard",
            "",
            24 * 3,
            "G43909",
            "Migraine with new aura pattern.",
        ),
    ];
    let mut made = Vec::new();
    for (i, &(m, s, services, urgency, reason, hours, dx, notes)) in cases.iter().enumerate() {
        let member = if i == 3 {
            &medi_cal
        } else {
            &members[m % members.len()]
        };
        let form = um::SubmissionForm {
            kind: "prior_auth".into(),
            member_id: member.0.to_string(),
            birth_date: member.1.to_string(),
            requesting_npi: requesting.npi.to_string(),
            servicing_npi: servicing[s % servicing.len()].npi.to_string(),
            diagnoses: dx.into(),
            services: services
                .iter()
                .map(|(c, u)| (c.to_string(), u.to_string()))
                .collect(),
            from_date: today.to_string(),
            to_date: (today + chrono::Days::new(60)).to_string(),
            place_of_service: "11".into(),
            urgency: urgency.into(),
            urgency_reason: reason.into(),
            clinical_notes: notes.into(),
            trace: String::new(),
        };
        match um::submit(
            store,
            &scope,
            &office,
            &form,
            Vec::new(),
            now - Duration::hours(hours),
        )
        .await
        {
            Ok(s) => made.push(s.auth),
            Err(um::SubmitError::Store(e)) => return Err(e),
            Err(um::SubmitError::Fields(f)) => {
                tracing::warn!(
                    fields = f.len(),
                    "a demo authorization did not pass its checks"
                );
            }
        }
    }
    // The MRI of 6 days ago was pended for the x-ray report; the sleep study one was taken.
    if let Some(a) = made.get(5) {
        let ask = um::Action::Pend {
            question: "Please send the report of the last brain imaging, if any.".into(),
        };
        if let Err(um::ReviewError::Store(e)) =
            um::review(store, &a.number, &reviewer, &ask, now - Duration::hours(48)).await
        {
            return Err(e);
        }
    }
    if let Some(a) = made.get(2)
        && let Err(um::ReviewError::Store(e)) = um::review(
            store,
            &a.number,
            &reviewer,
            &um::Action::Take,
            now - Duration::hours(2),
        )
        .await
    {
        return Err(e);
    }
    Ok(())
}
