//! The connection pool for either backend, connecting with the schema brought up to date, and
//! the `on_pool!` macro every area writes its queries with. Nothing here knows any area: what
//! opening does after the migrations is in `open.rs`, the areas' SQL in their own modules.

use crate::keys::{HeadFile, Keys};
use crate::{Result, StorageError};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$DB` to its `sqlx::Database`, so
/// one query text serves both backends while each is compiled and type-checked separately.
#[macro_export]
#[doc(hidden)]
macro_rules! on_pool {
    ($store:expr, $pool:ident, $DB:ident => $body:expr) => {
        match &$store.pool {
            $crate::pool::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::Sqlite;
                $body
            }
            $crate::pool::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::Postgres;
                $body
            }
        }
    };
}

/// The SQL implementation of [`crate::Store`] on SQLite or PostgreSQL: each area implements its
/// own trait for it, next to its SQL.
pub struct SqlStore {
    pub(crate) pool: Pool,
    /// Audit MAC and TOTP keys, from outside the database.
    pub(crate) keys: domain::keys::Keyring,
    pub(crate) head_file: Option<HeadFile>,
}

impl SqlStore {
    /// Connects to `url` (creating a SQLite file if needed) and runs the backend's migrations;
    /// [`SqlStore::open`] then does what each area needs on open.
    pub(crate) async fn connect(url: &str, keys: Keys) -> Result<SqlStore> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        let pool = match scheme {
            "sqlite" => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StorageError::BadUrl(e.to_string()))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .map_err(|e| StorageError::Unavailable(e.to_string()))?;
                sqlx::migrate!("./migrations/sqlite")
                    .run(&pool)
                    .await
                    .map_err(|e| StorageError::Migration(e.to_string()))?;
                Pool::Sqlite(pool)
            }
            "postgres" | "postgresql" => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Configuration(c) => StorageError::BadUrl(c.to_string()),
                        other => StorageError::Unavailable(other.to_string()),
                    })?;
                sqlx::migrate!("./migrations/postgres")
                    .run(&pool)
                    .await
                    .map_err(|e| StorageError::Migration(e.to_string()))?;
                Pool::Postgres(pool)
            }
            "" => {
                return Err(StorageError::BadUrl(
                    "no scheme: expected sqlite://FILE or postgres://HOST/DB".into(),
                ));
            }
            other => {
                return Err(StorageError::BadUrl(format!(
                    "unsupported scheme '{other}': expected sqlite:// or postgres://"
                )));
            }
        };
        Ok(SqlStore {
            pool,
            keys: keys.ring,
            head_file: keys.head_file.map(HeadFile::new),
        })
    }

    /// "sqlite" or "postgres".
    pub(crate) fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }
}
