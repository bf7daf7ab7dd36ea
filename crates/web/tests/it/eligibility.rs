//! Eligibility lookup, batch eligibility and clinical alerts: happy paths, field errors, no
//! match, an unavailable database, audit entries written before anything is shown, and one
//! office never seeing another office's care-gap worklist.

use crate::common::{App, Resp, Session, text_of};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::NaiveDate;
use domain::access::Scope;
use domain::claim::{Claim, ClaimForm, ClaimLine, ClaimStatus};
use domain::member::{EligibilitySpan, Member, MemberContact, Sex};
use domain::plan::LineOfBusiness;
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use storage::NewMember;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The TIN of a demo user's organisation.
pub async fn tin_of(app: &App, username: &str) -> Tin {
    let user = app.user(username).await;
    app.store
        .org(user.org_id)
        .await
        .unwrap()
        .unwrap()
        .tin
        .unwrap()
}

/// A practitioner billing under the office's TIN (so a PCP of the office).
pub async fn office_npi(app: &App, username: &str) -> Npi {
    let tin = tin_of(app, username).await;
    let claims = app
        .store
        .claims_in_scope(&Scope::Tins(vec![tin]), 50)
        .await
        .unwrap();
    for c in claims {
        if let Some(p) = app.store.provider(&c.billing_npi).await.unwrap()
            && p.kind == domain::provider::ProviderKind::Practitioner
            && p.tin == tin
        {
            return p.npi;
        }
    }
    panic!("no practitioner of {username}'s office bills claims");
}

pub fn span(
    from: &str,
    to: Option<&str>,
    lob: LineOfBusiness,
    net: &str,
    pcp: Npi,
) -> EligibilitySpan {
    EligibilitySpan::new(d(from), to.map(d), lob, net.into(), Some(pcp)).unwrap()
}

pub fn new_member(
    id: &str,
    first: &str,
    last: &str,
    sex: Sex,
    birth: &str,
    spans: Vec<EligibilitySpan>,
) -> NewMember {
    NewMember {
        member: Member {
            id: MemberId::parse(id).unwrap(),
            first_name: first.into(),
            last_name: last.into(),
            birth_date: d(birth),
            sex,
        },
        contact: MemberContact {
            street: "77 Hidden Way".into(),
            city: "Tustin".into(),
            zip: "92780".into(),
            phone: "7145550177".into(),
        },
        spans,
    }
}

pub fn claim(
    number: u64,
    member: &str,
    billing: Npi,
    lines: &[(&str, &str)],
    dx: &[&str],
) -> Claim {
    Claim {
        number: ClaimNumber::from_sequence(number),
        form: ClaimForm::Professional,
        patient_account: format!("PA{number}"),
        member: MemberId::parse(member).unwrap(),
        billing_npi: billing,
        rendering_npi: Some(billing),
        diagnoses: dx.iter().map(|s| s.to_string()).collect(),
        place_of_service: "11".into(),
        received: d(lines[0].1),
        status: ClaimStatus::Paid,
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
                billed: Cents(5000),
                allowed: Cents(5000),
                paid: Cents(5000),
                adjustments: vec![],
            })
            .collect(),
        payment: None,
    }
}

/// A multipart form: text fields, then one file field.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----portal-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads a batch file as `session`.
pub async fn upload(app: &App, session: &Session, filename: &str, csv: &[u8]) -> Resp {
    let (ct, body) = multipart(&[("_csrf", &session.csrf)], Some(("file", filename, csv)));
    let req = Request::post("/eligibility/batch")
        .header(header::CONTENT_TYPE, ct)
        .header(header::HOST, "portal.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, session.cookie())
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

/// The download link on a batch summary page.
pub fn download_link(body: &str) -> String {
    let at = body.find("/eligibility/batch/").expect("a download link");
    body[at..].split('"').next().unwrap().to_string()
}

struct Fixture {
    npi: Npi,
}

const ACTIVE: &str = "M900000001";
const TERMED: &str = "M900000002";
const TWIN_A: &str = "M900000003";
const TWIN_B: &str = "M900000004";

async fn fixture(app: &App) -> Fixture {
    let npi = office_npi(app, "office").await;
    app.store
        .insert_members(&[
            new_member(
                ACTIVE,
                "Alma",
                "Quintanilla",
                Sex::Female,
                "1961-04-12",
                vec![
                    span(
                        "2023-01-01",
                        Some("2024-06-30"),
                        LineOfBusiness::MediCal,
                        "CCN",
                        npi,
                    ),
                    span("2024-08-01", None, LineOfBusiness::OneCare, "HHN", npi),
                ],
            ),
            new_member(
                TERMED,
                "Bruno",
                "Quintanilla",
                Sex::Male,
                "1975-09-09",
                vec![span(
                    "2024-01-01",
                    Some("2025-06-30"),
                    LineOfBusiness::MediCal,
                    "CCN",
                    npi,
                )],
            ),
            new_member(
                TWIN_A,
                "Iris",
                "Yellowhorse",
                Sex::Female,
                "2012-07-07",
                vec![span(
                    "2025-01-01",
                    None,
                    LineOfBusiness::MediCal,
                    "CCN",
                    npi,
                )],
            ),
            new_member(
                TWIN_B,
                "Ines",
                "Yellowhorse",
                Sex::Female,
                "2012-07-07",
                vec![span(
                    "2025-01-01",
                    None,
                    LineOfBusiness::MediCal,
                    "CCN",
                    npi,
                )],
            ),
        ])
        .await
        .unwrap();
    Fixture { npi }
}

async fn reads_of(app: &App, action: &str, id: &str) -> usize {
    app.store
        .audit_page(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.action == action && e.event.record_id == id)
        .count()
}

#[tokio::test]
async fn lookup_by_id_shows_spans_network_pcp_and_notices_and_is_audited() {
    let app = App::new().await;
    let fx = fixture(&app).await;
    let s = app.session("office").await;
    let form = app.get("/eligibility", Some(&s)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains(r#"<form method="post" action="/eligibility""#),
        "the criteria are PHI: the search is a POST form"
    );
    let r = app
        .post(
            "/eligibility",
            Some(&s),
            &[
                ("member_id", "m900000001"),
                ("birth_date", "04/12/1961"),
                ("date_of_service", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("Alma Quintanilla"));
    assert_eq!(text_of(b, "member-id").as_deref(), Some(ACTIVE));
    assert_eq!(
        text_of(b, "member-lob").as_deref(),
        Some("OneCare (HMO D-SNP)")
    );
    assert!(text_of(b, "eligibility-status").is_some());
    assert!(b.contains("Eligible on "), "active today");
    assert_eq!(
        text_of(b, "network-name").as_deref(),
        Some("Harbor Health Network")
    );
    assert!(
        text_of(b, "network-payer")
            .unwrap()
            .contains("Harbor Health Network pays claims")
    );
    assert!(
        b.contains("(714) 555-0110"),
        "the network's provider services line"
    );
    assert_eq!(text_of(b, "pcp-npi").as_deref(), Some(fx.npi.as_str()));
    let pcp = app.store.provider(&fx.npi).await.unwrap().unwrap();
    assert!(
        b.contains(&domain_phone(&pcp.location.phone)),
        "the PCP office's phone"
    );
    // Both spans, with their state on the date of service.
    let spans = &b[b.find("id=\"spans\"").unwrap()..];
    assert!(
        spans.contains("08/01/2024")
            && spans.contains("Open-ended")
            && spans.contains("06/30/2024")
    );
    assert!(spans.contains("status-active") && spans.contains("status-termed"));
    // Notices: the delegated network pays; OneCare is a D-SNP.
    let notices = &b[b.find("id=\"plan-notices\"").unwrap()..];
    assert!(
        notices.contains("The health network pays this member")
            || notices.contains("The health network pays this member's claims")
    );
    assert!(notices.contains("Medicare is primary"));
    // Never the member's address or phone.
    assert!(!b.contains("Hidden Way") && !b.contains("7145550177") && !b.contains("92780"));
    assert_eq!(reads_of(&app, "member.read", ACTIVE).await, 1, "audited");

    // An earlier date of service: the older span answers.
    let r = app
        .post(
            "/eligibility",
            Some(&s),
            &[
                ("member_id", ACTIVE),
                ("birth_date", "1961-04-12"),
                ("date_of_service", "2024-07-15"),
            ],
        )
        .await;
    assert!(
        r.body
            .contains("Not eligible on 07/15/2024: coverage ended 06/30/2024"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Not covered on the date of service"),
        "the termed notice"
    );
    assert!(
        r.body.contains("Coverage starts or changes later"),
        "a future span notice"
    );
}

fn domain_phone(p: &str) -> String {
    format!("({}) {}-{}", &p[..3], &p[3..6], &p[6..])
}

#[tokio::test]
async fn name_searches_find_one_or_list_several_to_pick_by_post() {
    let app = App::new().await;
    fixture(&app).await;
    let s = app.session("claims").await;
    let one = app
        .post(
            "/eligibility",
            Some(&s),
            &[
                ("last_name", "QUINTANILLA"),
                ("first_name", "br"),
                ("birth_date", "09/09/1975"),
            ],
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.contains("Bruno Quintanilla"));
    assert!(
        one.body.contains("coverage ended 06/30/2025"),
        "a termed member"
    );
    assert!(one.body.contains("Not covered on the date of service"));

    let several = app
        .post(
            "/eligibility",
            Some(&s),
            &[("last_name", "Yellowhorse"), ("birth_date", "2012-07-07")],
        )
        .await;
    assert_eq!(several.status, StatusCode::OK);
    assert!(
        several
            .body
            .contains("2 members have this name and birth date")
    );
    let table = &several.body[several.body.find("id=\"matches\"").unwrap()..];
    assert!(table.contains(TWIN_A) && table.contains(TWIN_B));
    assert!(
        table.contains(r#"<form method="post" action="/eligibility">"#),
        "the pick is a POST"
    );
    assert_eq!(
        reads_of(&app, "member.read", TWIN_A).await,
        1,
        "listed members are audited"
    );
    assert_eq!(reads_of(&app, "member.read", TWIN_B).await, 1);
    let pick = app
        .post(
            "/eligibility",
            Some(&s),
            &[
                ("member_id", TWIN_B),
                ("birth_date", "2012-07-07"),
                ("date_of_service", ""),
            ],
        )
        .await;
    assert!(pick.body.contains("Ines Yellowhorse"));
    assert_eq!(reads_of(&app, "member.read", TWIN_B).await, 2);
}

#[tokio::test]
async fn bad_input_is_named_next_to_its_field_and_no_match_says_so() {
    let app = App::new().await;
    fixture(&app).await;
    let s = app.session("officeadmin").await;
    let r = app
        .post(
            "/eligibility",
            Some(&s),
            &[
                ("member_id", "12"),
                ("birth_date", "13/45/1980"),
                ("date_of_service", "tomorrow"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&r.body, "member_id-error")
            .unwrap()
            .contains("Not a member ID")
    );
    assert!(
        text_of(&r.body, "birth_date-error")
            .unwrap()
            .contains("not a date we can read")
    );
    assert!(text_of(&r.body, "date_of_service-error").is_some());
    assert!(
        r.body.contains(r#"value="13/45/1980""#),
        "what was typed stays"
    );
    let future = app
        .post(
            "/eligibility",
            Some(&s),
            &[("member_id", ACTIVE), ("birth_date", "01/01/2999")],
        )
        .await;
    assert!(
        text_of(&future.body, "birth_date-error")
            .unwrap()
            .contains("in the future")
    );
    let nothing = app
        .post("/eligibility", Some(&s), &[("birth_date", "01/01/1980")])
        .await;
    assert!(
        text_of(&nothing.body, "member_id-error")
            .unwrap()
            .contains("or the member")
    );

    // The right ID with another birth date answers like an unknown ID, and nobody is audited.
    let wrong = app
        .post(
            "/eligibility",
            Some(&s),
            &[("member_id", ACTIVE), ("birth_date", "04/13/1961")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::OK);
    assert!(
        text_of(&wrong.body, "lookup-problem")
            .unwrap()
            .contains("No member matches")
    );
    assert!(!wrong.body.contains("Quintanilla"));
    let unknown = app
        .post(
            "/eligibility",
            Some(&s),
            &[("member_id", "M899999999"), ("birth_date", "04/12/1961")],
        )
        .await;
    assert_eq!(
        text_of(&wrong.body, "lookup-problem"),
        text_of(&unknown.body, "lookup-problem")
    );
    assert_eq!(reads_of(&app, "member.read", ACTIVE).await, 0);
}

#[tokio::test]
async fn an_unavailable_database_gets_a_clear_page() {
    let app = App::new().await;
    let s = app.session("office").await;
    app.store.close().await;
    let r = app
        .post(
            "/eligibility",
            Some(&s),
            &[("member_id", ACTIVE), ("birth_date", "04/12/1961")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("cannot reach its database"));
}

#[tokio::test]
async fn a_batch_answers_each_row_in_order_and_keeps_the_result_for_its_uploader() {
    let app = App::new().await;
    fixture(&app).await;
    let s = app.session("office").await;
    let csv = format!(
        "Member ID,DOB,Last Name,First Name,Date of Service\r\n\
         {ACTIVE},04/12/1961,,,\r\n\
         ,1975-09-09,Quintanilla,Bruno,\r\n\
         {ACTIVE},1961-04-12,,,2024-07-15\r\n\
         M899999999,01/01/1980,,,\r\n\
         12,31/31/1980,,,\r\n\
         ,2012-07-07,Yellowhorse,,\r\n\
         =HYPERLINK(\"http://evil.test\"),01/01/1980,,,\r\n"
    );
    let r = upload(&app, &s, "members.csv", csv.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(text_of(&r.body, "count-rows").as_deref(), Some("7"));
    assert_eq!(text_of(&r.body, "count-found").as_deref(), Some("1"));
    assert_eq!(text_of(&r.body, "count-inactive").as_deref(), Some("2"));
    assert_eq!(text_of(&r.body, "count-not-found").as_deref(), Some("1"));
    assert_eq!(text_of(&r.body, "count-errors").as_deref(), Some("3"));
    assert!(r.body.contains("2 members have this name and birth date"));
    assert_eq!(
        reads_of(&app, "member.batch_read", ACTIVE).await,
        1,
        "each member once"
    );
    assert_eq!(reads_of(&app, "member.batch_read", TERMED).await, 1);

    let link = download_link(&r.body);
    let csv = app.get(&link, Some(&s)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 7, "one row per input row");
    let results: Vec<&str> = rows.iter().map(|r| &r[6]).collect();
    assert_eq!(
        results,
        [
            "found",
            "inactive",
            "inactive",
            "not_found",
            "error",
            "error",
            "error"
        ]
    );
    assert_eq!(&rows[0][7], ACTIVE);
    assert_eq!(&rows[0][9], "OneCare (HMO D-SNP)");
    assert_eq!(&rows[0][10], "Harbor Health Network");
    assert_eq!(&rows[0][14], "2024-08-01");
    assert_eq!(&rows[1][7], TERMED, "found by name");
    assert_eq!(&rows[1][15], "2025-06-30");
    assert_eq!(
        &rows[2][14], "2023-01-01",
        "the span of that date of service"
    );
    assert!(
        rows[4][16].contains("Member ID:") && rows[4][16].contains("Birth date:"),
        "{}",
        &rows[4][16]
    );
    assert!(rows[6][1].starts_with("'="), "no formula: {}", &rows[6][1]);
    assert_eq!(
        reads_of(&app, "member.batch_download", ACTIVE).await,
        1,
        "the download is audited"
    );

    // Only the uploader may download it; a made-up id is the same 404.
    let other = app.session("office2").await;
    let theirs = app.get(&link, Some(&other)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let made_up = app
        .get(&format!("/eligibility/batch/{}", "a".repeat(64)), Some(&s))
        .await;
    assert_eq!(made_up.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_files_get_a_message_next_to_the_file_field() {
    let app = App::new().await;
    let s = app.session("office").await;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("scan.pdf", b"%PDF-1.7\n%binary".to_vec(), "not CSV"),
        (
            "members.csv",
            b"name,zip\nAna,92701\n".to_vec(),
            "Missing: member_id (or last_name), birth_date",
        ),
        (
            "big.csv",
            {
                let mut v = b"member_id,birth_date\n".to_vec();
                while v.len() <= 1024 * 1024 {
                    v.extend_from_slice(b"M000000001,1980-01-01\n");
                }
                v
            },
            "the largest accepted is 1,024 KB",
        ),
        (
            "many.csv",
            {
                let mut v = b"member_id,birth_date\n".to_vec();
                for i in 0..5001 {
                    v.extend_from_slice(format!("M{i:09},1980-01-01\n").as_bytes());
                }
                v
            },
            "more than 5,000 rows",
        ),
    ];
    for (name, bytes, says) in cases {
        let r = upload(&app, &s, name, &bytes).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let e = text_of(&r.body, "file-error").unwrap_or_default();
        assert!(e.contains(says), "{name}: {e}");
        assert!(r.body.contains(r#"aria-invalid="true""#));
    }
    // No file chosen.
    let (ct, body) = multipart(&[("_csrf", &s.csrf)], None);
    let req = Request::post("/eligibility/batch")
        .header(header::CONTENT_TYPE, ct)
        .header(header::HOST, "portal.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, s.cookie())
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert!(
        text_of(&r.body, "file-error")
            .unwrap()
            .contains("Choose a CSV file")
    );
}

#[tokio::test]
async fn alerts_list_the_offices_own_members_only_and_are_audited() {
    let app = App::new().await;
    let fx = fixture(&app).await;
    // Alma (woman in her sixties, PCP in the office) has no mammogram: an open gap.
    // A member of the other office with a distinctive name and the same gap.
    let other_npi = office_npi(&app, "office2").await;
    app.store
        .insert_members(&[new_member(
            "M900000009",
            "Zenobia",
            "Aaronsonother",
            Sex::Female,
            "1960-02-02",
            vec![span(
                "2024-01-01",
                None,
                LineOfBusiness::MediCal,
                "CCN",
                other_npi,
            )],
        )])
        .await
        .unwrap();
    // A diabetic member of ours with an HbA1c this year: closed; a well-care child without a visit.
    let this_year = domain::eligibility::california_today(chrono::Utc::now());
    let jan2 = this_year.to_string();
    app.store
        .insert_claims(&[claim(
            9_000_001,
            ACTIVE,
            fx.npi,
            &[("83036", &jan2)],
            &["E119"],
        )])
        .await
        .unwrap();

    let s = app.session("office").await;
    let r = app.get("/alerts", Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let worklist = &r.body[r.body.find("id=\"worklist\"").expect("a worklist")..];
    assert!(worklist.contains(ACTIVE), "our member with an open gap");
    assert!(worklist.contains("No mammogram since 10/01/"));
    assert!(
        !worklist.contains("M900000009") && !r.body.contains("Aaronsonother"),
        "not another office's member"
    );
    for m in domain::care_gaps::Measure::ALL {
        assert!(text_of(&r.body, &format!("open-{}", m.code())).is_some());
    }
    assert!(
        reads_of(&app, "care_gap.read", ACTIVE).await >= 1,
        "the worklist is audited"
    );
    assert!(!r.body.contains("E119"), "no diagnoses on the page");

    let only = app.get("/alerts?gap=breast_screening", Some(&s)).await;
    assert!(only.body.contains("No mammogram since"));
    assert!(
        !only.body.contains("No well-care visit"),
        "filtered to one gap"
    );
    let bad = app.get("/alerts?gap=everything", Some(&s)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&bad.body, "gap-error").is_some());

    let theirs = app
        .get("/alerts", Some(&app.session("office2").await))
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(
        theirs.body.contains("M900000009"),
        "the other office sees its own member"
    );
    assert!(!theirs.body.contains(ACTIVE), "and not ours");

    // The count on the eligibility page.
    let e = app
        .post(
            "/eligibility",
            Some(&s),
            &[("member_id", ACTIVE), ("birth_date", "1961-04-12")],
        )
        .await;
    assert!(text_of(&e.body, "care-gap-alert").is_some(), "{}", e.body);
}
