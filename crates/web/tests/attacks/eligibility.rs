//! Birth-date harvesting (finding 3): an office user recovered a member's birth date in 0.16 s
//! with one batch upload of one member ID and 5,000 consecutive dates, leaving two audit
//! entries; member IDs were sequential, so any member could be picked; the interactive lookup
//! and the CORE 270 were unthrottled too.
//!
//! Now not-found lookups are budgeted per user and per office over a rolling day, whatever the
//! channel (page, batch, CORE), counted in the same transaction that admits them (parallel
//! uploads cannot overshoot); one ID tried with many birth dates is refused as guessing; every
//! miss is audited; the plan's administrators are alerted once when an office's miss ratio is
//! abnormal.

use crate::harness::{Client, PASSWORD, Portal, Resp, text_of};
use chrono::{Days, NaiveDate, Utc};
use domain::lookup_limits::{ALERT_MIN_MISSES, OFFICE_MISSES, USER_MISSES};
use std::time::Instant;
use x12::model::{EligibilityRequest, Envelope, Person};

const USER_BUDGET: usize = USER_MISSES as usize;

/// A member of the seeded plan, read from the database file as an insider would know them.
#[derive(Debug, Clone)]
struct Known {
    id: String,
    birth: NaiveDate,
    last: String,
}

async fn members(portal: &Portal, n: i64) -> Vec<Known> {
    let url = format!("sqlite://{}", portal.dir.path().join("portal.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, birth_date, last_name FROM members ORDER BY id LIMIT $1")
            .bind(n)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(id, birth, last)| Known {
            id,
            birth: birth.parse().unwrap(),
            last,
        })
        .collect()
}

/// Member IDs no member has (the shape of sequential guesses past the demo's 500).
fn unknown_id(n: usize) -> String {
    format!("M{:09}", 700_000_000 + n)
}

async fn upload(c: &mut Client, csv: &str) -> Resp {
    c.post_multipart(
        "/eligibility/batch",
        &[],
        &[("file", "members.csv", "text/csv", csv.as_bytes())],
    )
    .await
}

fn count(r: &Resp, id: &str) -> usize {
    text_of(&r.body, id)
        .map(|t| t.replace(',', "").parse().unwrap_or(0))
        .unwrap_or(0)
}

/// Rows a batch answer shows as a member found (eligible or not on the date).
fn members_shown(r: &Resp) -> usize {
    count(r, "count-found") + count(r, "count-inactive")
}

/// The batch result CSV, when the answer offers one.
async fn result_csv(c: &mut Client, r: &Resp) -> String {
    match r.body.split_once("href=\"/eligibility/batch/") {
        Some((_, rest)) => {
            let id = &rest[..rest.find('"').unwrap()];
            c.get(&format!("/eligibility/batch/{id}")).await.body
        }
        None => String::new(),
    }
}

async fn audit_of(portal: &Portal) -> Vec<domain::audit::AuditEvent> {
    portal
        .store
        .audit_page(0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

async fn misses_audited(portal: &Portal) -> usize {
    audit_of(portal)
        .await
        .iter()
        .filter(|e| e.action == "eligibility.miss")
        .count()
}

async fn look_up(c: &mut Client, id: &str, birth: &str) -> Resp {
    c.post_form("/eligibility", &[("member_id", id), ("birth_date", birth)])
        .await
}

/// The finding as reported: one ID, 5,000 consecutive dates around the real birth date.
#[tokio::test]
async fn one_member_id_with_5000_birth_dates_finds_nothing_and_is_audited() {
    let portal = Portal::start().await;
    let m = members(&portal, 1).await.remove(0);
    let mut csv = String::from("member_id,birth_date\n");
    let first = m.birth - Days::new(2500);
    for k in 0..5000 {
        csv.push_str(&format!("{},{}\n", m.id, first + Days::new(k)));
    }
    let mut office = portal.session("office").await;
    let started = Instant::now();
    let r = upload(&mut office, &csv).await;
    eprintln!(
        "5,000 guesses for one member ID answered {} in {:?}",
        r.status,
        started.elapsed()
    );
    let result = result_csv(&mut office, &r).await;
    assert_eq!(members_shown(&r), 0, "the birth date was found: {}", r.body);
    assert!(!r.body.contains(&m.last), "the member was named");
    assert!(
        !result.contains(&m.last) && !result.contains(",found,") && !result.contains(",inactive,"),
        "the result file disclosed the member: {result}"
    );
    assert!(
        text_of(&r.body, "lookup-limit")
            .or_else(|| text_of(&r.body, "file-error"))
            .is_some_and(|t| t.contains("birth date")),
        "the refusal says why: {}",
        r.body
    );
    // The attempt is on the trail, naming the member ID tried but never a birth date.
    let trail = audit_of(&portal).await;
    let about: Vec<_> = trail
        .iter()
        .filter(|e| e.action.starts_with("eligibility.") && e.record_id == m.id)
        .collect();
    assert!(!about.is_empty(), "no audit entry names the ID tried");
    let birth = m.birth.to_string();
    assert!(
        !trail
            .iter()
            .any(|e| e.outcome.contains(&birth) || e.record_id.contains(&birth)),
        "a birth date was written to the trail"
    );
    // The upload counted as guessing: the user's budget is spent, so the true pair is refused.
    let again = look_up(&mut office, &m.id, &birth).await;
    assert_eq!(again.status, 429, "{}", again.body);
    assert!(!again.body.contains(&m.last));
}

/// Many IDs (the sequential-ID sweep), each miss audited, the rest of the file refused; a real
/// pair past the limit is not answered either.
#[tokio::test]
async fn a_batch_sweep_of_member_ids_stops_at_the_budget_and_audits_each_miss() {
    let portal = Portal::start().await;
    let m = members(&portal, 1).await.remove(0);
    let mut csv = String::from("member_id,birth_date\n");
    for n in 0..1000 {
        csv.push_str(&format!("{},1980-01-01\n", unknown_id(n)));
    }
    csv.push_str(&format!("{},{}\n", m.id, m.birth));
    let mut office = portal.session("office").await;
    let r = upload(&mut office, &csv).await;
    assert_eq!(count(&r, "count-not-found"), USER_BUDGET, "{}", r.body);
    assert_eq!(members_shown(&r), 0, "a member past the limit was answered");
    assert!(
        text_of(&r.body, "lookup-limit").is_some_and(|t| t.contains("not checked")),
        "the rest of the file is refused in words: {}",
        r.body
    );
    let result = result_csv(&mut office, &r).await;
    assert!(!result.contains(&m.last), "{result}");
    assert_eq!(misses_audited(&portal).await, USER_BUDGET);
}

#[tokio::test]
async fn interactive_lookups_are_throttled_and_the_limit_is_no_oracle() {
    let portal = Portal::start().await;
    let m = members(&portal, 1).await.remove(0);
    let mut office = portal.session("office").await;
    for n in 0..USER_BUDGET {
        let r = look_up(&mut office, &unknown_id(n), "01/01/1980").await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("No member matches"), "miss {n}");
    }
    // Over the budget: a clear message, and the true pair is refused like any other.
    let r = look_up(&mut office, &m.id, &m.birth.to_string()).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(!r.body.contains(&m.last), "answered past the limit");
    let says = text_of(&r.body, "lookup-limit").unwrap_or_default();
    assert!(says.contains("not found"), "{says}");
    assert_eq!(misses_audited(&portal).await, USER_BUDGET);
}

/// A 270 for `member` (and `dob`) from a provider of the partner's office.
async fn core_270(portal: &Portal, member: &str, dob: &str) -> String {
    let tin = seed::demo_office(&*portal.store).await.unwrap().tin;
    let npi = portal.store.providers_of_tins(&[tin], 1).await.unwrap()[0].npi;
    let today = Utc::now().date_naive().format("%Y%m%d").to_string();
    let x12 = EligibilityRequest {
        payer_name: "ORANGE COAST HEALTH PLAN".into(),
        payer_id: "OCHP1".into(),
        provider_name: "DEMO OFFICE".into(),
        provider_npi: npi.as_str().into(),
        subscriber: Person {
            member_id: member.into(),
            dob: dob.into(),
            ..Person::default()
        },
        trace: "TRACE1".into(),
        date_of_service: today.clone(),
        service_types: vec!["30".into()],
    }
    .to_x12(&Envelope {
        sender: "BILLER1".into(),
        receiver: "OCHP1".into(),
        control: 7,
        date: today,
        time: "1200".into(),
        usage: 'P',
    });
    let (ct, body) = edi::caqh::request_multipart(&[
        (
            "PayloadType",
            edi::caqh::payload::ELIGIBILITY_REQUEST.as_bytes(),
        ),
        ("ProcessingMode", b"RealTime"),
        ("PayloadID", b"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
        ("TimeStamp", b"2026-12-07T10:00:00Z"),
        ("UserName", b"edi"),
        ("Password", PASSWORD.as_bytes()),
        ("SenderID", b"BILLER1"),
        ("ReceiverID", b"OCHP1"),
        ("CORERuleVersion", b"2.2.0"),
        ("Payload", x12.as_bytes()),
    ]);
    let mut c = portal.stranger();
    let r = c
        .send("POST", "/core/realtime", &[("content-type", &ct)], &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn core_270s_are_throttled_with_an_aaa_and_audited() {
    let portal = Portal::start().await;
    let m = members(&portal, 1).await.remove(0);
    let dob = m.birth.format("%Y%m%d").to_string();
    for n in 0..USER_BUDGET {
        let a = core_270(&portal, &unknown_id(n), "19800101").await;
        assert!(a.contains("AAA*N**75*C"), "miss {n}: {a}");
    }
    let a = core_270(&portal, &m.id, &dob).await;
    assert!(a.contains("AAA*N**04*N"), "past the budget: {a}");
    assert!(!a.contains("EB*"), "coverage answered past the limit: {a}");
    assert!(!a.to_uppercase().contains(&m.last.to_uppercase()), "{a}");
    assert_eq!(misses_audited(&portal).await, USER_BUDGET);
}

/// Eight uploads at once from one user: the budget is claimed atomically, so together they
/// answer no more misses than one would.
#[tokio::test]
async fn parallel_uploads_cannot_overshoot_the_budget() {
    let portal = Portal::start().await;
    let office = portal.session("office").await;
    let mut tasks = Vec::new();
    for k in 0..8 {
        let mut c = office.clone();
        let mut csv = String::from("member_id,birth_date\n");
        for n in 0..40 {
            csv.push_str(&format!("{},1980-01-01\n", unknown_id(k * 100 + n)));
        }
        tasks.push(tokio::spawn(async move { upload(&mut c, &csv).await }));
    }
    let mut answered = 0;
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.status == 200 || r.status == 429, "{}", r.body);
        answered += count(&r, "count-not-found");
    }
    assert_eq!(
        answered, USER_BUDGET,
        "misses answered across parallel uploads"
    );
    assert_eq!(misses_audited(&portal).await, USER_BUDGET);
}

#[tokio::test]
async fn another_user_or_office_keeps_its_own_budget() {
    let portal = Portal::start().await;
    let m = members(&portal, 1).await.remove(0);
    let mut office = portal.session("office").await;
    for n in 0..USER_BUDGET {
        look_up(&mut office, &unknown_id(n), "01/01/1980").await;
    }
    let refused = look_up(&mut office, &m.id, &m.birth.to_string()).await;
    assert_eq!(refused.status, 429, "the first user is over the budget");
    // Another office, and another user of the same office (its office budget is larger).
    for who in ["office2", "claims"] {
        let mut c = portal.session(who).await;
        let r = look_up(&mut c, &m.id, &m.birth.to_string()).await;
        assert_eq!(r.status, 200, "{who}");
        assert!(r.body.contains(&m.last), "{who} got the member");
    }
}

#[tokio::test]
async fn plan_administrators_are_alerted_once_and_see_the_office_flagged() {
    const { assert!(USER_MISSES >= ALERT_MIN_MISSES && USER_MISSES < OFFICE_MISSES) };
    let portal = Portal::start().await;
    let mut office = portal.session("office").await;
    for n in 0..USER_BUDGET {
        look_up(&mut office, &unknown_id(n), "01/01/1980").await;
    }
    // More misses from the same office within the day: still one alert.
    let mut claims = portal.session("claims").await;
    for n in 0..10 {
        look_up(&mut claims, &unknown_id(500 + n), "01/01/1980").await;
    }
    let alerts: Vec<_> = portal
        .store
        .outbox(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.to_lowercase().contains("eligibility"))
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].to_addr, "planadmin@demo.invalid");
    let office_name = seed::demo_office(&*portal.store).await.unwrap().name;
    assert!(alerts[0].body.contains(&office_name), "{}", alerts[0].body);
    assert!(
        audit_of(&portal)
            .await
            .iter()
            .any(|e| e.action == "eligibility.alert")
    );

    let mut admin = portal.session("planadmin").await;
    let page = admin.get("/plan/audit/eligibility").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let row = page
        .body
        .split("<tr")
        .find(|r| r.contains(&office_name))
        .unwrap_or_else(|| panic!("the office is not listed: {}", page.body));
    assert!(row.contains("Abnormal"), "not flagged: {row}");
    let mut staff = portal.session("office").await;
    let refused = staff.get("/plan/audit/eligibility").await;
    assert_eq!(refused.status, 403, "an office reads the plan's audit page");
}
