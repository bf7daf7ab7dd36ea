//! Where the database is, for the commands that open it directly (`seed`, `audit`): the same
//! configuration as `portal serve` (file, `PORTAL_*` environment, then these flags).

use super::config::{Config, Overrides};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DbArgs {
    /// Configuration file [env: PORTAL_CONFIG] [default: portal.toml when present].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Database URL (sqlite://FILE or postgres://USER@HOST/DB) [env: PORTAL_DATABASE_URL]
    /// [default: the SQLite file in the data directory].
    #[arg(long)]
    pub database_url: Option<String>,
    /// Data directory holding the SQLite database [env: PORTAL_DATA_DIR] [default: ./data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl DbArgs {
    /// The configuration, with the data directory created (it holds the SQLite file by
    /// default, the key file and the exported audit head).
    pub fn config(&self) -> anyhow::Result<Config> {
        let cfg = Config::load(&Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Overrides::default()
        })?;
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
        Ok(cfg)
    }

    /// The database, opened with the configured keys.
    pub async fn open(&self) -> anyhow::Result<std::sync::Arc<dyn storage::Store>> {
        Ok(super::keys::open(&self.config()?).await?)
    }
}

impl DbArgs {
    /// Where users reach the portal (configured `public_url`, else the listen address).
    pub fn public_url(&self) -> anyhow::Result<String> {
        let cfg = Config::load(&Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Overrides::default()
        })?;
        Ok(cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", cfg.listen)))
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
