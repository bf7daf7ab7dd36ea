//! Referrals and prior authorizations through the pages: submission with field errors that
//! keep what was typed, auto-approval, the reviewer's queue and decisions (a denial without a
//! specific reason refused), pends answered by the office, scoping to the office's TINs, audit
//! of reads, notifications and the outbox, and the public metrics against a hand-computed year.

use crate::common::{App, Resp, Session, text_of};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use domain::access::Scope;
use domain::auth::{AuthKind, AuthRequest, AuthStatus, DenialReason, RequestedService, Urgency};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, MemberId, Tin};

struct Fixture {
    member: MemberId,
    birth: String,
    requesting: String,
    servicing: String,
}

async fn office_tin(app: &App, user: &str) -> Tin {
    let u = app.user(user).await;
    app.store.org(u.org_id).await.unwrap().unwrap().tin.unwrap()
}

/// A Medi-Cal member covered for the next 90 days, a provider of the office, another provider.
async fn fixture(app: &App) -> Fixture {
    let today = Utc::now().date_naive();
    let mut found = None;
    for id in app.store.member_ids(None, 500).await.unwrap() {
        if let Some(r) = app.store.member(&id).await.unwrap()
            && r.spans.iter().any(|s| {
                s.line_of_business == LineOfBusiness::MediCal
                    && s.covers(today)
                    && s.covers(today + chrono::Days::new(90))
            })
        {
            found = Some((id, r.member.birth_date));
            break;
        }
    }
    let (member, birth) = found.expect("a covered Medi-Cal member");
    let tin = office_tin(app, "office").await;
    let requesting = app.store.providers_of_tins(&[tin], 1).await.unwrap()[0]
        .npi
        .to_string();
    let servicing = app
        .store
        .search_providers("", 10)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.tin != tin)
        .unwrap()
        .npi
        .to_string();
    Fixture {
        member,
        birth: birth.to_string(),
        requesting,
        servicing,
    }
}

async fn multipart(
    app: &App,
    path: &str,
    s: &Session,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Resp {
    let mut body = Vec::new();
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("_csrf", &s.csrf));
    for (k, v) in all {
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(format!("--XyZ\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .header(header::HOST, "portal.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, s.cookie())
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

fn form<'a>(
    f: &'a Fixture,
    code: &'a str,
    units: &'a str,
    urgency: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "prior_auth"),
        ("member_id", f.member.as_str()),
        ("birth_date", &f.birth),
        ("requesting_npi", &f.requesting),
        ("servicing_npi", &f.servicing),
        ("diagnoses", "M54.5, M51.26"),
        ("code_1", code),
        ("units_1", units),
        ("from_date", "TODAY"),
        ("to_date", "LATER"),
        ("place_of_service", "11"),
        ("urgency", urgency),
        ("urgency_reason", ""),
        (
            "clinical_notes",
            "Eight weeks of low back pain despite therapy.",
        ),
        ("action", "submit"),
    ]
}

fn dated(fields: Vec<(&str, &str)>, today: &str, later: &str) -> Vec<(String, String)> {
    fields
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                "TODAY" => today.to_string(),
                "LATER" => later.to_string(),
                v => v.to_string(),
            };
            (k.to_string(), v)
        })
        .collect()
}

async fn submit(
    app: &App,
    s: &Session,
    fields: Vec<(String, String)>,
    files: &[(&str, &[u8])],
) -> Resp {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    multipart(app, "/authorizations", s, &refs, files).await
}

fn dates() -> (String, String) {
    let today = Utc::now().date_naive();
    (
        today.to_string(),
        (today + chrono::Days::new(30)).to_string(),
    )
}

#[tokio::test]
async fn a_bad_form_says_what_and_where_and_keeps_what_was_typed() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let (today, _) = dates();
    let mut fields = dated(form(&f, "9711X", "4", "expedited"), &today, "2020-01-01");
    for (k, v) in fields.iter_mut() {
        if k == "birth_date" {
            *v = "1900-01-01".into();
        }
        if k == "diagnoses" {
            *v = "not-a-code".into();
        }
    }
    let r = submit(&app, &office, fields, &[("scan.pdf", b"<html>not a pdf")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for id in [
        "member_id-error",
        "services-error",
        "to_date-error",
        "urgency_reason-error",
        "diagnoses-error",
    ] {
        assert!(
            text_of(&r.body, id).is_some_and(|t| !t.is_empty()),
            "{id} shown next to its field"
        );
    }
    assert!(r.body.contains("value=\"9711X\""), "the code typed is kept");
    assert!(
        r.body.contains("Eight weeks of low back pain"),
        "the notes are kept"
    );
    assert!(
        app.store
            .auths_in_scope(&Scope::Tins(vec![office_tin(&app, "office").await]), 500)
            .await
            .unwrap()
            .iter()
            .all(|a| a.services != "9711X ×4")
    );
}

#[tokio::test]
async fn submit_review_deny_with_reason_and_status_for_the_office() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let (today, later) = dates();
    let pdf = b"%PDF-1.7\n1 0 obj\n".to_vec();
    let r = submit(
        &app,
        &office,
        dated(form(&f, "73721", "1", "standard"), &today, &later),
        &[("mri order.pdf", &pdf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let number = r
        .location()
        .trim_start_matches("/authorizations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = app.get(r.location(), Some(&office)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Medi-Cal standard: 5 working days")
            || page.body.contains("7 calendar days"),
        "the rule in words"
    );
    assert!(
        text_of(&page.body, "coverage").is_some_and(|c| c.starts_with("Medi-Cal · network")),
        "coverage on the requested dates"
    );
    let before = app.audit_actions().await;
    assert!(
        before.contains(&"authorization.read".to_string()),
        "the view was audited"
    );

    // The reviewer sees it in the queue and takes it.
    let reviewer = app.session("reviewer").await;
    let q = app.get("/plan/authorizations", Some(&reviewer)).await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.body.contains(&number), "in the queue");
    let overdue_pos = q.body.find("Overdue");
    assert!(overdue_pos.is_some(), "the demo's overdue case is flagged");
    let base = format!("/plan/authorizations/{number}");
    let r = app
        .post(&format!("{base}/take"), Some(&reviewer), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // A denial without a specific reason is refused and changes nothing.
    let r = app
        .post(
            &format!("{base}/decide"),
            Some(&reviewer),
            &[
                ("decision", "deny"),
                ("reason_code", ""),
                ("reason_text", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&r.body, "reason_code-error").is_some()
            && text_of(&r.body, "reason_text-error").is_some()
    );
    let r = app
        .post(
            &format!("{base}/decide"),
            Some(&reviewer),
            &[
                ("decision", "deny"),
                ("reason_code", "MN01"),
                ("reason_text", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = app
        .store
        .auth(&AuthNumber::parse(&number).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status, AuthStatus::InReview, "nothing decided");

    let r = app
        .post(
            &format!("{base}/decide"),
            Some(&reviewer),
            &[
                ("decision", "deny"),
                ("reason_code", "MN01"),
                (
                    "reason_text",
                    "No record of six weeks of conservative treatment.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app
        .get(&format!("/authorizations/{number}"), Some(&office))
        .await;
    assert_eq!(
        text_of(&page.body, "auth-status").as_deref(),
        Some("Denied")
    );
    assert!(
        page.body
            .contains("No record of six weeks of conservative treatment.")
    );
    assert!(
        page.body.contains("mri_order.pdf"),
        "the attachment is listed"
    );

    // The office was told, without member data; the portal shows a notification.
    let outbox = app.store.outbox(50).await.unwrap();
    let m = outbox
        .iter()
        .find(|m| m.subject.contains(&number) && m.subject.contains("decided"))
        .expect("a message");
    let member = app.store.member(&f.member).await.unwrap().unwrap().member;
    assert!(
        !m.body.contains(&member.last_name) && !m.body.contains(f.member.as_str()),
        "no PHI in the message"
    );
    let list = app.get("/authorizations", Some(&office)).await;
    assert!(
        list.body.contains("new</span>"),
        "an unseen notification badge"
    );
    let n = app.get("/notifications", Some(&office)).await;
    assert!(n.body.contains(&number));
    let list = app.get("/authorizations", Some(&office)).await;
    assert!(
        !list.body.contains("id=\"unseen\""),
        "seen once the notifications were opened"
    );

    // The appeal overturns the denial.
    let r = app
        .post(
            &format!("{base}/appeal"),
            Some(&reviewer),
            &[("outcome", "overturned")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/authorizations/{number}"), Some(&office))
        .await;
    assert_eq!(
        text_of(&page.body, "auth-status").as_deref(),
        Some("Approved on appeal")
    );

    // Attachments are served as what they are, to the office and the reviewer, never to another office.
    let id = app
        .store
        .auth_attachments(&AuthNumber::parse(&number).unwrap())
        .await
        .unwrap()[0]
        .id;
    let file = app
        .get(
            &format!("/authorizations/{number}/attachments/{id}"),
            Some(&office),
        )
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers[header::CONTENT_TYPE], "application/pdf");
    let office2 = app.session("office2").await;
    let other = app
        .get(&format!("/authorizations/{number}"), Some(&office2))
        .await;
    let missing = app.get("/authorizations/A9999999999", Some(&office2)).await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "another office's request"
    );
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let strip = |s: &str| {
        s.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    assert_eq!(
        strip(&other.body),
        strip(&missing.body),
        "looks exactly like a missing one"
    );
    let other_file = app
        .get(
            &format!("/authorizations/{number}/attachments/{id}"),
            Some(&office2),
        )
        .await;
    assert_eq!(other_file.status, StatusCode::NOT_FOUND);
    assert!(
        !app.get("/authorizations", Some(&office2))
            .await
            .body
            .contains(&number),
        "the list is scoped"
    );
}

#[tokio::test]
async fn the_form_answers_is_authorization_required_and_finds_providers_keeping_what_was_typed() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let (today, later) = dates();
    let mut fields = dated(form(&f, "73721", "1", "standard"), &today, &later);
    for (k, v) in fields.iter_mut() {
        if k == "action" {
            *v = "check".into();
        }
    }
    let before = app
        .store
        .auths_in_scope(&Scope::Tins(vec![office_tin(&app, "office").await]), 500)
        .await
        .unwrap()
        .len();
    let r = submit(&app, &office, fields.clone(), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("id=\"requirements\"")
            && r.body
                .contains("<li class=\"required\"><strong>73721</strong>: Required")
    );
    for (k, v) in fields.iter_mut() {
        match k.as_str() {
            "action" => *v = "search".into(),
            "servicing_q" => *v = "zz".into(),
            _ => {}
        }
    }
    fields.push(("servicing_q".into(), "zz".into()));
    let r = submit(&app, &office, fields.clone(), &[]).await;
    assert!(
        text_of(&r.body, "servicing_q-error").is_some(),
        "three letters at least"
    );
    let name = app
        .store
        .provider(&domain::Npi::parse(&f.servicing).unwrap())
        .await
        .unwrap()
        .unwrap()
        .name;
    let word: String = name
        .split([' ', ','])
        .find(|w| w.len() >= 3)
        .unwrap()
        .to_string();
    fields.retain(|(k, _)| k != "servicing_q");
    fields.push(("servicing_q".into(), word));
    let r = submit(&app, &office, fields, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("id=\"provider-results\"") && r.body.contains(&f.servicing),
        "the provider is found"
    );
    assert!(
        r.body.contains("Eight weeks of low back pain"),
        "what was typed is kept"
    );
    let after = app
        .store
        .auths_in_scope(&Scope::Tins(vec![office_tin(&app, "office").await]), 500)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing was submitted");
}

#[tokio::test]
async fn enter_in_the_provider_search_searches_and_the_requesting_provider_is_chosen() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let scope = Scope::Tins(vec![office_tin(&app, "office").await]);
    let before = app.store.auths_in_scope(&scope, 500).await.unwrap().len();
    let (today, later) = dates();
    // The form as the browser sends it after Enter in the search box: the default button's
    // action, a search typed, no servicing provider chosen yet.
    let name = app
        .store
        .provider(&domain::Npi::parse(&f.servicing).unwrap())
        .await
        .unwrap()
        .unwrap()
        .name;
    let word = name.split([' ', ',']).find(|w| w.len() >= 3).unwrap();
    let mut fields = dated(form(&f, "73721", "1", "standard"), &today, &later);
    for (k, v) in fields.iter_mut() {
        if k == "servicing_npi" {
            v.clear();
        }
    }
    fields.push(("servicing_q".into(), word.into()));
    let r = submit(&app, &office, fields, &[]).await;
    assert!(
        r.body.contains("id=\"provider-results\"") && r.body.contains(&f.servicing),
        "the search ran: {}",
        r.body
    );
    assert!(
        text_of(&r.body, "servicing_npi-error")
            .is_some_and(|e| e.contains("Choose the servicing provider")),
        "and asks for a choice"
    );
    assert!(
        r.body.contains("Eight weeks of low back pain"),
        "what was typed is kept"
    );
    // No requesting provider chosen: said next to the field, nothing filed.
    let mut fields = dated(form(&f, "73721", "1", "standard"), &today, &later);
    for (k, v) in fields.iter_mut() {
        if k == "requesting_npi" {
            v.clear();
        }
    }
    let r = submit(&app, &office, fields, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&r.body, "requesting_npi-error")
            .is_some_and(|e| e.contains("Choose the requesting provider")),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<option value=\"\" selected>Choose the requesting provider</option>"),
        "no provider is preselected for an office with several"
    );
    let after = app.store.auths_in_scope(&scope, 500).await.unwrap().len();
    assert_eq!(before, after, "nothing was submitted");
}

#[tokio::test]
async fn auto_approval_decides_at_once_and_says_so() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let (today, later) = dates();
    let r = submit(
        &app,
        &office,
        dated(form(&f, "97110", "6", "standard"), &today, &later),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(r.location(), Some(&office)).await;
    assert_eq!(
        text_of(&page.body, "auth-status").as_deref(),
        Some("Approved")
    );
    assert!(
        text_of(&page.body, "auto-rule").is_some_and(|t| t.contains("Physical therapy starter"))
    );
    assert!(page.body.contains("Decided automatically"));
    assert!(
        !page.body.contains("Withdraw request"),
        "a decided request cannot be withdrawn"
    );
}

#[tokio::test]
async fn the_office_withdraws_an_open_request() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let (today, later) = dates();
    let r = submit(
        &app,
        &office,
        dated(form(&f, "73721", "1", "standard"), &today, &later),
        &[],
    )
    .await;
    let number = r
        .location()
        .trim_start_matches("/authorizations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let office2 = app.session("office2").await;
    let r = app
        .post(
            &format!("/authorizations/{number}/withdraw"),
            Some(&office2),
            &[("reason", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not another office's");
    let r = app
        .post(
            &format!("/authorizations/{number}/withdraw"),
            Some(&office),
            &[("reason", "Surgery cancelled.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/authorizations/{number}"), Some(&office))
        .await;
    assert_eq!(
        text_of(&page.body, "auth-status").as_deref(),
        Some("Withdrawn")
    );
    assert!(page.body.contains("Surgery cancelled."));
    let reviewer = app.session("reviewer").await;
    assert!(
        !app.get("/plan/authorizations", Some(&reviewer))
            .await
            .body
            .contains(&number),
        "out of the queue"
    );
    let r = app
        .post(
            &format!("/authorizations/{number}/withdraw"),
            Some(&office),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "only once");
}

#[tokio::test]
async fn a_pend_is_answered_by_the_office_and_restarts_the_medi_cal_clock() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let office = app.session("office").await;
    let (today, later) = dates();
    let r = submit(
        &app,
        &office,
        dated(form(&f, "70553", "1", "standard"), &today, &later),
        &[],
    )
    .await;
    let number = r
        .location()
        .trim_start_matches("/authorizations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let reviewer = app.session("reviewer").await;
    let r = app
        .post(
            &format!("/plan/authorizations/{number}/pend"),
            Some(&reviewer),
            &[("question", "")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a pend says what is needed"
    );
    let r = app
        .post(
            &format!("/plan/authorizations/{number}/pend"),
            Some(&reviewer),
            &[("question", "Send the neurology consult.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/authorizations/{number}"), Some(&office))
        .await;
    assert!(page.body.contains("extended by up to 14 calendar days"));
    assert!(page.body.contains("Send the neurology consult."));
    let r = multipart(
        &app,
        &format!("/authorizations/{number}/information"),
        &office,
        &[("information", "")],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.body, "information-error").is_some());
    let r = multipart(
        &app,
        &format!("/authorizations/{number}/information"),
        &office,
        &[("information", "Consult attached.")],
        &[(
            "consult.png",
            &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0],
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app
        .get(&format!("/authorizations/{number}"), Some(&office))
        .await;
    assert_eq!(
        text_of(&page.body, "auth-status").as_deref(),
        Some("In review")
    );
    assert!(
        page.body
            .contains("5 working days from receipt of the requested information")
            || page.body.contains("extended by up to 14")
    );
}

fn decided(
    n: u64,
    urgency: Urgency,
    status: AuthStatus,
    hours: i64,
    member: &MemberId,
    npi: domain::Npi,
) -> AuthRequest {
    let received = Utc.with_ymd_and_hms(2020, 5, 5, 16, 0, 0).unwrap();
    AuthRequest {
        number: AuthNumber::from_sequence(9_000_000_000 + n),
        kind: AuthKind::PriorAuthorization,
        urgency,
        member: member.clone(),
        line_of_business: LineOfBusiness::MediCal,
        requesting_npi: npi,
        servicing_npi: npi,
        diagnoses: vec!["M545".into()],
        services: vec![RequestedService::new("73721", 1)],
        place_of_service: "11".into(),
        from_date: "2020-05-10".parse().unwrap(),
        to_date: "2020-06-10".parse().unwrap(),
        received_at: received,
        status,
        decided_at: Some(received + Duration::hours(hours)),
        denial_reason: (status == AuthStatus::Denied).then(|| DenialReason {
            code: "MN01".into(),
            text: "x".into(),
        }),
        urgency_reason: String::new(),
        clinical_notes: String::new(),
        pended_at: None,
        info_received_at: None,
        reviewer: None,
        auto_rule: None,
        appeal: None,
    }
}

// 2020: a year the demo plan's generated history (the last few years) does not reach.
#[tokio::test]
async fn the_metrics_page_matches_a_hand_computed_year() {
    let app = App::new().await;
    let f = fixture(&app).await;
    let npi = domain::Npi::parse(&f.requesting).unwrap();
    use AuthStatus::*;
    use Urgency::*;
    let mut v = vec![
        decided(1, Standard, Approved, 24, &f.member, npi),
        decided(2, Standard, PartiallyApproved, 48, &f.member, npi),
        decided(3, Standard, Denied, 72, &f.member, npi),
        decided(4, Standard, Approved, 120, &f.member, npi),
        decided(5, Expedited, Approved, 10, &f.member, npi),
        decided(6, Expedited, Denied, 30, &f.member, npi),
    ];
    v[2].appeal = Some(domain::auth::Appeal {
        decided_at: Utc.with_ymd_and_hms(2020, 6, 1, 0, 0, 0).unwrap(),
        overturned: true,
    });
    v[3].pended_at = Some(v[3].received_at + Duration::hours(12));
    app.store.insert_auths(&v).await.unwrap();
    // By hand: standard 4 decisions, 3 approved = 75.0%, 1 denied = 25.0%, 1 approved after
    // appeal = 25.0%, 1 approved after extension = 25.0%; times 24, 48, 72, 120 h: mean 66 h
    // (2.8 days), median 60 h (2.5 days). Expedited: 50.0% / 50.0%, mean and median 20 h.
    let page = app
        .get("/prior-authorization/metrics?year=2020", None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let row = |label: &str| {
        let i = page
            .body
            .find(&format!("<th scope=\"row\">{label}</th>"))
            .unwrap_or_else(|| panic!("{label}"));
        let rest = &page.body[i..];
        let end = rest.find("</tr>").unwrap();
        rest[..end].to_string()
    };
    assert!(row("Determinations").contains(">4<") && row("Determinations").contains(">2<"));
    assert!(row("Approved").contains("75.0%") && row("Approved").contains("50.0%"));
    assert!(row("Denied").contains("25.0%"));
    assert!(
        row("Approved after appeal").contains("25.0%")
            && row("Approved after appeal").contains("0.0%")
    );
    assert!(row("Approved after an extended review").contains("25.0%"));
    assert!(
        row("Average decision time").contains("2.8 days (66.0 hours)")
            && row("Average decision time").contains("20.0 hours")
    );
    assert!(row("Median decision time").contains("2.5 days (60.0 hours)"));
    assert!(
        page.body.contains("<svg") && page.body.contains("1–3 days: 2 standard, 1 expedited"),
        "chart with its text"
    );
    assert!(
        page.body.contains("70010–76499"),
        "the list of services needing prior authorization"
    );
    let csv = app
        .get("/prior-authorization/metrics.csv?year=2020", None)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.body.contains("2020,Approved,75.0%,50.0%"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("2020,Median decision time,2.5 days (60.0 hours),20.0 hours")
    );
    let bad = app.get("/prior-authorization/metrics?year=abc", None).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn is_authorization_required_answers_from_the_rules() {
    let app = App::new().await;
    let r = app
        .get(
            "/prior-authorization/required?code=73721&lob=medi_cal",
            None,
        )
        .await;
    assert!(text_of(&r.body, "answer").is_some());
    assert!(r.body.contains("Yes: authorization is required"));
    let r = app
        .get("/prior-authorization/required?code=99213", None)
        .await;
    assert!(r.body.contains("Not required"));
    let r = app.get("/prior-authorization/required?code=12", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.body, "code-error").is_some());
    // The rules page: a reviewer adds one and the lookup follows it.
    let reviewer = app.session("reviewer").await;
    let r = app
        .post(
            "/plan/auth-rules",
            Some(&reviewer),
            &[
                ("codes", "99213"),
                ("required", "yes"),
                ("description", "Office visit"),
                ("lob", "pace"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .get("/prior-authorization/required?code=99213&lob=pace", None)
        .await;
    assert!(r.body.contains("Yes: authorization is required for PACE"));
    let r = app
        .post(
            "/plan/auth-rules",
            Some(&reviewer),
            &[("codes", "9"), ("required", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&r.body, "codes-error").is_some() && text_of(&r.body, "required-error").is_some()
    );
}
