//! What opening the store does with its keys, and the TOTP secrets sealed under them.
//!
//! On open: the keys are checked against the fingerprints the database recorded (another key
//! file, or one older than a rotation, is refused before anything is written); the first keyed
//! open signs the audit head; TOTP secrets still stored in clear (before this version) are
//! encrypted, in one transaction. [`SecretStore`] re-encrypts them all after a key rotation.

use crate::pool::SqlStore;
use crate::{Result, StorageError, on_pool};
use chrono::Utc;
use domain::keys::{KeyKind, Keyring, SealError};

#[async_trait::async_trait]
pub trait SecretStore: Send + Sync {
    /// Re-encrypts every TOTP secret (enrolled and pending) under the current TOTP key, in one
    /// transaction; returns how many were rewritten (`portal admin rotate-keys`).
    async fn reseal_totp_secrets(&self) -> Result<u64>;
}

#[async_trait::async_trait]
impl SecretStore for SqlStore {
    async fn reseal_totp_secrets(&self) -> Result<u64> {
        reseal(self, true).await
    }
}

/// What a sealed TOTP secret is bound to: its column and row.
pub(crate) fn user_context(user_id: i64) -> String {
    format!("users.totp_secret:{user_id}")
}
pub(crate) fn session_context(token_hash: &str) -> String {
    format!("sessions.pending_totp:{token_hash}")
}

/// Opens a stored secret; the error names the column and row, never the value.
pub(crate) fn open(keys: &Keyring, stored: &str, context: &str) -> Result<String> {
    keys.open(stored, context).map_err(|e| match e {
        SealError::Clear => StorageError::Keys(format!(
            "{context} is not encrypted (written by an older portal after this one opened the database?)"
        )),
        e => StorageError::Keys(format!("{context} {e}")),
    })
}

/// Checks the keyring against the database's key epochs and records new ones. Returns whether
/// the database had an audit key before (false: this is the first keyed open).
pub(crate) async fn check_epochs(store: &SqlStore) -> Result<bool> {
    let rows: Vec<(String, i64, String)> = on_pool!(store, p, DB =>
        sqlx::query_as::<DB, (String, i64, String)>("SELECT kind, number, fingerprint FROM key_epochs")
            .fetch_all(p).await?);
    let mut had_audit = false;
    for (kind, number, fingerprint) in &rows {
        let Some(kind) = KeyKind::from_code(kind) else {
            continue;
        };
        had_audit |= kind == KeyKind::Audit;
        let n = u32::try_from(*number).unwrap_or(u32::MAX);
        let newest = store.keys.current(kind).map_or(0, |(c, _)| c);
        match store.keys.get(kind, n) {
            Some(k) if k.fingerprint() != *fingerprint => {
                return Err(StorageError::Keys(format!(
                    "the key file does not match the database: its {} key {n} is another key \
                     (start every instance with the key file the database was first opened with)",
                    kind.code()
                )));
            }
            None if n > newest => {
                return Err(StorageError::Keys(format!(
                    "the database uses {} key {n}, newer than this key file's (key {newest}): \
                     start with the key file `portal admin rotate-keys` wrote",
                    kind.code()
                )));
            }
            // Audit keys verify the entries made under them: none may go missing.
            None if kind == KeyKind::Audit => {
                return Err(StorageError::Keys(format!(
                    "the key file lacks audit key {n}, which entries of the trail are sealed with"
                )));
            }
            _ => {}
        }
    }
    let now = Utc::now();
    for (kind, n, key) in store.keys.iter() {
        let known = rows
            .iter()
            .any(|(k, m, _)| k == kind.code() && *m == i64::from(n));
        if !known {
            on_pool!(store, p, DB => {
                sqlx::query::<DB>("INSERT INTO key_epochs (kind, number, fingerprint, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .bind(kind.code()).bind(i64::from(n)).bind(key.fingerprint()).bind(now)
                    .execute(p).await?;
            });
        }
    }
    Ok(had_audit)
}

/// Re-encrypts TOTP secrets under the current key, in one transaction: with `all`, every
/// secret not already under it (rotation); otherwise only those still in clear (upgrade).
/// Each row is rewritten only if it still holds what was read (another instance may race).
pub(crate) async fn reseal(store: &SqlStore, all: bool) -> Result<u64> {
    let keys = &store.keys;
    let (current, _) = keys
        .current(KeyKind::Totp)
        .ok_or_else(|| StorageError::Keys("no totp key".into()))?;
    let wanted = |stored: &str| match Keyring::sealed_with(stored) {
        Err(SealError::Clear) => true,
        Ok(n) => all && n != current,
        Err(_) => all,
    };
    let plain = |stored: &str, context: &str| match Keyring::sealed_with(stored) {
        Err(SealError::Clear) => Ok(stored.to_string()),
        _ => open(keys, stored, context),
    };
    Ok(on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        let mut n = 0u64;
        let users: Vec<(i64, String)> = sqlx::query_as::<DB, (i64, String)>(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL").fetch_all(&mut *tx).await?;
        for (id, stored) in users.iter().filter(|(_, s)| wanted(s)) {
            let context = user_context(*id);
            let sealed = keys.seal(&plain(stored, &context)?, &context);
            n += sqlx::query::<DB>("UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3")
                .bind(&sealed).bind(id).bind(stored).execute(&mut *tx).await?.rows_affected();
        }
        let sessions: Vec<(String, String)> = sqlx::query_as::<DB, (String, String)>(
            "SELECT token_hash, pending_totp FROM sessions WHERE pending_totp IS NOT NULL").fetch_all(&mut *tx).await?;
        for (token, stored) in sessions.iter().filter(|(_, s)| wanted(s)) {
            let context = session_context(token);
            let sealed = keys.seal(&plain(stored, &context)?, &context);
            n += sqlx::query::<DB>("UPDATE sessions SET pending_totp = $1 WHERE token_hash = $2 AND pending_totp = $3")
                .bind(&sealed).bind(token).bind(stored).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        n
    }))
}
