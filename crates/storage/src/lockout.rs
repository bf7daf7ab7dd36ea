//! The second factor's share of the lockout, in the database so it holds across instances.
//! Each code guess is claimed (compare-and-set on the account's guess log) *before* the code is
//! checked; a claim is refused while the account is locked or its window is full, so parallel
//! pending sessions share one budget. The guess that fills the window locks the account and
//! ends every pending session in one transaction.

use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::session::CodeGuesses;

/// The answer to "may this session check one more code?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeClaim {
    /// Check the code. `last`: this guess fills the window, so if it is wrong the account locks.
    Granted { last: bool },
    /// Locked, or the window is full: the code must not be checked at all.
    Refused,
}

pub(crate) async fn claim(store: &SqlStore, user_id: i64, now: DateTime<Utc>) -> Result<CodeClaim> {
    const READ: &str = "SELECT code_guesses, locked_until FROM users WHERE id = $1";
    const SET: &str = "UPDATE users SET code_guesses = $1 WHERE id = $2 AND code_guesses = $3 \
                       AND (locked_until IS NULL OR locked_until <= $4)";
    for _ in 0..20 {
        let row: Option<(String, Option<DateTime<Utc>>)> = on_pool!(store, p, DB =>
            sqlx::query_as::<DB, _>(READ).bind(user_id).fetch_optional(p).await?);
        let Some((stored, locked_until)) = row else {
            return Err(corrupt("users.id", "no such user"));
        };
        if locked_until.is_some_and(|t| now < t) {
            return Ok(CodeClaim::Refused);
        }
        let Some(next) = CodeGuesses::parse(&stored).claim(now) else {
            return Ok(CodeClaim::Refused);
        };
        let changed = on_pool!(store, p, DB => sqlx::query::<DB>(SET)
            .bind(next.encode()).bind(user_id).bind(&stored).bind(now)
            .execute(p).await?.rows_affected());
        if changed == 1 {
            return Ok(CodeClaim::Granted {
                last: next.exhausted(now),
            });
        }
    }
    Err(crate::StorageError::Database(
        "code guess not recorded: too much contention".into(),
    ))
}

/// Locks the account until `until` (never shortening a lock) and ends its pending sessions.
pub(crate) async fn lock(store: &SqlStore, user_id: i64, until: DateTime<Utc>) -> Result<()> {
    const LOCK: &str = "UPDATE users SET locked_until = $1 WHERE id = $2 \
                        AND (locked_until IS NULL OR locked_until < $1)";
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        sqlx::query::<DB>(LOCK).bind(until).bind(user_id).execute(&mut *tx).await?;
        sqlx::query::<DB>(END_PENDING).bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Every session of the user still part-way through sign-in.
pub(crate) const END_PENDING: &str = "DELETE FROM sessions WHERE user_id = $1 AND stage <> 'full'";

pub(crate) async fn end_pending(store: &SqlStore, user_id: i64) -> Result<()> {
    on_pool!(store, p, DB => { sqlx::query::<DB>(END_PENDING).bind(user_id).execute(p).await?; });
    Ok(())
}

/// A correct code: both counters start over, unless the account locked since the guess was
/// claimed (`false`: then the code signs nobody in).
pub(crate) async fn accepted(store: &SqlStore, user_id: i64, now: DateTime<Utc>) -> Result<bool> {
    const SQL: &str = "UPDATE users SET code_guesses = '', failures = 0, failure_window_start = NULL, \
                       locked_until = NULL WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)";
    Ok(
        on_pool!(store, p, DB => sqlx::query::<DB>(SQL).bind(user_id).bind(now).execute(p).await?.rows_affected())
            == 1,
    )
}
