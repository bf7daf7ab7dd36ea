//! `portal serve`: the web portal. On an empty database it seeds the demo plan and prints one
//! login per role. Fails fast, on one line, when the configuration, the data directory, the
//! database or the listen address is unusable.

use super::config::{Config, Overrides, redact_url};
use clap::Args;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = "\
Settings come from a TOML file (--config, PORTAL_CONFIG, or ./portal.toml when present), then \
PORTAL_* environment variables, then these flags; later ones win. On first start with an empty \
database it creates a small demo plan and prints one demo login per role; set \
PORTAL_DEMO_PASSWORD to choose their password, otherwise a random one is printed. Logs go to \
stderr (RUST_LOG, default info). Stops cleanly on Ctrl-C or SIGTERM.")]
pub struct ServeArgs {
    /// Configuration file (TOML, keys as below without PORTAL_, e.g. listen = "0.0.0.0:8080").
    /// [env: PORTAL_CONFIG] [default: portal.toml when present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, HOST:PORT. [env: PORTAL_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Directory for the portal's data: the SQLite database unless --database-url says
    /// otherwise. Created if missing; must be writable. [env: PORTAL_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://USER:PASSWORD@HOST/DB (the password is never
    /// printed; prefer the variable, which other users cannot see in the process list).
    /// [env: PORTAL_DATABASE_URL] [default: sqlite://DATA_DIR/portal.db]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// A TLS-terminating proxy fronts the portal: send Strict-Transport-Security.
    /// [env: PORTAL_BEHIND_TLS=true] [default: false]
    #[arg(long)]
    pub behind_tls: bool,
    /// Seconds between runs of the claims engine (adjudication, then a payment run with an 835
    /// per payee); 0 disables it. Instances share a lease, so only one runs at a time.
    /// [env: PORTAL_ADJUDICATE_EVERY] [default: 60]
    #[arg(long, value_name = "SECONDS")]
    pub adjudicate_every: Option<u64>,
}

impl ServeArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            listen: self.listen.clone(),
            behind_tls: self.behind_tls.then_some(true),
            adjudicate_every: self.adjudicate_every,
        }
    }
}

pub fn run(args: ServeArgs) -> ExitCode {
    let cfg = match Config::load(&args.overrides()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("portal: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .try_init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("portal: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("portal: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the portal; the error is the one line to print after `portal: `.
async fn serve(cfg: Config) -> Result<(), String> {
    check_data_dir(&cfg.data_dir)?;

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {} (set --listen or PORTAL_LISTEN)",
                cfg.listen,
                io_reason(&e)
            )
        })?;

    let url = cfg.database_url();
    let shown = cfg.redacted_database_url();
    let store = super::keys::open(&cfg).await.map_err(|e| match e {
        storage::StorageError::Keys(_) => format!(
            "{e} (key file {}; set key_file / PORTAL_KEY_FILE or PORTAL_KEYS)",
            cfg.key_file().display()
        ),
        e => format!(
            "{} ({shown}; set --database-url or PORTAL_DATABASE_URL)",
            scrub(&e.to_string(), &url)
        ),
    })?;
    let db_err = |e: storage::StorageError| scrub(&e.to_string(), &url);

    let open_url = browse_url(cfg.listen);
    if store.is_empty().await.map_err(db_err)? {
        eprintln!("portal: empty database: creating the demo plan (a few seconds)...");
        let accounts = match &cfg.demo_password {
            Some(p) => seed::demo_with_password(&*store, p).await,
            None => seed::demo(&*store).await,
        }
        .map_err(|e| format!("cannot create the demo plan: {}", db_err(e)))?;
        let office = seed::demo_office(&*store)
            .await
            .map_err(|e| format!("cannot read the demo plan: {}", db_err(e)))?;
        print_welcome(&open_url, &shown, &accounts, &office);
    } else {
        println!("provider-portal: open {open_url} (database {shown})");
    }
    let _ = std::io::stdout().flush();
    tracing::info!(listen = %cfg.listen, database = %shown, behind_tls = cfg.behind_tls, "serving");

    let engine = (cfg.adjudicate_every > 0).then(|| {
        tokio::spawn(claims_engine(
            store.clone(),
            std::time::Duration::from_secs(cfg.adjudicate_every),
        ))
    });
    let mut state = web::AppState::new(store, cfg.behind_tls);
    state.public_url = cfg.public_url.clone().unwrap_or_else(|| open_url.clone());
    state.trusted_proxies = std::sync::Arc::new(cfg.trusted_proxies.clone());
    // No SMTP yet: mail (activation links included) is dropped where only the operator reads it.
    let mail_dir = cfg.data_dir.join("mail");
    tracing::info!(dir = %mail_dir.display(), "mail is written as .eml files (owner-only)");
    state.mail = std::sync::Arc::new(web::mail::Transport::Dir(mail_dir));
    if cfg.behind_tls && cfg.trusted_proxies.is_empty() {
        tracing::warn!(
            "behind_tls is set but trusted_proxies is empty: X-Forwarded-For is ignored and every client is the proxy's address"
        );
    }
    let served = web::serve_with(listener, state, cfg.serve)
        .await
        .map_err(|e| format!("server stopped: {}", io_reason(&e)));
    if let Some(engine) = engine {
        engine.abort();
    }
    served
}

/// Runs the claims engine every `every`: received claims adjudicated, then a payment run. Logs
/// counts only (never claim or member values); a failed run is logged and tried again later.
async fn claims_engine(store: std::sync::Arc<dyn storage::Store>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let opts = adjudication::Options::new(chrono::Utc::now().date_naive());
        match adjudication::run(&*store, &opts).await {
            Ok(s) if s.skipped => {
                tracing::debug!("claims engine: another instance holds the lease")
            }
            Ok(s) if s.adjudication.claims > 0 || s.payments.payments > 0 => tracing::info!(
                claims = s.adjudication.claims,
                paid = s.adjudication.paid,
                denied = s.adjudication.denied,
                partial = s.adjudication.partial,
                payments = s.payments.payments,
                ms = s.elapsed.as_millis() as u64,
                "claims engine run"
            ),
            Ok(_) => {}
            // The validator's message may quote a value from the 835: log the payment only.
            Err(adjudication::EngineError::InvalidRemittance { number, .. }) => {
                tracing::error!(payment = %number, "claims engine run failed: an 835 did not validate")
            }
            Err(e) => tracing::error!(error = %e, "claims engine run failed"),
        }
    }
}

/// Creates the data directory and proves it is writable with a probe file.
fn check_data_dir(dir: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| {
        format!(
            "cannot write to data directory {}: {} (set --data-dir or PORTAL_DATA_DIR)",
            dir.display(),
            io_reason(&e)
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".portal-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"probe").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// An I/O error in plain words, without the `(os error N)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        AddrInUse => "address already in use".into(),
        AddrNotAvailable => "address not available on this machine".into(),
        PermissionDenied => "permission denied".into(),
        NotFound => "not found".into(),
        ReadOnlyFilesystem => "read-only file system".into(),
        NotADirectory | AlreadyExists => "a file is in the way (not a directory)".into(),
        _ => {
            let s = e.to_string();
            let s = s.find(" (os error").map_or(s.as_str(), |i| &s[..i]);
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

/// Removes the URL's password from a message, whatever the layer below put in it, and keeps it
/// on one line.
fn scrub(msg: &str, url: &str) -> String {
    let mut out = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(password) = url_password(url) {
        out = out.replace(url, &redact_url(url)).replace(password, "***");
    }
    out
}

fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then_some(password)
}

/// The address a person on this machine should open.
fn browse_url(listen: std::net::SocketAddr) -> String {
    let host = match listen.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/", listen.port())
}

fn print_welcome(
    open_url: &str,
    db: &str,
    accounts: &[seed::DemoAccount],
    office: &seed::DemoOffice,
) {
    let role_w = accounts
        .iter()
        .map(|a| a.role.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let user_w = accounts
        .iter()
        .map(|a| a.username.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut lines = vec![
        format!("provider-portal is ready: open {open_url}"),
        format!("Database: {db}"),
        String::new(),
        "A demo plan was created, with one demo login per role:".to_string(),
        String::new(),
        format!("  {:role_w$}  {:user_w$}  password", "role", "username"),
    ];
    for a in accounts {
        lines.push(format!(
            "  {:role_w$}  {:user_w$}  {}",
            a.role, a.username, a.password
        ));
    }
    lines.extend([
        String::new(),
        "Each account sets up two-step sign-in (an authenticator app code)".to_string(),
        "at its first sign-in. These logins are shown only on this first start.".to_string(),
        String::new(),
        format!("To try registration: office {}", office.name),
        format!("  NPI {}  TIN {}", office.npi, office.tin),
    ]);
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let bar = "─".repeat(width + 2);
    let mut out = format!("┌{bar}┐\n");
    for l in &lines {
        let pad = width - l.chars().count();
        out.push_str(&format!("│ {l}{} │\n", " ".repeat(pad)));
    }
    out.push_str(&format!("└{bar}┘"));
    println!("{out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_passwords() {
        let url = "postgres://app:pa55word@db/portal";
        let m = scrub(
            "cannot connect to postgres://app:pa55word@db/portal:\n pa55word rejected",
            url,
        );
        assert!(!m.contains("pa55word"), "{m}");
        assert!(!m.contains('\n'));
    }

    #[test]
    fn browse_urls() {
        assert_eq!(
            browse_url("0.0.0.0:80".parse().unwrap()),
            "http://localhost:80/"
        );
        assert_eq!(
            browse_url("127.0.0.1:8080".parse().unwrap()),
            "http://127.0.0.1:8080/"
        );
    }
}
