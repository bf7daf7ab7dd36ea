//! Secrets at rest, on either backend: what a copy of the database shows of a TOTP secret.

use chrono::Utc;
use domain::account::{OrgKind, Role, UserStatus};
use domain::session::SessionStage;
use std::sync::Arc;
use storage::{NewOrg, NewSession, NewUser, Store};

pub async fn user(store: &Arc<dyn Store>, name: &str) -> i64 {
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

pub async fn raw_text(url: &str, sql: &str) -> Option<String> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

/// The enrolled secret and the pending one on the session row are stored encrypted; the store
/// still hands them back in clear.
pub async fn secrets_are_sealed(store: Arc<dyn Store>, url: &str) {
    let id = user(&store, "sealed.user").await;
    let secret = domain::mfa::new_secret();
    assert!(store.enrol_totp(id, &secret, &[]).await.unwrap());
    let stored = raw_text(url, &format!("SELECT totp_secret FROM users WHERE id = {id}"))
        .await
        .unwrap();
    assert!(!stored.contains(&secret), "users.totp_secret holds the secret in clear");
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
    let stored = raw_text(
        url,
        "SELECT pending_totp FROM sessions WHERE token_hash = 'sealed-session'",
    )
    .await
    .unwrap();
    assert!(!stored.contains(&pending), "sessions.pending_totp holds the secret in clear");
    let s = store.session("sealed-session").await.unwrap().unwrap();
    assert_eq!(s.pending_totp.as_deref(), Some(pending.as_str()));
}
