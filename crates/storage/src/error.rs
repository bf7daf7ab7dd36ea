use std::fmt;

/// A storage failure, worded for an operator. Never carries row values (they may be PHI).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL is not one we can use; the message names the problem, never the password.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    #[error("cannot reach the database: {0}")]
    Unavailable(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("a stored value is not valid: {0}")]
    Corrupt(String),
    #[error("already exists: {0}")]
    Duplicate(String),
    #[error("database error: {0}")]
    Database(String),
    /// The key file, or what the database holds under its keys (never a key or a secret).
    #[error("keys: {0}")]
    Keys(String),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StorageError::Duplicate(db.message().to_string())
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                StorageError::Unavailable(e.to_string())
            }
            _ => StorageError::Database(e.to_string()),
        }
    }
}

/// Turns a stored value that fails to parse into a `Corrupt` error naming the column.
pub(crate) fn corrupt(column: &str, e: impl fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{column}: {e}"))
}
