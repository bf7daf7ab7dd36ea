//! Eligibility lookup budgets on either backend: sixteen uploads admitted at once by one user
//! answer exactly the budget's misses in all, one of them (and only one) raises the plan alert,
//! another user of the office and another office keep their own budgets, and a day later there
//! is room again.

use crate::common::*;
use chrono::{Duration, Utc};
use domain::lookup_limits::{ALERT_MIN_MISSES, OFFICE_MISSES, USER_MISSES, WINDOW_HOURS};
use std::sync::Arc;
use storage::{LookupCharge, Store};

on_both!(lookups_are_admitted_against_each_budget_once_and_leave_the_window_after_a_day);

async fn charge(
    store: &Arc<dyn Store>,
    user: i64,
    org: i64,
    now: chrono::DateTime<Utc>,
    misses: &[bool],
) -> domain::lookup_limits::Admission {
    store
        .charge_lookups(&LookupCharge {
            user_id: user,
            org_id: org,
            now,
            misses,
        })
        .await
        .unwrap()
}

async fn lookups_are_admitted_against_each_budget_once_and_leave_the_window_after_a_day(db: Db) {
    let store = db.store;
    let (org, _) = office(&*store).await;
    const { assert!(USER_MISSES >= ALERT_MIN_MISSES && USER_MISSES < OFFICE_MISSES) };
    let (user, colleague, elsewhere, other_org) = (9_001, 9_002, 9_003, 999_999);
    let now = Utc::now();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { charge(&store, user, org, now, &[true; 5]).await })
        })
        .collect();
    let (mut answered, mut alerts) = (0, 0);
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.misses as usize, a.answered);
        answered += a.answered;
        alerts += usize::from(a.alert);
    }
    assert_eq!(
        answered, USER_MISSES as usize,
        "no overshoot across parallel admissions"
    );
    assert_eq!(alerts, 1, "one alert for the office");
    // Spent: a lookup that would find someone is refused too.
    let spent = charge(&store, user, org, now, &[false]).await;
    assert_eq!(spent.answered, 0);
    assert!(spent.retry_at.is_some_and(|t| t > now));
    // The colleague and another office still look up; the office is alerted once per window.
    let c = charge(&store, colleague, org, now, &[true, false]).await;
    assert_eq!((c.answered, c.alert), (2, false));
    assert_eq!(
        charge(&store, elsewhere, other_org, now, &[true])
            .await
            .answered,
        1
    );

    let listed = store.lookups_by_org(now).await.unwrap();
    let office = listed
        .iter()
        .find(|o| o.org_id == org)
        .expect("the office is listed");
    assert_eq!(
        (
            office.totals.lookups,
            office.totals.misses,
            office.totals.refused
        ),
        (
            u64::from(USER_MISSES) + 2,
            u64::from(USER_MISSES) + 1,
            16 * 5 - u64::from(USER_MISSES) + 1
        )
    );
    assert!(office.totals.abnormal());
    assert!(office.alerted_until.is_some_and(|t| t > now));
    assert!(
        listed.iter().all(|o| o.org_id != other_org),
        "organisations are listed by name from the organisations table"
    );

    // A day later the misses have left the window.
    let later = now + Duration::hours(WINDOW_HOURS + 1);
    assert_eq!(charge(&store, user, org, later, &[false]).await.answered, 1);
    assert!(
        store
            .lookups_by_org(later + Duration::hours(WINDOW_HOURS))
            .await
            .unwrap()
            .iter()
            .all(|o| o.org_id != org)
    );
}
