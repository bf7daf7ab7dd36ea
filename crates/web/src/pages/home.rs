//! The home page: the plan's public landing for visitors, and for a signed-in user their own
//! start page (their office, what they may do, what waits for them).

use crate::AppState;
use crate::auth::{Signed, Visitor};
use crate::kit::format::thousands;
use crate::pages::{Chrome, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::access::Permission;
use domain::registration::RegistrationStatus;
use storage::RegistrationFilter;

/// One of the plan's lines of business, as presented on the home page.
pub struct Line {
    pub name: &'static str,
    pub about: &'static str,
}

pub const LINES: &[Line] = &[
    Line {
        name: "Medi-Cal",
        about: "California's Medicaid program, managed care for children, families, seniors and people with disabilities.",
    },
    Line {
        name: "OneCare (HMO D-SNP)",
        about: "A Medicare Advantage dual-eligible special needs plan for members with both Medicare and Medi-Cal.",
    },
    Line {
        name: "OneCare Connect",
        about: "Coordinated Medicare and Medi-Cal benefits in one plan.",
    },
    Line {
        name: "PACE",
        about: "Program of All-Inclusive Care for the Elderly: day center, clinic and home care in one.",
    },
];

/// A portal function the product will offer; listed on the home page without a link until it exists.
pub struct Feature {
    pub name: &'static str,
    pub about: &'static str,
}

pub const FEATURES: &[Feature] = &[
    Feature {
        name: "Eligibility",
        about: "Check a member's coverage, line of business and health network on any date of service, one at a time or in batches.",
    },
    Feature {
        name: "Claims & remittance",
        about: "Claim status, payment and adjustment reasons, and your full remittance history to download.",
    },
    Feature {
        name: "Referrals & authorizations",
        about: "Submit requests, see whether one is needed, and follow each decision against its legal deadline.",
    },
    Feature {
        name: "Provider disputes",
        about: "File from a finalized claim, see acknowledgement and decision deadlines, and never file a duplicate.",
    },
    Feature {
        name: "EDI",
        about: "Exchange HIPAA X12 5010 transactions (270/271, 276/277, 278, 837, 835) over CAQH CORE connectivity.",
    },
    Feature {
        name: "Provider directory",
        about: "Find contracted physicians, hospitals and pharmacies by name, specialty and distance. Open to the public.",
    },
    Feature {
        name: "Trainings",
        about: "Required provider trainings, with completion records for your office.",
    },
];

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub lines: &'static [Line],
    pub features: &'static [Feature],
    /// `None` when the figures could not be read.
    pub figures: Option<Figures>,
}

pub struct Figures {
    pub providers: String,
    pub members: String,
    pub networks: String,
}

/// A link on the signed-in home page, with a line on what it is for.
pub struct Action {
    pub path: &'static str,
    pub label: &'static str,
    pub about: String,
}

#[derive(Template)]
#[template(path = "home_signed.html")]
pub struct SignedHome {
    pub chrome: Chrome,
    pub name: String,
    pub org: String,
    pub role: &'static str,
    /// TINs the user acts for, formatted.
    pub tins: Vec<String>,
    pub claims: bool,
    pub is_office: bool,
    pub actions: Vec<Action>,
}

pub async fn home(State(state): State<AppState>, visitor: Visitor) -> Response {
    match &visitor.signed {
        Some(s) => signed_home(&state, s).await,
        None => public_home(&state, &visitor).await,
    }
}

async fn public_home(state: &AppState, visitor: &Visitor) -> Response {
    let figures = match state.store.counts().await {
        Ok(c) => Some(Figures {
            providers: thousands(c.providers),
            members: thousands(c.members),
            networks: thousands(c.networks),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "home page: plan figures unavailable");
            None
        }
    };
    render(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::visitor(state, visitor, "Home", "/"),
            lines: LINES,
            features: FEATURES,
            figures,
        },
    )
}

async fn signed_home(state: &AppState, s: &Signed) -> Response {
    let p = &s.principal;
    let mut actions = Vec::new();
    if p.may(Permission::CheckEligibility) {
        actions.push(Action {
            path: "/eligibility",
            label: "Eligibility",
            about: "Check a member's coverage, network and PCP on a date of service; or a whole CSV file at once.".into(),
        });
        actions.push(Action {
            path: "/alerts",
            label: "Clinical alerts",
            about: "Open care gaps of the members assigned to your office's PCPs.".into(),
        });
    }
    if p.may(Permission::ViewClaims) {
        actions.push(Action {
            path: "/claims",
            label: "Claims",
            about: "Status, payment and adjustment reasons of your office's claims.".into(),
        });
    }
    // Authorizations: the office's requests with its unseen notices; the reviewer's queue.
    if p.may(Permission::ViewAuthorizations) {
        let unseen = state
            .store
            .unseen_notifications(s.user_id(), s.identity.org.id)
            .await
            .unwrap_or(0);
        actions.push(Action {
            path: "/authorizations",
            label: "Authorizations",
            about: if unseen > 0 {
                format!("Submit referrals and prior authorizations and follow them ({unseen} new notifications).")
            } else {
                "Submit referrals and prior authorizations and follow them to the decision.".into()
            },
        });
    }
    if p.may(Permission::ReviewAuthorizations) {
        let open = state
            .store
            .auth_queue(&storage::QueueFilter {
                limit: 10_000,
                ..Default::default()
            })
            .await
            .map(|q| q.len())
            .unwrap_or(0);
        actions.push(Action {
            path: "/plan/authorizations",
            label: "Utilization review",
            about: format!("{open} open requests, soonest legal deadline first."),
        });
    }
    if p.may(Permission::RequestEntitlements) {
        actions.push(Action {
            path: "/account/claims-access",
            label: "Request claims access",
            about: "Claims inquiry is a separate access; ask the plan for it here.".into(),
        });
    }
    if p.may(Permission::ManageOfficeUsers) {
        let pending = match s.identity.org.tin {
            Some(tin) => pending(state, Some(tin)).await,
            None => 0,
        };
        actions.push(Action {
            path: "/office/users",
            label: "Office users",
            about: format!("Your office's accounts and requests ({pending} waiting)."),
        });
    }
    if p.may(Permission::RequestTins) {
        actions.push(Action {
            path: "/account/tins",
            label: "Act for another TIN",
            about: "Ask the plan to let you work for one more provider TIN.".into(),
        });
    }
    if p.may(Permission::ReviewRegistrations) {
        let waiting = pending(state, None).await;
        actions.push(Action {
            path: "/plan/registrations",
            label: "Verification queue",
            about: format!("{waiting} registration requests waiting for verification."),
        });
    }
    if p.may(Permission::ViewOutbox) {
        actions.push(Action {
            path: "/plan/outbox",
            label: "Outbox",
            about: "Messages the portal sent to requesters.".into(),
        });
    }
    if p.may(Permission::ManageAccounts) {
        actions.push(Action {
            path: "/plan/users",
            label: "Accounts",
            about: "Find an account; unlock it, reset its MFA or deactivate it.".into(),
        });
    }
    if p.may(Permission::ViewAuditLog) {
        actions.push(Action {
            path: "/plan/audit",
            label: "Audit log",
            about: "Who read which record and every security event; search and export.".into(),
        });
        actions.push(Action {
            path: "/plan/audit/eligibility",
            label: "Eligibility lookups",
            about: "Each office's lookups and members not found today; abnormal offices flagged."
                .into(),
        });
    }
    actions.push(Action {
        path: "/account",
        label: "My account",
        about: "Password, two-step sign-in, recovery codes and your sessions.".into(),
    });
    render(
        StatusCode::OK,
        &SignedHome {
            chrome: Chrome::signed(state, s, "Home", "/"),
            name: s.identity.user.display_name.clone(),
            org: s.identity.org.name.clone(),
            role: s.identity.user.role.label(),
            tins: p.tins.iter().map(|t| t.to_string()).collect(),
            claims: p.entitlements.claims,
            is_office: p.is_office(),
            actions,
        },
    )
}

/// Pending requests in the verification queue, all or for one TIN.
async fn pending(state: &AppState, tin: Option<domain::Tin>) -> usize {
    let filter = RegistrationFilter {
        status: Some(RegistrationStatus::Pending),
        tin,
        limit: 1000,
        ..RegistrationFilter::default()
    };
    state
        .store
        .registrations(&filter)
        .await
        .map(|r| r.len())
        .unwrap_or(0)
}
