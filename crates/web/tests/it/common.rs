//! The test harness: a seeded app, sessions made directly in the store (so a test of the access
//! guard does not depend on the sign-in pages), and request helpers.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use domain::session::{SessionStage, new_token, token_hash};
use std::sync::Arc;
use std::time::Duration as StdDuration;
use storage::{NewSession, Store, UserRecord};
use tower::ServiceExt as _;
use web::auth::ratelimit::Limits;

/// The demo accounts' password in tests.
pub const PASSWORD: &str = "test-password-for-demo";

pub struct App {
    pub router: axum::Router,
    pub store: Arc<dyn Store>,
    pub behind_tls: bool,
    _dir: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The session token set by this response, if any.
    pub fn new_session(&self) -> Option<Session> {
        let cookie = self.headers.get(header::SET_COOKIE)?.to_str().ok()?;
        let (name, rest) = cookie.split_once('=')?;
        let token = rest.split(';').next()?.to_string();
        (!token.is_empty()).then(|| Session {
            name: name.to_string(),
            token,
            csrf: String::new(),
        })
    }
}

/// A session cookie and the CSRF token that goes with it.
#[derive(Clone)]
pub struct Session {
    pub name: String,
    pub token: String,
    pub csrf: String,
}

impl Session {
    pub fn cookie(&self) -> String {
        format!("{}={}", self.name, self.token)
    }
    pub fn hash(&self) -> String {
        token_hash(&self.token)
    }
}

impl App {
    pub async fn new() -> App {
        App::with_tls(false).await
    }

    pub async fn with_tls(behind_tls: bool) -> App {
        App::build(behind_tls, None).await
    }

    /// An app with the demo plan and accounts (and no audit entries from seeding). Tests send
    /// every request from one address, so unless `limits` says otherwise the per-address rate
    /// limits are set high enough not to interfere (their own test sets them).
    pub async fn build(behind_tls: bool, limits: Option<Limits>) -> App {
        logs();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("portal.db").display());
        let store = storage::open(&url).await.unwrap();
        seed::demo_with_password(&*store, PASSWORD).await.unwrap();
        let mut state = web::AppState::new(store.clone(), behind_tls);
        state.limits = Arc::new(limits.unwrap_or_else(|| {
            Limits::new(
                100_000,
                StdDuration::from_millis(1),
                100_000,
                StdDuration::from_millis(1),
            )
        }));
        App {
            router: web::router(state),
            store,
            behind_tls,
            _dir: dir,
        }
    }

    /// An app on an empty database (no plan, no accounts).
    pub async fn empty() -> App {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("portal.db").display());
        let store = storage::open(&url).await.unwrap();
        App {
            router: web::router(web::AppState::new(store.clone(), false)),
            store,
            behind_tls: false,
            _dir: dir,
        }
    }

    pub async fn user(&self, username: &str) -> UserRecord {
        self.store
            .user_by_username(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    /// A fully signed-in session for `username`, created in the store.
    pub async fn session(&self, username: &str) -> Session {
        self.session_at(username, SessionStage::Full).await
    }

    pub async fn session_at(&self, username: &str, stage: SessionStage) -> Session {
        let user = self.user(username).await;
        let token = new_token();
        let csrf = new_token();
        self.store
            .create_session(&NewSession {
                token_hash: token_hash(&token),
                user_id: user.id,
                stage,
                csrf: csrf.clone(),
                created_at: Utc::now(),
                source: "test".into(),
                user_agent: "test".into(),
            })
            .await
            .unwrap();
        Session {
            name: if self.behind_tls {
                "__Host-portal_session".into()
            } else {
                "portal_session".into()
            },
            token,
            csrf,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Resp {
        let mut req = Request::get(path);
        if let Some(s) = session {
            req = req.header(header::COOKIE, s.cookie());
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A same-origin form POST; the session's CSRF token is added when there is a session.
    pub async fn post(
        &self,
        path: &str,
        session: Option<&Session>,
        fields: &[(&str, &str)],
    ) -> Resp {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(s) = session {
            all.push(("_csrf", s.csrf.as_str()));
        }
        self.post_raw(path, session, &all, &[("sec-fetch-site", "same-origin")])
            .await
    }

    /// A form POST exactly as given: no token added, the headers as listed.
    pub async fn post_raw(
        &self,
        path: &str,
        session: Option<&Session>,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "portal.test");
        if let Some(s) = session {
            req = req.header(header::COOKIE, s.cookie());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Audit actions recorded so far, oldest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        self.store
            .audit_page(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.action)
            .collect()
    }
}

/// The text of the element with `id`, crudely (tests only): what lies between `id="…">` and
/// the next `<`.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let open_end = rest.find('>')? + 1;
    let inner = &rest[open_end..];
    Some(inner[..inner.find('<')?].trim().to_string())
}

/// Everything the application logged in this test process. One global subscriber, installed
/// before the first app is built: per-test subscribers race with tracing's callsite cache when
/// tests run in parallel.
pub fn logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<u8>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: &'static std::sync::Mutex<Vec<u8>> = Box::leak(Box::default());
        struct Writer(&'static std::sync::Mutex<Vec<u8>>);
        impl std::io::Write for Writer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Writer(buf))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        buf
    })
}
