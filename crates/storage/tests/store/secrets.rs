//! Secrets at rest and the keyed audit chain: what a copy of the database shows of a TOTP
//! secret, the upgrade from a database without keys, wrong keys, rotation.

use crate::common::*;
use chrono::Utc;
use domain::account::{OrgKind, Role, UserStatus};
use domain::audit::AuditEvent;
use domain::keys::Keyring;
use domain::session::SessionStage;
use storage::{Keys, NewOrg, NewSession, NewUser, StorageError, Store};

on_both!(
    totp_secrets_are_stored_sealed_and_read_back_in_clear,
    keys_upgrade_refuse_another_key_file_and_rotate,
);

async fn user(store: &dyn Store, name: &str) -> i64 {
    let org = store
        .create_org(&NewOrg {
            kind: OrgKind::ProviderOffice,
            name: format!("{name} office"),
            tin: None,
            network: None,
            claims_allowed: false,
        })
        .await
        .unwrap();
    store
        .create_user(&NewUser {
            username: name.into(),
            display_name: name.into(),
            email: format!("{name}@office.example"),
            role: Role::OfficeUser,
            org_id: org,
            password_hash: String::new(),
            status: UserStatus::Active,
            phone: String::new(),
            claims: false,
        })
        .await
        .unwrap()
}

fn event(i: u32) -> AuditEvent {
    AuditEvent {
        actor: None,
        actor_name: "system".into(),
        org: None,
        action: "test.event".into(),
        record_type: "test".into(),
        record_id: i.to_string(),
        outcome: "ok".into(),
        source: "-".into(),
    }
}

/// The enrolled secret and the pending one on the session row are stored encrypted; the store
/// still hands them back in clear.
async fn totp_secrets_are_stored_sealed_and_read_back_in_clear(db: Db) {
    let store = db.store.clone();
    let id = user(&*store, "sealed.user").await;
    let secret = domain::mfa::new_secret();
    assert!(store.enrol_totp(id, &secret, &[]).await.unwrap());
    let stored = db
        .text(&format!("SELECT totp_secret FROM users WHERE id = {id}"))
        .await
        .unwrap();
    assert!(
        !stored.contains(&secret),
        "users.totp_secret holds the secret in clear"
    );
    let back = store.user(id).await.unwrap().unwrap();
    assert_eq!(back.totp_secret.as_deref(), Some(secret.as_str()));

    store
        .create_session(&NewSession {
            token_hash: "sealed-session".into(),
            user_id: id,
            stage: SessionStage::NeedsEnrolment,
            csrf: "c".into(),
            created_at: Utc::now(),
            source: "192.0.2.1".into(),
            user_agent: "test".into(),
        })
        .await
        .unwrap();
    let pending = domain::mfa::new_secret();
    store
        .set_pending_totp("sealed-session", Some(&pending))
        .await
        .unwrap();
    let stored = db
        .text("SELECT pending_totp FROM sessions WHERE token_hash = 'sealed-session'")
        .await
        .unwrap();
    assert!(
        !stored.contains(&pending),
        "sessions.pending_totp holds the secret in clear"
    );
    let s = store.session("sealed-session").await.unwrap().unwrap();
    assert_eq!(s.pending_totp.as_deref(), Some(pending.as_str()));
}

/// Upgrade, wrong keys, rotation: on a database of its own, opened with explicit keys.
async fn keys_upgrade_refuse_another_key_file_and_rotate(db: Db) {
    let url = db.another("keys").await;
    let url = url.as_str();
    let ring = Keyring::generate();
    let keys = |ring: &Keyring| Keys {
        ring: ring.clone(),
        head_file: None,
    };
    let store = storage::open_with(url, keys(&ring)).await.unwrap();
    let id = user(&*store, "upgraded.user").await;

    // A database from before the keys: clear secrets and plain-hash entries (MAC columns
    // empty, head unsigned), as the previous version left them.
    let old_secret = domain::mfa::new_secret();
    exec(
        url,
        &format!("UPDATE users SET totp_secret = '{old_secret}' WHERE id = {id}"),
    )
    .await;
    store.audit_many(&[event(1), event(2)]).await.unwrap();
    exec(url, "UPDATE audit_log SET mac_key = NULL, mac = NULL").await;
    exec(url, "UPDATE audit_head SET mac_key = NULL, mac = NULL").await;
    exec(url, "DELETE FROM key_epochs").await;
    drop(store);

    // Opening it encrypts the clear secret and signs the head: old entries verify as before.
    let store = storage::open_with(url, keys(&ring)).await.unwrap();
    let stored = text(
        url,
        &format!("SELECT totp_secret FROM users WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert!(!stored.contains(&old_secret), "migrated on open");
    let u = store.user(id).await.unwrap().unwrap();
    assert_eq!(u.totp_secret.as_deref(), Some(old_secret.as_str()));
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Ok(2));
    let e = store.audit(&event(3)).await.unwrap();
    assert_eq!(
        e.seal.as_ref().map(|s| s.key),
        Some(1),
        "new entries are keyed"
    );
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Ok(3));
    assert!(
        store.audit_head().await.unwrap().seal.is_some(),
        "the head is signed"
    );
    drop(store);

    // Another key file is refused before anything is read or written.
    let err = storage::open_with(url, keys(&Keyring::generate()))
        .await
        .err()
        .expect("another key file is refused");
    assert!(matches!(err, StorageError::Keys(_)), "{err}");
    assert!(
        err.to_string().contains("does not match the database"),
        "{err}"
    );

    // A sealed secret copied onto another user's row does not open there: a clean error.
    let other = {
        let store = storage::open_with(url, keys(&ring)).await.unwrap();
        user(&*store, "other.user").await
    };
    exec(url, &format!("UPDATE users SET totp_secret = (SELECT totp_secret FROM users WHERE id = {id}) WHERE id = {other}")).await;
    let store = storage::open_with(url, keys(&ring)).await.unwrap();
    let err = store.user(other).await.expect_err("does not open");
    assert!(matches!(err, StorageError::Keys(_)), "{err}");
    assert!(!err.to_string().contains(&old_secret));
    exec(
        url,
        &format!("UPDATE users SET totp_secret = NULL WHERE id = {other}"),
    )
    .await;

    // Rotation: every secret re-encrypted under totp key 2; the audit key starts epoch 2.
    let rotated = ring.rotated();
    drop(store);
    let store = storage::open_with(url, keys(&rotated)).await.unwrap();
    assert_eq!(store.reseal_totp_secrets().await.unwrap(), 1);
    let stored = text(
        url,
        &format!("SELECT totp_secret FROM users WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert!(stored.starts_with("k2:"), "re-encrypted under the new key");
    assert_eq!(
        store.reseal_totp_secrets().await.unwrap(),
        0,
        "nothing left under the old key"
    );
    let e = store.audit(&event(4)).await.unwrap();
    assert_eq!(e.seal.as_ref().map(|s| s.key), Some(2));
    assert_eq!(storage::verify_audit(&*store).await.unwrap(), Ok(4));
    drop(store);

    // Once the old TOTP key is dropped the secrets still open; the old key file is refused.
    let mut retired = rotated.clone();
    retired.remove(domain::keys::KeyKind::Totp, 1);
    let store = storage::open_with(url, keys(&retired)).await.unwrap();
    assert_eq!(
        store
            .user(id)
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .as_deref(),
        Some(old_secret.as_str())
    );
    drop(store);
    let err = storage::open_with(url, keys(&ring))
        .await
        .err()
        .expect("stale key file");
    assert!(
        err.to_string().contains("newer than this key file"),
        "{err}"
    );
}
