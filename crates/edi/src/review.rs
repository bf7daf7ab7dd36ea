//! 278 request in, 278 response out (005010X217): a prior authorization or referral submitted
//! by a trading partner goes through the same `um::submit` as the portal form, so it is checked
//! against the member's eligibility and the plan's providers, auto-approved by the same rules,
//! put on the same clock and in the same queue.
//!
//! The response: HCR*A1 with the authorization number when the plan's rules approved it at
//! once; HCR*A4 (pended for review) with the number otherwise; an AAA at the subscriber level
//! (75: subscriber not found) or at the requester level (51: provider not on file; 41: the
//! partner may not act for the provider's TIN; 15: required data missing) when it cannot be
//! reviewed. Malformed X12 is not answered here: the caller returns the 999 (see `core`).

use crate::Partner;
use chrono::{DateTime, Utc};
use storage::Store;
use x12::model::{Envelope, ReviewDecision, ReviewReject, ServiceReview};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Not a valid 278 request: answer with the 999 of the validation.
    #[error("not a valid 278 request")]
    Invalid,
    #[error(transparent)]
    Store(#[from] storage::StorageError),
}

/// The CCYYMMDD of a D8 or the two dates of an RD8.
fn dates(event: &str) -> (String, String) {
    let iso = |d: &str| {
        if d.len() == 8 {
            format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
        } else {
            String::new()
        }
    };
    match event.split_once('-') {
        Some((a, b)) => (iso(a), iso(b)),
        None => (iso(event), iso(event)),
    }
}

fn reject(req: &ServiceReview, level: &str, reason: &str) -> ServiceReview {
    ServiceReview {
        reject: Some(ReviewReject {
            level: level.into(),
            reason: reason.into(),
        }),
        decision: None,
        ..req.clone()
    }
}

/// Answers a 278 request from `partner`: the X12 text of the 278 response.
pub async fn respond(
    store: &dyn Store,
    partner: &Partner,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<String, ReviewError> {
    let report = x12::validate_bytes(bytes, &x12::Options::default());
    if !report.accepted() {
        return Err(ReviewError::Invalid);
    }
    let (_, sets) = x12::model::parse_bytes(bytes);
    let req = sets
        .iter()
        .find(|t| t.set == "278")
        .and_then(|t| ServiceReview::from_tree(&t.root))
        .ok_or(ReviewError::Invalid)?;
    let form = um::SubmissionForm {
        kind: if req.category == "SC" {
            "referral".into()
        } else {
            "prior_auth".into()
        },
        member_id: req.subscriber.member_id.clone(),
        birth_date: req.subscriber.dob.clone(),
        requesting_npi: req.requester.id.clone(),
        servicing_npi: if req.service_provider.id.is_empty() {
            req.requester.id.clone()
        } else {
            req.service_provider.id.clone()
        },
        diagnoses: req.diagnoses.join(","),
        services: req
            .procedures
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    p.clone(),
                    req.units
                        .get(i)
                        .filter(|u| !u.is_empty())
                        .cloned()
                        .unwrap_or_else(|| "1".into()),
                )
            })
            .collect(),
        from_date: dates(&req.event_date).0,
        to_date: dates(&req.event_date).1,
        place_of_service: req.facility_code.clone(),
        urgency: if matches!(req.level_of_service.as_str(), "U" | "03") {
            "expedited".into()
        } else {
            "standard".into()
        },
        urgency_reason: if matches!(req.level_of_service.as_str(), "U" | "03") {
            "Urgent per the 278 level of service (UM06).".into()
        } else {
            String::new()
        },
        clinical_notes: String::new(),
        trace: req.trace.clone(),
    };
    let actor = um::Actor {
        user_id: Some(partner.user_id),
        name: "EDI 278".into(),
    };
    let answer = match um::submit(store, &partner.scope, &actor, &form, Vec::new(), now).await {
        Ok(done) => ServiceReview {
            decision: Some(ReviewDecision {
                action: if done.auth.status.is_approval() {
                    "A1".into()
                } else {
                    "A4".into()
                },
                auth_number: done.auth.number.to_string(),
                reason: String::new(),
            }),
            reject: None,
            ..req.clone()
        },
        Err(um::SubmitError::Store(e)) => return Err(e.into()),
        Err(um::SubmitError::Fields(errors)) => {
            let has = |f: &str| errors.iter().any(|e| e.0 == f);
            if has("member_id") || has("birth_date") {
                reject(&req, "2010C", "75")
            } else if has("requesting_npi") {
                let known = domain::Npi::parse(&req.requester.id).ok();
                let on_file = match known {
                    Some(n) => store.provider(&n).await?.is_some(),
                    None => false,
                };
                reject(&req, "2010B", if on_file { "41" } else { "51" })
            } else if has("from_date") || has("to_date") {
                reject(&req, "2010C", "57")
            } else {
                reject(&req, "2010B", "15")
            }
        }
    };
    let env = Envelope {
        sender: "PLAN".into(),
        receiver: "PARTNER".into(),
        control: (now.timestamp() % 1_000_000_000) as u32,
        date: now.format("%Y%m%d").to_string(),
        time: now.format("%H%M").to_string(),
        usage: 'P',
    };
    Ok(answer.to_x12(&env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access::Scope;
    use x12::model::{Party, Person};

    async fn store() -> (tempfile::TempDir, std::sync::Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("p.db").display());
        let store = storage::open(&url).await.unwrap();
        seed::demo_with_password(&*store, "pw-for-tests-only")
            .await
            .unwrap();
        (dir, store)
    }

    fn request(
        member: &str,
        dob: &str,
        npi: &str,
        code: &str,
        units: &str,
        from: &str,
        to: &str,
    ) -> String {
        let trace = format!("T{member}{code}{units}");
        ServiceReview {
            umo: Party {
                name: "ORANGE COAST HEALTH PLAN".into(),
                id: "OCHP1".into(),
            },
            requester: Party {
                name: "REQUESTING GROUP".into(),
                id: npi.into(),
            },
            subscriber: Person {
                last: "DOE".into(),
                first: "JANE".into(),
                member_id: member.into(),
                dob: dob.into(),
                gender: "F".into(),
                address: None,
            },
            trace,
            category: "HS".into(),
            certification_type: "I".into(),
            service_type: "2".into(),
            facility_code: "11".into(),
            diagnoses: vec!["M545".into()],
            event_date: format!("{from}-{to}"),
            procedures: vec![code.into()],
            units: vec![units.into()],
            ..Default::default()
        }
        .to_x12(&Envelope::default())
    }

    #[tokio::test]
    async fn a_278_request_gets_a_valid_278_response() {
        let (_dir, store) = store().await;
        let today = Utc::now().date_naive();
        // A covered Medi-Cal member and a provider of the demo office (the billing service's TIN).
        let office = store
            .orgs_of_kind(domain::account::OrgKind::ProviderOffice)
            .await
            .unwrap()[0]
            .clone();
        let tin = office.tin.unwrap();
        let npi = store.providers_of_tins(&[tin], 1).await.unwrap()[0].npi;
        let mut member = None;
        for id in store.member_ids(None, 500).await.unwrap() {
            let r = store.member(&id).await.unwrap().unwrap();
            if r.spans.iter().any(|s| {
                s.line_of_business == domain::plan::LineOfBusiness::MediCal
                    && s.covers(today)
                    && s.covers(today + chrono::Days::new(40))
            }) {
                member = Some(r.member);
                break;
            }
        }
        let m = member.unwrap();
        let d = |x: chrono::NaiveDate| x.format("%Y%m%d").to_string();
        let partner = Partner {
            user_id: 1,
            org_id: 1,
            scope: Scope::Tins(vec![tin]),
        };
        let dob = d(m.birth_date);
        let from = d(today);
        let to = d(today + chrono::Days::new(30));
        let valid = |x: &str| {
            let r = x12::validate_bytes(x.as_bytes(), &x12::Options::default());
            assert!(r.accepted(), "the response passes X217: {x}");
            let (_, sets) = x12::model::parse_bytes(x.as_bytes());
            ServiceReview::from_tree(&sets[0].root).unwrap()
        };
        // Needs review: pended with the number.
        let req = request(m.id.as_str(), &dob, npi.as_str(), "73721", "1", &from, &to);
        assert!(
            x12::validate_bytes(req.as_bytes(), &x12::Options::default()).accepted(),
            "{req}"
        );
        let out = valid(
            &respond(&*store, &partner, req.as_bytes(), Utc::now())
                .await
                .unwrap(),
        );
        let dec = out.decision.unwrap();
        assert_eq!(dec.action, "A4");
        let number = domain::AuthNumber::parse(&dec.auth_number).unwrap();
        let stored = store.auth(&number).await.unwrap().unwrap();
        assert_eq!(stored.status, domain::auth::AuthStatus::Received);
        assert_eq!(stored.services[0].procedure, "73721");
        // The same request again (same trace from the same requester): the same answer, nothing doubled.
        let before = store
            .auth_queue(&storage::QueueFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .len();
        let again = valid(
            &respond(&*store, &partner, req.as_bytes(), Utc::now())
                .await
                .unwrap(),
        );
        assert_eq!(again.decision.unwrap().auth_number, number.to_string());
        let after = store
            .auth_queue(&storage::QueueFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .len();
        assert_eq!(before, after);
        // Auto-approved by the Medi-Cal physical therapy rule: certified.
        let req = request(m.id.as_str(), &dob, npi.as_str(), "97110", "6", &from, &to);
        let out = valid(
            &respond(&*store, &partner, req.as_bytes(), Utc::now())
                .await
                .unwrap(),
        );
        assert_eq!(out.decision.unwrap().action, "A1");
        // Unknown member: AAA 75 at the subscriber.
        let req = request("M9999999999", &dob, npi.as_str(), "73721", "1", &from, &to);
        let out = valid(
            &respond(&*store, &partner, req.as_bytes(), Utc::now())
                .await
                .unwrap(),
        );
        assert_eq!(
            out.reject.unwrap(),
            ReviewReject {
                level: "2010C".into(),
                reason: "75".into()
            }
        );
        // A provider the partner may not act for: AAA 41 at the requester.
        let other = Partner {
            scope: Scope::Tins(vec![domain::Tin::parse("331234567").unwrap()]),
            ..partner.clone()
        };
        let req = request(m.id.as_str(), &dob, npi.as_str(), "73721", "1", &from, &to);
        let out = valid(
            &respond(&*store, &other, req.as_bytes(), Utc::now())
                .await
                .unwrap(),
        );
        assert_eq!(out.reject.unwrap().reason, "41");
        // Garbage is not answered with a 278.
        assert!(matches!(
            respond(&*store, &partner, b"ISA*garbage", Utc::now()).await,
            Err(ReviewError::Invalid)
        ));
    }
}
