//! HTML pages, one module per area of the product. Each page is an askama template in
//! `templates/` that extends `layout.html` and carries a [`Chrome`] (title, navigation for what
//! this user may do, the signed-in user, the CSRF token for forms, the idle-logoff timer).
//! Handlers return [`render`]ed pages; a template that fails to render becomes a plain 500 page,
//! never a stack trace.

pub mod account;
pub mod alerts;
pub mod audit_log;
pub mod authorizations;
pub mod claims;
pub mod decision;
pub mod eligibility;
pub mod eligibility_batch;
pub mod eligibility_csv;
pub mod errors;
pub mod home;
pub mod login;
pub mod lookup_audit;
pub mod mfa;
pub mod office;
pub mod outbox;
pub mod pa_public;
pub mod proof;
pub mod register;
pub mod remittance;
pub mod stepup;
pub mod submissions;
pub mod um_review;
pub mod users;
pub mod verify;

use crate::AppState;
use crate::auth::{Pending, Signed, Visitor};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::access::Permission;
use std::collections::BTreeMap;

/// The main navigation: an entry shows only to users the policy lets through.
/// `(path, label, needs)`; `None` means any signed-in user.
const SIGNED_NAV: &[(&str, &str, Option<Permission>)] = &[
    ("/", "Home", None),
    (
        "/eligibility",
        "Eligibility",
        Some(Permission::CheckEligibility),
    ),
    (
        "/alerts",
        "Clinical alerts",
        Some(Permission::CheckEligibility),
    ),
    ("/claims", "Claims", Some(Permission::ViewClaims)),
    (
        "/submissions",
        "Submit claims",
        Some(Permission::SubmitClaims),
    ),
    (
        "/remittance",
        "Remittance",
        Some(Permission::ViewRemittance),
    ),
    (
        "/authorizations",
        "Authorizations",
        Some(Permission::ViewAuthorizations),
    ),
    (
        "/plan/authorizations",
        "Review queue",
        Some(Permission::ReviewAuthorizations),
    ),
    (
        "/office/users",
        "Office users",
        Some(Permission::ManageOfficeUsers),
    ),
    (
        "/plan/registrations",
        "Registrations",
        Some(Permission::ReviewRegistrations),
    ),
    ("/plan/outbox", "Outbox", Some(Permission::ViewOutbox)),
    ("/plan/users", "Accounts", Some(Permission::ManageAccounts)),
    ("/plan/audit", "Audit log", Some(Permission::ViewAuditLog)),
    ("/account", "My account", None),
];

const PUBLIC_NAV: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/register", "Register"),
    ("/login", "Sign in"),
];

pub struct NavItem {
    pub path: &'static str,
    pub label: &'static str,
}

/// The signed-in user as the header shows them.
pub struct UserChip {
    pub name: String,
    pub org: String,
    pub role: &'static str,
}

/// What the layout needs from every page.
pub struct Chrome {
    pub title: String,
    /// Path of the current page, to mark its navigation entry.
    pub current: &'static str,
    pub stylesheet: String,
    pub script: String,
    pub favicon: String,
    pub version: &'static str,
    pub backend: &'static str,
    pub nav: Vec<NavItem>,
    pub user: Option<UserChip>,
    /// The session's CSRF token, for every form (empty without a session).
    pub csrf: String,
    /// Seconds until idle logoff and the warning before it (0: not signed in, no timer).
    pub idle_seconds: i64,
    pub warn_seconds: i64,
}

impl Chrome {
    /// For a visitor who is not signed in.
    pub fn new(state: &AppState, title: impl Into<String>, current: &'static str) -> Self {
        Chrome {
            title: title.into(),
            current,
            stylesheet: crate::assets::stylesheet_url(),
            script: crate::assets::script_url(),
            favicon: crate::assets::favicon_url(),
            version: state.version,
            backend: state.store.backend(),
            nav: PUBLIC_NAV
                .iter()
                .map(|&(path, label)| NavItem { path, label })
                .collect(),
            user: None,
            csrf: String::new(),
            idle_seconds: 0,
            warn_seconds: 0,
        }
    }

    pub fn signed(
        state: &AppState,
        s: &Signed,
        title: impl Into<String>,
        current: &'static str,
    ) -> Self {
        let mut c = Chrome::new(state, title, current);
        c.nav = SIGNED_NAV
            .iter()
            .filter(|(_, _, needs)| needs.is_none_or(|p| s.principal.may(p)))
            .map(|&(path, label, _)| NavItem { path, label })
            .collect();
        c.user = Some(UserChip {
            name: s.identity.user.display_name.clone(),
            org: s.identity.org.name.clone(),
            role: s.identity.user.role.label(),
        });
        c.csrf = s.session.csrf.clone();
        c.idle_seconds = domain::session::IDLE_TIMEOUT.num_seconds();
        c.warn_seconds = domain::session::IDLE_WARNING.num_seconds();
        c
    }

    /// Part-way through sign-in: no navigation beyond signing out, but the forms need the token.
    pub fn pending(
        state: &AppState,
        p: &Pending,
        title: impl Into<String>,
        current: &'static str,
    ) -> Self {
        let mut c = Chrome::new(state, title, current);
        c.nav = Vec::new();
        c.csrf = p.session.csrf.clone();
        c
    }

    pub fn visitor(
        state: &AppState,
        v: &Visitor,
        title: impl Into<String>,
        current: &'static str,
    ) -> Self {
        match (&v.signed, &v.pending) {
            (Some(s), _) => Chrome::signed(state, s, title, current),
            (None, Some(p)) => Chrome::pending(state, p, title, current),
            _ => Chrome::new(state, title, current),
        }
    }
}

/// An account status change asked for by a form (`status=active|deactivated`): the new status,
/// the audit action and the notice code the page shows after it.
pub fn status_change(
    code: &str,
) -> Option<(domain::account::UserStatus, &'static str, &'static str)> {
    use domain::account::UserStatus;
    match code {
        "deactivated" => Some((UserStatus::Deactivated, "user.deactivate", "deactivated")),
        "active" => Some((UserStatus::Active, "user.reactivate", "reactivated")),
        _ => None,
    }
}

/// Per-field messages for a form, shown next to each field.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// Renders a template with a status; a render failure is logged and shown as a bare 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>Something went wrong on our side.</p>"),
            )
                .into_response()
        }
    }
}

/// 12345 -> "12,345".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A timestamp as people in the plan's time zone read it: "Nov 23, 2026 2:05 PM PT".
pub fn pacific(at: chrono::DateTime<chrono::Utc>) -> String {
    let offset = domain::clock::pacific_offset(at);
    let local = at.with_timezone(&offset);
    local.format("%b %-d, %Y %-I:%M %p PT").to_string()
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-4500), "-4,500");
    }
}
