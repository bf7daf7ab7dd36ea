//! Where the commands get their keys (see `storage::keys` for the files): `keys` inline in
//! the configuration (`PORTAL_KEYS`), else the key file (`key_file`, default
//! `<data_dir>/portal.keys`), created 0600 on first start. And `portal admin rotate-keys`.

use super::config::Config;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use storage::{Keys, StorageError, Store};

/// Opens the configured database with the configured keys. A key file this call created is
/// removed again if the database refuses it (it was keyed before, with another file), so a
/// mistyped data directory never leaves a wrong key file behind.
pub async fn open(cfg: &Config) -> Result<Arc<dyn Store>, StorageError> {
    let url = cfg.database_url();
    let head_file = Some(cfg.head_file());
    if let Some(inline) = &cfg.keys {
        let ring = storage::keys::parse(inline)
            .map_err(|e| StorageError::Keys(format!("keys (PORTAL_KEYS): {e}")))?;
        return storage::open_with(&url, Keys { ring, head_file }).await;
    }
    let path = cfg.key_file();
    let created = !path.exists();
    let ring = storage::keys::load_or_create(&path)?;
    let opened = storage::open_with(&url, Keys { ring, head_file }).await;
    if created && matches!(opened, Err(StorageError::Keys(_))) {
        let _ = std::fs::remove_file(&path);
    }
    opened
}

/// `portal admin rotate-keys`: a new TOTP key and a new audit key. The key file is written
/// first with old and new keys (a crash leaves a file that still opens everything), then every
/// TOTP secret is re-encrypted under the new key in one transaction, then the old TOTP key is
/// dropped from the file. Audit keys are all kept: each starts an epoch of the chain, and
/// verification needs every one; no entry is rewritten. With `PORTAL_KEYS` the new keys go to
/// `out`, to be put in the configuration of every instance.
pub async fn rotate(cfg: &Config, out: Option<PathBuf>) -> anyhow::Result<String> {
    let (ring, target) = match (&cfg.keys, out) {
        (Some(inline), Some(out)) => (
            storage::keys::parse(inline).map_err(|e| anyhow::anyhow!("keys (PORTAL_KEYS): {e}"))?,
            out,
        ),
        (Some(_), None) => anyhow::bail!(
            "the keys come from PORTAL_KEYS: pass --out FILE for the new ones, then put that file's lines in the configuration"
        ),
        (None, out) => {
            let path = cfg.key_file();
            (storage::keys::load(&path)?, out.unwrap_or(path))
        }
    };
    let rotated = ring.rotated();
    storage::keys::save(&target, &rotated)?;
    let store = storage::open_with(
        &cfg.database_url(),
        Keys {
            ring: rotated.clone(),
            head_file: Some(cfg.head_file()),
        },
    )
    .await?;
    let n = store.reseal_totp_secrets().await?;
    let mut kept = rotated.clone();
    let (totp, _) = rotated
        .current(domain::keys::KeyKind::Totp)
        .expect("rotated ring");
    let (audit, _) = rotated
        .current(domain::keys::KeyKind::Audit)
        .expect("rotated ring");
    for old in 1..totp {
        kept.remove(domain::keys::KeyKind::Totp, old);
    }
    storage::keys::save(&target, &kept)?;
    store
        .audit(&domain::audit::AuditEvent {
            actor: None,
            actor_name: "operator".into(),
            org: None,
            action: "keys.rotate".into(),
            record_type: "keys".into(),
            record_id: format!("totp {totp}, audit {audit}"),
            outcome: "ok".into(),
            source: "portal admin".into(),
        })
        .await?;
    Ok(format!(
        "Re-encrypted {n} TOTP secrets under totp key {totp}; audit entries from now on are \
         sealed with audit key {audit} (the older audit keys stay, to verify the trail). Keys \
         written to {}. Start every instance with this key file.",
        display(&target)
    ))
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
