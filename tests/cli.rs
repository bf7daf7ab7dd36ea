//! The `portal` binary as an operator runs it.

use std::process::Command;

fn portal(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env_remove("PORTAL_DATABASE_URL")
        .env_remove("PORTAL_CONFIG")
        .output()
        .expect("run portal");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// `portal audit verify` passes an intact trail and names the entry someone edited in the
/// database behind the portal's back.
#[tokio::test]
async fn audit_verify_finds_an_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let store = storage::open(&url).await.unwrap();
    for i in 0..5 {
        store
            .audit(&domain::audit::AuditEvent {
                actor: Some(7),
                actor_name: "front.desk".into(),
                org: Some(2),
                action: "claim.read".into(),
                record_type: "claim".into(),
                record_id: format!("C000000000{i}"),
                outcome: "ok".into(),
                source: "192.0.2.10".into(),
            })
            .await
            .unwrap();
    }
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("OK: 5 audit entries, hash chain and MACs intact"),
        "{out}"
    );

    // Someone with database access rewrites who read claim 3.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor_name = 'someone.else' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED: entry 3 was altered"), "{out}");

    // Deleting the newest entry is caught too.
    sqlx::query("UPDATE audit_log SET actor_name = 'front.desk' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(&pool)
        .await
        .unwrap();
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("entries after 4 were removed (the exported head says 5)"),
        "{out}"
    );
}

/// Five claim reads in a fresh data directory, through the store the binary also opens.
async fn five_entries(dir: &std::path::Path) -> (String, sqlx::SqlitePool) {
    let url = format!("sqlite://{}", dir.join("portal.db").display());
    let store = storage::open(&url).await.unwrap();
    for i in 0..5 {
        store
            .audit(&domain::audit::AuditEvent {
                actor: Some(7),
                actor_name: "front.desk".into(),
                org: Some(2),
                action: "claim.read".into(),
                record_type: "claim".into(),
                record_id: format!("C000000000{i}"),
                outcome: "ok".into(),
                source: "192.0.2.10".into(),
            })
            .await
            .unwrap();
    }
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    (url, pool)
}

/// The chain from `from` on, rehashed with plain SHA-256 as anyone could, head included.
async fn rehash_from(url: &str, pool: &sqlx::SqlitePool, from: i64) {
    let store = storage::open(url).await.unwrap();
    let entries = store.audit_page(0, 100).await.unwrap();
    let mut prev = domain::audit::GENESIS.to_string();
    for e in &entries {
        if e.seq >= from {
            let hash = domain::audit::chain_hash(&prev, e.seq, e.at, &e.event);
            sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(&prev)
                .bind(&hash)
                .bind(e.seq)
                .execute(pool)
                .await
                .unwrap();
            prev = hash;
        } else {
            prev.clone_from(&e.hash);
        }
    }
    let last = entries.last().map(|e| e.seq).unwrap_or(0);
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last)
        .bind(&prev)
        .execute(pool)
        .await
        .unwrap();
}

/// Someone with write access to the database removes entry 3, renumbers the rest and
/// recomputes the SHA-256 chain and its head: without the key the MACs give it away.
#[tokio::test]
async fn audit_verify_catches_a_recomputed_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (url, pool) = five_entries(dir.path()).await;
    for q in [
        "DELETE FROM audit_log WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 5",
    ] {
        sqlx::query(q).execute(&pool).await.unwrap();
    }
    rehash_from(&url, &pool, 3).await;
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the chain was recomputed without the key (entry 3's MAC does not verify)"),
        "{out}"
    );
}

/// The newest two entries removed and the head set back to entry 3, as it would have read
/// then: the head exported outside the database still says 5.
#[tokio::test]
async fn audit_verify_catches_a_truncated_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (url, pool) = five_entries(dir.path()).await;
    sqlx::query("DELETE FROM audit_log WHERE seq > 3")
        .execute(&pool)
        .await
        .unwrap();
    rehash_from(&url, &pool, 4).await;
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("entries after 3 were removed (the exported head says 5)"),
        "{out}"
    );
}

/// A new installation gets its first plan administrator from the server: `portal admin invite`
/// prints a one-time activation link; the other admin commands act on a named account.
#[tokio::test]
async fn admin_invites_the_first_plan_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, out) = portal(&[
        "admin",
        "invite",
        "--username",
        "Pat.Admin",
        "--name",
        "Pat Admin",
        "--email",
        "pat@plan.example",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{out}");
    let token = out
        .split("/activate/")
        .nth(1)
        .map(|t| t.trim().to_string())
        .expect("an activation link");
    assert_eq!(token.len(), 64, "{out}");

    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let store = storage::open(&url).await.unwrap();
    let user = store
        .user_by_username("pat.admin")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(user.role, domain::account::Role::PlanAdmin);
    assert_eq!(user.status, domain::account::UserStatus::Invited);
    let hash = domain::session::token_hash(&token);
    assert_eq!(
        store
            .activation_user(&hash, chrono::Utc::now())
            .await
            .unwrap(),
        Some(user.id)
    );
    drop(store);

    let (code, out) = portal(&[
        "admin",
        "invite",
        "--username",
        "pat.admin",
        "--name",
        "X",
        "--email",
        "x@y.z",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("already exists"), "{out}");
    let (code, out) = portal(&["admin", "unlock", "nobody", "--data-dir", data]);
    assert_eq!(code, 1);
    assert!(out.contains("no account named \"nobody\""), "{out}");
    let (code, out) = portal(&["admin", "deactivate", "pat.admin", "--data-dir", data]);
    assert_eq!(code, 0, "{out}");
    let store = storage::open(&url).await.unwrap();
    let actions: Vec<String> = store
        .audit_page(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(actions, ["user.invite", "user.deactivate"]);
}

/// `portal edi ingest` takes in an 837P as an office would send it: the 999 and 277CA land next
/// to the file, the claims are stored; sent again, it is recognised and nothing is doubled.
#[tokio::test]
async fn edi_ingest_twice_stores_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let store = storage::open(&url).await.unwrap();
    seed::demo_with_password(&*store, "cli-test-password")
        .await
        .unwrap();
    let office = seed::demo_office(&*store).await.unwrap();
    let billing = edi::samples::Billing {
        name: "DEMO OFFICE".into(),
        npi: office.npi,
        tin: office.tin,
    };
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let claims = edi::samples::for_plan(
        &*store,
        domain::claim::ClaimForm::Professional,
        &billing,
        25,
        day,
    )
    .await
    .unwrap();
    let env = x12::model::Envelope {
        sender: "DEMOOFFICE".into(),
        receiver: "OCHP".into(),
        control: 4242,
        date: day.format("%Y%m%d").to_string(),
        time: "0900".into(),
        usage: 'P',
    };
    let file = dir.path().join("batch.837");
    std::fs::write(&file, edi::samples::write_837(&claims, &env, 10)).unwrap();
    let before = store.counts().await.unwrap().claims;
    drop(store);
    let f = file.to_str().unwrap();

    let (code, out) = portal(&[
        "edi",
        "ingest",
        f,
        "--submitter",
        "claims",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ACCEPTED: 25 claims accepted, 0 rejected"),
        "{out}"
    );
    let ack = std::fs::read_to_string(dir.path().join("batch.837.999")).unwrap();
    assert!(ack.contains("AK9*A*3*3*3"), "{ack}");
    let ca = std::fs::read_to_string(dir.path().join("batch.837.277CA")).unwrap();
    assert_eq!(ca.matches("STC*A2:20").count(), 25);
    let store = storage::open(&url).await.unwrap();
    assert_eq!(store.counts().await.unwrap().claims, before + 25);
    drop(store);

    std::fs::remove_file(dir.path().join("batch.837.277CA")).unwrap();
    let (code, out) = portal(&[
        "edi",
        "ingest",
        f,
        "--submitter",
        "claims",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("DUPLICATE"), "{out}");
    assert!(out.contains("already received"), "{out}");
    let again = std::fs::read_to_string(dir.path().join("batch.837.277CA")).unwrap();
    assert_eq!(again, ca, "the original 277CA again");
    let store = storage::open(&url).await.unwrap();
    assert_eq!(
        store.counts().await.unwrap().claims,
        before + 25,
        "not doubled"
    );
    drop(store);

    // An account that may not submit claims is refused by name; a broken file exits 1.
    let (code, out) = portal(&[
        "edi",
        "ingest",
        f,
        "--submitter",
        "office",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("may not submit claims"), "{out}");
    let bad = dir.path().join("bad.837");
    std::fs::write(&bad, "ISA*00*garbage~").unwrap();
    let outdir = dir.path().join("acks");
    let (code, out) = portal(&[
        "edi",
        "ingest",
        bad.to_str().unwrap(),
        "--out",
        outdir.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REJECTED"), "{out}");
    assert!(outdir.join("bad.837.999").exists());
}

/// `portal adjudicate` decides the received claims and pays them; run again it finds nothing
/// new to adjudicate or pay.
#[test]
fn adjudicate_twice_pays_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, out) = portal(&["seed", "--members", "400", "--data-dir", data]);
    assert_eq!(code, 0, "{out}");
    let (code, first) = portal(&["adjudicate", "--data-dir", data]);
    assert_eq!(code, 0, "{first}");
    let count = |text: &str, after: &str| -> u64 {
        let rest = &text[text
            .find(after)
            .unwrap_or_else(|| panic!("{after} in {text}"))
            + after.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(count(&first, "Adjudicated") > 0, "{first}");
    assert!(count(&first, ":") > 0, "payments made: {first}");
    let (code, second) = portal(&["adjudicate", "--data-dir", data]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(count(&second, "Adjudicated"), 0, "{second}");
    assert!(
        second.contains(": 0 payments, 0 835 files, 0 claims reported, $0.00 paid"),
        "{second}"
    );
}

/// The key file made on first start is readable by its owner only, and `export-head` prints
/// the head that `verify --head` checks the trail against later.
#[cfg(unix)]
#[tokio::test]
async fn key_file_is_private_and_an_exported_head_is_checked() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 0, "{out}");
    let keys = dir.path().join("portal.keys");
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert!(!out.contains(&std::fs::read_to_string(&keys).unwrap()[200..230]));

    let (url, pool) = five_entries(dir.path()).await;
    let (code, head) = portal(&["audit", "export-head", "--data-dir", data]);
    assert_eq!(code, 0, "{head}");
    assert!(head.contains("\"seq\":5"), "{head}");
    let saved = dir.path().join("head-5.json");
    std::fs::write(&saved, &head).unwrap();
    // The instance's own head file is lost with the server; the saved copy still holds.
    std::fs::remove_file(dir.path().join("audit.head")).unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > 3")
        .execute(&pool)
        .await
        .unwrap();
    rehash_from(&url, &pool, 4).await;
    let saved = saved.to_str().unwrap();
    let (code, out) = portal(&["audit", "verify", "--head", saved, "--data-dir", data]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("entries after 3 were removed (the exported head says 5)"),
        "{out}"
    );
    // Without it, the unsigned head in the database still gives the cut away.
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the chain was recomputed without the key"),
        "{out}"
    );
}

/// `portal admin rotate-keys` re-encrypts the TOTP secrets and starts a new audit epoch; the
/// trail verifies across it.
#[tokio::test]
async fn rotate_keys_keeps_secrets_and_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (url, pool) = five_entries(dir.path()).await;
    let store = storage::open(&url).await.unwrap();
    let id = store
        .create_org(&storage::NewOrg {
            kind: domain::account::OrgKind::Plan,
            name: "Health plan".into(),
            tin: None,
            network: None,
            claims_allowed: false,
        })
        .await
        .unwrap();
    let user = store
        .create_user(&storage::NewUser {
            username: "pat".into(),
            display_name: "Pat".into(),
            email: "pat@plan.example".into(),
            role: domain::account::Role::PlanAdmin,
            org_id: id,
            password_hash: String::new(),
            status: domain::account::UserStatus::Active,
            phone: String::new(),
            claims: false,
        })
        .await
        .unwrap();
    let secret = domain::mfa::new_secret();
    assert!(store.enrol_totp(user, &secret, &[]).await.unwrap());
    drop(store);
    let before = std::fs::read_to_string(dir.path().join("portal.keys")).unwrap();

    let (code, out) = portal(&["admin", "rotate-keys", "--data-dir", data]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Re-encrypted 1 TOTP secrets under totp key 2"),
        "{out}"
    );
    let after = std::fs::read_to_string(dir.path().join("portal.keys")).unwrap();
    assert!(after.contains("audit 1 ") && after.contains("audit 2 ") && after.contains("totp 2 "));
    let old_totp = before.lines().find(|l| l.starts_with("totp 1 ")).unwrap();
    assert!(
        !after.contains(old_totp),
        "the old TOTP key leaves the file"
    );
    let stored: String = sqlx::query_scalar("SELECT totp_secret FROM users WHERE username = 'pat'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(stored.starts_with("k2:"), "{stored}");

    let store = storage::open(&url).await.unwrap();
    let u = store.user(user).await.unwrap().unwrap();
    assert_eq!(u.totp_secret.as_deref(), Some(secret.as_str()));
    drop(store);
    let (code, out) = portal(&["audit", "verify", "--data-dir", data]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK: 6 audit entries"), "{out}");
}
