//! The portal's HTTP layer: HTML pages (askama templates in `templates/`), `/healthz`, static
//! assets compiled into the binary, sign-in with MFA and server-side sessions, the access guard
//! every route passes through, and the middleware every response passes through (security
//! headers, request ids, tracing by route pattern, timeouts, body limits).
//!
//! Entry points: [`router`] builds the app for tests and embedding; [`serve`] runs it on a
//! listener until Ctrl-C or SIGTERM. [`routes::table`] lists every route with its access policy.
//! See `README.md` in this crate for how pages are organised.

mod areas;
mod assets;
mod audit;
pub mod auth;
pub mod caqh;
mod headers;
mod health;
mod kit;
pub mod mail;
mod pages;
pub mod routes;
mod trace;

use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What every handler can reach. Cheap to clone (one `Arc` per field).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn storage::Store>,
    /// A TLS proxy fronts the portal: send HSTS.
    pub behind_tls: bool,
    /// Shown in the footer.
    pub version: &'static str,
    /// Per-address limits on sign-in and registration attempts.
    pub limits: Arc<auth::ratelimit::Limits>,
    /// Where users reach the portal, for links in emails (configured; never a request's Host
    /// header, which a client controls).
    pub public_url: String,
    /// The CAQH CORE endpoint's credential cache, audit writer and the plan's EDI identity.
    pub core: Arc<caqh::CoreState>,
    /// Where mail with one-time links goes (the outbox keeps them masked).
    pub mail: Arc<mail::Transport>,
    /// Proxies whose `X-Forwarded-For` is believed; empty: the TCP peer is the client.
    pub trusted_proxies: Arc<auth::client::TrustedProxies>,
}

impl AppState {
    pub fn new(store: Arc<dyn storage::Store>, behind_tls: bool) -> Self {
        AppState {
            store,
            behind_tls,
            version: env!("CARGO_PKG_VERSION"),
            limits: Arc::new(auth::ratelimit::Limits::default()),
            public_url: "http://localhost:8080".into(),
            core: Arc::new(caqh::CoreState::default()),
            mail: Arc::new(mail::Transport::None),
            trusted_proxies: Arc::default(),
        }
    }
}

/// Requests may not take longer than this (a slow client or a stuck query gets a 408).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body accepted: an affiliation letter (see `pages::verify`) plus the form.
pub(crate) const BODY_LIMIT: usize = 6 * 1024 * 1024;

/// The whole application: routes, fallback 404 page and middleware.
pub fn router(state: AppState) -> Router {
    let mut routes = Router::new();
    for r in routes::table() {
        // Each route gets the guard with its own policy: no route without one; and its body
        // limit outside the guard (which reads form bodies for the CSRF token), with a page
        // saying so when a body is too large.
        let guard =
            axum::middleware::from_fn_with_state((state.clone(), r.policy, r.rate), auth::guard);
        let limit = axum::middleware::from_fn_with_state(
            (state.clone(), r.body_limit),
            pages::errors::body_limit,
        );
        routes = routes.route(r.path, r.handler.layer(guard).layer(limit));
    }
    let routes = routes.fallback(pages::errors::not_found);
    // Innermost first: timeouts (body limits are per route, above), then logging (so a 408 or
    // 413 is logged), then the security headers outermost, so every response carries them,
    // errors included.
    let routes = routes.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    ));
    let routes = trace::layer(routes);
    headers::layer(routes, state.behind_tls).with_state(state)
}

/// How [`serve`] treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// A connection that has not sent a whole request head within this time is closed (a
    /// slow-header client, or an idle keep-alive connection waiting for its next request).
    pub header_read_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog until one ends.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// [`serve_with`] with the default [`ServeOptions`].
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with(listener, state, ServeOptions::default()).await
}

/// Serves `router(state)` on `listener` until Ctrl-C or SIGTERM, then lets requests in flight
/// finish. Our own accept loop rather than `axum::serve`, which sets no timer (so hyper's
/// header-read timeout never fires) and takes every connection offered.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    opts: ServeOptions,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::Service as _;

    let purge = tokio::spawn(purge_sessions(state.store.clone()));
    let app = router(state);
    let slots = Arc::new(tokio::sync::Semaphore::new(opts.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        // A slot first, then the connection: at the cap, new clients wait in the backlog.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            app.clone().call(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out): nothing to report.
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(REQUEST_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period; stopping anyway");
    }
    purge.abort();
    Ok(())
}

/// Deletes expired sessions every few minutes (they are refused on use anyway; this keeps the
/// table small).
async fn purge_sessions(store: Arc<dyn storage::Store>) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    loop {
        every.tick().await;
        let now = chrono::Utc::now();
        let idle = now - domain::session::IDLE_TIMEOUT;
        let old = now - domain::session::ABSOLUTE_LIFETIME;
        if let Err(e) = store.purge_sessions(idle, old).await {
            tracing::warn!(error = %e, "could not purge expired sessions");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
