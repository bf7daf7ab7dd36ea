//! The sign-in state of an account ([`SignInStore`]): password failures counted by
//! compare-and-set, the TOTP secret (sealed, see `secrets`) with the last step accepted,
//! recovery codes used once, and the second factor's share of the lockout. Each code guess is claimed (compare-and-set on the account's guess log) *before* the code is
//! checked; a claim is refused while the account is locked or its window is full, so parallel
//! pending sessions share one budget. The guess that fills the window locks the account and
//! ends every pending session in one transaction.

use super::AccountStore;
use crate::error::corrupt;
use crate::pool::{Pool, SqlStore};
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::session::{CodeGuesses, Throttle};

/// The answer to "may this session check one more code?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeClaim {
    /// Check the code. `last`: this guess fills the window, so if it is wrong the account locks.
    Granted { last: bool },
    /// Locked, or the window is full: the code must not be checked at all.
    Refused,
}

/// The sign-in state of an account, in the database so that it holds across instances.
#[async_trait::async_trait]
pub trait SignInStore: Send + Sync {
    /// Counts a failed sign-in at `now` atomically (safe with several portal instances) and
    /// returns the new throttle state, using [`Throttle::after_failure`].
    async fn record_sign_in_failure(&self, user_id: i64, now: DateTime<Utc>) -> Result<Throttle>;
    /// Clears password failures, code guesses and the lock (an unlock, or a partner's success).
    async fn clear_sign_in_failures(&self, user_id: i64) -> Result<()>;
    /// Claims one second-factor guess at `now` before the code is checked: refused while the
    /// account is locked or its 15-minute window already holds five.
    async fn claim_code_guess(&self, user_id: i64, now: DateTime<Utc>) -> Result<CodeClaim>;
    /// Locks the account until `until` and ends all its pending sessions, in one transaction.
    async fn lock_account(&self, user_id: i64, until: DateTime<Utc>) -> Result<()>;
    /// A correct code: clears both counters; `false` (nothing cleared) if the account is locked.
    async fn accept_code(&self, user_id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// Enrols MFA: stores the secret and the recovery codes' hashes, only for an account that
    /// has no secret (new or reset); `false` (nothing changed) when it is already enrolled.
    async fn enrol_totp(
        &self,
        user_id: i64,
        secret: &str,
        recovery_hashes: &[String],
    ) -> Result<bool>;
    /// Resets MFA (plan admin): clears secret, last step and recovery codes and ends every
    /// session of the user.
    async fn reset_totp(&self, user_id: i64) -> Result<()>;
    /// Accepts TOTP step `step` only if it is later than the last one accepted, atomically:
    /// `false` means a replay (or a race lost to another instance using the same code).
    async fn use_totp_step(&self, user_id: i64, step: u64) -> Result<bool>;
    /// Marks an unused recovery code used; `false` when unknown or already used.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool>;
    async fn replace_recovery_codes(&self, user_id: i64, hashes: &[String]) -> Result<()>;
    async fn unused_recovery_codes(&self, user_id: i64) -> Result<i64>;
}

/// Every session of the user still part-way through sign-in.
pub(crate) const END_PENDING: &str = "DELETE FROM sessions WHERE user_id = $1 AND stage <> 'full'";

pub(crate) async fn end_pending(store: &SqlStore, user_id: i64) -> Result<()> {
    on_pool!(store, p, DB => { sqlx::query::<DB>(END_PENDING).bind(user_id).execute(p).await?; });
    Ok(())
}

/// SQLite spells `IS NOT DISTINCT FROM` as `IS`.
fn update_sql(sql: &str, store: &SqlStore) -> String {
    match store.pool {
        Pool::Sqlite(_) => sql.replace("IS NOT DISTINCT FROM", "IS"),
        Pool::Postgres(_) => sql.to_string(),
    }
}

#[async_trait::async_trait]
impl SignInStore for SqlStore {
    /// Compare-and-set on the stored throttle, retried when another instance changed it first.
    async fn record_sign_in_failure(&self, user_id: i64, now: DateTime<Utc>) -> Result<Throttle> {
        const UPDATE: &str = "UPDATE users SET failures = $1, failure_window_start = $2, locked_until = $3 \
            WHERE id = $4 AND failures = $5 AND failure_window_start IS NOT DISTINCT FROM $6 AND locked_until IS NOT DISTINCT FROM $7";
        for _ in 0..20 {
            let Some(current) = self.user(user_id).await? else {
                return Err(corrupt("users.id", "no such user"));
            };
            let old = current.throttle;
            let new = old.after_failure(now);
            let changed = on_pool!(self, p, DB => sqlx::query::<DB>(sqlx::AssertSqlSafe(update_sql(UPDATE, self)))
                .bind(i64::from(new.failures)).bind(new.window_start).bind(new.locked_until).bind(user_id)
                .bind(i64::from(old.failures)).bind(old.window_start).bind(old.locked_until)
                .execute(p).await?.rows_affected());
            if changed == 1 {
                if new.is_locked(now) && !old.is_locked(now) {
                    // The lock covers every pending sign-in, not only the one that failed.
                    end_pending(self, user_id).await?;
                }
                return Ok(new);
            }
        }
        Err(crate::StorageError::Database(
            "sign-in failure not recorded: too much contention".into(),
        ))
    }

    async fn clear_sign_in_failures(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE users SET failures = 0, failure_window_start = NULL, locked_until = NULL, code_guesses = '' WHERE id = $1").bind(user_id).execute(p).await?; });
        Ok(())
    }

    async fn claim_code_guess(&self, user_id: i64, now: DateTime<Utc>) -> Result<CodeClaim> {
        const READ: &str = "SELECT code_guesses, locked_until FROM users WHERE id = $1";
        const SET: &str = "UPDATE users SET code_guesses = $1 WHERE id = $2 AND code_guesses = $3 \
                           AND (locked_until IS NULL OR locked_until <= $4)";
        for _ in 0..20 {
            let row: Option<(String, Option<DateTime<Utc>>)> = on_pool!(self, p, DB =>
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
            let changed = on_pool!(self, p, DB => sqlx::query::<DB>(SET)
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
    async fn lock_account(&self, user_id: i64, until: DateTime<Utc>) -> Result<()> {
        const LOCK: &str = "UPDATE users SET locked_until = $1 WHERE id = $2 \
                            AND (locked_until IS NULL OR locked_until < $1)";
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            sqlx::query::<DB>(LOCK).bind(until).bind(user_id).execute(&mut *tx).await?;
            sqlx::query::<DB>(END_PENDING).bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A correct code: both counters start over, unless the account locked since the guess was
    /// claimed (`false`: then the code signs nobody in).
    async fn accept_code(&self, user_id: i64, now: DateTime<Utc>) -> Result<bool> {
        const SQL: &str = "UPDATE users SET code_guesses = '', failures = 0, failure_window_start = NULL, \
                           locked_until = NULL WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)";
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>(SQL).bind(user_id).bind(now).execute(p).await?.rows_affected())
                == 1,
        )
    }

    async fn enrol_totp(&self, user_id: i64, secret: &str, hashes: &[String]) -> Result<bool> {
        // Only an account without a secret enrols (new, or reset by an administrator): two sign-ins
        // that both reached enrolment cannot replace each other's authenticator.
        const SQL: &str = "UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE id = $2 AND totp_secret IS NULL";
        let sealed = self
            .keys
            .seal(secret, &crate::secrets::user_context(user_id));
        Ok(on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            if sqlx::query::<DB>(SQL).bind(&sealed).bind(user_id).execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query::<DB>("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            for h in hashes {
                sqlx::query::<DB>("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)").bind(user_id).bind(h).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            true
        }))
    }

    async fn reset_totp(&self, user_id: i64) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            sqlx::query::<DB>("UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query::<DB>("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn use_totp_step(&self, user_id: i64, step: u64) -> Result<bool> {
        const SQL: &str = "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)";
        let step = i64::try_from(step).map_err(|e| corrupt("totp step", e))?;
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>(SQL).bind(step).bind(user_id).execute(p).await?.rows_affected())
                == 1,
        )
    }

    async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool> {
        const SQL: &str = "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL";
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>(SQL).bind(Utc::now()).bind(user_id).bind(code_hash).execute(p).await?.rows_affected())
                == 1,
        )
    }

    async fn replace_recovery_codes(&self, user_id: i64, hashes: &[String]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            sqlx::query::<DB>("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            for h in hashes {
                sqlx::query::<DB>("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)").bind(user_id).bind(h).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn unused_recovery_codes(&self, user_id: i64) -> Result<i64> {
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user_id).fetch_one(p).await?),
        )
    }
}
