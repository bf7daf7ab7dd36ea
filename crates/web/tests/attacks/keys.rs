//! Finding 7 and the secrets-at-rest part of 9: someone who can read or write the database (a
//! stolen backup, a database administrator, an injection elsewhere) but not the data directory's
//! key file. They must learn no TOTP secret from it, and cannot rewrite the audit trail that the
//! running portal wrote without `verify` saying so.

use crate::harness::Portal;

/// Every byte SQLite keeps for the database (main file and write-ahead log).
fn database_bytes(portal: &Portal) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["portal.db", "portal.db-wal"] {
        if let Ok(b) = std::fs::read(portal.dir.path().join(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// After enrolment through the running server, the secret shown on the enrolment page (and
/// kept on the session row while enrolment was pending) is nowhere in the database's files.
#[tokio::test]
async fn a_copy_of_the_database_holds_no_totp_secret() {
    let portal = Portal::start().await;
    portal.sign_in("office").await;
    let secret = portal.secret("office");
    assert!(secret.len() >= 32, "{secret}");
    let bytes = database_bytes(&portal);
    assert!(!bytes.is_empty());
    assert!(
        !contains(&bytes, &secret),
        "the TOTP secret shown at enrolment is stored in clear"
    );
    // The portal itself still reads it: the next sign-in takes a code from it.
    portal.sign_in("office").await;
}

/// The trail the server wrote while an office signed in and read pages: one entry removed and
/// the SHA-256 chain recomputed after it, head included, as anyone with the database can.
#[tokio::test]
async fn a_trail_recomputed_without_the_key_is_caught() {
    let portal = Portal::start().await;
    let mut office = portal.sign_in("office").await;
    office.get("/claims").await;
    office.get("/authorizations").await;
    let entries = portal.store.audit_page(0, 1000).await.unwrap();
    assert!(entries.len() >= 3, "{} entries", entries.len());
    assert!(storage::verify_audit(&*portal.store).await.unwrap().is_ok());

    let url = format!("sqlite://{}", portal.dir.path().join("portal.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let victim = entries[1].seq;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(victim)
        .execute(&pool)
        .await
        .unwrap();
    let mut prev = entries[0].hash.clone();
    let mut seq = victim;
    for e in &entries[2..] {
        let hash = domain::audit::chain_hash(&prev, seq, e.at, &e.event);
        sqlx::query("UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(seq)
            .bind(&prev)
            .bind(&hash)
            .bind(e.seq)
            .execute(&pool)
            .await
            .unwrap();
        prev = hash;
        seq += 1;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq - 1)
        .bind(&prev)
        .execute(&pool)
        .await
        .unwrap();

    let verdict = storage::verify_audit(&*portal.store).await.unwrap();
    assert!(
        matches!(&verdict, Err(b) if b.to_string().contains("recomputed without the key")),
        "{verdict:?}"
    );
}
