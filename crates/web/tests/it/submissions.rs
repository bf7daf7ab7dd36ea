//! The claim submission page: an office with claims access uploads an 837P, reads how each
//! claim came out and what the 999 found, downloads the acknowledgements; the same file again
//! is recognised; another organisation's submission answers 404; bad uploads say why.

use crate::common::{App, Resp, Session};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use domain::claim::ClaimForm;

const BOUNDARY: &str = "SubmitBoundary7MA4YWxk";

fn multipart(csrf: &str, file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    let (name, bytes) = file.unwrap_or(("", b""));
    b.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes(),
    );
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn upload(app: &App, s: &Session, file: Option<(&str, &[u8])>) -> Resp {
    let body = multipart(&s.csrf, file);
    let req = Request::post("/submissions")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::COOKIE, s.cookie())
        .header("sec-fetch-site", "same-origin")
        .header(header::HOST, "portal.test")
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn an_837p(app: &App, claims: usize, control: u32) -> String {
    let office = seed::demo_office(&*app.store).await.unwrap();
    let billing = edi::samples::Billing {
        name: "DEMO OFFICE".into(),
        npi: office.npi,
        tin: office.tin,
    };
    let day = Utc::now().date_naive() - Duration::days(1);
    let mut list =
        edi::samples::for_plan(&*app.store, ClaimForm::Professional, &billing, claims, day)
            .await
            .unwrap();
    list[0].subscriber.member_id = "M999999999".into();
    let env = x12::model::Envelope {
        sender: "DEMOOFFICE".into(),
        receiver: "OCHP".into(),
        control,
        date: day.format("%Y%m%d").to_string(),
        time: "0900".into(),
        usage: 'P',
    };
    edi::samples::write_837(&list, &env, 100)
}

#[tokio::test]
async fn an_office_uploads_an_837p_and_reads_the_outcome() {
    let app = App::new().await;
    let s = app.session("claims").await;
    let page = app.get("/submissions", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"no-submissions\""));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    let file = an_837p(&app, 4, 77).await;
    let before = app.store.counts().await.unwrap().claims;
    let r = upload(&app, &s, Some(("april batch.837", file.as_bytes()))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let at = r.location().to_string();
    assert!(
        at.starts_with("/submissions/") && at.ends_with("?sent=1"),
        "{at}"
    );
    assert_eq!(app.store.counts().await.unwrap().claims, before + 3);

    let detail = app.get(&at, Some(&s)).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("id=\"sent-notice\""));
    let table = &detail.body[detail.body.find("id=\"submission-claims\"").unwrap()..];
    assert_eq!(table.matches(">Accepted</span>").count(), 3);
    assert_eq!(table.matches(">Rejected</span>").count(), 1);
    assert!(
        detail
            .body
            .contains("M999999999 (2010BA NM109) is not one of the plan")
    );
    assert!(detail.body.contains("A3:33"));
    assert!(
        detail.body.contains("href=\"/claims/C"),
        "claims users can open the claims"
    );
    assert_eq!(
        app.audit_actions().await.last().map(String::as_str),
        Some("interchange.read"),
        "the outcome names members: recorded before it is shown"
    );

    let id = at
        .trim_start_matches("/submissions/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let ack = app.get(&format!("/submissions/{id}/999"), Some(&s)).await;
    assert_eq!(ack.status, StatusCode::OK);
    assert!(ack.body.starts_with("ISA*") && ack.body.contains("AK9*A*1*1*1"));
    assert_eq!(
        ack.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"april_batch.837.999\""
    );
    let ca = app.get(&format!("/submissions/{id}/277ca"), Some(&s)).await;
    assert_eq!(ca.status, StatusCode::OK);
    assert_eq!(ca.body.matches("STC*A2:20").count(), 3);
    assert_eq!(
        app.get(&format!("/submissions/{id}/835"), Some(&s))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let page = app.get("/submissions", Some(&s)).await;
    assert!(page.body.contains("april batch.837"), "in the history");
    assert!(
        page.body
            .contains(&format!("href=\"/submissions/{id}/277ca\""))
    );

    // The same file again: recognised, nothing doubled.
    let again = upload(&app, &s, Some(("april batch.837", file.as_bytes()))).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), format!("/submissions/{id}?duplicate=1"));
    assert_eq!(app.store.counts().await.unwrap().claims, before + 3);
    let dup = app.get(again.location(), Some(&s)).await;
    assert!(dup.body.contains("id=\"duplicate-notice\""));

    // Another organisation (the billing service) neither sees it in its history nor opens it.
    let edi = app.session("edi").await;
    let theirs = app.get("/submissions", Some(&edi)).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains("april batch.837"));
    for path in [
        format!("/submissions/{id}"),
        format!("/submissions/{id}/277ca"),
        "/submissions/not-a-number".to_string(),
    ] {
        assert_eq!(
            app.get(&path, Some(&edi)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_broken_file_shows_the_999_findings_in_words() {
    let app = App::new().await;
    let s = app.session("claims").await;
    let file = an_837p(&app, 2, 78)
        .await
        .replacen("SV1*HC:", "SV1*HC:***", 1);
    let r = upload(&app, &s, Some(("bad.837", file.as_bytes()))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let detail = app.get(r.location(), Some(&s)).await;
    assert!(
        detail.body.contains("id=\"rejected-notice\""),
        "{}",
        detail.body
    );
    assert!(detail.body.contains("What the 999 found"));
    assert!(detail.body.contains("SV1"), "names the segment");
}

#[tokio::test]
async fn bad_uploads_get_a_message_next_to_the_field() {
    let app = App::new().await;
    let s = app.session("edi").await;
    let r = upload(&app, &s, None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"file-error\""));
    assert!(r.body.contains("Choose the 837 file to send."));

    // A body declared larger than the route takes: a page that says so, nothing read.
    let req = Request::post("/submissions")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, 80 * 1024 * 1024)
        .header(header::COOKIE, s.cookie())
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(multipart(&s.csrf, None)))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("larger than the 50 MB"), "{}", r.body);

    // Other pages keep the portal's smaller limit.
    let req = Request::post("/account/password")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, 7 * 1024 * 1024)
        .header(header::COOKIE, s.cookie())
        .body(Body::from("a=b"))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}
