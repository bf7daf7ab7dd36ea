//! `GET /plan/audit/eligibility`: eligibility lookups per office over the last day, for plan
//! administrators: lookups, members not found, the miss ratio and refusals, most misses first,
//! abnormal offices flagged (`domain::lookup_limits::Totals::abnormal`, the same rule that
//! sends the plan's alert). Who looked up which member ID is in the audit log
//! (`eligibility.miss`, `eligibility.guessing`); this page names no member. Viewing it is
//! recorded.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::{pacific, thousands};
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use domain::lookup_limits::{
    ALERT_MIN_MISSES, ALERT_RATIO_PERCENT, OFFICE_MISSES, USER_MISSES, WINDOW_HOURS,
};

pub struct OfficeRow {
    pub name: String,
    pub kind: &'static str,
    pub lookups: String,
    pub misses: String,
    pub ratio: String,
    pub refused: String,
    pub abnormal: bool,
    /// When the plan was alerted (shown while the alert's window lasts).
    pub alerted: Option<String>,
}

#[derive(Template)]
#[template(path = "lookup_audit.html")]
pub struct LookupAuditPage {
    pub chrome: Chrome,
    pub rows: Vec<OfficeRow>,
    pub abnormal: usize,
    pub window_hours: i64,
    pub user_misses: u32,
    pub office_misses: u32,
    pub alert_min: u32,
    pub alert_ratio: u64,
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let now = Utc::now();
    let offices = match state.store.lookups_by_org(now).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "lookup figures failed");
            return errors::unavailable(&state);
        }
    };
    audit::security(
        &state,
        Some(&signed),
        "eligibility_lookups.view",
        "lookup_figures",
        "",
        "ok",
    )
    .await;
    let rows: Vec<OfficeRow> = offices
        .into_iter()
        .map(|o| OfficeRow {
            name: o.name,
            kind: o.kind.label(),
            lookups: thousands(o.totals.lookups as i64),
            misses: thousands(o.totals.misses as i64),
            ratio: format!("{}%", o.totals.ratio_percent()),
            refused: thousands(o.totals.refused as i64),
            abnormal: o.totals.abnormal(),
            alerted: o
                .alerted_until
                .filter(|t| *t > now)
                .map(|t| pacific(t - chrono::Duration::hours(WINDOW_HOURS))),
        })
        .collect();
    render(
        StatusCode::OK,
        &LookupAuditPage {
            chrome: Chrome::signed(&state, &signed, "Eligibility lookups", "/plan/audit"),
            abnormal: rows.iter().filter(|r| r.abnormal).count(),
            rows,
            window_hours: WINDOW_HOURS,
            user_misses: USER_MISSES,
            office_misses: OFFICE_MISSES,
            alert_min: ALERT_MIN_MISSES,
            alert_ratio: ALERT_RATIO_PERCENT,
        },
    )
}
