//! Organisations and user accounts (the login flow itself comes with the accounts work).

use crate::plan::decode;
use crate::pool::SqlStore;
use crate::{Result, on_pool};
use domain::account::{OrgKind, Role};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_id: i64,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub status: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_id: i64,
    pub password_hash: String,
    pub status: String,
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

pub(crate) async fn create_org(
    store: &SqlStore,
    kind: OrgKind,
    name: &str,
    tin: Option<&str>,
) -> Result<i64> {
    const SQL: &str =
        "INSERT INTO organizations (kind, name, tin) VALUES ($1, $2, $3) RETURNING id";
    Ok(
        on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL).bind(kind.code()).bind(name).bind(tin).fetch_one(p).await?),
    )
}

pub(crate) async fn create_user(store: &SqlStore, u: &NewUser) -> Result<i64> {
    const SQL: &str = "INSERT INTO users (username, display_name, email, role, org_id, password_hash, status) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on_pool!(store, p, DB => sqlx::query_scalar::<DB, i64>(SQL)
        .bind(&u.username).bind(&u.display_name).bind(&u.email).bind(u.role.code()).bind(u.org_id).bind(&u.password_hash).bind(&u.status)
        .fetch_one(p).await?))
}

pub(crate) async fn user_by_username(
    store: &SqlStore,
    username: &str,
) -> Result<Option<UserRecord>> {
    const SQL: &str = "SELECT id, username, display_name, email, role, org_id, password_hash, status FROM users WHERE username = $1";
    let row: Option<(i64, String, String, String, String, i64, String, String)> = on_pool!(store, p, DB => sqlx::query_as::<DB, _>(SQL).bind(username).fetch_optional(p).await?);
    row.map(
        |(id, username, display_name, email, role, org_id, password_hash, status)| {
            Ok(UserRecord {
                id,
                username,
                display_name,
                email,
                role: decode("users.role", &role, Role::from_code)?,
                org_id,
                password_hash,
                status,
            })
        },
    )
    .transpose()
}
