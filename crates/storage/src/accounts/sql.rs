//! [`AccountStore`] on SQL.

use super::{
    AccountStore, Deactivation, Identity, NewOrg, NewUser, OrgRecord, StatusChange, TinGrant,
    UserRecord,
};
use crate::error::corrupt;
use crate::pool::SqlStore;
use crate::rows::{decode, tin};
use crate::{Result, on_pool};
use chrono::{DateTime, Utc};
use domain::Tin;
use domain::account::{OrgKind, Role, StatusAuthority, UserStatus};
use domain::session::Throttle;

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

#[derive(sqlx::FromRow)]
struct DeactivationRow {
    deactivated_by: Option<String>,
    deactivated_by_user: Option<i64>,
    deactivated_at: Option<DateTime<Utc>>,
}

#[async_trait::async_trait]
impl AccountStore for SqlStore {
    async fn create_org(&self, org: &NewOrg) -> Result<i64> {
        const SQL: &str = "INSERT INTO organizations (kind, name, tin, network, claims_allowed) VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let tin = org.tin.map(|t| t.digits().to_string());
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
            .bind(org.kind.code()).bind(&org.name).bind(&tin).bind(&org.network).bind(org.claims_allowed)
            .fetch_one(p).await?))
    }

    async fn create_user(&self, u: &NewUser) -> Result<i64> {
        const SQL: &str = "INSERT INTO users (username, display_name, email, phone, role, org_id, password_hash, status, claims) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        Ok(on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
            .bind(&u.username).bind(&u.display_name).bind(&u.email).bind(&u.phone).bind(u.role.code()).bind(u.org_id)
            .bind(&u.password_hash).bind(u.status.code()).bind(u.claims)
            .fetch_one(p).await?))
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        user_where(self, "username = $1", UserKey::Name(username)).await
    }

    async fn user(&self, id: i64) -> Result<Option<UserRecord>> {
        user_where(self, "id = $1", UserKey::Id(id)).await
    }

    async fn identity(&self, user_id: i64) -> Result<Option<Identity>> {
        let Some(user) = self.user(user_id).await? else {
            return Ok(None);
        };
        let Some(org) = self.org(user.org_id).await? else {
            return Err(corrupt("users.org_id", "organisation missing"));
        };
        let granted_tins = self
            .tin_grants(user_id)
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

    async fn org(&self, id: i64) -> Result<Option<OrgRecord>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1");
        let row: Option<OrgRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
        row.map(OrgRow::into_record).transpose()
    }

    async fn orgs_of_kind(&self, kind: OrgKind) -> Result<Vec<OrgRecord>> {
        let sql =
            format!("SELECT {ORG_COLUMNS} FROM organizations WHERE kind = $1 ORDER BY name, id");
        let rows: Vec<OrgRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(kind.code()).fetch_all(p).await?);
        rows.into_iter().map(OrgRow::into_record).collect()
    }

    /// A provider office first, else a billing service, with this TIN.
    async fn org_by_tin(&self, t: &Tin) -> Result<Option<OrgRecord>> {
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE tin = $1 AND kind IN ('provider_office', 'billing_service') \
             ORDER BY CASE kind WHEN 'provider_office' THEN 0 ELSE 1 END, id LIMIT 1"
        );
        let row: Option<OrgRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, OrgRow>(sqlx::AssertSqlSafe(sql)).bind(t.digits()).fetch_optional(p).await?);
        row.map(OrgRow::into_record).transpose()
    }

    async fn users_of_org(&self, org_id: i64) -> Result<Vec<UserRecord>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY display_name, id");
        let rows: Vec<UserRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| r.into_record(&self.keys))
            .collect()
    }

    async fn search_users(&self, text: &str, limit: i64) -> Result<Vec<UserRecord>> {
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
        let rows: Vec<UserRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql)).bind(&pattern).bind(limit.clamp(1, 1000)).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| r.into_record(&self.keys))
            .collect()
    }

    async fn set_user_status(
        &self,
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
        Ok(on_pool!(self, p, DB => {
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

    async fn deactivation(&self, user_id: i64) -> Result<Option<Deactivation>> {
        const SQL: &str = "SELECT deactivated_by, deactivated_by_user, deactivated_at FROM users \
                           WHERE id = $1 AND status = 'deactivated'";
        let row: Option<DeactivationRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, DeactivationRow>(SQL).bind(user_id).fetch_optional(p).await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let by = match row.deactivated_by {
            Some(code) => StatusAuthority::from_code(&code)
                .ok_or_else(|| corrupt("users.deactivated_by", "an unknown authority"))?,
            // Deactivated before this was recorded: the plan's (see migration 0014).
            None => StatusAuthority::Plan,
        };
        Ok(Some(Deactivation {
            by,
            by_user: row.deactivated_by_user,
            at: row.deactivated_at,
        }))
    }

    async fn set_claims_entitlement(&self, user_id: i64, claims: bool) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE users SET claims = $1 WHERE id = $2").bind(claims).bind(user_id).execute(p).await?; });
        Ok(())
    }

    async fn set_org_claims_allowed(&self, org_id: i64, allowed: bool) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("UPDATE organizations SET claims_allowed = $1 WHERE id = $2").bind(allowed).bind(org_id).execute(p).await?; });
        Ok(())
    }

    async fn tin_grants(&self, user_id: i64) -> Result<Vec<TinGrant>> {
        const SQL: &str = "SELECT tin, granted_by, granted_at FROM user_tins WHERE user_id = $1 ORDER BY granted_at, tin";
        let rows: Vec<(String, i64, DateTime<Utc>)> =
            on_pool!(self, p, DB => sqlx::query_as::<DB, _>(SQL).bind(user_id).fetch_all(p).await?);
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

    async fn grant_tin(&self, user_id: i64, t: &Tin, by: i64) -> Result<()> {
        const SQL: &str = "INSERT INTO user_tins (user_id, tin, granted_by, granted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, tin) DO NOTHING";
        on_pool!(self, p, DB => { sqlx::query::<DB>(SQL).bind(user_id).bind(t.digits()).bind(by).bind(Utc::now()).execute(p).await?; });
        Ok(())
    }

    async fn revoke_tin(&self, user_id: i64, t: &Tin) -> Result<()> {
        on_pool!(self, p, DB => { sqlx::query::<DB>("DELETE FROM user_tins WHERE user_id = $1 AND tin = $2").bind(user_id).bind(t.digits()).execute(p).await?; });
        Ok(())
    }

    async fn set_password(&self, user_id: i64, hash: &str, keep: Option<&str>) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            sqlx::query::<DB>("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id).execute(&mut *tx).await?;
            sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(user_id).bind(keep.unwrap_or("")).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        const TAKE: &str = "UPDATE activations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id";
        const SET: &str = "UPDATE users SET password_hash = $1, status = 'active' WHERE id = $2 AND status = 'invited'";
        Ok(on_pool!(self, p, DB => {
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

    async fn create_activation(
        &self,
        user_id: i64,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        const SQL: &str =
            "INSERT INTO activations (token_hash, user_id, expires_at) VALUES ($1, $2, $3)";
        on_pool!(self, p, DB => { sqlx::query::<DB>(SQL).bind(token_hash).bind(user_id).bind(expires).execute(p).await?; });
        Ok(())
    }

    async fn activation_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>> {
        const SQL: &str = "SELECT user_id FROM activations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
        Ok(
            on_pool!(self, p, DB => sqlx::query_scalar::<DB, i64>(SQL).bind(token_hash).bind(now).fetch_optional(p).await?),
        )
    }
}
