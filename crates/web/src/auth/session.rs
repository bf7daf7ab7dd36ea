//! The session cookie and its server-side record. The cookie holds a random token; the database
//! keeps its SHA-256 with the user, stage, CSRF token and timestamps. Idle (15 minutes) and
//! absolute (12 hours) limits are checked on every request, in `domain::session`.

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::{Pending, Signed, may_sign_in, principal};
use axum::http::header::{self, HeaderMap, HeaderValue};
use chrono::{Duration, Utc};
use domain::session::{SessionStage, new_token, session_alive, token_hash};
use storage::{Identity, NewSession, SessionRecord, StorageError};

/// Over plain HTTP (development) the cookie cannot be `Secure`, so it cannot take the
/// `__Host-` prefix either; behind TLS it gets both (bound to this host, never sent in clear).
fn cookie_name(behind_tls: bool) -> &'static str {
    if behind_tls {
        "__Host-portal_session"
    } else {
        "portal_session"
    }
}

/// `last_seen` is written at most this often (one write per page view is wasted I/O).
const TOUCH_EVERY: Duration = Duration::seconds(15);

/// What the cookie led to.
#[derive(Default)]
pub struct Found {
    pub signed: Option<Signed>,
    pub pending: Option<Pending>,
    pub expired: bool,
}

impl Found {
    /// The CSRF token the request must carry, when it carries a live session.
    pub fn csrf_token(&self) -> Option<String> {
        self.signed
            .as_ref()
            .map(|s| s.session.csrf.clone())
            .or_else(|| self.pending.as_ref().map(|p| p.session.csrf.clone()))
    }
}

/// The session token from the `Cookie` header, if any.
pub fn token(headers: &HeaderMap, behind_tls: bool) -> Option<String> {
    let name = cookie_name(behind_tls);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Reads and checks the session the request carries. An idle or over-age session is ended here,
/// server-side, and reported as `expired`.
pub async fn load(
    state: &AppState,
    headers: &HeaderMap,
    source: &str,
) -> Result<Found, StorageError> {
    let Some(token) = token(headers, state.behind_tls) else {
        return Ok(Found::default());
    };
    let hash = token_hash(&token);
    let Some(record) = state.store.session(&hash).await? else {
        return Ok(Found::default());
    };
    let now = Utc::now();
    let identity = state.store.identity(record.user_id).await?;
    if !session_alive(record.created_at, record.last_seen, now) {
        state.store.end_session(&hash).await?;
        if let Some(identity) = &identity {
            audit::event(
                state,
                Actor::from(identity),
                source,
                "session.expired",
                "user",
                &identity.user.id.to_string(),
                "ok",
            )
            .await;
        }
        return Ok(Found {
            expired: true,
            ..Found::default()
        });
    }
    let Some(identity) = identity.filter(may_sign_in) else {
        state.store.end_session(&hash).await?;
        return Ok(Found::default());
    };
    // A lock covers every step of sign-in: no pending session of a locked account goes on.
    if record.stage != SessionStage::Full && identity.user.throttle.is_locked(now) {
        state.store.end_session(&hash).await?;
        return Ok(Found::default());
    }
    if now - record.last_seen >= TOUCH_EVERY {
        state.store.touch_session(&hash, now).await?;
    }
    let source = source.to_string();
    Ok(if record.stage == SessionStage::Full {
        Found {
            signed: Some(Signed {
                principal: principal(&identity),
                identity,
                session: record,
                source,
            }),
            ..Found::default()
        }
    } else {
        Found {
            pending: Some(Pending {
                identity,
                session: record,
                source,
            }),
            ..Found::default()
        }
    })
}

/// Starts a session in `stage` with a new token (ending `replacing`, so the id changes at every
/// step of sign-in: no session fixation). Returns the cookie token and the record.
pub async fn start(
    state: &AppState,
    identity: &Identity,
    stage: SessionStage,
    source: &str,
    user_agent: &str,
    replacing: Option<&SessionRecord>,
) -> Result<(String, SessionRecord), StorageError> {
    if let Some(old) = replacing {
        state.store.end_session(&old.token_hash).await?;
    }
    let token = new_token();
    let now = Utc::now();
    let new = NewSession {
        token_hash: token_hash(&token),
        user_id: identity.user.id,
        stage,
        csrf: new_token(),
        created_at: now,
        source: source.to_string(),
        user_agent: user_agent.chars().take(200).collect(),
    };
    state.store.create_session(&new).await?;
    let record = SessionRecord {
        token_hash: new.token_hash,
        user_id: new.user_id,
        stage,
        csrf: new.csrf,
        created_at: now,
        last_seen: now,
        source: new.source,
        user_agent: new.user_agent,
        pending_totp: None,
    };
    Ok((token, record))
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, Secure and `__Host-` behind TLS.
/// No expiry: the browser forgets it when closed, the server ends it sooner.
pub fn set_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.behind_tls { "; Secure" } else { "" };
    let v = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
        cookie_name(state.behind_tls)
    );
    HeaderValue::from_str(&v).expect("hex token and fixed attributes are a valid header")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.behind_tls { "; Secure" } else { "" };
    let v = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
        cookie_name(state.behind_tls)
    );
    HeaderValue::from_str(&v).expect("fixed attributes are a valid header")
}
