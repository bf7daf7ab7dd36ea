//! Where the database is, for the commands that open it directly (`seed`, `audit`).

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DbArgs {
    /// Database URL (sqlite://FILE or postgres://USER@HOST/DB); default: the SQLite file in the data directory.
    #[arg(long, env = "PORTAL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Data directory holding the SQLite database.
    #[arg(long, env = "PORTAL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl DbArgs {
    /// The URL to open, creating the data directory when the default SQLite file is used.
    pub fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(u) => Ok(u.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir).with_context(|| {
                    format!("cannot create data directory {}", self.data_dir.display())
                })?;
                Ok(format!(
                    "sqlite://{}",
                    self.data_dir.join("portal.db").display()
                ))
            }
        }
    }
}

/// Runs an async command on a fresh runtime, printing its error on one line.
pub fn block_on(
    name: &str,
    f: impl std::future::Future<Output = anyhow::Result<std::process::ExitCode>>,
) -> std::process::ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(f).unwrap_or_else(|e| {
        eprintln!("portal {name}: {e:#}");
        std::process::ExitCode::FAILURE
    })
}
