//! Areas of the product that live in their own folder (handlers, views, forms, and templates in
//! `templates/<area>/`). Each exports `routes()`, every route with its policy, and `NAV`, its
//! entries in the main navigation; the route table and the chrome take them from the lists
//! below, so a new area is its own folder plus one line in each list.

pub mod remittance;

use crate::pages::NavEntry;
use crate::routes::Route;

/// Every area's routes, appended to `routes::table`.
pub fn routes() -> Vec<Route> {
    [remittance::routes()].into_iter().flatten().collect()
}

/// Every area's navigation entries (placed by their rank among the others).
pub const NAV: &[&[NavEntry]] = &[remittance::NAV];
