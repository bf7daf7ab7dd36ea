//! Opening a store: connect and migrate (`pool.rs`), then what each area needs on open, in
//! order. An area that has to bring earlier data up to date on open adds its step here.

use crate::keys::Keys;
use crate::pool::SqlStore;
use crate::{Result, Store};
use std::sync::Arc;

/// Opens (creating if needed) the database at `url` and brings its schema up to date.
/// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`. Keys as [`Keys::beside`]
/// finds them; `portal` itself passes the configured ones to [`open_with`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, Keys::beside(url)?).await
}

/// [`open`] with these keys: refused when the database was written under other keys; the
/// first keyed open signs the audit head, and any TOTP secret still in clear is encrypted.
pub async fn open_with(url: &str, keys: Keys) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, keys).await?))
}

impl SqlStore {
    pub async fn open(url: &str, keys: Keys) -> Result<SqlStore> {
        let store = SqlStore::connect(url, keys).await?;
        // Keys: refused when they are not the database's; the first keyed open signs the head.
        if !crate::secrets::check_epochs(&store).await? {
            crate::audit::sign_current_head(&store).await?;
        }
        let sealed = crate::secrets::reseal(&store, false).await?;
        if sealed > 0 {
            tracing::info!(sealed, "encrypted TOTP secrets stored in clear");
        }
        // Utilization management: deadlines of requests stored before the column existed.
        crate::um::backfill_deadlines(&store).await?;
        Ok(store)
    }
}
