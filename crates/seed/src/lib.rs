//! Deterministic synthetic plan data. (Interface being built; `demo` keeps its name.)

use storage::Store;

/// A demo login printed on first start.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: &'static str,
    pub username: String,
    pub password: String,
}

/// Seeds a small demo plan and one account per role; returns the accounts to print.
pub async fn demo(_store: &dyn Store) -> Result<Vec<DemoAccount>, storage::StorageError> {
    Ok(Vec::new())
}
