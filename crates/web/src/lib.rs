//! The portal's HTTP layer: HTML pages (askama templates in `templates/`), `/healthz`, static
//! assets compiled into the binary, and the middleware every response passes through (security
//! headers, request ids, tracing by route pattern, timeouts, body limits).
//!
//! Entry points: [`router`] builds the app for tests and embedding; [`serve`] runs it on a
//! listener until Ctrl-C or SIGTERM. See `README.md` in this crate for how pages are organised.

mod assets;
mod headers;
mod health;
mod pages;
mod trace;

use axum::Router;
use axum::routing::get;
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
}

impl AppState {
    pub fn new(store: Arc<dyn storage::Store>, behind_tls: bool) -> Self {
        AppState {
            store,
            behind_tls,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Requests may not take longer than this (a slow client or a stuck query gets a 408).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body accepted (forms; EDI endpoints will set their own).
const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application: routes, fallback 404 page and middleware.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(health::healthz))
        .route("/assets/{file}", get(assets::asset))
        .fallback(pages::not_found);
    // Innermost first: timeouts and body limits, then logging (so a 408 or 413 is logged), then
    // the security headers outermost, so every response carries them, errors included.
    let routes = routes
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT));
    let routes = trace::layer(routes);
    headers::layer(routes, state.behind_tls).with_state(state)
}

/// Serves `router(state)` on `listener` until Ctrl-C or SIGTERM, then lets requests in flight
/// finish.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
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
