//! Persistence for provider-portal behind one `Store` trait (SQLite default, PostgreSQL by URL).
//! (Interface being built; `open` and `Store` keep these names.)

use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("bad database URL: {0}")]
    BadUrl(String),
    #[error("database error: {0}")]
    Database(String),
}

#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Cheap round trip to the database, for /healthz.
    async fn ping(&self) -> Result<(), StorageError>;
    /// True when no plan data has been loaded yet (first start).
    async fn is_empty(&self) -> Result<bool, StorageError>;
}

/// Opens (creating if needed) the database at `url` and runs its migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StorageError> {
    Err(StorageError::BadUrl(format!("not built yet: {url}")))
}
