//! A running portal and a raw HTTP/1.1 client for the attack suite.
//!
//! `Portal::start` seeds the demo plan into a temporary SQLite database and serves it with
//! `web::serve` on `127.0.0.1:0`, exactly as `portal serve` does (production rate limits
//! included, unless a test changes the state). `Client` speaks HTTP/1.1 over a new TCP
//! connection per request (`Connection: close`), keeps cookies and the last CSRF token it saw,
//! and never follows redirects, so a test sees what an attacker's script sees.

#![allow(dead_code)] // each attack module uses its own part of the harness

use chrono::Utc;
use domain::session::{SessionStage, new_token, token_hash};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storage::{NewSession, Store, UserRecord};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The demo accounts' password in the attack suite.
pub const PASSWORD: &str = "attack-suite-demo-password";

/// How long any one request may take before the test fails (a stalled portal is a finding).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(20);

pub struct Portal {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub dir: tempfile::TempDir,
    /// Each enrolled account's TOTP secret and the last 30-second step used (the portal accepts
    /// a step once per account).
    totp: Mutex<HashMap<String, (String, u64)>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Portal {
    /// The demo plan served as `portal serve` serves it.
    pub async fn start() -> Portal {
        Portal::start_with(|_| {}).await
    }

    /// As `start`, with the application state adjusted first (limits, proxies, ...).
    pub async fn start_with(adjust: impl FnOnce(&mut web::AppState)) -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("portal.db").display());
        let store = storage::open(&url).await.unwrap();
        seed::demo_with_password(&*store, PASSWORD).await.unwrap();
        let mut state = web::AppState::new(store.clone(), false);
        adjust(&mut state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = web::serve(listener, state).await;
        });
        Portal {
            addr,
            store,
            dir,
            totp: Mutex::default(),
            server,
        }
    }

    /// A client with no cookies: a stranger.
    pub fn stranger(&self) -> Client {
        Client::new(self.addr)
    }

    pub async fn user(&self, username: &str) -> UserRecord {
        self.store
            .user_by_username(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    /// A client holding a fully signed-in session for `username`, made in the store (for
    /// attacks that are not about signing in; the sign-in pages are attacked through
    /// [`Portal::sign_in`]).
    pub async fn session(&self, username: &str) -> Client {
        let user = self.user(username).await;
        let token = new_token();
        let csrf = new_token();
        self.store
            .create_session(&NewSession {
                token_hash: token_hash(&token),
                user_id: user.id,
                stage: SessionStage::Full,
                csrf: csrf.clone(),
                created_at: Utc::now(),
                source: "attack-suite".into(),
                user_agent: "attack-suite".into(),
            })
            .await
            .unwrap();
        let mut c = Client::new(self.addr);
        c.cookies.insert("portal_session".into(), token);
        c.csrf = Some(csrf);
        c
    }

    /// Signs `username` in through the real pages: password, then enrolment of an
    /// authenticator at the first sign-in (the secret is kept for later sign-ins) or a fresh
    /// code. Panics with the page's words if the portal refuses.
    pub async fn sign_in(&self, username: &str) -> Client {
        let mut c = self.stranger();
        let r = c.password_step(username, PASSWORD).await;
        assert_eq!(r.status, 303, "password step for {username}: {}", r.body);
        let next = r.location().to_string();
        if next.starts_with("/mfa/enrol") {
            let page = c.get(&next).await;
            let secret = text_of(&page.body, "totp-secret")
                .unwrap_or_else(|| panic!("no secret on the enrolment page: {}", page.body))
                .split_whitespace()
                .collect::<String>();
            let step = self.take_step(username, &secret).await;
            let code = code_for(&secret, step);
            // Enrolment answers with the recovery codes page.
            let r = c.post_form("/mfa/enrol", &[("code", &code)]).await;
            assert!(
                r.status == 200 && r.body.contains("id=\"recovery-codes\""),
                "enrolment for {username}: {} {}",
                r.status,
                r.body
            );
        } else {
            assert!(next.starts_with("/login/code"), "unexpected step {next}");
            c.get(&next).await; // the form, with this session's CSRF token
            let secret = self.secret(username);
            let step = self.take_step(username, &secret).await;
            let code = code_for(&secret, step);
            let r = c.post_form("/login/code", &[("code", &code)]).await;
            assert_eq!(r.status, 303, "code step for {username}: {}", r.body);
        }
        let home = c.get("/").await;
        assert!(home.body.contains("Welcome"), "{username} not signed in");
        c
    }

    /// The enrolled TOTP secret of `username` (after [`Portal::sign_in`] enrolled it).
    pub fn secret(&self, username: &str) -> String {
        self.totp
            .lock()
            .unwrap()
            .get(username)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| panic!("{username} was not enrolled by this suite"))
    }

    /// A 30-second step not used before for this account: now, or the next one (the portal
    /// accepts one step either side), waiting for the clock when both are taken.
    async fn take_step(&self, username: &str, secret: &str) -> u64 {
        loop {
            let now = Utc::now().timestamp() as u64 / 30;
            {
                let mut map = self.totp.lock().unwrap();
                let entry = map
                    .entry(username.to_string())
                    .or_insert_with(|| (secret.to_string(), 0));
                entry.0 = secret.to_string();
                let step = now.max(entry.1 + 1);
                if entry.1 == 0 || step <= now + 1 {
                    entry.1 = step;
                    return step;
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
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

/// The code an authenticator shows for `secret` at 30-second `step`.
pub fn code_for(secret: &str, step: u64) -> String {
    domain::mfa::code_at(secret, step * 30).expect("a valid base32 secret")
}

/// One HTTP response as read off the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub raw_body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
}

/// A browser-like client without a browser: cookies, the CSRF token of the last page, and
/// extra headers it sends on every request (a forged `X-Forwarded-For`, say).
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            cookies: BTreeMap::new(),
            csrf: None,
            extra_headers: Vec::new(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, &[], b"").await
    }

    /// A same-origin form POST, with the session's CSRF token when the client has one.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let csrf = self.csrf.clone();
        if let Some(t) = csrf.as_deref() {
            all.push(("_csrf", t));
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(all)
            .finish();
        self.send(
            "POST",
            path,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
            ],
            body.as_bytes(),
        )
        .await
    }

    /// A multipart/form-data POST of text fields and files `(field, filename, content type,
    /// bytes)`, same-origin, with the CSRF token.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Resp {
        let boundary = "attack-suite-boundary-7f3a";
        let mut body = Vec::new();
        let csrf = self.csrf.clone();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = csrf.as_deref() {
            all.push(("_csrf", t));
        }
        for (k, v) in all {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (field, name, ctype, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
                     filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let ctype = format!("multipart/form-data; boundary={boundary}");
        self.send(
            "POST",
            path,
            &[("content-type", &ctype), ("sec-fetch-site", "same-origin")],
            &body,
        )
        .await
    }

    /// The sign-in form's password step (no session yet, so no CSRF token).
    pub async fn password_step(&mut self, username: &str, password: &str) -> Resp {
        self.post_form("/login", &[("username", username), ("password", password)])
            .await
    }

    /// Any request; cookies set by the answer are kept, and so is a CSRF token on its page.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nuser-agent: attack-suite\r\n",
            self.addr
        );
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("cookie: {}\r\n", jar.join("; ")));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        for (k, v) in &self.extra_headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        let raw = tokio::time::timeout(REQUEST_DEADLINE, exchange(self.addr, &bytes))
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: no answer in {REQUEST_DEADLINE:?}"))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let resp = parse_response(&raw).unwrap_or_else(|| panic!("{method} {path}: bad answer"));
        for (k, v) in &resp.headers {
            if k == "set-cookie"
                && let Some((name, rest)) = v.split_once('=')
            {
                let value = rest.split(';').next().unwrap_or("").to_string();
                if value.is_empty() || v.to_ascii_lowercase().contains("max-age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value);
                }
            }
        }
        if let Some(t) = csrf_in(&resp.body) {
            self.csrf = Some(t);
        }
        resp
    }
}

/// Writes `bytes` on a new connection and reads until the server closes it.
pub async fn exchange(addr: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(bytes).await?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await?;
    Ok(out)
}

/// Status, headers and (de-chunked) body of a raw HTTP/1.1 response.
pub fn parse_response(raw: &[u8]) -> Option<Resp> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        raw_body: body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// The value of the first `_csrf` hidden field on a page.
fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let value = &html[at..at + html[at..].find('"')?];
    (!value.is_empty()).then(|| value.to_string())
}

/// The text of the element with `id`, crudely: what lies between `id="…">` and the next `<`.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let inner = &rest[rest.find('>')? + 1..];
    Some(inner[..inner.find('<')?].trim().to_string())
}
