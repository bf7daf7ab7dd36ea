//! Writer round trips: write a typed value, validate the X12 (it must be accepted),
//! parse it back and get the same value. Property tests over generated values.

use proptest::prelude::*;
use x12::model::*;

fn env() -> Envelope {
    Envelope::default()
}

/// Writes, checks the guide accepts it, parses back the single transaction set.
fn cycle(x12: &str) -> Transaction {
    let report = x12::validate_bytes(x12.as_bytes(), &x12::Options::default());
    let errs: Vec<String> = report
        .issues()
        .filter(|i| i.is_error())
        .map(|i| i.to_string())
        .collect();
    assert!(
        report.accepted(),
        "writer produced invalid X12:\n{}\n{x12}",
        errs.join("\n")
    );
    let (_, mut sets) = parse_bytes(x12.as_bytes());
    assert_eq!(sets.len(), 1);
    sets.remove(0)
}

fn word() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9]{1,11}"
}
fn name() -> impl Strategy<Value = String> {
    "[A-Z]{1,10}( [A-Z]{1,8})?"
}
fn date() -> impl Strategy<Value = String> {
    (1990u32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}{m:02}{d:02}"))
}
fn amount() -> impl Strategy<Value = String> {
    (0u32..100_000, 0u32..100).prop_map(|(a, c)| {
        if c == 0 {
            a.to_string()
        } else {
            format!("{a}.{c:02}")
        }
    })
}
fn npi() -> impl Strategy<Value = String> {
    (100_000_000u64..199_999_999).prop_map(|base| {
        let s = base.to_string();
        (0..10)
            .map(|d| format!("{s}{d}"))
            .find(|c| x12::valid_npi(c.as_bytes()))
            .expect("one check digit fits")
    })
}
fn person() -> impl Strategy<Value = Person> {
    (
        name(),
        name(),
        word(),
        date(),
        prop::sample::select(vec!["F", "M", "U"]),
    )
        .prop_map(|(last, first, member_id, dob, g)| Person {
            last,
            first,
            member_id,
            dob,
            gender: g.to_string(),
            address: None,
        })
}
fn party() -> impl Strategy<Value = Party> {
    (name(), word()).prop_map(|(name, id)| Party { name, id })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn eligibility_request_round_trip(payer in party(), prov in name(), npi in npi(), sub in person(), trace in word(), dos in date(),
        types in prop::collection::vec(prop::sample::select(vec!["30", "1", "33", "35", "47", "48", "50", "86", "88", "98", "AL", "MH", "UC"]), 1..4)) {
        let req = EligibilityRequest { payer_name: payer.name, payer_id: payer.id, provider_name: prov, provider_npi: npi, subscriber: sub,
            trace, date_of_service: dos, service_types: types.into_iter().map(String::from).collect() };
        let t = cycle(&req.to_x12(&env()));
        prop_assert_eq!(EligibilityRequest::from_tree(&t.root), Some(req));
    }

    #[test]
    fn eligibility_response_round_trip(payer in party(), prov in party(), sub in person(), trace in word(),
        benefits in prop::collection::vec((prop::sample::select(vec!["1", "6", "A", "B", "C"]), name(), amount(), prop::option::of((name(), npi()))), 0..4),
        reject in prop::option::of(prop::sample::select(vec!["72", "73", "75", "76"]))) {
        let resp = EligibilityResponse {
            payer, provider: prov, subscriber: sub, trace,
            benefits: benefits.into_iter().map(|(info, plan, amt, pcp)| Benefit {
                info: info.into(), coverage_level: "IND".into(), service_types: vec!["30".into()], insurance_type: "HM".into(), plan,
                period: String::new(), amount: amt, percent: String::new(), in_network: "Y".into(),
                messages: vec!["PLAN NOTE".into()], pcp: pcp.map(|(name, id)| Party { name, id }), ..Benefit::default() }).collect(),
            rejects: reject.into_iter().map(|r| Reject { loop_id: "2100C".into(), reason: r.into(), follow_up: "C".into() }).collect(),
            ..EligibilityResponse::default()
        };
        let t = cycle(&resp.to_x12(&env()));
        prop_assert_eq!(EligibilityResponse::from_tree(&t.root), Some(resp));
    }

    #[test]
    fn professional_claims_round_trip(bp in name(), npi in npi(), sub in person(), payer in party(), patient in prop::option::of(person()),
        claims in prop::collection::vec((word(), amount(), prop::collection::vec("[A-Z][0-9]{2}[0-9A-Z]{0,4}", 1..5),
            prop::collection::vec(("[0-9]{5}", amount(), 1u32..20, date()), 1..6)), 1..4)) {
        let claims: Vec<Claim> = claims.into_iter().map(|(id, total, dx, lines)| Claim {
            kind: ClaimKind::Professional,
            billing_provider: Party { name: bp.clone(), id: npi.clone() }, billing_tax_id: "123456789".into(),
            billing_address: Address { line: "1 MAIN ST".into(), city: "SANTA ANA".into(), state: "CA".into(), zip: "92701".into() },
            subscriber: sub.clone(), payer: payer.clone(),
            relationship: if patient.is_some() { "19".into() } else { String::new() },
            patient: patient.clone().map(|mut p| { p.member_id.clear(); p.address = Some(Address { line: "2 ELM ST".into(), city: "IRVINE".into(), state: "CA".into(), zip: "92602".into() }); p }),
            claim_id: id, total_charge: total, facility_code: "11".into(), frequency: "1".into(), diagnoses: dx,
            statement_date: String::new(), rendering_npi: String::new(),
            lines: lines.into_iter().map(|(p, c, u, d)| ServiceLine { procedure: p, modifiers: vec![], revenue_code: String::new(), charge: c, units: u.to_string(), service_date: d }).collect(),
        }).collect();
        let t = cycle(&Claim::to_x12(&claims, &env()));
        prop_assert_eq!(Claim::all_from_tree(&t.root, false), claims);
    }

    #[test]
    fn remittance_round_trip(payer in party(), payee in (name(), npi()), trace in word(), date in date(),
        claims in prop::collection::vec((word(), prop::collection::vec(("[0-9]{5}", 1u32..100_000, 0u32..50_000), 1..4), name(), name()), 1..4)) {
        let claims: Vec<ClaimPayment> = claims.into_iter().map(|(id, lines, last, first)| {
            let lines: Vec<LinePayment> = lines.into_iter().map(|(p, charge, adj)| {
                let adj = adj.min(charge);
                LinePayment { procedure: p, charge: charge.to_string(), paid: (charge - adj).to_string(), units: "1".into(), service_date: "20240110".into(),
                    adjustments: if adj > 0 { vec![Adjustment { group: "CO".into(), reason: "45".into(), amount: adj.to_string() }] } else { vec![] } }
            }).collect();
            let charge: u32 = lines.iter().map(|l| l.charge.parse::<u32>().unwrap()).sum();
            let paid: u32 = lines.iter().map(|l| l.paid.parse::<u32>().unwrap()).sum();
            ClaimPayment { claim_id: id, status: "1".into(), charge: charge.to_string(), paid: paid.to_string(), patient_responsibility: String::new(),
                payer_claim_id: "PCN1".into(), patient: Person { last, first, member_id: "M1".into(), ..Default::default() }, adjustments: vec![], lines }
        }).collect();
        let total: u32 = claims.iter().map(|c| c.paid.parse::<u32>().unwrap()).sum();
        let r = Remittance { payer, payee: Party { name: payee.0, id: payee.1 }, method: "CHK".into(), amount: total.to_string(), date, trace, claims };
        let t = cycle(&r.to_x12(&env()));
        prop_assert_eq!(Remittance::from_tree(&t.root), Some(r));
    }

    #[test]
    fn status_round_trip(payer in party(), recv in party(), prov in (name(), npi()), sub in person(),
        qs in prop::collection::vec((word(), word(), amount(), date()), 1..4)) {
        let req = StatusRequest { payer: payer.clone(), receiver: recv.clone(), provider: Party { name: prov.0.clone(), id: prov.1.clone() }, subscriber: sub.clone(),
            queries: qs.iter().map(|(t, c, a, d)| StatusQuery { trace: t.clone(), claim_id: c.clone(), payer_claim_id: String::new(), charge: a.clone(), service_date: d.clone() }).collect() };
        let t = cycle(&req.to_x12(&env()));
        prop_assert_eq!(StatusRequest::from_tree(&t.root), Some(req));
        let mut sub2 = sub.clone();
        sub2.dob.clear();
        sub2.gender.clear();
        let resp = StatusResponse { payer, receiver: recv, provider: Party { name: prov.0, id: prov.1 }, subscriber: sub2,
            statuses: qs.into_iter().map(|(t, c, a, d)| ClaimStatus { trace: t, category: "F1".into(), code: "65".into(), entity: String::new(), date: d,
                charge: a.clone(), paid: a, claim_id: c, payer_claim_id: "P1".into(), patient: None, ..ClaimStatus::default() }).collect() };
        let t = cycle(&resp.to_x12(&env()));
        prop_assert_eq!(StatusResponse::from_tree(&t.root), Some(resp));
    }

    #[test]
    fn service_review_round_trip(umo in party(), req in (name(), npi()), sub in person(), trace in word(), dx in prop::collection::vec("[A-Z][0-9]{2}[0-9A-Z]{0,4}", 1..4),
        procs in prop::collection::vec("[0-9]{5}", 0..3), decision in prop::option::of((prop::sample::select(vec!["A1", "A3", "A4"]), word()))) {
        let r = ServiceReview { umo, requester: Party { name: req.0, id: req.1 }, subscriber: sub, trace, category: "HS".into(), certification_type: "I".into(),
            service_type: "3".into(), facility_code: "11".into(), diagnoses: dx, event_date: "20240110-20240120".into(), procedures: procs,
            decision: decision.map(|(a, n)| ReviewDecision { action: a.into(), auth_number: n, reason: String::new() }), ..Default::default() };
        let t = cycle(&r.to_x12(&env()));
        prop_assert_eq!(ServiceReview::from_tree(&t.root), Some(r));
    }
}

#[test]
fn claim_ack_is_valid() {
    let ack = ClaimAck {
        payer: Party {
            name: "HEALTH PLAN".into(),
            id: "HP1".into(),
        },
        receiver: Party {
            name: "CLINIC".into(),
            id: "SUB1".into(),
        },
        billing_provider: Party {
            name: "CLINIC".into(),
            id: "1234567893".into(),
        },
        received: "20240115".into(),
        claims: vec![ClaimStatus {
            trace: "PCN1".into(),
            category: "A2".into(),
            code: "20".into(),
            date: "20240115".into(),
            charge: "150".into(),
            patient: Some(Person {
                last: "DOE".into(),
                first: "JANE".into(),
                member_id: "M1".into(),
                ..Default::default()
            }),
            ..Default::default()
        }],
    };
    let t = cycle(&ack.to_x12(&env()));
    let back = ClaimAck::from_tree(&t.root).unwrap();
    assert_eq!(back.claims[0].trace, "PCN1");
    assert_eq!(back.claims[0].category, "A2");
}

#[test]
fn institutional_claim_round_trip() {
    let c = Claim {
        kind: ClaimKind::Institutional,
        billing_provider: Party {
            name: "GENERAL HOSPITAL".into(),
            id: "1234567893".into(),
        },
        billing_tax_id: "123456789".into(),
        billing_address: Address {
            line: "1 MAIN".into(),
            city: "ORANGE".into(),
            state: "CA".into(),
            zip: "92868".into(),
        },
        subscriber: Person {
            last: "DOE".into(),
            first: "JOHN".into(),
            member_id: "M9".into(),
            dob: "19700101".into(),
            gender: "M".into(),
            address: None,
        },
        payer: Party {
            name: "PLAN".into(),
            id: "HP1".into(),
        },
        claim_id: "I1".into(),
        total_charge: "1000".into(),
        facility_code: "13".into(),
        frequency: "1".into(),
        diagnoses: vec!["J069".into(), "R509".into()],
        statement_date: "20240110".into(),
        lines: vec![ServiceLine {
            procedure: "99284".into(),
            revenue_code: "0450".into(),
            charge: "1000".into(),
            units: "1".into(),
            service_date: "20240110".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let t = cycle(&Claim::to_x12(std::slice::from_ref(&c), &env()));
    assert_eq!(Claim::all_from_tree(&t.root, true), vec![c]);
}
