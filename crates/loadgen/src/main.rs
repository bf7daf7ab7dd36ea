//! `loadgen`: the portal's load generator.
//!
//! - `loadgen prepare --database-url URL --out DIR`: on a seeded database (`portal seed`), adds
//!   what a benchmark signs in with — an EDI trading partner `bench-edi` (a billing service
//!   granted the first medical group's TIN) and an office user `bench-office` of that group
//!   with a signed-in session (cookie token and CSRF token, made directly through the store as
//!   the web tests do) — and writes the ids to ask about: `members.txt` (members spread over the
//!   whole plan), `claims.txt` (claims billed under the partner's TIN), `session.txt`, and
//!   `reviewer-session.txt` (a UM reviewer `bench-reviewer`, for the review queue). Run again on
//!   the same database, it only makes new sessions (they end after 15 idle minutes).
//! - `loadgen run --url URL --kind 270|276|form ...`: sends requests at a fixed rate
//!   (open loop: request i is due at start + i/rate whatever happened to earlier ones) over
//!   keep-alive connections, and measures each latency from the time the request was *due*,
//!   so a stalled server shows as latency rather than as fewer requests (no coordinated
//!   omission). Prints p50/p90/p99/p99.9/max, the achieved rate and the failures.
//! - `loadgen free-port`, `loadgen wait URL`: helpers for `bench/core.sh`.

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Open-loop load generator for the portal's benchmarks")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// CORE envelope with a 270 for a member of members.txt.
    #[value(name = "270")]
    Eligibility,
    /// CORE envelope with a 276 for a claim of claims.txt.
    #[value(name = "276")]
    Status,
    /// A urlencoded form POST with the session cookie (e.g. the eligibility page).
    Form,
}

#[derive(Subcommand)]
enum Cmd {
    /// Add the benchmark's accounts and session to a seeded database and write the ids to use.
    Prepare {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        out: PathBuf,
        /// The partners' and office user's password.
        #[arg(long, default_value = "bench-password-not-secret")]
        password: String,
        /// How many member ids to write.
        #[arg(long, default_value_t = 20_000)]
        members: usize,
    },
    /// Send requests at a fixed rate and report latency.
    Run {
        /// e.g. http://127.0.0.1:8080/core/realtime
        #[arg(long)]
        url: String,
        #[arg(long, value_enum)]
        kind: Kind,
        /// Requests per second.
        #[arg(long, default_value_t = 2000.0)]
        rate: f64,
        /// Measured seconds.
        #[arg(long, default_value_t = 20.0)]
        duration: f64,
        /// Unmeasured seconds first, at the same rate.
        #[arg(long, default_value_t = 3.0)]
        warmup: f64,
        /// Requests in flight at most (beyond it, due requests wait, and that wait counts).
        #[arg(long, default_value_t = 256)]
        max_inflight: usize,
        /// The directory `prepare` wrote.
        #[arg(long)]
        fixtures: PathBuf,
        #[arg(long, default_value = "bench-edi")]
        username: String,
        #[arg(long, default_value = "bench-password-not-secret")]
        password: String,
        /// For --kind form: the body, with {member} and {csrf} replaced per request.
        #[arg(long, default_value = "member_id={member}&_csrf={csrf}")]
        form: String,
    },
    /// Print a free loopback TCP port.
    FreePort,
    /// Wait (up to 60 s) until GET URL answers 200.
    Wait { url: String },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // One thread for the generator: the server gets the other core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.cmd {
            Cmd::Prepare {
                database_url,
                out,
                password,
                members,
            } => prepare(&database_url, &out, &password, members).await,
            Cmd::Run {
                url,
                kind,
                rate,
                duration,
                warmup,
                max_inflight,
                fixtures,
                username,
                password,
                form,
            } => {
                let bodies = bodies(kind, &fixtures, &username, &password, &form)?;
                run(
                    &url,
                    kind,
                    bodies,
                    rate,
                    duration,
                    warmup,
                    max_inflight,
                    &fixtures,
                )
                .await
            }
            Cmd::FreePort => {
                let l = std::net::TcpListener::bind("127.0.0.1:0")?;
                println!("{}", l.local_addr()?.port());
                Ok(())
            }
            Cmd::Wait { url } => wait(&url).await,
        }
    })
}

async fn prepare(url: &str, out: &std::path::Path, password: &str, n: usize) -> anyhow::Result<()> {
    use domain::account::{OrgKind, Role, UserStatus};
    use storage::{NewOrg, NewSession, NewUser};
    std::fs::create_dir_all(out)?;
    let store = storage::open(url).await?;
    let counts = store.counts().await?;
    if counts.members == 0 {
        bail!("the database holds no plan: run `portal seed --members N` first");
    }
    let office = seed::demo_office(&*store).await?;
    let hash = domain::password::hash(password);
    let user = |username: &str, role, org_id| NewUser {
        username: username.into(),
        display_name: format!("Benchmark {username}"),
        email: format!("{username}@bench.invalid"),
        role,
        org_id,
        password_hash: hash.clone(),
        status: UserStatus::Active,
        phone: "7145550100".into(),
        claims: true,
    };
    // Run again on a prepared database, only a new session and new ids are made (sessions end
    // after 15 idle minutes).
    let clerk = match store.user_by_username("bench-office").await? {
        Some(u) => u.id,
        None => {
            let billing = store
                .create_org(&NewOrg {
                    kind: OrgKind::BillingService,
                    name: "Benchmark Clearinghouse".into(),
                    tin: None,
                    network: None,
                    claims_allowed: false,
                })
                .await?;
            let edi = store
                .create_user(&user("bench-edi", Role::EdiPartner, billing))
                .await?;
            store.grant_tin(edi, &office.tin, edi).await?;
            let org = store
                .create_org(&NewOrg {
                    kind: OrgKind::ProviderOffice,
                    name: office.name.clone(),
                    tin: Some(office.tin),
                    network: None,
                    claims_allowed: true,
                })
                .await?;
            store
                .create_user(&user("bench-office", Role::ClaimsUser, org))
                .await?
        }
    };
    let token = domain::session::new_token();
    let csrf = domain::session::new_token();
    store
        .create_session(&NewSession {
            token_hash: domain::session::token_hash(&token),
            user_id: clerk,
            stage: domain::session::SessionStage::Full,
            csrf: csrf.clone(),
            created_at: chrono::Utc::now(),
            source: "loadgen".into(),
            user_agent: "loadgen".into(),
        })
        .await?;
    std::fs::write(
        out.join("session.txt"),
        format!("portal_session={token}\n{csrf}\n"),
    )?;

    // A utilization-management reviewer's session too, for the review queue under load.
    let reviewer = match store.user_by_username("bench-reviewer").await? {
        Some(u) => u.id,
        None => {
            let plan = store
                .create_org(&NewOrg {
                    kind: OrgKind::Plan,
                    name: "Benchmark plan staff".into(),
                    tin: None,
                    network: None,
                    claims_allowed: false,
                })
                .await?;
            store
                .create_user(&NewUser {
                    claims: false,
                    ..user("bench-reviewer", Role::UmReviewer, plan)
                })
                .await?
        }
    };
    let (token, csrf) = (domain::session::new_token(), domain::session::new_token());
    store
        .create_session(&NewSession {
            token_hash: domain::session::token_hash(&token),
            user_id: reviewer,
            stage: domain::session::SessionStage::Full,
            csrf: csrf.clone(),
            created_at: chrono::Utc::now(),
            source: "loadgen".into(),
            user_agent: "loadgen".into(),
        })
        .await?;
    std::fs::write(
        out.join("reviewer-session.txt"),
        format!("portal_session={token}\n{csrf}\n"),
    )?;

    // Members spread over the whole plan (a fixed stride from a random start, in member ID
    // order: IDs are not sequential, so they are read), so that no cache of a few rows flatters
    // the figures.
    let total = counts.members as u64;
    let stride = (total / n as u64).max(1);
    let offset = rand::random::<u64>() % stride;
    let mut members = format!("{}\n", office.npi);
    let (mut after, mut seen, mut picked) = (None::<domain::MemberId>, 0u64, 0usize);
    while picked < n {
        let page = store.member_ids(after.as_ref(), 10_000).await?;
        let Some(last) = page.last().cloned() else {
            // Fewer members than asked: start over from the first.
            if picked == 0 {
                bail!("the plan has no members");
            }
            after = None;
            continue;
        };
        for id in &page {
            if seen % stride == offset && picked < n {
                members.push_str(id.as_str());
                members.push('\n');
                picked += 1;
            }
            seen += 1;
        }
        after = Some(last);
    }
    std::fs::write(out.join("members.txt"), members)?;

    let claims = store
        .claims_in_scope(&domain::access::Scope::Tins(vec![office.tin]), 10_000)
        .await?;
    if claims.is_empty() {
        bail!("no claims are billed under the benchmark office's TIN");
    }
    let mut text = String::new();
    for c in &claims {
        text.push_str(&format!("{} {} {}\n", c.number, c.member, c.billing_npi));
    }
    std::fs::write(out.join("claims.txt"), text)?;
    println!(
        "prepared: partner bench-edi (TIN {}), {} member ids of {total}, {} claims, a session for bench-office",
        office.tin,
        n,
        claims.len()
    );
    Ok(())
}

struct Prepared {
    content_type: String,
    cookie: Option<String>,
    bodies: Vec<Bytes>,
}

fn bodies(
    kind: Kind,
    dir: &std::path::Path,
    username: &str,
    password: &str,
    form: &str,
) -> anyhow::Result<Prepared> {
    use edi::caqh::{new_uuid, payload, request_multipart};
    use x12::model::{EligibilityRequest, Envelope, Party, Person, StatusQuery, StatusRequest};
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .with_context(|| format!("reading {f} (run `loadgen prepare`)"))
    };
    let today = chrono::Utc::now().date_naive().format("%Y%m%d").to_string();
    let env = |i: usize| Envelope {
        sender: "BENCHCH".into(),
        receiver: "OCHP1".into(),
        control: i as u32 + 1,
        date: today.clone(),
        time: "1200".into(),
        usage: 'P',
    };
    let envelope = |payload_type: &str, x12: &str| {
        let id = new_uuid();
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        request_multipart(&[
            ("PayloadType", payload_type.as_bytes()),
            ("ProcessingMode", b"RealTime"),
            ("PayloadID", id.as_bytes()),
            ("TimeStamp", ts.as_bytes()),
            ("UserName", username.as_bytes()),
            ("Password", password.as_bytes()),
            ("SenderID", b"BENCHCH"),
            ("ReceiverID", b"OCHP1"),
            ("CORERuleVersion", b"2.2.0"),
            ("Payload", x12.as_bytes()),
        ])
    };
    let mut out = Prepared {
        content_type: String::new(),
        cookie: None,
        bodies: Vec::new(),
    };
    match kind {
        Kind::Eligibility => {
            let text = read("members.txt")?;
            let mut lines = text.lines();
            let npi = lines.next().context("members.txt is empty")?.to_string();
            for (i, m) in lines.enumerate() {
                let x12 = EligibilityRequest {
                    payer_name: "ORANGE COAST HEALTH PLAN".into(),
                    payer_id: "OCHP1".into(),
                    provider_name: "BENCH OFFICE".into(),
                    provider_npi: npi.clone(),
                    subscriber: Person {
                        member_id: m.into(),
                        ..Person::default()
                    },
                    trace: format!("T{i}"),
                    date_of_service: today.clone(),
                    service_types: vec!["30".into()],
                }
                .to_x12(&env(i));
                let (ct, body) = envelope(payload::ELIGIBILITY_REQUEST, &x12);
                out.content_type = ct_of(&ct);
                out.bodies.push(body_with(&ct, body));
            }
        }
        Kind::Status => {
            for (i, line) in read("claims.txt")?.lines().enumerate() {
                let mut f = line.split(' ');
                let (Some(number), Some(member), Some(npi)) = (f.next(), f.next(), f.next()) else {
                    continue;
                };
                let x12 = StatusRequest {
                    payer: Party {
                        name: "ORANGE COAST HEALTH PLAN".into(),
                        id: "OCHP1".into(),
                    },
                    receiver: Party {
                        name: "BENCH CLEARINGHOUSE".into(),
                        id: "BENCHCH".into(),
                    },
                    provider: Party {
                        name: "BENCH OFFICE".into(),
                        id: npi.into(),
                    },
                    subscriber: Person {
                        last: "MEMBER".into(),
                        first: "A".into(),
                        member_id: member.into(),
                        ..Person::default()
                    },
                    queries: vec![StatusQuery {
                        trace: format!("T{i}"),
                        payer_claim_id: number.into(),
                        ..StatusQuery::default()
                    }],
                }
                .to_x12(&env(i));
                let (ct, body) = envelope(payload::STATUS_REQUEST, &x12);
                out.content_type = ct_of(&ct);
                out.bodies.push(body_with(&ct, body));
            }
        }
        Kind::Form => {
            let session = read("session.txt")?;
            let mut s = session.lines();
            out.cookie = s.next().map(str::to_string);
            let csrf = s.next().unwrap_or("").to_string();
            out.content_type = "application/x-www-form-urlencoded".into();
            for m in read("members.txt")?.lines().skip(1) {
                out.bodies.push(Bytes::from(
                    form.replace("{member}", m).replace("{csrf}", &csrf),
                ));
            }
        }
    }
    if out.bodies.is_empty() {
        bail!("no requests could be built from {}", dir.display());
    }
    Ok(out)
}

/// Each CORE body has its own boundary; the content type travels with the body (see `send`).
fn ct_of(ct: &str) -> String {
    ct.to_string()
}

/// Keeps a body's own content type in front of it, split off again when sending.
fn body_with(ct: &str, body: Vec<u8>) -> Bytes {
    let mut v = Vec::with_capacity(ct.len() + 1 + body.len());
    v.extend_from_slice(ct.as_bytes());
    v.push(b'\n');
    v.extend_from_slice(&body);
    Bytes::from(v)
}

#[derive(Default)]
struct Tally {
    ok: u64,
    http_errors: u64,
    core_errors: u64,
    transport_errors: u64,
    first_failure: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn run(
    url: &str,
    kind: Kind,
    prepared: Prepared,
    rate: f64,
    duration: f64,
    warmup: f64,
    max_inflight: usize,
    _fixtures: &std::path::Path,
) -> anyhow::Result<()> {
    if rate <= 0.0 || duration <= 0.0 {
        bail!("--rate and --duration must be positive");
    }
    let uri: hyper::Uri = url.parse().context("--url")?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(max_inflight)
        .pool_idle_timeout(Duration::from_secs(60))
        .build_http();
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let sem = Arc::new(tokio::sync::Semaphore::new(max_inflight));
    let warm_n = (warmup * rate) as u64;
    let total = warm_n + (duration * rate) as u64;
    let bodies = Arc::new(prepared.bodies);
    let cookie = prepared.cookie.clone();
    let form_ct = prepared.content_type.clone();
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut measured_start = None;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        if i == warm_n {
            measured_start = Some(Instant::now());
        }
        let permit = sem.clone().acquire_owned().await?;
        let raw = bodies[(i as usize * 7919) % bodies.len()].clone();
        let (ct, body) = if kind == Kind::Form {
            (form_ct.clone(), raw)
        } else {
            let nl = raw.iter().position(|b| *b == b'\n').unwrap_or(0);
            (
                String::from_utf8_lossy(&raw[..nl]).into_owned(),
                raw.slice(nl + 1..),
            )
        };
        let mut req = hyper::Request::post(uri.clone())
            .header(hyper::header::CONTENT_TYPE, ct)
            .header(
                hyper::header::HOST,
                uri.authority().map(|a| a.as_str()).unwrap_or("localhost"),
            );
        if let Some(c) = &cookie {
            req = req
                .header(hyper::header::COOKIE, c.as_str())
                .header("sec-fetch-site", "same-origin");
        }
        let req = req.body(Full::new(body))?;
        let client = client.clone();
        let hist = hist.clone();
        let tally = tally.clone();
        let measured = i >= warm_n;
        tasks.spawn(async move {
            let result = client.request(req).await;
            let outcome = match result {
                Ok(res) => {
                    let status = res.status();
                    match res.into_body().collect().await {
                        Ok(b) => {
                            let b = b.to_bytes();
                            if !status.is_success() {
                                Err((1, format!("HTTP {status}")))
                            } else if kind != Kind::Form
                                && !contains(&b, b"name=\"ErrorCode\"\r\n\r\nSuccess")
                            {
                                Err((2, "CORE ErrorCode other than Success".to_string()))
                            } else {
                                Ok(())
                            }
                        }
                        Err(e) => Err((3, e.to_string())),
                    }
                }
                Err(e) => Err((3, e.to_string())),
            };
            let latency = due.elapsed();
            drop(permit);
            if !measured {
                return;
            }
            let _ = hist
                .lock()
                .unwrap()
                .record((latency.as_micros() as u64).max(1));
            let mut t = tally.lock().unwrap();
            match outcome {
                Ok(()) => t.ok += 1,
                Err((code, why)) => {
                    match code {
                        1 => t.http_errors += 1,
                        2 => t.core_errors += 1,
                        _ => t.transport_errors += 1,
                    }
                    t.first_failure.get_or_insert(why);
                }
            }
        });
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = measured_start.map(|s| s.elapsed()).unwrap_or_default();
    let h = hist.lock().unwrap();
    let t = tally.lock().unwrap();
    let ms = |v: u64| v as f64 / 1000.0;
    let done = h.len();
    println!(
        "{} {url}: target {rate:.0}/s for {duration:.0} s (+{warmup:.0} s warm-up), {} distinct requests",
        match kind {
            Kind::Eligibility => "270/271",
            Kind::Status => "276/277",
            Kind::Form => "form",
        },
        bodies.len()
    );
    println!(
        "  completed {done} in {:.2} s = {:.0} requests/s; ok {}, HTTP errors {}, CORE errors {}, transport errors {}",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64().max(1e-9),
        t.ok,
        t.http_errors,
        t.core_errors,
        t.transport_errors
    );
    println!(
        "  latency from due time (ms): p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max())
    );
    if let Some(f) = &t.first_failure {
        println!("  first failure: {f}");
    }
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn wait(url: &str) -> anyhow::Result<()> {
    let uri: hyper::Uri = url.parse()?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if let Ok(r) = client
            .request(hyper::Request::get(uri.clone()).body(Full::new(Bytes::new()))?)
            .await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("{url} did not answer within 60 s")
}
