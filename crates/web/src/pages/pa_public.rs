//! Public prior authorization pages (no sign-in): "is authorization required?" by code and
//! line of business, and the CMS-0057-F metrics of a calendar year as a page (with a chart of
//! decision times and approval shares, server-rendered SVG with a text alternative) and a CSV.
//! No member data: only the plan's rules and aggregated counts.

use crate::AppState;
use crate::auth::Visitor;
use crate::pages::authorizations::requirement_words;
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use domain::auth_metrics::{self, Metrics, TIME_BUCKETS, UrgencyMetrics};
use domain::auth_rules::{self, parse_procedure};
use domain::plan::LineOfBusiness;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct RequiredQuery {
    pub code: Option<String>,
    pub lob: Option<String>,
}

pub struct Answer {
    pub code: String,
    pub required: bool,
    pub words: String,
    pub rule: String,
}

#[derive(Template)]
#[template(path = "pa_required.html")]
pub struct RequiredPage {
    pub chrome: Chrome,
    pub code: String,
    pub lob: String,
    pub lobs: &'static [LineOfBusiness],
    pub error: Option<String>,
    pub answer: Option<Answer>,
}

/// `GET /prior-authorization/required?code=&lob=`
pub async fn required(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<RequiredQuery>,
) -> Response {
    let code: String = q.code.unwrap_or_default().trim().chars().take(12).collect();
    let lob = q.lob.as_deref().and_then(LineOfBusiness::from_code);
    let mut error = None;
    let mut answer = None;
    if !code.is_empty() {
        match parse_procedure(&code) {
            Err(e) => error = Some(format!("That is not a procedure code: {e}.")),
            Ok(c) => {
                let rules = match state.store.auth_rules().await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e, "rules failed");
                        return errors::unavailable(&state);
                    }
                };
                answer = Some(match lob {
                    Some(l) => {
                        let r = auth_rules::requirement(&rules, &c, l);
                        let rule = r
                            .rule
                            .as_ref()
                            .map(|x| {
                                format!(
                                    "Rule: {} ({})",
                                    x.codes,
                                    x.line_of_business
                                        .map_or("every line of business", |l| l.label())
                                )
                            })
                            .unwrap_or_else(|| "No rule names this code.".into());
                        let note = r
                            .rule
                            .as_ref()
                            .filter(|x| x.required)
                            .map(|x| x.note.clone())
                            .unwrap_or_default();
                        Answer {
                            words: if r.required {
                                format!(
                                    "Yes: authorization is required for {} members. {note}",
                                    l.label()
                                )
                            } else {
                                format!(
                                    "No: {} members need no authorization for this code.",
                                    l.label()
                                )
                            },
                            required: r.required,
                            code: c,
                            rule,
                        }
                    }
                    None => {
                        let (required, words) = requirement_words(&rules, &c);
                        Answer {
                            code: c,
                            required,
                            words,
                            rule: String::new(),
                        }
                    }
                });
            }
        }
    }
    render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &RequiredPage {
            chrome: Chrome::visitor(
                &state,
                &v,
                "Is authorization required?",
                "/prior-authorization/required",
            ),
            code,
            lob: lob.map(|l| l.code().to_string()).unwrap_or_default(),
            lobs: LineOfBusiness::ALL,
            error,
            answer,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<String>,
}

fn year_of(q: &YearQuery) -> Result<i32, String> {
    let this = chrono::Utc::now().year();
    match q.year.as_deref().map(str::trim) {
        None | Some("") => Ok(this - 1),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=this).contains(y))
            .ok_or_else(|| format!("Choose a year from 2000 to {this}.")),
    }
}

pub struct Row {
    pub label: &'static str,
    pub standard: String,
    pub expedited: String,
}

pub struct Bar {
    pub label: &'static str,
    pub standard: u64,
    pub expedited: u64,
    pub y: u32,
    pub w_standard: u32,
    pub w_expedited: u32,
}

pub struct Service {
    pub codes: String,
    pub description: String,
    pub lob: &'static str,
    pub note: String,
}

#[derive(Template)]
#[template(path = "pa_metrics.html")]
pub struct MetricsPage {
    pub chrome: Chrome,
    pub year: i32,
    pub years: Vec<i32>,
    pub error: Option<String>,
    pub rows: Vec<Row>,
    pub bars: Vec<Bar>,
    pub chart_height: u32,
    pub services: Vec<Service>,
    pub total: u64,
    pub alt: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

fn hours(v: Option<f64>) -> String {
    v.map(|h| {
        if h < 48.0 {
            format!("{h:.1} hours")
        } else {
            format!("{:.1} days ({h:.1} hours)", h / 24.0)
        }
    })
    .unwrap_or_else(|| "—".into())
}

/// The figures, in the order the rule lists them: (label, standard, expedited).
fn table(m: &Metrics) -> Vec<Row> {
    let both = |label, f: &dyn Fn(&UrgencyMetrics) -> String| Row {
        label,
        standard: f(&m.standard),
        expedited: f(&m.expedited),
    };
    vec![
        both("Determinations", &|u| u.determinations.to_string()),
        both("Approved", &|u| pct(u.pct_approved())),
        both("Denied", &|u| pct(u.pct_denied())),
        both("Approved after appeal", &|u| {
            pct(u.pct_approved_after_appeal())
        }),
        both("Approved after an extended review", &|u| {
            pct(u.pct_approved_after_extension())
        }),
        both("Average decision time", &|u| hours(u.average_hours)),
        both("Median decision time", &|u| hours(u.median_hours)),
    ]
}

async fn metrics_of(
    state: &AppState,
    year: i32,
) -> Result<(Metrics, Vec<domain::auth_rules::AuthRule>), Response> {
    match (
        state.store.auth_metric_inputs(year).await,
        state.store.auth_rules().await,
    ) {
        (Ok(i), Ok(r)) => Ok((auth_metrics::compute(year, &i), r)),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "metrics failed");
            Err(errors::unavailable(state))
        }
    }
}

/// `GET /prior-authorization/metrics?year=2026`
pub async fn metrics(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<YearQuery>,
) -> Response {
    let this = chrono::Utc::now().year();
    let (year, error) = match year_of(&q) {
        Ok(y) => (y, None),
        Err(e) => (this - 1, Some(e)),
    };
    let (m, rules) = match metrics_of(&state, year).await {
        Ok(v) => v,
        Err(p) => return p,
    };
    let ds = auth_metrics::distribution(&m.standard.hours);
    let de = auth_metrics::distribution(&m.expedited.hours);
    let max = ds.iter().chain(&de).copied().max().unwrap_or(0).max(1);
    let scale = |n: u64| ((n * 300) / max) as u32;
    let bars: Vec<Bar> = TIME_BUCKETS
        .iter()
        .enumerate()
        .map(|(i, (label, _))| Bar {
            label,
            standard: ds[i],
            expedited: de[i],
            y: 10 + i as u32 * 44,
            w_standard: scale(ds[i]),
            w_expedited: scale(de[i]),
        })
        .collect();
    let alt = bars
        .iter()
        .map(|b| {
            format!(
                "{}: {} standard, {} expedited",
                b.label, b.standard, b.expedited
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &MetricsPage {
            chrome: Chrome::visitor(
                &state,
                &v,
                format!("Prior authorization metrics {year}"),
                "/prior-authorization/metrics",
            ),
            year,
            years: (2024..=this).rev().collect(),
            error,
            rows: table(&m),
            chart_height: 10 + bars.len() as u32 * 44,
            bars,
            total: m.standard.determinations + m.expedited.determinations,
            services: rules
                .into_iter()
                .filter(|r| r.required)
                .map(|r| Service {
                    codes: r.codes.to_string(),
                    description: r.description,
                    lob: r
                        .line_of_business
                        .map_or("Every line of business", |l| l.label()),
                    note: r.note,
                })
                .collect(),
            alt,
        },
    )
}

/// `GET /prior-authorization/metrics.csv?year=2026`
pub async fn metrics_csv(State(state): State<AppState>, Query(q): Query<YearQuery>) -> Response {
    let year = match year_of(&q) {
        Ok(y) => y,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let (m, rules) = match metrics_of(&state, year).await {
        Ok(v) => v,
        Err(p) => return p,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["year", "metric", "standard", "expedited"]);
    for r in table(&m) {
        let _ = w.write_record([
            year.to_string().as_str(),
            r.label,
            &r.standard,
            &r.expedited,
        ]);
    }
    for r in rules.iter().filter(|r| r.required) {
        let lob = r.line_of_business.map_or("all", |l| l.code());
        let _ = w.write_record([
            year.to_string().as_str(),
            "Service requiring prior authorization",
            &r.codes.to_string(),
            &format!("{} ({lob})", r.description),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    crate::kit::csv::attachment(&format!("prior-authorization-metrics-{year}.csv"), body)
}
