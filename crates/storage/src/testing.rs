//! Fresh databases for the crate's own unit tests: SQLite in a temporary directory, and
//! PostgreSQL when `PORTAL_TEST_POSTGRES_URL` names a server where they may create databases
//! (the integration tests in `tests/store` have the same helpers for the public API).

use crate::keys::Keys;
use crate::pool::SqlStore;

pub(crate) struct Db {
    pub(crate) store: SqlStore,
    _dir: Option<tempfile::TempDir>,
}

fn keys() -> Keys {
    Keys {
        ring: domain::keys::Keyring::generate(),
        head_file: None,
    }
}

pub(crate) async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portal.db", dir.path().display());
    Db {
        store: SqlStore::open(&url, keys()).await.unwrap(),
        _dir: Some(dir),
    }
}

pub(crate) async fn postgres() -> Option<Db> {
    use sqlx::Connection;
    let admin_url = std::env::var("PORTAL_TEST_POSTGRES_URL").ok()?;
    let name = format!(
        "portal_unit_{}_{}",
        std::process::id(),
        chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or(0)
            .unsigned_abs()
    );
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').expect("URL has a database path");
    Some(Db {
        store: SqlStore::open(&format!("{base}/{name}"), keys())
            .await
            .unwrap(),
        _dir: None,
    })
}
