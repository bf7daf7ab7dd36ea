//! Plan administrators search the audit trail and export it as CSV. Looking at the trail, and
//! exporting it, is itself recorded. Integrity is checked offline with `portal audit verify`.
//!
//! Date filters are whole days in UTC (`from` included from 00:00 UTC, `to` included up to
//! 24:00 UTC); times on the page are shown in Pacific time.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::csv::csv_cell;
use crate::kit::format::pacific;
use crate::pages::{Chrome, FieldErrors, errors, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::audit::AuditEntry;
use serde::Deserialize;
use std::collections::HashMap;
use storage::AuditQuery;

/// Entries on one page.
const PAGE: i64 = 100;
/// Entries read per query while exporting (storage caps a query at 10,000).
const EXPORT_PAGE: i64 = 10_000;
/// Rows in one export at most (narrow the dates for more).
const EXPORT_MAX: usize = 100_000;
/// Longest text filter taken.
const MAX_FILTER: usize = 200;

pub const CSV_HEADER: [&str; 12] = [
    "seq",
    "at",
    "actor_id",
    "actor",
    "org",
    "action",
    "record_type",
    "record_id",
    "outcome",
    "source",
    "prev_hash",
    "hash",
];

/// The filters as typed (all text, so a bad value becomes a message, not a 400).
#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub record_type: String,
    #[serde(default)]
    pub record_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Paging: entries older than this sequence number.
    #[serde(default)]
    pub before: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(MAX_FILTER).collect())
}

/// A `YYYY-MM-DD` day as the UTC instant it starts; empty is no filter.
pub fn parse_day(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .filter(|_| t.len() == 10)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Some(d.and_utc()))
        .ok_or_else(|| "Enter a date as YYYY-MM-DD, for example 2026-11-23.".to_string())
}

/// The storage query for `f`, or per-field errors.
pub fn query(f: &Filters, limit: i64) -> Result<AuditQuery, FieldErrors> {
    let mut errors = FieldErrors::new();
    let from = parse_day(&f.from)
        .map_err(|e| errors.insert("from", e))
        .ok()
        .flatten();
    // "to" is inclusive: up to the end of that day.
    let to = parse_day(&f.to)
        .map_err(|e| errors.insert("to", e))
        .ok()
        .flatten()
        .map(|d| d + Duration::days(1));
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        errors.insert(
            "to",
            "The end date is before the start date. Swap them or change one.".into(),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AuditQuery {
        actor_name: opt(&f.actor).map(|a| a.to_ascii_lowercase()),
        action: opt(&f.action),
        record_type: opt(&f.record_type),
        record_id: opt(&f.record_id),
        from,
        to,
        // A malformed page marker is ignored: the newest page is shown.
        before_seq: f.before.trim().parse::<i64>().ok().filter(|n| *n > 0),
        limit,
    })
}

/// The filters as a query string, only those given (for links and the audit record).
pub fn filters_qs(f: &Filters) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("actor", &f.actor),
        ("action", &f.action),
        ("record_type", &f.record_type),
        ("record_id", &f.record_id),
        ("from", &f.from),
        ("to", &f.to),
    ] {
        if let Some(v) = opt(v) {
            s.append_pair(k, &v);
        }
    }
    s.finish()
}

pub struct Row {
    pub seq: i64,
    pub at: String,
    pub org: String,
    pub e: AuditEntry,
}

#[derive(Template)]
#[template(path = "audit_log.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub f: Filters,
    pub rows: Vec<Row>,
    pub errors: FieldErrors,
    pub head_seq: String,
    pub head_hash: String,
    /// Query string for the next (older) page, when there is one.
    pub older: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    pub paged: bool,
    /// Query string of the filters (for the export and "newest" links).
    pub filters_qs: String,
    pub export_max: String,
}

/// The first characters of a hash, for the page (never panics on a short one).
fn short_hash(h: &str) -> String {
    h.chars().take(16).collect()
}

/// `GET /plan/audit`.
pub async fn search(
    State(state): State<AppState>,
    s: Signed,
    Query(f): Query<Filters>,
) -> Response {
    let parsed = query(&f, PAGE);
    let qs = filters_qs(&f);
    // The view of the trail is itself recorded, before anything is shown.
    audit::security(
        &state,
        Some(&s),
        "audit.search",
        "audit_log",
        if qs.is_empty() { "all" } else { &qs },
        if parsed.is_ok() { "ok" } else { "invalid" },
    )
    .await;
    let (head_seq, head_hash) = match state.store.audit_head().await {
        Ok(h) => (h.seq, h.hash),
        Err(e) => {
            tracing::error!(error = %e, "audit head unreadable");
            return errors::unavailable(&state);
        }
    };
    let (entries, errors, paged) = match parsed {
        Ok(q) => match state.store.audit_search(&q).await {
            Ok(list) => (list, FieldErrors::new(), q.before_seq.is_some()),
            Err(e) => {
                tracing::error!(error = %e, "audit search failed");
                return errors::unavailable(&state);
            }
        },
        Err(e) => (Vec::new(), e, false),
    };
    let orgs = match org_names(&state, &entries).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last())
        .flatten()
        .map(|last| {
            let mut s = form_urlencoded::Serializer::new(qs.clone());
            s.append_pair("before", &last.seq.to_string());
            s.finish()
        });
    render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &AuditPage {
            chrome: Chrome::signed(&state, &s, "Audit log", "/plan/audit"),
            filters_qs: qs,
            rows: entries
                .into_iter()
                .map(|e| Row {
                    seq: e.seq,
                    at: pacific(e.at),
                    org: e
                        .event
                        .org
                        .map(|o| orgs.get(&o).cloned().unwrap_or_else(|| format!("#{o}")))
                        .unwrap_or_default(),
                    e,
                })
                .collect(),
            f,
            errors,
            head_seq: crate::kit::format::thousands(head_seq),
            head_hash: short_hash(&head_hash),
            older,
            paged,
            export_max: crate::kit::format::thousands(EXPORT_MAX as i64),
        },
    )
}

/// Names of the organisations the entries mention.
async fn org_names(
    state: &AppState,
    entries: &[AuditEntry],
) -> Result<HashMap<i64, String>, Response> {
    let mut names = HashMap::new();
    for id in entries.iter().filter_map(|e| e.event.org) {
        if names.contains_key(&id) {
            continue;
        }
        match state.store.org(id).await {
            Ok(Some(o)) => {
                names.insert(id, o.name);
            }
            Ok(None) => {
                names.insert(id, format!("#{id}"));
            }
            Err(e) => {
                tracing::error!(error = %e, "organisation lookup failed");
                return Err(errors::unavailable(state));
            }
        }
    }
    Ok(names)
}

/// One CSV row per entry, in [`CSV_HEADER`] order.
pub fn csv_row(e: &AuditEntry) -> [String; 12] {
    let ev = &e.event;
    [
        e.seq.to_string(),
        e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ev.actor.map(|a| a.to_string()).unwrap_or_default(),
        csv_cell(&ev.actor_name).into_owned(),
        ev.org.map(|o| o.to_string()).unwrap_or_default(),
        csv_cell(&ev.action).into_owned(),
        csv_cell(&ev.record_type).into_owned(),
        csv_cell(&ev.record_id).into_owned(),
        csv_cell(&ev.outcome).into_owned(),
        csv_cell(&ev.source).into_owned(),
        e.prev_hash.clone(),
        e.hash.clone(),
    ]
}

/// `GET /plan/audit/export`: the same filters, as CSV, newest first, up to [`EXPORT_MAX`] rows.
/// Bad filters go back to the search page, which shows the message next to the field.
pub async fn export(
    State(state): State<AppState>,
    s: Signed,
    Query(f): Query<Filters>,
) -> Response {
    let qs = filters_qs(&f);
    let Ok(mut q) = query(&f, EXPORT_PAGE) else {
        return Redirect::to(&format!("/plan/audit?{qs}")).into_response();
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADER);
    let mut rows = 0usize;
    loop {
        q.limit = EXPORT_PAGE.min((EXPORT_MAX - rows) as i64);
        let page = match state.store.audit_search(&q).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "audit export failed");
                return errors::unavailable(&state);
            }
        };
        for e in &page {
            if w.write_record(csv_row(e)).is_err() {
                return errors::unavailable(&state);
            }
        }
        rows += page.len();
        match page.last() {
            Some(last) if page.len() as i64 == q.limit && rows < EXPORT_MAX => {
                q.before_seq = Some(last.seq);
            }
            _ => break,
        }
    }
    let Ok(body) = w.into_inner() else {
        return errors::unavailable(&state);
    };
    // Who took a copy of the trail, with which filters and how many rows.
    let what = if qs.is_empty() {
        format!("rows={rows}")
    } else {
        format!("{qs}&rows={rows}")
    };
    audit::security(&state, Some(&s), "audit.export", "audit_log", &what, "ok").await;
    crate::kit::csv::attachment(&format!("audit-{}.csv", Utc::now().format("%Y%m%d")), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header and rows as the export writes them (RFC 4180 quoting by the `csv` crate).
    fn csv_bytes(entries: &[AuditEntry]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CSV_HEADER).unwrap();
        for e in entries {
            w.write_record(csv_row(e)).unwrap();
        }
        w.into_inner().unwrap()
    }

    fn entry(actor_name: &str, record_id: &str) -> AuditEntry {
        AuditEntry {
            seq: 7,
            at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            event: domain::audit::AuditEvent {
                actor: Some(3),
                actor_name: actor_name.into(),
                org: None,
                action: "login.failure".into(),
                record_type: "user".into(),
                record_id: record_id.into(),
                outcome: "failed".into(),
                source: "192.0.2.1".into(),
            },
            prev_hash: "ab".into(),
            hash: "cd".into(),
            seal: None,
        }
    }

    #[test]
    fn days_and_ranges() {
        assert_eq!(parse_day("").unwrap(), None);
        assert_eq!(parse_day("  ").unwrap(), None);
        assert_eq!(
            parse_day("2026-11-23").unwrap().unwrap().to_rfc3339(),
            "2026-11-23T00:00:00+00:00"
        );
        assert!(parse_day("2026-13-01").is_err());
        assert!(parse_day("2026-02-30").is_err());
        assert!(parse_day("2026-1-5").is_err(), "two-digit month and day");
        assert!(parse_day("11/23/2026").unwrap_err().contains("YYYY-MM-DD"));
        let f = Filters {
            from: "2026-11-23".into(),
            to: "2026-11-23".into(),
            ..Filters::default()
        };
        let q = query(&f, 10).unwrap();
        assert_eq!(
            q.to.unwrap() - q.from.unwrap(),
            Duration::days(1),
            "the end day is included"
        );
        let bad = Filters {
            from: "2026-11-24".into(),
            to: "2026-11-23".into(),
            ..Filters::default()
        };
        assert!(query(&bad, 10).unwrap_err().contains_key("to"));
        let both = Filters {
            from: "x".into(),
            to: "y".into(),
            ..Filters::default()
        };
        let e = query(&both, 10).unwrap_err();
        assert!(e.contains_key("from") && e.contains_key("to"));
    }

    #[test]
    fn filters_and_paging() {
        let f = Filters {
            actor: " Planadmin ".into(),
            action: "claim.read".into(),
            before: "abc".into(),
            ..Filters::default()
        };
        let q = query(&f, 10).unwrap();
        assert_eq!(q.actor_name.as_deref(), Some("planadmin"));
        assert_eq!(q.action.as_deref(), Some("claim.read"));
        assert_eq!(q.record_type, None);
        assert_eq!(q.before_seq, None, "a malformed page marker is ignored");
        assert_eq!(filters_qs(&f), "actor=Planadmin&action=claim.read");
        let paged = Filters {
            before: "120".into(),
            ..Filters::default()
        };
        assert_eq!(query(&paged, 10).unwrap().before_seq, Some(120));
        assert_eq!(filters_qs(&Filters::default()), "");
    }

    #[test]
    fn csv_rows() {
        let text = String::from_utf8(csv_bytes(&[entry("o'neil, pat", "3")])).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "seq,at,actor_id,actor,org,action,record_type,record_id,outcome,source,prev_hash,hash"
        );
        assert_eq!(
            lines.next().unwrap(),
            "7,2026-09-21T14:13:20.000000Z,3,\"o'neil, pat\",,login.failure,user,3,failed,192.0.2.1,ab,cd"
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let row = csv_row(&entry("=HYPERLINK(\"http://x\")", "@SUM(A1)"));
        assert_eq!(row[3], "'=HYPERLINK(\"http://x\")");
        assert_eq!(row[7], "'@SUM(A1)");
        for bad in ["+1", "-1", "\tx", "\rx"] {
            assert!(csv_cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(csv_cell("planadmin"), "planadmin");
        assert_eq!(csv_cell(""), "");
        let text = String::from_utf8(csv_bytes(&[entry("a\"b\nc", "1")])).unwrap();
        assert!(
            text.contains("\"a\"\"b\nc\""),
            "quotes doubled, newline kept inside quotes"
        );
    }

    #[test]
    fn short_hashes_never_panic() {
        assert_eq!(short_hash(""), "");
        assert_eq!(short_hash("abc"), "abc");
        assert_eq!(short_hash(&"f".repeat(64)), "f".repeat(16));
    }
}
