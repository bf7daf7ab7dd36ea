//! Messages to people (registration decisions, activation links), queued in the database in the
//! same transaction as the change they announce. A mail transport sends and marks them; the
//! demo shows them on a page ([`OutboxStore`]).

use crate::pool::SqlStore;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    async fn enqueue_message(&self, message: &NewMessage) -> Result<i64>;
    /// Newest first.
    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>>;
    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

type Row = (
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// Also used inside other areas' transactions, so a message is queued with what it announces.
pub(crate) const INSERT: &str =
    "INSERT INTO outbox (to_addr, subject, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id";

#[async_trait::async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue_message(&self, m: &NewMessage) -> Result<i64> {
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(INSERT)
            .bind(&m.to_addr).bind(&m.subject).bind(&m.body).bind(m.created_at)
            .fetch_one(p).await?),
        )
    }

    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        const SQL: &str = "SELECT id, to_addr, subject, body, created_at, sent_at FROM outbox ORDER BY id DESC LIMIT $1";
        let rows: Vec<Row> = on_pool!(self, p, DB => sqlx::query_as::<DB, Row>(SQL).bind(limit.clamp(1, 10_000)).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(
                |(id, to_addr, subject, body, created_at, sent_at)| OutboxMessage {
                    id,
                    to_addr,
                    subject,
                    body,
                    created_at,
                    sent_at,
                },
            )
            .collect())
    }

    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE outbox SET sent_at = $1 WHERE id = $2").bind(at).bind(id).execute(p).await?; });
        Ok(())
    }
}
