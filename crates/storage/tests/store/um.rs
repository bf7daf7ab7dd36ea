//! Utilization management: numbers, a request created with its timeline, attachment,
//! notification and message in one transaction; the office scope (the requesting provider's
//! TIN); the queue by deadline; the compare-and-set update; rules; metrics inputs;
//! notifications seen.

use crate::common::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::access::Scope;
use domain::auth::{AuthEvent, AuthEventKind, AuthRequest, AuthStatus, Decision, Urgency};
use domain::auth_rules::{AuthRule, AutoRule, CodeRange};
use domain::plan::LineOfBusiness;
use domain::{AuthNumber, Tin};
use storage::{AuthWrite, NewAttachment, NewMessage, QueueFilter, StorageError};

on_both!(
    a_stored_request_comes_back_with_every_field,
    a_request_is_created_with_its_timeline_files_and_trace_in_one_transaction,
    an_office_sees_only_the_requests_of_its_requesting_providers,
    the_queue_holds_open_requests_by_the_deadline_the_domain_computed,
    a_decision_is_compare_and_set_and_recomputes_the_deadline,
    rules_and_auto_approval_rules_are_added_and_deleted,
    notifications_reach_the_requesting_office_and_are_seen_once_looked_at,
);

fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 7, 17, 0, 0).unwrap()
}

/// The plan and its office (org, user), and a standard Medi-Cal request received in the portal
/// with its first event, a file, a notification, a message and trace `TRN-1`; and a second
/// fresh number not used yet.
async fn received(db: &Db) -> (Plan, (i64, i64), AuthRequest, AuthNumber) {
    let plan = plan(&*db.store).await;
    let office = office(&*db.store).await;
    let store = &db.store;
    let n1 = store.next_auth_number().await.unwrap();
    let n2 = store.next_auth_number().await.unwrap();
    assert_ne!(n1, n2, "numbers are never reused");
    let mut a = AuthRequest {
        number: n1.clone(),
        status: AuthStatus::Received,
        decided_at: None,
        denial_reason: None,
        received_at: received_at(),
        urgency: Urgency::Standard,
        line_of_business: LineOfBusiness::MediCal,
        ..plan.auth.clone()
    };
    for s in &mut a.services {
        s.approved_units = None;
    }
    let write = AuthWrite {
        events: vec![AuthEvent {
            at: received_at(),
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
            uploaded_at: received_at(),
        }],
        notification: Some(format!("Authorization {n1} was received.")),
        messages: vec![NewMessage {
            to_addr: "o@x.test".into(),
            subject: "s".into(),
            body: "b".into(),
            created_at: received_at(),
        }],
        trace: Some("TRN-1".into()),
    };
    store.create_auth(&a, &write).await.unwrap();
    (plan, office, a, n2)
}

async fn a_stored_request_comes_back_with_every_field(db: Db) {
    let plan = plan(&*db.store).await;
    assert_eq!(
        db.store.auth(&plan.auth.number).await.unwrap(),
        Some(plan.auth)
    );
    assert_eq!(
        db.store.auth(&AuthNumber::from_sequence(99)).await.unwrap(),
        None
    );
}

async fn a_request_is_created_with_its_timeline_files_and_trace_in_one_transaction(db: Db) {
    let outbox_before = db.store.outbox(100).await.unwrap().len();
    let (_, _, a, n2) = received(&db).await;
    let store = db.store;
    let n1 = a.number.clone();
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
        Err(StorageError::Duplicate(_))
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
    assert_eq!(
        (files[0].filename.as_str(), files[0].size),
        ("order.pdf", 256)
    );
    let file = store.auth_attachment(files[0].id).await.unwrap().unwrap();
    assert_eq!(file.meta, files[0], "the same file as listed");
    assert_eq!(
        file.bytes,
        (0..=255u8).collect::<Vec<_>>(),
        "every byte value survives"
    );
    assert!(
        store
            .auth_attachment(files[0].id + 1000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.auth_events(&n1).await.unwrap().len(), 1);
    assert_eq!(
        store.outbox(100).await.unwrap().len(),
        outbox_before + 1,
        "the message went out with it"
    );
    let _ = AuthNumber::parse(n2.as_str()).unwrap();
}

async fn an_office_sees_only_the_requests_of_its_requesting_providers(db: Db) {
    let (_, _, a, _) = received(&db).await;
    let store = db.store;
    let n1 = &a.number;
    let own = Scope::Tins(vec![tin()]);
    let other = Scope::Tins(vec![Tin::parse("331234567").unwrap()]);
    assert!(store.auth_in_scope(n1, &own).await.unwrap().is_some());
    assert!(store.auth_in_scope(n1, &other).await.unwrap().is_none());
    assert!(
        store
            .auth_in_scope(n1, &Scope::Nothing)
            .await
            .unwrap()
            .is_none()
    );
    let mine = store.auths_in_scope(&own, 10).await.unwrap();
    assert!(mine.iter().any(|s| &s.number == n1));
    assert_eq!(
        mine[0].number, *n1,
        "newest first: received after the plan's own request"
    );
    assert_eq!(mine[0].member_name, "Ana García");
    assert!(store.auths_in_scope(&other, 10).await.unwrap().is_empty());
    assert!(
        store
            .auths_in_scope(&Scope::Nothing, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_queue_holds_open_requests_by_the_deadline_the_domain_computed(db: Db) {
    let (plan, _, a, _) = received(&db).await;
    let store = db.store;
    let q = store
        .auth_queue(&QueueFilter {
            limit: 10,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    let row = q.iter().find(|r| r.number == a.number).expect("queued");
    assert_eq!(row.due_at, a.deadline().due);
    assert!(row.services.contains('×'));
    assert!(
        q.iter().all(|r| r.number != plan.auth.number),
        "a decided request is not queued"
    );
    let none = store
        .auth_queue(&QueueFilter {
            urgency: Some(Urgency::Expedited),
            limit: 10,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    assert!(none.iter().all(|r| r.number != a.number));
    assert!(
        store
            .auth_queue(&QueueFilter {
                status: Some(AuthStatus::Denied),
                limit: 10,
                ..QueueFilter::default()
            })
            .await
            .unwrap()
            .is_empty(),
        "only open statuses are queued"
    );
}

async fn a_decision_is_compare_and_set_and_recomputes_the_deadline(db: Db) {
    let (_, _, a, _) = received(&db).await;
    let store = db.store;
    let n1 = a.number.clone();
    let received = received_at();
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
    let events = store.auth_events(&n1).await.unwrap();
    assert_eq!(events.len(), 2, "events appended in order");
    assert_eq!(
        (events[0].kind, events[1].kind),
        (AuthEventKind::Received, AuthEventKind::Pended)
    );
    let inputs = store.auth_metric_inputs(2026).await.unwrap();
    let mine = inputs
        .iter()
        .find(|i| i.decided_at == received + Duration::hours(30))
        .expect("in the year");
    assert!(mine.extended, "pended counts as an extended review");
    assert!(store.auth_metric_inputs(2019).await.unwrap().is_empty());
}

async fn rules_and_auto_approval_rules_are_added_and_deleted(db: Db) {
    let store = db.store;
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
    assert!(store.auth_rules().await.unwrap().iter().all(|r| r.id != id));
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
    assert!(!store.delete_auto_rule(aid).await.unwrap());
}

async fn notifications_reach_the_requesting_office_and_are_seen_once_looked_at(db: Db) {
    let (_, (org, user), a, _) = received(&db).await;
    let store = db.store;
    let notes = store.notifications(org, 10).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].auth_number, a.number);
    assert_eq!(
        notes[0].text,
        format!("Authorization {} was received.", a.number)
    );
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
    assert!(
        store
            .notifications(org + 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
