//! The CAQH CORE connectivity endpoint (HTTP MIME multipart, rule vC2.2.0): trading partners
//! post envelopes with X12 payloads and get envelopes back.
//!
//! - `POST /core/realtime`: RealTime payloads (270 -> 271, 276 -> 277), bodies up to 1 MB.
//! - `POST /core/batch`: Batch payloads (837), bodies up to the portal's body limit.
//! - `POST /core`: either, by ProcessingMode.
//!
//! Not a browser route: no cookie session and no CSRF token; the envelope's UserName/Password
//! authenticate an account with the EDI trading partner role (argon2id once, then the
//! credential cache of `edi::core`), the per-account lockout applies to wrong passwords and each
//! address is rate-limited (`Policy::TradingPartner`). Every request is written to the audit
//! trail — the request (partner, payload type, PayloadID, outcome) and each member or claim the
//! answer discloses — *before* the answer is sent, through a group-commit writer
//! ([`AuditWriter`]) so that thousands of requests a second do not queue on the trail's lock.
//! Logs carry counts and codes, never payload content.

use crate::AppState;
use crate::auth::{Visitor, principal};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::account::{Role, UserStatus};
use domain::audit::AuditEvent;
use edi::Partner;
use edi::core::{
    self as core, CredentialCache, EnvelopeError, ErrorCode, Kind, Lookup, Mode, Plan, Refused,
};
use std::sync::{Arc, OnceLock};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Largest real-time envelope (a 270 or 276 is a few kilobytes).
pub const REALTIME_LIMIT: usize = 1024 * 1024;
/// Largest batch envelope: the portal's request body limit.
pub const BATCH_LIMIT: usize = crate::BODY_LIMIT;

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
            audit: AuditWriter::default(),
        }
    }
}

type Batch = (Vec<AuditEvent>, oneshot::Sender<Result<(), String>>);

/// Group commit for the audit trail: requests hand their events to one writer task, which
/// appends everything that queued while the previous transaction ran in a single transaction
/// (`Store::audit_many`) and then tells each request its events are stored. A request answers
/// only after that, so "audited before shown" holds, at one transaction per batch instead of
/// one per request.
#[derive(Default)]
pub struct AuditWriter {
    tx: OnceLock<mpsc::Sender<Batch>>,
}

impl AuditWriter {
    /// Most events per transaction.
    const MAX_BATCH: usize = 2000;

    fn sender(&self, store: &Arc<dyn storage::Store>) -> &mpsc::Sender<Batch> {
        self.tx.get_or_init(|| {
            let (tx, mut rx) = mpsc::channel::<Batch>(8192);
            let store = store.clone();
            tokio::spawn(async move {
                let mut waiting: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
                let mut events: Vec<AuditEvent> = Vec::new();
                while let Some((first, done)) = rx.recv().await {
                    events.extend(first);
                    waiting.push(done);
                    while events.len() < Self::MAX_BATCH {
                        match rx.try_recv() {
                            Ok((more, done)) => {
                                events.extend(more);
                                waiting.push(done);
                            }
                            Err(_) => break,
                        }
                    }
                    let result = store
                        .audit_many(&events)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, events = events.len(), "AUDIT WRITE FAILED: answers withheld");
                    }
                    for w in waiting.drain(..) {
                        let _ = w.send(result.clone());
                    }
                    events.clear();
                }
            });
            tx
        })
    }

    /// Stores `events` (in order, after everything queued before them); `Err` when the trail
    /// could not be written, in which case nothing may be disclosed.
    pub async fn write(
        &self,
        store: &Arc<dyn storage::Store>,
        events: Vec<AuditEvent>,
    ) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.sender(store)
            .send((events, done))
            .await
            .map_err(|_| "audit writer stopped".to_string())?;
        wait.await
            .unwrap_or_else(|_| Err("audit writer stopped".into()))
    }
}

fn event(
    actor: Option<&CachedPartner>,
    name: &str,
    source: &str,
    action: &str,
    record_type: &str,
    record_id: &str,
    outcome: &str,
) -> AuditEvent {
    AuditEvent {
        actor: actor.map(|a| a.partner.user_id),
        actor_name: actor
            .map(|a| a.username.clone())
            .unwrap_or_else(|| name.chars().take(100).collect()),
        org: actor.map(|a| a.partner.org_id),
        action: action.into(),
        record_type: record_type.into(),
        record_id: record_id.chars().take(100).collect(),
        outcome: outcome.chars().take(100).collect(),
        source: source.into(),
    }
}

/// The envelope as an HTTP response: multipart/form-data with its boundary.
fn reply(resp: &core::Response) -> Response {
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
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let e = EnvelopeError::new(
                ErrorCode::PayloadLengthIncorrect,
                format!("the envelope is larger than this endpoint accepts ({limit} bytes)"),
            );
            let mut r = reply(&core::Response::error(&core::Echo::default(), &e));
            *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return r;
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = match core::parse_multipart(content_type, &bytes) {
        Ok(p) => p,
        Err(e) => return refuse(state, None, "", source, &core::Echo::default(), &e).await,
    };
    let echo = core::echo(&parts);
    let named = parts
        .iter()
        .find(|p| p.name == "UserName")
        .and_then(|p| std::str::from_utf8(p.data).ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let req = match core::Request::from_parts(&parts) {
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
    let partner = match authenticate(state, &req, source).await {
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
                    core::payload::ELIGIBILITY_REQUEST,
                    core::payload::STATUS_REQUEST
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
                let payload_type = core::payload::of_ack(&outcome.ack);
                reply(&core::Response::success(&req, payload_type, outcome.ack))
            }
            Err(e) => {
                tracing::error!(error = %e, "claim intake failed");
                server_error(&echo)
            }
        };
    }
    let accepted = match core::read_payload(req.payload, kind) {
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
                if payload_type == core::payload::ACK_TA1 {
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
            return reply(&core::Response::success(&req, payload_type, x12));
        }
    };
    let today = Utc::now().date_naive();
    let p = &partner.partner;
    let (payload_type, x12, outcome, reads): (&'static str, String, String, Vec<(&str, String)>) =
        match kind {
            Kind::Eligibility => {
                match edi::eligibility::answer(&*state.store, p, &core.plan, &accepted, today).await
                {
                    Ok(a) => (
                        kind.response_type(),
                        a.x12,
                        a.outcome,
                        a.disclosed
                            .into_iter()
                            .map(|m| ("member", m.as_str().to_string()))
                            .collect(),
                    ),
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
    reply(&core::Response::success(&req, payload_type, x12))
}

fn server_error(echo: &core::Echo) -> Response {
    let e = EnvelopeError::new(
        ErrorCode::ServerError,
        "the receiver could not process the request; try again",
    );
    reply(&core::Response::error(echo, &e))
}

/// Audits a refused envelope, then answers it.
async fn refuse(
    state: &AppState,
    partner: Option<&CachedPartner>,
    name: &str,
    source: &str,
    echo: &core::Echo,
    e: &EnvelopeError,
) -> Response {
    tracing::info!(code = e.code.as_str(), "CORE envelope refused");
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
        e.code.as_str(),
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
    reply(&core::Response::error(echo, e))
}

fn unauthorized(why: &str) -> EnvelopeError {
    EnvelopeError::new(ErrorCode::UnAuthorized, why)
}

const WRONG: &str = "the UserName or Password is not correct, or the account may not exchange EDI";

/// The partner the envelope's credentials name, from the cache or by argon2id.
async fn authenticate(
    state: &AppState,
    req: &core::Request<'_>,
    source: &str,
) -> Result<CachedPartner, EnvelopeError> {
    let core = &state.core;
    let username = req.username.trim().to_ascii_lowercase();
    let key = core.credentials.key_of(&username, req.password);
    match core.credentials.lookup(&key) {
        Lookup::Fresh(p) => return Ok(p),
        Lookup::Recheck(p, hash) => {
            // Cheap re-check (no argon2): still active, same password, unlocked; TINs re-read.
            let now = Utc::now();
            match state.store.identity(p.partner.user_id).await {
                Ok(Some(i))
                    if i.user.status == UserStatus::Active
                        && i.user.role == Role::EdiPartner
                        && i.user.password_hash == hash
                        && !i.user.throttle.is_locked(now) =>
                {
                    let fresh = CachedPartner {
                        partner: partner_of(&i),
                        username: i.user.username.clone(),
                    };
                    core.credentials.confirm(&key, Some((fresh.clone(), &hash)));
                    return Ok(fresh);
                }
                Ok(_) => core.credentials.confirm(&key, None),
                Err(e) => {
                    tracing::error!(error = %e, "partner re-check failed");
                    return Err(EnvelopeError::new(
                        ErrorCode::ServerError,
                        "the receiver could not check the credentials; try again",
                    ));
                }
            }
        }
        Lookup::Miss => {}
    }
    // A full verification. Requests with the same credentials that arrive together wait for
    // the first one's verification (and then find it cached) instead of each running argon2id.
    let _permit = core
        .verifying
        .acquire()
        .await
        .map_err(|_| unauthorized(WRONG))?;
    if let Lookup::Fresh(p) = core.credentials.lookup(&key) {
        return Ok(p);
    }
    // Per-address limit on what remains: argon2id is the expensive part.
    if let Err(wait) = state.limits.check(crate::routes::RateClass::SignIn, source) {
        return Err(unauthorized(&format!(
            "too many sign-in attempts from this address; try again in {} seconds",
            wait.as_secs().max(1)
        )));
    }
    let user = state.store.user_by_username(&username).await.map_err(|e| {
        tracing::error!(error = %e, "partner lookup failed");
        EnvelopeError::new(
            ErrorCode::ServerError,
            "the receiver could not check the credentials; try again",
        )
    })?;
    let password = req.password.to_string();
    let Some(user) = user else {
        let _ = verify(password, DUMMY_HASH.clone()).await;
        return Err(unauthorized(WRONG));
    };
    let now = Utc::now();
    if user.throttle.is_locked(now) {
        let ev = event(
            None,
            &user.username,
            source,
            "login.refused_locked",
            "user",
            &user.id.to_string(),
            "denied",
        );
        let _ = state.core.audit.write(&state.store, vec![ev]).await;
        return Err(unauthorized(
            "the account is locked after repeated failed sign-ins; try again later or ask the plan to unlock it",
        ));
    }
    let ok = !user.password_hash.is_empty() && verify(password, user.password_hash.clone()).await;
    if !ok {
        match state.store.record_sign_in_failure(user.id, now).await {
            Ok(t) if t.is_locked(now) && t.failures == domain::session::MAX_FAILURES => {
                let ev = event(
                    None,
                    &user.username,
                    source,
                    "account.lockout",
                    "user",
                    &user.id.to_string(),
                    "ok",
                );
                let _ = state.core.audit.write(&state.store, vec![ev]).await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not record a sign-in failure"),
        }
        return Err(unauthorized(WRONG));
    }
    if user.status != UserStatus::Active || user.role != Role::EdiPartner {
        return Err(unauthorized(WRONG));
    }
    let identity = match state.store.identity(user.id).await {
        Ok(Some(i)) => i,
        _ => {
            return Err(EnvelopeError::new(
                ErrorCode::ServerError,
                "the receiver could not check the credentials; try again",
            ));
        }
    };
    if user.throttle.failures > 0
        && let Err(e) = state.store.clear_sign_in_failures(user.id).await
    {
        tracing::error!(error = %e, "could not clear sign-in failures");
    }
    let p = CachedPartner {
        partner: partner_of(&identity),
        username: identity.user.username.clone(),
    };
    core.credentials
        .insert(key, p.clone(), &identity.user.password_hash);
    Ok(p)
}

fn partner_of(i: &storage::Identity) -> Partner {
    let principal = principal(i);
    Partner {
        user_id: i.user.id,
        org_id: i.org.id,
        scope: principal.office_scope(),
    }
}

/// A real argon2id hash, verified against for unknown usernames so the answer takes as long.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| domain::password::hash(&domain::session::new_token()));

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || domain::password::verify(&password, &hash))
        .await
        .unwrap_or(false)
}
