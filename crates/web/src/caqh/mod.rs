//! The CAQH CORE connectivity endpoint (HTTP MIME multipart, rule vC2.2.0): trading partners
//! post envelopes with X12 payloads and get envelopes back.
//!
//! - `POST /core/realtime`: RealTime payloads (270 -> 271, 276 -> 277), bodies up to 1 MB.
//! - `POST /core/batch`: Batch payloads (837), bodies up to the portal's body limit.
//! - `POST /core`: either, by ProcessingMode.
//!
//! Not a browser route: no cookie session and no CSRF token; the envelope's UserName/Password
//! authenticate an account with the EDI trading partner role (argon2id once, then the
//! credential cache of `edi::caqh`; see `sign_in`: failures are throttled per source address,
//! never by locking the partner's account). Each address is rate-limited (`Policy::TradingPartner`).
//! The body is read before anyone is known, so it is bounded (1 MB real time; batch bodies at most
//! [`BIG_BODIES`] at once) and parsed in time linear in its length (`edi::caqh::parse_multipart`).
//!
//! Every request is written to the audit trail, refused ones included (oversized, rate-limited,
//! malformed, unauthorized): the request (partner, payload type, PayloadID, outcome) and each
//! member or claim the answer discloses, *before* the answer is sent, through a group-commit
//! writer ([`AuditWriter`]) so that thousands of requests a second do not queue on the trail's
//! lock. Logs carry counts and codes, never payload content.

mod audit_writer;
mod sign_in;

pub use audit_writer::AuditWriter;
use audit_writer::event;
pub use sign_in::FailureBudget;

use crate::AppState;
use crate::auth::Visitor;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use edi::Partner;
use edi::caqh::{
    self as caqh, CredentialCache, EnvelopeError, ErrorCode, Kind, Mode, Plan, Refused,
};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Largest real-time envelope (a 270 or 276 is a few kilobytes).
pub const REALTIME_LIMIT: usize = 1024 * 1024;
/// Largest batch envelope: the portal's request body limit.
pub const BATCH_LIMIT: usize = crate::BODY_LIMIT;
/// Batch-sized bodies (over [`REALTIME_LIMIT`]) read at once, before anyone is authenticated:
/// a stranger cannot make the portal hold more than this many times [`BATCH_LIMIT`] in memory.
pub const BIG_BODIES: usize = 4;

/// A partner as cached after a successful sign-in.
#[derive(Clone)]
pub struct CachedPartner {
    pub partner: Partner,
    pub username: String,
}

/// What the endpoint keeps between requests.
pub struct CoreState {
    pub plan: Plan,
    pub credentials: CredentialCache<CachedPartner>,
    /// At most two argon2id verifications at once: a spray of wrong passwords cannot take
    /// every core, and partners' first requests queue briefly instead.
    verifying: Semaphore,
    /// Failed sign-ins per source address.
    pub failures: FailureBudget,
    big_bodies: Semaphore,
    audit: AuditWriter,
}

impl Default for CoreState {
    fn default() -> Self {
        CoreState::with_cache(CredentialCache::new())
    }
}

impl CoreState {
    /// With a given credential cache (tests shorten its re-check interval).
    pub fn with_cache(credentials: CredentialCache<CachedPartner>) -> Self {
        CoreState {
            plan: Plan::default(),
            credentials,
            verifying: Semaphore::new(2),
            failures: FailureBudget::default(),
            big_bodies: Semaphore::new(BIG_BODIES),
            audit: AuditWriter::default(),
        }
    }
}

/// The envelope as an HTTP response: multipart/form-data with its boundary.
fn reply(resp: &caqh::Response) -> Response {
    let (boundary, body) = resp.to_multipart();
    let status = StatusCode::from_u16(resp.error_code.http_status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, Body::from(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}")) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// `POST /core`: RealTime or Batch, by the envelope.
pub async fn any(State(state): State<AppState>, v: Visitor, h: HeaderMap, body: Body) -> Response {
    handle(&state, &v.source, &h, body, BATCH_LIMIT, None).await
}

/// `POST /core/realtime`.
pub async fn realtime(
    State(state): State<AppState>,
    v: Visitor,
    h: HeaderMap,
    body: Body,
) -> Response {
    handle(
        &state,
        &v.source,
        &h,
        body,
        REALTIME_LIMIT,
        Some(Mode::RealTime),
    )
    .await
}

/// `POST /core/batch`.
pub async fn batch(
    State(state): State<AppState>,
    v: Visitor,
    h: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, &v.source, &h, body, BATCH_LIMIT, Some(Mode::Batch)).await
}

async fn handle(
    state: &AppState,
    source: &str,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    only: Option<Mode>,
) -> Response {
    let core = &state.core;
    // A body that may be batch-sized takes one of a few slots first (by its declared length;
    // an undeclared length may be anything).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let _slot = if limit > REALTIME_LIMIT && declared.is_none_or(|n| n > REALTIME_LIMIT) {
        match core.big_bodies.try_acquire() {
            Ok(p) => Some(p),
            Err(_) => {
                let e = EnvelopeError::new(
                    ErrorCode::ServerError,
                    "the receiver is reading as many batch envelopes as it can; try again in a minute",
                );
                let mut r =
                    refuse_early(state, source, &e, "busy", StatusCode::SERVICE_UNAVAILABLE).await;
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                return r;
            }
        }
    } else {
        None
    };
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let e = EnvelopeError::new(
                ErrorCode::PayloadLengthIncorrect,
                format!("the envelope is larger than this endpoint accepts ({limit} bytes)"),
            );
            return refuse_early(
                state,
                source,
                &e,
                "oversized",
                StatusCode::PAYLOAD_TOO_LARGE,
            )
            .await;
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = match caqh::parse_multipart(content_type, &bytes) {
        Ok(p) => p,
        Err(e) => return refuse(state, None, "", source, &caqh::Echo::default(), &e).await,
    };
    let echo = caqh::echo(&parts);
    let named = parts
        .iter()
        .find(|p| p.name == "UserName")
        .and_then(|p| std::str::from_utf8(p.data).ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let req = match caqh::Request::from_parts(&parts) {
        Ok(r) => r,
        Err(e) => return refuse(state, None, &named, source, &echo, &e).await,
    };
    if let Some(mode) = only
        && req.mode != mode
    {
        let e = EnvelopeError::new(
            ErrorCode::ProcessingModeIncorrect,
            format!(
                "ProcessingMode {} is not accepted here: send {} envelopes to /core/{}",
                req.mode.as_str(),
                req.mode.as_str(),
                if req.mode == Mode::Batch {
                    "batch"
                } else {
                    "realtime"
                }
            ),
        );
        return refuse(state, None, &named, source, &echo, &e).await;
    }
    let partner = match sign_in::authenticate(state, &req, source).await {
        Ok(p) => p,
        Err(e) => return refuse(state, None, &named, source, &echo, &e).await,
    };
    let kind = match req.kind {
        Some(k) => k,
        None => {
            let e = EnvelopeError::new(
                ErrorCode::PayloadTypeIncorrect,
                format!(
                    "PayloadType {:.60} is not supported; this receiver accepts {} and {}",
                    req.payload_type,
                    caqh::payload::ELIGIBILITY_REQUEST,
                    caqh::payload::STATUS_REQUEST
                ),
            );
            return refuse(state, Some(&partner), &named, source, &echo, &e).await;
        }
    };
    let action = format!("edi.{}", kind.set());
    // An 837 batch goes to intake as sent: it validates, answers the 999 (or TA1) and keeps
    // the 277CA with the interchange for the partner's pickup (the submissions pages).
    if matches!(kind, Kind::ClaimProfessional | Kind::ClaimInstitutional) {
        let submitter = edi::intake::Submitter::partner(partner.partner.clone(), "CAQH CORE");
        return match edi::intake::intake(&*state.store, &submitter, req.payload, Utc::now()).await {
            Ok(outcome) => {
                let payload_type = caqh::payload::of_ack(&outcome.ack);
                reply(&caqh::Response::success(&req, payload_type, outcome.ack))
            }
            Err(e) => {
                tracing::error!(error = %e, "claim intake failed");
                server_error(&echo)
            }
        };
    }
    let accepted = match caqh::read_payload(req.payload, kind) {
        Ok(a) => a,
        Err(Refused::Envelope(e)) => {
            return refuse(state, Some(&partner), &named, source, &echo, &e).await;
        }
        Err(Refused::Ack {
            payload_type,
            x12,
            first_error,
        }) => {
            let outcome = format!(
                "{} {first_error}",
                if payload_type == caqh::payload::ACK_TA1 {
                    "TA1"
                } else {
                    "999"
                }
            );
            let e = event(
                Some(&partner),
                "",
                source,
                &action,
                "core_payload",
                req.payload_id,
                &outcome,
            );
            if core.audit.write(&state.store, vec![e]).await.is_err() {
                return server_error(&echo);
            }
            return reply(&caqh::Response::success(&req, payload_type, x12));
        }
    };
    let now = Utc::now();
    let today = now.date_naive();
    let p = &partner.partner;
    let (payload_type, x12, outcome, reads): (&'static str, String, String, Vec<(&str, String)>) =
        match kind {
            Kind::Eligibility => {
                let who = edi::lookups::Looker {
                    user_id: p.user_id,
                    username: partner.username.clone(),
                    org_id: p.org_id,
                    source: source.to_string(),
                };
                match edi::eligibility::answer(&*state.store, p, &who, &core.plan, &accepted, now)
                    .await
                {
                    Ok(a) => {
                        crate::mail::deliver_queued(state, &a.alerts).await;
                        (
                            kind.response_type(),
                            a.x12,
                            a.outcome,
                            a.disclosed
                                .into_iter()
                                .map(|m| ("member", m.as_str().to_string()))
                                .collect(),
                        )
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "eligibility lookup failed");
                        return server_error(&echo);
                    }
                }
            }
            Kind::Status => {
                match edi::status::answer(&*state.store, p, &core.plan, &accepted, today).await {
                    Ok(a) => (
                        kind.response_type(),
                        a.x12,
                        a.outcome,
                        a.disclosed
                            .into_iter()
                            .map(|c| ("claim", c.as_str().to_string()))
                            .collect(),
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "claim status lookup failed");
                        return server_error(&echo);
                    }
                }
            }
            Kind::Review => {
                match edi::review::respond(&*state.store, p, req.payload, Utc::now()).await {
                    Ok(x12) => (
                        kind.response_type(),
                        x12,
                        "answered".to_string(),
                        Vec::new(),
                    ),
                    Err(edi::review::ReviewError::Invalid) => {
                        let e = EnvelopeError::new(
                            ErrorCode::PayloadTypeIncorrect,
                            "the payload is not a 278 request this receiver can review",
                        );
                        return refuse(state, Some(&partner), &named, source, &echo, &e).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "278 review failed");
                        return server_error(&echo);
                    }
                }
            }
            // Answered above, before the payload is read.
            Kind::ClaimProfessional | Kind::ClaimInstitutional => unreachable!("837 handled above"),
        };
    let mut events = Vec::with_capacity(1 + reads.len());
    events.push(event(
        Some(&partner),
        "",
        source,
        &action,
        "core_payload",
        req.payload_id,
        &outcome,
    ));
    for (record_type, id) in &reads {
        events.push(event(
            Some(&partner),
            "",
            source,
            &format!("{record_type}.read"),
            record_type,
            id,
            "ok",
        ));
    }
    // Audited before it is sent; if the trail cannot be written, nothing is disclosed.
    if core.audit.write(&state.store, events).await.is_err() {
        return server_error(&echo);
    }
    reply(&caqh::Response::success(&req, payload_type, x12))
}

fn server_error(echo: &caqh::Echo) -> Response {
    let e = EnvelopeError::new(
        ErrorCode::ServerError,
        "the receiver could not process the request; try again",
    );
    reply(&caqh::Response::error(echo, &e))
}

/// Audits a refused envelope, then answers it.
async fn refuse(
    state: &AppState,
    partner: Option<&CachedPartner>,
    name: &str,
    source: &str,
    echo: &caqh::Echo,
    e: &EnvelopeError,
) -> Response {
    refuse_noted(
        state,
        partner,
        name,
        source,
        echo,
        e,
        e.code.as_str(),
        StatusCode::OK,
    )
    .await
}

/// A request refused before its envelope was read (too large, too many, too busy): audited
/// with `outcome`, answered with `status`.
async fn refuse_early(
    state: &AppState,
    source: &str,
    e: &EnvelopeError,
    outcome: &str,
    status: StatusCode,
) -> Response {
    let echo = caqh::Echo::default();
    refuse_noted(state, None, "", source, &echo, e, outcome, status).await
}

/// `status` `OK` keeps the status the rule pairs with the error code.
#[allow(clippy::too_many_arguments)]
async fn refuse_noted(
    state: &AppState,
    partner: Option<&CachedPartner>,
    name: &str,
    source: &str,
    echo: &caqh::Echo,
    e: &EnvelopeError,
    outcome: &str,
    status: StatusCode,
) -> Response {
    tracing::info!(code = e.code.as_str(), outcome, "CORE envelope refused");
    let ev = event(
        partner,
        name,
        source,
        if e.code == ErrorCode::UnAuthorized {
            "edi.login.failure"
        } else {
            "edi.envelope"
        },
        "core_payload",
        &echo.payload_id,
        outcome,
    );
    if state
        .core
        .audit
        .write(&state.store, vec![ev])
        .await
        .is_err()
    {
        return server_error(echo);
    }
    let mut r = reply(&caqh::Response::error(echo, e));
    if status != StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// Answers (and audits) a request over its address's rate limit, before its body is read.
/// Called by the guard for `Policy::TradingPartner` routes.
pub async fn rate_limited(state: &AppState, source: &str, wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let e = EnvelopeError::new(
        ErrorCode::ServerError,
        format!("too many requests from this address; try again in {secs} seconds"),
    );
    let mut r = refuse_early(
        state,
        source,
        &e,
        "rate_limited",
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}
