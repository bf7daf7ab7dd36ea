//! HTML pages. Each page is an askama template in `templates/` that extends `layout.html` and
//! carries a [`Chrome`] (title, navigation, footer facts) for the layout. Handlers return
//! [`Page`]s or [`ErrorPage`]s; a template that fails to render becomes a plain 500 page, never a
//! stack trace.

use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Entries of the main navigation: only pages that exist. `(path, label)`.
const NAV: &[(&str, &str)] = &[("/", "Home")];

/// What the layout needs from every page.
pub struct Chrome {
    pub title: String,
    /// Path of the current page, to mark its navigation entry.
    pub current: &'static str,
    pub stylesheet: String,
    pub favicon: String,
    pub version: &'static str,
    pub backend: &'static str,
    pub nav: &'static [(&'static str, &'static str)],
}

impl Chrome {
    pub fn new(state: &AppState, title: impl Into<String>, current: &'static str) -> Self {
        Chrome {
            title: title.into(),
            current,
            stylesheet: crate::assets::stylesheet_url(),
            favicon: crate::assets::favicon_url(),
            version: state.version,
            backend: state.store.backend(),
            nav: NAV,
        }
    }
}

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

/// 12345 -> "12,345".
fn thousands(n: i64) -> String {
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

pub async fn home(State(state): State<AppState>) -> Response {
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
            chrome: Chrome::new(&state, "Home", "/"),
            lines: LINES,
            features: FEATURES,
            figures,
        },
    )
}

/// An error shown as a page in the layout.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub heading: String,
    pub message: String,
}

pub async fn not_found(State(state): State<AppState>) -> Response {
    render(
        StatusCode::NOT_FOUND,
        &ErrorPage {
            chrome: Chrome::new(&state, "Page not found", ""),
            status: 404,
            heading: "Page not found".into(),
            message:
                "There is no page at this address. It may have moved, or the link may be mistyped."
                    .into(),
        },
    )
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
