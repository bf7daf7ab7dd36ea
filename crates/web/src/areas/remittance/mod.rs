//! Remittance: the payments made to the office's payees, each with its claims explained, and
//! the 835 as sent. Needs the claims-inquiry entitlement (`ViewRemittance`).

mod pages;

use crate::pages::NavEntry;
use crate::routes::{Policy, Route, route};
use axum::http::Method;
use axum::routing::get;
use domain::access::Permission;

pub fn routes() -> Vec<Route> {
    let may = Policy::May(Permission::ViewRemittance);
    vec![
        route(Method::GET, "/remittance", may, get(pages::list)),
        route(Method::GET, "/remittance/{number}", may, get(pages::detail)),
        route(
            Method::GET,
            "/remittance/{number}/835",
            may,
            get(pages::download),
        ),
    ]
}

pub const NAV: &[NavEntry] = &[NavEntry {
    rank: 60,
    path: "/remittance",
    label: "Remittance",
    needs: Some(Permission::ViewRemittance),
}];
