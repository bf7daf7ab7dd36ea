//! Claim status search and the remittance viewer (adjudication): PHI searches by POST, errors
//! next to their field, another office's payment answering like a missing one, the audit entry
//! written before the page or the 835 is sent.

use crate::common::{App, text_of};
use axum::http::StatusCode;
use domain::Tin;
use domain::access::Scope;

async fn tin_of(app: &App, user: &str) -> Tin {
    let u = app.user(user).await;
    app.store.org(u.org_id).await.unwrap().unwrap().tin.unwrap()
}

#[tokio::test]
async fn search_by_member_and_dates_is_a_post_with_errors_by_field() {
    let app = App::new().await;
    let s = app.session("claims").await;
    let tin = tin_of(&app, "claims").await;
    let some = app
        .store
        .claims_in_scope(&Scope::Tins(vec![tin]), 1)
        .await
        .unwrap()
        .remove(0);

    // The page offers the search as a POST form carrying the CSRF token.
    let page = app.get("/claims", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"<form method="post" action="/claims""#)
    );

    // Member without dates: the message sits next to the date fields; nothing searched.
    let r = app
        .post("/claims", Some(&s), &[("member", some.member.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(r#"id="s-from-error""#), "{}", r.body);
    assert!(r.body.contains(r#"id="s-to-error""#));
    assert!(
        r.body.contains(&format!(r#"value="{}""#, some.member)),
        "what was typed is kept"
    );
    let bad = app
        .post(
            "/claims",
            Some(&s),
            &[("member", "12"), ("from", "13/45/2026")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(r#"id="s-member-error""#));
    assert!(bad.body.contains(r#"id="s-from-error""#));
    let nothing = app.post("/claims", Some(&s), &[]).await;
    assert!(text_of(&nothing.body, "s-number-error").is_some());

    // Member and a range around the claim's first date of service finds it.
    let before = app.audit_actions().await.len();
    let d = some.service_from;
    let from = (d - chrono::Days::new(1)).format("%m/%d/%Y").to_string();
    let to = (d + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    let r = app
        .post(
            "/claims",
            Some(&s),
            &[
                ("member", some.member.as_str()),
                ("from", &from),
                ("to", &to),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(some.number.as_str()));
    let actions = app.audit_actions().await;
    assert_eq!(actions[before..], ["claim_search.read".to_string()]);

    // By patient account number; and a search that matches nothing says so.
    let r = app
        .post("/claims", Some(&s), &[("account", &some.patient_account)])
        .await;
    assert!(r.body.contains(some.number.as_str()));
    let none = app
        .post("/claims", Some(&s), &[("number", "C9999999999")])
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(
        none.body
            .contains("No claim billed under your TINs matches")
    );

    // Another office's claim is not found by its number either.
    let other = app
        .store
        .claims_in_scope(&Scope::Tins(vec![tin_of(&app, "office2").await]), 1)
        .await
        .unwrap()
        .remove(0);
    let r = app
        .post("/claims", Some(&s), &[("number", other.number.as_str())])
        .await;
    assert!(
        !r.body
            .contains(&format!("href=\"/claims/{}\"", other.number))
    );
    assert!(r.body.contains("No claim billed under your TINs matches"));
}

#[tokio::test]
async fn payments_are_scoped_explained_and_downloadable_after_audit() {
    let app = App::new().await;
    let s = app.session("claims").await;
    let own = tin_of(&app, "claims").await;
    let other = tin_of(&app, "office2").await;
    let storage::PaymentPage {
        payments: mine,
        total,
    } = app
        .store
        .payments_in_scope(&Scope::Tins(vec![own]), 0, 1000)
        .await
        .unwrap();
    assert!(total > 0 && !mine.is_empty());
    let theirs = app
        .store
        .payments_in_scope(&Scope::Tins(vec![other]), 0, 1)
        .await
        .unwrap()
        .payments
        .remove(0);

    let list = app.get("/remittance", Some(&s)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(&mine[0].number),
        "newest first on page 1"
    );
    assert!(!list.body.contains(&theirs.number));
    assert!(list.body.contains(&format!("of {total}")));

    let p = &mine[0];
    let before = app.audit_actions().await.len();
    let page = app
        .get(&format!("/remittance/{}", p.number), Some(&s))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Download the 835"));
    assert_eq!(
        app.audit_actions().await[before..],
        ["remittance.read".to_string()]
    );

    let file = app
        .get(&format!("/remittance/{}/835", p.number), Some(&s))
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["content-type"], "application/edi-x12");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".x12\"")
    );
    assert!(file.body.starts_with("ISA*"));
    assert!(x12::validate_bytes(file.body.as_bytes(), &x12::Options::default()).accepted());
    assert!(file.body.contains(&format!("TRN*1*{}", p.number)));
    assert_eq!(
        app.audit_actions().await.last().map(String::as_str),
        Some("remittance_835.read")
    );

    // Another office's payment, its 835 and a payment that does not exist look the same.
    let strip = |s: &str| {
        s.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    let a = app
        .get(&format!("/remittance/{}", theirs.number), Some(&s))
        .await;
    let b = app.get("/remittance/9999999999", Some(&s)).await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(strip(&a.body), strip(&b.body));
    let f = app
        .get(&format!("/remittance/{}/835", theirs.number), Some(&s))
        .await;
    assert_eq!(f.status, StatusCode::NOT_FOUND);
    assert!(!f.body.contains("ISA*"));

    // Paging past the end says so.
    let far = app.get("/remittance?page=999", Some(&s)).await;
    assert_eq!(far.status, StatusCode::NOT_FOUND);
    assert!(far.body.contains("There is no page 999"));
}

#[tokio::test]
async fn a_claim_shows_its_status_in_words_and_each_lines_explanation() {
    let app = App::new().await;
    let s = app.session("claims").await;
    let tin = tin_of(&app, "claims").await;
    let claims = app
        .store
        .claims_in_scope(&Scope::Tins(vec![tin]), 1000)
        .await
        .unwrap();
    let mut found = None;
    for c in claims
        .iter()
        .filter(|c| c.status == domain::claim::ClaimStatus::Paid)
    {
        let full = app.store.claim(&c.number).await.unwrap().unwrap();
        if full.payment.is_some() {
            found = Some((c, full));
            break;
        }
    }
    let (paid, claim) = found.expect("a paid claim of the history");
    let page = app.get(&format!("/claims/{}", paid.number), Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    let words = text_of(&page.body, "claim-status-words").unwrap();
    assert!(words.starts_with("Paid:"), "{words}");
    assert!(
        page.body.contains("Fee schedule pricing:"),
        "the rule is named"
    );
    let number = claim.payment.expect("history is paid").number;
    assert!(
        page.body
            .contains(&format!("href=\"/remittance/{number}\""))
    );
}
