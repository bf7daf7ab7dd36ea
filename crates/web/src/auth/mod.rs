//! Who is asking, and may they: the guard every route passes through.
//!
//! [`guard`] runs per route with that route's [`Policy`]: it reads the session cookie, ends a
//! session that is idle or too old, checks CSRF on state-changing requests, applies the
//! per-address rate limit, and then the policy. Handlers read the outcome with the [`Signed`]
//! extractor (a fully signed-in user), [`Pending`] (part-way through sign-in) or [`Visitor`]
//! (anyone).

pub mod client;
pub mod csrf;
pub mod ratelimit;
pub mod session;

use crate::AppState;
use crate::audit;
use crate::pages::errors;
use crate::routes::{Policy, RateClass};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{Entitlements, Principal};
use domain::account::UserStatus;
use domain::session::SessionStage;
use storage::{Identity, SessionRecord};

/// A fully signed-in user, as the guard found them.
#[derive(Clone)]
pub struct Signed {
    pub principal: Principal,
    pub identity: Identity,
    pub session: SessionRecord,
    /// Client address, for the audit trail.
    pub source: String,
}

impl Signed {
    pub fn username(&self) -> &str {
        &self.identity.user.username
    }
    pub fn user_id(&self) -> i64 {
        self.identity.user.id
    }
}

/// A session part-way through sign-in (password accepted, MFA to come).
#[derive(Clone)]
pub struct Pending {
    pub identity: Identity,
    pub session: SessionRecord,
    pub source: String,
}

/// Whoever is asking: a signed-in user, a pending sign-in, or nobody.
#[derive(Clone)]
pub struct Visitor {
    pub signed: Option<Signed>,
    pub pending: Option<Pending>,
    /// The request carried a session that had just expired (idle or absolute limit).
    pub expired: bool,
    pub source: String,
}

/// The principal the domain policy reasons about, from what storage knows of the user.
pub fn principal(identity: &Identity) -> Principal {
    let mut tins: Vec<domain::Tin> = identity.org.tin.into_iter().collect();
    for t in &identity.granted_tins {
        if !tins.contains(t) {
            tins.push(*t);
        }
    }
    Principal {
        user_id: identity.user.id,
        role: identity.user.role,
        org_id: identity.org.id,
        org_kind: identity.org.kind,
        tins,
        network: identity.org.network.clone(),
        entitlements: Entitlements {
            claims: identity.user.claims,
        },
    }
}

/// The guard. `policy` and `rate` come from the route table.
pub async fn guard(
    State((state, policy, rate)): State<(AppState, Policy, Option<RateClass>)>,
    req: Request,
    next: Next,
) -> Response {
    let source = client::address(&req, &state.trusted_proxies);
    let is_unsafe = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    // Machine-to-machine EDI: no cookies are read (a browser's ambient session grants nothing
    // here, so there is nothing for CSRF to ride on); the handler authenticates the envelope.
    if policy == Policy::TradingPartner {
        if let Some(rate) = rate
            && let Err(wait) = state.limits.check(rate, &source)
        {
            return crate::caqh::rate_limited(&state, &source, wait).await;
        }
        let mut req = req;
        req.extensions_mut().insert(Visitor {
            signed: None,
            pending: None,
            expired: false,
            source,
        });
        return next.run(req).await;
    }

    if is_unsafe {
        if let Some(rate) = rate
            && let Err(wait) = state.limits.check(rate, &source)
        {
            return errors::too_many(&state, wait);
        }
        if let Err(why) = csrf::check_origin(req.headers(), state.behind_tls) {
            tracing::warn!(reason = why, "cross-site request refused");
            return errors::csrf_refused(&state);
        }
    }

    let found = match session::load(&state, req.headers(), &source).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            return errors::unavailable(&state);
        }
    };

    let csrf_expected = found.csrf_token();
    let visitor = Visitor {
        signed: found.signed,
        pending: found.pending,
        expired: found.expired,
        source,
    };
    let asked = Asked {
        method: req.method().clone(),
        uri: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        route: req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
    };
    // The policy is decided on the headers alone: a visitor who may not use the route is
    // refused before a byte of the body is read (it may be tens of megabytes).
    if let Some(denied) = decide(&state, policy, &visitor, &asked).await {
        return denied;
    }

    // A request carrying a session must prove it came from our own page (synchronizer token).
    let mut req = req;
    if is_unsafe && let Some(expected) = csrf_expected {
        let (checked, ok) = csrf::check_token(req, expected).await;
        req = checked;
        if !ok {
            tracing::warn!("request without a valid CSRF token refused");
            return errors::csrf_refused(&state);
        }
    }
    // Kept for rendering a handler's `PageError` in the layout (the visitor moves into the
    // request); a few small strings per request.
    let signed = visitor.signed.clone();
    req.extensions_mut().insert(visitor);
    let res = next.run(req).await;
    match res.extensions().get::<crate::kit::PageError>() {
        Some(err) => errors::page_error(&state, signed.as_ref(), err),
        None => res,
    }
}

/// What the request asked for, as the policy decision needs it.
struct Asked {
    method: Method,
    /// Path and query, to come back to after sign-in.
    uri: String,
    /// The route pattern (never the raw path: it may carry a member id).
    route: String,
}

/// `None` when the policy lets the visitor through; otherwise the response to give instead.
async fn decide(
    state: &AppState,
    policy: Policy,
    visitor: &Visitor,
    req: &Asked,
) -> Option<Response> {
    match policy {
        Policy::Public => None,
        // Handled before the session is read (see `guard`).
        Policy::TradingPartner => None,
        Policy::Stage(stage) => match &visitor.pending {
            Some(p) if p.session.stage == stage => None,
            _ => Some(to_login(visitor, req)),
        },
        Policy::SignedIn => match &visitor.signed {
            Some(_) => None,
            None => Some(to_login(visitor, req)),
        },
        Policy::May(permission) => match &visitor.signed {
            None => Some(to_login(visitor, req)),
            Some(s) if s.principal.may(permission) => None,
            Some(s) => {
                audit::security(
                    state,
                    Some(s),
                    "access.denied",
                    "route",
                    &req.route,
                    "denied",
                )
                .await;
                Some(errors::forbidden(state, Some(s), permission))
            }
        },
    }
}

/// Not signed in: pages send the browser to the sign-in form (saying why when the session just
/// expired); anything else gets a bare 401.
fn to_login(visitor: &Visitor, req: &Asked) -> Response {
    if req.method != Method::GET {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    }
    let next = req.uri.as_str();
    let mut target = String::from("/login?");
    if visitor.expired {
        target.push_str("expired=1&");
    }
    target.push_str("next=");
    target.extend(form_urlencoded::byte_serialize(next.as_bytes()));
    Redirect::to(&target).into_response()
}

/// Only local paths may be redirect targets after sign-in (no open redirect): anything else is
/// `/`. See [`is_local_path`].
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if is_local_path(n) => n,
        _ => "/",
    }
}

/// Longest `next` kept (a longer one is not a path our pages link to).
const MAX_NEXT: usize = 2048;

/// An allow-list, not a deny-list: browsers drop tabs and newlines from a `Location` and read
/// `\` as `/`, so `/\t/evil` becomes `//evil`, another host. A local path starts with one `/`
/// and holds only unreserved characters, `/ ? = & + , : ; @` and `%XX` escapes that do not
/// decode to a control character, `/` or `\` (a second decoding must not make `//` either).
/// Everything it accepts is a valid header value, so the redirect can never fail.
pub fn is_local_path(n: &str) -> bool {
    let b = n.as_bytes();
    if b.len() > MAX_NEXT || b.first() != Some(&b'/') || matches!(b.get(1), Some(b'/' | b'\\')) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                let (Some(hi), Some(lo)) = (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) else {
                    return false;
                };
                let c = (hi * 16 + lo) as u8;
                if c < 0x20 || c == 0x7f || c == b'/' || c == b'\\' {
                    return false;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() => {}
            b'-' | b'.' | b'_' | b'~' | b'/' | b'?' | b'=' | b'&' | b'+' | b',' | b':' | b';'
            | b'@' => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// Whether a stored user may hold a session at all.
pub fn may_sign_in(identity: &Identity) -> bool {
    identity.user.status == UserStatus::Active
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(unguarded)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        Visitor::from_request_parts(parts, s)
            .await?
            .signed
            .ok_or_else(|| (StatusCode::UNAUTHORIZED, "sign in first").into_response())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Pending {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        Visitor::from_request_parts(parts, s)
            .await?
            .pending
            .ok_or_else(|| Redirect::to("/login").into_response())
    }
}

/// A handler asked for the visitor on a route the guard did not wrap: a programming error,
/// refused rather than served without a policy.
fn unguarded() -> Response {
    tracing::error!("handler reached without the access guard");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "route without access policy",
    )
        .into_response()
}

/// The stage a session starts in once the password is accepted.
pub fn stage_after_password(identity: &Identity) -> SessionStage {
    if identity.user.totp_secret.is_some() {
        SessionStage::NeedsCode
    } else {
        SessionStage::NeedsEnrolment
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_local_path_or_home() {
        let hostile = [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\x0b/evil.example",
            "/\x7f/evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            " /claims",
            "evil.example",
            "",
            "/%2F/evil.example",
            "/%2f/evil.example",
            "/%5C/evil.example",
            "/%5c%5cevil.example",
            "/%09/evil.example",
            "/%0A/evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "/%00",
            "/%7F",
            "/%",
            "/%2",
            "/%zz",
            "/\u{3000}/evil.example",
            "/\u{ff0f}evil.example",
            "/caf\u{e9}",
            "/a\"onmouseover=x",
            "/a<script>",
            "/a#frag",
            "/a\\b",
        ];
        for n in hostile {
            assert_eq!(
                safe_next(Some(n)),
                "/",
                "{n:?} must not be a redirect target"
            );
        }
        let long = format!("/{}", "a".repeat(3000));
        assert_eq!(safe_next(Some(&long)), "/");
        assert_eq!(safe_next(None), "/");
        let fine = [
            "/",
            "/claims",
            "/claims?q=1&page=2",
            "/claims/C-2024_01.5~x",
            "/eligibility?member=M%20123&dos=2024-01-02",
            "/plan/users?q=a%40b.org+x",
            "/a:b;c,d@e",
            "/%25",
        ];
        for n in fine {
            assert_eq!(safe_next(Some(n)), n, "{n:?} is a local path");
        }
    }
}
