//! Eligibility: the 270's one-statement read, plan notices, the care-gap inputs of an office
//! (scoped by its TINs through the PCP on the covering span), one member's care facts, and batch
//! results only their uploader may read back, for a day.

use crate::common::*;
use chrono::{Duration, NaiveDate, Utc};
use domain::access::Scope;
use domain::account::{OrgKind, Role, UserStatus};
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::eligibility::{NoticeLevel, PlanNotice};
use domain::member::{EligibilitySpan, Member, MemberContact, Sex, SpanState};
use domain::plan::{HealthNetwork, LineOfBusiness, NetworkKind};
use domain::provider::Provider;
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use storage::{
    BatchCounts, BatchFile, EligibilityLookup, MemberKey, NewBatch, NewMember, NewOrg, NewUser,
    Store,
};

on_both!(
    a_270_by_member_id_reads_every_span_with_its_network_and_pcp,
    a_270_by_last_name_and_birth_date_finds_every_match,
    plan_notices_come_back_as_stored,
    care_gap_inputs_are_the_offices_assigned_members_and_their_lines,
    one_members_care_facts_follow_the_same_rules,
    batch_results_are_read_back_by_their_uploader_for_a_day,
);

async fn a_270_by_member_id_reads_every_span_with_its_network_and_pcp(db: Db) {
    let plan = plan(&*db.store).await;
    let store = db.store;
    let first = &plan.members[0].member;
    let found = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi()),
            member: MemberKey::Id(first.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(found.provider_tin, Some(tin()));
    assert_eq!(found.members.len(), 1);
    let c = &found.members[0];
    assert_eq!(&c.member, first);
    assert_eq!(c.spans.len(), 2);
    assert_eq!(
        c.spans[0].span, plan.members[0].spans[0],
        "oldest first, unchanged"
    );
    assert_eq!(c.spans[0].network_name, "HN1 network");
    assert_eq!(c.spans[0].network_kind, NetworkKind::Delegated);
    assert_eq!(c.spans[0].network_phone, "7145550000");
    assert_eq!(c.spans[0].pcp_name.as_deref(), Some("Nguyen, Linh"));
    assert_eq!(c.spans[1].network_kind, NetworkKind::Community);
    assert_eq!(c.spans[1].pcp_name, None);

    // An unknown member still reads the provider; an unknown provider reads no TIN.
    let none = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi()),
            member: MemberKey::Id(MemberId::from_sequence(999)),
        })
        .await
        .unwrap();
    assert_eq!((none.provider_tin, none.members.len()), (Some(tin()), 0));
    let stranger = store
        .eligibility(&EligibilityLookup {
            provider: Some(Npi::from_base(199_999_999).unwrap()),
            member: MemberKey::Id(first.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!((stranger.provider_tin, stranger.members.len()), (None, 1));
    let anonymous = store
        .eligibility(&EligibilityLookup {
            provider: None,
            member: MemberKey::Id(first.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!((anonymous.provider_tin, anonymous.members.len()), (None, 1));
}

async fn a_270_by_last_name_and_birth_date_finds_every_match(db: Db) {
    let plan = plan(&*db.store).await;
    let store = db.store;
    let by_name = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi()),
            member: MemberKey::NameBirth {
                last_name: "GARCÍA".into(),
                birth_date: d("1980-02-29"),
            },
        })
        .await
        .unwrap();
    let ids: Vec<&str> = by_name
        .members
        .iter()
        .map(|c| c.member.id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec![
            plan.members[0].member.id.as_str(),
            plan.members[1].member.id.as_str()
        ]
    );
    assert!(by_name.members.iter().all(|c| c.spans.len() == 2));
    let wrong_day = store
        .eligibility(&EligibilityLookup {
            provider: Some(npi()),
            member: MemberKey::NameBirth {
                last_name: "garcía".into(),
                birth_date: d("1980-03-01"),
            },
        })
        .await
        .unwrap();
    assert!(wrong_day.members.is_empty());
    assert_eq!(wrong_day.provider_tin, Some(tin()));
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

async fn plan_notices_come_back_as_stored(db: Db) {
    let store = db.store;
    let mut bare = notice("c-bare", None, None);
    bare.network = None;
    bare.network_kind = None;
    bare.effective_to = None;
    bare.level = NoticeLevel::Info;
    let notices = vec![
        notice("a-onecare", Some(LineOfBusiness::OneCare), None),
        notice("b-termed", None, Some(SpanState::Termed)),
        bare,
    ];
    store.insert_plan_notices(&notices).await.unwrap();
    assert_eq!(store.plan_notices().await.unwrap(), notices);
}

fn pcp(npi: Npi, tin: &str) -> Provider {
    let mut p = provider(npi);
    p.tin = Tin::parse(tin).unwrap();
    p.name = format!("Doctor {npi}");
    p
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

fn care_claim(
    n: u64,
    member: u64,
    billing: Npi,
    status: ClaimStatus,
    lines: &[(&str, &str)],
) -> Claim {
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

/// Two offices' PCPs (ours under [`TIN`], theirs under 330000002) and four members on
/// 2026-06-15: Zamora assigned to us, Alvarez moved from us to them, Bui ours but termed last
/// month, Abbott ours with the span ending that day; and their claims.
async fn assigned(store: &dyn Store) -> (Npi, Npi, NaiveDate) {
    store
        .insert_networks(&[HealthNetwork {
            code: "CCN".into(),
            name: "Community Network".into(),
            kind: NetworkKind::Community,
            phone: "7145550100".into(),
        }])
        .await
        .unwrap();
    let ours = npi();
    let theirs = other_npi();
    store
        .insert_providers(&[pcp(ours, TIN), pcp(theirs, "330000002")])
        .await
        .unwrap();
    store
        .insert_members(&[
            member(
                1,
                "Zamora",
                Sex::Female,
                "1970-01-01",
                vec![span("2025-01-01", None, ours)],
            ),
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
            member(
                3,
                "Bui",
                Sex::Female,
                "1960-01-01",
                vec![span("2025-01-01", Some("2026-05-31"), ours)],
            ),
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
            care_claim(
                1,
                1,
                theirs,
                ClaimStatus::Paid,
                &[("77067", "2025-02-01"), ("99213", "2023-12-31")],
            ),
            care_claim(
                2,
                1,
                ours,
                ClaimStatus::Rejected,
                &[("83036", "2026-02-01")],
            ),
            care_claim(3, 1, ours, ClaimStatus::Denied, &[("83036", "2026-06-16")]),
            care_claim(4, 2, ours, ClaimStatus::Paid, &[("99393", "2025-05-05")]),
            care_claim(5, 4, ours, ClaimStatus::Pended, &[("99395", "2026-06-15")]),
        ])
        .await
        .unwrap();
    (ours, theirs, d("2026-06-15"))
}

async fn care_gap_inputs_are_the_offices_assigned_members_and_their_lines(db: Db) {
    let (ours, _, on) = assigned(&*db.store).await;
    let store = db.store;
    let scope = Scope::Tins(vec![tin()]);
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
    assert_eq!(inputs.members[0].member.last_name, "Abbott");
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
}

async fn one_members_care_facts_follow_the_same_rules(db: Db) {
    let (_, _, on) = assigned(&*db.store).await;
    let mut one: Vec<String> = db
        .store
        .member_care_facts(&MemberId::from_sequence(1), on, d("2024-01-01"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    one.sort();
    assert_eq!(one, ["77067"]);
}

async fn batch_results_are_read_back_by_their_uploader_for_a_day(db: Db) {
    let store = db.store;
    let org = store
        .create_org(&NewOrg {
            kind: OrgKind::ProviderOffice,
            name: "Batch office".into(),
            tin: Some(tin()),
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
    let BatchFile {
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
    assert_eq!((rec.id.as_str(), rec.user_id), ("fresh-batch", u1));
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
