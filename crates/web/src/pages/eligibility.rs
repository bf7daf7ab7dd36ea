//! Member eligibility for provider offices: one member by ID or by name, always with the birth
//! date (the lookup is plan-wide, as in commercial portals, so the birth date is what limits
//! it), as of a date of service; and a batch of members from a CSV file.
//!
//! The criteria are PHI, so every search is a POST form (never a query string), picking one of
//! several name matches too. A member's street address, telephone and clinical data are never
//! read here (`MemberStore::member` does not carry them). Every member shown is written to the
//! audit trail before the page (or the CSV) is sent.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::pages::alerts::{gaps_for, us_date};
use crate::pages::audit_log::csv_cell;
use crate::pages::proof::{Upload, receive};
use crate::pages::verify::phone_label;
use crate::pages::{Chrome, FieldErrors, errors, render, thousands};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use domain::care_gaps::earliest_relevant;
use domain::eligibility::{
    BatchOutcome, Criteria, Lookup, LookupForm, PlanNotice, california_today, first_name_matches,
    has_future_span, notices_for, span_for,
};
use domain::member::{EligibilitySpan, Member, SpanState};
use domain::plan::{HealthNetwork, NetworkKind};
use domain::provider::Provider;
use domain::{MemberId, Npi};
use serde::Deserialize;
use std::collections::HashMap;
use storage::{BatchCounts, MemberRecord, NewBatch};

/// The lookup form as posted (every field optional: the domain says what is missing).
#[derive(Deserialize, Default)]
pub struct LookupFields {
    #[serde(default)]
    pub member_id: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub date_of_service: String,
}

impl LookupFields {
    fn form(&self) -> LookupForm {
        let clip = |s: &str| s.chars().take(100).collect::<String>();
        LookupForm {
            member_id: clip(&self.member_id),
            last_name: clip(&self.last_name),
            first_name: clip(&self.first_name),
            birth_date: clip(&self.birth_date),
            date_of_service: clip(&self.date_of_service),
        }
    }
}

pub struct TextField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub placeholder: &'static str,
    pub inputmode: &'static str,
    /// An "or" divider before this field (member ID or name).
    pub or_before: bool,
}

fn fields(f: &LookupForm, errors: &FieldErrors) -> Vec<TextField> {
    let field = |name, label, hint, value: &str, placeholder, inputmode, or_before| TextField {
        name,
        label,
        hint,
        value: value.to_string(),
        error: errors.get(name).cloned(),
        placeholder,
        inputmode,
        or_before,
    };
    vec![
        field(
            "member_id",
            "Member ID",
            "As on the member's card, e.g. M000012345.",
            &f.member_id,
            "M000012345",
            "text",
            false,
        ),
        field(
            "last_name",
            "Last name",
            "If you do not have the member ID.",
            &f.last_name,
            "",
            "text",
            true,
        ),
        field(
            "first_name",
            "First name (optional)",
            "Narrows a name search; the beginning of the name is enough.",
            &f.first_name,
            "",
            "text",
            false,
        ),
        field(
            "birth_date",
            "Birth date",
            "Required. MM/DD/YYYY or YYYY-MM-DD.",
            &f.birth_date,
            "MM/DD/YYYY",
            "numeric",
            false,
        ),
        field(
            "date_of_service",
            "Date of service (optional)",
            "Leave empty for today (California time).",
            &f.date_of_service,
            "MM/DD/YYYY",
            "numeric",
            false,
        ),
    ]
}

pub struct SpanView {
    pub start: String,
    pub end: String,
    pub line_of_business: &'static str,
    pub network: String,
    pub pcp: String,
    pub state_code: &'static str,
    pub state: &'static str,
    pub answers: bool,
}

pub struct NoticeView {
    pub level: &'static str,
    pub level_label: &'static str,
    pub title: String,
    pub body: String,
}

pub struct ResultView {
    pub name: String,
    pub birth_date: String,
    pub member_id: String,
    pub line_of_business: String,
    /// `active`, `termed`, `future` or `none`.
    pub status_code: &'static str,
    pub headline: String,
    pub date_of_service: String,
    pub spans: Vec<SpanView>,
    pub network_name: String,
    pub network_payer: String,
    pub network_phone: String,
    pub pcp_name: String,
    pub pcp_npi: String,
    pub pcp_phone: String,
    pub pcp_specialty: String,
    pub notices: Vec<NoticeView>,
    pub open_gaps: usize,
    /// The member's PCP is in this office (their gaps are on the alerts page).
    pub assigned_here: bool,
}

pub struct MatchView {
    pub name: String,
    pub birth_date: String,
    pub member_id: String,
    pub birth_iso: String,
}

#[derive(Template)]
#[template(path = "eligibility.html")]
pub struct EligibilityPage {
    pub chrome: Chrome,
    pub fields: Vec<TextField>,
    pub error_count: usize,
    /// No match, or too many: said above the form.
    pub problem: Option<String>,
    pub matches: Vec<MatchView>,
    pub dos_iso: String,
    pub result: Option<ResultView>,
}

/// What a search answered, beyond the form itself.
#[derive(Default)]
struct Answer {
    /// No match, or too many: said above the form.
    problem: Option<String>,
    matches: Vec<MatchView>,
    dos_iso: String,
    result: Option<ResultView>,
}

fn page(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    form: &LookupForm,
    errors: &FieldErrors,
    answer: Answer,
) -> Response {
    let title = match &answer.result {
        Some(r) => format!("Eligibility: {}", r.name),
        None => "Eligibility".to_string(),
    };
    render(
        status,
        &EligibilityPage {
            chrome: Chrome::signed(state, signed, title, "/eligibility"),
            fields: fields(form, errors),
            error_count: errors.len(),
            problem: answer.problem,
            matches: answer.matches,
            dos_iso: answer.dos_iso,
            result: answer.result,
        },
    )
}

/// `GET /eligibility`: the lookup form.
pub async fn form(State(state): State<AppState>, signed: Signed) -> Response {
    page(
        &state,
        &signed,
        StatusCode::OK,
        &LookupForm::default(),
        &FieldErrors::new(),
        Answer::default(),
    )
}

const NO_MATCH: &str = "No member matches. Check the member ID (or the spelling of the last name) and the birth date against the member's card; the birth date must match exactly.";

/// `POST /eligibility`: a search, or the pick of one of several name matches.
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    Form(fields): Form<LookupFields>,
) -> Response {
    let form = fields.form();
    let today = california_today(Utc::now());
    let lookup = match form.parse(today) {
        Ok(l) => l,
        Err(e) => {
            return page(
                &state,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &e,
                Answer::default(),
            );
        }
    };
    let none = FieldErrors::new();
    let found = match find(&state, &lookup).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "eligibility lookup failed");
            return errors::unavailable(&state);
        }
    };
    let record = match found {
        Found::One(r) => r,
        Found::None => {
            return page(
                &state,
                &signed,
                StatusCode::OK,
                &form,
                &none,
                Answer {
                    problem: Some(NO_MATCH.into()),
                    ..Answer::default()
                },
            );
        }
        Found::Several(members) => {
            let ids: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
            if let Err(p) = audit::phi_reads(&state, &signed, "member.read", "member", &ids).await {
                return p;
            }
            let matches = members
                .iter()
                .map(|m| MatchView {
                    name: format!("{} {}", m.first_name, m.last_name),
                    birth_date: us_date(m.birth_date),
                    member_id: m.id.to_string(),
                    birth_iso: m.birth_date.to_string(),
                })
                .collect();
            return page(
                &state,
                &signed,
                StatusCode::OK,
                &form,
                &none,
                Answer {
                    problem: Some(format!(
                        "{} members have this name and birth date. Choose the member, or search by member ID.",
                        members.len()
                    )),
                    matches,
                    dos_iso: lookup.date_of_service.to_string(),
                    result: None,
                },
            );
        }
    };
    let result = match result_view(&state, &signed, &record, lookup.date_of_service).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "eligibility details failed");
            return errors::unavailable(&state);
        }
    };
    if let Err(p) = audit::phi_read(&state, &signed, "member", record.member.id.as_str()).await {
        return p;
    }
    page(
        &state,
        &signed,
        StatusCode::OK,
        &form,
        &none,
        Answer {
            result: Some(result),
            ..Answer::default()
        },
    )
}

enum Found {
    None,
    One(MemberRecord),
    Several(Vec<Member>),
}

async fn find(state: &AppState, lookup: &Lookup) -> Result<Found, storage::StorageError> {
    match &lookup.criteria {
        Criteria::Id(id) => Ok(match state.store.member(id).await? {
            // An ID with another birth date answers exactly like an unknown ID.
            Some(r) if r.member.birth_date == lookup.birth_date => Found::One(r),
            _ => Found::None,
        }),
        Criteria::Name { last, first } => {
            let mut found = state.store.find_members(last, lookup.birth_date).await?;
            found.retain(|m| first_name_matches(m, first.as_deref()));
            Ok(match found.len() {
                0 => Found::None,
                1 => match state.store.member(&found[0].id).await? {
                    Some(r) => Found::One(r),
                    None => Found::None,
                },
                _ => Found::Several(found),
            })
        }
    }
}

fn span_state_label(s: SpanState) -> &'static str {
    match s {
        SpanState::Active => "Active",
        SpanState::Termed => "Ended",
        SpanState::Future => "Starts later",
    }
}

fn end_label(s: &EligibilitySpan) -> String {
    s.end.map(us_date).unwrap_or_else(|| "Open-ended".into())
}

/// Who pays a network's claims, in words.
fn payer(n: &HealthNetwork) -> String {
    match n.kind {
        NetworkKind::Community => "The plan pays claims (plan community network)".into(),
        NetworkKind::Delegated => format!("{} pays claims (delegated health network)", n.name),
    }
}

fn pcp_label(p: &Provider) -> String {
    if p.credential.is_empty() {
        p.name.clone()
    } else {
        format!("{}, {}", p.name, p.credential)
    }
}

async fn result_view(
    state: &AppState,
    signed: &Signed,
    record: &MemberRecord,
    dos: NaiveDate,
) -> Result<ResultView, storage::StorageError> {
    let m = &record.member;
    let networks = state.store.networks().await?;
    let net = |code: &str| networks.iter().find(|n| n.code == code);
    let answering = span_for(&record.spans, dos);
    let pcp = match answering.and_then(|s| s.pcp) {
        Some(npi) => state.store.provider(&npi).await?,
        None => None,
    };
    let notices = state.store.plan_notices().await?;
    let today = california_today(Utc::now());
    let facts = state
        .store
        .member_care_facts(&m.id, today, earliest_relevant(today))
        .await?;
    let open_gaps = gaps_for(m, &facts, today).iter().filter(|g| g.open).count();
    let assigned_here = pcp
        .as_ref()
        .is_some_and(|p| signed.principal.office_scope().allows_tin(&p.tin))
        && answering.is_some_and(|s| s.covers(today));

    let (status_code, headline) = match answering {
        None => ("none", "No coverage on file".to_string()),
        Some(s) => match s.state_on(dos) {
            SpanState::Active => ("active", format!("Eligible on {}", us_date(dos))),
            SpanState::Termed => (
                "termed",
                format!(
                    "Not eligible on {}: coverage ended {}",
                    us_date(dos),
                    end_label(s)
                ),
            ),
            SpanState::Future => (
                "future",
                format!(
                    "Not eligible on {}: coverage starts {}",
                    us_date(dos),
                    us_date(s.start)
                ),
            ),
        },
    };
    let mut shown: Vec<&PlanNotice> = Vec::new();
    if let Some(s) = answering {
        let kind = net(&s.network)
            .map(|n| n.kind)
            .unwrap_or(NetworkKind::Community);
        shown.extend(notices_for(&notices, s, kind, dos));
        if s.state_on(dos) != SpanState::Future && has_future_span(&record.spans, dos) {
            for f in record.spans.iter().filter(|f| f.start > dos) {
                let kind = net(&f.network)
                    .map(|n| n.kind)
                    .unwrap_or(NetworkKind::Community);
                shown.extend(
                    notices_for(&notices, f, kind, dos)
                        .into_iter()
                        .filter(|n| n.span_state == Some(SpanState::Future)),
                );
            }
        }
    }
    shown.dedup_by(|a, b| a.code == b.code);
    let network = answering.and_then(|s| net(&s.network));
    Ok(ResultView {
        name: format!("{} {}", m.first_name, m.last_name),
        birth_date: us_date(m.birth_date),
        member_id: m.id.to_string(),
        line_of_business: answering
            .map(|s| s.line_of_business.label().to_string())
            .unwrap_or_default(),
        status_code,
        headline,
        date_of_service: us_date(dos),
        spans: record
            .spans
            .iter()
            .rev()
            .map(|s| {
                let st = s.state_on(dos);
                SpanView {
                    start: us_date(s.start),
                    end: end_label(s),
                    line_of_business: s.line_of_business.label(),
                    network: net(&s.network)
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| s.network.clone()),
                    pcp: s.pcp.map(|n| n.to_string()).unwrap_or_default(),
                    state_code: st.code(),
                    state: span_state_label(st),
                    answers: answering.is_some_and(|a| a.start == s.start),
                }
            })
            .collect(),
        network_name: network.map(|n| n.name.clone()).unwrap_or_default(),
        network_payer: network.map(payer).unwrap_or_default(),
        network_phone: network.map(|n| phone_label(&n.phone)).unwrap_or_default(),
        pcp_name: pcp.as_ref().map(pcp_label).unwrap_or_default(),
        pcp_npi: answering
            .and_then(|s| s.pcp)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        pcp_phone: pcp
            .as_ref()
            .map(|p| phone_label(&p.location.phone))
            .unwrap_or_default(),
        pcp_specialty: pcp
            .as_ref()
            .map(|p| p.taxonomy.specialty.clone())
            .unwrap_or_default(),
        notices: shown
            .into_iter()
            .map(|n| NoticeView {
                level: n.level.code(),
                level_label: n.level.label(),
                title: n.title.clone(),
                body: n.body.clone(),
            })
            .collect(),
        open_gaps,
        assigned_here,
    })
}

// ----- batch -----

/// Largest batch file and most rows in one.
pub const BATCH_MAX_BYTES: usize = 1024 * 1024;
pub const BATCH_MAX_ROWS: usize = 5000;
/// How long a result stays downloadable.
pub const BATCH_KEEP_HOURS: i64 = 24;
/// Rows needing attention listed on the summary page.
const ATTENTION_SHOWN: usize = 200;

pub struct AttentionRow {
    pub row: usize,
    pub member_id: String,
    pub name: String,
    pub outcome_code: &'static str,
    pub outcome: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "eligibility_batch.html")]
pub struct BatchPage {
    pub chrome: Chrome,
    pub file_error: Option<String>,
    pub max_rows: String,
    pub summary: Option<BatchSummary>,
}

pub struct BatchSummary {
    pub filename: String,
    pub rows: String,
    pub found: String,
    pub inactive: String,
    pub not_found: String,
    pub errors: String,
    pub download: String,
    pub attention: Vec<AttentionRow>,
    pub attention_total: usize,
    pub keep_hours: i64,
}

fn batch_page(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    file_error: Option<String>,
    summary: Option<BatchSummary>,
) -> Response {
    render(
        status,
        &BatchPage {
            chrome: Chrome::signed(state, signed, "Batch eligibility", "/eligibility"),
            file_error,
            max_rows: thousands(BATCH_MAX_ROWS as i64),
            summary,
        },
    )
}

/// `GET /eligibility/batch`: the upload form.
pub async fn batch_form(State(state): State<AppState>, signed: Signed) -> Response {
    batch_page(&state, &signed, StatusCode::OK, None, None)
}

/// The input columns, by what offices call them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    MemberId,
    BirthDate,
    LastName,
    FirstName,
    DateOfService,
}

fn column(header: &str) -> Option<Column> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    Some(match h.as_str() {
        "member_id" | "memberid" | "member" | "member_number" | "subscriber_id" | "id" => {
            Column::MemberId
        }
        "birth_date" | "birthdate" | "dob" | "date_of_birth" => Column::BirthDate,
        "last_name" | "lastname" | "last" | "surname" => Column::LastName,
        "first_name" | "firstname" | "first" => Column::FirstName,
        "date_of_service" | "dos" | "service_date" => Column::DateOfService,
        _ => return None,
    })
}

/// One input row as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputRow {
    pub line: usize,
    pub form: LookupForm,
}

/// Reads the uploaded file into rows, or says what is wrong with the file (shown next to the
/// file field).
pub fn read_batch(bytes: &[u8]) -> Result<Vec<InputRow>, String> {
    if bytes.len() > BATCH_MAX_BYTES {
        return Err(format!(
            "The file is {} KB; the largest accepted is 1,024 KB ({} rows). Split it into smaller files.",
            bytes.len() / 1024,
            thousands(BATCH_MAX_ROWS as i64)
        ));
    }
    if let Some(kind) = infer::get(bytes) {
        let what = match kind.extension() {
            "zip" | "xlsx" => "an Excel workbook or a ZIP archive",
            "xls" | "ole" | "doc" => "an Excel or Word file",
            "pdf" => "a PDF",
            _ => "not a text file",
        };
        return Err(format!(
            "This file is {what}, not CSV. In your spreadsheet use Save As → CSV, then upload that file."
        ));
    }
    if bytes.contains(&0) {
        return Err("This is not a CSV file (it holds binary data). Upload a .csv file saved from your spreadsheet or practice system.".into());
    }
    // UTF-8 (with or without a byte-order mark); spreadsheets on Windows may save Latin-1.
    let text: String = match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    };
    // One line, one row (member lists have no quoted line breaks), so that a row's number is
    // its line in the file, blank lines counted.
    let parse_line = |line: &str| -> Option<csv::StringRecord> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line.as_bytes());
        r.records().next().and_then(Result::ok)
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let headers = lines
        .next()
        .and_then(|(_, l)| parse_line(l))
        .ok_or_else(|| "The file is empty: its first row must name the columns.".to_string())?;
    let cols: Vec<Option<Column>> = headers.iter().map(column).collect();
    let has = |c: Column| cols.contains(&Some(c));
    if !has(Column::BirthDate) || !(has(Column::MemberId) || has(Column::LastName)) {
        let mut missing = Vec::new();
        if !has(Column::MemberId) && !has(Column::LastName) {
            missing.push("member_id (or last_name)");
        }
        if !has(Column::BirthDate) {
            missing.push("birth_date");
        }
        return Err(format!(
            "The first row must name the columns: member_id, birth_date, and optionally last_name, first_name, date_of_service. Missing: {}.",
            missing.join(", ")
        ));
    }
    let mut rows = Vec::new();
    for (i, text_line) in lines {
        let line = i + 1;
        let Some(rec) = parse_line(text_line) else {
            return Err(format!("Row {line} of the file cannot be read as CSV."));
        };
        if rec.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if rows.len() == BATCH_MAX_ROWS {
            return Err(format!(
                "The file has more than {} rows. Split it into smaller files.",
                thousands(BATCH_MAX_ROWS as i64)
            ));
        }
        let mut form = LookupForm::default();
        for (value, col) in rec.iter().zip(&cols) {
            let v: String = value.trim().chars().take(100).collect();
            match col {
                Some(Column::MemberId) => form.member_id = v,
                Some(Column::BirthDate) => form.birth_date = v,
                Some(Column::LastName) => form.last_name = v,
                Some(Column::FirstName) => form.first_name = v,
                Some(Column::DateOfService) => form.date_of_service = v,
                None => {}
            }
        }
        rows.push(InputRow { line, form });
    }
    if rows.is_empty() {
        return Err("The file has column names but no rows of members.".into());
    }
    Ok(rows)
}

/// The answer for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    pub outcome: BatchOutcome,
    pub message: String,
    pub member: Option<Member>,
    pub span: Option<EligibilitySpan>,
}

fn result(outcome: BatchOutcome, message: impl Into<String>) -> RowResult {
    RowResult {
        outcome,
        message: message.into(),
        member: None,
        span: None,
    }
}

/// A form field as people call it, for messages in a batch row.
fn field_label(name: &str) -> &str {
    match name {
        "member_id" => "Member ID",
        "birth_date" => "Birth date",
        "last_name" => "Last name",
        "first_name" => "First name",
        "date_of_service" => "Date of service",
        other => other,
    }
}

/// Answers every row: members read in bulk (by ID), name searches one by one.
async fn answer(
    state: &AppState,
    rows: &[InputRow],
    today: NaiveDate,
) -> Result<Vec<RowResult>, storage::StorageError> {
    let parsed: Vec<Result<Lookup, String>> = rows
        .iter()
        .map(|r| {
            r.form.parse(today).map_err(|e| {
                e.iter()
                    .map(|(k, v)| format!("{}: {v}", field_label(k)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .collect();
    // Name searches first: each becomes an ID (one match), none or several.
    let mut by_name: Vec<Option<Result<MemberId, RowResult>>> = vec![None; rows.len()];
    for (i, p) in parsed.iter().enumerate() {
        if let Ok(Lookup {
            criteria: Criteria::Name { last, first },
            birth_date,
            ..
        }) = p
        {
            let mut found = state.store.find_members(last, *birth_date).await?;
            found.retain(|m| first_name_matches(m, first.as_deref()));
            by_name[i] = Some(match found.len() {
                0 => Err(result(
                    BatchOutcome::NotFound,
                    "No member with this name and birth date.",
                )),
                1 => Ok(found.remove(0).id),
                n => Err(result(
                    BatchOutcome::Error,
                    format!("{n} members have this name and birth date: add the member ID."),
                )),
            });
        }
    }
    let mut ids: Vec<MemberId> = parsed
        .iter()
        .filter_map(|p| match p {
            Ok(Lookup {
                criteria: Criteria::Id(id),
                ..
            }) => Some(id.clone()),
            _ => None,
        })
        .collect();
    ids.extend(
        by_name
            .iter()
            .flatten()
            .filter_map(|r| r.as_ref().ok().cloned()),
    );
    let records: HashMap<MemberId, MemberRecord> = state
        .store
        .members_by_ids(&ids)
        .await?
        .into_iter()
        .map(|r| (r.member.id.clone(), r))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for (i, p) in parsed.into_iter().enumerate() {
        let lookup = match p {
            Ok(l) => l,
            Err(msg) => {
                out.push(result(BatchOutcome::Error, msg));
                continue;
            }
        };
        let record = match (&lookup.criteria, by_name[i].take()) {
            (Criteria::Id(id), _) => match records.get(id) {
                Some(r)
                    if r.member.birth_date == lookup.birth_date
                        && (rows[i].form.last_name.trim().is_empty()
                            || r.member.last_name.to_lowercase()
                                == rows[i].form.last_name.trim().to_lowercase()) =>
                {
                    r
                }
                _ => {
                    out.push(result(
                        BatchOutcome::NotFound,
                        "No member with this ID and birth date (and last name, when given).",
                    ));
                    continue;
                }
            },
            (_, Some(Ok(id))) => match records.get(&id) {
                Some(r) => r,
                None => {
                    out.push(result(
                        BatchOutcome::NotFound,
                        "No member with this name and birth date.",
                    ));
                    continue;
                }
            },
            (_, Some(Err(r))) => {
                out.push(r);
                continue;
            }
            (_, None) => {
                out.push(result(BatchOutcome::Error, "Row not checked."));
                continue;
            }
        };
        let dos = lookup.date_of_service;
        let span = span_for(&record.spans, dos).cloned();
        let (outcome, message) = match &span {
            Some(s) if s.covers(dos) => (BatchOutcome::Found, format!("Eligible on {}", dos)),
            Some(s) if s.start > dos => (
                BatchOutcome::Inactive,
                format!("Not eligible on {dos}: coverage starts {}", s.start),
            ),
            Some(s) => (
                BatchOutcome::Inactive,
                format!(
                    "Not eligible on {dos}: coverage ended {}",
                    s.end.map(|e| e.to_string()).unwrap_or_default()
                ),
            ),
            None => (BatchOutcome::Inactive, "No coverage on file.".to_string()),
        };
        out.push(RowResult {
            outcome,
            message,
            member: Some(record.member.clone()),
            span,
        });
    }
    Ok(out)
}

pub const CSV_HEADER: [&str; 17] = [
    "row",
    "member_id",
    "birth_date",
    "last_name",
    "first_name",
    "date_of_service",
    "result",
    "matched_member_id",
    "member_name",
    "line_of_business",
    "network",
    "pcp_npi",
    "pcp_name",
    "pcp_phone",
    "span_start",
    "span_end",
    "message",
];

/// One output row, every text cell safe to open in a spreadsheet.
pub fn csv_row(
    input: &InputRow,
    r: &RowResult,
    networks: &[HealthNetwork],
    providers: &HashMap<Npi, Provider>,
) -> [String; 17] {
    let cell = |s: &str| csv_cell(s).into_owned();
    let span = r.span.as_ref();
    let pcp = span.and_then(|s| s.pcp);
    let provider = pcp.and_then(|n| providers.get(&n));
    [
        input.line.to_string(),
        cell(&input.form.member_id),
        cell(&input.form.birth_date),
        cell(&input.form.last_name),
        cell(&input.form.first_name),
        cell(&input.form.date_of_service),
        r.outcome.code().to_string(),
        r.member
            .as_ref()
            .map(|m| m.id.to_string())
            .unwrap_or_default(),
        r.member
            .as_ref()
            .map(|m| cell(&format!("{} {}", m.first_name, m.last_name)))
            .unwrap_or_default(),
        span.map(|s| s.line_of_business.label().to_string())
            .unwrap_or_default(),
        span.map(|s| {
            cell(
                &networks
                    .iter()
                    .find(|n| n.code == s.network)
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| s.network.clone()),
            )
        })
        .unwrap_or_default(),
        pcp.map(|n| n.to_string()).unwrap_or_default(),
        provider.map(|p| cell(&pcp_label(p))).unwrap_or_default(),
        provider
            .map(|p| cell(&phone_label(&p.location.phone)))
            .unwrap_or_default(),
        span.map(|s| s.start.to_string()).unwrap_or_default(),
        span.and_then(|s| s.end)
            .map(|e| e.to_string())
            .unwrap_or_default(),
        cell(&r.message),
    ]
}

/// `POST /eligibility/batch` (multipart: `file`).
pub async fn batch_submit(State(state): State<AppState>, signed: Signed, req: Request) -> Response {
    let refuse = |msg: &str| {
        batch_page(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg.to_string()),
            None,
        )
    };
    let Ok(upload) = Upload::from_request(req, &state).await else {
        return refuse("Choose a CSV file to upload.");
    };
    let got = receive(upload, "file").await;
    if let Some(p) = got.problem {
        return refuse(&p);
    }
    let Some((filename, bytes)) = got.file else {
        return refuse("Choose a CSV file to upload.");
    };
    let rows = match read_batch(&bytes) {
        Ok(r) => r,
        Err(msg) => return refuse(&msg),
    };
    let today = california_today(Utc::now());
    let results = match answer(&state, &rows, today).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, rows = rows.len(), "batch eligibility failed");
            return errors::unavailable(&state);
        }
    };
    let npis: Vec<Npi> = results
        .iter()
        .filter_map(|r| r.span.as_ref().and_then(|s| s.pcp))
        .collect();
    let (networks, providers) = match (
        state.store.networks().await,
        state.store.providers_by_npi(&npis).await,
    ) {
        (Ok(n), Ok(p)) => (
            n,
            p.into_iter().map(|p| (p.npi, p)).collect::<HashMap<_, _>>(),
        ),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "batch eligibility failed");
            return errors::unavailable(&state);
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADER);
    let mut counts = BatchCounts {
        rows: rows.len() as i64,
        ..BatchCounts::default()
    };
    for (input, r) in rows.iter().zip(&results) {
        match r.outcome {
            BatchOutcome::Found => counts.found += 1,
            BatchOutcome::Inactive => counts.inactive += 1,
            BatchOutcome::NotFound => counts.not_found += 1,
            BatchOutcome::Error => counts.errors += 1,
        }
        if w.write_record(csv_row(input, r, &networks, &providers))
            .is_err()
        {
            return errors::unavailable(&state);
        }
    }
    let Ok(csv_bytes) = w.into_inner() else {
        return errors::unavailable(&state);
    };
    let mut member_ids: Vec<MemberId> = results
        .iter()
        .filter_map(|r| r.member.as_ref().map(|m| m.id.clone()))
        .collect();
    member_ids.sort();
    member_ids.dedup();
    let ids: Vec<String> = member_ids.iter().map(|m| m.to_string()).collect();
    // Every member the result names, recorded before it is shown or kept for download.
    if let Err(p) = audit::phi_reads(&state, &signed, "member.batch_read", "member", &ids).await {
        return p;
    }
    let now = Utc::now();
    let id = domain::session::new_token();
    let filename: String = filename
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let batch = NewBatch {
        id: id.clone(),
        user_id: signed.identity.user.id,
        created_at: now,
        filename: filename.clone(),
        counts,
        member_ids,
        result: csv_bytes,
    };
    if let Err(e) = state
        .store
        .save_batch(&batch, now - Duration::hours(BATCH_KEEP_HOURS))
        .await
    {
        tracing::error!(error = %e, "batch eligibility could not be kept");
        return errors::unavailable(&state);
    }
    tracing::info!(rows = counts.rows, "batch eligibility answered");
    let attention: Vec<AttentionRow> = rows
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.outcome != BatchOutcome::Found)
        .map(|(input, r)| AttentionRow {
            row: input.line,
            member_id: input.form.member_id.clone(),
            name: match &r.member {
                Some(m) => format!("{} {}", m.first_name, m.last_name),
                None => format!("{} {}", input.form.first_name, input.form.last_name)
                    .trim()
                    .to_string(),
            },
            outcome_code: r.outcome.code(),
            outcome: r.outcome.label(),
            message: r.message.clone(),
        })
        .collect();
    let attention_total = attention.len();
    batch_page(
        &state,
        &signed,
        StatusCode::OK,
        None,
        Some(BatchSummary {
            filename,
            rows: thousands(counts.rows),
            found: thousands(counts.found),
            inactive: thousands(counts.inactive),
            not_found: thousands(counts.not_found),
            errors: thousands(counts.errors),
            download: format!("/eligibility/batch/{id}"),
            attention: attention.into_iter().take(ATTENTION_SHOWN).collect(),
            attention_total,
            keep_hours: BATCH_KEEP_HOURS,
        }),
    )
}

/// `GET /eligibility/batch/{batch}`: the result CSV, for its uploader, for a day.
pub async fn batch_download(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let well_formed = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let found = if well_formed {
        match state
            .store
            .batch(
                &id,
                signed.identity.user.id,
                Utc::now() - Duration::hours(BATCH_KEEP_HOURS),
            )
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "batch download failed");
                return errors::unavailable(&state);
            }
        }
    } else {
        None
    };
    let Some(storage::BatchFile { record, csv: bytes }) = found else {
        return errors::no_such_record(
            &state,
            &signed,
            "batch result (results are kept for 24 hours)",
        );
    };
    let ids: Vec<String> = record.member_ids.iter().map(|m| m.to_string()).collect();
    if let Err(p) = audit::phi_reads(&state, &signed, "member.batch_download", "member", &ids).await
    {
        return p;
    }
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let name = format!(
        "attachment; filename=\"eligibility-{}.csv\"",
        record.created_at.format("%Y%m%d-%H%M")
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
    fn columns_by_common_names() {
        assert_eq!(column("Member ID"), Some(Column::MemberId));
        assert_eq!(column("\u{feff}member_id"), Some(Column::MemberId));
        assert_eq!(column("DOB"), Some(Column::BirthDate));
        assert_eq!(column("date-of-service"), Some(Column::DateOfService));
        assert_eq!(column("zip"), None);
    }

    #[test]
    fn files_are_read_or_refused_with_a_reason() {
        let rows = read_batch(
            b"member_id,birth_date\r\nM000000001,01/31/1980\r\n\r\n,\r\nM2,1980-01-31\r\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2, "blank rows are skipped");
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].form.birth_date, "01/31/1980");
        assert_eq!(rows[1].line, 5);
        let e = read_batch(b"name,zip\r\nAna,92701\r\n").unwrap_err();
        assert!(
            e.contains("Missing: member_id (or last_name), birth_date"),
            "{e}"
        );
        assert!(
            read_batch(b"member_id,birth_date\r\n")
                .unwrap_err()
                .contains("no rows")
        );
        assert!(
            read_batch(b"PK\x03\x04\x14\x00\x06\x00")
                .unwrap_err()
                .contains("not CSV")
        );
        assert!(read_batch(b"%PDF-1.7\n").unwrap_err().contains("PDF"));
        assert!(
            read_batch(b"member_id,birth_date\n\x00\x01")
                .unwrap_err()
                .contains("binary")
        );
        let big = vec![b'a'; BATCH_MAX_BYTES + 1];
        assert!(read_batch(&big).unwrap_err().contains("1,024 KB"));
        let mut many = String::from("member_id,birth_date\n");
        for i in 0..=BATCH_MAX_ROWS {
            many.push_str(&format!("M{i:09},1980-01-01\n"));
        }
        assert!(
            read_batch(many.as_bytes())
                .unwrap_err()
                .contains("more than 5,000 rows")
        );
        // Latin-1 names from a Windows spreadsheet are read, not refused.
        let rows = read_batch(b"last_name,birth_date\nGarc\xeda,1980-01-31\n").unwrap();
        assert_eq!(rows[0].form.last_name, "García");
    }

    #[test]
    fn output_cells_never_start_a_formula() {
        let input = InputRow {
            line: 2,
            form: LookupForm {
                member_id: "=HYPERLINK(\"http://x\")".into(),
                last_name: "@SUM(A1)".into(),
                first_name: "+1".into(),
                birth_date: "-2".into(),
                date_of_service: "\t3".into(),
            },
        };
        let r = result(BatchOutcome::Error, "=cmd|' /C calc'!A0");
        let row = csv_row(&input, &r, &[], &HashMap::new());
        for cell in &row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
        assert_eq!(row[1], "'=HYPERLINK(\"http://x\")");
        assert_eq!(row[6], "error");
    }
}
