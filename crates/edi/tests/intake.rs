//! 837 intake against a real store seeded with the demo plan: what a trading partner sends and
//! what it gets back, claim by claim.

use chrono::{Duration, Utc};
use domain::access::Scope;
use domain::claim::{ClaimForm, ClaimStatus};
use domain::{MemberId, Tin};
use edi::Partner;
use edi::intake::{Submitter, Verdict, intake};
use edi::samples::{self, Billing};
use std::sync::Arc;
use storage::Store;
use x12::model::Envelope;

struct Plan {
    store: Arc<dyn Store>,
    billing: Billing,
    /// A provider billing under the second demo office's TIN.
    other: Billing,
    /// The demo `claims` user of the first office.
    claims_user: Partner,
    _dir: tempfile::TempDir,
}

async fn plan() -> Plan {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let store = storage::open(&url).await.unwrap();
    seed::demo_with_password(&*store, "intake-test-password")
        .await
        .unwrap();
    let office = seed::demo_office(&*store).await.unwrap();
    let user = store.user_by_username("claims").await.unwrap().unwrap();
    let office2 = store.user_by_username("office2").await.unwrap().unwrap();
    let tin2 = store
        .org(office2.org_id)
        .await
        .unwrap()
        .unwrap()
        .tin
        .unwrap();
    let other_npi = store
        .claims_in_scope(&Scope::Tins(vec![tin2]), 1)
        .await
        .unwrap()[0]
        .billing_npi;
    Plan {
        billing: Billing {
            name: office.name.to_uppercase(),
            npi: office.npi,
            tin: office.tin,
        },
        other: Billing {
            name: "OTHER GROUP".into(),
            npi: other_npi,
            tin: tin2,
        },
        claims_user: Partner {
            user_id: user.id,
            org_id: user.org_id,
            scope: Scope::Tins(vec![office.tin]),
        },
        store,
        _dir: dir,
    }
}

fn env(control: u32) -> Envelope {
    Envelope {
        sender: "DEMOOFFICE".into(),
        receiver: "OCHP".into(),
        control,
        date: Utc::now().format("%Y%m%d").to_string(),
        time: "1200".into(),
        usage: 'P',
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive() - Duration::days(1)
}

impl Plan {
    fn submitter(&self) -> Submitter {
        Submitter::partner(self.claims_user.clone(), "test").with_file_name("batch.837")
    }
    async fn claims(&self, form: ClaimForm, n: usize) -> Vec<x12::model::Claim> {
        samples::for_plan(&*self.store, form, &self.billing, n, today())
            .await
            .unwrap()
    }
    async fn claim_count(&self) -> i64 {
        self.store.counts().await.unwrap().claims
    }
}

#[tokio::test]
async fn a_good_837p_is_accepted_and_stored_as_received() {
    let p = plan().await;
    let before = p.claim_count().await;
    let claims = p.claims(ClaimForm::Professional, 12).await;
    let file = samples::write_837(&claims, &env(101), 5);
    let out = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.verdict, Verdict::Accepted, "{:?}", out.problem);
    assert_eq!((out.accepted, out.rejected), (12, 0), "{:#?}", out.claims);
    assert!(
        out.ack.contains("AK9*A*3*3*3"),
        "three sets accepted: {}",
        out.ack
    );
    assert_eq!(p.claim_count().await, before + 12);

    // The 277CA is valid X12 (005010X214) and names each claim's plan number.
    let ca = out.claim_ack.as_deref().unwrap();
    let report = x12::validate_bytes(ca.as_bytes(), &x12::Options::default());
    assert!(report.accepted(), "{:?}", report.errors_by_offset());
    assert_eq!(ca.matches("STC*A2:20*").count(), 12);
    for r in &out.claims {
        let number = r
            .claim_number
            .clone()
            .expect("accepted claims are numbered");
        assert!(
            ca.contains(&format!("REF*1K*{number}~")),
            "{number} in the 277CA"
        );
        let stored = p.store.claim(&number).await.unwrap().expect("stored");
        assert_eq!(stored.status, ClaimStatus::Received);
        assert_eq!(stored.form, ClaimForm::Professional);
        assert_eq!(stored.patient_account, r.patient_account);
        assert_eq!(stored.billing_npi, p.billing.npi);
        assert_eq!(stored.billed(), r.charge);
        assert_eq!(stored.place_of_service, "11");
        assert!(!stored.diagnoses.is_empty() && !stored.lines.is_empty());
    }
    let sent = &claims[0];
    let first = p
        .store
        .claim(out.claims[0].claim_number.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.member.as_str(), sent.subscriber.member_id);
    assert_eq!(first.lines.len(), sent.lines.len());
    assert_eq!(first.lines[0].procedure, sent.lines[0].procedure);
    assert_eq!(
        first
            .rendering_npi
            .map(|n| n.to_string())
            .unwrap_or_default(),
        sent.rendering_npi
    );

    // Recorded for the office, with its acknowledgements, and audited.
    let id = out.interchange_id.unwrap();
    let rec = p
        .store
        .interchange(id, Some(p.claims_user.org_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rec.claims_accepted, rec.claims_rejected), (12, 0));
    assert_eq!(rec.control_number, "000000101");
    assert_eq!(rec.sender_id, "DEMOOFFICE");
    assert_eq!(rec.file_name, "batch.837");
    let acks = p.store.interchange_acks(id).await.unwrap().unwrap();
    assert_eq!(acks.ack_999, out.ack);
    assert!(
        p.store
            .interchange(id, Some(999_999))
            .await
            .unwrap()
            .is_none()
    );
    let audit = p.store.audit_page(0, 1000).await.unwrap();
    let e = audit
        .iter()
        .find(|e| e.event.action == "edi.intake")
        .unwrap();
    assert_eq!(e.event.actor, Some(p.claims_user.user_id));
    assert_eq!(e.event.record_id, id.to_string());
    assert_eq!(e.event.outcome, "accepted 12, rejected 0");
}

#[tokio::test]
async fn a_good_837i_becomes_institutional_claims_with_revenue_codes() {
    let p = plan().await;
    let claims = p.claims(ClaimForm::Institutional, 4).await;
    let file = samples::write_837(&claims, &env(102), 100);
    assert!(file.contains("005010X223A2"));
    let out = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (out.verdict, out.accepted),
        (Verdict::Accepted, 4),
        "{:#?}",
        out.claims
    );
    let c = p
        .store
        .claim(out.claims[0].claim_number.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.form, ClaimForm::Institutional);
    assert_eq!(c.place_of_service, "13", "facility type code");
    assert!(c.lines.iter().all(|l| l.revenue_code.is_some()));
}

#[tokio::test]
async fn a_broken_envelope_is_rejected_whole_and_stores_no_claim() {
    let p = plan().await;
    let before = p.claim_count().await;
    let claims = p.claims(ClaimForm::Professional, 3).await;
    let file = samples::write_837(&claims, &env(103), 100);
    // The trailer names another control number than the header.
    let broken = file.replace("IEA*1*000000103", "IEA*1*000000999");
    let out = intake(&*p.store, &p.submitter(), broken.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.verdict, Verdict::Rejected);
    assert!(out.ack.contains("TA1*000000103*"), "{}", out.ack);
    assert!(out.ack.contains("*R*"), "{}", out.ack);
    assert!(out.claim_ack.is_none());
    assert!(!out.findings.is_empty(), "the TA1 finding in words");
    assert_eq!(p.claim_count().await, before);
    let rec = p
        .store
        .interchange(out.interchange_id.unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, storage::InterchangeStatus::Rejected);

    // Corrected, the same control number is welcome: a rejected interchange does not block it.
    let out = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!((out.verdict, out.accepted), (Verdict::Accepted, 3));
}

#[tokio::test]
async fn a_set_rejected_by_the_999_keeps_its_claims_out() {
    let p = plan().await;
    let claims = p.claims(ClaimForm::Professional, 4).await;
    let file = samples::write_837(&claims, &env(104), 2);
    // The second set's first service line loses its procedure code.
    let at = file.match_indices("ST*837*0002").next().unwrap().0;
    let (head, tail) = file.split_at(at);
    let tail = tail.replacen("SV1*HC:", "SV1*HC:***", 1);
    let file = format!("{head}{tail}");
    let out = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.verdict, Verdict::Partial, "{:?}", out.findings);
    assert!(out.ack.contains("AK9*P*2*2*1"), "{}", out.ack);
    assert!(out.ack.contains("AK2*837*0002"), "{}", out.ack);
    assert_eq!(out.accepted, 2, "only the first set's claims");
    assert!(
        out.findings.iter().any(|f| f.contains("SV1")),
        "{:?}",
        out.findings
    );
}

#[tokio::test]
async fn one_bad_claim_among_good_ones_is_rejected_with_its_reason() {
    let p = plan().await;
    let before = p.claim_count().await;
    let mut claims = p.claims(ClaimForm::Professional, 6).await;
    claims[2].subscriber.member_id = "M999999999".into();
    claims[3].lines[0].service_date = (Utc::now().date_naive() + Duration::days(30))
        .format("%Y%m%d")
        .to_string();
    claims[4].billing_tax_id = "999999999".into();
    let dup = claims[0].clone();
    claims.push(dup);
    let file = samples::write_837(&claims, &env(105), 100);
    let out = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.verdict, Verdict::Accepted);
    let codes: Vec<&str> = out.claims.iter().map(|r| r.status_code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "A2:20",
            "A2:20",
            "A3:33",
            "A7:187",
            "A7:128:85",
            "A2:20",
            "A3:78"
        ]
    );
    assert!(out.claims[2].reason.contains("M999999999"));
    assert!(out.claims[3].reason.contains("future"));
    assert!(out.claims[6].reason.contains("twice"));
    assert_eq!((out.accepted, out.rejected), (3, 4));
    assert_eq!(p.claim_count().await, before + 3);
    let ca = out.claim_ack.unwrap();
    assert!(ca.contains("STC*A3:33*"), "{ca}");
    assert!(ca.contains("*U*"), "rejections carry action code U");
    let results = p
        .store
        .interchange_results(out.interchange_id.unwrap())
        .await
        .unwrap();
    assert_eq!(results, out.claims, "the outcomes are kept as reported");
}

#[tokio::test]
async fn a_claim_for_another_offices_tin_is_rejected_not_stored() {
    let p = plan().await;
    let mut claims = p.claims(ClaimForm::Professional, 2).await;
    let theirs = samples::for_plan(&*p.store, ClaimForm::Professional, &p.other, 1, today())
        .await
        .unwrap();
    claims.extend(theirs);
    // The operator may bill for anyone on file; the office only for its own TIN.
    let file = samples::write_837(&claims, &env(106), 100);
    let out = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.claims[2].status_code, "A3:496:85");
    assert!(out.claims[2].claim_number.is_none());
    assert_eq!(out.accepted, 2);
    let file = samples::write_837(&claims, &env(107), 100);
    let out = intake(
        &*p.store,
        &Submitter::operator("portal edi ingest"),
        file.as_bytes(),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(out.accepted, 3, "{:#?}", out.claims);
}

#[tokio::test]
async fn the_same_interchange_twice_is_recognised_not_doubled() {
    let p = plan().await;
    let claims = p.claims(ClaimForm::Professional, 5).await;
    let file = samples::write_837(&claims, &env(108), 100);
    let first = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    let count = p.claim_count().await;
    let again = intake(&*p.store, &p.submitter(), file.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(again.verdict, Verdict::Duplicate);
    assert_eq!(again.interchange_id, first.interchange_id);
    assert_eq!(again.ack, first.ack, "the original 999");
    assert_eq!(again.claim_ack, first.claim_ack, "the original 277CA");
    assert_eq!(again.claims, first.claims);
    assert!(again.problem.unwrap().contains("already received"));
    assert_eq!(p.claim_count().await, count);

    // Same sender and ISA13, other content: TA1 025, nothing stored.
    let other = samples::write_837(&claims[..3], &env(108), 100);
    let out = intake(&*p.store, &p.submitter(), other.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.verdict, Verdict::Rejected);
    assert!(out.ack.contains("TA1*000000108*"), "{}", out.ack);
    assert!(out.ack.contains("*R*025~"), "{}", out.ack);
    assert_eq!(p.claim_count().await, count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_submissions_racing_are_stored_once() {
    let p = plan().await;
    let before = p.claim_count().await;
    let claims = p.claims(ClaimForm::Professional, 40).await;
    let file = Arc::new(samples::write_837(&claims, &env(109), 100));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = p.store.clone();
            let file = file.clone();
            let s = p.submitter();
            tokio::spawn(async move { intake(&*store, &s, file.as_bytes(), Utc::now()).await })
        })
        .collect();
    let mut verdicts = Vec::new();
    for t in tasks {
        verdicts.push(t.await.unwrap().unwrap().verdict);
    }
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Accepted).count(),
        1,
        "{verdicts:?}"
    );
    assert_eq!(
        verdicts
            .iter()
            .filter(|v| **v == Verdict::Duplicate)
            .count(),
        3
    );
    assert_eq!(p.claim_count().await, before + 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn different_batches_at_once_get_distinct_claim_numbers() {
    let p = plan().await;
    let claims = p.claims(ClaimForm::Professional, 60).await;
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let store = p.store.clone();
            let file = samples::write_837(&claims[i * 20..(i + 1) * 20], &env(200 + i as u32), 100);
            let s = p.submitter();
            tokio::spawn(async move { intake(&*store, &s, file.as_bytes(), Utc::now()).await })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        let out = t.await.unwrap().unwrap();
        assert_eq!(out.accepted, 20);
        numbers.extend(out.claims.into_iter().filter_map(|r| r.claim_number));
    }
    let n = numbers.len();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), n, "no claim number handed out twice");
}

#[tokio::test]
async fn not_a_claims_file_is_refused_in_words() {
    let p = plan().await;
    let out = intake(
        &*p.store,
        &p.submitter(),
        b"this is not X12 at all",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(out.verdict, Verdict::Rejected);
    assert!(out.ack.contains("TA1*"), "{}", out.ack);
    assert!(!out.findings.is_empty());
    let x270 = x12::model::EligibilityRequest {
        payer_name: "PLAN".into(),
        payer_id: "OCHP1".into(),
        provider_name: "CLINIC".into(),
        provider_npi: p.billing.npi.to_string(),
        subscriber: x12::model::Person {
            last: "DOE".into(),
            first: "JANE".into(),
            member_id: MemberId::from_sequence(1).to_string(),
            dob: "19800101".into(),
            gender: "F".into(),
            address: None,
        },
        trace: "T1".into(),
        date_of_service: "20240110".into(),
        service_types: vec!["30".into()],
    }
    .to_x12(&env(110));
    let out = intake(&*p.store, &p.submitter(), x270.as_bytes(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.verdict, Verdict::Rejected);
    assert!(out.problem.unwrap().contains("270"));
    let _ = Tin::parse("951234567");
}

/// The public sample corpus (when `X12_CORPUS` names it): every 837 is answered without a
/// panic, with a 999 or TA1, and claims the plan does not know are rejected, never stored.
#[tokio::test]
async fn public_corpus_837s_are_answered() {
    let Ok(dir) = std::env::var("X12_CORPUS") else {
        eprintln!("public_corpus_837s_are_answered: skipped (X12_CORPUS is not set)");
        return;
    };
    let p = plan().await;
    let before = p.claim_count().await;
    let mut seen = 0;
    for sub in ["837P", "837I"] {
        let Ok(entries) = std::fs::read_dir(std::path::Path::new(&dir).join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            let out = intake(&*p.store, &p.submitter(), &bytes, Utc::now())
                .await
                .unwrap();
            assert!(out.ack.starts_with("ISA*"), "{}", e.path().display());
            assert_eq!(out.accepted, 0, "{}: strangers' claims", e.path().display());
            seen += 1;
        }
    }
    assert!(seen > 0);
    assert_eq!(p.claim_count().await, before);
}
