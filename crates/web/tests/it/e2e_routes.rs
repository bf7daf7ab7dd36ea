//! The browser suite's reflow walk (`e2e/tests/reflow.spec.ts`) reads its pages from
//! `e2e/tests/routes.ts`; this keeps that list equal to the GET routes of `routes::table()`, so a
//! new page cannot escape the axe and width checks.

use axum::http::Method;
use std::collections::BTreeSet;

const LIST: &str = include_str!("../../../../e2e/tests/routes.ts");

/// The `path: '…'` entries of the list.
fn listed() -> Vec<&'static str> {
    LIST.split("path: '")
        .skip(1)
        .map(|rest| rest.split('\'').next().unwrap_or_default())
        .collect()
}

#[test]
fn the_reflow_walk_lists_every_get_route_and_no_other() {
    let routes: BTreeSet<&str> = web::routes::policies()
        .into_iter()
        .filter(|(m, ..)| *m == Method::GET)
        .map(|(_, p, ..)| p)
        .collect();
    let listed = listed();
    let set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        set.len(),
        listed.len(),
        "a path is listed twice in routes.ts"
    );
    let missing: Vec<_> = routes.difference(&set).collect();
    let stale: Vec<_> = set.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "e2e/tests/routes.ts is out of step with routes::table(): missing GET routes {missing:?}, \
         listed but not GET routes {stale:?}"
    );
}
