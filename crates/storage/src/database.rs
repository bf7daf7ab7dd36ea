//! The database as a whole ([`DatabaseStore`]): which backend, whether it answers, how much it
//! holds.

use crate::pool::{Pool, SqlStore};
use crate::{Result, on_pool};

/// How much of each kind of record the database holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlanCounts {
    pub networks: i64,
    pub providers: i64,
    pub members: i64,
    pub eligibility_spans: i64,
    pub claims: i64,
    pub claim_lines: i64,
    pub auth_requests: i64,
    pub trainings: i64,
    pub users: i64,
}

#[async_trait::async_trait]
pub trait DatabaseStore: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Cheap round trip to the database, for /healthz.
    async fn ping(&self) -> Result<()>;
    /// Closes the pool: requests in flight finish, later ones fail (shutdown; tests of an
    /// unreachable database).
    async fn close(&self);
    /// True when no plan data has been loaded yet (first start).
    async fn is_empty(&self) -> Result<bool>;
    async fn counts(&self) -> Result<PlanCounts>;
    /// Bytes the database occupies (file pages for SQLite, `pg_database_size` for PostgreSQL).
    async fn size_bytes(&self) -> Result<u64>;
}

impl SqlStore {
    async fn count(&self, table: &'static str) -> Result<i64> {
        // `table` is one of our own table names, never input.
        let sql = format!("SELECT COUNT(*) FROM {table}");
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?),
        )
    }
}

#[async_trait::async_trait]
impl DatabaseStore for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend_name()
    }

    async fn ping(&self) -> Result<()> {
        on_pool!(self, p, DB => sqlx::query_scalar::<DB, i32>("SELECT 1").fetch_one(p).await?);
        Ok(())
    }

    async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    async fn is_empty(&self) -> Result<bool> {
        let any: Option<String> = on_pool!(self, p, DB => sqlx::query_scalar::<DB, String>("SELECT code FROM networks LIMIT 1").fetch_optional(p).await?);
        Ok(any.is_none())
    }

    async fn counts(&self) -> Result<PlanCounts> {
        Ok(PlanCounts {
            networks: self.count("networks").await?,
            providers: self.count("providers").await?,
            members: self.count("members").await?,
            eligibility_spans: self.count("eligibility_spans").await?,
            claims: self.count("claims").await?,
            claim_lines: self.count("claim_lines").await?,
            auth_requests: self.count("auth_requests").await?,
            trainings: self.count("trainings").await?,
            users: self.count("users").await?,
        })
    }

    async fn size_bytes(&self) -> Result<u64> {
        let bytes = match &self.pool {
            Pool::Sqlite(p) => {
                let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(p).await?;
                let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(p).await?;
                pages * size
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await?
            }
        };
        Ok(u64::try_from(bytes).unwrap_or(0))
    }
}
