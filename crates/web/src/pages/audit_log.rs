//! Plan administrators search the audit trail and export it as CSV. Looking at the trail is
//! itself recorded. Integrity is checked offline with `portal audit verify`.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::{Chrome, FieldErrors, errors, pacific, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::audit::AuditEntry;
use serde::Deserialize;
use storage::AuditQuery;

const PAGE: i64 = 100;
/// Rows in one export at most (page through with the dates for more).
const EXPORT_MAX: usize = 100_000;

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
    pub before: Option<i64>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A `YYYY-MM-DD` day as the UTC instant it starts.
pub fn parse_day(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()))
        .map_err(|_| format!("Enter a date as YYYY-MM-DD, like 2026-11-23 (got “{t}”)."))
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
        errors.insert("to", "The end date is before the start date.".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AuditQuery {
        actor_name: opt(&f.actor),
        action: opt(&f.action),
        record_type: opt(&f.record_type),
        record_id: opt(&f.record_id),
        from,
        to,
        before_seq: f.before,
        limit,
    })
}

pub struct Row {
    pub seq: i64,
    pub at: String,
    pub e: AuditEntry,
}

#[derive(Template)]
#[template(path = "audit_log.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub f: Filters,
    pub rows: Vec<Row>,
    pub errors: FieldErrors,
    pub head_seq: i64,
    pub head_hash: String,
    /// Query string for the next (older) page, when there is one.
    pub older: Option<String>,
    /// Query string of the filters (for the export link).
    pub filters_qs: String,
}

fn filters_qs(f: &Filters) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("actor", f.actor.as_str()),
            ("action", f.action.as_str()),
            ("record_type", f.record_type.as_str()),
            ("record_id", f.record_id.as_str()),
            ("from", f.from.as_str()),
            ("to", f.to.as_str()),
        ])
        .finish()
}

pub async fn search(
    State(state): State<AppState>,
    s: Signed,
    Query(f): Query<Filters>,
) -> Response {
    let (head_seq, head_hash) = state.store.audit_head().await.unwrap_or_default();
    let (rows, errors) = match query(&f, PAGE) {
        Ok(q) => match state.store.audit_search(&q).await {
            Ok(list) => (list, FieldErrors::new()),
            Err(_) => return errors::unavailable(&state),
        },
        Err(e) => (Vec::new(), e),
    };
    audit::security(
        &state,
        Some(&s),
        "audit.search",
        "audit_log",
        &filters_qs(&f),
        "ok",
    )
    .await;
    let older = (rows.len() as i64 == PAGE)
        .then(|| {
            rows.last()
                .map(|r| format!("{}&before={}", filters_qs(&f), r.seq))
        })
        .flatten();
    render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &AuditPage {
            chrome: Chrome::signed(&state, &s, "Audit log", "/plan/audit"),
            filters_qs: filters_qs(&f),
            rows: rows
                .into_iter()
                .map(|e| Row {
                    seq: e.seq,
                    at: pacific(e.at),
                    e,
                })
                .collect(),
            f,
            errors,
            head_seq,
            head_hash,
            older,
        },
    )
}

/// The CSV header and one row per entry (RFC 4180 quoting by the `csv` crate).
pub fn csv_bytes(entries: &[AuditEntry]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
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
    ]);
    for e in entries {
        let ev = &e.event;
        let _ = w.write_record([
            e.seq.to_string(),
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ev.actor.map(|a| a.to_string()).unwrap_or_default(),
            ev.actor_name.clone(),
            ev.org.map(|o| o.to_string()).unwrap_or_default(),
            ev.action.clone(),
            ev.record_type.clone(),
            ev.record_id.clone(),
            ev.outcome.clone(),
            ev.source.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

pub async fn export(
    State(state): State<AppState>,
    s: Signed,
    Query(f): Query<Filters>,
) -> Response {
    let Ok(mut q) = query(&f, 10_000) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad filter: dates are YYYY-MM-DD",
        )
            .into_response();
    };
    let mut all = Vec::new();
    loop {
        let page = match state.store.audit_search(&q).await {
            Ok(p) => p,
            Err(_) => return errors::unavailable(&state),
        };
        let done = (page.len() as i64) < q.limit;
        q.before_seq = page.last().map(|e| e.seq);
        all.extend(page);
        if done || all.len() >= EXPORT_MAX {
            break;
        }
    }
    all.truncate(EXPORT_MAX);
    audit::security(
        &state,
        Some(&s),
        "audit.export",
        "audit_log",
        &format!("{} rows", all.len()),
        "ok",
    )
    .await;
    let mut res = csv_bytes(&all).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "attachment; filename=\"audit-{}.csv\"",
        Utc::now().format("%Y%m%d")
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_ranges() {
        assert_eq!(parse_day("").unwrap(), None);
        assert!(parse_day("2026-13-01").is_err());
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
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let e = AuditEntry {
            seq: 1,
            at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            event: domain::audit::AuditEvent {
                actor: Some(3),
                actor_name: "o'neil, pat".into(),
                org: None,
                action: "login.failure".into(),
                record_type: "user".into(),
                record_id: "3".into(),
                outcome: "failed".into(),
                source: "192.0.2.1".into(),
            },
            prev_hash: "0".into(),
            hash: "1".into(),
        };
        let text = String::from_utf8(csv_bytes(&[e])).unwrap();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with("seq,at,actor_id,actor"));
        assert!(lines.next().unwrap().contains(",\"o'neil, pat\","));
    }
}
