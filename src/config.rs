//! Configuration of the `portal` binary: a TOML file, overridden by `PORTAL_*` environment
//! variables, overridden by command-line flags.
//!
//! ```ignore
//! let cfg = config::Config::load(&config::Overrides::default())?; // file + env only
//! let url = cfg.database_url();          // the effective URL (default: SQLite in data_dir)
//! println!("{}", cfg.redacted_database_url()); // safe to print: `user:***@`
//! ```
//!
//! - File: `--config FILE` or `PORTAL_CONFIG`; otherwise `portal.toml` in the working directory
//!   when present. A named file that does not exist is an error; unknown keys in it are errors.
//! - Keys (and env vars): `data_dir` (`PORTAL_DATA_DIR`, default `./data`), `database_url`
//!   (`PORTAL_DATABASE_URL`, default `sqlite://<data_dir>/portal.db`), `listen` (`PORTAL_LISTEN`,
//!   default `127.0.0.1:8080`), `behind_tls` (`PORTAL_BEHIND_TLS`, default false: sends HSTS),
//!   `demo_password` (`PORTAL_DEMO_PASSWORD`: the demo accounts' password on first start),
//!   `public_url` (`PORTAL_PUBLIC_URL`, e.g. `https://portal.plan.org`: the address put in
//!   emails such as activation links; default: the listen address), `adjudicate_every`
//!   (`PORTAL_ADJUDICATE_EVERY`, default 60: seconds between runs of the claims engine in
//!   `portal serve`; 0 disables it), `trusted_proxies` (`PORTAL_TRUSTED_PROXIES`, a list or
//!   comma-separated addresses/CIDR blocks whose `X-Forwarded-For` is believed; default none:
//!   the header is ignored), `header_read_timeout` (`PORTAL_HEADER_READ_TIMEOUT`, default 10
//!   seconds), `max_connections` (`PORTAL_MAX_CONNECTIONS`, default 1024).
//!   `portal serve`; 0 disables it), `key_file` (`PORTAL_KEY_FILE`, default
//!   `<data_dir>/portal.keys`: the audit MAC and TOTP keys, created 0600 on first start), `keys`
//!   (`PORTAL_KEYS`: the key file's lines inline, `;` between them; wins over `key_file`; what
//!   several instances on one PostgreSQL database share).
//! - Errors ([`ConfigError`]) print as one line naming the key:
//!   `bad configuration: listen: invalid socket address "abc"`.
//! - `Debug` and [`Config::redacted_database_url`] never show the database password, the demo
//!   password or the keys.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Keys a configuration file may hold.
const KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "listen",
    "behind_tls",
    "demo_password",
    "public_url",
    "adjudicate_every",
    "trusted_proxies",
    "header_read_timeout",
    "max_connections",
    "key_file",
    "keys",
];
const DEFAULT_FILE: &str = "portal.toml";

/// The loaded, checked configuration.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// As configured; see [`Config::database_url`] for the effective one.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub behind_tls: bool,
    pub demo_password: Option<String>,
    /// Where users reach the portal (links in emails); never taken from a request's Host header.
    pub public_url: Option<String>,
    /// Seconds between claims engine runs in `portal serve` (0: never).
    pub adjudicate_every: u64,
    /// Proxies whose `X-Forwarded-For` entries name the client; without any, the TCP peer does.
    pub trusted_proxies: web::auth::client::TrustedProxies,
    /// Header-read timeout and connection cap of the listener.
    pub serve: web::ServeOptions,
    /// As configured; see [`Config::key_file`] for the effective one.
    pub key_file: Option<PathBuf>,
    /// The keys inline (`PORTAL_KEYS`), instead of a key file.
    pub keys: Option<String>,
    /// The configuration file that was read, if any.
    pub file: Option<PathBuf>,
}

/// Values from the command line; `None` leaves the file/env value in place.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip)]
    pub config: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_tls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjudicate_every: Option<u64>,
}

/// Raw values as merged by figment, before checking.
#[derive(Deserialize)]
struct Raw {
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
    #[serde(default)]
    database_url: Option<String>,
    #[serde(default = "default_listen", deserialize_with = "string_like")]
    listen: String,
    #[serde(default)]
    behind_tls: bool,
    #[serde(default, deserialize_with = "opt_string_like")]
    demo_password: Option<String>,
    #[serde(default)]
    public_url: Option<String>,
    #[serde(default = "default_adjudicate_every")]
    adjudicate_every: u64,
    #[serde(default)]
    trusted_proxies: Option<ListLike>,
    #[serde(default)]
    header_read_timeout: Option<u64>,
    #[serde(default)]
    max_connections: Option<usize>,
    #[serde(default)]
    key_file: Option<PathBuf>,
    #[serde(default)]
    keys: Option<String>,
}

/// A list in TOML (`["10.0.0.0/8"]`), or comma-separated text in the environment.
#[derive(Deserialize)]
#[serde(untagged)]
enum ListLike {
    List(Vec<String>),
    Text(String),
}

impl ListLike {
    fn entries(self) -> Vec<String> {
        match self {
            ListLike::List(v) => v,
            ListLike::Text(t) => t.split(',').map(str::to_string).collect(),
        }
    }
}

/// Environment values that look like numbers (`PORTAL_DEMO_PASSWORD=123456`) still mean text.
#[derive(Deserialize)]
#[serde(untagged)]
enum StringLike {
    S(String),
    U(u64),
    I(i64),
    F(f64),
    B(bool),
}

impl From<StringLike> for String {
    fn from(v: StringLike) -> String {
        match v {
            StringLike::S(s) => s,
            StringLike::U(n) => n.to_string(),
            StringLike::I(n) => n.to_string(),
            StringLike::F(n) => n.to_string(),
            StringLike::B(b) => b.to_string(),
        }
    }
}

fn string_like<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    StringLike::deserialize(d).map(String::from)
}

fn opt_string_like<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<StringLike>::deserialize(d).map(|v| v.map(String::from))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}
fn default_adjudicate_every() -> u64 {
    60
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

/// A configuration problem, worded for one line: `bad configuration: <key>: <what is wrong>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key (or `config` for the file itself).
    pub key: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad configuration: {}: {}", self.key, self.problem)
    }
}
impl std::error::Error for ConfigError {}

fn err(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        problem: one_line(&problem.into()),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Config {
    /// Reads the file (if any) and `PORTAL_*` variables, applies `overrides`, and checks values.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let env_file = std::env::var_os("PORTAL_CONFIG")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Self::load_from(overrides, env_file, Env::prefixed("PORTAL_"))
    }

    fn load_from(
        overrides: &Overrides,
        env_file: Option<PathBuf>,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let file = overrides
            .config
            .clone()
            .or(env_file)
            .or_else(|| Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()));
        let mut fig = Figment::new();
        if let Some(path) = &file {
            check_file(path)?;
            fig = fig.merge(Toml::file_exact(path));
        }
        // PORTAL_CONFIG names the file, it is not a key.
        fig = fig
            .merge(env.ignore(&["config"]))
            .merge(Serialized::defaults(overrides));
        let raw: Raw = fig.extract().map_err(|e| {
            let key = if e.path.is_empty() {
                "config".to_string()
            } else {
                e.path.join(".")
            };
            err(&key, e.kind.to_string())
        })?;
        let listen = raw.listen.trim().parse::<SocketAddr>().map_err(|_| {
            err(
                "listen",
                format!(
                    "invalid socket address {:?} (expected HOST:PORT, e.g. 127.0.0.1:8080)",
                    raw.listen
                ),
            )
        })?;
        if raw.data_dir.as_os_str().is_empty() {
            return Err(err("data_dir", "must not be empty"));
        }
        let database_url = raw.database_url.filter(|u| !u.trim().is_empty());
        if let Some(u) = &database_url
            && !u.contains(':')
        {
            return Err(err(
                "database_url",
                format!(
                    "{:?} is not a URL (expected sqlite://FILE or postgres://USER@HOST/DB)",
                    redact_url(u)
                ),
            ));
        }
        Ok(Config {
            data_dir: raw.data_dir,
            database_url,
            listen,
            behind_tls: raw.behind_tls,
            demo_password: raw.demo_password.filter(|p| !p.is_empty()),
            public_url: match raw.public_url.filter(|u| !u.is_empty()) {
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                    Some(u.trim_end_matches('/').to_string())
                }
                Some(u) => {
                    return Err(err(
                        "public_url",
                        format!("{u:?} is not an http(s) URL (expected https://HOST)"),
                    ));
                }
                None => None,
            },
            adjudicate_every: raw.adjudicate_every,
            trusted_proxies: web::auth::client::TrustedProxies::parse(
                &raw.trusted_proxies
                    .map(ListLike::entries)
                    .unwrap_or_default(),
            )
            .map_err(|e| err("trusted_proxies", e))?,
            serve: serve_options(raw.header_read_timeout, raw.max_connections)?,
            key_file: raw.key_file.filter(|p| !p.as_os_str().is_empty()),
            keys: raw.keys.filter(|k| !k.trim().is_empty()),
            file,
        })
    }

    /// The key file: the configured one, or `portal.keys` in the data directory.
    pub fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(storage::keys::KEY_FILE))
    }

    /// Where this instance writes the signed audit head after each append.
    pub fn head_file(&self) -> PathBuf {
        self.data_dir.join(storage::keys::HEAD_FILE)
    }

    /// The URL to open: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("portal.db").display()),
        }
    }

    /// [`Config::database_url`] with any password replaced by `***`: safe to print and log.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url())
    }
}

fn serve_options(
    header_read_timeout: Option<u64>,
    max_connections: Option<usize>,
) -> Result<web::ServeOptions, ConfigError> {
    let mut o = web::ServeOptions::default();
    if let Some(t) = header_read_timeout {
        if t == 0 {
            return Err(err("header_read_timeout", "must be at least 1 second"));
        }
        o.header_read_timeout = std::time::Duration::from_secs(t);
    }
    if let Some(n) = max_connections {
        if n == 0 {
            return Err(err("max_connections", "must be at least 1"));
        }
        o.max_connections = n;
    }
    Ok(o)
}

/// Checks the file exists, parses, and holds only known keys.
fn check_file(path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        err("config", format!("cannot read {}: {why}", path.display()))
    })?;
    let table: toml_keys::Table = Figment::from(Toml::string(&text)).extract().map_err(|e| {
        err(
            "config",
            format!("{} is not valid TOML: {}", path.display(), e.kind),
        )
    })?;
    if let Some(k) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(err(
            k,
            format!(
                "unknown key in {} (known: {})",
                path.display(),
                KEYS.join(", ")
            ),
        ));
    }
    Ok(())
}

mod toml_keys {
    pub type Table = std::collections::BTreeMap<String, figment::value::Value>;
}

/// `scheme://user:secret@host/db` -> `scheme://user:***@host/db`; anything else unchanged.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The authority ends at the first '/', '?' or '#'; userinfo is before its last '@'.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.redacted_database_url())
            .field("listen", &self.listen)
            .field("behind_tls", &self.behind_tls)
            .field("adjudicate_every", &self.adjudicate_every)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("serve", &self.serve)
            .field("demo_password", &self.demo_password.as_ref().map(|_| "***"))
            .field("key_file", &self.key_file)
            .field("keys", &self.keys.as_ref().map(|_| "***"))
            .field("file", &self.file)
            .finish()
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "listen {}, database {}, data directory {}",
            self.listen,
            self.redacted_database_url(),
            self.data_dir.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(o: &Overrides) -> Result<Config, ConfigError> {
        // An env prefix nothing uses: tests must not see the developer's PORTAL_* variables.
        Config::load_from(o, None, Env::prefixed("PORTAL_TEST_UNUSED_PREFIX_"))
    }

    #[test]
    fn defaults() {
        let c = load(&Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://./data/portal.db");
        assert!(!c.behind_tls);
        assert_eq!(c.adjudicate_every, 60);
        assert_eq!(c.key_file(), PathBuf::from("./data/portal.keys"));
        assert_eq!(c.head_file(), PathBuf::from("./data/audit.head"));
        let c = load(&Overrides {
            adjudicate_every: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.adjudicate_every, 0, "0 disables the engine");
    }

    #[test]
    fn bad_listen_is_one_line_naming_the_key() {
        let e = load(&Overrides {
            listen: Some("abc".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "listen");
        let s = e.to_string();
        assert!(
            s.starts_with("bad configuration: listen: invalid socket address \"abc\""),
            "{s}"
        );
        assert!(!s.contains('\n'));
    }

    #[test]
    fn proxies_and_listener_limits() {
        let c = load(&Overrides::default()).unwrap();
        assert!(
            c.trusted_proxies.is_empty(),
            "no proxy is trusted by default"
        );
        assert_eq!(c.serve, web::ServeOptions::default());
        let dir =
            std::env::temp_dir().join(format!("portal-config-proxies-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.toml");
        let with = |text: &str| {
            std::fs::write(&f, text).unwrap();
            load(&Overrides {
                config: Some(f.clone()),
                ..Default::default()
            })
        };
        let c = with("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nheader_read_timeout = 5\nmax_connections = 64\n").unwrap();
        assert!(!c.trusted_proxies.is_empty());
        assert_eq!(c.serve.header_read_timeout.as_secs(), 5);
        assert_eq!(c.serve.max_connections, 64);
        // The environment's form: one comma-separated string.
        let c = with("trusted_proxies = \"10.0.0.0/8, 192.0.2.1\"\n").unwrap();
        assert_eq!(
            c.trusted_proxies,
            web::auth::client::TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.1"]).unwrap()
        );
        assert_eq!(
            with("trusted_proxies = [\"proxy\"]\n").unwrap_err().key,
            "trusted_proxies"
        );
        assert_eq!(
            with("header_read_timeout = 0\n").unwrap_err().key,
            "header_read_timeout"
        );
        assert_eq!(
            with("max_connections = 0\n").unwrap_err().key,
            "max_connections"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_values_are_read_and_flags_override_them() {
        let dir = std::env::temp_dir().join(format!("portal-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:9000\"\nbehind_tls = true\ndata_dir = \"/srv/p\"\n",
        )
        .unwrap();
        let c = load(&Overrides {
            config: Some(f.clone()),
            listen: Some("127.0.0.1:1".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:1");
        assert!(c.behind_tls);
        assert_eq!(c.database_url(), "sqlite:///srv/p/portal.db");

        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        let e = load(&Overrides {
            config: Some(f.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "lisen");

        std::fs::write(&f, "behind_tls = \"maybe\"\n").unwrap();
        let e = load(&Overrides {
            config: Some(f.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "behind_tls", "{e}");
        std::fs::remove_dir_all(&dir).ok();

        let e = load(&Overrides {
            config: Some(dir.join("missing.toml")),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "config");
    }

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/portal"),
            "postgres://app:***@db:5432/portal"
        );
        assert_eq!(
            redact_url("postgres://app@db/portal"),
            "postgres://app@db/portal"
        );
        assert_eq!(
            redact_url("postgres://a:b@c@h/d?x=@"),
            "postgres://a:***@h/d?x=@"
        );
        assert_eq!(
            redact_url("sqlite://./data/portal.db"),
            "sqlite://./data/portal.db"
        );
        let c = load(&Overrides {
            database_url: Some("postgres://app:s3cret@db/portal".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{c}").contains("s3cret"));
        let mut c = c;
        c.keys = Some("audit 1 00ff".into());
        assert!(!format!("{c:?}").contains("00ff"));
    }
}
