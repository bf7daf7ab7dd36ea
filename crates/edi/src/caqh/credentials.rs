//! [`CredentialCache`]: successful UserName/Password verifications kept for a few minutes, so
//! that argon2id runs once per partner rather than once per real-time request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Successful UserName/Password verifications, kept for [`CredentialCache::TTL`].
///
/// argon2id takes tens of milliseconds on purpose; a partner sending thousands of real-time
/// requests a second with the same credentials must not pay that each time. The cache is keyed
/// by HMAC-SHA-256 of username and password under a key drawn at start-up, so neither the
/// password nor an offline-guessable hash of it is ever kept in memory, and it holds only
/// verifications that *succeeded*: a wrong password always goes to argon2id (and counts toward
/// the account's lockout).
///
/// Revocation: each entry remembers the account's password hash and is re-checked against the
/// database (status Active, same password hash, same TIN grants) whenever it is older than
/// [`CredentialCache::RECHECK`]. We chose a short interval over a check on every request
/// because that check is a database round trip of its own, on the hot path of every real-time
/// request; with a few seconds' interval a deactivation, a lockout or a password change takes
/// effect within those seconds, on every instance, without any message between instances.
pub struct CredentialCache<T> {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Cached<T>>>,
    ttl: Duration,
    recheck: Duration,
}

struct Cached<T> {
    value: T,
    /// The account's password hash when it was verified: a change invalidates the entry.
    password_hash: String,
    verified: Instant,
    checked: Instant,
}

/// What a lookup found.
pub enum Lookup<T> {
    /// Verified recently and re-checked within the interval.
    Fresh(T),
    /// Verified within the TTL, but the account must be re-read: call
    /// [`CredentialCache::confirm`] with what the database says now.
    Recheck(T, String),
    Miss,
}

impl<T: Clone> CredentialCache<T> {
    pub const TTL: Duration = Duration::from_secs(300);
    pub const RECHECK: Duration = Duration::from_secs(5);
    const MAX_ENTRIES: usize = 10_000;

    pub fn new() -> Self {
        Self::with_times(Self::TTL, Self::RECHECK)
    }

    pub fn with_times(ttl: Duration, recheck: Duration) -> Self {
        use rand::Rng as _;
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        CredentialCache {
            key,
            entries: Mutex::new(HashMap::new()),
            ttl,
            recheck,
        }
    }

    /// The cache key: HMAC-SHA-256(key, len(username) || username || password).
    pub fn key_of(&self, username: &str, password: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes any key length");
        m.update(&(username.len() as u64).to_be_bytes());
        m.update(username.as_bytes());
        m.update(password.as_bytes());
        m.finalize().into_bytes().into()
    }

    pub fn lookup(&self, key: &[u8; 32]) -> Lookup<T> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match map.get(key) {
            Some(c) if now.duration_since(c.verified) < self.ttl => {
                if now.duration_since(c.checked) < self.recheck {
                    Lookup::Fresh(c.value.clone())
                } else {
                    Lookup::Recheck(c.value.clone(), c.password_hash.clone())
                }
            }
            Some(_) => {
                map.remove(key);
                Lookup::Miss
            }
            None => Lookup::Miss,
        }
    }

    /// Records a successful argon2id verification.
    pub fn insert(&self, key: [u8; 32], value: T, password_hash: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= Self::MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, c| now.duration_since(c.verified) < ttl);
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            key,
            Cached {
                value,
                password_hash: password_hash.to_string(),
                verified: now,
                checked: now,
            },
        );
    }

    /// After a re-check: `Some(value)` keeps the entry (refreshed, possibly with a new value,
    /// e.g. changed TIN grants); `None` drops it (deactivated, locked or new password).
    pub fn confirm(&self, key: &[u8; 32], now_valid: Option<(T, &str)>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match now_valid {
            Some((value, hash)) => {
                if let Some(c) = map.get_mut(key) {
                    if c.password_hash == hash {
                        c.value = value;
                        c.checked = Instant::now();
                    } else {
                        map.remove(key);
                    }
                }
            }
            None => {
                map.remove(key);
            }
        }
    }

    /// Forgets every entry for which `f` is true (e.g. one user's, after a change seen here).
    pub fn forget(&self, f: impl Fn(&T) -> bool) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, c| !f(&c.value));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Clone> Default for CredentialCache<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_cache_keeps_only_what_it_is_given_and_rechecks() {
        let c: CredentialCache<i64> =
            CredentialCache::with_times(Duration::from_secs(60), Duration::from_millis(0));
        let k = c.key_of("edi", "right");
        assert_ne!(k, c.key_of("edi", "wrong"));
        assert_ne!(
            c.key_of("ed", "iright"),
            k,
            "username and password are delimited"
        );
        assert!(matches!(c.lookup(&k), Lookup::Miss));
        c.insert(k, 7, "$argon2id$v1");
        // Recheck interval 0: every lookup asks for a re-check.
        match c.lookup(&k) {
            Lookup::Recheck(7, h) => assert_eq!(h, "$argon2id$v1"),
            _ => panic!("expected a re-check"),
        }
        c.confirm(&k, Some((8, "$argon2id$v2")));
        assert!(
            matches!(c.lookup(&k), Lookup::Miss),
            "a new password drops the entry"
        );
        c.insert(k, 7, "$argon2id$v1");
        c.confirm(&k, None);
        assert!(
            matches!(c.lookup(&k), Lookup::Miss),
            "a deactivated account drops it"
        );
        let fresh: CredentialCache<i64> = CredentialCache::new();
        assert_ne!(fresh.key_of("edi", "right"), k, "keys are per process");
        let k2 = fresh.key_of("edi", "right");
        fresh.insert(k2, 1, "h");
        assert!(matches!(fresh.lookup(&k2), Lookup::Fresh(1)));
        fresh.forget(|v| *v == 1);
        assert!(fresh.is_empty());
    }
}
