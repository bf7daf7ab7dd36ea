//! Server-side sessions. The cookie carries a random token; the database keeps only its SHA-256,
//! so a copy of the database does not hand out live sessions. Each row names its user, so all of
//! a user's sessions can be ended at once (password or MFA reset, deactivation) ([`SessionStore`]).

use crate::pool::SqlStore;
use crate::rows::decode;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::session::SessionStage;

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &NewSession) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn set_session_stage(&self, token_hash: &str, stage: SessionStage) -> Result<()>;
    /// During MFA enrolment: the secret shown in the QR code (sealed like an enrolled one).
    async fn set_pending_totp(&self, token_hash: &str, secret: Option<&str>) -> Result<()>;
    async fn end_session(&self, token_hash: &str) -> Result<()>;
    /// Ends every session of the user but `keep`; returns how many ended.
    async fn end_user_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64>;
    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionRecord>>;
    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64>;
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// Hex SHA-256 of the cookie token.
    pub token_hash: String,
    pub user_id: i64,
    pub stage: SessionStage,
    /// The synchronizer token forms and htmx send back (CSRF).
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    /// Client address at sign-in, for the user's list of sessions and the audit trail.
    pub source: String,
    pub user_agent: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: i64,
    pub stage: SessionStage,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub source: String,
    pub user_agent: String,
    /// During MFA enrolment: the secret shown in the QR code, until a code confirms it.
    pub pending_totp: Option<String>,
}

impl std::fmt::Debug for SessionRecord {
    /// Tokens stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user_id", &self.user_id)
            .field("stage", &self.stage)
            .field("created_at", &self.created_at)
            .field("last_seen", &self.last_seen)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: i64,
    stage: String,
    csrf: String,
    created_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    source: String,
    user_agent: String,
    pending_totp: Option<String>,
}

impl SessionRow {
    fn into_record(self, keys: &domain::keys::Keyring) -> Result<SessionRecord> {
        let pending_totp = self
            .pending_totp
            .map(|s| {
                let context = crate::secrets::session_context(&self.token_hash);
                crate::secrets::open(keys, &s, &context)
            })
            .transpose()?;
        Ok(SessionRecord {
            token_hash: self.token_hash,
            user_id: self.user_id,
            stage: decode("sessions.stage", &self.stage, SessionStage::from_code)?,
            csrf: self.csrf,
            created_at: self.created_at,
            last_seen: self.last_seen,
            source: self.source,
            user_agent: self.user_agent,
            pending_totp,
        })
    }
}

const COLUMNS: &str =
    "token_hash, user_id, stage, csrf, created_at, last_seen, source, user_agent, pending_totp";

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &NewSession) -> Result<()> {
        const SQL: &str = "INSERT INTO sessions (token_hash, user_id, stage, csrf, created_at, last_seen, source, user_agent) \
                           VALUES ($1, $2, $3, $4, $5, $5, $6, $7)";
        on_pool!(self, p, DB => { sqlx::query::<DB>(SQL)
            .bind(&s.token_hash).bind(s.user_id).bind(s.stage.code()).bind(&s.csrf).bind(s.created_at)
            .bind(&s.source).bind(&s.user_agent)
            .execute(p).await?; });
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE token_hash = $1");
        let row: Option<SessionRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, SessionRow>(sqlx::AssertSqlSafe(sql)).bind(token_hash).fetch_optional(p).await?);
        row.map(|r| r.into_record(&self.keys)).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2").bind(now).bind(token_hash).execute(p).await?; });
        Ok(())
    }

    async fn set_session_stage(&self, token_hash: &str, stage: SessionStage) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE sessions SET stage = $1 WHERE token_hash = $2").bind(stage.code()).bind(token_hash).execute(p).await?; });
        Ok(())
    }

    async fn set_pending_totp(&self, token_hash: &str, secret: Option<&str>) -> Result<()> {
        // Sealed like the enrolled secret: a copy of the database must not show it either.
        let secret = secret.map(|s| {
            self.keys
                .seal(s, &crate::secrets::session_context(token_hash))
        });
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE sessions SET pending_totp = $1 WHERE token_hash = $2").bind(secret).bind(token_hash).execute(p).await?; });
        Ok(())
    }

    async fn end_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(p).await?; });
        Ok(())
    }

    async fn end_user_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64> {
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id).bind(keep.unwrap_or("")).execute(p).await?.rows_affected()),
        )
    }

    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at DESC");
        let rows: Vec<SessionRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, SessionRow>(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| r.into_record(&self.keys))
            .collect()
    }

    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(
            on_pool!(self, p, DB => sqlx::query::<DB>("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
            .bind(idle_before).bind(created_before).execute(p).await?.rows_affected()),
        )
    }
}
