//! Authorizations on either backend: numbers, a request created with its timeline, attachment,
//! notification and message in one transaction; the office scope; the queue by deadline; the
//! compare-and-set update; rules; metrics inputs; notifications seen.

use chrono::{Duration, TimeZone, Utc};
use domain::access::Scope;
use domain::auth::{AuthEvent, AuthEventKind, AuthRequest, AuthStatus, Decision, Urgency};
use domain::auth_rules::{AuthRule, AutoRule, CodeRange};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, Tin};
use std::sync::Arc;
use storage::{AuthWrite, NewAttachment, NewMessage, QueueFilter, Store};

pub async fn authorizations_story(
    store: Arc<dyn Store>,
    org: i64,
    user: i64,
    template: AuthRequest,
) {
    let n1 = store.next_auth_number().await.unwrap();
    let n2 = store.next_auth_number().await.unwrap();
    assert_ne!(n1, n2, "numbers are never reused");
    let received = Utc.with_ymd_and_hms(2026, 10, 7, 17, 0, 0).unwrap();
    let mut a = AuthRequest {
        number: n1.clone(),
        status: AuthStatus::Received,
        decided_at: None,
        denial_reason: None,
        received_at: received,
        urgency: Urgency::Standard,
        line_of_business: LineOfBusiness::MediCal,
        ..template.clone()
    };
    for s in &mut a.services {
        s.approved_units = None;
    }
    let write = AuthWrite {
        events: vec![AuthEvent {
            at: received,
            kind: AuthEventKind::Received,
            actor: "Olivia".into(),
            note: "due".into(),
        }],
        attachments: vec![NewAttachment {
            filename: "order.pdf".into(),
            media_type: "application/pdf".into(),
            sha256: "00".into(),
            bytes: (0..=255u8).collect(),
            uploaded_by: "Olivia".into(),
            uploaded_at: received,
        }],
        notification: Some(format!("Authorization {n1} was received.")),
        messages: vec![NewMessage {
            to_addr: "o@x.test".into(),
            subject: "s".into(),
            body: "b".into(),
            created_at: received,
        }],
        trace: Some("TRN-1".into()),
    };
    store.create_auth(&a, &write).await.unwrap();
    // The same trace from the same requester is refused (a resubmitted 278 is not doubled).
    assert_eq!(
        store
            .auth_by_trace(&a.requesting_npi, "TRN-1")
            .await
            .unwrap(),
        Some(n1.clone())
    );
    assert_eq!(
        store
            .auth_by_trace(&a.requesting_npi, "TRN-2")
            .await
            .unwrap(),
        None
    );
    let twin = AuthRequest {
        number: n2.clone(),
        ..a.clone()
    };
    let again = AuthWrite {
        trace: Some("TRN-1".into()),
        ..AuthWrite::default()
    };
    assert!(matches!(
        store.create_auth(&twin, &again).await,
        Err(storage::StorageError::Duplicate(_))
    ));
    assert_eq!(
        store.auth(&n2).await.unwrap(),
        None,
        "nothing of the twin was kept"
    );
    assert_eq!(
        store.auth(&n1).await.unwrap(),
        Some(a.clone()),
        "round trip with every field"
    );
    let files = store.auth_attachments(&n1).await.unwrap();
    assert_eq!(files.len(), 1);
    let file = store.auth_attachment(files[0].id).await.unwrap().unwrap();
    assert_eq!(file.meta, files[0], "the same file as listed");
    assert_eq!(
        file.bytes,
        (0..=255u8).collect::<Vec<_>>(),
        "every byte value survives"
    );
    assert_eq!(store.auth_events(&n1).await.unwrap().len(), 1);

    // Scope: the requesting provider's TIN.
    let own = Scope::Tins(vec![Tin::parse("951234567").unwrap()]);
    let other = Scope::Tins(vec![Tin::parse("331234567").unwrap()]);
    assert!(store.auth_in_scope(&n1, &own).await.unwrap().is_some());
    assert!(store.auth_in_scope(&n1, &other).await.unwrap().is_none());
    assert!(
        store
            .auth_in_scope(&n1, &Scope::Nothing)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .auths_in_scope(&own, 10)
            .await
            .unwrap()
            .iter()
            .any(|s| s.number == n1)
    );
    assert!(store.auths_in_scope(&other, 10).await.unwrap().is_empty());

    // The queue holds open requests by deadline, with the deadline the domain computed.
    let q = store
        .auth_queue(&QueueFilter {
            limit: 10,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    let row = q.iter().find(|r| r.number == n1).expect("queued");
    assert_eq!(row.due_at, a.deadline().due);
    assert!(row.services.contains('×'));
    let none = store
        .auth_queue(&QueueFilter {
            urgency: Some(Urgency::Expedited),
            limit: 10,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    assert!(none.iter().all(|r| r.number != n1));

    // Compare-and-set: a pend then a decision; a stale write changes nothing.
    let mut pended = a.clone();
    pended
        .pend(received + Duration::hours(20), "x-rays")
        .unwrap();
    let w = AuthWrite {
        events: vec![AuthEvent {
            at: received,
            kind: AuthEventKind::Pended,
            actor: "R".into(),
            note: String::new(),
        }],
        ..AuthWrite::default()
    };
    assert!(
        store
            .update_auth(&pended, AuthStatus::Received, &w)
            .await
            .unwrap()
    );
    let mut stale = a.clone();
    stale.decide(&Decision::Approve, received).unwrap();
    assert!(
        !store
            .update_auth(&stale, AuthStatus::Received, &AuthWrite::default())
            .await
            .unwrap(),
        "the status moved on"
    );
    let back = store.auth(&n1).await.unwrap().unwrap();
    assert_eq!(back.status, AuthStatus::Pended);
    let q = store
        .auth_queue(&QueueFilter {
            limit: 10,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        q.iter().find(|r| r.number == n1).unwrap().due_at,
        pended.deadline().due,
        "recomputed on pend"
    );
    let mut done = back.clone();
    done.decide(&Decision::Approve, received + Duration::hours(30))
        .unwrap();
    assert!(
        store
            .update_auth(&done, AuthStatus::Pended, &AuthWrite::default())
            .await
            .unwrap()
    );
    assert_eq!(store.auth(&n1).await.unwrap(), Some(done.clone()));
    assert_eq!(
        store.auth_events(&n1).await.unwrap().len(),
        2,
        "events appended in order"
    );
    let inputs = store.auth_metric_inputs(2026).await.unwrap();
    let mine = inputs
        .iter()
        .find(|i| i.decided_at == received + Duration::hours(30))
        .expect("in the year");
    assert!(mine.extended, "pended counts as an extended review");
    assert!(store.auth_metric_inputs(2019).await.unwrap().is_empty());

    // Rules.
    let id = store
        .add_auth_rule(&AuthRule {
            id: 0,
            codes: CodeRange::parse("70010-76499").unwrap(),
            line_of_business: Some(LineOfBusiness::Pace),
            required: true,
            note: "notes".into(),
            description: "Imaging".into(),
        })
        .await
        .unwrap();
    let rules = store.auth_rules().await.unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r.id == id && r.line_of_business == Some(LineOfBusiness::Pace) && r.required)
    );
    assert!(store.delete_auth_rule(id).await.unwrap());
    assert!(!store.delete_auth_rule(id).await.unwrap());
    let auto = AutoRule {
        id: 0,
        name: "PT".into(),
        line_of_business: None,
        codes: vec!["97110".into(), "97112".into()],
        max_units: 12,
        include_expedited: true,
    };
    let aid = store.add_auto_rule(&auto).await.unwrap();
    assert_eq!(
        store
            .auto_rules()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == aid),
        Some(AutoRule { id: aid, ..auto })
    );
    assert!(store.delete_auto_rule(aid).await.unwrap());

    // Notifications reach the office of the requesting provider's TIN; seen once looked at.
    let notes = store.notifications(org, 10).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].auth_number, n1);
    assert_eq!(store.unseen_notifications(user, org).await.unwrap(), 1);
    store
        .mark_notifications_seen(user, Utc::now())
        .await
        .unwrap();
    store
        .mark_notifications_seen(user, Utc::now())
        .await
        .unwrap();
    assert_eq!(store.unseen_notifications(user, org).await.unwrap(), 0);
    // Providers.
    assert!(
        !store
            .providers_of_tins(&[Tin::parse("951234567").unwrap()], 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .search_providers("nguyen", 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search_providers("no such name", 5)
            .await
            .unwrap()
            .is_empty()
    );
    let _ = AuthNumber::parse(n2.as_str()).unwrap();
}
