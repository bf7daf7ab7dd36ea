//! Eligibility on either backend: plan notices, members and providers in bulk, the care-gap
//! inputs of an office (scoped by its TINs through the PCP on the covering span), audit entries
//! appended many at once, and batch results only their uploader may read back, for a day.

use chrono::{Duration, NaiveDate, Utc};
use domain::access::Scope;
use domain::account::{OrgKind, Role, UserStatus};
use domain::audit::AuditEvent;
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::eligibility::{NoticeLevel, PlanNotice};
use domain::member::{EligibilitySpan, Member, MemberContact, Sex, SpanState};
use domain::plan::{HealthNetwork, LineOfBusiness, NetworkKind};
use domain::provider::{GeoPoint, Location, Provider, ProviderKind, Taxonomy};
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use std::sync::Arc;
use storage::{BatchCounts, NewBatch, NewMember, NewOrg, NewUser, Store};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn pcp(npi: Npi, tin: &str) -> Provider {
    Provider {
        npi,
        tin: Tin::parse(tin).unwrap(),
        kind: ProviderKind::Practitioner,
        name: format!("Doctor {npi}"),
        credential: "MD".into(),
        taxonomy: Taxonomy {
            code: "207Q00000X".into(),
            specialty: "Family Medicine".into(),
        },
        languages: vec!["en".into()],
        location: Location {
            street: "1 Clinic Way".into(),
            city: "Irvine".into(),
            state: "CA".into(),
            zip: "92618".into(),
            phone: "9495550111".into(),
            point: GeoPoint {
                lat: 33.68,
                lon: -117.82,
            },
        },
        accepting_new_patients: true,
        contracted: true,
        networks: vec!["CCN".into()],
    }
}

fn member(n: u64, last: &str, sex: Sex, birth: &str, spans: Vec<EligibilitySpan>) -> NewMember {
    NewMember {
        member: Member {
            id: MemberId::from_sequence(n),
            first_name: "Rosa".into(),
            last_name: last.into(),
            birth_date: d(birth),
            sex,
        },
        contact: MemberContact {
            street: "9 Hidden St".into(),
            city: "Tustin".into(),
            zip: "92780".into(),
            phone: "7145551234".into(),
        },
        spans,
    }
}

fn span(from: &str, to: Option<&str>, pcp: Npi) -> EligibilitySpan {
    EligibilitySpan::new(
        d(from),
        to.map(d),
        LineOfBusiness::MediCal,
        "CCN".into(),
        Some(pcp),
    )
    .unwrap()
}

fn claim(n: u64, member: u64, billing: Npi, status: ClaimStatus, lines: &[(&str, &str)]) -> Claim {
    Claim {
        number: ClaimNumber::from_sequence(n),
        form: ClaimForm::Professional,
        patient_account: format!("PA{n}"),
        member: MemberId::from_sequence(member),
        billing_npi: billing,
        rendering_npi: None,
        diagnoses: vec!["E119".into(), "I10".into()],
        place_of_service: "11".into(),
        received: d("2026-05-01"),
        status,
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (code, date))| ClaimLine {
                line_number: i as u16 + 1,
                procedure: (*code).into(),
                modifiers: vec![],
                revenue_code: None,
                units: 1,
                service_date: d(date),
                billed: Cents(1000),
                allowed: Cents(0),
                paid: Cents(0),
                adjustments: vec![],
            })
            .collect(),
        payment: None,
    }
}

fn notice(code: &str, lob: Option<LineOfBusiness>, state: Option<SpanState>) -> PlanNotice {
    PlanNotice {
        code: code.into(),
        level: NoticeLevel::Important,
        title: format!("About {code}"),
        body: "Send claims to the network.".into(),
        line_of_business: lob,
        network: Some("CCN".into()),
        network_kind: Some(NetworkKind::Community),
        span_state: state,
        effective_from: d("2024-01-01"),
        effective_to: Some(d("2030-12-31")),
    }
}

pub async fn eligibility_story(store: Arc<dyn Store>) {
    store
        .insert_networks(&[HealthNetwork {
            code: "CCN".into(),
            name: "Community Network".into(),
            kind: NetworkKind::Community,
            phone: "7145550100".into(),
        }])
        .await
        .unwrap();
    let ours = Npi::parse("1234567893").unwrap();
    let theirs = Npi::parse("1558598797").unwrap();
    store
        .insert_providers(&[pcp(ours, "951234567"), pcp(theirs, "330000002")])
        .await
        .unwrap();
    let on = d("2026-06-15");
    store
        .insert_members(&[
            // Assigned to us today.
            member(
                1,
                "Zamora",
                Sex::Female,
                "1970-01-01",
                vec![span("2025-01-01", None, ours)],
            ),
            // Was ours, now the other office's.
            member(
                2,
                "Alvarez",
                Sex::Male,
                "2015-03-03",
                vec![
                    span("2024-01-01", Some("2025-12-31"), ours),
                    span("2026-01-01", None, theirs),
                ],
            ),
            // Ours, termed last month.
            member(
                3,
                "Bui",
                Sex::Female,
                "1960-01-01",
                vec![span("2025-01-01", Some("2026-05-31"), ours)],
            ),
            // Ours, the last day of the span is today.
            member(
                4,
                "Abbott",
                Sex::Male,
                "1980-01-01",
                vec![span("2026-01-01", Some("2026-06-15"), ours)],
            ),
        ])
        .await
        .unwrap();
    store
        .insert_claims(&[
            // Billed by the other office: still the member's care.
            claim(
                1,
                1,
                theirs,
                ClaimStatus::Paid,
                &[("77067", "2025-02-01"), ("99213", "2023-12-31")],
            ),
            claim(
                2,
                1,
                ours,
                ClaimStatus::Rejected,
                &[("83036", "2026-02-01")],
            ),
            claim(3, 1, ours, ClaimStatus::Denied, &[("83036", "2026-06-16")]),
            claim(4, 2, ours, ClaimStatus::Paid, &[("99393", "2025-05-05")]),
            claim(5, 4, ours, ClaimStatus::Pended, &[("99395", "2026-06-15")]),
        ])
        .await
        .unwrap();

    // Notices round-trip.
    let notices = vec![
        notice("a-onecare", Some(LineOfBusiness::OneCare), None),
        notice("b-termed", None, Some(SpanState::Termed)),
    ];
    store.insert_plan_notices(&notices).await.unwrap();
    assert_eq!(store.plan_notices().await.unwrap(), notices);

    // Members in bulk: unknown IDs are left out; spans oldest first.
    let got = store
        .members_by_ids(&[
            MemberId::from_sequence(2),
            MemberId::from_sequence(99),
            MemberId::from_sequence(1),
            MemberId::from_sequence(2),
        ])
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    let two = got
        .iter()
        .find(|m| m.member.id == MemberId::from_sequence(2))
        .unwrap();
    assert_eq!(two.spans.len(), 2);
    assert!(two.spans[0].start < two.spans[1].start);
    assert_eq!(
        Some(two.clone()),
        store.member(&MemberId::from_sequence(2)).await.unwrap(),
        "the same as one at a time"
    );
    assert!(store.members_by_ids(&[]).await.unwrap().is_empty());
    let provs = store
        .providers_by_npi(&[ours, theirs, Npi::from_base(111_111_111).unwrap()])
        .await
        .unwrap();
    assert_eq!(provs.len(), 2);

    // Care-gap inputs: members assigned on the day, by name, and their lines from `since`.
    let scope = Scope::Tins(vec![Tin::parse("951234567").unwrap()]);
    let inputs = store
        .care_gap_inputs(&scope, on, d("2024-01-01"))
        .await
        .unwrap();
    let ids: Vec<&str> = inputs
        .members
        .iter()
        .map(|m| m.member.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            MemberId::from_sequence(4).as_str(),
            MemberId::from_sequence(1).as_str()
        ],
        "Abbott then Zamora: not the one who moved to another office, not the termed one"
    );
    assert!(inputs.members.iter().all(|m| m.pcp == ours));
    let mut lines: Vec<(String, String)> = inputs
        .services
        .iter()
        .map(|s| (s.member.to_string(), s.procedure.clone()))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            (MemberId::from_sequence(1).to_string(), "77067".to_string()),
            (MemberId::from_sequence(4).to_string(), "99395".to_string()),
        ],
        "another office's claim counts; rejected, future-dated and too-old lines do not"
    );
    assert_eq!(inputs.services[0].diagnoses, ["E119", "I10"]);
    let other = store
        .care_gap_inputs(
            &Scope::Tins(vec![Tin::parse("330000002").unwrap()]),
            on,
            d("2024-01-01"),
        )
        .await
        .unwrap();
    assert_eq!(
        other.members.len(),
        1,
        "the other office sees only its own member"
    );
    assert_eq!(other.members[0].member.id, MemberId::from_sequence(2));
    assert!(
        other
            .services
            .iter()
            .all(|s| s.member == MemberId::from_sequence(2))
    );
    assert_eq!(
        store
            .care_gap_inputs(&Scope::Nothing, on, d("2024-01-01"))
            .await
            .unwrap(),
        storage::CareGapInputs::default()
    );

    // One member's lines, the same rules.
    let mut one: Vec<String> = store
        .member_care_facts(&MemberId::from_sequence(1), on, d("2024-01-01"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    one.sort();
    assert_eq!(one, ["77067"]);

    // Audit entries in bulk keep the chain whole, after and between single appends.
    let event = |i: usize| AuditEvent {
        actor: Some(1),
        actor_name: "desk".into(),
        org: Some(1),
        action: "member.batch_read".into(),
        record_type: "member".into(),
        record_id: MemberId::from_sequence(i as u64).to_string(),
        outcome: "ok".into(),
        source: "192.0.2.9".into(),
    };
    let before = store.audit_head().await.unwrap().seq;
    store.audit(&event(0)).await.unwrap();
    let many: Vec<AuditEvent> = (1..=1200).map(event).collect();
    assert_eq!(store.audit_many(&many).await.unwrap().len(), 1200);
    assert!(store.audit_many(&[]).await.unwrap().is_empty());
    store.audit(&event(1201)).await.unwrap();
    let head = store.audit_head().await.unwrap().seq;
    assert_eq!(head - before, 1202);
    let verified = storage::verify_audit(&*store).await.unwrap().unwrap();
    assert_eq!(verified as i64, head);
    let page = store.audit_page(before, 5000).await.unwrap();
    assert_eq!(page[600].event, event(600), "in order");

    // Batches: the uploader reads theirs back within a day; nobody else, and not later.
    let org = store
        .create_org(&NewOrg {
            kind: OrgKind::ProviderOffice,
            name: "Batch office".into(),
            tin: Some(Tin::parse("951234567").unwrap()),
            network: None,
            claims_allowed: false,
        })
        .await
        .unwrap();
    let user = |name: &str| NewUser {
        username: name.into(),
        display_name: name.into(),
        email: format!("{name}@example.org"),
        role: Role::OfficeUser,
        org_id: org,
        password_hash: "x".into(),
        status: UserStatus::Active,
        phone: "7145550100".into(),
        claims: false,
    };
    let (u1, u2) = (
        store.create_user(&user("batch.one")).await.unwrap(),
        store.create_user(&user("batch.two")).await.unwrap(),
    );
    let now = Utc::now();
    let batch = |id: &str, at| NewBatch {
        id: id.into(),
        user_id: u1,
        created_at: at,
        filename: "members.csv".into(),
        counts: BatchCounts {
            rows: 3,
            found: 1,
            inactive: 1,
            not_found: 0,
            errors: 1,
        },
        member_ids: vec![MemberId::from_sequence(1), MemberId::from_sequence(3)],
        result: b"member_id,result\r\nM000000001,found\r\n\x00\xff".to_vec(),
    };
    let old = batch("old-batch", now - Duration::hours(30));
    store
        .save_batch(&old, now - Duration::days(7))
        .await
        .unwrap();
    let fresh = batch("fresh-batch", now);
    store
        .save_batch(&fresh, now - Duration::hours(24))
        .await
        .unwrap();
    let storage::BatchFile {
        record: rec,
        csv: bytes,
    } = store
        .batch("fresh-batch", u1, now - Duration::hours(24))
        .await
        .unwrap()
        .expect("the uploader's batch");
    assert_eq!(bytes, fresh.result, "bytes come back exactly");
    assert_eq!(
        (rec.counts, rec.member_ids.clone()),
        (fresh.counts, fresh.member_ids.clone())
    );
    assert_eq!(rec.filename, "members.csv");
    assert!(
        store
            .batch("fresh-batch", u2, now - Duration::hours(24))
            .await
            .unwrap()
            .is_none(),
        "another user cannot read it"
    );
    assert!(
        store
            .batch("old-batch", u1, now - Duration::days(7))
            .await
            .unwrap()
            .is_none(),
        "older than a day: purged when the next batch was saved"
    );
    assert!(
        store
            .batch("fresh-batch", u1, now + Duration::minutes(1))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .save_batch(&fresh, now - Duration::hours(24))
            .await
            .is_err(),
        "ids are unique"
    );
}
