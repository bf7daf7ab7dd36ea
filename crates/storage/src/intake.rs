//! 837 intake: the interchanges received (with the 999 and 277CA sent back), the outcome of each
//! claim in them, the accepted claims stored with the interchange in one transaction, and the
//! counters that number claims and outbound interchanges ([`IntakeStore`]).

use crate::claims::insert_claims_in;
use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{SpanRow, claim_number, decode, member_id, npi, span_columns, tin};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, StorageError, on_pool};
use chrono::{DateTime, Utc};
use domain::claim::Claim;
use domain::member::EligibilitySpan;
use domain::{Cents, ClaimNumber, MemberId, Npi, Tin};
use sqlx::QueryBuilder;
use std::collections::HashMap;

#[async_trait::async_trait]
pub trait IntakeStore: Send + Sync {
    /// The members (with their eligibility) and providers (with their TIN) an 837 batch names,
    /// read in bulk; unknown ones are absent.
    async fn intake_lookup(&self, members: &[MemberId], npis: &[Npi]) -> Result<IntakeLookup>;
    /// Reserves `n` new claim numbers and returns the first sequence number
    /// (`ClaimNumber::from_sequence`): never one already handed out or stored, whatever runs at
    /// the same time. A reservation not used leaves a gap, nothing more.
    async fn reserve_claim_numbers(&self, n: u64) -> Result<u64>;
    /// Reserves `n` control numbers for interchanges the plan sends (999, 277CA).
    async fn reserve_control_numbers(&self, n: u64) -> Result<u64>;
    /// Records an interchange with its accepted claims (status Received) and the outcome of each
    /// claim, in ONE transaction: a failure anywhere leaves nothing. Recording a second accepted
    /// interchange with the same sender and ISA13, or the same bytes, fails with `Duplicate`.
    async fn store_interchange(
        &self,
        interchange: &NewInterchange,
        claims: &[Claim],
        results: &[IntakeClaimResult],
    ) -> Result<i64>;
    /// The stored, not rejected, interchange with these bytes (hex SHA-256).
    async fn interchange_by_hash(&self, sha256: &str) -> Result<Option<InterchangeRecord>>;
    /// The stored, not rejected, interchange from this sender (ISA05/ISA06) with this ISA13.
    async fn interchange_by_control(
        &self,
        qualifier: &str,
        sender: &str,
        control: &str,
    ) -> Result<Option<InterchangeRecord>>;
    /// One interchange; with `org`, `None` unless that organisation submitted it.
    async fn interchange(&self, id: i64, org: Option<i64>) -> Result<Option<InterchangeRecord>>;
    /// The 999 (or TA1), 277CA and findings sent back for an interchange.
    async fn interchange_acks(&self, id: i64) -> Result<Option<StoredAcks>>;
    /// The outcome of each claim of an interchange, in file order.
    async fn interchange_results(&self, id: i64) -> Result<Vec<IntakeClaimResult>>;
    /// An organisation's submissions, newest first.
    async fn interchanges_of_org(&self, org: i64, limit: i64) -> Result<Vec<InterchangeRecord>>;
}

/// How an interchange fared at the envelope and 999 level (the claims' own outcomes are counted
/// apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterchangeStatus {
    /// Every transaction set accepted by the 999.
    Accepted,
    /// Some sets accepted, some rejected by the 999.
    Partial,
    /// Rejected by the TA1 or the 999 (nothing stored but this record).
    Rejected,
}

impl InterchangeStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Partial => "partial",
            Self::Rejected => "rejected",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Some(match s {
            "accepted" => Self::Accepted,
            "partial" => Self::Partial,
            "rejected" => Self::Rejected,
            _ => return None,
        })
    }
}

/// An interchange to record.
#[derive(Debug, Clone)]
pub struct NewInterchange {
    pub sender_qualifier: String,
    pub sender_id: String,
    pub control_number: String,
    /// Hex SHA-256 of the bytes received.
    pub sha256: String,
    pub received_at: DateTime<Utc>,
    /// `None` for the operator (command line).
    pub submitter_user: Option<i64>,
    pub submitter_org: Option<i64>,
    pub submitter_name: String,
    pub source: String,
    pub file_name: String,
    pub bytes: i64,
    /// "P", "I" or "P,I".
    pub forms: String,
    pub status: InterchangeStatus,
    pub claims_accepted: i64,
    pub claims_rejected: i64,
    pub ack_999: String,
    pub ack_277ca: Option<String>,
    /// The 999's findings in words, one per line.
    pub findings: String,
}

/// A recorded interchange, without its acknowledgement texts (see `interchange_acks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeRecord {
    pub id: i64,
    pub sender_qualifier: String,
    pub sender_id: String,
    pub control_number: String,
    pub sha256: String,
    pub received_at: DateTime<Utc>,
    pub submitter_user: Option<i64>,
    pub submitter_org: Option<i64>,
    pub submitter_name: String,
    pub source: String,
    pub file_name: String,
    pub bytes: i64,
    pub forms: String,
    pub status: InterchangeStatus,
    pub claims_accepted: i64,
    pub claims_rejected: i64,
    pub has_277ca: bool,
}

/// What was sent back for an interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAcks {
    pub ack_999: String,
    pub ack_277ca: Option<String>,
    pub findings: String,
}

/// The outcome of one claim of an interchange, as its 277CA reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeClaimResult {
    pub seq: i64,
    pub set_control: String,
    pub patient_account: String,
    pub member_id: String,
    pub billing_npi: String,
    pub charge: Cents,
    /// The plan's claim number, when accepted.
    pub claim_number: Option<ClaimNumber>,
    /// STC01 as sent: `A2:20`, `A3:33`, `A7:562:85`.
    pub status_code: String,
    /// In words.
    pub reason: String,
}

/// What an 837 batch names, read in bulk: members with their eligibility, providers' TINs.
#[derive(Debug, Clone, Default)]
pub struct IntakeLookup {
    pub members: HashMap<MemberId, Vec<EligibilitySpan>>,
    pub providers: HashMap<Npi, Tin>,
}

/// Reserves `n` consecutive values of a counter and returns the first. The first UPDATE takes
/// the counter's lock (a row lock on PostgreSQL, the write lock on SQLite), so concurrent
/// reservations, from any number of portal instances, never overlap. Claim numbers also skip
/// past the highest claim number already stored (the seeded plan numbers its own claims).
pub(crate) async fn reserve(store: &SqlStore, name: &'static str, n: u64) -> Result<u64> {
    let n = i64::try_from(n).map_err(|_| StorageError::Database("reservation too large".into()))?;
    let start: i64 = on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        let next: i64 = sqlx::query_scalar::<DB, i64>("UPDATE intake_counters SET next = next WHERE name = $1 RETURNING next")
            .bind(name).fetch_one(&mut *tx).await?;
        let floor = if name == "claim" {
            let max: Option<String> = sqlx::query_scalar::<DB, Option<String>>("SELECT MAX(number) FROM claims").fetch_one(&mut *tx).await?;
            max.and_then(|m| m.get(ClaimNumber::PREFIX.len()..).and_then(|d| d.parse::<i64>().ok())).map_or(0, |v| v + 1)
        } else {
            0
        };
        let start = next.max(floor);
        sqlx::query::<DB>("UPDATE intake_counters SET next = $1 WHERE name = $2").bind(start + n).bind(name).execute(&mut *tx).await?;
        tx.commit().await?;
        start
    });
    u64::try_from(start).map_err(|e| corrupt("intake_counters.next", e))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    sender_qualifier: String,
    sender_id: String,
    control_number: String,
    sha256: String,
    received_at: DateTime<Utc>,
    submitter_user: Option<i64>,
    submitter_org: Option<i64>,
    submitter_name: String,
    source: String,
    file_name: String,
    bytes: i64,
    forms: String,
    status: String,
    claims_accepted: i64,
    claims_rejected: i64,
    has_277ca: i64,
}

const COLUMNS: &str = "SELECT id, sender_qualifier, sender_id, control_number, sha256, received_at, submitter_user, submitter_org, submitter_name, source, file_name, bytes, forms, status, claims_accepted, claims_rejected, CAST(CASE WHEN ack_277ca IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_277ca FROM interchanges ";

fn record(r: Row) -> Result<InterchangeRecord> {
    Ok(InterchangeRecord {
        id: r.id,
        sender_qualifier: r.sender_qualifier,
        sender_id: r.sender_id,
        control_number: r.control_number,
        sha256: r.sha256,
        received_at: r.received_at,
        submitter_user: r.submitter_user,
        submitter_org: r.submitter_org,
        submitter_name: r.submitter_name,
        source: r.source,
        file_name: r.file_name,
        bytes: r.bytes,
        forms: r.forms,
        status: decode(
            "interchanges.status",
            &r.status,
            InterchangeStatus::from_code,
        )?,
        claims_accepted: r.claims_accepted,
        claims_rejected: r.claims_rejected,
        has_277ca: r.has_277ca != 0,
    })
}

#[derive(sqlx::FromRow)]
struct ResultRow {
    seq: i64,
    set_control: String,
    patient_account: String,
    member_id: String,
    billing_npi: String,
    charge: i64,
    claim_number: Option<String>,
    status_code: String,
    reason: String,
}

#[async_trait::async_trait]
impl IntakeStore for SqlStore {
    async fn reserve_claim_numbers(&self, n: u64) -> Result<u64> {
        reserve(self, "claim", n).await
    }

    async fn reserve_control_numbers(&self, n: u64) -> Result<u64> {
        reserve(self, "interchange", n).await
    }

    async fn intake_lookup(&self, members: &[MemberId], npis: &[Npi]) -> Result<IntakeLookup> {
        let mut out = IntakeLookup::default();
        for chunk in members.chunks(INSERT_CHUNK) {
            let chunk: Vec<String> = chunk.iter().map(|m| m.as_str().to_string()).collect();
            let (ids, spans): (Vec<String>, Vec<SpanRow>) = on_pool!(self, p, DB => {
                let mut b = QueryBuilder::<DB>::new("SELECT id FROM members WHERE id");
                push_in(&mut b, &chunk);
                let ids = b.build_query_scalar::<String>().fetch_all(p).await?;
                let mut b = QueryBuilder::<DB>::new(concat!("SELECT ", span_columns!(), " FROM eligibility_spans WHERE member_id"));
                push_in(&mut b, &chunk);
                b.push(" ORDER BY member_id, start_date");
                let spans = b.build_query_as::<SpanRow>().fetch_all(p).await?;
                (ids, spans)
            });
            for id in ids {
                out.members
                    .entry(member_id("members.id", &id)?)
                    .or_default();
            }
            for s in spans {
                let id = s.member()?;
                out.members.entry(id).or_default().push(s.into_span()?);
            }
        }
        for chunk in npis.chunks(INSERT_CHUNK) {
            let chunk: Vec<String> = chunk.iter().map(|n| n.as_str().to_string()).collect();
            let rows: Vec<(String, String)> = on_pool!(self, p, DB => {
                let mut b = QueryBuilder::<DB>::new("SELECT npi, tin FROM providers WHERE npi");
                push_in(&mut b, &chunk);
                b.build_query_as::<(String, String)>().fetch_all(p).await?
            });
            for (n, t) in rows {
                out.providers
                    .insert(npi("providers.npi", &n)?, tin("providers.tin", &t)?);
            }
        }
        Ok(out)
    }

    /// One transaction: the interchange record, its accepted claims (with their lines) and the
    /// outcome of every claim. A unique-constraint failure (the same interchange stored already)
    /// is `Duplicate`; any failure leaves nothing behind.
    async fn store_interchange(
        &self,
        ix: &NewInterchange,
        claims: &[Claim],
        results: &[IntakeClaimResult],
    ) -> Result<i64> {
        const INSERT: &str = "INSERT INTO interchanges (sender_qualifier, sender_id, control_number, sha256, received_at, submitter_user, submitter_org, submitter_name, source, file_name, bytes, forms, status, claims_accepted, claims_rejected, ack_999, ack_277ca, findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id";
        let id: i64 = on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar::<DB, i64>(INSERT)
                .bind(&ix.sender_qualifier).bind(&ix.sender_id).bind(&ix.control_number).bind(&ix.sha256)
                .bind(ix.received_at).bind(ix.submitter_user).bind(ix.submitter_org).bind(&ix.submitter_name)
                .bind(&ix.source).bind(&ix.file_name).bind(ix.bytes).bind(&ix.forms).bind(ix.status.code())
                .bind(ix.claims_accepted).bind(ix.claims_rejected).bind(&ix.ack_999).bind(&ix.ack_277ca).bind(&ix.findings)
                .fetch_one(&mut *tx).await?;
            insert_claims_in!(tx, claims, DB);
            for chunk in results.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO interchange_claims (interchange_id, seq, set_control, patient_account, member_id, billing_npi, charge, claim_number, status_code, reason) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(id).push_bind(r.seq).push_bind(&r.set_control).push_bind(&r.patient_account).push_bind(&r.member_id)
                        .push_bind(&r.billing_npi).push_bind(r.charge.0).push_bind(r.claim_number.as_ref().map(|n| n.as_str().to_string()))
                        .push_bind(&r.status_code).push_bind(&r.reason);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// The stored (not rejected) interchange with these bytes.
    async fn interchange_by_hash(&self, sha256: &str) -> Result<Option<InterchangeRecord>> {
        let sql = format!("{COLUMNS} WHERE sha256 = $1 AND status <> 'rejected'");
        let row: Option<Row> = on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql)).bind(sha256).fetch_optional(p).await?);
        row.map(record).transpose()
    }

    /// The stored (not rejected) interchange with this sender and ISA13.
    async fn interchange_by_control(
        &self,
        qualifier: &str,
        sender: &str,
        control: &str,
    ) -> Result<Option<InterchangeRecord>> {
        let sql = format!(
            "{COLUMNS} WHERE sender_qualifier = $1 AND sender_id = $2 AND control_number = $3 AND status <> 'rejected'"
        );
        let row: Option<Row> = on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql)).bind(qualifier).bind(sender).bind(control).fetch_optional(p).await?);
        row.map(record).transpose()
    }

    /// One interchange; with `org`, only when that organisation submitted it.
    async fn interchange(&self, id: i64, org: Option<i64>) -> Result<Option<InterchangeRecord>> {
        let row: Option<Row> = match org {
            Some(org) => {
                let sql = format!("{COLUMNS} WHERE id = $1 AND submitter_org = $2");
                on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql)).bind(id).bind(org).fetch_optional(p).await?)
            }
            None => {
                let sql = format!("{COLUMNS} WHERE id = $1");
                on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            }
        };
        row.map(record).transpose()
    }

    async fn interchange_acks(&self, id: i64) -> Result<Option<StoredAcks>> {
        const SQL: &str = "SELECT ack_999, ack_277ca, findings FROM interchanges WHERE id = $1";
        let row: Option<(String, Option<String>, String)> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(id).fetch_optional(p).await?);
        Ok(row.map(|(ack_999, ack_277ca, findings)| StoredAcks {
            ack_999,
            ack_277ca,
            findings,
        }))
    }

    async fn interchange_results(&self, id: i64) -> Result<Vec<IntakeClaimResult>> {
        const SQL: &str = "SELECT seq, set_control, patient_account, member_id, billing_npi, charge, claim_number, status_code, reason FROM interchange_claims WHERE interchange_id = $1 ORDER BY seq";
        let rows: Vec<ResultRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, ResultRow>(SQL).bind(id).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                Ok(IntakeClaimResult {
                    seq: r.seq,
                    set_control: r.set_control,
                    patient_account: r.patient_account,
                    member_id: r.member_id,
                    billing_npi: r.billing_npi,
                    charge: Cents(r.charge),
                    claim_number: r
                        .claim_number
                        .map(|n| claim_number("interchange_claims.claim_number", &n))
                        .transpose()?,
                    status_code: r.status_code,
                    reason: r.reason,
                })
            })
            .collect()
    }

    /// An organisation's submissions, newest first.
    async fn interchanges_of_org(&self, org: i64, limit: i64) -> Result<Vec<InterchangeRecord>> {
        let sql = format!(
            "{COLUMNS} WHERE submitter_org = $1 ORDER BY received_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql)).bind(org).bind(limit.clamp(1, 1000)).fetch_all(p).await?);
        rows.into_iter().map(record).collect()
    }
}
