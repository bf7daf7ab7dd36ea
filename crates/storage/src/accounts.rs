//! Organisations, user accounts, what they may act for (TINs, the claims entitlement), and the
//! sign-in state kept in the database so that it holds across instances: lockout counters, the
//! TOTP secret with the last step used, one-time recovery codes.

use crate::error::corrupt;
use crate::plan::decode;
use crate::pool::SqlStore;
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::Tin;
use domain::account::{OrgKind, Role, StatusAuthority, UserStatus};
use domain::session::Throttle;

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub kind: OrgKind,
    pub name: String,
    pub tin: Option<Tin>,
    /// For a delegated health network's organisation: the network code it reviews for.
    pub network: Option<String>,
    /// The plan has approved claims inquiry for this office (office admins may then grant it).
    pub claims_allowed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: i64,
    pub kind: OrgKind,
    pub name: String,
    pub tin: Option<Tin>,
    pub network: Option<String>,
    pub claims_allowed: bool,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_id: i64,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub status: UserStatus,
    pub phone: String,
    /// The claims-inquiry entitlement.
    pub claims: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub org_id: i64,
    /// Empty until the person sets a password from the activation link.
    pub password_hash: String,
    pub status: UserStatus,
    pub claims: bool,
    /// Base32 TOTP secret (stored encrypted, see `secrets`); `None` until MFA is enrolled.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted (a code at or before it is a replay).
    pub totp_last_step: Option<u64>,
    pub throttle: Throttle,
}

/// Who changes an account's status, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub authority: StatusAuthority,
    /// The administrator; `None` for the operator's command line.
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// How a deactivated account came to be so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deactivation {
    pub by: StatusAuthority,
    pub by_user: Option<i64>,
    /// `None` for accounts deactivated before this was recorded.
    pub at: Option<DateTime<Utc>>,
}

/// Everything the access policy needs about a signed-in user, read in one call.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: UserRecord,
    pub org: OrgRecord,
    /// TINs granted to the user one by one (billing services), besides the organisation's own.
    pub granted_tins: Vec<Tin>,
}

/// A TIN a user may act for besides their organisation's, with who granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinGrant {
    pub tin: Tin,
    pub granted_by: i64,
    pub granted_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    /// The hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn tin(column: &str, s: &str) -> Result<Tin> {
    Tin::parse(s).map_err(|e| corrupt(column, e))
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: i64,
    kind: String,
    name: String,
    tin: Option<String>,
    network: Option<String>,
    claims_allowed: bool,
}

impl OrgRow {
    fn into_record(self) -> Result<OrgRecord> {
        Ok(OrgRecord {
            id: self.id,
            kind: decode("organizations.kind", &self.kind, OrgKind::from_code)?,
            name: self.name,
            tin: self
                .tin
                .as_deref()
                .map(|t| tin("organizations.tin", t))
                .transpose()?,
            network: self.network,
            claims_allowed: self.claims_allowed,
        })
    }
}

const ORG_COLUMNS: &str = "id, kind, name, tin, network, claims_allowed";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    email: String,
    phone: String,
    role: String,
    org_id: i64,
    password_hash: String,
    status: String,
    claims: bool,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    failures: i64,
    failure_window_start: Option<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
}

impl UserRow {
    fn into_record(self, keys: &domain::keys::Keyring) -> Result<UserRecord> {
        Ok(UserRecord {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
            phone: self.phone,
            role: decode("users.role", &self.role, Role::from_code)?,
            org_id: self.org_id,
            password_hash: self.password_hash,
            status: decode("users.status", &self.status, UserStatus::from_code)?,
            claims: self.claims,
            totp_secret: self
                .totp_secret
                .map(|s| crate::secrets::open(keys, &s, &crate::secrets::user_context(self.id)))
                .transpose()?,
            totp_last_step: self
                .totp_last_step
                .map(|s| u64::try_from(s).map_err(|e| corrupt("users.totp_last_step", e)))
                .transpose()?,
            throttle: Throttle {
                failures: u32::try_from(self.failures).map_err(|e| corrupt("users.failures", e))?,
                window_start: self.failure_window_start,
                locked_until: self.locked_until,
            },
        })
    }
}

const USER_COLUMNS: &str = "id, username, display_name, email, phone, role, org_id, password_hash, status, claims, \
                            totp_secret, totp_last_step, failures, failure_window_start, locked_until";

pub(crate) async fn create_org(store: &SqlStore, org: &NewOrg) -> Result<i64> {
    const SQL: &str = "INSERT INTO organizations (kind, name, tin, network, claims_allowed) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let tin = org.tin.map(|t| t.digits().to_string());
    Ok(on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
        .bind(org.kind.code()).bind(&org.name).bind(&tin).bind(&org.network).bind(org.claims_allowed)
        .fetch_one(p).await?))
}

pub(crate) async fn create_user(store: &SqlStore, u: &NewUser) -> Result<i64> {
    const SQL: &str = "INSERT INTO users (username, display_name, email, phone, role, org_id, password_hash, status, claims) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
        .bind(&u.username).bind(&u.display_name).bind(&u.email).bind(&u.phone).bind(u.role.code()).bind(u.org_id)
        .bind(&u.password_hash).bind(u.status.code()).bind(u.claims)
        .fetch_one(p).await?))
}

async fn user_where(
    store: &SqlStore,
    clause: &str,
    bind: UserKey<'_>,
) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
    let row: Option<UserRow> = on_pool!(store, p, DB => {
        let q = sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql));
        match bind {
            UserKey::Id(id) => q.bind(id).fetch_optional(p).await?,
            UserKey::Name(n) => q.bind(n).fetch_optional(p).await?,
        }
    });
    row.map(|r| r.into_record(&store.keys)).transpose()
}

enum UserKey<'a> {
    Id(i64),
    Name(&'a str),
}

pub(crate) async fn user_by_username(
    store: &SqlStore,
    username: &str,
) -> Result<Option<UserRecord>> {
    user_where(store, "username = $1", UserKey::Name(username)).await
}

pub(crate) async fn user(store: &SqlStore, id: i64) -> Result<Option<UserRecord>> {
    user_where(store, "id = $1", UserKey::Id(id)).await
}

pub(crate) async fn org(store: &SqlStore, id: i64) -> Result<Option<OrgRecord>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1");
    let row: Option<OrgRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
    row.map(OrgRow::into_record).transpose()
}

pub(crate) async fn orgs_of_kind(store: &SqlStore, kind: OrgKind) -> Result<Vec<OrgRecord>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE kind = $1 ORDER BY name, id");
    let rows: Vec<OrgRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(kind.code()).fetch_all(p).await?);
    rows.into_iter().map(OrgRow::into_record).collect()
}

/// A provider office first, else a billing service, with this TIN.
pub(crate) async fn org_by_tin(store: &SqlStore, t: &Tin) -> Result<Option<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM organizations WHERE tin = $1 AND kind IN ('provider_office', 'billing_service') \
         ORDER BY CASE kind WHEN 'provider_office' THEN 0 ELSE 1 END, id LIMIT 1"
    );
    let row: Option<OrgRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(t.digits()).fetch_optional(p).await?);
    row.map(OrgRow::into_record).transpose()
}

pub(crate) async fn identity(store: &SqlStore, user_id: i64) -> Result<Option<Identity>> {
    let Some(user) = user(store, user_id).await? else {
        return Ok(None);
    };
    let Some(org) = org(store, user.org_id).await? else {
        return Err(corrupt("users.org_id", "organisation missing"));
    };
    let granted_tins = tin_grants(store, user_id)
        .await?
        .into_iter()
        .map(|g| g.tin)
        .collect();
    Ok(Some(Identity {
        user,
        org,
        granted_tins,
    }))
}

pub(crate) async fn users_of_org(store: &SqlStore, org_id: i64) -> Result<Vec<UserRecord>> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY display_name, id");
    let rows: Vec<UserRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_all(p).await?);
    rows.into_iter()
        .map(|r| r.into_record(&store.keys))
        .collect()
}

pub(crate) async fn search_users(
    store: &SqlStore,
    text: &str,
    limit: i64,
) -> Result<Vec<UserRecord>> {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE LOWER(username) LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\' \
         OR LOWER(email) LIKE $1 ESCAPE '\\' ORDER BY display_name, id LIMIT $2"
    );
    let rows: Vec<UserRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql)).bind(&pattern).bind(limit.clamp(1, 1000)).fetch_all(p).await?);
    rows.into_iter()
        .map(|r| r.into_record(&store.keys))
        .collect()
}

pub(crate) async fn set_user_status(
    store: &SqlStore,
    user_id: i64,
    status: UserStatus,
    change: &StatusChange,
    seen: Option<StatusAuthority>,
) -> Result<bool> {
    // Who deactivated is kept until the account is active (or invited) again.
    let (by, by_user, at) = if status == UserStatus::Deactivated {
        (
            Some(change.authority.code()),
            change.user_id,
            Some(change.at),
        )
    } else {
        (None, None, None)
    };
    // Compare-and-set on the recorded deactivator: a decision taken meanwhile is not undone by
    // one made on what the page showed before it.
    const SQL: &str = "UPDATE users SET status = $1, deactivated_by = $2, deactivated_by_user = $3, deactivated_at = $4 \
                       WHERE id = $5 AND COALESCE(deactivated_by, '') = $6";
    let seen = seen.map_or("", |a| a.code());
    Ok(on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        let n = sqlx::query::<DB>(SQL).bind(status.code()).bind(by).bind(by_user).bind(at).bind(user_id).bind(seen)
            .execute(&mut *tx).await?.rows_affected();
        if n == 1 && status != UserStatus::Active {
            sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        n == 1
    }))
}

/// `deactivated_by`, `deactivated_by_user`, `deactivated_at` as stored.
type DeactivationRow = (Option<String>, Option<i64>, Option<DateTime<Utc>>);

pub(crate) async fn deactivation(store: &SqlStore, user_id: i64) -> Result<Option<Deactivation>> {
    const SQL: &str = "SELECT deactivated_by, deactivated_by_user, deactivated_at FROM users \
                       WHERE id = $1 AND status = 'deactivated'";
    let row: Option<DeactivationRow> = on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(user_id).fetch_optional(p).await?);
    let Some((by, by_user, at)) = row else {
        return Ok(None);
    };
    let by = match by {
        Some(code) => StatusAuthority::from_code(&code)
            .ok_or_else(|| corrupt("users.deactivated_by", "an unknown authority"))?,
        // Deactivated before this was recorded: the plan's (see migration 0014).
        None => StatusAuthority::Plan,
    };
    Ok(Some(Deactivation { by, by_user, at }))
}

pub(crate) async fn set_claims(store: &SqlStore, user_id: i64, claims: bool) -> Result<()> {
    on_pool!(store, p, DB => { sqlx::query::<DB>("UPDATE users SET claims = $1 WHERE id = $2").bind(claims).bind(user_id).execute(p).await?; });
    Ok(())
}

pub(crate) async fn set_org_claims_allowed(
    store: &SqlStore,
    org_id: i64,
    allowed: bool,
) -> Result<()> {
    on_pool!(store, p, DB => { sqlx::query::<DB>("UPDATE organizations SET claims_allowed = $1 WHERE id = $2").bind(allowed).bind(org_id).execute(p).await?; });
    Ok(())
}

pub(crate) async fn tin_grants(store: &SqlStore, user_id: i64) -> Result<Vec<TinGrant>> {
    const SQL: &str = "SELECT tin, granted_by, granted_at FROM user_tins WHERE user_id = $1 ORDER BY granted_at, tin";
    let rows: Vec<(String, i64, DateTime<Utc>)> =
        on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(user_id).fetch_all(p).await?);
    rows.into_iter()
        .map(|(t, granted_by, granted_at)| {
            Ok(TinGrant {
                tin: tin("user_tins.tin", &t)?,
                granted_by,
                granted_at,
            })
        })
        .collect()
}

pub(crate) async fn grant_tin(store: &SqlStore, user_id: i64, t: &Tin, by: i64) -> Result<()> {
    const SQL: &str = "INSERT INTO user_tins (user_id, tin, granted_by, granted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, tin) DO NOTHING";
    on_pool!(store, p, DB => { sqlx::query::<DB>(SQL).bind(user_id).bind(t.digits()).bind(by).bind(Utc::now()).execute(p).await?; });
    Ok(())
}

pub(crate) async fn revoke_tin(store: &SqlStore, user_id: i64, t: &Tin) -> Result<()> {
    on_pool!(store, p, DB => { sqlx::query::<DB>("DELETE FROM user_tins WHERE user_id = $1 AND tin = $2").bind(user_id).bind(t.digits()).execute(p).await?; });
    Ok(())
}

pub(crate) async fn set_password(
    store: &SqlStore,
    user_id: i64,
    hash: &str,
    keep: Option<&str>,
) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        sqlx::query::<DB>("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id).execute(&mut *tx).await?;
        sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(user_id).bind(keep.unwrap_or("")).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Compare-and-set on the stored throttle, retried when another instance changed it first.
pub(crate) async fn record_failure(
    store: &SqlStore,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Throttle> {
    const UPDATE: &str = "UPDATE users SET failures = $1, failure_window_start = $2, locked_until = $3 \
        WHERE id = $4 AND failures = $5 AND failure_window_start IS NOT DISTINCT FROM $6 AND locked_until IS NOT DISTINCT FROM $7";
    for _ in 0..20 {
        let Some(current) = user(store, user_id).await? else {
            return Err(corrupt("users.id", "no such user"));
        };
        let old = current.throttle;
        let new = old.after_failure(now);
        let changed = on_pool!(store, p, DB => sqlx::query::<DB>(sqlx::AssertSqlSafe(update_sql(UPDATE, store)))
            .bind(i64::from(new.failures)).bind(new.window_start).bind(new.locked_until).bind(user_id)
            .bind(i64::from(old.failures)).bind(old.window_start).bind(old.locked_until)
            .execute(p).await?.rows_affected());
        if changed == 1 {
            if new.is_locked(now) && !old.is_locked(now) {
                // The lock covers every pending sign-in, not only the one that failed.
                crate::lockout::end_pending(store, user_id).await?;
            }
            return Ok(new);
        }
    }
    Err(crate::StorageError::Database(
        "sign-in failure not recorded: too much contention".into(),
    ))
}

/// SQLite spells `IS NOT DISTINCT FROM` as `IS`.
fn update_sql(sql: &str, store: &SqlStore) -> String {
    match store.pool {
        crate::pool::Pool::Sqlite(_) => sql.replace("IS NOT DISTINCT FROM", "IS"),
        crate::pool::Pool::Postgres(_) => sql.to_string(),
    }
}

pub(crate) async fn clear_failures(store: &SqlStore, user_id: i64) -> Result<()> {
    on_pool!(store, p, DB => { sqlx::query::<DB>("UPDATE users SET failures = 0, failure_window_start = NULL, locked_until = NULL, code_guesses = '' WHERE id = $1").bind(user_id).execute(p).await?; });
    Ok(())
}

pub(crate) async fn enrol_totp(
    store: &SqlStore,
    user_id: i64,
    secret: &str,
    hashes: &[String],
) -> Result<bool> {
    // Only an account without a secret enrols (new, or reset by an administrator): two sign-ins
    // that both reached enrolment cannot replace each other's authenticator.
    const SQL: &str = "UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE id = $2 AND totp_secret IS NULL";
    let sealed = store
        .keys
        .seal(secret, &crate::secrets::user_context(user_id));
    Ok(on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        if sqlx::query::<DB>(SQL).bind(&sealed).bind(user_id).execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query::<DB>("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for h in hashes {
            sqlx::query::<DB>("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)").bind(user_id).bind(h).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        true
    }))
}

pub(crate) async fn reset_totp(store: &SqlStore, user_id: i64) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        sqlx::query::<DB>("UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query::<DB>("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub(crate) async fn use_totp_step(store: &SqlStore, user_id: i64, step: u64) -> Result<bool> {
    const SQL: &str = "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)";
    let step = i64::try_from(step).map_err(|e| corrupt("totp step", e))?;
    Ok(
        on_pool!(store, p, DB => sqlx::query::<DB>(SQL).bind(step).bind(user_id).execute(p).await?.rows_affected())
            == 1,
    )
}

pub(crate) async fn use_recovery_code(
    store: &SqlStore,
    user_id: i64,
    code_hash: &str,
) -> Result<bool> {
    const SQL: &str = "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL";
    Ok(
        on_pool!(store, p, DB => sqlx::query::<DB>(SQL).bind(Utc::now()).bind(user_id).bind(code_hash).execute(p).await?.rows_affected())
            == 1,
    )
}

pub(crate) async fn replace_recovery_codes(
    store: &SqlStore,
    user_id: i64,
    hashes: &[String],
) -> Result<()> {
    on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        sqlx::query::<DB>("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for h in hashes {
            sqlx::query::<DB>("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)").bind(user_id).bind(h).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub(crate) async fn unused_recovery_codes(store: &SqlStore, user_id: i64) -> Result<i64> {
    Ok(
        on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user_id).fetch_one(p).await?),
    )
}

pub(crate) async fn activate(
    store: &SqlStore,
    token_hash: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    const TAKE: &str = "UPDATE activations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id";
    const SET: &str = "UPDATE users SET password_hash = $1, status = 'active' WHERE id = $2 AND status = 'invited'";
    Ok(on_pool!(store, p, DB => {
        let mut tx = p.begin().await?;
        let user: Option<i64> = sqlx::query_scalar::<DB, i64>(TAKE).bind(now).bind(token_hash).fetch_optional(&mut *tx).await?;
        match user {
            Some(id) => {
                let set = sqlx::query::<DB>(SET).bind(password_hash).bind(id).execute(&mut *tx).await?.rows_affected();
                if set == 1 {
                    tx.commit().await?;
                    Some(id)
                } else {
                    None
                }
            }
            None => None,
        }
    }))
}

pub(crate) async fn activation_user(
    store: &SqlStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    const SQL: &str = "SELECT user_id FROM activations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    Ok(
        on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL).bind(token_hash).bind(now).fetch_optional(p).await?),
    )
}

pub(crate) async fn create_activation(
    store: &SqlStore,
    user_id: i64,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> Result<()> {
    const SQL: &str =
        "INSERT INTO activations (token_hash, user_id, expires_at) VALUES ($1, $2, $3)";
    on_pool!(store, p, DB => { sqlx::query::<DB>(SQL).bind(token_hash).bind(user_id).bind(expires).execute(p).await?; });
    Ok(())
}
