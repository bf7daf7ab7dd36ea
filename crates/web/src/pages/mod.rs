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
pub mod register;
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

/// An entry of the main navigation: it shows only to users the policy lets through (`needs`
/// `None`: any signed-in user), in order of `rank` (areas place theirs among these: remittance
/// is 60, between "Submit claims" and "Authorizations").
pub struct NavEntry {
    pub rank: u16,
    pub path: &'static str,
    pub label: &'static str,
    pub needs: Option<Permission>,
}

/// The entries of the pages not yet moved into an area folder.
const SIGNED_NAV: &[NavEntry] = &[
    NavEntry {
        rank: 10,
        path: "/",
        label: "Home",
        needs: None,
    },
    NavEntry {
        rank: 20,
        path: "/eligibility",
        label: "Eligibility",
        needs: Some(Permission::CheckEligibility),
    },
    NavEntry {
        rank: 30,
        path: "/alerts",
        label: "Clinical alerts",
        needs: Some(Permission::CheckEligibility),
    },
    NavEntry {
        rank: 40,
        path: "/claims",
        label: "Claims",
        needs: Some(Permission::ViewClaims),
    },
    NavEntry {
        rank: 50,
        path: "/submissions",
        label: "Submit claims",
        needs: Some(Permission::SubmitClaims),
    },
    NavEntry {
        rank: 70,
        path: "/authorizations",
        label: "Authorizations",
        needs: Some(Permission::ViewAuthorizations),
    },
    NavEntry {
        rank: 80,
        path: "/plan/authorizations",
        label: "Review queue",
        needs: Some(Permission::ReviewAuthorizations),
    },
    NavEntry {
        rank: 90,
        path: "/office/users",
        label: "Office users",
        needs: Some(Permission::ManageOfficeUsers),
    },
    NavEntry {
        rank: 100,
        path: "/plan/registrations",
        label: "Registrations",
        needs: Some(Permission::ReviewRegistrations),
    },
    NavEntry {
        rank: 110,
        path: "/plan/outbox",
        label: "Outbox",
        needs: Some(Permission::ViewOutbox),
    },
    NavEntry {
        rank: 120,
        path: "/plan/users",
        label: "Accounts",
        needs: Some(Permission::ManageAccounts),
    },
    NavEntry {
        rank: 130,
        path: "/plan/audit",
        label: "Audit log",
        needs: Some(Permission::ViewAuditLog),
    },
    NavEntry {
        rank: 200,
        path: "/account",
        label: "My account",
        needs: None,
    },
];

/// Every signed-in entry, the pages' and the areas', in rank order (built once).
static NAV: std::sync::LazyLock<Vec<&'static NavEntry>> = std::sync::LazyLock::new(|| {
    let mut all: Vec<&'static NavEntry> = SIGNED_NAV
        .iter()
        .chain(crate::areas::NAV.iter().flat_map(|a| a.iter()))
        .collect();
    all.sort_by_key(|e| e.rank);
    all
});

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
        c.nav = NAV
            .iter()
            .filter(|e| e.needs.is_none_or(|p| s.principal.may(p)))
            .map(|e| NavItem {
                path: e.path,
                label: e.label,
            })
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
