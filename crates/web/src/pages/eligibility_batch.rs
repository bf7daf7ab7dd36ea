//! Batch eligibility: a CSV file of members in, a CSV of results out (kept a day for its
//! uploader), each row answered as the lookup page would answer it and through the same
//! lookup guard (`edi::lookups`): a file that tries one member ID with many birth dates is
//! refused before anything is looked up, and the rows after the budget of not-found lookups
//! runs out are not checked. Every member the result names is audited before it is shown.

use crate::AppState;
use crate::audit;
use crate::auth::Signed;
use crate::kit::format::thousands;
use crate::kit::upload::{Upload, receive};
use crate::pages::eligibility::{limit_message, looker};
use crate::pages::eligibility_csv::result;
pub use crate::pages::eligibility_csv::{
    BATCH_MAX_ROWS, CSV_HEADER, InputRow, RowResult, csv_row, read_batch,
};
use crate::pages::{Chrome, errors, render};
use askama::Template;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use domain::eligibility::{
    BatchOutcome, Criteria, Lookup, california_today, first_name_matches, span_for,
};
use domain::lookup_limits::guessed_ids;
use domain::{MemberId, Npi};
use edi::lookups::{Attempt, Channel};
use std::collections::HashMap;
use storage::{BatchCounts, MemberRecord, NewBatch};

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
    /// Rows (or the whole file) not checked because the budget of not-found lookups ran out.
    pub limit: Option<String>,
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
    limit: Option<String>,
    summary: Option<BatchSummary>,
) -> Response {
    render(
        status,
        &BatchPage {
            chrome: Chrome::signed(state, signed, "Batch eligibility", "/eligibility"),
            file_error,
            limit,
            max_rows: thousands(BATCH_MAX_ROWS as i64),
            summary,
        },
    )
}

/// `GET /eligibility/batch`: the upload form.
pub async fn batch_form(State(state): State<AppState>, signed: Signed) -> Response {
    batch_page(&state, &signed, StatusCode::OK, None, None, None)
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

/// Each row's lookup, or what is wrong with the row.
fn parse_rows(rows: &[InputRow], today: NaiveDate) -> Vec<Result<Lookup, String>> {
    rows.iter()
        .map(|r| {
            r.form.parse(today).map_err(|e| {
                e.iter()
                    .map(|(k, v)| format!("{}: {v}", field_label(k)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .collect()
}

/// Answers every row: members read in bulk (by ID), name searches one by one.
async fn answer(
    state: &AppState,
    rows: &[InputRow],
    parsed: Vec<Result<Lookup, String>>,
) -> Result<Vec<RowResult>, storage::StorageError> {
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

/// `POST /eligibility/batch` (multipart: `file`).
pub async fn batch_submit(State(state): State<AppState>, signed: Signed, req: Request) -> Response {
    let refuse = |msg: &str| {
        batch_page(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg.to_string()),
            None,
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
    let now = Utc::now();
    let parsed = parse_rows(&rows, california_today(now));
    let who = looker(&signed);
    // One member ID with more birth dates than anyone has is guessing: the file is refused
    // before anything is looked up, and the guesses count against the budget.
    let guessed = guessed_ids(parsed.iter().filter_map(|p| match p {
        Ok(Lookup {
            criteria: Criteria::Id(id),
            birth_date,
            ..
        }) => Some((id, *birth_date)),
        _ => None,
    }));
    if let Some((id, dates)) = guessed.first() {
        return match edi::lookups::refuse_guessing(
            &*state.store,
            &who,
            Channel::Batch,
            &guessed,
            now,
        )
        .await
        {
            Ok(v) => {
                crate::mail::deliver_queued(&state, &v.alerts).await;
                refuse(&format!(
                    "This file tries member ID {id} with {} different birth dates. A member has one \
                     birth date: trying many is guessing, so the file was not checked, and the \
                     guesses count against your lookups that find no member. Check the birth date \
                     on the member's card.",
                    thousands(*dates as i64)
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "batch eligibility not admitted");
                errors::unavailable(&state)
            }
        };
    }
    // The member ID each row tries (`None` inside: by name); rows that could not be read are
    // no lookup.
    let tried: Vec<Option<Option<MemberId>>> = parsed
        .iter()
        .map(|p| {
            p.as_ref().ok().map(|l| match &l.criteria {
                Criteria::Id(id) => Some(id.clone()),
                Criteria::Name { .. } => None,
            })
        })
        .collect();
    let mut results = match answer(&state, &rows, parsed).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, rows = rows.len(), "batch eligibility failed");
            return errors::unavailable(&state);
        }
    };
    // The guard, before any row is shown or kept: the rows after the budget ran out are not
    // checked, found or not.
    let looked: Vec<usize> = (0..rows.len()).filter(|&i| tried[i].is_some()).collect();
    let attempts: Vec<Attempt> = looked
        .iter()
        .map(|&i| Attempt {
            member_id: tried[i].clone().flatten(),
            found: results[i].outcome != BatchOutcome::NotFound,
        })
        .collect();
    let verdict =
        match edi::lookups::admit(&*state.store, &who, Channel::Batch, &attempts, now).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "batch eligibility not admitted");
                return errors::unavailable(&state);
            }
        };
    crate::mail::deliver_queued(&state, &verdict.alerts).await;
    let limit = match looked.get(verdict.answered) {
        None => None,
        Some(&first) => {
            let why = limit_message(verdict.retry_at);
            if verdict.answered == 0 {
                return batch_page(
                    &state,
                    &signed,
                    StatusCode::TOO_MANY_REQUESTS,
                    None,
                    Some(format!("The file was not checked. {why}")),
                    None,
                );
            }
            for r in &mut results[first..] {
                *r = result(
                    BatchOutcome::Error,
                    "Not checked: too many members were not found today.",
                );
            }
            Some(format!(
                "Rows {} to {} of the file were not checked. {why}",
                rows[first].line,
                rows[rows.len() - 1].line
            ))
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
        limit,
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
    let name = format!(
        "eligibility-{}.csv",
        record.created_at.format("%Y%m%d-%H%M")
    );
    crate::kit::csv::attachment(&name, bytes)
}
