//! The key file and the exported audit head: the two things the portal keeps outside the
//! database so that someone who can write the database can neither read the TOTP secrets nor
//! rewrite the audit trail unnoticed.
//!
//! Key file (`<data_dir>/portal.keys` by default, created 0600 on first start; or the same lines
//! in `PORTAL_KEYS`, `;` between them): one key a line, `KIND NUMBER HEX`, e.g.
//! `audit 1 9f…` and `totp 1 3c…`. The newest of a kind is used for new writes.
//!
//! Head file (`<data_dir>/audit.head`): the newest signed head this instance committed, one JSON
//! line, replaced atomically after each append. Any head it ever held is a lower bound of the
//! trail, so several instances writing their own (or a stale one) never raise a false alarm.

use crate::{Result, StorageError};
use domain::audit::SignedHead;
use domain::keys::{KeyKind, Keyring, SecretKey};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// What [`crate::open_with`] needs besides the URL.
#[derive(Debug, Clone)]
pub struct Keys {
    pub ring: Keyring,
    /// Where to write the signed head after each append; `None`: only in the database.
    pub head_file: Option<PathBuf>,
}

/// The key file beside a SQLite database, as `portal serve` uses with its default settings.
pub const KEY_FILE: &str = "portal.keys";
/// The exported head beside a SQLite database.
pub const HEAD_FILE: &str = "audit.head";

impl Keys {
    /// For [`crate::open`]: the key and head files in the SQLite file's directory (made on
    /// first use), as `portal serve` keeps them by default; for any other URL, keys made once
    /// per process and kept in memory only (tests, throwaway databases).
    pub fn beside(url: &str) -> Result<Keys> {
        let file = url
            .strip_prefix("sqlite://")
            .map(|p| p.split('?').next().unwrap_or(p))
            .filter(|p| !p.is_empty() && !p.contains(":memory:"))
            .map(PathBuf::from);
        match file {
            Some(db) => {
                let dir = db.parent().unwrap_or(Path::new(".")).to_path_buf();
                Ok(Keys {
                    ring: load_or_create(&dir.join(KEY_FILE))?,
                    head_file: Some(dir.join(HEAD_FILE)),
                })
            }
            None => {
                static PROCESS: OnceLock<Keyring> = OnceLock::new();
                Ok(Keys {
                    ring: PROCESS.get_or_init(Keyring::generate).clone(),
                    head_file: None,
                })
            }
        }
    }
}

fn key_error(path: &Path, why: impl std::fmt::Display) -> StorageError {
    StorageError::Keys(format!("{}: {why}", path.display()))
}

/// Parses key file lines (`KIND NUMBER HEX`; `#` comments, blank lines and `;` separators).
pub fn parse(text: &str) -> std::result::Result<Keyring, String> {
    let mut ring = Keyring::default();
    for (i, line) in text.split(['\n', ';']).enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "entry {}: expected `audit|totp NUMBER 64-HEX-DIGITS`",
                i + 1
            )
        };
        let mut parts = line.split_whitespace();
        let kind = parts.next().and_then(KeyKind::from_code).ok_or_else(bad)?;
        let n: u32 = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let key = parts.next().and_then(SecretKey::from_hex).ok_or_else(bad)?;
        if parts.next().is_some() || ring.get(kind, n).is_some() {
            return Err(bad());
        }
        ring.insert(kind, n, key);
    }
    for kind in [KeyKind::Audit, KeyKind::Totp] {
        if ring.current(kind).is_none() {
            return Err(format!("no {} key", kind.code()));
        }
    }
    Ok(ring)
}

/// The key file's text.
pub fn format(ring: &Keyring) -> String {
    let mut s = String::from(
        "# provider-portal keys: keep secret and back up with the database. Without this file the\n\
         # TOTP secrets cannot be read and the audit trail cannot be verified. See `portal admin rotate-keys`.\n",
    );
    for (kind, n, key) in ring.iter() {
        s.push_str(&format!("{} {n} {}\n", kind.code(), key.expose_hex()));
    }
    s
}

/// Reads the key file, or creates it (mode 0600, fresh keys) when it does not exist.
pub fn load_or_create(path: &Path) -> Result<Keyring> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            parse(&text).map_err(|e| key_error(path, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ring = Keyring::generate();
            let mut f = create_private(path, true).map_err(|e| key_error(path, e))?;
            f.write_all(format(&ring).as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| key_error(path, e))?;
            tracing::info!(path = %path.display(), "created the key file");
            Ok(ring)
        }
        Err(e) => Err(key_error(path, e)),
    }
}

/// Reads an existing key file (never creates one: a verifier with fresh keys proves nothing).
pub fn load(path: &Path) -> Result<Keyring> {
    let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
    warn_if_readable_by_others(path);
    parse(&text).map_err(|e| key_error(path, e))
}

/// Replaces the key file atomically (a temporary file in the same directory, then a rename).
pub fn save(path: &Path, ring: &Keyring) -> Result<()> {
    replace(path, format(ring).as_bytes(), true).map_err(|e| key_error(path, e))
}

fn create_private(path: &Path, new: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if new {
        o.create_new(true);
    } else {
        o.create(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

fn replace(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = create_private(&tmp, false)?;
    f.write_all(bytes)?;
    if durable {
        f.sync_all()?;
    }
    drop(f);
    std::fs::rename(&tmp, path)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(m) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt as _;
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the key file is readable by other users: chmod 600 it");
        }
    }
}

/// Reads an exported head (`audit.head` or the output of `portal audit export-head`).
pub fn read_head(path: &Path) -> Result<Option<SignedHead>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(text.trim())
            .map(Some)
            .map_err(|e| key_error(path, format!("not an exported audit head: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(key_error(path, e)),
    }
}

/// The head file an instance keeps: appends hand the newest head to a writer thread, which
/// writes it off the request path (coalescing a burst into one write) and never goes back to an
/// older head. Dropping the store writes the last one before returning.
pub(crate) struct HeadFile {
    pub path: PathBuf,
    shared: std::sync::Arc<(Mutex<Pending>, std::sync::Condvar)>,
    writer: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Pending {
    head: Option<SignedHead>,
    closed: bool,
}

impl HeadFile {
    pub fn new(path: PathBuf) -> HeadFile {
        let shared =
            std::sync::Arc::new((Mutex::new(Pending::default()), std::sync::Condvar::new()));
        let (p, s) = (path.clone(), shared.clone());
        let writer = std::thread::Builder::new()
            .name("audit-head".into())
            .spawn(move || write_loop(&p, &s))
            .ok();
        HeadFile {
            path,
            shared,
            writer,
        }
    }

    /// Best effort: the entries are committed already; a failed write is logged, and the next
    /// append writes a newer head anyway.
    pub fn write(&self, head: &SignedHead) {
        let (m, cv) = &*self.shared;
        let mut p = m.lock().unwrap_or_else(|e| e.into_inner());
        if p.head.as_ref().is_none_or(|h| h.seq < head.seq) {
            p.head = Some(head.clone());
            cv.notify_one();
        }
    }
}

impl Drop for HeadFile {
    fn drop(&mut self) {
        let (m, cv) = &*self.shared;
        m.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        cv.notify_one();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn write_loop(path: &Path, shared: &(Mutex<Pending>, std::sync::Condvar)) {
    let (m, cv) = shared;
    let mut written = 0;
    loop {
        let (head, closed) = {
            let mut p = m.lock().unwrap_or_else(|e| e.into_inner());
            while !p.closed && p.head.as_ref().is_none_or(|h| h.seq <= written) {
                p = cv.wait(p).unwrap_or_else(|e| e.into_inner());
            }
            (p.head.clone().filter(|h| h.seq > written), p.closed)
        };
        if let Some(head) = head {
            let line = serde_json::to_string(&head).expect("a head serializes");
            // Not fsynced: a crash can only leave an older head, still a true lower bound.
            match replace(path, format!("{line}\n").as_bytes(), false) {
                Ok(()) => written = head.seq,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot write the audit head file");
                    written = head.seq;
                }
            }
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trips_and_bad_lines_are_named() {
        let ring = Keyring::generate().rotated();
        assert_eq!(parse(&format(&ring)).unwrap(), ring);
        let inline = format(&ring)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(";");
        assert_eq!(parse(&inline).unwrap(), ring);
        assert!(parse("audit 1 abc").unwrap_err().contains("entry 1"));
        assert!(parse("").unwrap_err().contains("no audit key"));
    }

    #[cfg(unix)]
    #[test]
    fn created_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let ring = load_or_create(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            load(&path).unwrap(),
            ring,
            "a second start reads the same keys"
        );
        save(&path, &ring.rotated()).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
